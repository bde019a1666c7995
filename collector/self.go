package collector

import (
	"sync"

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

// ReviewMetrics count the served review's background reads of the per-user
// detail (--web.enable-review).
type ReviewMetrics struct {
	failed *prometheus.CounterVec

	mu   sync.Mutex
	orgs map[string]bool
}

// NewReviewMetrics registers the review read counters on reg.
func NewReviewMetrics(reg prometheus.Registerer) *ReviewMetrics {
	m := &ReviewMetrics{
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "exporter", Name: "review_detail_reads_failed_total",
			Help: "Background reads of the served review's per-user detail that failed; the page serves the last good read. 0 without --web.enable-review."}, []string{"org"}),
		orgs: map[string]bool{},
	}
	reg.MustRegister(m.failed)
	return m
}

// SetOrgs creates the counters of the config's orgs at zero and drops
// those of orgs no longer configured.
func (m *ReviewMetrics) SetOrgs(orgs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := map[string]bool{}
	for _, o := range orgs {
		keep[o] = true
		m.failed.WithLabelValues(o)
	}
	for o := range m.orgs {
		if !keep[o] {
			m.failed.DeleteLabelValues(o)
		}
	}
	m.orgs = keep
}

// Failed counts one failed read of an org's detail.
func (m *ReviewMetrics) Failed(org string) { m.failed.WithLabelValues(org).Inc() }
