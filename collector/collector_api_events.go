package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The api_events source's metrics: how much it read of the stored API
// events (ApiEvent), and how far it has come. Its events feed the
// detection baseline, whose per-app figures are in collector_detection.go.
var (
	descAPIEventsRead = prometheus.NewDesc("salesforce_api_events_read_total",
		"Stored API events (ApiEvent) read and handed to the detection baseline since the exporter started; rows read again in the overlap are not counted."+cached,
		[]string{"org"}, nil)
	descAPIEventsCapped = prometheus.NewDesc("salesforce_api_events_capped_reads_total",
		"Reads of ApiEvent cut short at the bound of rows per refresh since the exporter started: the baseline runs behind until later refreshes catch up."+cached,
		[]string{"org"}, nil)
	descAPIEventsLast = prometheus.NewDesc("salesforce_api_events_last_event_timestamp_seconds",
		"EventDate of the newest stored API event (ApiEvent) read; absent before the first."+cached,
		[]string{"org"}, nil)
	descAPIEventsAppRequests = prometheus.NewDesc("salesforce_api_events_app_requests_total",
		"Stored API events (ApiEvent) of the connected app read since the exporter started; an event without ConnectedAppId counts under its Application name, with app_id empty."+cached,
		[]string{"org", "app", "app_id"}, nil)
	descAPIEventsAppRows = prometheus.NewDesc("salesforce_api_events_app_rows_processed_total",
		"Sum of RowsProcessed of the connected app's stored API events (ApiEvent) read since the exporter started."+cached,
		[]string{"org", "app", "app_id"}, nil)
	descAPIEventsAppsFolded = prometheus.NewDesc("salesforce_api_events_app_events_folded_total",
		"Stored API events of apps past the 5,000 the api_events source keeps figures of: counted here, not per app."+cached,
		[]string{"org"}, nil)
)

var apiEventsMetrics = metricSet{
	descs: []*prometheus.Desc{descAPIEventsRead, descAPIEventsCapped, descAPIEventsLast, descAPIEventsAppRequests, descAPIEventsAppRows, descAPIEventsAppsFolded},
	org:   collectAPIEvents,
}

func collectAPIEvents(e *emitter, s *snapshot.Snapshot) {
	a := s.APIEvents
	if a == nil {
		return
	}
	e.counter(descAPIEventsRead, float64(a.Read), e.org)
	e.counter(descAPIEventsCapped, float64(a.CappedReads), e.org)
	if !a.LastEvent.IsZero() {
		e.gauge(descAPIEventsLast, float64(a.LastEvent.Unix()), e.org)
	}
	seen := make(map[string]bool, len(a.Apps))
	for _, app := range a.Apps {
		if !e.first(seen, app.Name, app.ID) {
			continue
		}
		e.counter(descAPIEventsAppRequests, float64(app.Requests), e.org, app.Name, app.ID)
		e.counter(descAPIEventsAppRows, app.RowsProcessed, e.org, app.Name, app.ID)
	}
	e.counter(descAPIEventsAppsFolded, float64(a.AppsFolded), e.org)
}
