package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// descIdleBeforeWake is a dormant app's wake (detect/dormant.go).
var descIdleBeforeWake = prometheus.NewDesc("salesforce_connected_app_idle_before_wake_seconds",
	"How long, in seconds (to the hour), the app had been unused (no API request or OAuth login in the exporter's baseline) when its use resumed in the window; 0 when it did not resume in it, or was idle for under two days. Kept in memory: a wake before a restart is not shown after it."+detectWindow+cached, appLabels, nil)

// dormantMetrics is the dormant-app figure, fed by the api_usage and logins sources.
var dormantMetrics = metricSet{
	descs: []*prometheus.Desc{descIdleBeforeWake},
	app:   collectAppDormant,
}

// collectAppDormant emits how long one app was idle before its wake.
func collectAppDormant(e *emitter, s *snapshot.Snapshot, a *snapshot.AppUsage) {
	if s.Detection == nil || a.Detection == nil {
		return
	}
	e.gauge(descIdleBeforeWake, a.Detection.IdleBeforeWake.Seconds(), e.org, a.Name, a.ID)
}
