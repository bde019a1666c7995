package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The rows processed per app by the sources of API events (the stream and
// the stored API events), from the ledger the exporter keeps in its state
// file: the live 24-hour window and the busiest recent day, for
// SalesforceAppRowsSurge.
var (
	descAppRows24h = prometheus.NewDesc("salesforce_connected_app_rows_processed_24h",
		"Sum of RowsProcessed of the connected app's API events of the last 24 hours (by the hour of their EventDate), as counted by the source (stream or api_events); kept across restarts."+cached,
		[]string{"org", "app", "app_id", "source"}, nil)
	descAppRowsDailyMax = prometheus.NewDesc("salesforce_connected_app_rows_processed_daily_max",
		"The connected app's busiest UTC day of RowsProcessed among the 28 days before the first day the 24-hour window touches, counting only days the source covered whole; absent until the app has one."+cached,
		[]string{"org", "app", "app_id", "source", "window"}, nil)
)

var rowsMetrics = metricSet{
	descs: []*prometheus.Desc{descAppRows24h, descAppRowsDailyMax},
	org:   collectRows,
}

func collectRows(e *emitter, s *snapshot.Snapshot) {
	seen := make(map[string]bool, len(s.Rows))
	for _, r := range s.Rows {
		if !e.first(seen, r.Source, r.Name, r.ID) {
			continue
		}
		e.gauge(descAppRows24h, r.Rows24h, e.org, r.Name, r.ID, r.Source)
		if r.HasDailyMax {
			e.gauge(descAppRowsDailyMax, r.DailyMax, e.org, r.Name, r.ID, r.Source, highWaterWindow)
		}
	}
}
