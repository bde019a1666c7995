package refresh

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestImplausibleTimesReachTheSnapshotAndTheLog: an org whose Date header
// is decades off the local clock is counted in the snapshot (for
// salesforce_exporter_implausible_timestamps_total), and the client logs
// through the refresher's logger, with the org, not slog.Default.
func TestImplausibleTimesReachTheSnapshotAndTheLog(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetNow(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := NewRefresher(testOrgConfig(t, ts.URL, config.SourceLimits, config.SourceApps), Settings{StaleAfter: staleAfter,
		Inventory: func(string, string, string) *config.InventoryEntry { return nil }}, t.TempDir(), logger, nil, salesforce.WithRetry(0, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_ = r.RefreshAll(t.Context())
	if n := r.Snapshot().ImplausibleTimes; n == 0 || n != r.Client().ImplausibleTimes() {
		t.Errorf("snapshot ImplausibleTimes = %d, client %d; want the client's, above 0", n, r.Client().ImplausibleTimes())
	}
	if n := r.Snapshot().MaxOpenCursors; n != salesforce.DefaultMaxOpenCursors {
		t.Errorf("snapshot MaxOpenCursors = %d, want the client's bound %d (for salesforce_exporter_query_cursors_max)", n, salesforce.DefaultMaxOpenCursors)
	}
	if !strings.Contains(logs.String(), "org=test") || !strings.Contains(logs.String(), "component=client") {
		t.Errorf("the client did not log through the refresher's logger:\n%s", logs.String())
	}
}
