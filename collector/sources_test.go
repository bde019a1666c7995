package collector

import (
	"maps"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestCollectorVisibilityAndSkippedRows: per-source visibility is emitted
// only where known, and the skipped-row counter once api_usage has run.
func TestCollectorVisibilityAndSkippedRows(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Visibility = map[string]snapshot.Visibility{
		"sessions":     {Limited: true, Missing: "Manage Users"},
		"logins":       {},
		"oauth_tokens": {},
	}
	s.HasAPIUsageScan, s.APIUsageRowsSkipped = true, 3
	s.HasECAStatus, s.ECAsDegraded = true, 2
	c := New(stubSource{s})
	want := `
# HELP salesforce_source_visibility_limited 1 when the integration user sees only its own rows of the source's object, for want of a permission (sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application, or View All Users for its deactivated-user figures): the source's numbers would look like a quiet org. Absent when the permissions could not be read (salesforce_source_visibility says unverified). Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds.
# TYPE salesforce_source_visibility_limited gauge
salesforce_source_visibility_limited{org="prod",source="logins"} 0
salesforce_source_visibility_limited{org="prod",source="oauth_tokens"} 0
salesforce_source_visibility_limited{org="prod",source="sessions"} 1
# HELP salesforce_api_usage_rows_skipped_total Malformed ApiTotalUsage rows (short, oversized, or with a bad STATUS_CODE) left out of the API usage counts since the exporter started; the rest of each file counts.
# TYPE salesforce_api_usage_rows_skipped_total counter
salesforce_api_usage_rows_skipped_total{org="prod"} 3
# HELP salesforce_external_client_apps_degraded External Client Apps whose users or tokens could not be read at the latest refresh (an error about that app only): their figures are the last good ones, or absent if there were none; the log names them. Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds.
# TYPE salesforce_external_client_apps_degraded gauge
salesforce_external_client_apps_degraded{org="prod"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_source_visibility_limited", "salesforce_api_usage_rows_skipped_total", "salesforce_external_client_apps_degraded"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	// Unknown visibility and no api_usage run: no series.
	s2 := testSnapshot()
	if n := testutil.CollectAndCount(New(stubSource{s2}), "salesforce_source_visibility_limited", "salesforce_api_usage_rows_skipped_total", "salesforce_external_client_apps_degraded"); n != 0 {
		t.Errorf("%d series without data, want 0", n)
	}
}

// TestCollectorVisibilityStates: salesforce_source_visibility has one
// series per state, 1 for the source's; an unverified source is never full,
// and the older limited gauge leaves it out rather than say 0.
func TestCollectorVisibilityStates(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Visibility = map[string]snapshot.Visibility{
		"sessions":     {Unverified: true, Missing: "View Setup and Configuration"},
		"logins":       {},
		"oauth_tokens": {Limited: true, Missing: "View All Users"},
	}
	c := New(stubSource{s})
	want := `
# HELP salesforce_source_visibility_limited 1 when the integration user sees only its own rows of the source's object, for want of a permission (sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application, or View All Users for its deactivated-user figures): the source's numbers would look like a quiet org. Absent when the permissions could not be read (salesforce_source_visibility says unverified). Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds.
# TYPE salesforce_source_visibility_limited gauge
salesforce_source_visibility_limited{org="prod",source="logins"} 0
salesforce_source_visibility_limited{org="prod",source="oauth_tokens"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_source_visibility_limited"); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	mfs, err := gatherFrom(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "salesforce_source_visibility" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var src, vis string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "source":
					src = l.GetValue()
				case "visibility":
					vis = l.GetValue()
				}
			}
			got[src+"/"+vis] = m.GetGauge().GetValue()
		}
	}
	wantStates := map[string]float64{
		"sessions/full": 0, "sessions/limited": 0, "sessions/unverified": 1,
		"logins/full": 1, "logins/limited": 0, "logins/unverified": 0,
		"oauth_tokens/full": 0, "oauth_tokens/limited": 1, "oauth_tokens/unverified": 0,
	}
	if !maps.Equal(wantStates, got) {
		t.Errorf("salesforce_source_visibility = %v, want %v", got, wantStates)
	}
}

func gatherFrom(c prometheus.Collector) ([]*dto.MetricFamily, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return reg.Gather()
}
