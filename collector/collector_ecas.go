package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The external_client_apps source's metrics. Its apps' token figures are
// the oauth_tokens metrics (collector_tokens.go).
var (
	descECAsDegraded = prometheus.NewDesc("salesforce_external_client_apps_degraded",
		"External Client Apps whose users or tokens could not be read at the latest refresh (an error about that app only): their figures are the last good ones, or absent if there were none; the log names them."+cached, []string{"org"}, nil)
)

var ecaMetrics = metricSet{
	descs: []*prometheus.Desc{descECAsDegraded},
	org:   collectECAStatus,
}

func collectECAStatus(e *emitter, s *snapshot.Snapshot) {
	if s.HasECAStatus {
		e.gauge(descECAsDegraded, float64(s.ECAsDegraded), e.org)
	}
}
