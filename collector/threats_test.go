package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestThreatMetrics: an available store has its counts, acknowledged
// events and bound flag, and a highest score only with events counted; an
// unavailable store only says so; no series carries a user or an address.
func TestThreatMetrics(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Threats = &snapshot.Threats{
		Kinds: []snapshot.ThreatKind{
			{Kind: "api_anomaly", Available: true, Events: 2, MaxScore: 91.5, Acknowledged: 1},
			{Kind: "report_anomaly", Available: true, Acknowledged: 3, Capped: true},
			{Kind: "login_anomaly", Why: "not available"},
		},
		Events: []snapshot.ThreatEvent{{Kind: "api_anomaly", Username: "mallory@example.com", Address: "203.0.113.9", Score: 91.5}},
	}
	want := `
# HELP salesforce_threat_detection_events ` + descHelp(descThreatEvents) + `
# TYPE salesforce_threat_detection_events gauge
salesforce_threat_detection_events{event_type="api_anomaly",org="prod",window="24h"} 2
salesforce_threat_detection_events{event_type="report_anomaly",org="prod",window="24h"} 0
# HELP salesforce_threat_detection_max_score ` + descHelp(descThreatMaxScore) + `
# TYPE salesforce_threat_detection_max_score gauge
salesforce_threat_detection_max_score{event_type="api_anomaly",org="prod",window="24h"} 91.5
# HELP salesforce_threat_detection_acknowledged_events ` + descHelp(descThreatAcked) + `
# TYPE salesforce_threat_detection_acknowledged_events gauge
salesforce_threat_detection_acknowledged_events{event_type="api_anomaly",org="prod",window="24h"} 1
salesforce_threat_detection_acknowledged_events{event_type="report_anomaly",org="prod",window="24h"} 3
# HELP salesforce_threat_detection_store_available ` + descHelp(descThreatAvailable) + `
# TYPE salesforce_threat_detection_store_available gauge
salesforce_threat_detection_store_available{event_type="api_anomaly",org="prod"} 1
salesforce_threat_detection_store_available{event_type="login_anomaly",org="prod"} 0
salesforce_threat_detection_store_available{event_type="report_anomaly",org="prod"} 1
# HELP salesforce_threat_detection_read_capped ` + descHelp(descThreatCapped) + `
# TYPE salesforce_threat_detection_read_capped gauge
salesforce_threat_detection_read_capped{event_type="api_anomaly",org="prod"} 0
salesforce_threat_detection_read_capped{event_type="report_anomaly",org="prod"} 1
`
	c := New(stubSource{s})
	names := []string{"salesforce_threat_detection_events", "salesforce_threat_detection_max_score", "salesforce_threat_detection_acknowledged_events",
		"salesforce_threat_detection_store_available", "salesforce_threat_detection_read_capped"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(c, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
