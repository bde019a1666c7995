package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The limits source's metrics: the org's DailyApiRequests allocation.
var (
	descAPILimit = prometheus.NewDesc("salesforce_org_daily_api_requests_limit",
		"The org's DailyApiRequests allocation (Max) from /limits or Sforce-Limit-Info.", []string{"org"}, nil)
	descAPIRemaining = prometheus.NewDesc("salesforce_org_daily_api_requests_remaining",
		"DailyApiRequests remaining in the org's rolling 24 hours, from /limits or Sforce-Limit-Info.", []string{"org"}, nil)
)

var limitsMetrics = metricSet{
	descs: []*prometheus.Desc{descAPILimit, descAPIRemaining},
	org:   collectLimits,
}

func collectLimits(e *emitter, s *snapshot.Snapshot) {
	if s.HasLimits {
		e.gauge(descAPILimit, float64(s.DailyAPIMax), e.org)
		e.gauge(descAPIRemaining, float64(s.DailyAPIRemaining), e.org)
	}
}
