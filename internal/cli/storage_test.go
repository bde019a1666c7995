package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestStorageWriteFailuresServed: with a file where --storage.path's folder
// should be (a write refused, as on a full or read-only volume), the binary
// serves the org's data and counts the failed writes by file; once the
// folder can be made, the files are written and the success time appears.
func TestStorageWriteFailuresServed(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 300, Apps: 3, Users: 100, Seed: 6})
	org.SetAPILimit(100_000_000, 0)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	setRefreshInterval(t, cfg, "refresh_interval: 1s")
	storage := filepath.Join(dir, "data")
	if err := os.WriteFile(storage, []byte("a file, not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+storage)
	e.waitFor(t, "failed writes of both files counted, the org served", func(m map[string]*metricFamily) bool {
		up, _ := value(m, "salesforce_up", "org=prod")
		st, _ := value(m, "salesforce_exporter_storage_write_failures_total", "org=prod", "file=state")
		tok, _ := value(m, "salesforce_exporter_storage_write_failures_total", "org=prod", "file=tokens")
		_, written := value(m, "salesforce_exporter_storage_last_write_success_timestamp_seconds", "org=prod", "file=state")
		stFailed, _ := value(m, "salesforce_exporter_storage_last_write_failure_timestamp_seconds", "org=prod", "file=state")
		tokFailed, _ := value(m, "salesforce_exporter_storage_last_write_failure_timestamp_seconds", "org=prod", "file=tokens")
		return up == 1 && st > 0 && tok > 0 && !written && stFailed > 0 && tokFailed > 0
	})
	if !strings.Contains(e.log(), "Could not save state") {
		t.Errorf("the failed write is not logged:\n%s", e.log())
	}
	if err := os.Remove(storage); err != nil {
		t.Fatal(err)
	}
	org.AddToken(sftest.TokenSpec{User: org.AddUser("later@example.com", true), App: 0, LastUsed: org.Now()})
	// The alert SalesforceExporterStorageWriteFailing compares the two
	// times: once a write succeeds, its time is newer than the last failure.
	e.waitFor(t, "both files written after their last failure", func(m map[string]*metricFamily) bool {
		ok := true
		for _, file := range []string{"file=state", "file=tokens"} {
			written, st := value(m, "salesforce_exporter_storage_last_write_success_timestamp_seconds", "org=prod", file)
			failed, ft := value(m, "salesforce_exporter_storage_last_write_failure_timestamp_seconds", "org=prod", file)
			ok = ok && st && ft && failed > 0 && written >= failed
		}
		return ok
	})
	for _, f := range []string{"prod.state.json", "prod.tokens"} {
		if _, err := os.Stat(filepath.Join(storage, f)); err != nil {
			t.Errorf("not written: %v", err)
		}
	}
}
