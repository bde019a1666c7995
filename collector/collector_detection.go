package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The detection metrics: where each app's API requests and OAuth logins come
// from and what they touch (snapshot/detection.go, detect/). No label names a
// user or an address.
const detectWindow = " Over the 24 hours ending at salesforce_api_usage_data_end_timestamp_seconds (ApiTotalUsage CLIENT_IP, ENTITY_NAME)."

const newRule = " A network or object is new when first seen in the window; nothing counts as new until the app has been watched for detection.min_baseline (default 7 days)."

var (
	objectLabels   = []string{"org", "app", "app_id", "object"}
	listLabels     = []string{"org", "app", "app_id", "list"}
	evidenceLabels = []string{"org", "app", "app_id", "evidence"}

	descNetworks = prometheus.NewDesc("salesforce_connected_app_api_client_networks",
		"Distinct client networks (IPv4 /24, IPv6 /48 by default; \"Salesforce.com IP\" and empty addresses one each) of the app's API requests."+detectWindow+cached, appLabels, nil)
	descFromNewNetworks = prometheus.NewDesc("salesforce_connected_app_api_requests_from_new_networks",
		"API requests of the app from networks it had never used."+detectWindow+newRule+cached, appLabels, nil)
	descNewObjects = prometheus.NewDesc("salesforce_connected_app_api_new_objects",
		"Objects (ENTITY_NAME) the app touched for the first time."+detectWindow+newRule+cached, appLabels, nil)
	descObjectRequests = prometheus.NewDesc("salesforce_connected_app_api_object_requests",
		"API requests of the app to each sensitive object (detection.sensitive_objects)."+detectWindow+cached, objectLabels, nil)
	descObjectFromNew = prometheus.NewDesc("salesforce_connected_app_api_object_requests_from_new_networks",
		"API requests of the app to each sensitive object from networks it had never used."+detectWindow+newRule+cached, objectLabels, nil)
	descNewObjectRequests = prometheus.NewDesc("salesforce_connected_app_api_new_object_requests",
		"API requests of the app to a sensitive object it touched for the first time."+detectWindow+newRule+cached, objectLabels, nil)
	descAPIIOC = prometheus.NewDesc("salesforce_connected_app_api_requests_matching_ioc",
		"API requests of the app from addresses on each IOC list (detection.ioc_lists)."+detectWindow+cached, listLabels, nil)
	descLoginsFromNew = prometheus.NewDesc("salesforce_connected_app_oauth_logins_from_new_networks",
		"OAuth logins (LoginHistory SourceIp) to the app in the last 24 hours from networks it had never used."+newRule+cached, appLabels, nil)
	descLoginUsers = prometheus.NewDesc("salesforce_connected_app_oauth_login_users",
		"Distinct users (LoginHistory UserId) with an OAuth login to the app in the last 24 hours."+cached, appLabels, nil)
	descLoginUsersFromNew = prometheus.NewDesc("salesforce_connected_app_oauth_login_users_from_new_networks",
		"Distinct users (LoginHistory UserId) with an OAuth login to the app in the last 24 hours from networks it had never used: one user of many is a traveller, the app's one integration user a move or a replay."+newRule+cached, appLabels, nil)
	descLoginsIOC = prometheus.NewDesc("salesforce_connected_app_oauth_logins_matching_ioc",
		"OAuth logins (LoginHistory SourceIp) to the app in the last 24 hours from addresses on each IOC list (detection.ioc_lists)."+cached, listLabels, nil)
	descBaselineStart = prometheus.NewDesc("salesforce_connected_app_api_baseline_start_timestamp_seconds",
		"When the exporter's network and object baseline of the app starts (its oldest data), as Unix seconds; kept across restarts in the state file.", appLabels, nil)
	descBaselineReady = prometheus.NewDesc("salesforce_connected_app_api_baseline_ready",
		"1 when the app's network and object baseline started detection.min_baseline (default 7 days) before the window: only then does anything count as new, so the from_new_networks and new_object figures are 0 before, not because nothing is new.", appLabels, nil)
	descNewNetworkShare = prometheus.NewDesc("salesforce_connected_app_api_new_network_request_share",
		"Share (0 to 1) of the app's API requests from networks it had never used, or held since a flagged day; present once its baseline is ready."+detectWindow+newRule+cached, appLabels, nil)
	descUsualShare = prometheus.NewDesc("salesforce_connected_app_api_new_network_usual_request_share",
		"The app's usual share (0 to 1) of API requests from new networks: its highest daily share over the days that feed its baseline (kept in the state file; not the app's first day, flagged days or held days); present once its baseline is ready and has such a day."+cached, appLabels, nil)
	descUsualDays = prometheus.NewDesc("salesforce_connected_app_api_baseline_usual_daily_records",
		"Daily records (at most 28 kept) the app's usual figures are taken over: all but its first day's, the window's own day's, and those of days flagged or held."+cached, appLabels, nil)
	descEvidence = prometheus.NewDesc("salesforce_connected_app_api_new_network_evidence",
		"1 when the evidence corroborates the app's requests from new networks, judged by the exporter against the app's usual figures: new_objects (objects it had never read), sensitive_share (a sensitive object's share of the requests from new networks 0.1 above its usual share), ioc (requests from an IOC list's addresses), surge (requests over twice its busiest usual day); present when requests came from new networks and the usual figures are known."+detectWindow+cached, evidenceLabels, nil)
	descHoldStart = prometheus.NewDesc("salesforce_connected_app_api_new_network_hold_start_timestamp_seconds",
		"Start of the window of the app's first flagged day (requests from new networks over twice its usual share), as Unix seconds, while the hold lasts (detection.min_baseline): networks first seen since count as new, and its days do not feed its usual figures."+cached, appLabels, nil)
	descDetectReset = prometheus.NewDesc("salesforce_exporter_detection_baseline_reset_timestamp_seconds",
		"When this process started the org's detection baseline from nothing (Unix seconds), by reason: set_aside (the state file was unreadable), unreadable_version (the baseline in it was unreadable: a layout this version does not know) or no_state (no baseline to restore: a first start, or a storage folder lost, not kept or not shared). Nothing counts as new for detection.min_baseline after it. Absent when the baseline was restored from the state file.", []string{"org", "reason"}, nil)
	descDetectDropped = prometheus.NewDesc("salesforce_exporter_detection_dropped_rows_total",
		"ApiTotalUsage rows and logins the detection baseline ignored because the org has more apps than it tracks (5000).", []string{"org"}, nil)
)

// detectionMetrics are the detection's metrics, fed by the api_usage and
// logins sources.
var detectionMetrics = metricSet{
	descs: []*prometheus.Desc{descNetworks, descFromNewNetworks, descNewObjects, descObjectRequests, descObjectFromNew,
		descNewObjectRequests, descAPIIOC, descLoginsFromNew, descLoginUsers, descLoginUsersFromNew, descLoginsIOC, descBaselineStart, descBaselineReady, descDetectDropped, descDetectReset,
		descNewNetworkShare, descUsualShare, descUsualDays, descEvidence, descHoldStart},
	org: collectDetectionDropped,
	app: collectAppDetection,
}

// collectDetectionDropped emits the rows the detection baseline ignored,
// and when and why the baseline started from nothing.
func collectDetectionDropped(e *emitter, s *snapshot.Snapshot) {
	if s.Detection != nil {
		e.counter(descDetectDropped, float64(s.Detection.DroppedRows), e.org)
	}
	if r := s.DetectionReset; r.Reason != "" {
		e.gauge(descDetectReset, float64(r.At.UnixMilli())/1000, e.org, r.Reason)
	}
}

// collectAppDetection emits one app's detection figures, when the snapshot
// has a detection baseline and it has seen the app.
func collectAppDetection(e *emitter, s *snapshot.Snapshot, a *snapshot.AppUsage) {
	d, f := s.Detection, a.Detection
	if d == nil || f == nil {
		return
	}
	if !f.BaselineStart.IsZero() {
		e.gauge(descBaselineStart, float64(f.BaselineStart.Unix()), e.org, a.Name, a.ID)
	}
	e.gauge(descBaselineReady, b2f(f.BaselineReady), e.org, a.Name, a.ID)
	e.gauge(descNetworks, float64(f.Networks), e.org, a.Name, a.ID)
	e.gauge(descFromNewNetworks, float64(f.RequestsFromNewNetworks), e.org, a.Name, a.ID)
	e.gauge(descNewObjects, float64(f.NewObjects), e.org, a.Name, a.ID)
	e.gauge(descLoginsFromNew, float64(f.LoginsFromNewNetworks), e.org, a.Name, a.ID)
	e.gauge(descLoginUsers, float64(f.LoginUsers), e.org, a.Name, a.ID)
	e.gauge(descLoginUsersFromNew, float64(f.LoginNewNetworkUsers), e.org, a.Name, a.ID)
	collectGrading(e, a, f)
	for j, obj := range d.SensitiveObjects {
		e.gauge(descObjectRequests, float64(at(f.ObjectRequests, j)), e.org, a.Name, a.ID, obj)
		e.gauge(descObjectFromNew, float64(at(f.ObjectRequestsFromNewNetworks, j)), e.org, a.Name, a.ID, obj)
		e.gauge(descNewObjectRequests, float64(at(f.NewObjectRequests, j)), e.org, a.Name, a.ID, obj)
	}
	for _, list := range d.IOCLists {
		e.gauge(descAPIIOC, float64(f.IOCRequests[list]), e.org, a.Name, a.ID, list)
		e.gauge(descLoginsIOC, float64(f.IOCLogins[list]), e.org, a.Name, a.ID, list)
	}
}

func at(v []int64, i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// collectGrading emits the app's grading (detect/grade.go): today's share
// of requests from new networks next to its usual share, and the evidence.
func collectGrading(e *emitter, a *snapshot.AppUsage, f *detect.AppFigures) {
	e.gauge(descUsualDays, float64(f.Usual.Days), e.org, a.Name, a.ID)
	if f.Held {
		e.gauge(descHoldStart, float64(f.HeldSince.Unix()), e.org, a.Name, a.ID)
	}
	if !f.BaselineReady {
		return
	}
	if f.Requests > 0 {
		e.gauge(descNewNetworkShare, f.NewNetworkShare(), e.org, a.Name, a.ID)
	}
	if f.Usual.Days > 0 {
		e.gauge(descUsualShare, f.Usual.NewNetworkShare, e.org, a.Name, a.ID)
	}
	for i, ok := range f.Evidence {
		e.gauge(descEvidence, b2f(ok), e.org, a.Name, a.ID, detect.EvidenceKinds[i])
	}
}
