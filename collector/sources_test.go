package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
)

// TestCollectorVisibilityAndSkippedRows: per-source visibility is emitted
// only where known, and the skipped-row counter once api_usage has run.
func TestCollectorVisibilityAndSkippedRows(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Visibility = map[string]refresh.Visibility{
		"sessions":     {Limited: true, Missing: "Manage Users"},
		"logins":       {},
		"oauth_tokens": {},
	}
	s.HasAPIUsageScan, s.APIUsageRowsSkipped = true, 3
	s.HasECAStatus, s.ECAsDegraded = true, 2
	c := New(stubSource{s})
	want := `
# HELP salesforce_source_visibility_limited 1 when the integration user sees only its own rows of the source's object, for want of a permission (sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application): the source's numbers would look like a quiet org. Absent when the permissions could not be read. Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds.
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
