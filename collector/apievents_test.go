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
	names := []string{"salesforce_api_events_read_total", "salesforce_api_events_capped_reads_total", "salesforce_api_events_last_event_timestamp_seconds",
		"salesforce_api_events_app_requests_total", "salesforce_api_events_app_rows_processed_total", "salesforce_api_events_app_events_folded_total"}
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
# HELP salesforce_api_events_app_events_folded_total ` + descHelp(descAPIEventsAppsFolded) + `
# TYPE salesforce_api_events_app_events_folded_total counter
salesforce_api_events_app_events_folded_total{org="prod"} 0
`
	if err := testutil.CollectAndCompare(New(stubSource{s}), strings.NewReader(want), names...); err != nil {
		t.Errorf("no event yet: %v", err)
	}
	s = testSnapshot()
	s.APIEvents = &snapshot.APIEvents{Read: 1234, CappedReads: 2, LastEvent: time.Unix(1_777_000_000, 0), AppsFolded: 3,
		Apps: []snapshot.StreamApp{{ID: "0H4000000000002", Name: "Data Loader", Requests: 1200, RowsProcessed: 6000}, {Name: "Workbench", Requests: 31, RowsProcessed: 2.5}}}
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
# HELP salesforce_api_events_app_requests_total ` + descHelp(descAPIEventsAppRequests) + `
# TYPE salesforce_api_events_app_requests_total counter
salesforce_api_events_app_requests_total{app="Data Loader",app_id="0H4000000000002",org="prod"} 1200
salesforce_api_events_app_requests_total{app="Workbench",app_id="",org="prod"} 31
# HELP salesforce_api_events_app_rows_processed_total ` + descHelp(descAPIEventsAppRows) + `
# TYPE salesforce_api_events_app_rows_processed_total counter
salesforce_api_events_app_rows_processed_total{app="Data Loader",app_id="0H4000000000002",org="prod"} 6000
salesforce_api_events_app_rows_processed_total{app="Workbench",app_id="",org="prod"} 2.5
# HELP salesforce_api_events_app_events_folded_total ` + descHelp(descAPIEventsAppsFolded) + `
# TYPE salesforce_api_events_app_events_folded_total counter
salesforce_api_events_app_events_folded_total{org="prod"} 3
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
