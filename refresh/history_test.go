package refresh

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

func TestRecordHistory(t *testing.T) {
	t.Parallel()
	day := func(n int) time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	const id = "0H4000000000001AAA"
	snapWith := func(users, tokens int64) *snapshot.Snapshot {
		return &snapshot.Snapshot{Apps: []snapshot.AppUsage{
			{Name: "Loader", ID: id, Kind: snapshot.KindConnectedApp, HasTokens: true, TokenStats: salesforce.TokenStats{Users: users, Tokens: tokens}},
			{Name: "Portal", ID: "0oQ000000000001AAA", Kind: snapshot.KindExternalClientApp, HasTokens: true, TokenStats: salesforce.TokenStats{Users: 1, Tokens: 1}},
			{Name: "Traffic only", Kind: snapshot.KindConnectedApp}, // no token data: no row of its own
		}}
	}
	usage := newUsageState()
	usage.Periods["D|day0"] = &usagePeriod{Interval: "Daily", Start: day(0), Apps: map[string]*appCount{
		salesforce.ID(id).Key(): {Name: "Loader", ID: salesforce.ID(id).Key(), Requests: 100, Errors: 7},
		"name:(none)":           {Name: snapshot.NoConnectedApp, Requests: 9},
	}}
	// Day 1 has both a Daily file and Hourly ones: the Daily file counts.
	usage.Periods["D|day1"] = &usagePeriod{Interval: "Daily", Start: day(1), Apps: map[string]*appCount{salesforce.ID(id).Key(): {Name: "Loader", ID: salesforce.ID(id).Key(), Requests: 50}}}
	usage.Periods["H|day1"] = &usagePeriod{Interval: "Hourly", Start: day(1).Add(3 * time.Hour), Apps: map[string]*appCount{salesforce.ID(id).Key(): {Name: "Loader", ID: salesforce.ID(id).Key(), Requests: 20}}}
	// Day 2 has only Hourly files: they add up.
	for h := range 3 {
		usage.Periods[fmt.Sprint("H|day2|", h)] = &usagePeriod{Interval: "Hourly", Start: day(2).Add(time.Duration(h) * time.Hour), Apps: map[string]*appCount{salesforce.ID(id).Key(): {Name: "Loader", ID: salesforce.ID(id).Key(), Requests: 10, Errors: 1}}}
	}

	h, changed := recordHistory(nil, snapWith(3, 4), &usage, day(0).Add(10*time.Hour))
	if !changed {
		t.Fatal("the first record changed nothing")
	}
	// The same figures again change nothing (the state is not rewritten).
	if _, again := recordHistory(h, snapWith(3, 4), &usage, day(0).Add(11*time.Hour)); again {
		t.Error("recording the same figures reported a change")
	}
	h, _ = recordHistory(h, snapWith(5, 6), &usage, day(2).Add(time.Hour))
	got := map[string]snapshot.HistoryDay{}
	for _, r := range h {
		got[r.Day.Format("01-02")+" "+r.App] = r
	}
	for k, want := range map[string]snapshot.HistoryDay{
		"03-01 Loader": {Users: 3, Tokens: 4, Requests: 100, Errors: 7},
		"03-01 (none)": {Requests: 9},
		"03-01 Portal": {Users: 1, Tokens: 1},
		"03-02 Loader": {Requests: 50}, // no publish that day: no token figures
		"03-03 Loader": {Users: 5, Tokens: 6, Requests: 30, Errors: 3},
	} {
		g, ok := got[k]
		if !ok {
			t.Errorf("no row %s in %+v", k, h)
			continue
		}
		if g.Users != want.Users || g.Tokens != want.Tokens || g.Requests != want.Requests || g.Errors != want.Errors {
			t.Errorf("%s = %+v, want %+v", k, g, want)
		}
	}
	// A day without a publish has unknown users, a day without a log file
	// unknown requests: absent, never 0.
	if r := got["03-02 Loader"]; r.TokensKnown() || !r.RequestsKnown() {
		t.Errorf("03-02 Loader: tokens known %v, requests known %v; want only the requests", r.TokensKnown(), r.RequestsKnown())
	}
	if r := got["03-01 Portal"]; !r.TokensKnown() || r.RequestsKnown() {
		t.Errorf("03-01 Portal: tokens known %v, requests known %v; want only the tokens", r.TokensKnown(), r.RequestsKnown())
	}
	if r := got["03-01 Loader"]; r.AppID != id || r.Kind != snapshot.KindConnectedApp {
		t.Errorf("the usage row was not joined to the app: %+v", r)
	}
	if _, ok := got["03-01 Traffic only"]; ok {
		t.Error("an app without token data or traffic got a row")
	}
	for i := 1; i < len(h); i++ {
		if h[i].Day.Before(h[i-1].Day) {
			t.Fatalf("rows not oldest first: %+v", h)
		}
	}

	// Bounded: days past HistoryDays go, and at most HistoryApps apps a day.
	var many []snapshot.HistoryDay
	for i := range HistoryApps + 50 {
		many = append(many, snapshot.HistoryDay{Day: day(0), App: fmt.Sprint("app ", i), Kind: snapshot.KindConnectedApp, Users: int64(i)})
	}
	many = append(many, snapshot.HistoryDay{Day: day(-HistoryDays), App: "old", Kind: snapshot.KindConnectedApp, Users: 1000})
	h, _ = recordHistory(many, &snapshot.Snapshot{}, nil, day(0))
	if len(h) != HistoryApps {
		t.Fatalf("%d rows, want %d", len(h), HistoryApps)
	}
	if h[0].App != fmt.Sprint("app ", HistoryApps+49) {
		t.Errorf("the cap did not keep the busiest apps first: %+v", h[0])
	}
	h, _ = recordHistory(many[:1], &snapshot.Snapshot{}, nil, day(HistoryDays-1))
	if len(h) != 1 {
		t.Errorf("a row %d days old was dropped: %+v", HistoryDays-1, h)
	}
	if h, _ = recordHistory(many[:1], &snapshot.Snapshot{}, nil, day(HistoryDays)); len(h) != 0 {
		t.Errorf("a row %d days old was kept: %+v", HistoryDays, h)
	}
}

func TestHistorySurvivesRestartAndBadRowsAreDropped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := newOrgState("prod")
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st.History = []snapshot.HistoryDay{{Day: d, App: "A", Users: 2, Tokens: 3, HasTokens: true, Requests: 5, Errors: 1, HasRequests: true}, {Day: d, App: "bad", Requests: 1, Errors: 2}}
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	got := loadState(dir, "prod", quiet)
	if len(got.History) != 1 || got.History[0] != st.History[0] {
		t.Errorf("history after a restart = %+v, want the good row of %+v", got.History, st.History)
	}
}

// TestHistoryUnknownFiguresAbsentInJSON (issue 25): a figure the exporter
// does not know is absent from the state file and review.json, and a known
// 0 stays 0; both load back as they were.
func TestHistoryUnknownFiguresAbsentInJSON(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		row  snapshot.HistoryDay
		want string
	}{
		{snapshot.HistoryDay{Day: d, App: "A", Requests: 50, HasRequests: true}, `{"day":"2026-03-01T00:00:00Z","app":"A","requests":50,"errors":0}`},
		{snapshot.HistoryDay{Day: d, App: "A", HasTokens: true}, `{"day":"2026-03-01T00:00:00Z","app":"A","users":0,"tokens":0}`},
		{snapshot.HistoryDay{Day: d, App: "A", Users: 2, Tokens: 3, HasTokens: true, Requests: 0, HasRequests: true}, `{"day":"2026-03-01T00:00:00Z","app":"A","users":2,"tokens":3,"requests":0,"errors":0}`},
	} {
		b, err := json.Marshal(c.row)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v marshals to %s (%v), want %s", c.row, b, err, c.want)
		}
		var back snapshot.HistoryDay
		if err := json.Unmarshal(b, &back); err != nil || back != c.row {
			t.Errorf("%s loads as %+v (%v), want %+v", b, back, err, c.row)
		}
	}
}
