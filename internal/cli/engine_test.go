package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestInvalidUTF8AppNameKeepsEveryOrg (issue 18 item 3): an ApiTotalUsage
// log whose CONNECTED_APP_NAME is not UTF-8 once panicked the collection
// at that app, and every org after it lost all its series (salesforce_up
// too) while /metrics answered 200. Org "a-bad" sorts first, so "b-good"
// is collected after it.
func TestInvalidUTF8AppNameKeepsEveryOrg(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("orgs:\n")
	for _, name := range []string{"a-bad", "b-good"} {
		org := sftest.NewOrg()
		org.Generate(sftest.Scale{Tokens: 200, Apps: 4, Users: 50, Seed: 3})
		if name == "a-bad" {
			ld := org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
			org.AddLogFile(&sftest.LogFile{LogDate: ld, Retention: 30 * 24 * time.Hour, Rows: []sftest.UsageRow{
				{AppName: "Evil\xff\xfe App\x1b[2J", StatusCode: 200, Count: 5},
				{AppID: org.Apps()[0].ID, AppName: org.Apps()[0].Name, StatusCode: 200, Count: 7},
			}})
		}
		_, ts := sftest.Start(t, org, sftest.TestCredentials)
		fmt.Fprintf(&cfg, "  - name: %s\n    login_url: %s\n    refresh_interval: 10s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", name, ts.URL, sftest.TestCredentials.ClientID)
	}
	p := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(p, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.file="+p, "--storage.path="+filepath.Join(dir, "data"))
	m := e.waitFor(t, "api_usage read in both orgs", func(m map[string]*metricFamily) bool {
		a, _ := value(m, "salesforce_source_up", "org=a-bad", "source=api_usage")
		b, _ := value(m, "salesforce_source_up", "org=b-good", "source=api_usage")
		return a == 1 && b == 1
	})
	for _, org := range []string{"a-bad", "b-good"} {
		if v, ok := value(m, "salesforce_up", "org="+org); !ok || v != 1 {
			t.Errorf("salesforce_up{org=%q} = %v (present %v), want 1", org, v, ok)
		}
		if v, ok := value(m, "salesforce_exporter_dropped_series_total", "org="+org); !ok || v != 0 {
			t.Errorf("dropped series for %s = %v (present %v), want 0", org, v, ok)
		}
	}
	if v, ok := value(m, "salesforce_connected_app_api_requests", "org=a-bad", "app=Evil\uFFFD\uFFFD App\uFFFD[2J", "app_id=", "window=7d"); !ok || v != 5 {
		t.Errorf("the bad name's requests, cleaned: %v (present %v), want 5; series: %v", v, ok, m["salesforce_connected_app_api_requests"].Series)
	}
	if n := len(m["salesforce_connected_app_info"].Series); n < 8 {
		t.Errorf("%d info series, want the apps of both orgs", n)
	}
}
