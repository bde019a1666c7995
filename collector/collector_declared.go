package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The declared-expectation metrics: how the apps' traffic compares with the
// networks and objects their inventory entries declare (detect/declared.go).
// They need no baseline. No label names a user, an address or a network.
var (
	descDeclaredNetworks = prometheus.NewDesc("salesforce_connected_app_declared_networks",
		"CIDR prefixes the app's inventory entry declares (inventory networks:); absent when it declares none. From the config file.", appLabels, nil)
	descDeclaredObjects = prometheus.NewDesc("salesforce_connected_app_declared_objects",
		"Objects the app's inventory entry declares (inventory objects:); absent when it declares none. From the config file.", appLabels, nil)
	descOutsideDeclared = prometheus.NewDesc("salesforce_connected_app_api_requests_outside_declared_networks",
		"API requests of the app from addresses outside the networks its inventory entry declares (\"Salesforce.com IP\" and empty addresses are not judged); absent when it declares none. Judged again against the declaration in force after a reload."+detectWindow+cached, appLabels, nil)
	descLoginsOutsideDeclared = prometheus.NewDesc("salesforce_connected_app_oauth_logins_outside_declared_networks",
		"OAuth logins (LoginHistory SourceIp) to the app in the last 24 hours from addresses outside the networks its inventory entry declares; absent when it declares none."+cached, appLabels, nil)
	descUndeclaredObjects = prometheus.NewDesc("salesforce_connected_app_api_undeclared_objects",
		"Objects (ENTITY_NAME) the app touched that its inventory entry does not declare; absent when it declares none."+detectWindow+cached, appLabels, nil)
)

// declaredMetrics are the declared-expectation metrics, fed by the
// api_usage and logins sources and the inventory.
var declaredMetrics = metricSet{
	descs: []*prometheus.Desc{descDeclaredNetworks, descDeclaredObjects, descOutsideDeclared, descLoginsOutsideDeclared, descUndeclaredObjects},
	app:   collectAppDeclared,
}

// collectAppDeclared emits one app's declared-expectation figures, when its
// inventory entry declares networks or objects.
func collectAppDeclared(e *emitter, s *snapshot.Snapshot, a *snapshot.AppUsage) {
	f := a.Detection
	if s.Detection == nil || f == nil {
		return
	}
	if f.DeclaredNetworks > 0 {
		e.gauge(descDeclaredNetworks, float64(f.DeclaredNetworks), e.org, a.Name, a.ID)
		e.gauge(descOutsideDeclared, float64(f.RequestsOutsideDeclaredNetworks), e.org, a.Name, a.ID)
		e.gauge(descLoginsOutsideDeclared, float64(f.LoginsOutsideDeclaredNetworks), e.org, a.Name, a.ID)
	}
	if f.DeclaredObjects > 0 {
		e.gauge(descDeclaredObjects, float64(f.DeclaredObjects), e.org, a.Name, a.ID)
		e.gauge(descUndeclaredObjects, float64(f.UndeclaredObjects), e.org, a.Name, a.ID)
	}
}
