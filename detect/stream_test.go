package detect

import (
	"testing"
	"time"
)

// TestStreamYieldsToFiles: the stream's figures of an hour count until an
// ApiTotalUsage file of that hour (or of its day) arrives, which replaces
// them: the same events are never counted twice, in the window or in the
// judged counters.
func TestStreamYieldsToFiles(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	h := day0.Add(10 * time.Hour)
	rows := []row{{at: h.Add(time.Minute), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Account", user: "005A", n: 30}}
	commit := func(key, interval, file string, start time.Time, rs []row) {
		in := tr.Begin(Period{Key: key, Interval: interval, Start: start, FileID: file})
		addRows(in, rs)
		tr.Commit(in)
	}
	figs := func() AppFigures {
		t.Helper()
		for _, f := range tr.Figures() {
			if f.ID == erpID[:15] || f.ID == erpID {
				return f
			}
		}
		t.Fatal("no figures for the app")
		return AppFigures{}
	}
	// Two stream segments of the hour (a restart between them) add up.
	commit("S|a|1", "Hourly", StreamFileID, h, rows[:1])
	commit("S|a|2", "Hourly", StreamFileID, h, []row{{at: h.Add(2 * time.Minute), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Account", user: "005A", n: 20}})
	if f := figs(); f.Requests != 50 || f.RequestsJudged != 50 {
		t.Fatalf("stream only: requests %d, judged %d, want 50 and 50", f.Requests, f.RequestsJudged)
	}
	// The hour's file holds the same 50 events: it replaces the stream's.
	commit("H|10|1", "Hourly", "0AT1", h, []row{{at: h.Add(time.Minute), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Account", user: "005A", n: 50}})
	if f := figs(); f.Requests != 50 || f.RequestsJudged != 50 {
		t.Errorf("stream and hourly file of the same hour: requests %d, judged %d, want 50 and 50 (counted once)", f.Requests, f.RequestsJudged)
	}
	// A later stream hour still counts beside the file.
	commit("S|b|3", "Hourly", StreamFileID, h.Add(time.Hour), []row{{at: h.Add(time.Hour + time.Minute), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Account", user: "005A", n: 5}})
	if f := figs(); f.Requests != 55 || f.RequestsJudged != 55 {
		t.Errorf("next stream hour: requests %d, judged %d, want 55 and 55", f.Requests, f.RequestsJudged)
	}
	// The day's file replaces them all.
	commit("D|day", "Daily", "0AT2", day0, []row{{at: h.Add(time.Minute), id: erpID, name: "Acme ERP Sync", ip: "198.51.100.10", entity: "Account", user: "005A", n: 55}})
	if f := figs(); f.Requests != 55 || f.RequestsJudged != 55 {
		t.Errorf("daily file: requests %d, judged %d, want 55 and 55", f.Requests, f.RequestsJudged)
	}
}

// TestCommittedPeriodOwnsItsFigures: the stream keeps adding to an hour's
// ingest after committing it and commits it again later. What a commit gave
// the tracker is its own: rows added afterwards change nothing until the
// next commit (they once reached the committed sensitive counts and
// outside-declared addresses in place, a data race with every reader of
// the figures).
func TestCommittedPeriodOwnsItsFigures(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	if err := tr.SetDeclared([]Declared{erpDeclared(t)}); err != nil {
		t.Fatal(err)
	}
	h := day0.Add(10 * time.Hour)
	in := tr.Begin(Period{Key: "S|open|1", Interval: "Hourly", Start: h, FileID: StreamFileID})
	addRows(in, []row{{at: h.Add(time.Minute), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.9", entity: "User", user: "005A", n: 3}})
	tr.Commit(in)
	before := figure(t, tr, AppKey(erpID, ""))
	addRows(in, []row{{at: h.Add(2 * time.Minute), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.10", entity: "User", user: "005A", n: 5}})
	after := figure(t, tr, AppKey(erpID, ""))
	if sens(tr, after.ObjectRequests, "User") != sens(tr, before.ObjectRequests, "User") || after.RequestsOutsideDeclaredNetworks != before.RequestsOutsideDeclaredNetworks {
		t.Fatalf("rows added after the commit changed the committed figures: User %d -> %d, outside declared %d -> %d",
			sens(tr, before.ObjectRequests, "User"), sens(tr, after.ObjectRequests, "User"), before.RequestsOutsideDeclaredNetworks, after.RequestsOutsideDeclaredNetworks)
	}
	tr.Commit(in)
	if got := figure(t, tr, AppKey(erpID, "")); sens(tr, got.ObjectRequests, "User") != 8 || got.RequestsOutsideDeclaredNetworks != 8 {
		t.Fatalf("after the second commit: User %d, outside declared %d; want 8 and 8", sens(tr, got.ObjectRequests, "User"), got.RequestsOutsideDeclaredNetworks)
	}
}
