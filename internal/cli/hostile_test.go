package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// Issue 18's attacks against the binary: each shows the bound or the refusal.

func runBinary(t *testing.T, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	code, out, _ := runBinaryRSS(t, timeout, args...)
	return code, out
}

// runBinaryRSS runs the binary to its end, like runBinary, and also returns
// its peak resident set in bytes: VmHWM, read every few milliseconds while
// it runs (a high-water mark, so the last reading misses at most the last
// milliseconds); 0 when it ended before the first reading.
func runBinaryRSS(t *testing.T, timeout time.Duration, args ...string) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var rss int64
	deadline := time.After(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			if v := vmHWM(cmd.Process.Pid); v > rss {
				rss = v
			}
			if rss > 512<<20 { // a regression must not take the machine's memory
				_ = cmd.Process.Kill()
				<-done //nolint:errcheck // killed: the exit status is an error by design
				t.Fatalf("%v: killed at %d MB of RSS, growing without bound", args, rss>>20)
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done //nolint:errcheck // killed: the exit status is an error by design
			t.Fatalf("%v did not finish within %v (hung)", args, timeout)
		}
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return code, out.String(), rss
}

// runHostile is runBinary for an attack: it logs the run's peak RSS and
// fails the test over 200 MB.
func runHostile(t *testing.T, what string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	code, out, rss := runBinaryRSS(t, timeout, args...)
	if rss > 0 {
		checkRSS(t, what, rss)
	}
	return code, out
}

// checkRSS logs an attack's peak RSS and fails the test over 200 MB.
func checkRSS(t *testing.T, what string, rss int64) {
	t.Helper()
	t.Logf("%s: exporter peak RSS %d MB", what, rss>>20)
	if rss > 200<<20 {
		t.Errorf("%s: exporter peak RSS %d MB, over 200 MB", what, rss>>20)
	}
}

// peakRSS is a process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	v := vmHWM(pid)
	if v == 0 {
		t.Fatal("no VmHWM")
	}
	return v
}

// vmHWM is a running process's VmHWM in bytes, 0 when /proc does not say.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestHostileSecretFiles: a FIFO or /dev/zero as the config file or the
// secret file does not hang --config.check; it is refused with a message
// naming the file or the key.
func TestHostileSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero"} {
		// As the config file itself: refused at once, neither read without
		// end (it used to read /dev/zero until memory ran out) nor hung.
		code, out := runHostile(t, "config file "+filepath.Base(p), 20*time.Second, "--config.file="+p, "--config.check")
		if code != 1 || !strings.Contains(out, "read config "+p) || !strings.Contains(out, "not a regular file") {
			t.Errorf("--config.file=%s: exit %d, %q", p, code, out)
		}
		cfg := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: %s}\n", p)), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out = runHostile(t, "secret file "+filepath.Base(p), 20*time.Second, "--config.file="+cfg, "--config.check")
		if code != 1 || !strings.Contains(out, "client_secret_file") || !strings.Contains(out, "not a regular file") {
			t.Errorf("%s: exit %d, %q", p, code, out)
		}
	}
}

// TestRevokeBadRate: --rate=NaN used to panic; every bad rate is refused
// with a message that says what to give.
func TestRevokeBadRate(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, t.TempDir(), "https://acme.my.salesforce.com", "")
	for _, r := range []string{"NaN", "Inf", "-Inf", "0", "-1", "51", "0.001"} {
		code, out := runHostile(t, "revoke --rate="+r, 20*time.Second, "revoke", "--config.file="+cfg, "--org=prod", "--app=X", "--rate="+r)
		if code != 1 || !strings.Contains(out, "--rate") || !strings.Contains(out, "from 0.01 to 50") || strings.Contains(out, "panic") {
			t.Errorf("--rate=%s: exit %d, %q", r, code, out)
		}
	}
}

// TestRevokeAgainstHostileEndpoint: a redirecting revoke endpoint revokes
// nothing and the binary says so (exit 3, no "revoked" in the audit log); an
// audit log on /dev/full stops the run before any token goes.
func TestRevokeAgainstHostileEndpoint(t *testing.T) {
	t.Parallel()
	org := faultOrgSized(300)
	app := org.Apps()[0].Name
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	before := org.TokenCount()
	srv.SetRevokeBehaviour(sftest.RevokeBehaviour{RedirectTo: ts.URL + "/services/data/v66.0/limits/"})
	audit := filepath.Join(dir, "audit.jsonl")
	code, out := runHostile(t, "revoke against a redirecting endpoint", time.Minute, "revoke", "--config.file="+cfg, "--org=prod", "--app="+app, "--confirm", "--rate=50", "--audit-log="+audit)
	if code != 3 || !strings.Contains(out, "Revoked 0,") || org.TokenCount() != before {
		t.Errorf("redirect: exit %d, tokens %d -> %d:\n%s", code, before, org.TokenCount(), tailStr(out, 600))
	}
	if b := mustRead(t, audit); strings.Contains(b, `"outcome":"revoked"`) || !strings.Contains(b, `"outcome":"failed"`) {
		t.Errorf("audit log after redirects:\n%s", tailStr(b, 600))
	}
	srv.SetRevokeBehaviour(sftest.RevokeBehaviour{})
	if _, err := os.Stat("/dev/full"); err == nil {
		code, out = runHostile(t, "revoke with the audit log on /dev/full", time.Minute, "revoke", "--config.file="+cfg, "--org=prod", "--app="+app, "--confirm", "--rate=50", "--audit-log=/dev/full")
		if code == 0 || !strings.Contains(out, "write audit log") || org.TokenCount() != before || srv.Requests()["revoke"] == 0 {
			t.Errorf("/dev/full: exit %d, tokens %d -> %d:\n%s", code, before, org.TokenCount(), tailStr(out, 600))
		}
	}
	// The dry run shows the app id and whether the app is installed.
	code, out = runBinary(t, time.Minute, "revoke", "--config.file="+cfg, "--org=prod", "--app-id="+org.Apps()[0].ID)
	if code != 0 || !strings.Contains(out, "App id") || !strings.Contains(out, org.Apps()[0].ID[:15]) || !strings.Contains(out, "Installed") {
		t.Errorf("dry run by --app-id: exit %d:\n%s", code, tailStr(out, 600))
	}
}

// TestHugeCSVFieldBounded: an ApiTotalUsage file with a 4 MiB
// CONNECTED_APP_NAME and a short row is ingested: the good rows count, the
// bad ones are skipped, and neither the name nor much memory reaches the
// exporter.
func TestHugeCSVFieldBounded(t *testing.T) {
	t.Parallel()
	org := faultOrg()
	s := newStack(t, org, sftest.TestCredentials)
	apps := org.Apps()
	huge := strings.Repeat("N", 4<<20)
	// Yesterday's Daily file re-issued: a real org lists no file of a day
	// that has not ended.
	ld := org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	org.AddLogFile(&sftest.LogFile{LogDate: ld, Retention: 30 * 24 * time.Hour, Rows: []sftest.UsageRow{
		{AppID: apps[2].ID, AppName: apps[2].Name, StatusCode: 200, Count: 700},
		{AppID: apps[3].ID, AppName: huge, StatusCode: 200, Count: 3},
		{AppID: apps[2].ID, AppName: apps[2].Name, StatusCode: 200, Count: 77},
	}})
	l := []string{"org=prod", "app=" + apps[2].Name, "app_id=" + apps[2].ID, "window=24h"}
	m := s.e.waitFor(t, "today's file counted without the huge rows", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_connected_app_api_requests", l...)
		return v == 777
	})
	for name, f := range m {
		if len(f.Raw) > 1<<20 || strings.Contains(string(f.Raw), "NNNNNNNN") {
			t.Errorf("%s: %d bytes, holds the huge name: %v", name, len(f.Raw), strings.Contains(string(f.Raw), "NNNNNNNN"))
		}
	}
	checkRSS(t, "a 4 MiB CONNECTED_APP_NAME", peakRSS(t, s.e.cmd.Process.Pid))
}

// TestSlowHeadersCutOff: a client that never finishes its request headers
// is disconnected after the read-header timeout, not held for ever.
func TestSlowHeadersCutOff(t *testing.T) {
	t.Parallel()
	// A day's read timeout: only the read-header timeout can close the
	// connection within the guard below.
	e := startExporter(t, "--demo", "--web.read-timeout=24h")
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The deadline is a hang guard only: that the server closed the
	// connection shows in the error (EOF, not the guard's timeout).
	_ = conn.SetReadDeadline(time.Now().Add(httpReadHeaderTimeout + 5*time.Minute))
	_, err = bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	if d := time.Since(start); err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("after %v: err %v; want the connection closed by the server after its %v timeout", d, err, httpReadHeaderTimeout)
	}
	checkRSS(t, "a client that never finishes its headers", peakRSS(t, e.cmd.Process.Pid))
	srv := newHTTPServer(nil, defaultHTTPBounds)
	if srv.ReadTimeout <= 0 || srv.WriteTimeout < 3*time.Minute || srv.IdleTimeout <= 0 || srv.IdleTimeout > 5*time.Minute {
		t.Errorf("server bounds: read %v write %v idle %v", srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}

// TestHugeLimitsBodyBounded: a /limits answer of 20 MiB (1 MiB is the
// bound) fails that source alone; the exporter stays small and serves the
// rest.
func TestHugeLimitsBodyBounded(t *testing.T) {
	t.Parallel()
	s := newStack(t, faultOrg(), sftest.TestCredentials)
	s.e.waitFor(t, "all sources up", allUp)
	s.srv.Inject(sftest.Fault{Path: "/limits", Count: 1 << 30, Status: 200,
		Body: `{"DailyApiRequests":{"Max":1,"Remaining":1,"x":"` + strings.Repeat("L", 20<<20) + `"}}`})
	s.e.waitFor(t, "limits down, the others up", func(m map[string]*metricFamily) bool {
		return sourceUp("limits", 0)(m) && sourceUp("oauth_tokens", 1)(m) && sourceUp("api_usage", 1)(m)
	})
	time.Sleep(3 * time.Second) // a few more refreshes of the huge body
	if !strings.Contains(s.e.log(), "response body too large") {
		t.Error("the log does not say the body was too large")
	}
	checkRSS(t, "a 20 MiB /limits body", peakRSS(t, s.e.cmd.Process.Pid))
}

// TestGigabyteCSVFieldBounded (issue 18 item 1 at full size): a gzip
// ApiTotalUsage file (about 1.3 MB) whose CONNECTED_APP_NAME is 1 GiB long
// once grew the exporter past 16 GB, ignored SIGTERM and left a 1.9 GB
// *.tmp-* state file. Now the row is skipped, counted and logged, the good
// rows count, the exporter stays small and keeps serving; a SIGTERM in the
// middle of the next such file stops it before that file is ingested, and
// no temporary file is left.
func TestGigabyteCSVFieldBounded(t *testing.T) {
	org := faultOrg()
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// A timeout long enough for a gigabyte on a busy machine: the bound under
	// test is memory and shutdown, not the timeout.
	sources := strings.Replace(fastSources, "timeout: 3s", "timeout: 5m", 1)
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n%s    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", ts.URL, sources, sftest.TestCredentials.ClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+data, "--log.level=debug")
	e.waitFor(t, "all sources up", allUp)
	apps := org.Apps()
	// Yesterday's Daily file re-issued: a real org lists no file of a day
	// that has not ended.
	ld := org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	file := func() *sftest.LogFile {
		return &sftest.LogFile{LogDate: ld, CreatedDate: org.Now(), Retention: 30 * 24 * time.Hour, Rows: []sftest.UsageRow{
			{AppID: apps[2].ID, AppName: apps[2].Name, StatusCode: 200, Count: 700},
			{AppID: apps[3].ID, AppName: "N", AppNameBytes: 1 << 30, StatusCode: 200},
			{AppID: apps[2].ID, AppName: apps[2].Name, StatusCode: 200, Count: 77},
		}}
	}
	first := file()
	org.AddLogFile(first) // builds and compresses the file before the exporter sees it
	added := time.Now()
	l := []string{"org=prod", "app=" + apps[2].Name, "app_id=" + apps[2].ID, "window=24h"}
	m := e.waitFor(t, "today's file counted without the huge row", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_connected_app_api_requests", l...)
		return v == 777
	})
	ingest := time.Since(added)
	t.Logf("a 1 GiB field: file ingested %v after it was listed", ingest.Round(time.Millisecond))
	if v, _ := value(m, "salesforce_api_usage_rows_skipped_total", "org=prod"); v < 1 {
		t.Errorf("rows skipped %v, want the huge row counted", v)
	}
	for name, f := range m {
		if len(f.Raw) > 1<<20 || strings.Contains(string(f.Raw), "NNNNNNNN") {
			t.Fatalf("%s: %d bytes of metrics, holding the huge name: %v", name, len(f.Raw), strings.Contains(string(f.Raw), "NNNNNNNN"))
		}
	}
	if lg := e.log(); !strings.Contains(lg, "Left malformed rows of an ApiTotalUsage file out of the counts") || strings.Contains(lg, "NNNNNNNN") {
		t.Errorf("the log does not say the row was left out, or holds the name:\n%s", tailStr(lg, 2000))
	}
	checkRSS(t, "a 1 GiB field", peakRSS(t, e.cmd.Process.Pid))
	e.scrape(t) // still serving

	// The file re-issued: SIGTERM once its download has begun.
	before := srv.Requests()["logfile"]
	again := file()
	org.AddLogFile(again)
	for srv.Requests()["logfile"] == before {
		if time.Since(added) > 2*time.Minute {
			t.Fatal("the re-issued file was never downloaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Now()
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var stop time.Duration
	select {
	case err := <-e.done:
		e.done <- err
		stop = time.Since(sent)
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Minute): // a hang guard only, far above any load
		t.Fatalf("no exit within 5m of SIGTERM (the first file took %v)", ingest)
	}
	// That the exit cut the ingest short is asserted below by what was
	// ingested (the re-issued file never is), not by comparing durations,
	// which depend on the machine's load.
	t.Logf("a 1 GiB field: exit %v after SIGTERM mid-download, %.3f of the first file's ingest time", stop.Round(time.Millisecond), float64(stop)/float64(ingest))
	ingested := func(f *sftest.LogFile) bool {
		return regexp.MustCompile(`Ingested ApiTotalUsage file"[^\n]* file=` + f.ID).MatchString(e.log())
	}
	if !ingested(first) || ingested(again) {
		t.Errorf("first file ingested %v, re-issued one %v: want only the first (the SIGTERM must land mid-ingest)", ingested(first), ingested(again))
	}
	tmps, _ := filepath.Glob(filepath.Join(data, "*.tmp-*"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestIdleAndSlowConnectionsCutOff (issue 18 item 13): 3,000 idle
// keep-alive connections and 1,000 clients that never finish their
// headers are each closed by the exporter once the configured
// --web.idle-timeout or --web.read-header-timeout has passed (never
// before), and the exporter stays small and keeps serving.
func TestIdleAndSlowConnectionsCutOff(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	e := startExporter(t, "--demo", "--web.idle-timeout="+timeout.String(), "--web.read-header-timeout="+timeout.String())
	addr := strings.TrimPrefix(e.addr, "http://")
	type result struct {
		kind string
		open time.Duration // from its dial to its close by the server
		err  error
	}
	results := make(chan result, 4000)
	dials := make(chan struct{}, 32) // many held connections, not a SYN flood
	attack := func(kind string, request string, fullRequest bool) {
		dials <- struct{}{}
		// The server's timeout starts once it accepted the connection (or,
		// for an idle one, once it wrote its answer): never before this.
		sent := time.Now()
		conn, err := net.Dial("tcp", addr)
		<-dials
		if err != nil {
			results <- result{kind: kind, err: err}
			return
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, request); err != nil {
			results <- result{kind: kind, err: err}
			return
		}
		br := bufio.NewReader(conn)
		if fullRequest {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				results <- result{kind: kind, err: fmt.Errorf("response: %w", err)}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Close {
				results <- result{kind: kind, err: fmt.Errorf("status %d, close %v: not a keep-alive answer", resp.StatusCode, resp.Close)}
				return
			}
		}
		_ = conn.SetReadDeadline(time.Now().Add(timeout + 30*time.Second))
		_, err = io.Copy(io.Discard, br)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			results <- result{kind: kind, err: fmt.Errorf("still open %v after its dial", time.Since(sent).Round(time.Second))}
			return
		}
		if err != nil {
			results <- result{kind: kind, err: fmt.Errorf("after %v: %w", time.Since(sent).Round(time.Millisecond), err)}
			return
		}
		results <- result{kind: kind, open: time.Since(sent)} // EOF: the server closed it
	}
	for range 3000 {
		go attack("idle keep-alive", "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n", true)
	}
	for range 1000 {
		go attack("slow headers", "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ", false)
	}
	open := map[string][]time.Duration{}
	failed := 0
	for range 4000 {
		r := <-results
		if r.err != nil {
			if failed++; failed <= 5 {
				t.Errorf("%s: %v", r.kind, r.err)
			}
			continue
		}
		open[r.kind] = append(open[r.kind], r.open)
	}
	for kind, ds := range open {
		slices.Sort(ds)
		t.Logf("%d %s connections closed by the exporter after %v (min), %v (median), %v (max); timeout %v", len(ds), kind, ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond), timeout)
		if ds[0] < timeout {
			t.Errorf("%s: a connection closed after %v, before the %v timeout", kind, ds[0], timeout)
		}
	}
	if failed > 0 {
		t.Errorf("%d of 4000 connections failed", failed)
	}
	checkRSS(t, "4000 held connections", peakRSS(t, e.cmd.Process.Pid))
	if resp, err := http.Get(e.addr + "/-/healthy"); err != nil || resp.StatusCode != 200 {
		t.Errorf("not serving after the attack: %v", err)
	} else {
		resp.Body.Close()
	}
}

// TestBadHTTPTimeoutRefused: a timeout flag of 0 (which would mean none)
// or over a day is refused at start, naming the flag.
func TestBadHTTPTimeoutRefused(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--web.idle-timeout=0s", "--web.read-header-timeout=-1s", "--web.write-timeout=48h", "--web.read-timeout=0s"} {
		code, out := runHostile(t, arg, 20*time.Second, "--demo", "--web.listen-address=127.0.0.1:0", arg)
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if code != 1 || !strings.Contains(out, "--"+name) || !strings.Contains(out, "must be over 0 and at most 24h") {
			t.Errorf("%s: exit %d, %q", arg, code, tailStr(out, 400))
		}
	}
}

// TestHugeStateFirstSeenPruned (issue 18 item 9, against the binary): a
// state file of the old format (no last-seen times) holding 200,000
// first-seen times of an org that cycled through app names is cut to
// max_apps_per_org entries after a restart, and every live app keeps its
// first-seen time, so SalesforceNewAppAuthorized does not fire again.
func TestHugeStateFirstSeenPruned(t *testing.T) {
	t.Parallel()
	s := newStack(t, faultOrg(), sftest.TestCredentials)
	first := s.e.waitFor(t, "all sources up", allUp)["salesforce_connected_app_first_seen_timestamp_seconds"]
	if first == nil || len(first.Series) == 0 {
		t.Fatal("no first-seen series")
	}
	if err := s.e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-s.e.done
	s.e.done <- err
	path := filepath.Join(s.dir, "data", "prod.state.json")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(mustRead(t, path)), &raw); err != nil {
		t.Fatal(err)
	}
	var seen map[string]time.Time
	if err := json.Unmarshal(raw["first_seen"], &seen); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-300 * 24 * time.Hour).UTC().Truncate(time.Second)
	live := len(seen)
	for k := range seen {
		seen[k] = long
	}
	for i := range 200_000 {
		seen[fmt.Sprintf("connected_app|Cycled app %06d||", i)] = long
	}
	delete(raw, "last_seen")
	raw["first_seen"], _ = json.Marshal(seen)
	b, _ := json.Marshal(raw)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("state file of %d first-seen times: %d KB", len(seen), len(b)>>10)

	e := startExporter(t, "--config.file="+s.cfg, "--storage.path="+filepath.Join(s.dir, "data"), "--log.level=debug")
	m := e.waitFor(t, "all sources up after the restart", allUp)
	deadline := time.Now().Add(time.Minute)
	var st struct {
		FirstSeen map[string]time.Time `json:"first_seen"`
		LastSeen  map[string]time.Time `json:"last_seen"`
	}
	for {
		st.FirstSeen, st.LastSeen = nil, nil
		if err := json.Unmarshal([]byte(mustRead(t, path)), &st); err == nil && len(st.FirstSeen) <= 5000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state still holds %d first-seen times", len(st.FirstSeen))
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := 0
	for k, fs := range st.FirstSeen {
		if !strings.Contains(k, "|Cycled app ") && fs.Equal(long) {
			n++
		}
	}
	if n != live || len(st.LastSeen) != len(st.FirstSeen) {
		t.Errorf("after the restart the state keeps %d of the %d live apps' first-seen times, %d last-seen times for %d", n, live, len(st.LastSeen), len(st.FirstSeen))
	}
	got := m["salesforce_connected_app_first_seen_timestamp_seconds"]
	if got == nil || len(got.Series) != len(first.Series) {
		t.Fatalf("first-seen series: %v before the restart, %v after", first.Series, got)
	}
	for l, v := range got.Series {
		if v != float64(long.Unix()) {
			t.Errorf("%s: first seen %v after the restart, want %v from the state", l, time.Unix(int64(v), 0).UTC(), long)
		}
	}
	if !strings.Contains(e.log(), "More first-seen times than max_apps_per_org") {
		t.Error("the log does not say first-seen times were forgotten")
	}
	checkRSS(t, "a state of 200,000 first-seen times", peakRSS(t, e.cmd.Process.Pid))
}

// TestRevokeOKWithErrorBody: a revoke endpoint answering 200 with
// {"error":"unsupported_token_type"} or with an HTML login page revokes
// nothing; the binary says so (exit 3, "Revoked 0", no "revoked" audit line)
// where it once reported every token revoked.
func TestRevokeOKWithErrorBody(t *testing.T) {
	t.Parallel()
	org := faultOrgSized(300)
	app := org.Apps()[0].Name
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	before := org.TokenCount()
	for i, b := range []sftest.RevokeBehaviour{{OKError: "unsupported_token_type"}, {OKLoginPage: true}} {
		srv.SetRevokeBehaviour(b)
		audit := filepath.Join(dir, fmt.Sprintf("audit%d.jsonl", i))
		code, out := runHostile(t, "revoke against a 200 with an error body", time.Minute, "revoke", "--config.file="+cfg, "--org=prod", "--app="+app, "--confirm", "--rate=50", "--audit-log="+audit)
		if code != 3 || !strings.Contains(out, "Revoked 0,") || org.TokenCount() != before {
			t.Errorf("%+v: exit %d, tokens %d -> %d:\n%s", b, code, before, org.TokenCount(), tailStr(out, 600))
		}
		if a := mustRead(t, audit); strings.Contains(a, `"outcome":"revoked"`) || !strings.Contains(a, `"outcome":"failed"`) {
			t.Errorf("%+v: audit log:\n%s", b, tailStr(a, 600))
		}
	}
	// Tokens revoked elsewhere a moment before: the org's form-encoded
	// invalid_token is read, the tokens are confirmed gone, and the run
	// succeeds (they were once counted failed).
	srv.SetRevokeBehaviour(sftest.RevokeBehaviour{GoneInvalid: 3})
	code, out := runHostile(t, "revoke of tokens already revoked", time.Minute, "revoke", "--config.file="+cfg, "--org=prod", "--app="+app, "--confirm", "--rate=50")
	if code != 0 || !strings.Contains(out, "already gone 3, failed 0") || org.TokenCount() >= before {
		t.Errorf("already revoked: exit %d, tokens %d -> %d:\n%s", code, before, org.TokenCount(), tailStr(out, 600))
	}
}
