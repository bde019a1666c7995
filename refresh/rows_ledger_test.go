package refresh

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// rowsOf is the app's rows figures from the source in the snapshot.
func rowsOf(t *testing.T, s *snapshot.Snapshot, source, id string) snapshot.AppRows {
	t.Helper()
	for _, r := range s.Rows {
		if r.Source == source && r.ID == id {
			return r
		}
	}
	t.Fatalf("no rows figures of %s from %s in %+v", id, source, s.Rows)
	return snapshot.AppRows{}
}

// TestAPIEventsRowsLedgerAcrossDaysAndRestart: the api_events source keeps
// each app's rows of the last 24 hours and its busiest whole day. The
// install day (counted from noon) sets no mark; the next whole day does
// once the 24-hour window has left it, and a restart from the state file
// keeps both the mark and the window.
func TestAPIEventsRowsLedgerAcrossDaysAndRestart(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org, u, cfg := apiEventsOrg(t, start, true)
	dir := t.TempDir()
	add := func(at time.Time, rows float64) {
		org.AddAPIEvent(sftest.APIEventSpec{User: u, AppID: apiEventsAppID, AppName: "Data Loader", Time: at, Rows: rows, StoredAfter: time.Second})
	}
	r := apiEventsRefresher(t, cfg, dir)
	// Install day: 1,000 rows before noon.
	add(start.Add(-10*time.Minute), 1000)
	got := rowsOf(t, refreshOK(t, r), config.SourceAPIEvents, apiEventsAppID)
	if got.Rows24h != 1000 || got.HasDailyMax {
		t.Fatalf("install day: %+v, want 1000 rows in 24h and no mark", got)
	}
	// Day 2: 300 rows. The install day was not covered whole: no mark.
	org.Advance(24 * time.Hour)
	add(start.Add(24*time.Hour-10*time.Minute), 300)
	got = rowsOf(t, refreshOK(t, r), config.SourceAPIEvents, apiEventsAppID)
	if got.Rows24h != 300 || got.HasDailyMax {
		t.Fatalf("day 2: %+v, want 300 rows in 24h (the install day's out of the window) and no mark", got)
	}
	// Day 3, after a restart: the window touches day 2, so still no mark.
	org.Advance(24 * time.Hour)
	add(start.Add(48*time.Hour-10*time.Minute), 50)
	r = apiEventsRefresher(t, cfg, dir)
	got = rowsOf(t, refreshOK(t, r), config.SourceAPIEvents, apiEventsAppID)
	if got.Rows24h != 50 || got.HasDailyMax {
		t.Fatalf("day 3 after a restart: %+v, want 50 rows in 24h and no mark", got)
	}
	// Day 4, after another restart: day 2 (300) is whole and out of the
	// window: the mark. Day 3's 50 rows were at 11:50, before the window.
	org.Advance(24 * time.Hour)
	add(start.Add(72*time.Hour-time.Hour), 10)
	r = apiEventsRefresher(t, cfg, dir)
	snap := refreshOK(t, r)
	got = rowsOf(t, snap, config.SourceAPIEvents, apiEventsAppID)
	if got.Rows24h != 10 || !got.HasDailyMax || got.DailyMax != 300 {
		t.Fatalf("day 4 after a restart: %+v, want 10 rows in 24h and a mark of 300", got)
	}
	// Read again: the overlap counts nothing twice.
	got = rowsOf(t, refreshOK(t, r), config.SourceAPIEvents, apiEventsAppID)
	if got.Rows24h != 10 || got.DailyMax != 300 {
		t.Fatalf("read again: %+v, want 10 rows and a mark of 300", got)
	}
}

// TestRowsLedgerBounds: the ledger keeps 25 hours and 31 days per app, at
// most snapshot.MaxStreamApps apps; a stored ledger past its bounds or with
// a negative count is refused.
func TestRowsLedgerBounds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var l rowsLedger
	for h := range 24 * 60 {
		at := now.Add(-time.Duration(h) * time.Hour)
		l.add(at, now.Add(-60*24*time.Hour), "0H4000000000001", "A", 1)
	}
	l.prune(now)
	a := l.Apps[detect.AppKey("0H4000000000001", "A")]
	if len(a.Hours) != rowsLedgerHours || len(a.Days) != rowsLedgerDays {
		t.Fatalf("after prune: %d hours, %d days, want %d and %d", len(a.Hours), len(a.Days), rowsLedgerHours, rowsLedgerDays)
	}
	if err := l.check(); err != nil {
		t.Fatalf("pruned ledger refused: %v", err)
	}
	f := l.figures("stream", now)
	if len(f) != 1 || f[0].Rows24h != 24 || !f[0].HasDailyMax || f[0].DailyMax != 24 {
		t.Fatalf("figures %+v, want 24 rows in 24h and a mark of 24", f)
	}
	for i := range snapshot.MaxStreamApps + 10 {
		l.add(now, now, "", string(rune('a'+i%26))+string(rune(i)), 1)
	}
	if len(l.Apps) != snapshot.MaxStreamApps {
		t.Errorf("%d apps kept, want at most %d", len(l.Apps), snapshot.MaxStreamApps)
	}
	var bad rowsLedger
	if err := json.Unmarshal([]byte(`{"since":"2026-05-01T00:00:00Z","apps":{"x":{"name":"A","hours":{"1":-5}}}}`), &bad); err != nil {
		t.Fatal(err)
	}
	if bad.check() == nil {
		t.Error("a negative count of rows accepted")
	}
}
