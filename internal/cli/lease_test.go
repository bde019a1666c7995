package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestSharedStorageOneWriter: two exporter processes share --storage.path
// and serve the same org (an HA pair, or an org that sharding moved while
// its old owner still runs). The first writes the org's state under its
// lease; the second serves from that state (the same first-seen times) and
// writes nothing; when the first stops (SIGTERM), it releases the lease and
// the second takes it and writes.
func TestSharedStorageOneWriter(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 300, Apps: 3, Users: 100, Seed: 6})
	org.SetAPILimit(100_000_000, 0)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	setRefreshInterval(t, cfg, "refresh_interval: 1s")
	storage := filepath.Join(dir, "data")

	a := startExporter(t, "--config.file="+cfg, "--storage.path="+storage, "--storage.lease-holder=pod-0")
	ma := a.waitFor(t, "pod-0 holds the lease and wrote the state", func(m map[string]*metricFamily) bool {
		held, ok := value(m, "salesforce_exporter_storage_lease_held", "org=prod")
		_, written := value(m, "salesforce_exporter_storage_last_write_success_timestamp_seconds", "org=prod", "file=state")
		return ok && held == 1 && written && len(firstSeen(m)) > 0
	})
	seenA := firstSeen(ma)

	b := startExporter(t, "--config.file="+cfg, "--storage.path="+storage, "--storage.lease-holder=pod-1")
	mb := b.waitFor(t, "pod-1 serves the org without the lease", func(m map[string]*metricFamily) bool {
		held, ok := value(m, "salesforce_exporter_storage_lease_held", "org=prod")
		return ok && held == 0 && len(firstSeen(m)) > 0
	})
	if _, written := value(mb, "salesforce_exporter_storage_last_write_success_timestamp_seconds", "org=prod", "file=state"); written {
		t.Fatal("pod-1 wrote the state while pod-0 held the lease")
	}
	for app, ts := range firstSeen(mb) {
		if want, ok := seenA[app]; !ok || ts != want {
			t.Errorf("app %s: pod-1's first-seen time %v, pod-0's %v (the state pod-0 wrote)", app, ts, want)
		}
	}

	if err := a.Stop(); err != nil {
		t.Logf("pod-0 stopped: %v", err)
	}
	b.waitFor(t, "pod-1 took the lease and wrote the state", func(m map[string]*metricFamily) bool {
		held, _ := value(m, "salesforce_exporter_storage_lease_held", "org=prod")
		_, written := value(m, "salesforce_exporter_storage_last_write_success_timestamp_seconds", "org=prod", "file=state")
		return held == 1 && written
	})
	lease, err := os.ReadFile(filepath.Join(storage, "prod.lease"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lease), `"holder":"pod-1"`) {
		t.Fatalf("lease file %s, want pod-1's", lease)
	}
}

// firstSeen is each app's first-seen time in a scrape, by its series'
// labels.
func firstSeen(m map[string]*metricFamily) map[string]float64 {
	out := map[string]float64{}
	if f := m["salesforce_connected_app_first_seen_timestamp_seconds"]; f != nil {
		for k, v := range f.Series {
			out[k] = v
		}
	}
	return out
}
