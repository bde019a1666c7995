package collector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestGradingMetrics: today's share next to the usual share, one evidence
// series per kind, the hold's start; nothing judged for an app whose
// baseline is not ready.
func TestGradingMetrics(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Detection = &snapshot.DetectionInfo{SensitiveObjects: []string{"User", "Account"}}
	s.Apps[0].Detection = &detect.AppFigures{BaselineReady: true, Requests: 10000, RequestsFromNewNetworks: 30,
		ObjectRequests: []int64{10, 3010}, ObjectRequestsFromNewNetworks: []int64{10, 10}, NewObjectRequests: []int64{10, 0},
		Usual: detect.Usual{Days: 6, NewNetworkShare: 0.001}, Held: true, HeldSince: time.Unix(1_779_000_000, 0),
		Evidence: []bool{true, true, false, false}}
	s.Apps[1].Detection = &detect.AppFigures{Requests: 50, RequestsFromNewNetworks: 0, Usual: detect.Usual{Days: 2, NewNetworkShare: 1}}
	c := New(stubSource{s})
	a0 := `app="Data Loader",app_id="0H4000000000001AAA",org="prod"`
	a1 := `app="` + s.Apps[1].Name + `",app_id="` + s.Apps[1].ID + `",org="prod"`
	want := `
# HELP salesforce_connected_app_api_new_network_request_share ` + descHelp(descNewNetworkShare) + `
# TYPE salesforce_connected_app_api_new_network_request_share gauge
salesforce_connected_app_api_new_network_request_share{` + a0 + `} 0.003
# HELP salesforce_connected_app_api_new_network_usual_request_share ` + descHelp(descUsualShare) + `
# TYPE salesforce_connected_app_api_new_network_usual_request_share gauge
salesforce_connected_app_api_new_network_usual_request_share{` + a0 + `} 0.001
# HELP salesforce_connected_app_api_baseline_usual_daily_records ` + descHelp(descUsualDays) + `
# TYPE salesforce_connected_app_api_baseline_usual_daily_records gauge
salesforce_connected_app_api_baseline_usual_daily_records{` + a0 + `} 6
salesforce_connected_app_api_baseline_usual_daily_records{` + a1 + `} 2
# HELP salesforce_connected_app_api_new_network_evidence ` + descHelp(descEvidence) + `
# TYPE salesforce_connected_app_api_new_network_evidence gauge
salesforce_connected_app_api_new_network_evidence{` + strings.Replace(a0, "org=", `evidence="new_objects",org=`, 1) + `} 1
salesforce_connected_app_api_new_network_evidence{` + strings.Replace(a0, "org=", `evidence="sensitive_share",org=`, 1) + `} 1
salesforce_connected_app_api_new_network_evidence{` + strings.Replace(a0, "org=", `evidence="ioc",org=`, 1) + `} 0
salesforce_connected_app_api_new_network_evidence{` + strings.Replace(a0, "org=", `evidence="surge",org=`, 1) + `} 0
# HELP salesforce_connected_app_api_new_network_hold_start_timestamp_seconds ` + descHelp(descHoldStart) + `
# TYPE salesforce_connected_app_api_new_network_hold_start_timestamp_seconds gauge
salesforce_connected_app_api_new_network_hold_start_timestamp_seconds{` + a0 + `} 1.779e+09
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "salesforce_connected_app_api_new_network_request_share",
		"salesforce_connected_app_api_new_network_usual_request_share", "salesforce_connected_app_api_baseline_usual_daily_records",
		"salesforce_connected_app_api_new_network_evidence", "salesforce_connected_app_api_new_network_hold_start_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

// descHelp is a desc's HELP text.
func descHelp(d *prometheus.Desc) string {
	s := d.String()
	i := strings.Index(s, `help: "`)
	rest := s[i+len(`help: `):]
	h, err := strconv.QuotedPrefix(rest)
	if err != nil {
		panic(err)
	}
	h, _ = strconv.Unquote(h)
	return h
}
