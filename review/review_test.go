package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile/regfiletest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

const day = 24 * time.Hour

// fixture is an org with one known answer per section.
type fixture struct {
	org     *sftest.Org
	srv     *sftest.Server
	cfg     *config.Config
	leavers []int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	org := sftest.NewOrg()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	mobile := org.AddApp(sftest.App{Name: "Mobile", Installed: true})
	phish := org.AddApp(sftest.App{Name: "Phish", Installed: true})
	legacy := org.AddApp(sftest.App{Name: "Legacy", Installed: false})
	survey := org.AddApp(sftest.App{Name: "Survey", Installed: true})
	erp := org.AddApp(sftest.App{Name: "ERP", Installed: true})
	u := func(name string) int { return org.AddUser(name+"@example.com", true) }
	alice, bob := u("alice"), u("bob")
	org.AddToken(sftest.TokenSpec{User: alice, App: mobile, Created: now.Add(-300 * day), LastUsed: now.Add(-time.Hour), UseCount: 40})
	org.AddToken(sftest.TokenSpec{User: bob, App: mobile, Created: now.Add(-250 * day), LastUsed: now.Add(-200 * day), UseCount: 3}) // stale
	org.AddToken(sftest.TokenSpec{User: alice, App: phish, Created: now.Add(-2 * day), LastUsed: now.Add(-time.Hour), UseCount: 5})
	org.AddToken(sftest.TokenSpec{User: bob, App: phish, Created: now.Add(-1 * day), LastUsed: now.Add(-time.Hour), UseCount: 1})
	org.AddToken(sftest.TokenSpec{User: bob, App: legacy, Created: now.Add(-700 * day), UseCount: 0}) // stale, never used, not installed
	for i := range 25 {
		org.AddToken(sftest.TokenSpec{User: u(fmt.Sprintf("survey%d", i)), App: survey, Created: now.Add(-400 * day), LastUsed: now.Add(-20 * day), UseCount: 2})
	}
	svc := u("svc-erp")
	org.AddToken(sftest.TokenSpec{User: svc, App: erp, Created: now.Add(-100 * day), LastUsed: now.Add(-time.Minute), UseCount: 99999})
	f := &fixture{org: org}
	recent, old := u("leaver-recent"), u("leaver-old")
	org.AddToken(sftest.TokenSpec{User: recent, App: mobile, Created: now.Add(-90 * day), LastUsed: now.Add(-20 * day), UseCount: 8})
	org.AddToken(sftest.TokenSpec{User: old, App: mobile, Created: now.Add(-500 * day), LastUsed: now.Add(-300 * day), UseCount: 2})
	org.SetNow(now.Add(-200 * day))
	org.SetUserActive(old, false)
	org.SetNow(now.Add(-10 * day))
	org.SetUserActive(recent, false)
	org.SetNow(now)
	f.leavers = []int{recent, old}
	apps := org.Apps()
	for d := 7; d >= 1; d-- {
		ld := now.Truncate(day).Add(-time.Duration(d) * day)
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(day), Retention: 30 * day, Rows: []sftest.UsageRow{
			{AppID: apps[erp].ID, AppName: "ERP", StatusCode: 200, Count: 3000},
			{AppID: apps[mobile].ID, AppName: "Mobile", StatusCode: 200, Count: 50},
			{AppID: apps[mobile].ID, AppName: "Mobile", StatusCode: 500, Count: 5},
		}})
	}
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	f.srv = srv
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`orgs:
  - name: prod
    login_url: %s
    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}
inventory:
  - {app: Mobile, owner: mobile@example.com, purpose: Field sales}
  - {app: Legacy, owner: bi@example.com}
  - {app: Survey, owner: mkt@example.com}
  - {app: ERP, owner: int@example.com, purpose: Orders}
`, ts.URL, sftest.TestCredentials.ClientID)), filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
	return f
}

func (f *fixture) report(t *testing.T, o Options) *Report {
	t.Helper()
	r, err := refresh.NewRefresher(f.cfg.Orgs[0], refresh.Settings{StaleAfter: 90 * day, Inventory: f.cfg.InventoryFor}, t.TempDir(), slogDiscard(), nil, salesforce.WithRetry(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, err := FetchDetail(t.Context(), r.Client(), r.Snapshot(), 2)
	if err != nil {
		t.Fatal(err)
	}
	d.APICalls = r.RequestsMade()
	return Build(r.Snapshot(), d, f.cfg.InventoryFor, o)
}

func names(apps []AppRow) string {
	var s []string
	for _, a := range apps {
		s = append(s, a.App)
	}
	return strings.Join(s, ",")
}

func TestSectionsHaveTheKnownAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := DefaultOptions()
	r := f.report(t, o)
	if len(r.Inventory) != 5 {
		t.Fatalf("inventory: %s", names(r.Inventory))
	}
	if r.APICalls <= 0 || r.DataAsOf.IsZero() {
		t.Errorf("freshness and cost missing: calls=%d asof=%v", r.APICalls, r.DataAsOf)
	}
	if r.NewSinceBaseline != nil || r.Baseline != nil || !strings.Contains(strings.Join(r.Notes, ";"), "first review") {
		t.Errorf("first review should compare against nothing: %+v %v", r.NewSinceBaseline, r.Notes)
	}
	if got := names(r.NewRecently); got != "Phish" {
		t.Errorf("new in 30 days: %s", got)
	}
	if len(r.Unknown) != 1 || r.Unknown[0].App != "Phish" || len(r.Unknown[0].Authorizations) != 2 ||
		r.Unknown[0].Authorizations[0].Username != "alice@example.com" || r.Unknown[0].Authorizations[1].Username != "bob@example.com" {
		t.Errorf("unknown apps: %+v", r.Unknown)
	}
	if got := names(r.HighUsersLowUse); got != "Survey" {
		t.Errorf("high users low use: %s", got)
	}
	if got := names(r.LowUsersHighUse); got != "ERP" {
		t.Errorf("low users high use: %s", got)
	}
	if len(r.Leavers) != 2 || r.Leavers[0].Username != "leaver-recent@example.com" || !r.Leavers[0].Recent || r.Leavers[1].Recent || len(r.Leavers[1].Tokens) != 1 {
		t.Errorf("leavers: %+v", r.Leavers)
	}
	// Stale: legacy (never used, 700d), leaver-old (300d), bob mobile (200d); oldest first.
	var stale []string
	for _, s := range r.Stale {
		stale = append(stale, s.App+"/"+s.Username)
	}
	if strings.Join(stale, ",") != "Legacy/bob@example.com,Mobile/leaver-old@example.com,Mobile/bob@example.com" {
		t.Errorf("stale: %v", stale)
	}
	if got := names(r.NotInstalled); got != "Legacy" {
		t.Errorf("not installed: %s", got)
	}
	for _, a := range r.Inventory {
		if a.App == "Mobile" && (a.Purpose != "Field sales" || a.Owner != "mobile@example.com" || a.Requests7d != 385 || a.ErrorRate24h < 0.09 || a.ErrorRate24h > 0.092) {
			t.Errorf("Mobile row: %+v", a)
		}
	}

	// The next week: a new app appears; the baseline diff shows only it.
	prev := filepath.Join(t.TempDir(), "prev.json")
	var b bytes.Buffer
	if err := Write(&b, []*Report{r}, "json"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prev, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	base, err := LoadBaselines(prev)
	if err != nil {
		t.Fatal(err)
	}
	app := f.org.AddApp(sftest.App{Name: "Newcomer", Installed: true})
	f.org.AddToken(sftest.TokenSpec{User: 1, App: app, Created: f.org.Now().Add(-time.Hour)})
	o.Baseline, o.BaselineFile = base["prod"], prev
	r2 := f.report(t, o)
	if got := names(r2.NewSinceBaseline); got != "Newcomer" || r2.Baseline == nil {
		t.Errorf("new since baseline: %q", got)
	}
}

func TestEveryFormat(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.report(t, DefaultOptions())
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, []*Report{r}, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := b.String()
		switch format {
		case "markdown":
			out = strings.ReplaceAll(out, `\`, "")
		case "html":
			out = html.UnescapeString(out)
		}
		decoded := out
		switch format {
		case "csv":
			decoded = strings.ReplaceAll(out, `""`, `"`)
		case "json":
			decoded = strings.ReplaceAll(out, `\"`, `"`)
		}
		// The same findings, with their commands, in every format.
		if len(r.Findings) < 5 {
			t.Fatalf("only %d findings", len(r.Findings))
		}
		for _, f := range r.Findings {
			for _, want := range []string{f.Summary, f.Command} {
				if !strings.Contains(decoded, want) {
					t.Errorf("%s output lacks the finding %q", format, want)
				}
			}
		}
		for _, want := range []string{"Phish", "alice@example.com", "leaver-recent@example.com", "Legacy", "Survey", "ERP"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q", format, want)
			}
		}
		switch format {
		case "html":
			for _, bad := range []string{"<script", "<link", "src=", "http://", "https://", "@import"} {
				if strings.Contains(out, bad) {
					t.Errorf("html is not self-contained: has %q", bad)
				}
			}
			if !strings.HasPrefix(out, "<!doctype html>") || !strings.Contains(out, "<style>") {
				t.Error("html is not a complete page")
			}
		case "csv":
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string]int{}
			for _, rec := range recs[1:] {
				sections[rec[1]]++
			}
			for _, s := range []string{"finding", "app_evidence", "inventory", "new_recently", "unknown_app", "high_users_low_use", "low_users_high_use", "offboarding_leak", "stale", "not_installed"} {
				if sections[s] == 0 {
					t.Errorf("csv has no %s rows", s)
				}
			}
		case "json":
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Org != "prod" || len(back.Stale) != 3 {
				t.Errorf("json does not round-trip: %v", err)
			}
		case "markdown":
			if !strings.Contains(out, "## Offboarding leaks") || !strings.Contains(out, "|---|") {
				t.Error("markdown lacks its sections or tables")
			}
		case "text":
			if !strings.Contains(out, "Stale authorizations\n====") || !strings.Contains(out, "API calls spent:") {
				t.Error("text lacks sections or freshness")
			}
		}
	}
	if err := Write(&bytes.Buffer{}, []*Report{r}, "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestBadBaseline(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "b.json")
	_ = os.WriteFile(p, []byte(`{"hello": 1}`), 0o600)
	if _, err := LoadBaselines(p); err == nil || !strings.Contains(err.Error(), "not a review JSON report") {
		t.Errorf("err = %v", err)
	}
}

// TestBaselineFileBounded: a FIFO, /dev/zero or a directory given as
// --baseline is refused without being read (a FIFO would hang the review,
// /dev/zero would be read without end), and so is a file over the bound.
func TestBaselineFileBounded(t *testing.T) {
	t.Parallel()
	h := regfiletest.Make(t, MaxBaselineBytes)
	for p, want := range map[string]string{
		h.FIFO:           "is not a regular file (p---------): give the JSON report of the previous review",
		regfiletest.Zero: "is not a regular file",
		h.Dir:            "is not a regular file (d---------)",
		h.Big:            fmt.Sprintf("is %d bytes, more than the %d accepted: is this the JSON report", MaxBaselineBytes+1, MaxBaselineBytes),
	} {
		var err error
		regfiletest.NoHang(t, "LoadBaselines "+p, func() { _, err = LoadBaselines(p) })
		if err == nil || !strings.Contains(err.Error(), "baseline "+p) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", p, err, want)
		}
	}
}
