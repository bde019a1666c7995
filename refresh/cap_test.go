package refresh

import (
	"fmt"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

func TestCapApps(t *testing.T) {
	t.Parallel()
	snap := &Snapshot{}
	var tokens, requests int64
	for i := range 10 {
		a := AppUsage{Name: fmt.Sprintf("App %02d", i), Kind: KindConnectedApp, HasTokens: true, HasAPIUsage: true,
			TokenStats: salesforce.TokenStats{Tokens: int64(i), Users: 1}, Requests7d: int64(100 * i)}
		if i == 0 {
			a.Known = true // the least used, but on the inventory: kept
		}
		tokens, requests = tokens+a.Tokens, requests+a.Requests7d
		snap.Apps = append(snap.Apps, a)
	}
	if n := capApps(snap, 4); n != 7 || snap.AppsFolded != 7 {
		t.Fatalf("folded %d (%d), want 7", n, snap.AppsFolded)
	}
	var names []string
	var gotTokens, gotRequests int64
	for _, a := range snap.Apps {
		names = append(names, a.Name)
		gotTokens, gotRequests = gotTokens+a.Tokens, gotRequests+a.Requests7d
	}
	if fmt.Sprint(names) != "[(other) App 00 App 08 App 09]" {
		t.Errorf("kept %v, want the known app, the two busiest and (other)", names)
	}
	if gotTokens != tokens || gotRequests != requests {
		t.Errorf("totals %d tokens, %d requests; want %d, %d: nothing lost in the fold", gotTokens, gotRequests, tokens, requests)
	}
	if n := capApps(snap, 4); n != 0 {
		t.Errorf("a second cap folded %d", n)
	}
	if n := capApps(&Snapshot{Apps: make([]AppUsage, 3)}, 0); n != 0 {
		t.Errorf("no cap folded %d", n)
	}
}

// TestManyAppsAreBounded (issue 18 item 9): an org of 3,000 apps with
// tokens, under max_apps_per_org 100, publishes 100 rows, the token total
// intact, and says how many it folded.
func TestManyAppsAreBounded(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 9000, Apps: 3000, Users: 2000, Seed: 5})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps))
	s := *r.settings.Load()
	s.MaxApps = 100
	r.settings.Store(&s)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	truth, _ := org.GroundTruth(staleAfter)
	var want, got int64
	for _, w := range truth {
		want += int64(w.Tokens)
	}
	other := false
	for _, a := range snap.Apps {
		got += a.Tokens
		other = other || a.Name == OtherApps
	}
	if len(snap.Apps) != 100 || !other {
		t.Errorf("%d apps published (an (other) row: %v), want 100 with one", len(snap.Apps), other)
	}
	if got != want {
		t.Errorf("%d tokens over the published apps, want %d", got, want)
	}
	if snap.AppsFolded < 2000 {
		t.Errorf("AppsFolded = %d, want the apps beyond the cap", snap.AppsFolded)
	}
}
