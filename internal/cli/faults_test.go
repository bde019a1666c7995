package cli

import (
	endian "encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// stack is a fake org and the exporter binary watching it.
type stack struct {
	org *sftest.Org
	srv *sftest.Server
	url string
	dir string
	cfg string
	e   *exporter
}

const fastSources = `    refresh_interval: 1s
    timeout: 3s
    api_budget_percent: 100
    sources:
      oauth_tokens: {interval: 1s}
      apps: {interval: 1s}
      sessions: {interval: 1s}
      logins: {interval: 1s}
      api_usage: {interval: 1s}
      limits: {interval: 1s}
      external_client_apps: {interval: 1s}
`

// faultOrg has tokens, users, logins and a week of API usage.
func faultOrg() *sftest.Org { return faultOrgSized(3000) }

func faultOrgSized(tokens int) *sftest.Org { return faultOrgAt(tokens, time.Time{}) }

// faultOrgAt is faultOrgSized with the org's clock set to now (the zero now
// is the real clock). Each of the seven days before today has its Daily
// file, published an hour after the day ended; in the first hour of the day
// yesterday's is published as the clock starts (a real org lists no file it
// has not yet created, and a file re-issued later must have a later
// CreatedDate).
func faultOrgAt(tokens int, now time.Time) *sftest.Org {
	org := sftest.NewOrg()
	if !now.IsZero() {
		org.SetClock(now)
	}
	org.Generate(sftest.Scale{Tokens: tokens, Apps: 8, Users: 600 + tokens/10, Seed: 5})
	now = org.Now()
	apps := org.Apps()
	for d := 7; d >= 1; d-- {
		ld := now.UTC().Truncate(24 * time.Hour).Add(-time.Duration(d) * 24 * time.Hour)
		created := ld.Add(25 * time.Hour)
		if created.After(now) {
			created = now
		}
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: created, Retention: 30 * 24 * time.Hour, CRLF: d%2 == 1, Rows: []sftest.UsageRow{
			{AppID: apps[0].ID, AppName: apps[0].Name, StatusCode: 200, Count: 100 * d},
			{AppID: apps[1].ID[:15], AppName: apps[1].Name, StatusCode: 500, Count: d},
		}})
	}
	for i := range 40 {
		org.AddLogin(sftest.LoginSpec{User: 1 + i, App: apps[0].Name, Time: now.Add(-time.Duration(i) * time.Minute)})
	}
	return org
}

func newStack(t *testing.T, org *sftest.Org, creds sftest.Credentials, extraArgs ...string) *stack {
	t.Helper()
	srv, ts := sftest.Start(t, org, creds)
	s := &stack{org: org, srv: srv, url: ts.URL, dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.dir, "secret"), []byte(creds.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cfg = filepath.Join(s.dir, "config.yml")
	s.writeConfig(t, fastSources)
	s.e = startExporter(t, append([]string{"--config.file=" + s.cfg, "--storage.path=" + filepath.Join(s.dir, "data"), "--log.level=debug"}, extraArgs...)...)
	return s
}

func (s *stack) writeConfig(t *testing.T, sources string) {
	t.Helper()
	cfg := fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n%s    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", s.url, sources, sftest.TestCredentials.ClientID)
	if err := os.WriteFile(s.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sourceUp(source string, want float64) func(map[string]*metricFamily) bool {
	return func(m map[string]*metricFamily) bool {
		v, ok := value(m, "salesforce_source_up", "org=prod", "source="+source)
		return ok && v == want
	}
}

func allUp(m map[string]*metricFamily) bool {
	v, _ := value(m, "salesforce_up", "org=prod")
	return v == 1
}

// truthOK checks every token metric and the API usage against the org's
// ground truth: nothing lost, nothing counted twice.
func (s *stack) truthOK(t *testing.T, m map[string]*metricFamily) {
	t.Helper()
	checkTokenTruth(t, s.org, m)
	apps := s.org.Apps()
	// 100 * (7+6+...+1) requests for app 0; 1+...+7 errors for app 1.
	if v, _ := value(m, "salesforce_connected_app_api_requests", "org=prod", "app="+apps[0].Name, "app_id="+apps[0].ID, "window=7d"); v != 2800 {
		t.Errorf("app 0 requests 7d = %v, want 2800", v)
	}
	if v, _ := value(m, "salesforce_connected_app_api_errors", "org=prod", "app="+apps[1].Name, "app_id="+apps[1].ID, "window=7d"); v != 28 {
		t.Errorf("app 1 errors 7d = %v, want 28", v)
	}
}

// faultCase injects a fault, expects the status metrics to show it while the
// data stays, removes it, and expects recovery without a restart.
type faultCase struct {
	name   string
	inject func(s *stack)
	source string // a source expected to fail
	clear  func(s *stack)
	// byClock runs the case at each of midnightClocks instead of the real
	// clock: it depends on the dates of the org's log files.
	byClock bool
}

func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	jsonErr := `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]`
	html := "<html><body><h1>Service Temporarily Unavailable</h1></body></html>"
	forever := 1 << 30
	cases := []faultCase{
		{name: "01 503 burst with JSON bodies", source: "oauth_tokens",
			inject: func(s *stack) { s.srv.Inject(sftest.Fault{Path: "/query", Count: forever, Status: 503, Body: jsonErr}) }},
		{name: "02 502 and 503 with HTML bodies", source: "limits",
			inject: func(s *stack) {
				s.srv.Inject(sftest.Fault{Path: "/limits", Count: forever, Status: 502, Body: html, ContentType: "text/html"})
				s.srv.Inject(sftest.Fault{Path: "/query", Count: forever, Status: 503, Body: html, ContentType: "text/html"})
			}},
		{name: "04a token endpoint down", source: "oauth_tokens",
			inject: func(s *stack) {
				s.srv.Inject(sftest.Fault{Path: "/services/oauth2/token", Count: forever, Status: 503, Body: html, ContentType: "text/html"})
				s.srv.ExpireSessions()
			}},
		{name: "04b invalid_grant", source: "oauth_tokens",
			inject: func(s *stack) {
				s.srv.Inject(sftest.Fault{Path: "/services/oauth2/token", Count: forever, Status: 400, Body: `{"error":"invalid_grant","error_description":"expired access/refresh token"}`})
				s.srv.ExpireSessions()
			}},
		{name: "05 REQUEST_LIMIT_EXCEEDED", source: "oauth_tokens",
			inject: func(s *stack) { used, mx := s.org.APIUsage(); s.org.SetAPILimit(mx, max(used, mx)+1) },
			clear:  func(s *stack) { s.org.SetAPILimit(1_000_000, 0) }},
		{name: "06 malformed JSON in a page", source: "oauth_tokens",
			inject: func(s *stack) {
				s.srv.Inject(sftest.Fault{Path: "/query", Count: forever, Malformed: true, MatchQuery: "OauthToken"})
			}},
		{name: "07 truncated gzip log file", source: "api_usage", byClock: true,
			inject: func(s *stack) {
				s.srv.Inject(sftest.Fault{Path: "/LogFile", Count: forever, Truncate: true})
				s.reissueYesterday()
			}},
		{name: "09 responses slower than the refresh timeout", source: "limits",
			inject: func(s *stack) {
				s.srv.Inject(sftest.Fault{Path: "/limits", Count: forever, Delay: 5 * time.Second, Status: 200, Body: "{}"})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !tc.byClock {
				runFaultCase(t, tc, time.Time{})
				return
			}
			for _, clock := range midnightClocks() {
				t.Run(clock.name, func(t *testing.T) {
					t.Parallel()
					runFaultCase(t, tc, clock.at)
				})
			}
		})
	}
}

// runFaultCase runs a faultCase against a faultOrg whose clock is set to now
// (the zero now is the real clock).
func runFaultCase(t *testing.T, tc faultCase, now time.Time) {
	s := newStack(t, faultOrgAt(3000, now), sftest.TestCredentials)
	s.e.waitFor(t, "all sources up", allUp)
	before := s.e.scrape(t)
	s.truthOK(t, before)
	tc.inject(s)
	during := s.e.waitFor(t, tc.source+" down", sourceUp(tc.source, 0))
	if v, _ := value(during, "salesforce_up", "org=prod"); v != 0 {
		t.Error("salesforce_up stays 1 while a source fails")
	}
	// The last good data is still served.
	s.truthOK(t, during)
	if tc.clear != nil {
		tc.clear(s)
	}
	s.srv.ClearFaults()
	after := s.e.waitFor(t, "recovery", allUp)
	s.truthOK(t, after)
	if s.e.cmd.ProcessState != nil {
		t.Fatal("the exporter exited")
	}
}

// reissueYesterday re-issues yesterday's Daily file with the same counts: a
// new file to download that must change nothing.
func (s *stack) reissueYesterday() {
	apps := s.org.Apps()
	ld := s.org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	s.org.AddLogFile(&sftest.LogFile{LogDate: ld, Retention: 30 * 24 * time.Hour, Rows: []sftest.UsageRow{
		{AppID: apps[0].ID, AppName: apps[0].Name, StatusCode: 200, Count: 100},
		{AppID: apps[1].ID[:15], AppName: apps[1].Name, StatusCode: 500, Count: 1},
	}})
}

// addDayFile adds the Daily file of the day ld for app 2 with n requests.
func (s *stack) addDayFile(ld time.Time, n int) {
	apps := s.org.Apps()
	s.org.AddLogFile(&sftest.LogFile{LogDate: ld, Retention: 30 * 24 * time.Hour, Rows: []sftest.UsageRow{{AppID: apps[2].ID, AppName: apps[2].Name, StatusCode: 200, Count: n}}})
}

func TestTokenExpiryDuringCursors(t *testing.T) {
	t.Parallel()
	s := newStack(t, faultOrgSized(20000), sftest.TestCredentials)
	s.e.waitFor(t, "all sources up", allUp)
	// Every 10th request finds its session expired, in the middle of cursors.
	s.srv.ExpireEvery(10)
	time.Sleep(8 * time.Second)
	s.srv.ExpireEvery(0)
	m := s.e.waitFor(t, "all up", allUp)
	s.truthOK(t, m)
	if s.srv.Requests()["token"] < 5 {
		t.Errorf("only %d token requests: the 401s were not met", s.srv.Requests()["token"])
	}
	if strings.Contains(s.e.log(), `level=ERROR`) && strings.Contains(s.e.log(), "INVALID_SESSION_ID") {
		t.Error("an expired session surfaced as a refresh failure")
	}
}

// TestReissuedDailyFileReplacesCounts re-issues yesterday's Daily file
// (the newest a real org lists), then again an hour later. At 23:59 that
// hour is tomorrow's: the re-issue is still of the day it was first issued
// for, not a file of the new day.
func TestReissuedDailyFileReplacesCounts(t *testing.T) {
	t.Parallel()
	for _, clock := range midnightClocks() {
		t.Run(clock.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, faultOrgAt(3000, clock.at), sftest.TestCredentials)
			s.e.waitFor(t, "all sources up", allUp)
			apps := s.org.Apps()
			ld := s.org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
			l := []string{"org=prod", "app=" + apps[2].Name, "app_id=" + apps[2].ID}
			s.addDayFile(ld, 1000)
			s.e.waitFor(t, "the first file", func(m map[string]*metricFamily) bool {
				v, _ := value(m, "salesforce_connected_app_api_requests", append(l, "window=24h")...)
				return v == 1000
			})
			s.org.Advance(time.Hour)
			s.addDayFile(ld, 1500) // the same day, re-issued with new counts
			s.e.waitFor(t, "the re-issued file", func(m map[string]*metricFamily) bool {
				v, _ := value(m, "salesforce_connected_app_api_requests", append(l, "window=7d")...)
				return v == 1500
			})
			time.Sleep(3 * time.Second)
			// The 7-day window holds the day whatever the hour: 1,000 plus
			// 1,500 would be the re-issue added, not replacing.
			if v, _ := value(s.e.scrape(t), "salesforce_connected_app_api_requests", append(l, "window=7d")...); v != 1500 {
				t.Errorf("after the re-issue: %v, want 1500 (replaced, not added)", v)
			}
		})
	}
}

func TestOwnTokensOnlyReported(t *testing.T) {
	t.Parallel()
	s := newStack(t, faultOrg(), sftest.TestCredentials)
	s.e.waitFor(t, "all sources up", allUp)
	s.org.RestrictTokensToIntegrationUser(true)
	s.e.waitFor(t, "visibility limited", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_exporter_oauth_tokens_visibility_limited", "org=prod")
		return v == 1
	})
	s.org.RestrictTokensToIntegrationUser(false)
	s.e.waitFor(t, "visibility restored", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_exporter_oauth_tokens_visibility_limited", "org=prod")
		return v == 0
	})
}

// TestKillDuringStateWrites kills the exporter with SIGKILL at random moments
// while it writes its state and its token store, and restarts it: both
// files are always whole.
func TestKillDuringStateWrites(t *testing.T) {
	t.Parallel()
	org := faultOrg()
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	if err := os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "    refresh_interval: 10s\n", fastSources, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "data", "prod.state.json")
	tokens := filepath.Join(dir, "data", "prod.tokens")
	for i := range 12 {
		// A new log file every round keeps the state changing.
		apps := org.Apps()
		org.Churn(30, 5, uint64(i)) // and new token rows to write
		org.AddLogFile(&sftest.LogFile{Interval: "Hourly", LogDate: org.Now().UTC().Truncate(time.Hour).Add(-time.Duration(i+1) * time.Hour), Sequence: 1, Retention: 30 * 24 * time.Hour,
			Rows: []sftest.UsageRow{{AppID: apps[3].ID, AppName: apps[3].Name, StatusCode: 200, Count: 10}}})
		cmd := exec.Command(binary, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:0")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// The first round runs until the state exists, so later kills land
			// on writes that replace a file.
			for deadline := time.Now().Add(waitLimit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				_, err1 := os.Stat(state)
				_, err2 := os.Stat(tokens)
				if err1 == nil && err2 == nil {
					break
				}
			}
		} else {
			time.Sleep(time.Duration(300+97*i) * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		b, err := os.ReadFile(state)
		if err != nil {
			t.Fatalf("round %d: state file missing after a kill: %v", i, err)
		}
		var st map[string]any
		if json.Unmarshal(b, &st) != nil || st["org"] != "prod" {
			t.Fatalf("round %d: state file is torn: %q", i, tailStr(string(b), 80))
		}
		// The token store: its magic, then a CRC-32C of all but the last 4 bytes.
		tb, err := os.ReadFile(tokens)
		if err != nil {
			if i == 0 {
				t.Fatalf("round %d: no token store after the first sync: %v", i, err)
			}
			continue
		}
		if n := len(tb); n < 12 || string(tb[:8]) != "SFOETOKS" || endian.BigEndian.Uint32(tb[n-4:]) != crc32.Checksum(tb[:n-4], crc32.MakeTable(crc32.Castagnoli)) {
			t.Fatalf("round %d: token store is torn (%d bytes)", i, len(tb))
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "data", "*.tmp-*")); len(left) > 0 {
		t.Logf("temporary files left by kills (harmless, never read): %v", left)
	}
	// A damaged state file is set aside with a clear log line, and the exporter runs.
	if err := os.WriteFile(state, []byte(`{"version":1,"org":"prod","first_seen":{"x"`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"))
	m := e.waitFor(t, "api usage up", sourceUp("api_usage", 1))
	if !strings.Contains(e.log(), "State file is unreadable; set it aside") {
		t.Errorf("no clear log line about the damaged state:\n%s", e.log())
	}
	aside, _ := filepath.Glob(state + ".corrupt-*")
	if len(aside) != 1 {
		t.Errorf("damaged state not kept aside: %v", aside)
	}
	_ = m
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func tailStr(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
