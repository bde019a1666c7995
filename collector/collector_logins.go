package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The logins source's metrics. Its detection figures are in
// collector_detection.go.
var (
	descLogins = prometheus.NewDesc("salesforce_connected_app_oauth_logins",
		"OAuth logins (LoginHistory) whose Application is the app, in the last 24 hours; result is success when Status is Success."+cached, []string{"org", "app", "app_id", "result", "window"}, nil)
)

var loginsMetrics = metricSet{
	descs: []*prometheus.Desc{descLogins},
	app:   collectAppLogins,
}

func collectAppLogins(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	if a.HasLogins {
		e.gauge(descLogins, float64(a.LoginSuccess), e.org, a.Name, a.ID, "success", "24h")
		e.gauge(descLogins, float64(a.LoginFailure), e.org, a.Name, a.ID, "failure", "24h")
	}
}
