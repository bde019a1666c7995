package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/e2eharness"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// binary is the exporter, built once for the package's tests by TestMain.
var binary string

// repoRoot is the repository's root, where the README and the deployment
// files are.
const repoRoot = "../.."

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sfoe-e2e-")
	if err != nil {
		panic(err)
	}
	binary, err = e2eharness.Build(dir, os.Getenv("E2E_RACE") != "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// exporter is a running exporter process (e2eharness.Exporter), with the
// test's own short names for its process, address and exit.
type exporter struct {
	*e2eharness.Exporter
	cmd  *exec.Cmd
	addr string
	done chan error
}

func startExporter(t *testing.T, args ...string) *exporter {
	t.Helper()
	return startBinary(t, binary, args...)
}

// startBinary is startExporter with another build of the exporter.
func startBinary(t *testing.T, bin string, args ...string) *exporter {
	t.Helper()
	h, err := e2eharness.Start(bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	e := &exporter{Exporter: h, cmd: h.Cmd, addr: h.Addr, done: h.Done}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("exporter log:\n%s", e.log())
		}
	})
	return e
}

func (e *exporter) log() string { return e.Log() }

func (e *exporter) scrape(t *testing.T) map[string]*metricFamily {
	t.Helper()
	m, err := e.Scrape()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type metricFamily = e2eharness.MetricFamily

// waitLimit is how long a test waits for the exporter before it calls it
// stuck (e2eharness.WaitLimit). It bounds a hang; it measures nothing.
const waitLimit = e2eharness.WaitLimit

// waitFor scrapes until cond holds.
func (e *exporter) waitFor(t *testing.T, what string, cond func(map[string]*metricFamily) bool) map[string]*metricFamily {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		m := e.scrape(t)
		if cond(m) {
			return m
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
	return nil
}

func value(m map[string]*metricFamily, name string, labels ...string) (float64, bool) {
	return e2eharness.Value(m, name, labels...)
}

// readmeMetrics returns the metric names in the README's metrics table.
func readmeMetrics(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "<!-- metrics-table-start -->")
	end := strings.Index(s, "<!-- metrics-table-end -->")
	if start < 0 || end < start {
		t.Fatal("README has no metrics table markers")
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)`").FindAllStringSubmatch(s[start:end], -1) {
		out[m[1]] = true
	}
	return out
}

// TestDemoServesEveryDocumentedMetric runs the binary on its demo org, waits
// for the surge, and checks the output against the README's metrics table in
// both directions, and with promtool.
func TestDemoServesEveryDocumentedMetric(t *testing.T) {
	t.Parallel()
	// In Shield mode, so the stream's metrics are served too.
	e := startExporter(t, "--demo", "--demo.surge-after=1s", "--demo.shield")
	m := e.waitFor(t, "the demo's surge app with sessions and logins, and its stream", func(m map[string]*metricFamily) bool {
		v, ok := value(m, "salesforce_connected_app_oauth_tokens", "org=demo", "app=My Data Loader Pro", "app_id=")
		_, logins := value(m, "salesforce_connected_app_oauth_logins", "org=demo", "app=My Data Loader Pro", "app_id=", "result=success", "window=24h")
		up, _ := value(m, "salesforce_up", "org=demo")
		// The replay of the surge flags the integration's day: its hold starts.
		held := m["salesforce_connected_app_api_new_network_hold_start_timestamp_seconds"] != nil
		// A posture read after the surge finds its changes.
		changed := m["salesforce_connected_app_posture_change_timestamp_seconds"] != nil && m["salesforce_org_permission_holders_increase_timestamp_seconds"] != nil
		connected, _ := value(m, "salesforce_stream_connected", "org=demo", "topic=/event/ApiEventStream")
		streamed := m["salesforce_stream_last_event_timestamp_seconds"] != nil && m["salesforce_stream_app_requests_total"] != nil &&
			m["salesforce_connected_app_rows_processed_24h"] != nil
		return ok && v == 20 && logins && up == 1 && held && changed && connected == 1 && streamed
	})
	documented := readmeMetrics(t)
	for name := range m {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue
		}
		if !documented[name] {
			t.Errorf("metric %s is served but not in the README's metrics table", name)
		}
	}
	for name := range documented {
		// In Shield mode the stream reads the API events, and api_events
		// is off (the two would count the same calls): the demo without
		// it serves its metrics (TestDemoIsQuietAndNamesItsCommands).
		// The rows' daily mark needs a whole day counted by the stream
		// (refresh's TestAPIEventsRowsLedgerAcrossDaysAndRestart).
		if m[name] == nil && !strings.HasPrefix(name, "salesforce_api_events_") && name != "salesforce_connected_app_rows_processed_daily_max" {
			t.Errorf("metric %s is in the README but the demo does not serve it", name)
		}
	}
	// The info metric says what the alerts need.
	if v, ok := value(m, "salesforce_connected_app_info", "org=demo", "app=My Data Loader Pro", "app_id=", "kind=connected_app", "installed=false", "known=false", "owner=", "admin_approved="); !ok || v != 1 {
		t.Errorf("info series for the phishing app missing: %v", m["salesforce_connected_app_info"].Series)
	}
	if v, _ := value(m, "salesforce_inactive_users_with_oauth_tokens", "org=demo"); v != 7 {
		t.Errorf("inactive users with tokens = %v, want 7", v)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(m["salesforce_up"].Raw)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Error("promtool not on PATH")
	}
	// SIGTERM stops it cleanly.
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-e.done:
		e.done <- err
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		t.Error("no exit within a minute of SIGTERM")
	}
}

// writeConfig writes a config for a fake org served at url.
func writeConfig(t *testing.T, dir, url, extra string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`orgs:
  - name: prod
    login_url: %s
    refresh_interval: 10s
    auth:
      flow: client_credentials
      client_id: %s
      client_secret_file: secret
%s`, url, sftest.TestCredentials.ClientID, extra)
	p := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// setRefreshInterval replaces the 10s refresh_interval writeConfig wrote in
// cfg with lines, which may add keys of the org after it.
func setRefreshInterval(t *testing.T, cfg, lines string) {
	t.Helper()
	if err := os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "refresh_interval: 10s", lines, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBinaryMatchesGroundTruth runs the binary against a fake org in the
// test process and compares every token metric with the org's ground truth.
func TestBinaryMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 30000, Apps: 40, Users: 5000, Seed: 11})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "inventory:\n  - app: App 000\n    owner: core@example.com\n")
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"))
	m := e.waitFor(t, "oauth_tokens up", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_source_up", "org=prod", "source=oauth_tokens")
		return v == 1
	})
	checkTokenTruth(t, org, m)
	truth, _ := org.GroundTruth(90 * 24 * time.Hour)
	for _, a := range org.Apps() {
		if _, ok := truth[a.Name]; !ok {
			continue // an app nobody authorized
		}
		id := a.ID
		if !a.Installed {
			id = ""
		}
		l := []string{"org=prod", "app=" + a.Name, "app_id=" + id}
		known := strconv.FormatBool(a.Name == "App 000")
		owner := map[bool]string{true: "core@example.com", false: ""}[a.Name == "App 000"]
		approved := "false"
		if !a.Installed {
			approved = "" // no AppMenuItem or ConnectedApplication row to say
		}
		if v, ok := value(m, "salesforce_connected_app_info", append(l, "kind=connected_app", "installed="+strconv.FormatBool(a.Installed), "known="+known, "owner="+owner, "admin_approved="+approved)...); !ok || v != 1 {
			t.Errorf("info for %s missing or wrong", a.Name)
		}
	}
	used, maxReq := org.APIUsage()
	if v, _ := value(m, "salesforce_org_daily_api_requests_limit", "org=prod"); v != float64(maxReq) {
		t.Errorf("limit = %v, want %d", v, maxReq)
	}
	if v, _ := value(m, "salesforce_org_daily_api_requests_remaining", "org=prod"); v < float64(maxReq-used) || v > float64(maxReq) {
		t.Errorf("remaining = %v, want about %d", v, maxReq-used)
	}
}

// checkTokenTruth compares every token metric of org "prod" with the fake
// org's ground truth: nothing lost, nothing counted twice.
func checkTokenTruth(t *testing.T, org *sftest.Org, m map[string]*metricFamily) {
	t.Helper()
	truth, inactive := org.GroundTruth(90 * 24 * time.Hour)
	for _, a := range org.Apps() {
		w, ok := truth[a.Name]
		if !ok {
			continue
		}
		id := a.ID
		if !a.Installed {
			id = ""
		}
		l := []string{"org=prod", "app=" + a.Name, "app_id=" + id}
		for metric, want := range map[string]float64{
			"salesforce_connected_app_oauth_tokens":                       float64(w.Tokens),
			"salesforce_connected_app_authorized_users":                   float64(w.Users),
			"salesforce_connected_app_oauth_token_uses":                   float64(w.Uses),
			"salesforce_connected_app_stale_oauth_tokens":                 float64(w.Stale),
			"salesforce_connected_app_inactive_user_oauth_tokens":         float64(w.InactiveTokens),
			"salesforce_connected_app_first_authorized_timestamp_seconds": float64(w.FirstAuthorized.UnixMilli()) / 1000,
			"salesforce_connected_app_last_used_timestamp_seconds":        float64(w.LastUsed.UnixMilli()) / 1000,
		} {
			got, ok := value(m, metric, l...)
			if !ok || got != want {
				t.Errorf("%s{%s} = %v (present %v), want %v", metric, strings.Join(l, ","), got, ok, want)
			}
		}
	}
	if v, _ := value(m, "salesforce_inactive_users_with_oauth_tokens", "org=prod"); v != float64(inactive) {
		t.Errorf("inactive users = %v, want %d", v, inactive)
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	run := func(args ...string) (int, string) {
		cmd := exec.Command(binary, args...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return code, string(out)
	}
	if code, out := run(); code != 1 || !strings.Contains(out, "--config.file") || !strings.Contains(out, "--demo") {
		t.Errorf("no config: exit %d, %q", code, out)
	}
	dir := t.TempDir()
	good := writeConfig(t, dir, "https://acme.my.salesforce.com", "")
	if code, out := run("--config.file="+good, "--config.check"); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("check good: exit %d, %q", code, out)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("orgs:\n  - name: x\n    colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := run("--config.file="+bad, "--config.check"); code != 1 || !strings.Contains(out, "bad.yml:3: colour: unknown key") {
		t.Errorf("check bad: exit %d, %q", code, out)
	}
	if code, out := run("--config.file=" + bad); code != 1 || !strings.Contains(out, "unknown key") {
		t.Errorf("serve bad: exit %d, %q", code, out)
	}
	if code, _ := run("--version"); code != 0 {
		t.Errorf("--version: exit %d", code)
	}
	if code, out := run("--web.listen-address=nonsense:xx", "--demo"); code != 1 {
		t.Errorf("bad listen address: exit %d, %q", code, out)
	}
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 500, Apps: 5, Users: 100, Seed: 2})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--web.enable-lifecycle")
	e.waitFor(t, "first refresh", func(m map[string]*metricFamily) bool { v, _ := value(m, "salesforce_up", "org=prod"); return v == 1 })
	// A bad config: kept out, by SIGHUP and by /-/reload.
	if err := os.WriteFile(cfg, []byte("orgs: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = e.cmd.Process.Signal(syscall.SIGHUP)
	e.waitFor(t, "reload failure reported", func(m map[string]*metricFamily) bool {
		v, ok := value(m, "salesforce_exporter_config_last_reload_successful")
		return ok && v == 0
	})
	resp, err := http.Post(e.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("/-/reload with a bad config: %d", resp.StatusCode)
	}
	if v, _ := value(e.scrape(t), "salesforce_up", "org=prod"); v != 1 {
		t.Error("org data lost after a failed reload")
	}
	// A good one with a new inventory entry: applied without a restart of the org.
	writeConfig(t, dir, ts.URL, "inventory:\n  - app: App 000\n    owner: o@example.com\n")
	resp, err = http.Post(e.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/-/reload with a good config: %d", resp.StatusCode)
	}
	e.waitFor(t, "inventory applied", func(m map[string]*metricFamily) bool {
		for k := range m["salesforce_connected_app_info"].Series {
			if strings.Contains(k, "app=App 000,") && strings.Contains(k, "known=true") {
				return true
			}
		}
		return false
	})
	// The first scrape after a failed reload reports it: nothing is served
	// from a body encoded before the reload.
	if v, _ := value(e.scrape(t), "salesforce_exporter_config_last_reload_successful"); v != 1 {
		t.Fatalf("config_last_reload_successful = %v after a good reload, want 1", v)
	}
	if err := os.WriteFile(cfg, []byte("orgs: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(e.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v, ok := value(e.scrape(t), "salesforce_exporter_config_last_reload_successful"); !ok || v != 0 {
		t.Errorf("first scrape after a failed reload: config_last_reload_successful = %v (present %v), want 0", v, ok)
	}
	writeConfig(t, dir, ts.URL, "")
	// Without the flag, /-/reload does not exist.
	e2 := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data2"))
	resp, err = http.Post(e2.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Error("/-/reload works without --web.enable-lifecycle")
	}
	_ = context.Background()
}
