package sftest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

// listedLogFiles returns "Interval LogDate Sequence" of each EventLogFile the
// org lists, oldest CreatedDate first.
func listedLogFiles(t *testing.T, org *Org) []string {
	t.Helper()
	status, body := runQuery(t, org, "SELECT Id, Interval, LogDate, Sequence, CreatedDate FROM EventLogFile ORDER BY CreatedDate ASC")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var res struct {
		Records []struct {
			Interval string
			LogDate  string
			Sequence float64
		}
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Records {
		got = append(got, fmt.Sprintf("%s %.16s %d", r.Interval, r.LogDate, int(r.Sequence)))
	}
	return got
}

// TestLogFilesListedOnlyOncePublished: a real org lists an EventLogFile only
// once it has been written, after the hour or day it covers has ended. The
// fake lists none whose CreatedDate or period end lies after its clock, and
// serves none of their bodies, until its clock passes them.
func TestLogFilesListedOnlyOncePublished(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC)
	today := now.Truncate(24 * time.Hour)
	org := NewOrg()
	org.SetNow(now)
	rows := []UsageRow{{AppName: "A", StatusCode: 200, Count: 1}}
	// Yesterday's, out at 02:00.
	org.AddLogFile(&LogFile{LogDate: today.Add(-24 * time.Hour), CreatedDate: today.Add(2 * time.Hour), Rows: rows})
	// Today's: CreatedDate now, but the day is not over.
	org.AddLogFile(&LogFile{LogDate: today, Rows: rows})
	// 11:00's, out at 12:03.
	org.AddLogFile(&LogFile{Interval: "Hourly", LogDate: now.Add(-90 * time.Minute), Sequence: 1, CreatedDate: now.Add(-27 * time.Minute), Rows: rows})
	// 11:00's late file, out at 13:00.
	late := &LogFile{Interval: "Hourly", LogDate: now.Add(-90 * time.Minute), Sequence: 2, CreatedDate: now.Add(30 * time.Minute), Rows: rows}
	org.AddLogFile(late)
	// 12:00's, with the hour not over.
	org.AddLogFile(&LogFile{Interval: "Hourly", LogDate: now.Add(-30 * time.Minute), Sequence: 1, CreatedDate: now.Add(-10 * time.Minute), Rows: rows})

	want := []string{"Daily 2026-04-30T00:00 0", "Hourly 2026-05-01T11:00 1"}
	if got := listedLogFiles(t, org); !slices.Equal(got, want) {
		t.Errorf("at 12:30 the org lists %q, want %q", got, want)
	}
	if status, _ := runGet(t, org, "/services/data/v66.0/sobjects/EventLogFile/"+late.ID+"/LogFile"); status != 404 {
		t.Errorf("the body of a file not yet published: status %d, want 404", status)
	}

	org.Advance(time.Hour) // 13:30
	want = []string{"Daily 2026-04-30T00:00 0", "Hourly 2026-05-01T11:00 1", "Hourly 2026-05-01T12:00 1", "Hourly 2026-05-01T11:00 2"}
	if got := listedLogFiles(t, org); !slices.Equal(got, want) {
		t.Errorf("at 13:30 the org lists %q, want %q", got, want)
	}
	if status, _ := runGet(t, org, "/services/data/v66.0/sobjects/EventLogFile/"+late.ID+"/LogFile"); status != 200 {
		t.Errorf("the body of a published file: status %d, want 200", status)
	}

	// An org with corrupt dates, for the client's plausibility checks,
	// lists every file at once.
	org.Behavior.FutureLogFiles = true
	org.SetNow(now)
	if got := listedLogFiles(t, org); len(got) != 5 {
		t.Errorf("with FutureLogFiles the org lists %q, want all 5", got)
	}
}
