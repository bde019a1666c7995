package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The stream source's metrics: its health per topic, and the live per-app
// figures of the ApiEventStream events it handled since the exporter
// started. The events also feed the detection baseline, whose figures are
// in collector_detection.go.
const streamCached = " As of the latest drain of the stream (every few seconds)."

var (
	descStreamConnected = prometheus.NewDesc("salesforce_stream_connected",
		"1 while the org's Pub/Sub subscription to the topic is open and answering, else 0."+streamCached, []string{"org", "topic"}, nil)
	descStreamEvents = prometheus.NewDesc("salesforce_stream_events_total",
		"Events of the topic handled since the exporter started (undecodable ones excepted)."+streamCached, []string{"org", "topic"}, nil)
	descStreamDecodeErrors = prometheus.NewDesc("salesforce_stream_decode_errors_total",
		"Events of the topic that could not be decoded (too large, unknown schema, payload not matching it) and were skipped."+streamCached, []string{"org", "topic"}, nil)
	descStreamReconnects = prometheus.NewDesc("salesforce_stream_reconnects_total",
		"Subscriptions to the topic that ended and were reopened from the last handled position."+streamCached, []string{"org", "topic"}, nil)
	descStreamReplayGaps = prometheus.NewDesc("salesforce_stream_replay_gaps_total",
		"Stored replay positions the service refused (older than its 72-hour retention), or that the state file held unreadable: each is a stretch of events the exporter never saw."+streamCached, []string{"org", "topic"}, nil)
	descStreamLastGap = prometheus.NewDesc("salesforce_stream_last_replay_gap_timestamp_seconds",
		"When the topic's stored replay position was last refused by the service or found unreadable (a gap); 0 before the first since the exporter started."+streamCached, []string{"org", "topic"}, nil)
	descStreamLastEvent = prometheus.NewDesc("salesforce_stream_last_event_timestamp_seconds",
		"EventDate of the newest event of the topic handled; absent before the first."+streamCached, []string{"org", "topic"}, nil)
	descStreamAppRequests = prometheus.NewDesc("salesforce_stream_app_requests_total",
		"API events (ApiEventStream) of the connected app handled since the exporter started."+streamCached, []string{"org", "app", "app_id"}, nil)
	descStreamAppRows = prometheus.NewDesc("salesforce_stream_app_rows_processed_total",
		"Sum of RowsProcessed of the connected app's API events (ApiEventStream) handled since the exporter started."+streamCached, []string{"org", "app", "app_id"}, nil)
	descStreamAppsFolded = prometheus.NewDesc("salesforce_stream_app_events_folded_total",
		"API events of apps past the 5,000 the stream keeps live figures of: counted here, not per app."+streamCached, []string{"org"}, nil)
)

var streamMetrics = metricSet{
	descs: []*prometheus.Desc{descStreamConnected, descStreamEvents, descStreamDecodeErrors, descStreamReconnects, descStreamReplayGaps,
		descStreamLastGap, descStreamLastEvent, descStreamAppRequests, descStreamAppRows, descStreamAppsFolded},
	org: collectStream,
}

func collectStream(e *emitter, s *snapshot.Snapshot) {
	st := s.Stream
	if st == nil {
		return
	}
	for _, t := range st.Topics {
		e.gauge(descStreamConnected, b2f(t.Connected), e.org, t.Topic)
		e.counter(descStreamEvents, float64(t.Events), e.org, t.Topic)
		e.counter(descStreamDecodeErrors, float64(t.DecodeErrors), e.org, t.Topic)
		e.counter(descStreamReconnects, float64(t.Reconnects), e.org, t.Topic)
		e.counter(descStreamReplayGaps, float64(t.ReplayGaps), e.org, t.Topic)
		gap := 0.0
		if !t.LastGap.IsZero() {
			gap = float64(t.LastGap.Unix())
		}
		e.gauge(descStreamLastGap, gap, e.org, t.Topic)
		if !t.LastEvent.IsZero() {
			e.gauge(descStreamLastEvent, float64(t.LastEvent.UnixMilli())/1000, e.org, t.Topic)
		}
	}
	seen := make(map[string]bool, len(st.Apps))
	for _, a := range st.Apps {
		if !e.first(seen, a.Name, a.ID) {
			continue
		}
		e.counter(descStreamAppRequests, float64(a.Requests), e.org, a.Name, a.ID)
		e.counter(descStreamAppRows, a.RowsProcessed, e.org, a.Name, a.ID)
	}
	e.counter(descStreamAppsFolded, float64(st.AppsFolded), e.org)
}
