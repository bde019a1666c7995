package main

// The fake orgs the bench measures against, and clients, refreshers and
// exporter configs that point at them.

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// newFake serves a generated org on loopback with the bench latency.
func newFake(n int, seed uint64) (*sftest.Org, *sftest.Server, string, func()) {
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: n, Apps: 200, Users: 200_000, Seed: seed})
	srv := sftest.NewServer(org, sftest.TestCredentials)
	srv.SetLatency(latency)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("%v", err)
	}
	hs := &http.Server{Handler: recordRequests(srv), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return org, srv, "http://" + ln.Addr().String(), func() { hs.Close() }
}

func client(url string) *salesforce.Client {
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: url,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret},
		salesforce.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 5 * time.Minute}))
	if err != nil {
		fatal("%v", err)
	}
	return c
}

func writeExporterConfig(dir string, urls []string, interval string) string {
	_ = os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600)
	var b strings.Builder
	b.WriteString("orgs:\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "  - name: org%d\n    login_url: %s\n    refresh_interval: %s\n    api_budget_percent: 100\n    sources: {api_usage: {interval: %s}, apps: {interval: %s}}\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
			i, u, interval, interval, interval, sftest.TestCredentials.ClientID)
	}
	p := filepath.Join(dir, "config.yml")
	_ = os.WriteFile(p, []byte(b.String()), 0o600)
	return p
}

func refresher(url string, sources ...string) *refresh.Refresher {
	dir, _ := os.MkdirTemp("", "sfoe-bench-state-")
	return refresherIn(dir, url, slog.New(slog.DiscardHandler), sources...)
}

// refresherIn is a refresher keeping its state in dir.
func refresherIn(dir, url string, logger *slog.Logger, sources ...string) *refresh.Refresher {
	secret := filepath.Join(dir, "secret")
	_ = os.WriteFile(secret, []byte(sftest.TestCredentials.ClientSecret), 0o600)
	var b strings.Builder
	fmt.Fprintf(&b, "orgs:\n  - name: bench\n    login_url: %s\n    sources:\n", url)
	// Named sources, or else the default ones: the opt-in sources need
	// permissions the fake org's user lacks by default.
	for _, s := range config.Sources {
		on := slices.Contains(sources, s) || (len(sources) == 0 && !config.OptInSources[s])
		fmt.Fprintf(&b, "      %s: {enabled: %v}\n", s, on)
	}
	fmt.Fprintf(&b, "    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", sftest.TestCredentials.ClientID)
	cfg, err := config.Parse([]byte(b.String()), filepath.Join(dir, "c.yml"))
	if err != nil {
		fatal("%v", err)
	}
	r, err := refresh.NewRefresher(cfg.Orgs[0], refresh.Settings{StaleAfter: config.DefaultStaleAfter, Inventory: cfg.InventoryFor}, dir, logger, nil,
		salesforce.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 5 * time.Minute}))
	if err != nil {
		fatal("%v", err)
	}
	return r
}
