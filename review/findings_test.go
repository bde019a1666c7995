package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// brief is a finding as the known answers state it.
func brief(f Finding) string {
	s := f.Severity + " " + f.Kind
	if f.App != "" {
		s += " " + f.App
	}
	return s
}

func briefs(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = brief(f)
	}
	return out
}

func TestFindingsKnownAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := DefaultOptions()
	o.ConfigFile = "conf/prod org.yml"
	r := f.report(t, o)
	want := []string{
		"warning unknown_app Phish",
		"warning deactivated_user_tokens",
		"warning not_installed_app Legacy",
		"info self_authorizable_apps",
		"info stale_tokens",
		"info abandoned_app Survey",
	}
	if got := briefs(r.Findings); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each app finding's command picks that app alone: an installed app by
	// its Id, an uninstalled one by name and --not-installed; the confirmed
	// run revokes nothing if the selection grew past what the finding counted.
	apps := f.org.Apps()
	cmds := map[string]string{
		"unknown_app":             "salesforce_oauth_exporter revoke --config.file='conf/prod org.yml' --org=prod --app-id=" + apps[1].ID,
		"deactivated_user_tokens": "salesforce_oauth_exporter revoke --config.file='conf/prod org.yml' --org=prod --inactive-users",
		"not_installed_app":       "salesforce_oauth_exporter revoke --config.file='conf/prod org.yml' --org=prod --app=Legacy --not-installed",
		"stale_tokens":            "salesforce_oauth_exporter revoke --config.file='conf/prod org.yml' --org=prod --stale",
		"abandoned_app":           "salesforce_oauth_exporter revoke --config.file='conf/prod org.yml' --org=prod --app-id=" + apps[3].ID,
		"self_authorizable_apps":  "",
	}
	expect := map[string]int{"unknown_app": 2, "deactivated_user_tokens": 2, "not_installed_app": 1, "stale_tokens": 3, "abandoned_app": 25}
	ids := map[string]bool{}
	for _, fd := range r.Findings {
		if c, ok := cmds[fd.Kind]; ok && fd.Command != c {
			t.Errorf("%s: command %q, want %q", fd.Kind, fd.Command, c)
		}
		if fd.Command != "" && fd.ConfirmCommand != fmt.Sprintf("%s --confirm --expect=%d --audit-log=revocations.jsonl", fd.Command, expect[fd.Kind]) {
			t.Errorf("%s: confirm command %q", fd.Kind, fd.ConfirmCommand)
		}
		if fd.Why == "" || fd.Summary == "" || len(fd.Evidence) == 0 || fd.Org != "prod" || ids[fd.ID] {
			t.Errorf("incomplete finding: %+v", fd)
		}
		ids[fd.ID] = true
	}
	// The unknown app's evidence is the burst, to the second.
	ph := r.Findings[0]
	if !strings.Contains(strings.Join(ph.Evidence, "\n"), "2 authorizations between 2026-11-18 12:00:00 UTC and 2026-11-19 12:00:00 UTC") ||
		strings.Join(ph.EvidenceData.UserNames, ",") != "alice@example.com,bob@example.com" {
		t.Errorf("unknown app evidence: %q %v", ph.Evidence, ph.EvidenceData.UserNames)
	}
	// One evidence section per app with findings, with every authorization.
	var evApps []string
	for _, a := range r.AppEvidence {
		evApps = append(evApps, fmt.Sprintf("%s:%d", a.App, len(a.Authorizations)))
	}
	if strings.Join(evApps, ",") != "Phish:2,Legacy:1,Survey:25" {
		t.Errorf("app evidence: %v", evApps)
	}
	if ph.Section != anchor("prod", "app", r.AppEvidence[0].key()) {
		t.Errorf("finding links to %q", ph.Section)
	}
}

func TestFindingsRankAndExtraKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := DefaultOptions()
	// A detector from elsewhere (IOC matching) hands in its own finding.
	o.Extra = []Finding{{Kind: KindIOCMatch, Severity: SeverityCritical, Summary: "Mobile was used from a known bad address.", App: "Mobile", AppKind: "connected_app",
		Evidence: []string{"address 203.0.113.7"}, EvidenceData: EvidenceData{Networks: []string{"203.0.113.0/24"}}}}
	r := f.report(t, o)
	first := r.Findings[0]
	if brief(first) != "critical ioc_match Mobile" || first.Why == "" || first.Command != "salesforce_oauth_exporter revoke --config.file=config.yml --org=prod --app-id="+f.org.Apps()[0].ID {
		t.Errorf("extra finding: %+v", first)
	}
	for _, k := range FindingKinds() {
		if whyOf(k) == "" {
			t.Errorf("kind %s has no why", k)
		}
	}
	doc, err := os.ReadFile("../docs/review-json.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range FindingKinds() {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/review-json.md does not list the finding kind %s", k)
		}
	}
}

// demoReport builds the review of the --demo org after its surge.
func demoReport(t *testing.T) *Report {
	t.Helper()
	d := sftest.NewDemo(7, sftest.TestCredentials)
	d.Surge()
	ts := httptest.NewServer(d.Server)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	var inv strings.Builder
	for _, a := range sftest.DemoApps {
		fmt.Fprintf(&inv, "  - {app: %q, owner: %q, purpose: %q}\n", a.Name, a.Owner, a.Purpose)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, "orgs:\n  - name: demo\n    login_url: %s\n    sources: {threat_detection: {enabled: true}, app_metadata: {enabled: true}}\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\ninventory:\n%s",
		ts.URL, sftest.TestCredentials.ClientID, inv.String()), filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{cfg: cfg, org: d.Org}
	return fx.report(t, DefaultOptions())
}

func TestDemoFindings(t *testing.T) {
	t.Parallel()
	r := demoReport(t)
	got := briefs(r.Findings)
	want := []string{
		"critical unknown_app My Data Loader Pro",
		"critical unknown_app Field Service Companion",
		"critical new_network Acme ERP Sync",
		"critical api_surge Acme ERP Sync",
		"warning unknown_app Legacy Reporting Tool",
		"warning unknown_app " + sftest.DemoLookAlike,
		"warning unknown_app Tableau Desktop",
		"warning deactivated_user_tokens",
	}
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("demo findings:\n%s\nwant first:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Findings[0].Command != "salesforce_oauth_exporter revoke --config.file=config.yml --org=demo --app='My Data Loader Pro' --not-installed" {
		t.Errorf("phishing command: %s", r.Findings[0].Command)
	}
	if r.Findings[7].EvidenceData.Users != 7 || r.Findings[7].Command != "salesforce_oauth_exporter revoke --config.file=config.yml --org=demo --inactive-users" {
		t.Errorf("leavers: %+v", r.Findings[7])
	}
	// The look-alike of the approved Workbench (issue 22.9): its finding
	// says so, and its command picks it alone (it is not installed, so
	// --not-installed leaves the installed Workbench's tokens alone).
	la := r.Findings[5]
	if !strings.Contains(strings.Join(la.Evidence, "\n"), `imitates the approved "Workbench"`) || la.Command != "salesforce_oauth_exporter revoke --config.file=config.yml --org=demo --app="+textsafe.ShellQuote(sftest.DemoLookAlike)+" --not-installed" {
		t.Errorf("look-alike finding: %+v", la)
	}
	// The stolen token the demo plays: five new networks reading User and
	// Account, with the app's exact revoke command.
	nn := r.Findings[2]
	if !strings.Contains(nn.Summary, "5 networks") || !strings.Contains(nn.Summary, "Account, User") || nn.Command != "salesforce_oauth_exporter revoke --config.file=config.yml --org=demo --app-id="+nn.AppID || nn.AppID == "" {
		t.Errorf("new network finding: %+v", nn)
	}
	if got[len(got)-1] != "info abandoned_app Old Survey Tool" || len(got) != 11 {
		t.Errorf("a new or unknown app reads as abandoned: %v", got)
	}
	for _, f := range r.Findings {
		if pseudoApp(f.App) && f.Kind == KindUnknownApp {
			t.Errorf("a pseudo-app reads as an unknown app: %+v", f)
		}
	}
}

// hostile is a name that tries every trick on every format.
const hostile = "<script>alert(\"x\")</script>\n\x1b[2J\x1b]8;;http://evil.example/\x07[click](http://evil.example) www.evil.example \u202eexe.fdp"

func hostileReport(t *testing.T) (*Report, *sftest.Org) {
	t.Helper()
	org := sftest.NewOrg()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	app := org.AddApp(sftest.App{Name: hostile, Installed: false})
	formula := org.AddApp(sftest.App{Name: "=HYPERLINK(\"http://evil.example\",\"x\")", Installed: true})
	for i, name := range []string{"=cmd|' /C calc'!A0@example.com", "+1@example.com", "-2@example.com", "@3@example.com", "\t4@example.com", "\r5@example.com", "o'brien\"<b>@example.com"} {
		u := org.AddUser(name, true)
		org.AddToken(sftest.TokenSpec{User: u, App: app, Created: now.Add(-time.Duration(i+1) * time.Hour), LastUsed: now, UseCount: 2})
		org.AddToken(sftest.TokenSpec{User: u, App: formula, Created: now.Add(-time.Duration(i+1) * time.Hour), LastUsed: now, UseCount: 2})
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, "orgs:\n  - name: prod\n    login_url: %s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", ts.URL, sftest.TestCredentials.ClientID), filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{cfg: cfg, org: org}
	return fx.report(t, DefaultOptions()), org
}

func TestOutputIsNeutralized(t *testing.T) {
	t.Parallel()
	r, org := hostileReport(t)
	if len(r.Findings) == 0 || r.Findings[0].App != hostile {
		t.Fatalf("the hostile app has no finding: %v", briefs(r.Findings))
	}
	out := map[string]string{}
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, []*Report{r}, format); err != nil {
			t.Fatal(err)
		}
		out[format] = b.String()
		for _, dt := range org.DeleteTokens() {
			if strings.Contains(out[format], dt) || strings.Contains(out[format], dt[3:]) {
				t.Errorf("%s output holds a token", format)
			}
		}
	}
	for _, format := range []string{"text", "markdown", "csv", "html"} {
		if strings.ContainsAny(out[format], "\x1b\x07\u202e") {
			t.Errorf("%s output carries a raw control character", format)
		}
	}
	if !strings.Contains(out["text"], `\x1b[2J`) || !strings.Contains(out["text"], `\u202e`) {
		t.Error("text output does not show the escape sequence as text")
	}
	// The revoke command stays on one line and names the app exactly.
	if c := r.Findings[0].Command; strings.ContainsAny(c, "\n\x1b") || !strings.Contains(c, `--app=$'<script>alert("x")</script>\n\x1b[2J`) {
		t.Errorf("command: %q", c)
	}
	// Markdown: no live link, no raw HTML, whatever the names hold.
	md := out["markdown"]
	md = regexp.MustCompile(`<a id="[a-z0-9_-]+"></a>|\[[A-Za-z ]+\]\(#[a-z0-9_-]+\)`).ReplaceAllString(md, "")
	md = regexp.MustCompile(`\\[[:punct:]]`).ReplaceAllString(md, "")
	md = regexp.MustCompile("(?s)```sh\n.*?\n```").ReplaceAllString(md, "")
	for _, live := range []string{"](", "<script", "<b>", "http://", " www.evil"} {
		if strings.Contains(md, live) {
			t.Errorf("markdown holds a live %q", live)
		}
	}
	for _, m := range regexp.MustCompile(`[<@\[]`).FindAllString(md, -1) {
		t.Errorf("markdown holds an unescaped %q", m)
	}
	// CSV: no cell a spreadsheet would run.
	recs, err := csv.NewReader(strings.NewReader(out["csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs {
		for _, c := range rec {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("csv cell %q is live", c)
			}
			if strings.HasPrefix(c, "'=") || strings.HasPrefix(c, "'\\t") || strings.HasPrefix(c, "'@") {
				n++
			}
		}
	}
	if n < 3 {
		t.Errorf("csv neutralized %d cells; the names were not there at all?", n)
	}
	// HTML: every value escaped.
	h := out["html"]
	if strings.Contains(h, "<script") || strings.Contains(h, "<b>") || !strings.Contains(h, "&lt;script&gt;") || regexp.MustCompile(`(?i)(href|src)="?[a-z]+:|url\(|@import`).MatchString(h) {
		t.Error("html does not escape the names")
	}
}

// TestJSONSchemaDocumented fails when a field of the report's JSON is not in
// docs/review-json.md.
func TestJSONSchemaDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/review-json.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty == reflect.TypeFor[time.Time]() {
			return
		}
		seen[ty] = true
		for f := range ty.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type)
				continue
			}
			// A type with its own MarshalJSON may keep fields out of its
			// form (HistoryDay's Has* flags show as absent figures).
			if name == "-" && ty.Implements(reflect.TypeFor[json.Marshaler]()) {
				continue
			}
			if name == "" || name == "-" {
				t.Errorf("%s.%s has no json name", ty.Name(), f.Name)
				continue
			}
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/review-json.md does not document %s (%s.%s)", name, ty.Name(), f.Name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Report]())
	if len(seen) < 8 {
		t.Errorf("walked only %d types", len(seen))
	}
}

// TestFindingsWhatTheFactsLeaveOpen covers what a real org can do that the
// facts don't settle: a policy nobody could read, a fresh start with one day
// of API usage, uses counted without a date, and tokens only Setup revokes.
func TestFindingsWhatTheFactsLeaveOpen(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	no := false
	build := func(start time.Time, apps ...AppRow) *Report {
		r := &Report{Org: "prod", APIUsageEnd: end, APIUsageStart: start, Inventory: apps, Thresholds: Thresholds{StaleAfterDays: 90}}
		addFindings(r, nil, end, DefaultOptions())
		return r
	}
	erp := AppRow{App: "ERP", Kind: "connected_app", Installed: true, Known: true, Users: 1, Tokens: 1, Requests24h: 9000, Requests7d: 9000 + 6*1000}
	// One day of usage data: no surge can be told yet.
	if got := briefs(build(end.Add(-24*time.Hour), erp).Findings); len(got) != 0 {
		t.Errorf("surge on one day of history: %v", got)
	}
	if got := briefs(build(end.Add(-7*24*time.Hour), erp).Findings); strings.Join(got, ",") != "critical api_surge ERP" {
		t.Errorf("surge on a week of history: %v", got)
	}
	// Issue 22.8: the same day is the app's weekly job, a day it has had
	// before (its busiest of the 4 weeks before): no surge. Ten times that
	// day is one.
	weekly := erp
	busiest := int64(9500)
	weekly.RequestsDailyMax = &busiest
	if got := briefs(build(end.Add(-7*24*time.Hour), weekly).Findings); len(got) != 0 {
		t.Errorf("a weekly job read as a surge: %v", got)
	}
	ten := int64(900)
	weekly.RequestsDailyMax = &ten
	if got := briefs(build(end.Add(-7*24*time.Hour), weekly).Findings); strings.Join(got, ",") != "critical api_surge ERP" {
		t.Errorf("ten times the busiest day: %v", got)
	}
	// Admin approval unknown (the apps source off, or no permission): no finding.
	mob := AppRow{App: "Mobile", Kind: "connected_app", Installed: true, Known: true, Users: 3, Tokens: 3}
	if got := briefs(build(time.Time{}, mob).Findings); len(got) != 0 {
		t.Errorf("unknown policy read as self-authorizable: %v", got)
	}
	mob.AdminApproved = &no
	if got := briefs(build(time.Time{}, mob).Findings); strings.Join(got, ",") != "info self_authorizable_apps" {
		t.Errorf("self-authorizable: %v", got)
	}
	// Uses without a date read as "not recorded", not "never".
	if s := lastUsedStr(TokenRow{UseCount: 307}); s != "not recorded" {
		t.Errorf("uses without a date: %q", s)
	}
	if s := lastUsedStr(TokenRow{}); s != "never" {
		t.Errorf("never used: %q", s)
	}
}

// TestDemoECAFindingRevokesByItsID (issue 22.9): an External Client App's
// finding prescribes revoking its tokens by its own 0xI Id (never by a name
// another app may share), with the count it saw, and names the Setup page
// too.
func TestDemoECAFindingRevokesByItsID(t *testing.T) {
	t.Parallel()
	r := demoReport(t)
	n := 0
	for _, f := range r.Findings {
		if f.AppKind != "external_client_app" {
			continue
		}
		n++
		want := "--app-id=" + f.AppID
		if f.AppID == "" || !strings.HasSuffix(f.Command, " "+want) || strings.Contains(f.Command, "--app=") ||
			!strings.Contains(f.ConfirmCommand, want+" --confirm --expect=") || !strings.Contains(f.Action, "External Client Apps > OAuth Usage") {
			t.Errorf("an External Client App finding without its revoke by Id: %+v", f)
		}
	}
	if n == 0 {
		t.Fatal("the demo has no External Client App finding")
	}
	var b bytes.Buffer
	if err := Write(&b, []*Report{r}, "text"); err != nil {
		t.Fatal(err)
	}
	// Old Survey Tool's tokens count uses but Salesforce keeps no date.
	if !strings.Contains(b.String(), "not recorded") {
		t.Error("uses without a last-used date read as never")
	}
}

// TestNotInstalledFindingWithAnIDPicksItByID: an app whose menu item has no
// ConnectedApplication row is not installed, yet its tokens carry the menu
// item. --app=NAME --not-installed picks only tokens without one: it would
// select none of this app's, and another not-installed app of the name
// instead. The finding picks it by its Id.
func TestNotInstalledFindingWithAnIDPicksItByID(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	orphan := AppRow{App: "Tool", AppID: "0H4000000000001AAA", Kind: "connected_app", Installed: false, Users: 2, Tokens: 2}
	plain := AppRow{App: "Tool", Kind: "connected_app", Installed: false, Users: 1, Tokens: 1}
	r := &Report{Org: "prod", APIUsageEnd: end, Inventory: []AppRow{orphan, plain}, NotInstalled: []AppRow{orphan, plain}, Thresholds: Thresholds{StaleAfterDays: 90}}
	addFindings(r, nil, end, DefaultOptions())
	var got []string
	for _, f := range r.Findings {
		if f.Kind == KindNotInstalled {
			got = append(got, f.ConfirmCommand)
		}
	}
	if len(got) != 2 || !strings.Contains(got[0]+got[1], "--app-id=0H4000000000001AAA --confirm --expect=2") || !strings.Contains(got[0]+got[1], "--app=Tool --not-installed --confirm --expect=1") {
		t.Fatalf("not-installed commands:\n%s", strings.Join(got, "\n"))
	}
}

// TestEveryKindHasADetector: a kind in findingKinds without a detector
// would never be found, unless its findings come from the traffic
// detection through Options.Extra.
func TestEveryKindHasADetector(t *testing.T) {
	t.Parallel()
	extra := map[string]bool{KindIOCMatch: true, KindNewNetwork: true}
	for _, k := range findingKinds {
		if (k.detect == nil) != extra[k.Kind] {
			t.Errorf("kind %s: detector %v, found by the traffic detection %v", k.Kind, k.detect != nil, extra[k.Kind])
		}
	}
}
