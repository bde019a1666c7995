package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// checkSetup serves a demo org (every source has data) and writes a config for it.
func checkSetup(t *testing.T) (*sftest.Demo, string, string) {
	t.Helper()
	return checkSetupAt(t, time.Time{})
}

// checkSetupAt is checkSetup with the demo org's clock set to now (the zero
// now is the real clock).
func checkSetupAt(t *testing.T, now time.Time) (*sftest.Demo, string, string) {
	t.Helper()
	d := sftest.NewDemoAt(3, sftest.TestCredentials, now)
	ts := httptest.NewServer(d.Server)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
		ts.URL, sftest.TestCredentials.ClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	return d, cfg, dir
}

func runCheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"check"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func decodeCheck(t *testing.T, out string) checkReport {
	t.Helper()
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check --format=json is not JSON: %v\n%s", err, out)
	}
	return rep
}

// noPrivateData fails if s holds a secret, an access token, a user name or a user or org id.
func noPrivateData(t *testing.T, what, s string, d *sftest.Demo, tokens []string) {
	t.Helper()
	forbidden := []string{sftest.TestCredentials.ClientSecret, d.Org.OrgID, d.Org.OrgID[:15]}
	forbidden = append(forbidden, tokens...)
	for _, u := range d.Org.Users() {
		forbidden = append(forbidden, u.Username, u.ID, u.ID[:15])
	}
	for _, f := range forbidden {
		if f != "" && strings.Contains(s, f) {
			t.Fatalf("%s holds private data %q", what, f)
		}
	}
}

// TestCheckFullyPermittedOrg runs at both midnightClocks: the demo org has
// eight days of Daily ApiTotalUsage files and the current day's Hourly ones,
// but yesterday's Daily file is published at 02:00 (as a real org publishes
// it hours after the day ends), and until then its 24 Hourly files stand in.
// The file counts differ by the hour, and the test says which it expects.
func TestCheckFullyPermittedOrg(t *testing.T) {
	t.Parallel()
	want := map[string]apiUsageCheck{
		// Daily files of the eight days up to yesterday, less yesterday's,
		// which is not out: 7; yesterday's Hourly files: 24; kept from eight
		// days ago to today 00:00: 8 days.
		"00:30 UTC": {daily: 7, hourly: 24, days: 8},
		// Eight Daily files; today's finished hours 00:00 to 22:00: 23 Hourly
		// files; kept from eight days ago to 23:00 today: 9 days (rounded).
		"23:59 UTC": {daily: 8, hourly: 23, days: 9},
	}
	for _, clock := range midnightClocks() {
		t.Run(clock.name, func(t *testing.T) {
			t.Parallel()
			checkFullyPermittedOrg(t, clock.at, want[clock.name])
		})
	}
}

// apiUsageCheck is what check reports of the api_usage source's files.
type apiUsageCheck struct{ daily, hourly, days int }

func checkFullyPermittedOrg(t *testing.T, now time.Time, want apiUsageCheck) {
	d, cfg, _ := checkSetupAt(t, now)
	code, out, errOut := runCheck(t, "--config.file="+cfg, "--format=json")
	rep := decodeCheck(t, out)
	if code != 0 || !rep.OK {
		t.Fatalf("exit %d on a fully permitted org:\n%s\n%s", code, out, errOut)
	}
	o := rep.Orgs[0]
	if o.Login != "ok" || len(o.APIVersions) == 0 || o.Cost == nil || o.Cost.DailyMax != 250_000 || o.Cost.RequestsPerDay <= 0 {
		t.Fatalf("org report incomplete: %+v", o)
	}
	by := map[string]checkSource{}
	for _, s := range o.Sources {
		by[s.Source] = s
		if refresh.SpecOf(s.Source).PermissionUnread && s.HasPermission == nil {
			granted := true // not read: the probe (Works) tells
			s.HasPermission = &granted
		}
		if !s.Works || s.VisibilityLimited || s.HasPermission == nil || !*s.HasPermission {
			t.Errorf("%s: %+v", s.Source, s)
		}
	}
	if s := by["oauth_tokens"]; s.OauthTokenMode != "rows" || s.Rows == nil || *s.Rows != d.Org.TokenCount() {
		t.Errorf("oauth_tokens: %+v", s)
	}
	if s := by["api_usage"]; s.DailyFiles == nil || s.HourlyFiles == nil || s.DaysKept == nil {
		t.Errorf("api_usage reports no files: %+v", s)
	} else if got := (apiUsageCheck{*s.DailyFiles, *s.HourlyFiles, *s.DaysKept}); got != want {
		t.Errorf("api_usage at %s: %d Daily, %d Hourly files, %d days kept; want %d, %d, %d",
			now.Format("15:04"), got.daily, got.hourly, got.days, want.daily, want.hourly, want.days)
	}
	if s := by["external_client_apps"]; s.Apps == nil || *s.Apps != 1 {
		t.Errorf("external_client_apps: %+v", s)
	}
	// The demo org has Shield: every Threat Detection store, hourly files.
	if o.Tier == nil || o.Tier.Tier != refresh.TierEventMonitoring {
		t.Errorf("tier %+v, want %s", o.Tier, refresh.TierEventMonitoring)
	}
	noPrivateData(t, "check output", out+errOut, d, d.Server.IssuedAccessTokens())

	code, text, _ := runCheck(t, "--config.file="+cfg)
	if !strings.Contains(text, "tier: event_monitoring_or_shield") || !strings.Contains(text, "Threat Detection ApiAnomalyEventStore: yes") {
		t.Errorf("text output has no tier report:\n%s", text)
	}
	if code != 0 || !strings.Contains(text, "OK: every enabled source works") || !strings.Contains(text, "mode rows") {
		t.Fatalf("text output (exit %d):\n%s", code, text)
	}
}

// TestCheckCountsLoginsOnTheOrgClock runs check against two copies of the
// demo org (the same seed, so the same rows relative to the org's clock):
// one on the local clock and one whose clock is three days behind it. The
// demo's LoginHistory rows lie in the last 23 hours of the org's clock, so
// both must count the same; the last 24 hours of the skewed org's local
// clock hold none of them.
func TestCheckCountsLoginsOnTheOrgClock(t *testing.T) {
	t.Parallel()
	logins := func(now time.Time) int {
		t.Helper()
		_, cfg, _ := checkSetupAt(t, now)
		code, out, errOut := runCheck(t, "--config.file="+cfg, "--format=json")
		rep := decodeCheck(t, out)
		if code != 0 || !rep.OK {
			t.Fatalf("exit %d on a fully permitted org:\n%s\n%s", code, out, errOut)
		}
		for _, s := range rep.Orgs[0].Sources {
			if s.Source == "logins" && s.Rows != nil {
				return *s.Rows
			}
		}
		t.Fatalf("no logins row count in the report:\n%s", out)
		return 0
	}
	want := logins(time.Time{})
	if want == 0 {
		t.Fatal("the demo org on the local clock has no LoginHistory rows in the last 24 hours")
	}
	if got := logins(time.Now().Add(-3 * 24 * time.Hour)); got != want {
		t.Fatalf("logins on an org three days behind the local clock: %d rows; want %d, the last 24 hours of the org's clock", got, want)
	}
}

func TestCheckNamesMissingPermissions(t *testing.T) {
	t.Parallel()
	d, cfg, _ := checkSetup(t)
	// The profile's Assign Permission Sets keeps PermissionSetAssignment
	// readable without View Setup and Configuration and Manage Users.
	d.Org.SetPermission(sftest.PermAssignPermissionSets, true)
	for _, p := range []string{sftest.PermManageUsers, sftest.PermMonitorLoginHistory, sftest.PermViewEventLogFiles, sftest.PermCustomizeApplication, sftest.PermViewSetup} {
		d.Org.SetPermission(p, false)
	}
	code, out, _ := runCheck(t, "--config.file="+cfg, "--format=json")
	rep := decodeCheck(t, out)
	if code != 1 || rep.OK {
		t.Fatalf("exit %d with permissions missing:\n%s", code, out)
	}
	problems := strings.Join(rep.Orgs[0].Problems, "\n")
	for _, want := range []string{
		"oauth_tokens sees only the integration user's own rows: grant Customize Application",
		"sessions sees only the integration user's own rows: grant Manage Users",
		"logins sees only the integration user's own rows: grant Manage Users (or Monitor Login History)",
		"api_usage cannot work: ",
		"grant View Event Log Files (or View All Data), or disable the source",
		"apps: the integration user lacks View Setup and Configuration",
		"limits: the integration user lacks View Setup and Configuration",
		"external_client_apps: the integration user lacks View Setup and Configuration",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	for _, s := range rep.Orgs[0].Sources {
		limited := s.Source == "sessions" || s.Source == "logins" || s.Source == "oauth_tokens"
		if s.VisibilityLimited != limited {
			t.Errorf("%s: visibility_limited %v, want %v", s.Source, s.VisibilityLimited, limited)
		}
	}
	// A disabled source is not a reason to fail.
	b, _ := os.ReadFile(cfg)
	for _, p := range []string{sftest.PermViewEventLogFiles, sftest.PermCustomizeApplication, sftest.PermViewSetup} {
		d.Org.SetPermission(p, true)
	}
	cfg2 := filepath.Join(filepath.Dir(cfg), "off.yml")
	if err := os.WriteFile(cfg2, bytes.Replace(b, []byte("    auth:"), []byte("    sources: {sessions: {enabled: false}, logins: {enabled: false}}\n    auth:"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCheck(t, "--config.file="+cfg2, "--format=json"); code != 0 {
		t.Fatalf("exit %d with the limited sources disabled:\n%s", code, out)
	}
}

// TestCheckPermissionsUnreadable: without View Setup and Configuration,
// Assign Permission Sets and Manage Users the integration user cannot read
// its PermissionSetAssignment rows. What the shrinking sources see is then
// unknown, and unknown must not pass for full: check exits 1, names what to
// grant, and its JSON says unverified for each of them.
func TestCheckPermissionsUnreadable(t *testing.T) {
	t.Parallel()
	d, cfg, _ := checkSetup(t)
	d.Org.SetPermission(sftest.PermViewSetup, false)
	d.Org.SetPermission(sftest.PermManageUsers, false)
	code, out, _ := runCheck(t, "--config.file="+cfg, "--format=json")
	rep := decodeCheck(t, out)
	if code != 1 || rep.OK || rep.Orgs[0].OK {
		t.Fatalf("exit %d with unreadable permissions:\n%s", code, out)
	}
	for _, s := range rep.Orgs[0].Sources {
		want := snapshot.VisibilityFull
		if s.Source == "oauth_tokens" || s.Source == "sessions" || s.Source == "logins" {
			want = snapshot.VisibilityUnverified
		}
		if s.Visibility != want || s.HasPermission != nil {
			t.Errorf("%s: visibility %q, has_permission %v; want %q and unknown", s.Source, s.Visibility, s.HasPermission, want)
		}
	}
	problems := strings.Join(rep.Orgs[0].Problems, "\n")
	for _, src := range []string{"oauth_tokens", "sessions", "logins"} {
		if want := src + " visibility is unverified: the integration user's permissions cannot be read; grant View Setup and Configuration (or Assign Permission Sets, or Manage Users)"; !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	_, text, _ := runCheck(t, "--config.file="+cfg)
	if !strings.Contains(text, "UNVERIFIED") || strings.Contains(text, "OK: every enabled source works") {
		t.Errorf("text output:\n%s", text)
	}
}

// TestCheckViewAllDataReadsEventLogFiles: View All Data opens EventLogFile
// as View Event Log Files does; the fake, like an org, hides it without both.
func TestCheckViewAllDataReadsEventLogFiles(t *testing.T) {
	t.Parallel()
	d, cfg, _ := checkSetup(t)
	d.Org.SetPermission(sftest.PermViewEventLogFiles, false)
	d.Org.SetPermission(sftest.PermViewAllData, true)
	code, out, _ := runCheck(t, "--config.file="+cfg, "--format=json")
	rep := decodeCheck(t, out)
	if code != 0 || !rep.OK {
		t.Fatalf("exit %d with View All Data instead of View Event Log Files:\n%s", code, out)
	}
	for _, s := range rep.Orgs[0].Sources {
		if s.Source == "api_usage" && (!s.Works || s.HasPermission == nil || !*s.HasPermission) {
			t.Errorf("api_usage with View All Data: %+v", s)
		}
	}
}

// TestCheckAssignmentNotInForce: a permission set whose assignment expired
// grants nothing, so check reports its permissions as missing.
func TestCheckAssignmentNotInForce(t *testing.T) {
	t.Parallel()
	d, cfg, _ := checkSetup(t)
	d.Org.SetPermission(sftest.PermAssignPermissionSets, true)
	d.Org.SetAssignment(sftest.AssignmentExpired)
	code, out, _ := runCheck(t, "--config.file="+cfg, "--format=json")
	rep := decodeCheck(t, out)
	if code != 1 || rep.OK {
		t.Fatalf("exit %d with the exporter's permission set expired:\n%s", code, out)
	}
	for _, s := range rep.Orgs[0].Sources {
		if refresh.SpecOf(s.Source).PermissionUnread || s.Source == "stream" {
			// Its permission is not among those read: unknown, not granted.
			// The stream's own (View Real-Time Event Monitoring Data) is not
			// read either, only its prerequisite API Enabled, which the
			// profile grants here: its probe decides.
			if s.Source != "stream" && s.HasPermission != nil {
				t.Errorf("%s: has_permission %v, want unknown", s.Source, *s.HasPermission)
			}
			continue
		}
		if s.HasPermission == nil || *s.HasPermission {
			t.Errorf("%s: has_permission %v, want false", s.Source, s.HasPermission)
		}
	}
}

// TestCheckUsersHidden: under a Private sharing default for users, without
// View All Users the token holders' User records are hidden and the
// deactivated-user figures silently low: oauth_tokens is limited, and the
// fix names View All Users.
func TestCheckUsersHidden(t *testing.T) {
	t.Parallel()
	for _, aggregate := range []bool{false, true} {
		d, cfg, _ := checkSetup(t)
		d.Org.Behavior.OauthTokenAggregates = aggregate
		d.Org.SetPermission(sftest.PermViewAllUsers, false)
		code, out, _ := runCheck(t, "--config.file="+cfg, "--format=json")
		rep := decodeCheck(t, out)
		if code != 1 || rep.OK {
			t.Fatalf("aggregate %v: exit %d without View All Users:\n%s", aggregate, code, out)
		}
		for _, s := range rep.Orgs[0].Sources {
			if s.Source == "oauth_tokens" && (s.Visibility != snapshot.VisibilityLimited || !s.VisibilityLimited) {
				t.Errorf("aggregate %v: oauth_tokens visibility %q", aggregate, s.Visibility)
			}
		}
		if problems := strings.Join(rep.Orgs[0].Problems, "\n"); !strings.Contains(problems, "oauth_tokens sees fewer User records than users hold tokens (a Private sharing default for users): grant View All Users") {
			t.Errorf("aggregate %v: problems:\n%s", aggregate, problems)
		}
		d.Org.Behavior.PublicUserSharing = true
		if code, out, _ := runCheck(t, "--config.file="+cfg, "--format=json"); code != 0 {
			t.Errorf("aggregate %v: exit %d with public user sharing:\n%s", aggregate, code, out)
		}
	}
}

// TestProbeSourceUnknownFailsClosed: a source check has no probe for is
// never reported as working.
func TestProbeSourceUnknownFailsClosed(t *testing.T) {
	t.Parallel()
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: "https://example.invalid", ClientID: "x", ClientSecret: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probeSource(t.Context(), c, "future_source", refresh.ProbeInput{}); err == nil || !strings.Contains(err.Error(), "no probe") {
		t.Fatalf("probe of an unknown source: %v, want an error", err)
	}
}

func TestCheckLoginFailure(t *testing.T) {
	t.Parallel()
	_, cfg, dir := checkSetup(t)
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("CANARY-wrong-secret-1c2d"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCheck(t, "--config.file="+cfg)
	if code != 1 || !strings.Contains(out, "FIX: log in fails") || !strings.Contains(out, "invalid_client") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "CANARY") {
		t.Fatal("the output quotes the secret")
	}
	if code, _, errOut := runCheck(t, "--config.file="+filepath.Join(dir, "missing.yml")); code != 2 || errOut == "" {
		t.Fatalf("missing config: exit %d, stderr %q", code, errOut)
	}
}

// check --record writes redacted responses that replay through the client:
// the replayed check reports the same as the live one.
func TestCheckRecordRedactsAndReplays(t *testing.T) {
	t.Parallel()
	d, cfg, dir := checkSetup(t)
	rec := filepath.Join(dir, "rec")
	code, live, errOut := runCheck(t, "--config.file="+cfg, "--format=json", "--record="+rec)
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, live, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(rec, "*"))
	if len(files) < 10 {
		t.Fatalf("%d files recorded", len(files))
	}
	// Every file names what it holds (the API versions listing was "003-.json").
	for _, f := range files {
		if name := filepath.Base(f); regexp.MustCompile(`^\d+-\.`).MatchString(name) {
			t.Errorf("a recorded file without a name: %s", name)
		}
	}
	if !strings.Contains(live, `"problems": []`) || strings.Contains(live, `"problems": null`) {
		t.Errorf("check's JSON of a fully permitted org has no empty problems list:\n%s", live)
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	noPrivateData(t, "the recording", all.String(), d, d.Server.IssuedAccessTokens())
	for _, want := range []string{"Salesforce Mobile App", "[redacted]", "org.my.salesforce.example"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the recording lacks %q", want)
		}
	}
	if strings.Contains(all.String(), "203.0.113.7") {
		t.Error("the recording keeps an IP address")
	}

	ts := sftest.Replay(t, rec)
	cfgReplay := filepath.Join(dir, "replay.yml")
	if err := os.WriteFile(cfgReplay, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n    auth: {flow: client_credentials, client_id: x, client_secret_file: secret}\n", ts.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, replayed, errOut := runCheck(t, "--config.file="+cfgReplay, "--format=json")
	if code != 0 {
		t.Fatalf("replay: exit %d:\n%s\n%s", code, replayed, errOut)
	}
	a, b := decodeCheck(t, live), decodeCheck(t, replayed)
	for i := range a.Orgs[0].Sources {
		sa, sb := a.Orgs[0].Sources[i], b.Orgs[0].Sources[i]
		if sa.Works != sb.Works || fmt.Sprint(sa.Rows) != fmt.Sprint(sb.Rows) && sa.Rows != nil && *sa.Rows != *sb.Rows {
			t.Errorf("%s: live %+v, replayed %+v", sa.Source, sa, sb)
		}
	}
}

// TestCheckCountsItsCalls: check builds its client through refresh.NewClient,
// so an observer sees every request it makes: the counter agrees with the
// requests the org served (its token requests aside).
func TestCheckCountsItsCalls(t *testing.T) {
	t.Parallel()
	d := sftest.NewDemoAt(3, sftest.TestCredentials, time.Time{})
	var served atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/oauth2/token" {
			served.Add(1)
		}
		d.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
		ts.URL, sftest.TestCredentials.ClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, orgs, err := loadOrgs(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	var calls refresh.CallCounter
	co := checkOneOrg(t.Context(), orgs[0], nil, calls.Observe)
	if len(co.Sources) != len(config.Sources) {
		t.Fatalf("check of the demo org: %+v", co)
	}
	if n := served.Load(); n == 0 || calls.Count() != n {
		t.Errorf("check's call counter says %d requests; the org served %d", calls.Count(), n)
	}
}
