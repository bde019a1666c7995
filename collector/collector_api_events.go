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
)

var apiEventsMetrics = metricSet{
	descs: []*prometheus.Desc{descAPIEventsRead, descAPIEventsCapped, descAPIEventsLast},
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
}
