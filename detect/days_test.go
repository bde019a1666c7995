package detect

import (
	"fmt"
	"testing"
	"time"
)

func replayRows(at time.Time, n int) []row {
	return []row{
		{at: at, id: erpID, name: "Acme ERP Sync", ip: "198.18.10.1", entity: "User", user: "005A", n: n},
		{at: at, id: erpID, name: "Acme ERP Sync", ip: "198.18.11.1", entity: "Invoice__c", user: "005A", n: n},
	}
}

// A day counts once in the judged counters: its Hourly files, then its
// Daily file holding the same requests, then a re-issue of the Daily file.
// A late day counts when it lands.
func TestJudgedDaysCountOnce(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	for d := range 8 {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	f := figure(t, tr, key)
	if f.RequestsJudged != 8*1250 || f.RequestsFromNewNetworksJudged != 0 {
		t.Fatalf("eight quiet days: %+v", f)
	}
	day := day0.AddDate(0, 0, 8)
	ingestHour(tr, day.Add(3*time.Hour), replayRows(day.Add(3*time.Hour), 10))
	ingestHour(tr, day.Add(4*time.Hour), replayRows(day.Add(4*time.Hour), 5))
	f = figure(t, tr, key)
	if f.RequestsFromNewNetworksJudged != 30 || f.SensitiveRequestsFromNewNetworksJudged != 15 || f.RequestsJudged != 8*1250+30 {
		t.Fatalf("two hourly files: %+v", f)
	}
	// The day's Daily file: the same 30 requests and the usual day.
	rows := append(integrationDay(day), append(replayRows(day.Add(3*time.Hour), 10), replayRows(day.Add(4*time.Hour), 5)...)...)
	ingestDay(tr, day, rows)
	f = figure(t, tr, key)
	if f.RequestsFromNewNetworksJudged != 30 || f.SensitiveRequestsFromNewNetworksJudged != 15 || f.RequestsJudged != 9*1250+30 {
		t.Fatalf("the daily file after its hourly ones: %+v", f)
	}
	ingestDay(tr, day, rows) // re-issued
	if g := figure(t, tr, key); g.RequestsJudged != f.RequestsJudged || g.RequestsFromNewNetworksJudged != 30 {
		t.Fatalf("a re-issued file counted again: %+v", g)
	}
	// Day 10 lands before day 9; day 9 holds a replay from a new network.
	ingestDay(tr, day0.AddDate(0, 0, 10), integrationDay(day0.AddDate(0, 0, 10)))
	late := day0.AddDate(0, 0, 9)
	ingestDay(tr, late, append(integrationDay(late), row{at: late.Add(5 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "203.0.113.9", entity: "Account", user: "005A", n: 40}))
	f = figure(t, tr, key)
	if f.RequestsFromNewNetworks != 0 {
		t.Fatalf("the window (day 10) shows %d: no late day to judge", f.RequestsFromNewNetworks)
	}
	if f.RequestsFromNewNetworksJudged != 70 || f.SensitiveRequestsFromNewNetworksJudged != 55 {
		t.Fatalf("the late day: %+v", f)
	}
}

// Before an app's baseline is ready nothing is judged new, and the days
// past the retention are forgotten.
func TestJudgedNeedsReadyBaseline(t *testing.T) {
	t.Parallel()
	tr := mustNew(t, Config{})
	key := AppKey(erpID, "")
	ingestDay(tr, day0, append(integrationDay(day0), replayRows(day0.Add(time.Hour), 10)...))
	ingestDay(tr, day0.AddDate(0, 0, 1), replayRows(day0.AddDate(0, 0, 1).Add(time.Hour), 10))
	if f := figure(t, tr, key); f.RequestsFromNewNetworksJudged != 0 || f.RequestsJudged != 1250+40 {
		t.Fatalf("a young baseline: %+v", f)
	}
	for d := 2; d < 20; d++ {
		ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
	}
	tr.mu.RLock()
	days := len(tr.judged[key].days)
	tr.mu.RUnlock()
	if days > 10 {
		t.Fatalf("%d days kept for the judged counters, want those of the retention only", days)
	}
}

// persisted clears the figures a state file of version 2 or older does not
// keep: the judged counters and the wake of a dormant app.
func persisted(figs []AppFigures) []AppFigures {
	out := make([]AppFigures, len(figs))
	for i, f := range figs {
		f.RequestsJudged, f.RequestsFromNewNetworksJudged, f.SensitiveRequestsFromNewNetworksJudged = 0, 0, 0
		f.CorroboratedSensitiveRequestsFromNewNetworksJudged = 0
		f.IdleBeforeWake = 0
		out[i] = f
	}
	return out
}

// A late day is graded as the window is: the sensitive requests from new
// networks count as corroborated only with evidence at judge time. A
// planned move (the usual objects at the usual mix, from new networks) is
// not; a replay at 0.3% of the day reading User, an object the app never
// read, in a day that landed after the next one, is. A restart keeps the
// count.
func TestJudgedCorroboration(t *testing.T) {
	t.Parallel()
	key := AppKey(erpID, "")
	quiet := func() *Tracker {
		tr := mustNew(t, Config{})
		for d := range 10 {
			ingestDay(tr, day0.AddDate(0, 0, d), integrationDay(day0.AddDate(0, 0, d)))
		}
		return tr
	}

	tr := quiet()
	day := day0.AddDate(0, 0, 10)
	rows := integrationDay(day)
	for i := range rows[:3] {
		rows[i].ip = fmt.Sprintf("203.0.113.%d", 10+i)
	}
	ingestDay(tr, day, rows)
	f := figure(t, tr, key)
	if f.SensitiveRequestsFromNewNetworksJudged != 800 || f.CorroboratedSensitiveRequestsFromNewNetworksJudged != 0 {
		t.Fatalf("a planned move: %d sensitive from new networks, %d corroborated; want 800 and 0",
			f.SensitiveRequestsFromNewNetworksJudged, f.CorroboratedSensitiveRequestsFromNewNetworksJudged)
	}

	tr = quiet()
	ingestDay(tr, day0.AddDate(0, 0, 11), integrationDay(day0.AddDate(0, 0, 11)))
	ingestDay(tr, day, append(integrationDay(day), row{at: day.Add(5 * time.Hour), id: erpID, name: "Acme ERP Sync", ip: "198.18.20.1", entity: "User", user: "005A", n: 4}))
	f = figure(t, tr, key)
	if f.RequestsFromNewNetworks != 0 {
		t.Fatalf("the window (day 11) shows %d requests from new networks: no late day", f.RequestsFromNewNetworks)
	}
	if f.SensitiveRequestsFromNewNetworksJudged != 4 || f.CorroboratedSensitiveRequestsFromNewNetworksJudged != 4 {
		t.Fatalf("the late replay: %d sensitive from new networks, %d corroborated; want 4 and 4",
			f.SensitiveRequestsFromNewNetworksJudged, f.CorroboratedSensitiveRequestsFromNewNetworksJudged)
	}
	back, _, err := Restore(tr.Config(), mustMarshal(t, tr))
	if err != nil {
		t.Fatal(err)
	}
	if g := figure(t, back, key); g.CorroboratedSensitiveRequestsFromNewNetworksJudged != 4 {
		t.Fatalf("after a restart: %d corroborated, want 4", g.CorroboratedSensitiveRequestsFromNewNetworksJudged)
	}
}
