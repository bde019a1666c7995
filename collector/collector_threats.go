package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The threat_detection source's metrics. No Threat Detection store names a
// connected app, so they are the org's; event_type is one of a fixed list
// (salesforce.ThreatStores), and no label holds a user or an address.
var (
	descThreatEvents = prometheus.NewDesc("salesforce_threat_detection_events",
		"Threat Detection events (ApiAnomalyEventStore, CredentialStuffingEventStore, SessionHijackingEventStore, ReportAnomalyEventStore, LoginAnomalyEventStore) whose EventDate is in the window and that are not acknowledged by threat_events_reviewed_until."+cached,
		[]string{"org", "event_type", "window"}, nil)
	descThreatMaxScore = prometheus.NewDesc("salesforce_threat_detection_max_score",
		"Highest Score among the counted Threat Detection events of the type in the window; absent when there are none."+cached,
		[]string{"org", "event_type", "window"}, nil)
	descThreatAcked = prometheus.NewDesc("salesforce_threat_detection_acknowledged_events",
		"Threat Detection events in the window stored (CreatedDate) at or before the org's threat_events_reviewed_until, which are not counted."+cached,
		[]string{"org", "event_type", "window"}, nil)
	descThreatAvailable = prometheus.NewDesc("salesforce_threat_detection_store_available",
		"1 if the Threat Detection store of the type answered (the org has the Shield or Event Monitoring add-on and the user View Real-Time Event Monitoring Data), 0 if not."+cached,
		[]string{"org", "event_type"}, nil)
	descThreatCapped = prometheus.NewDesc("salesforce_threat_detection_read_capped",
		"1 if the latest read of the Threat Detection store stopped at its bound of rows per refresh or events kept, so its figures are low until later refreshes catch up."+cached,
		[]string{"org", "event_type"}, nil)
)

var threatsMetrics = metricSet{
	descs: []*prometheus.Desc{descThreatEvents, descThreatMaxScore, descThreatAcked, descThreatAvailable, descThreatCapped},
	org:   collectThreats,
}

func collectThreats(e *emitter, s *snapshot.Snapshot) {
	if s.Threats == nil {
		return
	}
	for _, k := range s.Threats.Kinds {
		e.gauge(descThreatAvailable, b2f(k.Available), e.org, k.Kind)
		if !k.Available {
			continue
		}
		e.gauge(descThreatCapped, b2f(k.Capped), e.org, k.Kind)
		e.gauge(descThreatEvents, float64(k.Events), e.org, k.Kind, "24h")
		e.gauge(descThreatAcked, float64(k.Acknowledged), e.org, k.Kind, "24h")
		if k.Events > 0 {
			e.gauge(descThreatMaxScore, k.MaxScore, e.org, k.Kind, "24h")
		}
	}
}
