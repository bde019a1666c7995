package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestAPIEventsMetrics: the api_events source's figures are the org's
// (no label holds an app, a user or an address); the last event's time is
// absent before the first event, and the set is absent while the source is
// off.
func TestAPIEventsMetrics(t *testing.T) {
	t.Parallel()
	names := []string{"salesforce_api_events_read_total", "salesforce_api_events_capped_reads_total", "salesforce_api_events_last_event_timestamp_seconds"}
	s := testSnapshot()
	if err := testutil.CollectAndCompare(New(stubSource{s}), strings.NewReader(""), names...); err != nil {
		t.Errorf("source off: %v", err)
	}
	s.APIEvents = &snapshot.APIEvents{}
	want := `
# HELP salesforce_api_events_read_total ` + descHelp(descAPIEventsRead) + `
# TYPE salesforce_api_events_read_total counter
salesforce_api_events_read_total{org="prod"} 0
# HELP salesforce_api_events_capped_reads_total ` + descHelp(descAPIEventsCapped) + `
# TYPE salesforce_api_events_capped_reads_total counter
salesforce_api_events_capped_reads_total{org="prod"} 0
`
	if err := testutil.CollectAndCompare(New(stubSource{s}), strings.NewReader(want), names...); err != nil {
		t.Errorf("no event yet: %v", err)
	}
	s = testSnapshot()
	s.APIEvents = &snapshot.APIEvents{Read: 1234, CappedReads: 2, LastEvent: time.Unix(1_777_000_000, 0)}
	want = `
# HELP salesforce_api_events_read_total ` + descHelp(descAPIEventsRead) + `
# TYPE salesforce_api_events_read_total counter
salesforce_api_events_read_total{org="prod"} 1234
# HELP salesforce_api_events_capped_reads_total ` + descHelp(descAPIEventsCapped) + `
# TYPE salesforce_api_events_capped_reads_total counter
salesforce_api_events_capped_reads_total{org="prod"} 2
# HELP salesforce_api_events_last_event_timestamp_seconds ` + descHelp(descAPIEventsLast) + `
# TYPE salesforce_api_events_last_event_timestamp_seconds gauge
salesforce_api_events_last_event_timestamp_seconds{org="prod"} 1.777e+09
`
	c := New(stubSource{s})
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
