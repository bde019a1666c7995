package collector

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

var quiet = slog.New(slog.DiscardHandler)

const staleAfter = 90 * 24 * time.Hour

// testOrgConfig is an org config pointing at a fake server, every source on.
func testOrgConfig(t *testing.T, url string) config.Org {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "orgs:\n  - name: test\n    login_url: %s\n    full_sync_interval: 1000h\n    sources:\n", url)
	for _, s := range config.Sources {
		if config.OptInSources[s] {
			continue // needs an add-on the fake org lacks by default
		}
		fmt.Fprintf(&b, "      %s: {enabled: true}\n", s)
	}
	fmt.Fprintf(&b, "    auth:\n      flow: client_credentials\n      client_id: %s\n      client_secret_file: secret\n", sftest.TestCredentials.ClientID)
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/secret", []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(b.String()), dir+"/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Orgs[0]
}
