package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The judged counters (detect/days.go): every ApiTotalUsage log period is
// judged once, as its file is read, against the baseline as it then
// stands; a day counts once whatever files cover it. A late or caught-up
// day, which no 24-hour window ever shows, shows in their increase().
const judgedHelp = " Counted as each ApiTotalUsage file is read (a day once, its Daily file replacing its Hourly ones), late or not; kept in the detection state across restarts."

var (
	descRequestsJudged = prometheus.NewDesc("salesforce_connected_app_api_requests_judged_total",
		"API requests of the app in the log periods judged."+judgedHelp, appLabels, nil)
	descNewNetworkJudged = prometheus.NewDesc("salesforce_connected_app_api_new_network_requests_judged_total",
		"API requests of the app from networks new in their log period (first seen in the 24 hours it ends), once its baseline was ready (detection.min_baseline)."+judgedHelp, appLabels, nil)
	descSensitiveNewNetworkJudged = prometheus.NewDesc("salesforce_connected_app_api_sensitive_object_requests_from_new_networks_judged_total",
		"Those of them to a sensitive object (detection.sensitive_objects)."+judgedHelp, appLabels, nil)
	descCorroboratedJudged = prometheus.NewDesc("salesforce_connected_app_api_corroborated_sensitive_requests_from_new_networks_judged_total",
		"Those of them that evidence corroborated as their period was judged, against the app's usual figures then: objects it had never read, a sensitive object's share of the requests from new networks 0.1 above its usual share, an IOC list's addresses, a surge (a Daily period over twice its busiest usual day), or addresses outside the networks its inventory entry declares; 0 for a day judged by a version without this count."+judgedHelp, appLabels, nil)
)

// judgedMetrics are the judged counters, fed by the api_usage source.
var judgedMetrics = metricSet{
	descs: []*prometheus.Desc{descRequestsJudged, descNewNetworkJudged, descSensitiveNewNetworkJudged, descCorroboratedJudged},
	app:   collectAppJudged,
}

// collectAppJudged emits one app's judged counters.
func collectAppJudged(e *emitter, s *snapshot.Snapshot, a *snapshot.AppUsage) {
	f := a.Detection
	if s.Detection == nil || f == nil {
		return
	}
	e.counter(descRequestsJudged, float64(f.RequestsJudged), e.org, a.Name, a.ID)
	e.counter(descNewNetworkJudged, float64(f.RequestsFromNewNetworksJudged), e.org, a.Name, a.ID)
	e.counter(descSensitiveNewNetworkJudged, float64(f.SensitiveRequestsFromNewNetworksJudged), e.org, a.Name, a.ID)
	e.counter(descCorroboratedJudged, float64(f.CorroboratedSensitiveRequestsFromNewNetworksJudged), e.org, a.Name, a.ID)
}
