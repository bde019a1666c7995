package refresh

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

var quiet = slog.New(slog.DiscardHandler)

const staleAfter = 90 * 24 * time.Hour

// testOrgConfig is an org config pointing at a fake server.
func testOrgConfig(t *testing.T, url string, sources ...string) config.Org {
	t.Helper()
	on := map[string]bool{}
	for _, s := range sources {
		on[s] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "orgs:\n  - name: test\n    login_url: %s\n    full_sync_interval: 1000h\n    sources:\n", url)
	for _, s := range config.Sources {
		// With no sources named, every source is on but the opt-in ones,
		// which need an add-on the fake org lacks by default.
		fmt.Fprintf(&b, "      %s: {enabled: %v}\n", s, len(sources) == 0 && !config.OptInSources[s] || on[s])
	}
	fmt.Fprintf(&b, "    auth:\n      flow: client_credentials\n      client_id: %s\n      client_secret_file: secret\n", sftest.TestCredentials.ClientID)
	dir := t.TempDir()
	writeFile(t, dir+"/secret", sftest.TestCredentials.ClientSecret)
	cfg, err := config.Parse([]byte(b.String()), dir+"/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Orgs[0]
}

func newTestRefresher(t *testing.T, org config.Org, inventory ...string) *Refresher {
	t.Helper()
	inv := map[string]bool{}
	for _, a := range inventory {
		inv[a] = true
	}
	settings := Settings{StaleAfter: staleAfter, Inventory: func(_, name, _ string) *config.InventoryEntry {
		if inv[name] {
			return &config.InventoryEntry{App: name, Owner: "owner@example.com"}
		}
		return nil
	}}
	r, err := NewRefresher(org, settings, t.TempDir(), quiet, nil, salesforce.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkTruth compares a snapshot's token figures with the fake's ground truth.
func checkTruth(t *testing.T, org *sftest.Org, snap *snapshot.Snapshot) {
	t.Helper()
	truth, inactive := org.GroundTruth(staleAfter)
	got := map[string]snapshot.AppUsage{}
	for _, a := range snap.Apps {
		if a.Kind == snapshot.KindConnectedApp && a.HasTokens && a.Tokens > 0 {
			if _, dup := got[a.Name]; dup {
				t.Fatalf("app %q appears twice", a.Name)
			}
			got[a.Name] = a
		}
	}
	if len(got) != len(truth) {
		t.Fatalf("%d apps with tokens, want %d", len(got), len(truth))
	}
	for name, w := range truth {
		a := got[name]
		if int(a.Tokens) != w.Tokens || int(a.Users) != w.Users || a.Uses != w.Uses || int(a.Stale) != w.Stale || int(a.InactiveTokens) != w.InactiveTokens {
			t.Errorf("%s: tokens=%d users=%d uses=%d stale=%d inactive=%d; want %+v", name, a.Tokens, a.Users, a.Uses, a.Stale, a.InactiveTokens, w)
		}
		if !a.LastUsed.Equal(w.LastUsed) || !a.FirstAuthorized.Equal(w.FirstAuthorized) {
			t.Errorf("%s: last used %v first %v; want %v %v", name, a.LastUsed, a.FirstAuthorized, w.LastUsed, w.FirstAuthorized)
		}
	}
	if int(snap.InactiveUsers) != inactive {
		t.Errorf("inactive users = %d, want %d", snap.InactiveUsers, inactive)
	}
}

func TestTokenMetricsMatchGroundTruthBothModes(t *testing.T) {
	t.Parallel()
	for _, aggregates := range []bool{false, true} {
		t.Run(fmt.Sprintf("aggregates=%v", aggregates), func(t *testing.T) {
			t.Parallel()
			org := sftest.NewOrg()
			org.Behavior.OauthTokenAggregates = aggregates
			org.Generate(sftest.Scale{Tokens: 20000, Apps: 30, Users: 4000, Seed: 7})
			srv, ts := sftest.Start(t, org, sftest.TestCredentials)
			r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps))
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			snap := r.Snapshot()
			wantMode := map[bool]string{false: "rows", true: "aggregate"}[aggregates]
			if snap.TokenMode != wantMode {
				t.Fatalf("token mode %q, want %q", snap.TokenMode, wantMode)
			}
			checkTruth(t, org, snap)

			// The org changes: uses, new approvals, revocations, a leaver.
			org.Advance(5 * time.Minute)
			org.Churn(200, 30, 99)
			org.RevokeRandom(7, 5)
			org.SetUserActive(3, false)
			srv.ResetCounts()
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			checkTruth(t, org, r.Snapshot())
			t.Logf("steady-state refresh with revocations: %d API calls %v", srv.APICalls(), srv.Requests())
		})
	}
}

// TestSteadyStateCalls: once synced, a refresh with 0.1% of tokens used or
// new costs a handful of calls whatever the org's size.
func TestSteadyStateCalls(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 100000, Apps: 50, Users: 20000, Seed: 3})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps, config.SourceLimits))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	full := srv.APICalls()
	for i := range 3 {
		org.Advance(5 * time.Minute)
		org.Churn(95, 5, uint64(i))
		srv.ResetCounts()
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := srv.APICalls(); got > 12 {
			t.Errorf("refresh %d: %d API calls, want at most 12: %v", i, got, srv.Requests())
		}
		checkTruth(t, org, r.Snapshot())
	}
	t.Logf("full sync %d calls; steady state %d calls", full, srv.APICalls())
}

func TestUsageWindowsAcrossRestartAndReissue(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	day := 24 * time.Hour
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	org.SetNow(start.Add(3 * time.Hour))
	app := org.AddApp(sftest.App{Name: "Integration", Installed: true})
	appID := org.Apps()[app].ID
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	storage := t.TempDir()
	cfg := testOrgConfig(t, ts.URL, config.SourceAPIUsage)
	newR := func() *Refresher {
		r := newTestRefresher(t, cfg)
		r.storage = storage
		return r
	}
	r := newR()
	// Seven days, each file visible for one day only, read on its own day;
	// the exporter restarts half way.
	for d := range 7 {
		ld := start.Add(time.Duration(d) * day)
		org.SetNow(ld.Add(day + 2*time.Hour))
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(day + time.Hour), CRLF: d%2 == 0, Rows: []sftest.UsageRow{
			{AppID: appID[:15], AppName: "Integration", StatusCode: 200, Count: 100 * (d + 1)},
			{AppID: appID, AppName: "Integration", StatusCode: 503, Count: d + 1},
			{StatusCode: 200, Count: 5},
		}})
		if d == 3 {
			r = newR()
		}
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	a := findApp(t, r.Snapshot(), "Integration")
	// 7d: sum of 101..707; 24h: the last day.
	if a.Requests7d != 2800+28 || a.Errors7d != 28 || a.Requests24h != 707 || a.Errors24h != 7 {
		t.Fatalf("7d=%d/%d 24h=%d/%d", a.Requests7d, a.Errors7d, a.Requests24h, a.Errors24h)
	}
	if got, want := r.Snapshot().APIUsageEnd, start.Add(7*day); !got.Equal(want) {
		t.Errorf("data end %v, want %v", got, want)
	}
	if got := r.Snapshot().APIUsageStart; !got.Equal(start) {
		t.Errorf("data start %v, want %v (seven days of history)", got, start)
	}
	// The last day's file is re-issued with new counts: they replace, never add.
	last := start.Add(6 * day)
	org.AddLogFile(&sftest.LogFile{LogDate: last, CreatedDate: org.Now(), Rows: []sftest.UsageRow{{AppID: appID, AppName: "Integration", StatusCode: 200, Count: 1000}}})
	// Hourly files for a day that also has a Daily file are not counted twice.
	org.AddLogFile(&sftest.LogFile{Interval: "Hourly", LogDate: last.Add(5 * time.Hour), Sequence: 1, CreatedDate: org.Now(), Rows: []sftest.UsageRow{{AppID: appID, AppName: "Integration", StatusCode: 200, Count: 50}}})
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	a = findApp(t, r.Snapshot(), "Integration")
	if a.Requests24h != 1000 || a.Errors24h != 0 || a.Requests7d != 2800+28-707+1000 {
		t.Fatalf("after re-issue: 24h=%d/%d 7d=%d", a.Requests24h, a.Errors24h, a.Requests7d)
	}
	none := findApp(t, r.Snapshot(), snapshot.NoConnectedApp)
	if none.Requests7d != 30 {
		t.Errorf("requests without an app: %d, want 30", none.Requests7d)
	}
}

func findApp(t *testing.T, s *snapshot.Snapshot, name string) snapshot.AppUsage {
	t.Helper()
	for _, a := range s.Apps {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("app %q not in snapshot", name)
	return snapshot.AppUsage{}
}

func TestSessionsLoginsAndECAs(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	mob := org.AddApp(sftest.App{Name: "Mobile", Installed: true})
	u1, u2 := org.AddUser("a@example.com", true), org.AddUser("b@example.com", false)
	org.AddToken(sftest.TokenSpec{User: u1, App: mob, Created: now.Add(-time.Hour)})
	org.AddSession(sftest.SessionSpec{User: u1, App: "Mobile", Created: now.Add(-30 * time.Minute)})
	org.AddSession(sftest.SessionSpec{User: u1, App: "Mobile", Created: now.Add(-3 * time.Hour), ValidFor: time.Hour}) // expired
	org.AddSession(sftest.SessionSpec{User: u1, Type: "UI", App: "Browser", Created: now})                             // not OAuth
	org.AddSession(sftest.SessionSpec{User: u2, Created: now.Add(-time.Minute)})                                       // no login row
	org.AddLogin(sftest.LoginSpec{User: u1, App: "Mobile", Time: now.Add(-2 * time.Hour)})
	org.AddLogin(sftest.LoginSpec{User: u1, App: "Mobile", Time: now.Add(-time.Hour), Status: "Invalid Password"})
	org.AddLogin(sftest.LoginSpec{User: u1, App: "Mobile", Time: now.Add(-30 * time.Hour)}) // outside 24h
	org.AddECA(sftest.ECASpec{Name: "Mobile", DeveloperName: "Mobile_ECA", Users: []int{u1, u2}, TokensPerUser: 2, LastUsed: now.Add(-time.Hour)})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps, config.SourceSessions, config.SourceLogins, config.SourceECAs))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	var ca, eca *snapshot.AppUsage
	for i := range snap.Apps {
		a := &snap.Apps[i]
		switch {
		case a.Name == "Mobile" && a.Kind == snapshot.KindConnectedApp:
			ca = a
		case a.Name == "Mobile" && a.Kind == snapshot.KindExternalClientApp:
			eca = a
		}
	}
	if ca == nil || eca == nil {
		t.Fatalf("want a connected app and an ECA both named Mobile: %+v", snap.Apps)
	}
	// The connected app and the ECA share the name "Mobile", and sessions
	// and logins carry only the name: they are credited to neither (no
	// series for them) but to "(unknown)" (build.go's rule, issue 13).
	if ca.HasSessions || ca.HasLogins || eca.HasSessions || eca.HasLogins || ca.Tokens != 1 {
		t.Errorf("same-named apps got name-only data: connected app sessions=%v logins=%v, ECA sessions=%v logins=%v; tokens=%d", ca.HasSessions, ca.HasLogins, eca.HasSessions, eca.HasLogins, ca.Tokens)
	}
	// Each session with an app has its login row: 1 login + 2 sessions succeeded.
	if u := findApp(t, snap, snapshot.NoLoginHistory); u.LoginSuccess != 3 || u.LoginFailure != 1 {
		t.Errorf("unattributed logins %d/%d, want 3/1", u.LoginSuccess, u.LoginFailure)
	}
	if eca.Users != 2 || eca.Tokens != 4 || eca.InactiveTokens != 2 || eca.ID == ca.ID {
		t.Errorf("ECA: users=%d tokens=%d inactive=%d id=%s", eca.Users, eca.Tokens, eca.InactiveTokens, eca.ID)
	}
	if got := findApp(t, snap, snapshot.NoLoginHistory).Sessions; got != 2 {
		t.Errorf("sessions without a login row or of a shared name = %d, want 1 + 1", got)
	}
	// A second read of logins counts nothing twice.
	org.Advance(time.Minute)
	org.AddLogin(sftest.LoginSpec{User: u1, App: "Mobile", Time: org.Now()})
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Snapshot().Apps {
		if a.Name == snapshot.NoLoginHistory && (a.LoginSuccess != 4 || a.LoginFailure != 1) {
			t.Errorf("after a new login: %d/%d, want 4/1", a.LoginSuccess, a.LoginFailure)
		}
	}
}

func TestSourceWithoutPermissionDegradesAlone(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	app := org.AddApp(sftest.App{Name: "A", Installed: true})
	org.AddToken(sftest.TokenSpec{User: org.AddUser("u@example.com", true), App: app, Created: org.Now().Add(-time.Hour)})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	srv.Inject(sftest.Fault{Path: "/query", Count: 1000, Status: 403, Body: `[{"message":"Insufficient privileges","errorCode":"INSUFFICIENT_ACCESS"}]`, MatchQuery: "EventLogFile"})
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceAPIUsage))
	_ = r.RefreshAll(t.Context())
	snap := r.Snapshot()
	if snap.Sources[config.SourceAPIUsage].Up || !strings.Contains(snap.Sources[config.SourceAPIUsage].LastError, "View Event Log Files") {
		t.Errorf("api_usage: %+v", snap.Sources[config.SourceAPIUsage])
	}
	if !snap.Sources[config.SourceOAuthTokens].Up || snap.Up() {
		t.Errorf("oauth_tokens should be up and salesforce_up 0: %+v", snap.Sources)
	}
	if findApp(t, snap, "A").Tokens != 1 {
		t.Error("token data missing")
	}
}

func TestOwnTokensOnlyDetected(t *testing.T) {
	t.Parallel()
	for _, aggregates := range []bool{false, true} {
		org := sftest.NewOrg()
		org.Behavior.OauthTokenAggregates = aggregates
		app := org.AddApp(sftest.App{Name: "A", Installed: true})
		org.AddToken(sftest.TokenSpec{User: org.AddUser("u@example.com", true), App: app, Created: org.Now().Add(-time.Hour)})
		org.AddToken(sftest.TokenSpec{User: org.IntegrationUser(), App: app, Created: org.Now().Add(-time.Hour)})
		_, ts := sftest.Start(t, org, sftest.TestCredentials)
		r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(r.Snapshot().PermissionWarnings) != 0 {
			t.Fatalf("aggregates=%v: warned with full visibility", aggregates)
		}
		org.RestrictTokensToIntegrationUser(true)
		r2 := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
		if err := r2.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(r2.Snapshot().PermissionWarnings) != 1 {
			t.Fatalf("aggregates=%v: own-tokens-only not detected", aggregates)
		}
	}
}

func TestBudgetStretchesInterval(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(1000, 0) // 1% is 10 requests a day
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceLimits, config.SourceApps))
	// The first run is a full read and does not set the steady cost; the
	// next ones do.
	for range 3 {
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	st := r.Snapshot().Sources[config.SourceApps]
	base := r.org.SourceInterval(config.SourceApps)
	if st.Interval <= base {
		t.Fatalf("interval %v not stretched beyond %v", st.Interval, base)
	}
	// Two requests a run at this interval stay within 10 a day.
	perDay := 2 * float64(24*time.Hour) / float64(st.Interval)
	if perDay > 10*1.01 || math.IsNaN(perDay) {
		t.Errorf("projected %.1f requests a day for apps alone, budget 10", perDay)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := writeFileErr(path, s); err != nil {
		t.Fatal(err)
	}
}

// TestAggregatesWithoutRelationshipFilters: an org that accepts GROUP BY but
// not a filter on User.IsActive falls back to rows, with the same answers.
func TestAggregatesWithoutRelationshipFilters(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Behavior.OauthTokenAggregates = true
	org.Behavior.RelationshipFilters = false
	org.Generate(sftest.Scale{Tokens: 3000, Apps: 10, Users: 500, Seed: 8})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r.Snapshot().TokenMode != "rows" {
		t.Fatalf("mode %q, want rows", r.Snapshot().TokenMode)
	}
	checkTruth(t, org, r.Snapshot())
}
