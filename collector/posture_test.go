package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The posture series: an app's policy as one series per refresh policy, its
// blast radius one series per permission, its changes only once found; the
// org's bypass holders only where the field exists, with its known flag.
func TestPostureSeries(t *testing.T) {
	t.Parallel()
	f, tr := false, true
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	snap := &snapshot.Snapshot{Org: "test", Taken: now, Apps: []snapshot.AppUsage{
		{Name: "Open Loader", ID: "0H4000000000001AAA", Kind: snapshot.KindConnectedApp, Installed: true, Posture: &snapshot.AppPosture{
			HasPolicy: true, AdminApprovedOnly: &f, RefreshByInactivity: &f, HighAssurance: &f,
			HasBlast: true, Holders: [6]int64{1, 0, 0, 0, 1, 2},
			Changes: map[string]int64{"opened_to_all_users": now.Unix()},
		}},
		{Name: "Idle Sync", ID: "0H4000000000002AAA", Kind: snapshot.KindConnectedApp, Installed: true, Posture: &snapshot.AppPosture{
			HasPolicy: true, AdminApprovedOnly: &tr, RefreshByInactivity: &tr, RefreshPeriod: 2, HasBeyond: true, BeyondPolicy: 3,
		}},
	}, Posture: &snapshot.OrgPosture{
		Holders:         map[string]int64{salesforce.PermUseAnyAPIClient: 4},
		Unknown:         map[string]string{salesforce.PermApproveUninstalledApps: "no field", salesforce.PermUseAnyAPIAuth: "no field"},
		HolderIncreases: map[string]int64{salesforce.PermUseAnyAPIClient: now.Unix()},
	}}
	c := New(stubSource{snap})
	want := `
# HELP salesforce_connected_app_refresh_token_policy 1 for the connected app's refresh token policy in force, 0 for the others: until_revoked (RefreshTokenValidityPeriod null or 0), idle_expiry (OptionsRefreshTokenValidityMetric true) or absolute_expiry. Absent for External Client Apps, whose policy fields are not read.` + cached + `
# TYPE salesforce_connected_app_refresh_token_policy gauge
salesforce_connected_app_refresh_token_policy{app="Idle Sync",app_id="0H4000000000002AAA",org="test",policy="absolute_expiry"} 0
salesforce_connected_app_refresh_token_policy{app="Idle Sync",app_id="0H4000000000002AAA",org="test",policy="idle_expiry"} 1
salesforce_connected_app_refresh_token_policy{app="Idle Sync",app_id="0H4000000000002AAA",org="test",policy="until_revoked"} 0
salesforce_connected_app_refresh_token_policy{app="Open Loader",app_id="0H4000000000001AAA",org="test",policy="absolute_expiry"} 0
salesforce_connected_app_refresh_token_policy{app="Open Loader",app_id="0H4000000000001AAA",org="test",policy="idle_expiry"} 0
salesforce_connected_app_refresh_token_policy{app="Open Loader",app_id="0H4000000000001AAA",org="test",policy="until_revoked"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_refresh_token_policy"); err != nil {
		t.Error(err)
	}
	for name, n := range map[string]int{
		"salesforce_connected_app_token_holders_with_permission":       6, // one app's six permissions
		"salesforce_connected_app_tokens_beyond_policy":                1,
		"salesforce_connected_app_refresh_token_validity_max_seconds":  1, // not for valid until revoked
		"salesforce_connected_app_posture_change_timestamp_seconds":    1,
		"salesforce_org_users_with_permission":                         1, // not where the field is missing
		"salesforce_org_permission_known":                              3,
		"salesforce_org_permission_holders_increase_timestamp_seconds": 1,
		"salesforce_connected_app_high_assurance_required":             1,
	} {
		if got := testutil.CollectAndCount(c, name); got != n {
			t.Errorf("%s: %d series, want %d", name, got, n)
		}
	}
	wantMax := `
# HELP salesforce_connected_app_refresh_token_validity_max_seconds The longest the connected app's refresh token policy lets a token live (or stay idle): RefreshTokenValidityPeriod read in months of 31 days, since the API does not say whether the app's page set hours, days or months. Absent when tokens are valid until revoked.` + cached + `
# TYPE salesforce_connected_app_refresh_token_validity_max_seconds gauge
salesforce_connected_app_refresh_token_validity_max_seconds{app="Idle Sync",app_id="0H4000000000002AAA",org="test"} 5.3568e+06
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantMax), "salesforce_connected_app_refresh_token_validity_max_seconds"); err != nil {
		t.Error(err)
	}
}
