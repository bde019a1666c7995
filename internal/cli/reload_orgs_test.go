package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestRemovedOrgLeavesNoSeries (issue 24 item 16): an org removed from the
// config left its 25 request and failure counter series until a restart.
// After the reload no series carries its label: the exporter's own counters
// from the first scrape, the data series once the new snapshot is encoded.
func TestRemovedOrgLeavesNoSeries(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 200, Apps: 4, Users: 50, Seed: 5})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	orgYAML := func(name string) string {
		return fmt.Sprintf("  - name: %s\n    login_url: %s\n    refresh_interval: 10s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
			name, ts.URL, sftest.TestCredentials.ClientID)
	}
	cfg := writeConfig(t, dir, ts.URL, "")
	if err := os.WriteFile(cfg, []byte("orgs:\n"+orgYAML("prod")+orgYAML("gone")), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--web.enable-lifecycle")
	e.waitFor(t, "both orgs up, with request counts", func(m map[string]*metricFamily) bool {
		a, _ := value(m, "salesforce_up", "org=prod")
		b, _ := value(m, "salesforce_up", "org=gone")
		return a == 1 && b == 1 && len(seriesOf(m, "gone", true)) >= 20
	})
	if err := os.WriteFile(cfg, []byte("orgs:\n"+orgYAML("prod")), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/-/reload: %s", resp.Status)
	}
	// The request counters are gathered at every scrape: gone from the
	// first one. The rest come from the snapshots, whose encoding follows
	// the reload in the background (the wait below).
	var left []string
	for _, s := range seriesOf(e.scrape(t), "gone", true) {
		if f, _, _ := strings.Cut(s, "{"); f == "salesforce_exporter_api_requests_total" || f == "salesforce_exporter_api_request_failures_total" || f == "salesforce_exporter_dropped_series_total" {
			left = append(left, s)
		}
	}
	if len(left) > 0 {
		t.Fatalf("after the reload, %d of the exporter's request counters still carry org=\"gone\":\n%s", len(left), strings.Join(left, "\n"))
	}
	m := e.waitFor(t, "no series of the removed org", func(m map[string]*metricFamily) bool { return len(seriesOf(m, "gone", false)) == 0 })
	if v, _ := value(m, "salesforce_up", "org=prod"); v != 1 {
		t.Error("the org that stayed lost its data")
	}
	if len(seriesOf(m, "prod", true)) < 20 {
		t.Error("the org that stayed lost its request counters")
	}
}

// seriesOf lists the series whose org label is org; self limits them to
// the exporter's own (salesforce_exporter_*) families.
func seriesOf(m map[string]*metricFamily, org string, self bool) []string {
	var out []string
	for name, f := range m {
		if self && !strings.HasPrefix(name, "salesforce_exporter_") {
			continue
		}
		for k := range f.Series {
			for _, l := range strings.Split(k, ",") {
				if l == "org="+org {
					out = append(out, name+"{"+k+"}")
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
