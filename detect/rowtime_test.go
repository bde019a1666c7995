package detect

import (
	"fmt"
	"testing"
	"time"
)

// ingestHour commits one Hourly file.
func ingestHour(tr *Tracker, hour time.Time, rows []row) {
	in := tr.Begin(Period{Key: "H|" + hour.Format(time.RFC3339), Interval: "Hourly", Start: hour, FileID: "0AT" + hour.Format("010215")})
	addRows(in, rows)
	tr.Commit(in)
}

// rowTimeScenario: eight quiet days of an integration (each with a new
// network of its own), then
//
//	N1 first seen at 23:00 the day before yesterday (30 hours before the window's end), again at 06:00 yesterday;
//	N3 first seen at 03:00 yesterday, two hours before the window;
//	N2 first seen at 10:00 yesterday, inside it;
//
// and Hourly files for today up to 05:00, so the window is 05:00 yesterday
// to 05:00 today: only N2 is new.
func rowTimeScenario(t *testing.T) (*Tracker, time.Time) {
	t.Helper()
	tr := mustNew(t, Config{})
	today := day0.AddDate(0, 0, 10)
	// The quiet days also bring a new network each, so that the app's
	// usual share of requests from new networks (3.8%) is above the days
	// below: none of them is flagged, and no hold (grade.go) keeps their
	// networks new.
	for d := day0; d.Before(today.AddDate(0, 0, -2)); d = d.AddDate(0, 0, 1) {
		ingestDay(tr, d, append(integrationDay(d), row{at: d.Add(8 * time.Hour), id: erpID, ip: fmt.Sprintf("203.0.%d.1", d.Day()), entity: "Opportunity", user: "005A", n: 50}))
	}
	d2, d1 := today.AddDate(0, 0, -2), today.AddDate(0, 0, -1)
	ingestDay(tr, d2, append(integrationDay(d2), row{at: d2.Add(23*time.Hour + 12*time.Minute), id: erpID, ip: "100.70.1.5", entity: "Account", user: "005A", n: 5}))
	ingestDay(tr, d1, append(integrationDay(d1),
		row{at: d1.Add(6 * time.Hour), id: erpID, ip: "100.70.1.6", entity: "Account", user: "005A", n: 7},
		row{at: d1.Add(10*time.Hour + 41*time.Minute), id: erpID, ip: "100.71.2.9", entity: "Account", user: "005A", n: 11},
		row{at: d1.Add(3*time.Hour + 59*time.Minute), id: erpID, ip: "100.72.3.9", entity: "Account", user: "005A", n: 13}))
	for h := range 5 {
		at := today.Add(time.Duration(h) * time.Hour)
		ingestHour(tr, at, []row{{at: at.Add(17 * time.Minute), id: erpID, ip: "198.51.100.10", entity: "Opportunity", user: "005A", n: 3}})
	}
	return tr, today
}

// TestFirstSeenIsHourExact: a network's first and last seen come from its
// rows' times, not from its Daily file's midnight.
func TestFirstSeenIsHourExact(t *testing.T) {
	t.Parallel()
	tr, today := rowTimeScenario(t)
	d1 := today.AddDate(0, 0, -1)
	key := AppKey(erpID, "")
	for ip, want := range map[string][2]time.Time{
		"100.70.1.5":   {today.Add(-25 * time.Hour), d1.Add(6 * time.Hour)}, // 23:00 the day before yesterday, 06:00 yesterday
		"100.71.2.9":   {d1.Add(10 * time.Hour), d1.Add(10 * time.Hour)},
		"100.72.3.9":   {d1.Add(3 * time.Hour), d1.Add(3 * time.Hour)},
		"198.51.100.1": {day0.Add(1 * time.Hour), today.Add(4 * time.Hour)}, // the integration, seen up to the last Hourly file
	} {
		k, _ := tr.g.key([]byte(ip))
		e, ok := tr.apps[key].nets[k]
		if !ok {
			t.Fatalf("%s: not in the baseline", ip)
		}
		if got := [2]time.Time{time.Unix(int64(e.first)*3600, 0).UTC(), time.Unix(int64(e.last)*3600, 0).UTC()}; got != want {
			t.Errorf("%s: first and last seen %v, want %v", ip, got, want)
		}
	}
	ev := tr.Evidence(key, d1, today)
	if len(ev) == 0 {
		t.Fatal("no evidence")
	}
	for _, e := range ev {
		if e.Network == "100.71.2.0/24" && !e.FirstSeen.Equal(d1.Add(10*time.Hour+41*time.Minute)) {
			t.Errorf("evidence first seen %v, want 10:41 yesterday", e.FirstSeen)
		}
	}
}

// TestNewNetworksWindowIsHourExact: with the window 05:00 yesterday to
// 05:00 today, a network first seen 30 hours ago (23:00 the day before
// yesterday) is not new, nor one first seen at 03:00 yesterday; one first
// seen at 10:00 yesterday is, with all its requests.
func TestNewNetworksWindowIsHourExact(t *testing.T) {
	t.Parallel()
	tr, today := rowTimeScenario(t)
	ws, we := tr.APIWindow()
	if !ws.Equal(today.Add(-19*time.Hour)) || !we.Equal(today.Add(5*time.Hour)) {
		t.Fatalf("window %v to %v", ws, we)
	}
	f := figure(t, tr, AppKey(erpID, ""))
	if !f.BaselineReady {
		t.Fatal("baseline not ready")
	}
	if f.RequestsFromNewNetworks != 11 {
		t.Errorf("%d requests from new networks, want 11 (the network first seen at 10:00 yesterday)", f.RequestsFromNewNetworks)
	}
	if got := sens(tr, f.ObjectRequestsFromNewNetworks, "Account"); got != 11 {
		t.Errorf("%d Account requests from new networks, want 11", got)
	}
	var nets []string
	for _, e := range tr.Evidence(AppKey(erpID, ""), ws, we) {
		nets = append(nets, e.Network)
	}
	if len(nets) != 1 || nets[0] != "100.71.2.0/24" {
		t.Errorf("new networks %v, want only 100.71.2.0/24", nets)
	}
}

// TestNewObjectsWindowIsHourExact: an object first touched at 04:00
// yesterday is not new in a window from 05:00; one at 06:00 is.
func TestNewObjectsWindowIsHourExact(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	today := day0.AddDate(0, 0, 10)
	for d := day0; d.Before(today); d = d.AddDate(0, 0, 1) {
		rows := integrationDay(d)
		if d.Equal(today.AddDate(0, 0, -1)) {
			rows = append(rows, row{at: d.Add(4 * time.Hour), id: erpID, ip: "198.51.100.10", entity: "Early__c", user: "005A"},
				row{at: d.Add(6 * time.Hour), id: erpID, ip: "198.51.100.10", entity: "Late__c", user: "005A"})
		}
		ingestDay(tr, d, rows)
	}
	for h := range 5 {
		at := today.Add(time.Duration(h) * time.Hour)
		ingestHour(tr, at, []row{{at: at, id: erpID, ip: "198.51.100.10", entity: "Opportunity", user: "005A"}})
	}
	if f := figure(t, tr, AppKey(erpID, "")); f.NewObjects != 1 {
		t.Errorf("%d new objects, want 1 (Late__c)", f.NewObjects)
	}
}

// TestReissuedDailyFileWithRowTimes: a re-issued Daily file (an
// incremental one, with more rows) replaces its period: its new networks
// count once, and first seen stays the earliest row's hour.
func TestReissuedDailyFileWithRowTimes(t *testing.T) {
	t.Parallel()
	tr, today := rowTimeScenario(t)
	d1 := today.AddDate(0, 0, -1)
	rows := append(integrationDay(d1),
		row{at: d1.Add(6 * time.Hour), id: erpID, ip: "100.70.1.6", entity: "Account", user: "005A", n: 7},
		row{at: d1.Add(10*time.Hour + 41*time.Minute), id: erpID, ip: "100.71.2.9", entity: "Account", user: "005A", n: 11},
		row{at: d1.Add(3*time.Hour + 59*time.Minute), id: erpID, ip: "100.72.3.9", entity: "Account", user: "005A", n: 13},
		row{at: d1.Add(20 * time.Hour), id: erpID, ip: "100.71.2.10", entity: "Account", user: "005A", n: 2})
	for range 2 { // and once more, as after a restart that lost the ingest's record
		ingestDay(tr, d1, rows)
	}
	f := figure(t, tr, AppKey(erpID, ""))
	if f.RequestsFromNewNetworks != 13 {
		t.Errorf("%d requests from new networks, want 13 (11 + 2 from the re-issued file, once)", f.RequestsFromNewNetworks)
	}
	k, _ := tr.g.key([]byte("100.71.2.9"))
	if e := tr.apps[AppKey(erpID, "")].nets[k]; time.Unix(int64(e.first)*3600, 0).UTC() != d1.Add(10*time.Hour) {
		t.Errorf("first seen moved: %v", time.Unix(int64(e.first)*3600, 0).UTC())
	}
}

// TestRowTimeSlackAndUntimed: a time just past the period's end is moved
// into it without counting; one further is clamped and counted; none is
// counted as untimed. Neither leaves the period.
func TestRowTimeSlackAndUntimed(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	in := tr.Begin(Period{Key: "H", Interval: "Hourly", Start: day0})
	end := day0.Add(time.Hour)
	addRows(in, []row{
		{at: end.Add(RowTimeSlack - time.Second), id: erpID, ip: "198.51.100.1"},
		{at: end.Add(RowTimeSlack + time.Second), id: erpID, ip: "198.51.100.2"},
		{at: day0.Add(-time.Second), id: erpID, ip: "198.51.100.3"},
		{id: erpID, ip: "198.51.100.4"},
		{at: day0.Add(30 * time.Minute), id: erpID, ip: "198.51.100.5"},
	})
	tr.Commit(in)
	if in.Clamped() != 2 || in.Untimed() != 1 || in.Rows() != 5 {
		t.Fatalf("clamped %d, untimed %d, rows %d; want 2, 1, 5", in.Clamped(), in.Untimed(), in.Rows())
	}
	for _, e := range tr.apps[AppKey(erpID, "")].nets {
		if e.first != hourOf(day0.Unix()) || e.last != hourOf(day0.Unix()) {
			t.Fatalf("a time outside the period reached the baseline: %+v", e)
		}
	}
}

// TestRowTimesStayInTheirPeriods: over days of mixed rows, some dated
// before their period or past its end, no first or last seen in the
// baseline lies outside the days ingested.
func TestRowTimesStayInTheirPeriods(t *testing.T) {
	t.Parallel()
	const days = 4
	tr := mixedTracker(t, days)
	lo, hi := hourOf(day0.Unix()), hourOf(day0.AddDate(0, 0, days).Unix())
	for _, a := range tr.apps {
		for k, e := range a.nets {
			if e.first < lo || e.last >= hi || e.first > e.last {
				t.Fatalf("%s network %v: first %d last %d, outside [%d, %d)", a.key, k, e.first, e.last, lo, hi)
			}
		}
		for name, e := range a.objs {
			if e.first < lo || e.last >= hi || e.first > e.last {
				t.Fatalf("%s object %s: first %d last %d, outside [%d, %d)", a.key, name, e.first, e.last, lo, hi)
			}
		}
		if a.since < lo || a.since >= hi {
			t.Fatalf("%s: baseline starts at hour %d", a.key, a.since)
		}
	}
}
