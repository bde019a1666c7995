package e2e

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/e2eharness"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/mixin"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// proc is a child process, stopped by PID when the test ends, pass or fail.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		// Stop the whole process group by PID; escalate if it lingers.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("---- %s output (last 4 kB) ----\n%s", name, tail(p.log(), 4096))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitLimit is how long a test waits for a component before it calls it
// stuck: generous, since under the race detector on a loaded two-core CI
// machine everything is slower. It bounds a hang; it measures nothing.
const waitLimit = 3 * time.Minute

func waitHTTP(t *testing.T, url string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.name, tail(p.log(), 4096))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer at %s", p.name, url)
}

// tool finds a pinned tool on PATH; outside CI a missing one skips the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not on PATH; make test installs it", name)
		}
		t.Skipf("%s not on PATH (make test installs it)", name)
	}
	return p
}

// notification is one alert as Alertmanager's webhook sends it.
type notification struct {
	Status   string            `json:"status"`
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	received time.Time
}

// receiver collects Alertmanager webhook notifications.
type receiver struct {
	mu     sync.Mutex
	alerts []notification
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var msg struct {
			Alerts []notification `json:"alerts"`
		}
		b, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Errorf("webhook: %v: %s", err, b)
			return
		}
		now := time.Now()
		r.mu.Lock()
		for _, a := range msg.Alerts {
			a.received = now
			r.alerts = append(r.alerts, a)
		}
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// firstFiring returns when an alert with these labels first arrived firing.
func (r *receiver) firstFiring(match map[string]string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.alerts {
		if a.Status == "firing" && matches(a.Labels, match) {
			return a.received, true
		}
	}
	return time.Time{}, false
}

func (r *receiver) resolved(match map[string]string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.alerts {
		if a.Status == "resolved" && matches(a.Labels, match) {
			return true
		}
	}
	return false
}

func (r *receiver) all() []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notification(nil), r.alerts...)
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// stackConfig is what differs between runs of the chain.
type stackConfig struct {
	names []string // the orgs, in the exporter's config order
	orgs  map[string]*scenarioOrg
	// mixin is merged into testConfig: "+ { sourceFailingFor: '90s' }".
	mixin string
	// exporterExtra is appended to the exporter's config (a detection: section).
	exporterExtra string
	// inhibit loads the mixin's Alertmanager inhibition rules.
	inhibit bool
	// twoTargets scrapes the one exporter through two targets (two instance labels).
	twoTargets bool
	// orgExtra is appended to an org's config entry, by org name (a
	// stream: block, indented four spaces).
	orgExtra map[string]string
	// exporterEnv is added to the exporter's environment (SSL_CERT_FILE).
	exporterEnv []string
	// scrapeInterval and evalInterval are Prometheus's (1s when empty).
	scrapeInterval, evalInterval string
}

// stack is one run of the real chain: the exporter binary over the fake
// orgs (every source every 2s), a real Prometheus scraping it every second
// and evaluating the mixin rendered at test size, a real Alertmanager, and
// a webhook receiver in the test.
type stack struct {
	dir                    string
	exporterAddr, promAddr string
	exporterArgs           []string
	exporterEnv            []string
	exporter               *e2eharness.Exporter
	hook                   *receiver
}

// exporterBuild is the exporter binary, built once for the package's tests.
var exporterBuild e2eharness.Once

// buildExporter builds the exporter once per test binary; the binary lives
// in a folder that TestMain removes.
func buildExporter(t *testing.T) string {
	t.Helper()
	bin, err := exporterBuild.Build(buildDir, false)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildDir holds what the package's tests build.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sfoe-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startExporterEnv starts the exporter binary with args, and env added to
// its environment, and returns once it listens; it is stopped (SIGTERM,
// then a kill) when the test ends.
func startExporterEnv(t *testing.T, name string, env []string, args ...string) *e2eharness.Exporter {
	t.Helper()
	e, err := e2eharness.StartEnv(buildExporter(t), env, args...)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = e.Stop()
		if t.Failed() {
			t.Logf("---- %s output (last 4 kB) ----\n%s", name, tail(e.Log(), 4096))
		}
	})
	return e
}

// rendered keeps each mixin configuration's rendering for the package's
// stacks (a rendering takes seconds under -race); they only read it.
var rendered = struct {
	sync.Mutex
	by map[string]func() (*mixin.Rendered, error)
}{by: map[string]func() (*mixin.Rendered, error){}}

func renderMixin(config string) (*mixin.Rendered, error) {
	rendered.Lock()
	once, ok := rendered.by[config]
	if !ok {
		once = sync.OnceValues(func() (*mixin.Rendered, error) { return mixin.Render(config) })
		rendered.by[config] = once
	}
	rendered.Unlock()
	return once()
}

func startStack(t *testing.T, c stackConfig) *stack {
	t.Helper()
	promBin, amBin := tool(t, "prometheus"), tool(t, "alertmanager")
	s := &stack{dir: t.TempDir()}
	dir := s.dir
	writeFile(t, dir, "secret", sftest.TestCredentials.ClientSecret)
	var cfg strings.Builder
	cfg.WriteString("orgs:\n")
	for _, name := range c.names {
		fmt.Fprintf(&cfg, "  - name: %s\n    login_url: %s\n    refresh_interval: 2s\n    timeout: 30s\n    api_budget_percent: 100\n    sources:\n", name, c.orgs[name].ts.URL)
		for _, src := range []string{"oauth_tokens", "apps", "sessions", "logins", "api_usage", "limits", "external_client_apps"} {
			fmt.Fprintf(&cfg, "      %s: {interval: 2s}\n", src)
		}
		fmt.Fprintf(&cfg, "    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", sftest.TestCredentials.ClientID)
		cfg.WriteString(c.orgExtra[name])
	}
	cfg.WriteString("inventory:\n")
	for _, a := range inventory {
		fmt.Fprintf(&cfg, "  - app: %s\n    owner: owner@example.com\n", a)
	}
	cfg.WriteString(c.exporterExtra)
	s.exporterAddr = freeAddr(t)
	s.exporterArgs = []string{"--config.file=" + writeFile(t, dir, "exporter.yml", cfg.String()),
		"--storage.path=" + filepath.Join(dir, "state"), "--web.listen-address=" + s.exporterAddr}
	s.exporterEnv = c.exporterEnv
	s.exporter = startExporterEnv(t, "exporter", s.exporterEnv, s.exporterArgs...)

	r, err := renderMixin(testConfig + c.mixin)
	if err != nil {
		t.Fatal(err)
	}
	alertsFile := writeFile(t, dir, "alerts.yaml", string(r.Alerts))
	rulesFile := writeFile(t, dir, "rules.yaml", string(r.Rules))

	var inhibit []byte
	if c.inhibit {
		if inhibit, err = os.ReadFile(filepath.Join("..", "mixin", "alertmanager", "inhibit_rules.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	s.hook = newReceiver(t)
	amAddr := freeAddr(t)
	amCfg := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: hook
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
%s`, s.hook.srv.URL, inhibit))
	am := start(t, "alertmanager", amBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitHTTP(t, "http://"+amAddr+"/-/ready", am)

	targets := fmt.Sprintf("%q", s.exporterAddr)
	if c.twoTargets {
		// One exporter, two targets: 127.0.0.1:port and localhost:port.
		_, port, _ := strings.Cut(s.exporterAddr, ":")
		targets += fmt.Sprintf(", %q", "localhost:"+port)
	}
	s.promAddr = freeAddr(t)
	promCfg := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: %s
  evaluation_interval: %s
rule_files: [%q, %q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: salesforce
    static_configs:
      - targets: [%s]
`, cmp.Or(c.scrapeInterval, "1s"), cmp.Or(c.evalInterval, "1s"), alertsFile, rulesFile, amAddr, targets))
	prom := start(t, "prometheus", promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+s.promAddr, "--rules.alert.resend-delay=1s")
	waitHTTP(t, "http://"+s.promAddr+"/-/ready", prom)
	return s
}

// restartExporter stops the exporter (SIGTERM), leaves it down for down (a
// few failed scrapes mark every series stale), and starts it again with the
// same flags and state folder. It returns when the new one listens.
func (s *stack) restartExporter(t *testing.T, down time.Duration) {
	t.Helper()
	_ = s.exporter.Stop() // its exit status after SIGTERM is not the point
	time.Sleep(down)
	s.exporter = startExporterEnv(t, "exporter (restarted)", s.exporterEnv, s.exporterArgs...)
}
