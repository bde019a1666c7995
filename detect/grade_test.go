package detect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// driftDay is a sales-engagement integration's day: 10,000 requests from
// two fixed networks, 30% to Account, 20% to Contact, 50% to Opportunity.
func driftDay(day time.Time, scale int) []row {
	return []row{
		{at: day.Add(2 * time.Hour), id: erpID, name: "Drift", ip: "198.51.100.10", entity: "Account", user: "005A", n: 3000 * scale},
		{at: day.Add(3 * time.Hour), id: erpID, name: "Drift", ip: "198.51.101.10", entity: "Contact", user: "005A", n: 2000 * scale},
		{at: day.Add(4 * time.Hour), id: erpID, name: "Drift", ip: "198.51.101.10", entity: "Opportunity", user: "005A", n: 5000 * scale},
	}
}

// readyDay ingests quiet days until the app's baseline is ready, and
// returns the day after the last one ingested.
func readyDay(t *testing.T, tr *Tracker, dayRows func(time.Time) []row) time.Time {
	t.Helper()
	key := AppKey(erpID, "")
	for d := 0; ; d++ {
		day := day0.AddDate(0, 0, d)
		// Ready once the app was first seen MinBaseline before the window
		// this day's file would end: then judge that day's file.
		if d > 0 && day.Add(-tr.cfg.MinBaseline).Unix() >= int64(tr.apps[key].since)*3600 {
			return day
		}
		ingestDay(tr, day, dayRows(day))
		if d > 60 {
			t.Fatal("baseline never ready")
		}
	}
}

// TestReplayPagesTheDayTheBaselineIsReady: the UNC6395 pattern at 0.3% of
// the volume, from one new network, reading Account, Contact and User, in
// the very file that makes the baseline ready: the usual figures are there
// (the learning week's days), and the evidence says why it is not a move.
func TestReplayPagesTheDayTheBaselineIsReady(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	day := readyDay(t, tr, func(d time.Time) []row { return driftDay(d, 1) })
	if f := figure(t, tr, key); f.BaselineReady {
		t.Fatalf("baseline ready a day early: %+v", f)
	}
	rows := driftDay(day, 1)
	for _, obj := range []string{"Account", "Contact", "User"} {
		rows = append(rows, row{at: day.Add(20 * time.Hour), id: erpID, ip: "185.220.101.9", entity: obj, user: "005A", n: 10})
	}
	ingestDay(tr, day, rows)
	f := figure(t, tr, key)
	if !f.BaselineReady || f.RequestsFromNewNetworks != 30 || f.Requests != 10030 {
		t.Fatalf("replay day: %+v", f)
	}
	// Days 2 to 7 of the learning week: day 1's networks were all new.
	if f.Usual.Days != 6 || f.Usual.NewNetworkShare != 0 || f.Usual.Requests != 10000 {
		t.Fatalf("usual figures %+v, want 6 days, a share of 0, 10,000 requests", f.Usual)
	}
	if got := f.NewNetworkShare(); got <= UnusualFactor*f.Usual.NewNetworkShare || got > 0.004 {
		t.Fatalf("share %v", got)
	}
	want := []bool{true, true, false, false} // User is new; Contact's and User's shares are above their usual
	if fmt.Sprint(f.Evidence) != fmt.Sprint(want) {
		t.Fatalf("evidence %v, want %v (%v)", f.Evidence, want, EvidenceKinds)
	}
}

// TestPlannedMoveHasNoEvidence: the whole app moves to a new network (a
// NAT or cloud move) at its usual volume and mix: new networks, but no
// evidence. With a sensitive-object mix the same as ever, and no object it
// never read, nothing corroborates an attack.
func TestPlannedMoveHasNoEvidence(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	day := readyDay(t, tr, func(d time.Time) []row { return driftDay(d, 1) })
	ingestDay(tr, day, driftDay(day, 1))
	moved := func(d time.Time) []row {
		rows := driftDay(d, 1)
		for i := range rows {
			rows[i].ip = "203.0.113.7"
		}
		return rows
	}
	day = day.AddDate(0, 0, 1)
	ingestDay(tr, day, moved(day))
	f := figure(t, tr, key)
	if f.RequestsFromNewNetworks != 10000 || f.NewNetworkShare() != 1 {
		t.Fatalf("move: %+v", f)
	}
	if fmt.Sprint(f.Evidence) != fmt.Sprint([]bool{false, false, false, false}) {
		t.Fatalf("a planned move has evidence %v (%v)", f.Evidence, EvidenceKinds)
	}
	// The day is flagged: a hold keeps the move's network new and out of
	// the baseline for MinBaseline, then it joins it.
	if !f.Held || !f.HeldSince.Equal(day) {
		t.Fatalf("hold %v since %v, want since %v", f.Held, f.HeldSince, day)
	}
	usual := f.Usual
	for range 7 {
		day = day.AddDate(0, 0, 1)
		ingestDay(tr, day, moved(day))
		f = figure(t, tr, key)
		if f.Held && (f.RequestsFromNewNetworks != 10000 || f.Usual.NewNetworkShare != usual.NewNetworkShare) {
			t.Fatalf("%v, in the hold: %d requests from new networks, usual %+v (was %+v)", day, f.RequestsFromNewNetworks, f.Usual, usual)
		}
	}
	day = day.AddDate(0, 0, 1)
	ingestDay(tr, day, moved(day))
	if f = figure(t, tr, key); f.Held || f.RequestsFromNewNetworks != 0 {
		t.Fatalf("after the hold: held %v, %d requests from new networks", f.Held, f.RequestsFromNewNetworks)
	}
}

// TestRoamingAppUsualShareIsHigh: an app whose users call from a new
// network each day has a high usual share; a day like the others is not
// flagged, so the baseline keeps learning from it.
func TestRoamingAppUsualShareIsHigh(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	n := 0
	roam := func(d time.Time) []row {
		var rows []row
		for i := range 40 {
			n++
			rows = append(rows, row{at: d.Add(time.Duration(i%24) * time.Hour), id: erpID, ip: fmt.Sprintf("100.%d.%d.1", 64+n/256, n%256), entity: "Account", user: "005A", n: 10})
		}
		return append(rows, row{at: d.Add(time.Hour), id: erpID, ip: "198.51.100.10", entity: "Contact", user: "005A", n: 400})
	}
	day := readyDay(t, tr, roam)
	for range 3 {
		ingestDay(tr, day, roam(day))
		day = day.AddDate(0, 0, 1)
	}
	f := figure(t, tr, key)
	if f.Usual.NewNetworkShare != 0.5 || f.NewNetworkShare() != 0.5 || f.Held {
		t.Fatalf("roaming app: usual share %v, share %v, held %v", f.Usual.NewNetworkShare, f.NewNetworkShare(), f.Held)
	}
	// Ten days ingested: the first, whose networks were all new, and the
	// window's own day do not feed it.
	if f.Usual.Days != 8 {
		t.Fatalf("%d days feed the usual figures, want 8 (the days after the first, ready or not)", f.Usual.Days)
	}
	for _, d := range tr.apps[key].days {
		if d.excluded {
			t.Fatalf("a usual day was flagged: %+v", d)
		}
	}
}

// TestSurgeAndIOCEvidence: a new network with twice the usual volume, at
// the usual mix, makes the day a surge; one on an IOC list, at the usual
// mix, is an IOC match only.
func TestSurgeAndIOCEvidence(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	s, err := NewIOCSet([]IOCList{{Name: "campaign", Prefixes: []netip.Prefix{netip.MustParsePrefix("185.220.101.0/24")}}})
	if err != nil {
		t.Fatal(err)
	}
	tr.SetIOC(s)
	key := AppKey(erpID, "")
	day := readyDay(t, tr, func(d time.Time) []row { return driftDay(d, 1) })
	rows := driftDay(day, 1)
	for _, r := range driftDay(day, 2) {
		r.ip = "203.0.113.7"
		rows = append(rows, r)
	}
	ingestDay(tr, day, rows)
	if f := figure(t, tr, key); fmt.Sprint(f.Evidence) != fmt.Sprint([]bool{false, false, false, true}) {
		t.Fatalf("surge: evidence %v", f.Evidence)
	}
	tr2 := mustNew(t, Config{})
	tr2.SetIOC(s)
	day = readyDay(t, tr2, func(d time.Time) []row { return driftDay(d, 1) })
	rows = driftDay(day, 1)
	for _, r := range driftDay(day, 1) {
		r.ip, r.n = "185.220.101.9", r.n/1000 // 3, 2 and 5: the usual mix
		rows = append(rows, r)
	}
	ingestDay(tr2, day, rows)
	if f := figure(t, tr2, key); fmt.Sprint(f.Evidence) != fmt.Sprint([]bool{false, false, true, false}) {
		t.Fatalf("ioc: evidence %v", f.Evidence)
	}
}

// TestNoBaselineNoGrading: before the baseline is ready nothing is judged,
// and the daily records are bounded.
func TestNoBaselineNoGrading(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	for d := range 3 {
		ingestDay(tr, day0.AddDate(0, 0, d), driftDay(day0.AddDate(0, 0, d), 1))
	}
	if f := figure(t, tr, key); f.BaselineReady || f.Evidence != nil || f.Held {
		t.Fatalf("young app: %+v", f)
	}
	for d := 3; d < 3+2*maxDayFigs; d++ {
		ingestDay(tr, day0.AddDate(0, 0, d), driftDay(day0.AddDate(0, 0, d), 1))
	}
	if n := len(tr.apps[key].days); n != maxDayFigs {
		t.Fatalf("%d daily records, want %d", n, maxDayFigs)
	}
}
