package cli

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
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// demoRun is the embedded demo org and the config that points at it.
type demoRun struct {
	dir        string
	configFile string
	url        string
	surgeAfter time.Duration
	// history is the demo org's daily users before yesterday, for a state
	// the demo's own storage folder starts with.
	history []snapshot.HistoryDay
	srv     *http.Server
	cancel  context.CancelFunc
	shield  *demoShield // nil without --demo.shield
}

func (d *demoRun) close() {
	d.cancel()
	if d.shield != nil {
		d.shield.close()
	}
	_ = d.srv.Close()
	_ = os.RemoveAll(d.dir)
}

// startDemo serves the demo org on a loopback port and writes a config for it
// (with its throwaway secret in a file, like any other org's).
// With shield, the org also streams its API events through a fake Pub/Sub
// API (startDemoShield), and the config subscribes to them.
func startDemo(ctx context.Context, surgeAfter time.Duration, shield bool) (*demoRun, error) {
	dir, err := os.MkdirTemp("", "salesforce-oauth-exporter-demo-")
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	creds := sftest.Credentials{ClientID: "3MVG9demo.exporter", ClientSecret: hex.EncodeToString(raw)}
	demo := sftest.NewDemo(uint64(time.Now().UnixNano()), creds)
	demo.SurgeAfter = surgeAfter
	// The demo org has ApiEvent storage; without --demo.shield the
	// api_events source reads it (startDemoAPIEvents).
	demo.Org.Behavior.APIEventStorage = !shield
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv := &http.Server{Handler: demo.Server, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	dctx, cancel := context.WithCancel(ctx)
	go demo.Run(dctx, 5*time.Second)
	var sh *demoShield
	stream := ""
	if shield {
		if sh, err = startDemoShield(dctx, demo, surgeAfter, time.Second); err != nil {
			cancel()
			_ = srv.Close()
			os.RemoveAll(dir)
			return nil, err
		}
		stream = fmt.Sprintf("    stream: {enabled: true, endpoint: %q}\n", sh.addr)
	} else {
		// Without the stream, the org's stored API events are read
		// instead (the two would count the same calls).
		startDemoAPIEvents(dctx, demo, surgeAfter, time.Second)
		stream = "      api_events: {enabled: true, interval: 15s}\n"
	}

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
	// The approved apps by Id, as a real inventory should name them (by
	// name alone, a look-alike would count as approved).
	var inv strings.Builder
	apps := demo.Org.Apps()
	for _, a := range sftest.DemoApps {
		fmt.Fprintf(&inv, "  - app: %q\n    app_id: %q\n    owner: %q\n    purpose: %q\n", a.Name, apps[demo.Org.AppIndex(a.Name)].ID, a.Owner, a.Purpose)
		if a.Name == "Acme ERP Sync" {
			// The integration declares where it calls from and what it
			// reads: the surge's replay is outside both.
			fmt.Fprintf(&inv, "    networks: [%s]\n    objects: [Opportunity]\n", strings.Join(sftest.IntegrationNetworks(a.Name), ", "))
		}
	}
	// Every source every 15 seconds (30 for the External Client Apps and
	// Threat Detection's five stores, the stored API events and the apps'
	// metadata), so the demo shows changes at once: its fake org's API
	// allowance costs nothing, and 80% of it (200,000 requests a day)
	// covers these intervals, about 116,000 a day with every source on,
	// without stretching them. The demo org has Shield, so threat_detection
	// is on; its integration user has Modify Metadata, so app_metadata is on.
	// refresh_interval stays at the minute a real org should not go under.
	cfg := fmt.Sprintf(`stale_after: 90d
orgs:
  - name: demo
    login_url: http://%s
    refresh_interval: 1m
    api_budget_percent: 80
    sources:
      limits: {interval: 15s}
      apps: {interval: 15s}
      oauth_tokens: {interval: 15s}
      external_client_apps: {interval: 30s}
      sessions: {interval: 15s}
      logins: {interval: 15s}
      api_usage: {interval: 15s}
      threat_detection: {enabled: true, interval: 30s}
      posture: {interval: 15s}
      app_metadata: {enabled: true, interval: 30s}
%s    auth:
      flow: client_credentials
      client_id: %s
      client_secret_file: client-secret
detection:
  min_baseline: 1d # the demo's org has a week of history
  ioc_lists:
    - name: demo
      file: demo-ioc.txt
inventory:
%s`, ln.Addr(), stream, creds.ClientID, inv.String())
	path := filepath.Join(dir, "demo.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		if sh != nil {
			sh.close()
		}
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	return &demoRun{dir: dir, configFile: path, srv: srv, cancel: cancel, url: "http://" + ln.Addr().String(), surgeAfter: surgeAfter, history: demoHistory(demo), shield: sh}, nil
}

// demoHistory is the demo org's token history: each installed app's users
// at the start, on each of the days the high-water marks look back over.
func demoHistory(demo *sftest.Demo) []snapshot.HistoryDay {
	apps := demo.Org.Apps()
	today := demo.Org.Now().UTC().Truncate(24 * time.Hour)
	var rows []snapshot.HistoryDay
	for name, users := range demo.StartUsers() {
		a := apps[demo.Org.AppIndex(name)]
		if !a.Installed {
			continue
		}
		for i := 2; i <= snapshot.HighWaterDays+1; i++ {
			rows = append(rows, snapshot.HistoryDay{Day: today.AddDate(0, 0, -i), App: a.Name, AppID: a.ID, Kind: snapshot.KindConnectedApp, Users: int64(users), HasTokens: true})
		}
	}
	return rows
}

// logStart logs the demo's start line, with the commands that run against
// it while it runs (its folder is deleted on exit). storage is the serving
// exporter's state folder, which review reads for its history.
func (d *demoRun) logStart(logger *slog.Logger, binary, storage string) {
	cfg := "--config.file=" + shellQuote(d.configFile)
	logger.Info("Demo org started: an unknown app and an API surge appear after surge_after; while it runs, try the commands below in another shell",
		"fake_salesforce", d.url, "surge_after", d.surgeAfter, "demo_folder", d.dir,
		"check", binary+" check "+cfg,
		"review", binary+" review "+cfg+" --storage.path="+shellQuote(storage),
		"revoke", binary+" revoke "+cfg+" --org=demo --app='My Data Loader Pro'",
		"inventory", binary+" review "+cfg+" --storage.path="+shellQuote(storage)+" --format=inventory")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
