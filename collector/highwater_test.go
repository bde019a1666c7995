package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestHighWaterMarks (issue 22.8): an org whose state holds the history of
// its earlier weeks (a weekly full sync, the users before a mass
// revocation) exports each app's high-water marks from it after a restart,
// under window="28d"; an app the history does not hold has none.
func TestHighWaterMarks(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	// The refresher runs on the real clock: the history's days are counted
	// back from it, far enough inside the look-back that a midnight between
	// here and the refresh changes nothing.
	now := org.Now()
	u := org.AddUser("usera@example.com", true)
	sync := org.AddApp(sftest.App{Name: "Nightly Sync", Installed: true})
	other := org.AddApp(sftest.App{Name: "Other", Installed: true})
	org.AddToken(sftest.TokenSpec{User: u, App: sync, Created: now.Add(-time.Hour), LastUsed: now, UseCount: 2})
	org.AddToken(sftest.TokenSpec{User: u, App: other, Created: now.Add(-time.Hour), LastUsed: now, UseCount: 2})
	syncID := org.Apps()[sync].ID
	today := now.UTC().Truncate(24 * time.Hour)
	// The log day before yesterday, its file created an hour ago (Salesforce
	// may create a day's file up to three days late): listed at any hour of
	// the real clock. A file created at a fixed hour is in the future, or
	// past the first read's look-back, at some hours of the day.
	ld := today.Add(-48 * time.Hour)
	org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: now.Add(-time.Hour), Rows: []sftest.UsageRow{
		{AppID: syncID[:15], AppName: "Nightly Sync", StatusCode: 200, User: u, Count: 40},
	}})
	dir := t.TempDir()
	day := func(ago int) time.Time { return today.AddDate(0, 0, -ago) }
	if err := refresh.SeedHistory(dir, "test", []snapshot.HistoryDay{
		{Day: day(8), App: "Nightly Sync", AppID: syncID, Kind: snapshot.KindConnectedApp, Users: 180, HasTokens: true, Requests: 90_000, HasRequests: true},
		{Day: day(9), App: "Nightly Sync", AppID: syncID, Kind: snapshot.KindConnectedApp, Users: 200, HasTokens: true, Requests: 2_000, HasRequests: true},
	}); err != nil {
		t.Fatal(err)
	}
	r, err := refresh.NewRefresher(testOrgConfig(t, ts(t, org)), refresh.Settings{StaleAfter: staleAfter, Inventory: func(string, string, string) *config.InventoryEntry { return nil }}, dir, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := New(stubSource{r.Snapshot()})
	want := `
# HELP salesforce_connected_app_api_requests_daily_max ` + descHelp(descAPIRequestsDailyMax) + `
# TYPE salesforce_connected_app_api_requests_daily_max gauge
salesforce_connected_app_api_requests_daily_max{app="Nightly Sync",app_id="` + syncID + `",org="test",window="28d"} 90000
# HELP salesforce_connected_app_authorized_users_max ` + descHelp(descUsersMax) + `
# TYPE salesforce_connected_app_authorized_users_max gauge
salesforce_connected_app_authorized_users_max{app="Nightly Sync",app_id="` + syncID + `",org="test",window="28d"} 200
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_api_requests_daily_max", "salesforce_connected_app_authorized_users_max"); err != nil {
		t.Error(err)
	}
	// A second start finds the state file and leaves it alone.
	if err := refresh.SeedHistory(dir, "test", nil); err != nil {
		t.Fatal(err)
	}
}

func ts(t *testing.T, org *sftest.Org) string {
	t.Helper()
	_, srv := sftest.Start(t, org, sftest.TestCredentials)
	return srv.URL
}
