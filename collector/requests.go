package collector

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// RequestMetrics are the exporter's own counters of the requests it made.
// They reach the Salesforce clients as request observers (ForOrg), so the
// client never learns that Prometheus exists.
type RequestMetrics struct {
	requests *prometheus.CounterVec
	failures *prometheus.CounterVec

	mu sync.RWMutex
	// orgs are the orgs counted; nil until SetOrgs, when every org counts.
	orgs map[string]bool
}

// NewRequestMetrics registers the exporter's request counters on reg.
func NewRequestMetrics(reg prometheus.Registerer) *RequestMetrics {
	m := &RequestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "exporter", Name: "api_requests_total",
			Help: "Salesforce API requests the exporter made, retries and token requests included."}, []string{"org", "resource"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "exporter", Name: "api_request_failures_total",
			Help: "Salesforce API requests that failed: no response, or a status other than 2xx."}, []string{"org", "resource"}),
	}
	reg.MustRegister(m.requests, m.failures)
	return m
}

// ForOrg pre-creates the org's counters at zero for the common resources and
// returns the request observer that counts the org's requests. It is a
// refresh.ObserverFactory.
func (m *RequestMetrics) ForOrg(org string) func(salesforce.RequestInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.orgs != nil {
		m.orgs[org] = true
	}
	for _, r := range preCreated() {
		m.requests.WithLabelValues(org, r)
		m.failures.WithLabelValues(org, r)
	}
	return func(ri salesforce.RequestInfo) { m.observe(org, ri) }
}

// SetOrgs keeps the counters of orgs and deletes every series of any other
// org: an org removed from the config leaves no series behind, and a late
// request of its stopped refresher or of a client built for it counts
// nowhere. An org added later (ForOrg) counts again, from zero.
func (m *RequestMetrics) SetOrgs(orgs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := map[string]bool{}
	for _, o := range orgs {
		keep[o] = true
	}
	m.orgs = keep
	for _, v := range []*prometheus.CounterVec{m.requests, m.failures} {
		deleteOrgsBut(v, keep)
	}
}

// deleteOrgsBut deletes the series of v whose org is not in keep.
func deleteOrgsBut(v *prometheus.CounterVec, keep map[string]bool) {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		v.Collect(ch)
		close(ch)
	}()
	gone := map[string]bool{}
	for mt := range ch {
		var pb dto.Metric
		if err := mt.Write(&pb); err != nil {
			continue
		}
		for _, lp := range pb.GetLabel() {
			if lp.GetName() == "org" && !keep[lp.GetValue()] {
				gone[lp.GetValue()] = true
			}
		}
	}
	for o := range gone {
		v.DeletePartialMatch(prometheus.Labels{"org": o})
	}
}

// preCreated are the resources whose counters start at zero: the token
// requests and every source's resources (refresh.Spec.Resources).
func preCreated() []string {
	resources := []string{"token"}
	for _, s := range refresh.Specs() {
		resources = append(resources, s.Resources...)
	}
	return resources
}

func (m *RequestMetrics) observe(org string, ri salesforce.RequestInfo) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.orgs != nil && !m.orgs[org] {
		return
	}
	m.requests.WithLabelValues(org, ri.Resource).Inc()
	if ri.Err != nil || ri.StatusCode < 200 || ri.StatusCode > 299 {
		m.failures.WithLabelValues(org, ri.Resource).Inc()
	}
}
