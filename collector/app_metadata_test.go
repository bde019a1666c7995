package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The app_metadata series: every scope class of an app with OAuth settings,
// every IP policy of an app read, and the org's known flag, 0 while the
// source is off, with no scope series at all (unknown is never 0). A scope
// change shows in the posture change metric without the posture source.
func TestAppMetadataSeries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	risky := snapshot.ScopesOf([]string{"Full", "RefreshToken"})
	snap := &snapshot.Snapshot{Org: "test", Taken: now, Sources: map[string]snapshot.SourceStatus{config.SourceAppMetadata: {Enabled: true, Up: true}},
		Metadata: &snapshot.OrgMetadata{Apps: 2, Calls: 2},
		Apps: []snapshot.AppUsage{
			{Name: "Loader", ID: "0H4000000000001AAA", Kind: snapshot.KindConnectedApp, Installed: true, Posture: &snapshot.AppPosture{
				HasMetadata: true, HasOAuth: true, Scopes: risky, IPPolicy: "relax",
				Changes: map[string]int64{"gained_full_scope": now.Unix()},
			}},
			{Name: "SAML", ID: "0H4000000000002AAA", Kind: snapshot.KindConnectedApp, Installed: true, Posture: &snapshot.AppPosture{HasMetadata: true, IPPolicy: "unknown"}},
			{Name: "Unread", ID: "0H4000000000003AAA", Kind: snapshot.KindConnectedApp, Installed: true},
		}}
	c := New(stubSource{snap})
	var want strings.Builder
	want.WriteString("# HELP salesforce_connected_app_oauth_scope " + descHelp(descOAuthScope) + "\n# TYPE salesforce_connected_app_oauth_scope gauge\n")
	for _, class := range []string{"api", "cdp", "chatter_api", "content", "custom_permissions", "full", "lightning", "openid", "other", "pardot", "refresh_token", "visualforce", "wave_api", "web"} {
		v := "0"
		if class == "full" || class == "refresh_token" {
			v = "1"
		}
		want.WriteString(`salesforce_connected_app_oauth_scope{app="Loader",app_id="0H4000000000001AAA",org="test",scope="` + class + `"} ` + v + "\n")
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want.String()), "salesforce_connected_app_oauth_scope"); err != nil {
		t.Error(err)
	}
	for name, n := range map[string]int{
		"salesforce_connected_app_ip_relaxation":                    10, // two apps' five policies
		"salesforce_org_app_metadata_known":                         1,
		"salesforce_connected_app_posture_change_timestamp_seconds": 1,
	} {
		if got := testutil.CollectAndCount(c, name); got != n {
			t.Errorf("%s: %d series, want %d", name, got, n)
		}
	}
	// The source off: known is 0, and no scope is reported.
	off := &snapshot.Snapshot{Org: "test", Taken: now, Sources: map[string]snapshot.SourceStatus{config.SourceApps: {Enabled: true, Up: true}},
		Apps: []snapshot.AppUsage{{Name: "Unread", ID: "0H4000000000003AAA", Kind: snapshot.KindConnectedApp, Installed: true}}}
	c = New(stubSource{off})
	wantOff := "# HELP salesforce_org_app_metadata_known " + descHelp(descMetadataKnown) + "\n# TYPE salesforce_org_app_metadata_known gauge\nsalesforce_org_app_metadata_known{org=\"test\"} 0\n"
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantOff), "salesforce_org_app_metadata_known"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "salesforce_connected_app_oauth_scope"); n != 0 {
		t.Errorf("%d scope series while unknown, want none", n)
	}
}
