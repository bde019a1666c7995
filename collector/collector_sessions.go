package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The sessions source's metrics.
var (
	descSessions = prometheus.NewDesc("salesforce_connected_app_oauth_sessions",
		"Active OAuth sessions (AuthSession SessionType Oauth2, LastModifiedDate + NumSecondsValid > now) whose LoginHistory.Application is the app. The join is by app name and approximate: Salesforce overwrites a reused session's LoginHistoryId. Sessions without a login row, or whose app name several apps share, count under app=\"(unknown)\"."+cached, appLabels, nil)
)

var sessionsMetrics = metricSet{
	descs: []*prometheus.Desc{descSessions},
	app:   collectAppSessions,
}

func collectAppSessions(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	if a.HasSessions {
		e.gauge(descSessions, float64(a.Sessions), e.org, a.Name, a.ID)
	}
}
