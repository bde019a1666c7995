package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestStreamMetrics: an org with the stream gets its health per topic and
// its live per-app figures; an org without it gets none; two apps whose
// labels clean alike make one series and a dropped count, not a failed
// gather.
func TestStreamMetrics(t *testing.T) {
	t.Parallel()
	with := testSnapshot()
	with.Stream = &snapshot.Stream{
		Topics: []snapshot.StreamTopic{{Topic: "/event/ApiEventStream", Connected: true, Events: 12, DecodeErrors: 1, Reconnects: 2, ReplayGaps: 1, LastGap: time.Unix(1_780_000_000, 0),
			LastEvent: time.Unix(1_780_000_000, 500_000_000)}},
		Apps: []snapshot.StreamApp{
			{ID: "0H4000000000001", Name: "Data Loader", Requests: 10, RowsProcessed: 2500},
			{Name: "Bad\x00App", Requests: 1},
			{Name: "Bad\x01App", Requests: 1},
		},
		AppsFolded: 3,
	}
	without := testSnapshot()
	without.Org = "plain"
	c := New(stubSource{with, without})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather: %v", err)
	}
	if n := testutil.CollectAndCount(c, "salesforce_stream_connected"); n != 1 {
		t.Errorf("%d connected series, want 1 (the org without the stream has none)", n)
	}
	if n := testutil.CollectAndCount(c, "salesforce_stream_app_requests_total"); n != 2 {
		t.Errorf("%d per-app series, want 2 (the two look-alike names make one)", n)
	}
	for _, name := range []string{"salesforce_stream_events_total", "salesforce_stream_decode_errors_total", "salesforce_stream_reconnects_total", "salesforce_stream_replay_gaps_total", "salesforce_stream_last_event_timestamp_seconds", "salesforce_stream_last_replay_gap_timestamp_seconds", "salesforce_stream_app_events_folded_total"} {
		if n := testutil.CollectAndCount(c, name); n != 1 {
			t.Errorf("%s: %d series, want 1", name, n)
		}
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP salesforce_stream_replay_gaps_total Stored replay positions the service refused (older than its 72-hour retention), or that the state file held unreadable: each is a stretch of events the exporter never saw. As of the latest drain of the stream (every few seconds).
# TYPE salesforce_stream_replay_gaps_total counter
salesforce_stream_replay_gaps_total{org="prod",topic="/event/ApiEventStream"} 1
`), "salesforce_stream_replay_gaps_total"); err != nil {
		t.Error(err)
	}
}
