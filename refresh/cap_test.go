package refresh

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

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
		other = other || a.Name == snapshot.OtherApps
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
