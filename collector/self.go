package collector

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// NewSelfRegistry returns the registry of the exporter's own metrics, with
// the build info, Go runtime and process collectors on it.
func NewSelfRegistry(program string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(program), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// ReloadMetrics report the outcome of the latest config load or reload.
type ReloadMetrics struct {
	ok, at prometheus.Gauge
}

// NewReloadMetrics registers the config reload gauges on reg, as after a
// successful first load.
func NewReloadMetrics(reg prometheus.Registerer) *ReloadMetrics {
	m := &ReloadMetrics{
		ok: prometheus.NewGauge(prometheus.GaugeOpts{Name: "salesforce_exporter_config_last_reload_successful", Help: "1 if the last config load or reload succeeded."}),
		at: prometheus.NewGauge(prometheus.GaugeOpts{Name: "salesforce_exporter_config_last_reload_success_timestamp_seconds", Help: "When the config was last loaded successfully, as Unix seconds."}),
	}
	reg.MustRegister(m.ok, m.at)
	m.Succeeded()
	return m
}

// Succeeded records a successful load.
func (m *ReloadMetrics) Succeeded() {
	m.ok.Set(1)
	m.at.SetToCurrentTime()
}

// Failed records a failed reload; the old config stays in force.
func (m *ReloadMetrics) Failed() { m.ok.Set(0) }
