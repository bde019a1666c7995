package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The logins source's metrics. Its detection figures are in
// collector_detection.go.
var (
	descLogins = prometheus.NewDesc("salesforce_connected_app_oauth_logins",
		"OAuth logins (LoginHistory) whose Application is the app, in the last 24 hours; result is success when Status is Success."+cached, []string{"org", "app", "app_id", "result", "window"}, nil)
	descLoginsByFlow = prometheus.NewDesc("salesforce_connected_app_logins_by_flow",
		"Logins (LoginHistory) whose Application is the app in the last 24 hours, successful or not, by flow: LoginSubType for OAuth logins, or soap_login for a SOAP API login() call (LoginType Other Apex API with a SOAP ApiType); unknown when LoginSubType is unreadable or empty, other for a value the exporter does not know. Only flows the app used have a series."+cached, []string{"org", "app", "app_id", "flow", "window"}, nil)
	descOrgLoginsByFlow = prometheus.NewDesc("salesforce_org_logins_by_flow",
		"OAuth logins and SOAP API login() calls (LoginHistory) of the org in the last 24 hours, successful or not, by flow, those of no app or of a client that is no app included; every flow has a series."+cached, []string{"org", "flow", "window"}, nil)
	descLoginSubTypeReadable = prometheus.NewDesc("salesforce_org_login_subtype_readable",
		"1 when LoginHistory.LoginSubType is readable, 0 when it answered INVALID_FIELD (the org or API version lacks it): then every OAuth login counts under flow=\"unknown\"."+cached, []string{"org"}, nil)
)

var loginsMetrics = metricSet{
	descs: []*prometheus.Desc{descLogins, descLoginsByFlow, descOrgLoginsByFlow, descLoginSubTypeReadable},
	org:   collectOrgLoginFlows,
	app:   collectAppLogins,
}

func collectOrgLoginFlows(e *emitter, s *snapshot.Snapshot) {
	if !s.HasLoginFlows {
		return
	}
	for f, n := range s.LoginsByFlow {
		e.gauge(descOrgLoginsByFlow, float64(n), e.org, salesforce.LoginFlow(f).String(), "24h")
	}
	e.gauge(descLoginSubTypeReadable, b2f(s.LoginSubTypeReadable), e.org)
}

func collectAppLogins(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	if a.HasLogins {
		e.gauge(descLogins, float64(a.LoginSuccess), e.org, a.Name, a.ID, "success", "24h")
		e.gauge(descLogins, float64(a.LoginFailure), e.org, a.Name, a.ID, "failure", "24h")
	}
	if a.HasLoginFlows {
		for f, n := range a.LoginsByFlow {
			if n > 0 {
				e.gauge(descLoginsByFlow, float64(n), e.org, a.Name, a.ID, salesforce.LoginFlow(f).String(), "24h")
			}
		}
	}
}
