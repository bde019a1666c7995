package sftest

import (
	"strings"
	"testing"
	"time"
)

// TestAPIEventIsABigObject: ApiEvent answers INVALID_TYPE without the
// add-on (the default), and with it takes only what SOQL on a big object
// takes: filters on its index (EventDate alone, or EventDate with
// EventIdentifier, a range only on the last one filtered), no aggregate
// function, no OFFSET, ORDER BY on the index only; Id comes back empty.
// An event shows only once stored, a while after its EventDate.
func TestAPIEventIsABigObject(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org := NewOrg()
	org.SetNow(now)
	u := org.AddUser("a@example.com", true)
	org.AddAPIEvent(APIEventSpec{User: u, AppName: "Data Loader", Time: now.Add(-10 * time.Minute)})
	org.AddAPIEvent(APIEventSpec{User: u, AppName: "Data Loader", Time: now.Add(-30 * time.Second)}) // not stored yet
	const ok = "SELECT EventIdentifier, EventDate, Id FROM ApiEvent WHERE EventDate >= 2026-05-01T11:00:00Z ORDER BY EventDate ASC LIMIT 10"
	if code, body := runQuery(t, org, ok); code != 400 || !strings.Contains(body, "INVALID_TYPE") {
		t.Errorf("without the add-on: %d %s, want INVALID_TYPE", code, body)
	}
	org.Behavior.APIEventStorage = true
	code, body := runQuery(t, org, ok)
	if code != 200 || !strings.Contains(body, `"totalSize":1`) || !strings.Contains(body, `"Id":"000000000000000AAA"`) {
		t.Errorf("index query: %d %s, want the one stored event, Id empty", code, body)
	}
	for _, soql := range []string{
		"SELECT COUNT() FROM ApiEvent WHERE EventDate >= 2026-05-01T11:00:00Z",
		"SELECT EventDate FROM ApiEvent WHERE EventDate >= 2026-05-01T11:00:00Z OFFSET 10",
		"SELECT EventDate FROM ApiEvent WHERE Application = 'Data Loader'",
		"SELECT EventDate FROM ApiEvent WHERE EventIdentifier = 'x'",
		"SELECT EventDate FROM ApiEvent WHERE EventDate >= 2026-05-01T11:00:00Z AND EventIdentifier = 'x'",
		"SELECT EventDate FROM ApiEvent WHERE EventDate != 2026-05-01T11:00:00Z",
		"SELECT EventDate FROM ApiEvent WHERE EventDate >= 2026-05-01T11:00:00Z OR EventDate < 2026-05-01T10:00:00Z",
		"SELECT EventDate FROM ApiEvent WHERE EventDate >= 2026-05-01T11:00:00Z ORDER BY Application",
	} {
		if code, body := runQuery(t, org, soql); code != 400 || !strings.Contains(body, "big object") {
			t.Errorf("%s: %d %s, want refused as on a big object", soql, code, body)
		}
	}
	if code, body := runQuery(t, org, "SELECT EventDate FROM ApiEvent WHERE EventDate = 2026-05-01T11:50:00Z AND EventIdentifier >= 'a'"); code != 200 {
		t.Errorf("EventDate = and a range on EventIdentifier: %d %s, want it taken", code, body)
	}
}
