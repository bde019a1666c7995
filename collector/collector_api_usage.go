package collector

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The api_usage source's metrics (ApiTotalUsage). Its detection figures are
// in collector_detection.go.
var (
	descAPIRequests = prometheus.NewDesc("salesforce_connected_app_api_requests",
		"ApiTotalUsage events for the app in the window ending at salesforce_api_usage_data_end_timestamp_seconds. Requests without a connected app count under app=\"(none)\"."+cached, []string{"org", "app", "app_id", "window"}, nil)
	descAPIErrors = prometheus.NewDesc("salesforce_connected_app_api_errors",
		"ApiTotalUsage events for the app with STATUS_CODE >= 400, in the window ending at salesforce_api_usage_data_end_timestamp_seconds."+cached, []string{"org", "app", "app_id", "window"}, nil)
	descAPIRequestsDailyMax = prometheus.NewDesc("salesforce_connected_app_api_requests_daily_max",
		"The app's busiest UTC day of ApiTotalUsage events over the window's days before the 24h window (the exporter's daily history, kept in its state file): its recent high-water mark, which an API surge is judged against; absent until a day of the window is in the history."+cached, []string{"org", "app", "app_id", "window"}, nil)
	descAPIRequestsByFamily = prometheus.NewDesc("salesforce_connected_app_api_requests_by_family",
		"ApiTotalUsage events for the app in the window ending at salesforce_api_usage_data_end_timestamp_seconds, by API family: bulk (Bulk API 1.0: API_FAMILY Bulk or an /async/ API_RESOURCE), bulk2 (Bulk API 2.0: a /jobs/ingest or /jobs/query API_RESOURCE), rest, soap, apex_rest, other (a value the exporter does not know), unknown (no API_FAMILY). Only the families the app used have a series; absent when the files have no API_FAMILY or API_RESOURCE."+cached, []string{"org", "app", "app_id", "family", "window"}, nil)
	descUsageFamilyReadable = prometheus.NewDesc("salesforce_api_usage_family_readable",
		"1 when an ApiTotalUsage file in the 24h window has API_FAMILY or API_RESOURCE, so salesforce_connected_app_api_requests_by_family is known; else 0.", []string{"org"}, nil)
	descUsageEnd = prometheus.NewDesc("salesforce_api_usage_data_end_timestamp_seconds",
		"End of the newest ApiTotalUsage log period ingested, as Unix seconds: the windows of salesforce_connected_app_api_requests end here.", []string{"org"}, nil)
	descUsageStart = prometheus.NewDesc("salesforce_api_usage_data_start_timestamp_seconds",
		"Start of the oldest ApiTotalUsage data inside the 7d window, as Unix seconds: with salesforce_api_usage_data_end_timestamp_seconds it says how much history the 7d window really holds (less after a fresh start, since free orgs keep log files a day).", []string{"org"}, nil)
	descUsageRowsSkipped = prometheus.NewDesc("salesforce_api_usage_rows_skipped_total",
		"Malformed ApiTotalUsage rows (short, oversized, or with a bad STATUS_CODE) left out of the API usage counts since the exporter started; the rest of each file counts.", []string{"org"}, nil)
	descUsageRowsFolded = prometheus.NewDesc("salesforce_api_usage_rows_folded_total",
		"ApiTotalUsage rows past a per-file cap since the exporter started, by cap: apps (rows of apps past 1000 a file or the usage state's bound: in no app's request counts), networks and objects (rows of networks or objects past the detection's staging caps: counted as requests, and a folded network's as new, but in neither the baseline nor the evidence). The log names each file and cap.", []string{"org", "cap"}, nil)
)

// highWaterWindow is the window label of the high-water marks.
var highWaterWindow = fmt.Sprintf("%dd", snapshot.HighWaterDays)

var apiUsageMetrics = metricSet{
	descs: []*prometheus.Desc{descAPIRequests, descAPIErrors, descAPIRequestsDailyMax, descUsageEnd, descUsageStart, descUsageRowsSkipped, descUsageRowsFolded, descAPIRequestsByFamily, descUsageFamilyReadable},
	org:   collectUsageScan,
	app:   collectAppUsage,
}

func collectUsageScan(e *emitter, s *snapshot.Snapshot) {
	if s.HasAPIUsageScan {
		e.counter(descUsageRowsSkipped, float64(s.APIUsageRowsSkipped), e.org)
		f := s.APIUsageRowsFolded
		for _, c := range []struct {
			name string
			n    int64
		}{{"apps", f.Apps}, {"networks", f.Networks}, {"objects", f.Objects}} {
			e.counter(descUsageRowsFolded, float64(c.n), e.org, c.name)
		}
	}
	if !s.APIUsageEnd.IsZero() {
		e.gauge(descUsageFamilyReadable, b2f(s.APIFamilyReadable), e.org)
		e.gauge(descUsageEnd, float64(s.APIUsageEnd.Unix()), e.org)
		e.gauge(descUsageStart, float64(s.APIUsageStart.Unix()), e.org)
	}
}

func collectAppUsage(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	if a.HasAPIUsage {
		e.gauge(descAPIRequests, float64(a.Requests24h), e.org, a.Name, a.ID, "24h")
		e.gauge(descAPIRequests, float64(a.Requests7d), e.org, a.Name, a.ID, "7d")
		e.gauge(descAPIErrors, float64(a.Errors24h), e.org, a.Name, a.ID, "24h")
		e.gauge(descAPIErrors, float64(a.Errors7d), e.org, a.Name, a.ID, "7d")
	}
	if a.HasAPIFamilies {
		for f := range a.RequestsByFamily7d {
			// A family the app used in the 7d window has both series.
			if a.RequestsByFamily7d[f] > 0 || a.RequestsByFamily24h[f] > 0 {
				name := salesforce.APIFamily(f).String()
				e.gauge(descAPIRequestsByFamily, float64(a.RequestsByFamily24h[f]), e.org, a.Name, a.ID, name, "24h")
				e.gauge(descAPIRequestsByFamily, float64(a.RequestsByFamily7d[f]), e.org, a.Name, a.ID, name, "7d")
			}
		}
	}
	if a.HighWater.HasRequests {
		e.gauge(descAPIRequestsDailyMax, float64(a.HighWater.Requests), e.org, a.Name, a.ID, highWaterWindow)
	}
}
