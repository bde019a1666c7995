package collector

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
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

// IOCMetrics report the IOC lists in force: their size, the lines of their
// files that held no address, and the reloads that refused a list.
type IOCMetrics struct {
	entries, skipped *prometheus.GaugeVec
	refused          *prometheus.CounterVec
}

// NewIOCMetrics registers the IOC list metrics on reg.
func NewIOCMetrics(reg prometheus.Registerer) *IOCMetrics {
	m := &IOCMetrics{
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "exporter", Name: "ioc_list_entries",
			Help: "Addresses and CIDR prefixes in each IOC list in force (detection.ioc_lists), as written in its file."}, []string{"list"}),
		skipped: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "exporter", Name: "ioc_list_lines_skipped",
			Help: "Lines of each IOC list's file, when it was last read, that held no IP address or CIDR prefix (an advisory's user agents or domains) and were skipped; the log names the first."}, []string{"list"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "exporter", Name: "ioc_list_reload_refused_total",
			Help: "Config reloads that read an IOC list empty, or with less than half the entries of the list in force (a file caught mid-rewrite), and kept the list in force instead."}, []string{"list"}),
	}
	reg.MustRegister(m.entries, m.skipped, m.refused)
	return m
}

// Set reports the lists in force; lists no longer configured are dropped.
func (m *IOCMetrics) Set(lists []detect.IOCList) {
	m.entries.Reset()
	m.skipped.Reset()
	for _, l := range lists {
		m.entries.WithLabelValues(l.Name).Set(float64(l.Entries()))
		m.skipped.WithLabelValues(l.Name).Set(float64(l.Skipped))
		m.refused.WithLabelValues(l.Name).Add(0)
	}
}

// Refused counts a reload that refused a list.
func (m *IOCMetrics) Refused(list string) { m.refused.WithLabelValues(list).Inc() }
