package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// demoRun is the embedded demo org and the config that points at it.
type demoRun struct {
	dir        string
	configFile string
	srv        *http.Server
	cancel     context.CancelFunc
}

func (d *demoRun) close() {
	d.cancel()
	_ = d.srv.Close()
	_ = os.RemoveAll(d.dir)
}

// startDemo serves the demo org on a loopback port and writes a config for it
// (with its throwaway secret in a file, like any other org's).
func startDemo(ctx context.Context, surgeAfter time.Duration, logger *slog.Logger) (*demoRun, error) {
	dir, err := os.MkdirTemp("", "salesforce-oauth-exporter-demo-")
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	creds := sftest.Credentials{ClientID: "3MVG9demo.exporter", ClientSecret: hex.EncodeToString(raw)}
	demo := sftest.NewDemo(uint64(time.Now().UnixNano()), creds)
	demo.SurgeAfter = surgeAfter
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv := &http.Server{Handler: demo.Server, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	dctx, cancel := context.WithCancel(ctx)
	go demo.Run(dctx, 5*time.Second)

	if err := os.WriteFile(filepath.Join(dir, "client-secret"), []byte(creds.ClientSecret), 0o600); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	// A demo IOC list: the address the demo's stolen-token login comes from.
	if err := os.WriteFile(filepath.Join(dir, "demo-ioc.txt"), []byte("# demo IOC list\n"+sftest.IOCAddress+"\n"), 0o600); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	var inv strings.Builder
	for _, a := range sftest.DemoApps {
		fmt.Fprintf(&inv, "  - app: %q\n    owner: %q\n    purpose: %q\n", a.Name, a.Owner, a.Purpose)
	}
	cfg := fmt.Sprintf(`stale_after: 90d
orgs:
  - name: demo
    login_url: http://%s
    refresh_interval: 15s
    api_budget_percent: 5
    sources:
      api_usage: {interval: 15s}
      apps: {interval: 15s}
      external_client_apps: {interval: 30s}
    auth:
      flow: client_credentials
      client_id: %s
      client_secret_file: client-secret
detection:
  min_baseline: 1d # the demo's org has a week of history
  ioc_lists:
    - name: demo
      file: demo-ioc.txt
inventory:
%s`, ln.Addr(), creds.ClientID, inv.String())
	path := filepath.Join(dir, "demo.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	logger.Info("Demo org started: an unknown app and an API surge appear after a while", "fake_salesforce", "http://"+ln.Addr().String(), "surge_after", surgeAfter)
	return &demoRun{dir: dir, configFile: path, srv: srv, cancel: cancel}, nil
}
