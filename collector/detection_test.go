package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestDetectionMetrics: one series per sensitive object and per IOC list
// (0 when the list has no match), none for an app without figures, and the
// registry's pedantic checks hold.
func TestDetectionMetrics(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Detection = &snapshot.DetectionInfo{SensitiveObjects: []string{"User", "Account"}, IOCLists: []string{"campaigns-2025", "tor"}, DroppedRows: 3}
	s.Apps[0].Detection = &detect.AppFigures{BaselineStart: time.Unix(1_779_000_000, 0), BaselineReady: true, Networks: 8, RequestsFromNewNetworks: 500, NewObjects: 2,
		ObjectRequests: []int64{300, 250}, ObjectRequestsFromNewNetworks: []int64{250, 250}, NewObjectRequests: []int64{250, 0},
		IOCRequests: map[string]int64{"tor": 7}, LoginsFromNewNetworks: 1, IOCLogins: map[string]int64{"campaigns-2025": 1}}
	c := New(stubSource{s})
	want := `
# HELP salesforce_connected_app_api_object_requests_from_new_networks API requests of the app to each sensitive object from networks it had never used. Over the 24 hours ending at salesforce_api_usage_data_end_timestamp_seconds (ApiTotalUsage CLIENT_IP, ENTITY_NAME). A network or object is new when first seen in the window; nothing counts as new until the app has been watched for detection.min_baseline (default 7 days).` + cached + `
# TYPE salesforce_connected_app_api_object_requests_from_new_networks gauge
salesforce_connected_app_api_object_requests_from_new_networks{app="Data Loader",app_id="0H4000000000001AAA",object="Account",org="prod"} 250
salesforce_connected_app_api_object_requests_from_new_networks{app="Data Loader",app_id="0H4000000000001AAA",object="User",org="prod"} 250
# HELP salesforce_connected_app_api_requests_matching_ioc API requests of the app from addresses on each IOC list (detection.ioc_lists). Over the 24 hours ending at salesforce_api_usage_data_end_timestamp_seconds (ApiTotalUsage CLIENT_IP, ENTITY_NAME).` + cached + `
# TYPE salesforce_connected_app_api_requests_matching_ioc gauge
salesforce_connected_app_api_requests_matching_ioc{app="Data Loader",app_id="0H4000000000001AAA",list="campaigns-2025",org="prod"} 0
salesforce_connected_app_api_requests_matching_ioc{app="Data Loader",app_id="0H4000000000001AAA",list="tor",org="prod"} 7
# HELP salesforce_exporter_detection_dropped_rows_total ApiTotalUsage rows and logins the detection baseline ignored because the org has more apps than it tracks (5000).
# TYPE salesforce_exporter_detection_dropped_rows_total counter
salesforce_exporter_detection_dropped_rows_total{org="prod"} 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_api_object_requests_from_new_networks", "salesforce_connected_app_api_requests_matching_ioc", "salesforce_exporter_detection_dropped_rows_total"); err != nil {
		t.Fatal(err)
	}
	// Not ready: the new-network figures are 0 because nothing counts as
	// new yet, and the alerts' history must leave them out.
	s.Apps[1].Detection = &detect.AppFigures{BaselineStart: time.Unix(1_779_500_000, 0), Networks: 3}
	ready := `
# HELP salesforce_connected_app_api_baseline_ready 1 when the app's network and object baseline started detection.min_baseline (default 7 days) before the window: only then does anything count as new, so the from_new_networks and new_object figures are 0 before, not because nothing is new.
# TYPE salesforce_connected_app_api_baseline_ready gauge
salesforce_connected_app_api_baseline_ready{app="Data Loader",app_id="0H4000000000001AAA",org="prod"} 1
salesforce_connected_app_api_baseline_ready{app="` + s.Apps[1].Name + `",app_id="` + s.Apps[1].ID + `",org="prod"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(ready), "salesforce_connected_app_api_baseline_ready"); err != nil {
		t.Fatal(err)
	}
	s.Apps[1].Detection = nil
	if n := testutil.CollectAndCount(c, "salesforce_connected_app_api_client_networks"); n != 1 {
		t.Fatalf("%d network series, want 1 (apps without figures get none)", n)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic gather: %v", err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

// The baseline's reset is one org series with its reason, absent when the
// baseline was restored.
func TestDetectionResetMetric(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Detection = &snapshot.DetectionInfo{}
	c := New(stubSource{s})
	if n := testutil.CollectAndCount(c, "salesforce_exporter_detection_baseline_reset_timestamp_seconds"); n != 0 {
		t.Fatalf("a restored baseline has %d reset series, want none", n)
	}
	s.DetectionReset = snapshot.DetectionReset{At: time.Unix(1_779_000_000, 500_000_000), Reason: snapshot.DetectionResetSetAside}
	want := `
# HELP salesforce_exporter_detection_baseline_reset_timestamp_seconds ` + descHelp(descDetectReset) + `
# TYPE salesforce_exporter_detection_baseline_reset_timestamp_seconds gauge
salesforce_exporter_detection_baseline_reset_timestamp_seconds{org="prod",reason="set_aside"} 1.7790000005e+09
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_exporter_detection_baseline_reset_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
}
