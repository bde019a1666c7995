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

// TestECAsReportedOnce (issue 21.1, 21.7): on an org whose External Client
// Apps have users, with every source on, each ECA is one series set under
// its 0xI Id, with its users, tokens and API use, installed and known: no
// uninstalled or unknown connected app appears for it, so neither alert
// can fire. Its tokens are OauthToken rows with AppMenuItemId null, as on a
// real org (the fake's default), and one ECA's API use carries its OAuth
// consumer's 888 Id.
func TestECAsReportedOnce(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	var users []int
	for i := range 6 {
		users = append(users, org.AddUser("user"+string(rune('a'+i))+"@example.com", i != 5))
	}
	crm := org.AddApp(sftest.App{Name: "CRM Sync", Installed: true})
	org.AddToken(sftest.TokenSpec{User: users[0], App: crm, Created: now.Add(-time.Hour), LastUsed: now, UseCount: 2})
	org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: users[:4], TokensPerUser: 2, LastUsed: now.Add(-time.Hour)})
	org.AddECA(sftest.ECASpec{Name: "Field Companion", DeveloperName: "Field_Companion", Users: users[3:], LastUsed: now.Add(-time.Hour)})
	partner := org.Apps()[org.ECAIndex("Partner Sync")].ID
	field := org.Apps()[org.ECAIndex("Field Companion")].ID
	ld := now.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(25 * time.Hour), Rows: []sftest.UsageRow{
		{AppID: partner[:15], AppName: "Partner Sync", StatusCode: 200, User: users[0], Count: 40},
		{AppID: org.ECAConsumerID("Field Companion"), AppName: "Field Companion", StatusCode: 200, User: users[3], Count: 7},
	}})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	inv := map[string]bool{"CRM Sync": true, "Partner Sync": true, "Field Companion": true}
	r, err := refresh.NewRefresher(testOrgConfig(t, ts.URL), refresh.Settings{StaleAfter: staleAfter, Inventory: func(_, name, _ string) *config.InventoryEntry {
		if inv[name] {
			return &config.InventoryEntry{App: name, Owner: "it"}
		}
		return nil
	}}, t.TempDir(), quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := New(stubSource{r.Snapshot()})
	crmID := org.Apps()[crm].ID
	want := `
# HELP salesforce_connected_app_info One series per app seen in any source, with its kind, whether it is installed, whether it is on the approved inventory, its owner there, and whether only admin-approved users may use it (empty when unknown).
# TYPE salesforce_connected_app_info gauge
salesforce_connected_app_info{admin_approved="false",app="CRM Sync",app_id="` + crmID + `",installed="true",kind="connected_app",known="true",org="test",owner="it"} 1
salesforce_connected_app_info{admin_approved="",app="Field Companion",app_id="` + field + `",installed="true",kind="external_client_app",known="true",org="test",owner="it"} 1
salesforce_connected_app_info{admin_approved="",app="Partner Sync",app_id="` + partner + `",installed="true",kind="external_client_app",known="true",org="test",owner="it"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_info"); err != nil {
		t.Error(err)
	}
	type figures struct{ tokens, users, inactive, req7d float64 }
	got := map[string]figures{}
	for _, a := range r.Snapshot().Apps {
		got[a.Kind+"/"+a.Name+"/"+a.ID] = figures{float64(a.Tokens), float64(a.Users), float64(a.InactiveTokens), float64(a.Requests7d)}
	}
	wantFig := map[string]figures{
		"connected_app/CRM Sync/" + crmID:              {1, 1, 0, 0},
		"external_client_app/Partner Sync/" + partner:  {8, 4, 0, 40},
		"external_client_app/Field Companion/" + field: {3, 3, 1, 7},
	}
	if len(got) != len(wantFig) {
		t.Errorf("apps %v, want %v", got, wantFig)
	}
	for k, w := range wantFig {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
}
