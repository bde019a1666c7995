// Package collector is the Prometheus side of the exporter: the Collector
// that turns the refreshers' snapshots (package refresh) into metrics, the
// request metrics handed to the Salesforce clients as observers, and the
// HTTP handler that serves the exposition. The Collector only ever reads the
// latest snapshots, so a scrape never calls Salesforce and never waits for it.
// It is the only package that registers metrics.
package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

const namespace = "salesforce"

const cached = " Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds."

// appLabels are the labels of an app's series.
var appLabels = []string{"org", "app", "app_id"}

// metricSet is one source's metrics (or the org's status, or the
// detection's), declared in its own file (collector_<source>.go): its descs,
// and what it emits from a snapshot. Every series goes through one emitter,
// so each is built the same way.
type metricSet struct {
	descs []*prometheus.Desc
	// org emits the set's series about the whole org; nil for none.
	org func(e *emitter, s *snapshot.Snapshot)
	// app emits the set's series of one app; nil for none.
	app func(e *emitter, s *snapshot.Snapshot, a *snapshot.AppUsage)
}

// sourceMetrics are the sources' metric sets, by source name: a new
// source's set is one line here. TestEverySourceHasMetrics ties them to the
// sources' specs (refresh.Specs).
var sourceMetrics = map[string]*metricSet{
	config.SourceLimits:          &limitsMetrics,
	config.SourceApps:            &appsMetrics,
	config.SourceOAuthTokens:     &tokensMetrics,
	config.SourceECAs:            &ecaMetrics,
	config.SourceSessions:        &sessionsMetrics,
	config.SourceLogins:          &loginsMetrics,
	config.SourceAPIUsage:        &apiUsageMetrics,
	config.SourceThreatDetection: &threatsMetrics,
	config.SourcePosture:         &postureMetrics,
	config.SourceStream:          &streamMetrics,
	config.SourceAPIEvents:       &apiEventsMetrics,
	config.SourceAppMetadata:     &appMetadataMetrics,
}

// metricSets are every metric set, in the order Collect emits them: the
// org's status, each source's in the registry's order (refresh.Specs), and
// the detection's.
var metricSets = func() []*metricSet {
	sets := []*metricSet{&statusMetrics}
	for _, s := range refresh.Specs() {
		if set, ok := sourceMetrics[s.Name]; ok {
			sets = append(sets, set)
		}
	}
	return append(sets, &rowsMetrics, &detectionMetrics, &declaredMetrics, &judgedMetrics, &dormantMetrics)
}()

// Snapshots is what the Collector reads: the latest snapshot of every org
// (*refresh.Manager in production, a stub in tests).
type Snapshots interface {
	Snapshots() []*snapshot.Snapshot
}

// Collector exposes the latest snapshots as Prometheus metrics. It implements prometheus.Collector.
type Collector struct {
	src     Snapshots
	dropped *prometheus.CounterVec
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector over src.
func New(src Snapshots) *Collector {
	return &Collector{src: src, dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "salesforce_exporter_dropped_series_total",
		Help: "Series left out of /metrics because they could not be built from the snapshot (a value Prometheus rejects, or an app whose cleaned name and app_id repeat another's), counted at each collection of the data; the rest of the collection goes on.",
	}, []string{"org"})}
}

// SetOrgs deletes the dropped-series counters of every org not in orgs (an
// org removed from the config); call it once the refreshers of the config
// in force are running.
func (c *Collector) SetOrgs(orgs []string) {
	keep := map[string]bool{}
	for _, o := range orgs {
		keep[o] = true
	}
	deleteOrgsBut(c.dropped, keep)
}

// SelfMetrics returns the collector's own counters, for the self registry:
// they must not sit in the data part, which is encoded once per snapshot.
func (c *Collector) SelfMetrics() prometheus.Collector { return c.dropped }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, set := range metricSets {
		for _, d := range set.descs {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src.Snapshots() {
		if s == nil {
			continue
		}
		org := snapshot.CleanLabel(s.Org)
		c.collectOrg(&emitter{ch: ch, org: org, dropped: c.dropped.WithLabelValues(org)}, s)
	}
}

// collectOrg emits one org's series: each metric set's org series, then
// each app's. Two apps whose names differ only in bytes CleanLabel replaces
// would make two series with one label set, which fails the gather: the
// second is counted as dropped and left out, every set's series of it.
func (c *Collector) collectOrg(e *emitter, s *snapshot.Snapshot) {
	for _, set := range metricSets {
		if set.org != nil {
			set.org(e, s)
		}
	}
	seen := make(map[[2]string]bool, len(s.Apps))
	for i := range s.Apps {
		a := &s.Apps[i]
		k := [2]string{snapshot.CleanLabel(a.Name), snapshot.CleanLabel(a.ID)}
		if seen[k] {
			e.dropped.Inc()
			continue
		}
		seen[k] = true
		for _, set := range metricSets {
			if set.app != nil {
				set.app(e, s, a)
			}
		}
	}
}

// emitter builds and sends one org's series. Every label value from
// Salesforce is cleaned (CleanLabel), and a series that still cannot be
// built is counted in salesforce_exporter_dropped_series_total and left
// out: one bad value never stops the collection, so the orgs after it keep
// their series.
type emitter struct {
	ch      chan<- prometheus.Metric
	org     string // cleaned
	dropped prometheus.Counter
	// cleaned holds each label value cleaned once for the org's collect, so
	// an app's name is one string in all its series, not a copy in each
	// (thousands of long names times dozens of series each).
	cleaned map[string]string
}

// maxCleaned bounds the cleaned label values held for one org's collect.
const maxCleaned = 1 << 16

// clean returns l as a label value (snapshot.CleanLabel), once per value.
func (e *emitter) clean(l string) string {
	if c, ok := e.cleaned[l]; ok {
		return c
	}
	c := snapshot.CleanLabel(l)
	if e.cleaned == nil {
		e.cleaned = map[string]string{}
	}
	if len(e.cleaned) < maxCleaned {
		e.cleaned[l] = c
	}
	return c
}

func (e *emitter) emit(d *prometheus.Desc, vt prometheus.ValueType, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = e.clean(l)
	}
	m, err := prometheus.NewConstMetric(d, vt, v, labels...)
	if err != nil {
		e.dropped.Inc()
		return
	}
	e.ch <- m
}

// first reports whether the label values, cleaned, are new in seen, and
// records them. A repeat (two apps whose labels clean to the same values
// would fail the gather) is counted as dropped: the caller leaves it out.
func (e *emitter) first(seen map[string]bool, values ...string) bool {
	k := ""
	for _, v := range values {
		k += e.clean(v) + "\xff" // never in a cleaned (valid UTF-8) value
	}
	if seen[k] {
		e.dropped.Inc()
		return false
	}
	seen[k] = true
	return true
}

// gauge emits a gauge series.
func (e *emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e.emit(d, prometheus.GaugeValue, v, labels...)
}

// counter emits a counter series.
func (e *emitter) counter(d *prometheus.Desc, v float64, labels ...string) {
	e.emit(d, prometheus.CounterValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
