package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestUninstalledAppNamedLikeAnECAStaysApart (issue 22.9): an uninstalled
// connected app named exactly like an installed External Client App has its
// OauthToken rows under the same AppName with AppMenuItemId null, as the
// ECA's own rows (the fake's default, as on a real org). The ECA's per-user
// read (App OAuth Usage) lists only its own tokens, so the rest are another
// app's: an uninstalled connected app with its own series, which the
// uninstalled-app and same-name alerts see, and never folded into the ECA.
//
// The ECA's users are counted from its users' pages (the documented
// collection has no user count, the fake's default), or taken from a
// userCount where the collection sends one.
func TestUninstalledAppNamedLikeAnECAStaysApart(t *testing.T) {
	t.Parallel()
	for _, count := range []bool{false, true} {
		t.Run(map[bool]string{false: "users counted from their pages", true: "the collection's userCount"}[count], func(t *testing.T) {
			t.Parallel()
			uninstalledAppNamedLikeAnECA(t, count)
		})
	}
}

func uninstalledAppNamedLikeAnECA(t *testing.T, userCount bool) {
	org := sftest.NewOrg()
	now := org.Now()
	var users []int
	for i := range 5 {
		users = append(users, org.AddUser("user"+string(rune('a'+i))+"@example.com", true))
	}
	org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: users[:2], LastUsed: now.Add(-time.Hour)})
	fake := org.AddApp(sftest.App{Name: "Partner Sync", Installed: false})
	for _, u := range users[2:] {
		org.AddToken(sftest.TokenSpec{User: u, App: fake, Created: now.Add(-time.Hour), LastUsed: now, UseCount: 1})
	}
	partner := org.Apps()[org.ECAIndex("Partner Sync")].ID
	srv, hs := sftest.Start(t, org, sftest.TestCredentials)
	srv.SetECAShape(sftest.ECAShape{UserCount: userCount})
	r, err := refresh.NewRefresher(testOrgConfig(t, hs.URL), refresh.Settings{StaleAfter: staleAfter, Inventory: func(string, string, string) *config.InventoryEntry { return nil }}, t.TempDir(), quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := New(stubSource{r.Snapshot()})
	want := `
# HELP salesforce_connected_app_oauth_tokens ` + descHelp(descTokens) + `
# TYPE salesforce_connected_app_oauth_tokens gauge
salesforce_connected_app_oauth_tokens{app="Partner Sync",app_id="",org="test"} 3
salesforce_connected_app_oauth_tokens{app="Partner Sync",app_id="` + partner + `",org="test"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_oauth_tokens"); err != nil {
		t.Error(err)
	}
	found := false
	for _, a := range r.Snapshot().Apps {
		if a.Name == "Partner Sync" && a.ID == "" {
			found = !a.Installed && a.Kind == "connected_app"
		}
	}
	if !found {
		t.Errorf("no uninstalled connected app row for the other Partner Sync: %+v", r.Snapshot().Apps)
	}
}
