package refresh

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// visibilityOrg is an org with two users' sessions and logins, one of them
// the integration user's.
func visibilityOrg(t *testing.T) *sftest.Org {
	t.Helper()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	app := org.AddApp(sftest.App{Name: "Mobile", Installed: true})
	u := org.AddUser("a@example.com", true)
	org.AddToken(sftest.TokenSpec{User: u, App: app, Created: now.Add(-time.Hour)})
	for _, usr := range []int{u, org.IntegrationUser()} {
		org.AddSession(sftest.SessionSpec{User: usr, App: "Mobile", Created: now.Add(-30 * time.Minute)})
	}
	return org
}

// TestVisibilityLimitedPerSource: without Manage Users, AuthSession and
// LoginHistory silently show the integration user's own rows; each source
// says so, names the permission, and stays up.
func TestVisibilityLimitedPerSource(t *testing.T) {
	t.Parallel()
	sources := []string{config.SourceOAuthTokens, config.SourceApps, config.SourceSessions, config.SourceLogins}
	org := visibilityOrg(t)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, sources...))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{config.SourceSessions, config.SourceLogins, config.SourceOAuthTokens} {
		if v, ok := r.Snapshot().Visibility[src]; !ok || v.Limited {
			t.Errorf("full permissions: %s visibility %+v known=%v, want known and not limited", src, v, ok)
		}
	}

	org.SetPermission(sftest.PermManageUsers, false)
	var logs bytes.Buffer
	r2 := newTestRefresher(t, testOrgConfig(t, ts.URL, sources...))
	r2.logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := r2.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r2.Snapshot()
	if v := snap.Visibility[config.SourceSessions]; !v.Limited || v.Missing != "Manage Users" {
		t.Errorf("sessions without Manage Users: %+v", v)
	}
	// Monitor Login History still shows every login.
	if v, ok := snap.Visibility[config.SourceLogins]; !ok || v.Limited {
		t.Errorf("logins with Monitor Login History: %+v", v)
	}
	if findApp(t, snap, "Mobile").Sessions != 1 {
		t.Errorf("sessions = %d, want the integration user's own 1", findApp(t, snap, "Mobile").Sessions)
	}
	org.SetPermission(sftest.PermMonitorLoginHistory, false)
	if err := r2.RefreshAll(t.Context()); err != nil {
		t.Fatal(err) // checked hourly: still the old answer
	}
	if r2.Snapshot().Visibility[config.SourceLogins].Limited {
		t.Error("permissions re-read before the hour was up")
	}
	org.Advance(visibilityEvery + time.Minute)
	for range 2 {
		if err := r2.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	snap = r2.Snapshot()
	if v := snap.Visibility[config.SourceLogins]; !v.Limited || v.Missing != loginsPermission {
		t.Errorf("logins without either permission: %+v", v)
	}
	for _, src := range []string{config.SourceSessions, config.SourceLogins} {
		if !snap.Sources[src].Up {
			t.Errorf("%s down: %+v", src, snap.Sources[src])
		}
	}
	if n := strings.Count(logs.String(), "sees only its own rows"); n != 2 {
		t.Errorf("logged the missing permission %d times, want once per source:\n%s", n, logs.String())
	}
}

// TestVisibilityUnknownWhenPermissionsUnreadable: an error reading the
// permissions is "unknown", never a failed source.
func TestVisibilityUnknownWhenPermissionsUnreadable(t *testing.T) {
	t.Parallel()
	org := visibilityOrg(t)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	srv.Inject(sftest.Fault{Path: "/query", Count: 1000, Status: 400, Body: `[{"message":"sObject type 'PermissionSetAssignment' is not supported.","errorCode":"INVALID_TYPE"}]`, MatchQuery: "PermissionSetAssignment"})
	// oauth_tokens first: its responses set the org clock the sessions are active by.
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceSessions, config.SourceLogins))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	for _, src := range []string{config.SourceSessions, config.SourceLogins} {
		if _, ok := snap.Visibility[src]; ok {
			t.Errorf("%s: visibility known despite unreadable permissions", src)
		}
		if !snap.Sources[src].Up {
			t.Errorf("%s failed: %+v", src, snap.Sources[src])
		}
	}
	if findApp(t, snap, "Mobile").Sessions != 2 {
		t.Errorf("sessions lost: %+v", snap.Apps)
	}
}

// TestSkippedUsageRowsCounted: malformed rows of an ApiTotalUsage file are
// left out and counted, the rest of the file counts, and one log line per
// file names the first.
func TestSkippedUsageRowsCounted(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	day := 24 * time.Hour
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	org.SetNow(start.Add(day + 2*time.Hour))
	huge := strings.Repeat("x", salesforce.MaxCSVNameBytes+1)
	org.AddLogFile(&sftest.LogFile{LogDate: start, CreatedDate: start.Add(day + time.Hour), Rows: []sftest.UsageRow{
		{AppID: "0H4000000000001", AppName: "Integration", StatusCode: 200, Count: 5},
		{AppID: "0H4000000000002", AppName: huge, StatusCode: 200, Count: 2},
	}})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	var logs bytes.Buffer
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceAPIUsage))
	r.logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if !snap.HasAPIUsageScan || snap.APIUsageRowsSkipped != 2 {
		t.Fatalf("skipped %d (scan %v), want 2", snap.APIUsageRowsSkipped, snap.HasAPIUsageScan)
	}
	if a := findApp(t, snap, "Integration"); a.Requests24h != 5 {
		t.Errorf("requests %d, want the 5 good rows", a.Requests24h)
	}
	if n := strings.Count(logs.String(), "Left malformed rows"); n != 1 {
		t.Errorf("%d log lines, want one per file:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), huge[:100]) || !strings.Contains(logs.String(), "csv line 7") {
		t.Errorf("log should name the first bad line, not its value:\n%.500s", logs.String())
	}
	// A second file adds to the counter; nothing is counted twice.
	org.AddLogFile(&sftest.LogFile{LogDate: start.Add(day), CreatedDate: org.Now(), Rows: []sftest.UsageRow{{AppID: "0H4000000000002", AppName: huge, StatusCode: 200}}})
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.Snapshot().APIUsageRowsSkipped; got != 3 {
		t.Errorf("skipped after the second file %d, want 3", got)
	}
}
