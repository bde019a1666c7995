package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

var detectDay0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// trafficFixture is a fake org whose integration calls from its three
// networks every day, and, on the last day, from five networks it never
// used (a stolen token, reading User and Account) with one OAuth login from
// an address on the IOC list. A serving refresher has kept the baseline in
// the state folder, as serve does.
type trafficFixture struct {
	org      *sftest.Org
	erp      sftest.App
	cfgFile  string
	data     string
	days     int
	username string
}

func newTrafficFixture(t *testing.T) *trafficFixture {
	t.Helper()
	org := sftest.NewOrg()
	org.SetNow(detectDay0)
	erp := org.AddApp(sftest.App{Name: "Acme ERP Sync", Installed: true, Integration: true})
	u := org.AddUser("integration@example.com", true)
	org.AddToken(sftest.TokenSpec{User: u, App: erp, Created: detectDay0.AddDate(0, -3, 0), LastUsed: detectDay0, UseCount: 50})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ioc.txt"), []byte("# UNC6395\n"+sftest.IOCAddress+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, ts.URL, "inventory:\n  - app: Acme ERP Sync\n    owner: erp-team@example.com\ndetection:\n  ioc_lists:\n    - name: unc6395\n      file: ioc.txt\n")
	f := &trafficFixture{org: org, erp: org.Apps()[erp], cfgFile: cfg, data: filepath.Join(dir, "data"), days: 11, username: "integration@example.com"}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := refresh.NewRefresher(c.Orgs[0], refresh.SettingsFrom(c), f.data, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := range f.days {
		ld := detectDay0.AddDate(0, 0, n)
		spec := sftest.TrafficSpec{AppID: f.erp.ID[:15], AppName: f.erp.Name, Profile: sftest.Integration, Day: ld, DayIndex: n, Users: []int{u}, TokenReplay: n == f.days-1}
		org.SetNow(ld.Add(26 * time.Hour))
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(25 * time.Hour), Rows: sftest.Traffic(spec)})
		for _, l := range spec.LoginSpecs(n == f.days-1) {
			l.Time = l.Time.Add(2 * time.Hour)
			org.AddLogin(l)
		}
		// Twice: the client learns the fake's jump in time from the first
		// response's Date header.
		for range 2 {
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// review runs the review command on a storage folder and returns its
// output in a format.
func (f *trafficFixture) review(t *testing.T, data, format string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "review."+format)
	if code, msg := runBinary(t, 2*time.Minute, "review", "--config.file="+f.cfgFile, "--storage.path="+data, "--format="+format, "--output="+out); code != 0 {
		t.Fatalf("review: exit %d: %s", code, msg)
	}
	return mustRead(t, out)
}

// TestReviewCommandShowsNewNetworks: the review command reads the
// baseline from the serving exporter's state folder (read-only) and shows
// the stolen token first: the new networks with the user behind them and
// the exact revoke command; without the state it says there is no baseline.
func TestReviewCommandShowsNewNetworks(t *testing.T) {
	t.Parallel()
	f := newTrafficFixture(t)
	state := refresh.StateFile(f.data, "prod")
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var r review.Report
	if err := json.Unmarshal([]byte(f.review(t, f.data, "json")), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fd := range r.Findings {
		got = append(got, fd.Severity+" "+fd.Kind+" "+fd.App)
	}
	if len(got) < 2 || got[0] != "critical ioc_match Acme ERP Sync" || got[1] != "critical new_network Acme ERP Sync" {
		t.Fatalf("findings %q: want the IOC login and the new networks first", got)
	}
	nn := r.Findings[1]
	want := fmt.Sprintf("salesforce_oauth_exporter revoke --config.file=%s --org=prod --app-id=%s", f.cfgFile, f.erp.ID)
	if nn.Command != want || !strings.Contains(nn.Summary, "5 networks") {
		t.Errorf("new-network finding: %q\ncommand %q\nwant    %q", nn.Summary, nn.Command, want)
	}
	var det *review.AppDetection
	for _, a := range r.AppEvidence {
		if a.App == "Acme ERP Sync" {
			det = a.Detection
		}
	}
	if det == nil || len(det.Networks) != 5 || det.Networks[0].Users[0].User != f.username || len(det.Logins) == 0 || det.Logins[len(det.Logins)-1].IOCLists[0] != "unc6395" {
		t.Fatalf("detection evidence %+v", det)
	}
	// The text report: the section, the user, the command.
	text := f.review(t, f.data, "text")
	for _, w := range []string{"Acme ERP Sync: new networks", "198.18.10.0/24", f.username, "--app-id=" + f.erp.ID, "Acme ERP Sync: OAuth logins from new networks or IOC addresses"} {
		if !strings.Contains(text, w) {
			t.Errorf("text review lacks %q", w)
		}
	}
	if after, err := os.ReadFile(state); err != nil || string(after) != string(before) {
		t.Errorf("the review command changed the exporter's state file (err %v)", err)
	}
	// Without the exporter's state there is no baseline, and it says so.
	empty := filepath.Join(t.TempDir(), "data")
	if err := json.Unmarshal([]byte(f.review(t, empty, "json")), &r); err != nil {
		t.Fatal(err)
	}
	for _, fd := range r.Findings {
		if fd.Kind == review.KindNewNetwork {
			t.Errorf("a new-network finding without a baseline: %s", fd.Summary)
		}
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "no exporter state for org prod in --storage.path") {
		t.Errorf("notes %q do not say the state is missing", r.Notes)
	}
}

// TestReviewCommandNamesEveryApp: max_apps_per_org bounds the metrics'
// series, not the review, which reads the serve settings otherwise.
func TestReviewCommandNamesEveryApp(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	for i := range 4 {
		a := org.AddApp(sftest.App{Name: fmt.Sprintf("App %d", i), Installed: true})
		org.AddToken(sftest.TokenSpec{User: org.AddUser(fmt.Sprintf("u%d@example.com", i), true), App: a, LastUsed: org.Now()})
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "max_apps_per_org: 2\n")
	out := filepath.Join(dir, "review.json")
	if code, msg := runBinary(t, time.Minute, "review", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--format=json", "--output="+out); code != 0 {
		t.Fatalf("review: exit %d: %s", code, msg)
	}
	var r review.Report
	if err := json.Unmarshal([]byte(mustRead(t, out)), &r); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range r.Inventory {
		names = append(names, a.App)
	}
	if len(names) != 4 || strings.Contains(strings.Join(names, ","), "(other)") {
		t.Errorf("inventory %q, want the 4 apps by name", names)
	}
}

// TestReviewCommandSeesTokenCreatedNow: a review run right after a page
// shows the app that caused it. The one-shot read counts a token created at
// the org's current instant (the serving exporter's reads stop 2 s short of
// the clock, for the next read to take it); it once left it out.
func TestReviewCommandSeesTokenCreatedNow(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 3, 1, 12, 0, 0, 700_000_000, time.UTC)
	org.SetNow(now)
	old := org.AddApp(sftest.App{Name: "Known Sync", Installed: true})
	org.AddToken(sftest.TokenSpec{User: org.AddUser("a@example.com", true), App: old, Created: now.AddDate(0, -1, 0)})
	fresh := org.AddApp(sftest.App{Name: "Just Authorized", Installed: false})
	org.AddToken(sftest.TokenSpec{User: org.AddUser("b@example.com", true), App: fresh, Created: org.Now()})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	out := filepath.Join(dir, "review.json")
	if code, msg := runBinary(t, time.Minute, "review", "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--format=json", "--output="+out); code != 0 {
		t.Fatalf("review: exit %d: %s", code, msg)
	}
	var r review.Report
	if err := json.Unmarshal([]byte(mustRead(t, out)), &r); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]int64{}
	for _, a := range r.Inventory {
		tokens[a.App] = a.Tokens
	}
	if tokens["Just Authorized"] != 1 || tokens["Known Sync"] != 1 {
		t.Errorf("tokens by app %v, want 1 for Known Sync and 1 for the app authorized at the org's current instant", tokens)
	}
}
