package refresh

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
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

// TestVisibilityUnverifiedWhenPermissionsUnreadable: an integration user
// that cannot read PermissionSetAssignment (no View Setup and Configuration,
// Assign Permission Sets or Manage Users) leaves every shrinking source's
// visibility unverified, never full; the sources stay up, and one warning
// per source names what to grant.
func TestVisibilityUnverifiedWhenPermissionsUnreadable(t *testing.T) {
	t.Parallel()
	org := visibilityOrg(t)
	org.SetPermission(sftest.PermViewSetup, false)
	org.SetPermission(sftest.PermManageUsers, false)
	org.SetPermission(sftest.PermMonitorLoginHistory, true)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	// oauth_tokens first: its responses set the org clock the sessions are active by.
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceSessions, config.SourceLogins))
	var logs bytes.Buffer
	r.logger = slog.New(slog.NewTextHandler(&logs, nil))
	for range 2 {
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	snap := r.Snapshot()
	for _, src := range []string{config.SourceOAuthTokens, config.SourceSessions, config.SourceLogins} {
		v, ok := snap.Visibility[src]
		if !ok || v.State() != snapshot.VisibilityUnverified || !strings.Contains(v.Missing, "View Setup and Configuration") {
			t.Errorf("%s: visibility %+v (known %v), want unverified naming View Setup and Configuration", src, v, ok)
		}
		if !snap.Sources[src].Up {
			t.Errorf("%s failed: %+v", src, snap.Sources[src])
		}
	}
	if n := strings.Count(logs.String(), "visibility is unverified"); n != 3 {
		t.Errorf("logged the unreadable permissions %d times, want once per source:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "Assign Permission Sets") {
		t.Errorf("the warning does not say what to grant:\n%s", logs.String())
	}
	// Readable again at the next hourly check: full.
	org.SetPermission(sftest.PermAssignPermissionSets, true)
	org.Advance(visibilityEvery + time.Minute)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := r.Snapshot().Visibility[config.SourceLogins]; v.State() != snapshot.VisibilityFull {
		t.Errorf("logins with readable permissions and Monitor Login History: %+v", v)
	}
}

// TestVisibilityIgnoresAssignmentsNotInForce: a permission set whose
// assignment expired grants nothing, and the sources say limited.
func TestVisibilityIgnoresAssignmentsNotInForce(t *testing.T) {
	t.Parallel()
	org := visibilityOrg(t)
	org.SetPermission(sftest.PermAssignPermissionSets, true) // from the profile: the assignments stay readable
	org.SetAssignment(sftest.AssignmentExpired)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceSessions, config.SourceLogins))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{config.SourceSessions, config.SourceLogins} {
		if v := r.Snapshot().Visibility[src]; v.State() != snapshot.VisibilityLimited {
			t.Errorf("%s with an expired assignment: %+v, want limited", src, v)
		}
	}
}

// TestVisibilityUsersHidden: under a Private sharing default for users, an
// integration user without View All Users sees only its own User record;
// OauthToken.User is null for the rest and the deactivated-user figures are
// silently low. oauth_tokens says limited and names View All Users.
func TestVisibilityUsersHidden(t *testing.T) {
	t.Parallel()
	for _, aggregate := range []bool{false, true} {
		org := visibilityOrg(t)
		org.Behavior.OauthTokenAggregates = aggregate
		app := org.AddApp(sftest.App{Name: "Sync", Installed: true})
		gone := org.AddUser("gone@example.com", false)
		org.AddToken(sftest.TokenSpec{User: gone, App: app, Created: org.Now().Add(-time.Hour)})
		org.SetPermission(sftest.PermViewAllUsers, false)
		_, ts := sftest.Start(t, org, sftest.TestCredentials)
		r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
		var logs bytes.Buffer
		r.logger = slog.New(slog.NewTextHandler(&logs, nil))
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		snap := r.Snapshot()
		if snap.InactiveUsers != 0 {
			t.Fatalf("aggregate %v: the fake shows %d deactivated users without View All Users; want the silently low 0", aggregate, snap.InactiveUsers)
		}
		if v := snap.Visibility[config.SourceOAuthTokens]; v.State() != snapshot.VisibilityLimited || v.Missing != "View All Users" {
			t.Errorf("aggregate %v: oauth_tokens visibility %+v, want limited for View All Users", aggregate, v)
		}
		if !strings.Contains(logs.String(), "View All Users") {
			t.Errorf("aggregate %v: no log names View All Users:\n%s", aggregate, logs.String())
		}
		// Public Read Only for users: every User readable, figures right.
		org.Behavior.PublicUserSharing = true
		org.Advance(visibilityEvery + time.Minute)
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		snap = r.Snapshot()
		if v := snap.Visibility[config.SourceOAuthTokens]; v.State() != snapshot.VisibilityFull || snap.InactiveUsers != 1 {
			t.Errorf("aggregate %v, public user sharing: visibility %+v, %d deactivated users; want full and 1", aggregate, v, snap.InactiveUsers)
		}
	}
}

// TestSkippedUsageRowsCounted: malformed rows of an ApiTotalUsage file are
// left out and counted, the rest of the file counts, and one log line per
// TestSlowLogFileIngestedOnTheNextRun: a daily file whose download takes
// longer than the refresh timeout (1 s here, 4 minutes by default) but
// keeps flowing fails that run only: the next run is given the time the
// file's download may take (sized by its LogFileLength), and counts it.
// It once failed on every run, freezing the usage figures for good.
func TestSlowLogFileIngestedOnTheNextRun(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	day := 24 * time.Hour
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	org.SetNow(start.Add(day + 2*time.Hour))
	org.AddLogFile(&sftest.LogFile{LogDate: start, CreatedDate: start.Add(day + time.Hour), Rows: []sftest.UsageRow{
		{AppID: "0H4000000000001", AppName: "Integration", StatusCode: 200, Time: start.Add(20 * time.Hour), Count: 200, Spread: time.Hour},
	}})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	cfg := testOrgConfig(t, ts.URL, config.SourceAPIUsage)
	c, err := NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.EventLogFiles(t.Context(), "ApiTotalUsage", time.Time{})
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, err %v", files, err)
	}
	srv.SlowLogFiles(int64(files[0].LogFileLength) / 3) // about 3 s of steady bytes
	cfg.Timeout = config.Duration(time.Second)
	r := newTestRefresher(t, cfg)
	if err := r.RefreshAll(t.Context()); err == nil || !strings.Contains(err.Error(), "the next run may take up to") {
		t.Fatalf("first run: err = %v, want the download cut by the 1 s refresh timeout, saying what the next run gets", err)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if a := findApp(t, r.Snapshot(), "Integration"); a.Requests24h != 200 {
		t.Errorf("requests %d, want the file's 200", a.Requests24h)
	}
}

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
	// A second file, of the next day and out once it has ended, adds to
	// the counter; nothing is counted twice.
	org.SetNow(start.Add(2*day + 2*time.Hour))
	org.AddLogFile(&sftest.LogFile{LogDate: start.Add(day), CreatedDate: org.Now(), Rows: []sftest.UsageRow{{AppID: "0H4000000000002", AppName: huge, StatusCode: 200}}})
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.Snapshot().APIUsageRowsSkipped; got != 3 {
		t.Errorf("skipped after the second file %d, want 3", got)
	}
}

// TestFutureDatesFromTheServer: a log file dated 9000-01-01 and created in
// 2999, listed by the org or saved in an old state file, neither prunes the
// other periods nor stops later files from being listed.
func TestFutureDatesFromTheServer(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	far := time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
	created2999 := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := func(n int) []sftest.UsageRow {
		return []sftest.UsageRow{{AppID: "0H4000000000001", AppName: "Integration", StatusCode: 200, Count: n}}
	}
	for _, fromState := range []bool{false, true} {
		t.Run(map[bool]string{false: "listed", true: "old state"}[fromState], func(t *testing.T) {
			t.Parallel()
			org := sftest.NewOrg()
			org.SetNow(start.Add(day + 2*time.Hour))
			org.AddLogFile(&sftest.LogFile{LogDate: start, CreatedDate: start.Add(day + time.Hour), Rows: rows(10)})
			if !fromState {
				// An org with corrupt dates lists a file no real org would.
				org.Behavior.FutureLogFiles = true
				org.AddLogFile(&sftest.LogFile{LogDate: far, CreatedDate: created2999, Rows: rows(1000)})
			}
			_, ts := sftest.Start(t, org, sftest.TestCredentials)
			storage := t.TempDir()
			if fromState {
				st := newOrgState("test")
				st.Usage.Periods[periodKey("Daily", far, 0)] = &usagePeriod{Interval: "Daily", Start: far, FileID: "0ATbad", Created: created2999,
					Apps: map[string]*appCount{"0H4000000000001": {Name: "Integration", ID: "0H4000000000001", Requests: 1000}}}
				st.Usage.ListedUntil = created2999
				if err := saveState(storage, st); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceAPIUsage))
			r.storage = storage
			r.logger = slog.New(slog.NewTextHandler(&logs, nil))
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			a := findApp(t, r.Snapshot(), "Integration")
			if a.Requests7d != 10 {
				t.Fatalf("7d requests %d, want the real day's 10", a.Requests7d)
			}
			if end := r.Snapshot().APIUsageEnd; !end.Equal(start.Add(day)) {
				t.Errorf("data end %v, want %v", end, start.Add(day))
			}
			if fromState && (!strings.Contains(logs.String(), "Dropped an API usage period") || !strings.Contains(logs.String(), "Reset the log file listing watermark")) {
				t.Errorf("no log line for the mended state:\n%s", logs.String())
			}
			// The next day's file is still listed and counted, and the first
			// day survives.
			org.SetNow(start.Add(2*day + 2*time.Hour))
			org.AddLogFile(&sftest.LogFile{LogDate: start.Add(day), CreatedDate: start.Add(2*day + time.Hour), Rows: rows(20)})
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			a = findApp(t, r.Snapshot(), "Integration")
			if a.Requests7d != 30 || a.Requests24h != 20 {
				t.Errorf("after the next day: 7d=%d 24h=%d, want 30 and 20", a.Requests7d, a.Requests24h)
			}
			if lu := r.state.Usage.ListedUntil; lu.After(org.Now().Add(salesforce.LogFileClockMargin)) {
				t.Errorf("listing watermark %v is past the org's clock %v", lu, org.Now())
			}
		})
	}
}

// TestAggregateServerErrorRetriedSooner: a failure that may pass on the
// aggregate query (a 5xx that outlives the retries, a 400 QUERY_TIMEOUT)
// fails the source for aggregateTriesBeforeRows-1 runs, then falls back to
// rows for an hour, not the week a rejection of the query's shape (400
// MALFORMED_QUERY, at once) is remembered; the log says which.
func TestAggregateServerErrorRetriedSooner(t *testing.T) {
	t.Parallel()
	timeout := sftest.QueryTimeoutFault("COUNT_DISTINCT", 100)
	for _, c := range []struct {
		name, body, reason string
		status             int
		backAfterHour      bool
	}{
		{"server error", `[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]`, "a server error outlived the retries", 500, true},
		{"query timeout", timeout.Body, "the query timed out (QUERY_TIMEOUT)", timeout.Status, true},
		{"rejected", `[{"message":"Grouped field should not be aggregated","errorCode":"MALFORMED_QUERY"}]`, "the query was rejected", 400, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			org := sftest.NewOrg()
			org.Behavior.OauthTokenAggregates = true
			org.Generate(sftest.Scale{Tokens: 300, Apps: 5, Users: 50, Seed: 4})
			srv, ts := sftest.Start(t, org, sftest.TestCredentials)
			srv.Inject(sftest.Fault{Path: "/query", Count: 100, Status: c.status, Body: c.body, MatchQuery: "COUNT_DISTINCT"})
			var logs bytes.Buffer
			r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
			r.logger = slog.New(slog.NewTextHandler(&logs, nil))
			failedRuns := 0
			if c.backAfterHour {
				failedRuns = aggregateTriesBeforeRows - 1
			}
			for i := range failedRuns {
				if err := r.RefreshAll(t.Context()); err == nil || !strings.Contains(err.Error(), c.reason) {
					t.Fatalf("run %d: err = %v, want the source to fail saying %q", i+1, err, c.reason)
				}
				if snap := r.Snapshot(); snap.TokenMode != "" || tokenTotal(snap) != 0 {
					t.Fatalf("run %d: mode %q, %d tokens: rows read after a failure that may pass", i+1, snap.TokenMode, tokenTotal(snap))
				}
			}
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			if r.Snapshot().TokenMode != TokenModeRows {
				t.Fatalf("mode %q, want rows", r.Snapshot().TokenMode)
			}
			if rejected := !r.state.AggregatesRejectedAt.IsZero(); rejected == c.backAfterHour {
				t.Errorf("aggregates remembered as rejected: %v, want %v", rejected, !c.backAfterHour)
			}
			checkTruth(t, org, r.Snapshot())
			if !strings.Contains(logs.String(), c.reason) {
				t.Errorf("log lacks the reason %q:\n%s", c.reason, logs.String())
			}
			srv.ClearFaults()
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			if r.Snapshot().TokenMode != TokenModeRows {
				t.Error("aggregates tried again at once")
			}
			org.Advance(aggregateRetryTemporary + time.Minute)
			for range 2 { // the first response after the jump sets the client's clock
				if err := r.RefreshAll(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			want := map[bool]string{true: TokenModeAggregate, false: TokenModeRows}[c.backAfterHour]
			if got := r.Snapshot().TokenMode; got != want {
				t.Errorf("after an hour: mode %q, want %q", got, want)
			}
			checkTruth(t, org, r.Snapshot())
		})
	}
}

// TestAggregateQueryTimeoutKeepsAggregates: one slow aggregate query (a 400
// QUERY_TIMEOUT, as a real org answers it) fails that run with the last
// figures kept, and the next run reads aggregates again: no switch to rows
// (a full sync), nothing remembered as rejected.
func TestAggregateQueryTimeoutKeepsAggregates(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Behavior.OauthTokenAggregates = true
	org.Generate(sftest.Scale{Tokens: 300, Apps: 5, Users: 50, Seed: 4})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r.Snapshot().TokenMode != TokenModeAggregate {
		t.Fatalf("mode %q, want aggregate", r.Snapshot().TokenMode)
	}
	before := r.Snapshot()
	checkTruth(t, org, before)

	org.AddToken(sftest.TokenSpec{User: 1, App: 0})
	srv.Inject(sftest.QueryTimeoutFault("COUNT_DISTINCT", 1))
	if err := r.RefreshAll(t.Context()); err == nil || !strings.Contains(err.Error(), "QUERY_TIMEOUT") {
		t.Fatalf("err = %v, want the source to fail with QUERY_TIMEOUT", err)
	}
	snap := r.Snapshot()
	if snap.TokenMode != TokenModeAggregate {
		t.Fatalf("after a QUERY_TIMEOUT: mode %q, want the last aggregate figures", snap.TokenMode)
	}
	if got, want := tokenTotal(snap), tokenTotal(before); got != want {
		t.Errorf("after a QUERY_TIMEOUT: %d tokens, want the last figures' %d", got, want)
	}
	if !r.state.AggregatesRejectedAt.IsZero() {
		t.Errorf("a QUERY_TIMEOUT remembered as a rejection of GROUP BY at %v", r.state.AggregatesRejectedAt)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r.Snapshot().TokenMode != TokenModeAggregate {
		t.Fatalf("next run: mode %q, want aggregate", r.Snapshot().TokenMode)
	}
	checkTruth(t, org, r.Snapshot())
	if got, want := tokenTotal(r.Snapshot()), tokenTotal(before)+1; got != want {
		t.Errorf("next run: %d tokens, want %d", got, want)
	}
}

// tokenTotal is the number of tokens a snapshot's apps hold.
func tokenTotal(snap *snapshot.Snapshot) int64 {
	var n int64
	for _, a := range snap.Apps {
		n += a.Tokens
	}
	return n
}

// TestECAFailureKeepsThatAppOnly: a 5xx on one External Client App's users
// keeps that app's last figures and marks it degraded; the other app is read
// afresh and the source stays up. An auth failure still fails the source.
func TestECAFailureKeepsThatAppOnly(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	var users []int
	for i := range 4 {
		users = append(users, org.AddUser("e"+string(rune('a'+i))+"@example.com", true))
	}
	org.AddECA(sftest.ECASpec{Name: "Broken", DeveloperName: "Broken", Users: users[:2], LastUsed: now})
	org.AddECA(sftest.ECASpec{Name: "Fine", DeveloperName: "Fine", Users: users[:1], LastUsed: now})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	// The collection has no userCount (as on a real org): every app is read each time.
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceLimits, config.SourceECAs))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	ecas := func() map[string]snapshot.AppUsage {
		out := map[string]snapshot.AppUsage{}
		for _, a := range r.Snapshot().Apps {
			if a.Kind == snapshot.KindExternalClientApp {
				out[a.Name] = a
			}
		}
		return out
	}
	before := ecas()
	if before["Broken"].Users != 2 || before["Fine"].Users != 1 || r.Snapshot().ECAsDegraded != 0 || !r.Snapshot().HasECAStatus {
		t.Fatalf("first read: %+v degraded=%d", before, r.Snapshot().ECAsDegraded)
	}
	brokenID := before["Broken"].ID
	srv.Inject(sftest.Fault{Path: "/apps/oauth/usage/" + brokenID + "/users", Count: 1000, Status: 500, Body: `[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]`})
	org.AddECA(sftest.ECASpec{Name: "New", DeveloperName: "New", Users: users[2:], LastUsed: now})
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatalf("one app's failure failed the source: %v", err)
	}
	after := ecas()
	if after["Broken"].Users != 2 || after["Broken"].Tokens != before["Broken"].Tokens {
		t.Errorf("the failing app lost its last figures: %+v", after["Broken"])
	}
	if after["New"].Users != 2 || after["Fine"].Users != 1 {
		t.Errorf("the other apps were not read: %+v", after)
	}
	if got := r.Snapshot().ECAsDegraded; got != 1 {
		t.Errorf("degraded = %d, want 1", got)
	}
	srv.ClearFaults()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.Snapshot().ECAsDegraded; got != 0 {
		t.Errorf("degraded after recovery = %d, want 0", got)
	}
	// Auth is source-wide: the source fails and keeps every app's figures.
	srv.Inject(sftest.Fault{Path: "/apps/oauth/usage/" + brokenID + "/users", Count: 1000, Status: 401, Body: `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`})
	if err := r.RefreshAll(t.Context()); err == nil {
		t.Error("an auth failure on one app did not fail the source")
	}
	if got := ecas(); got["Broken"].Users != 2 || got["New"].Users != 2 {
		t.Errorf("after a failed refresh: %+v", got)
	}
}

// TestECAUnchangedAppsNotReRead: between hourly full reads, an app whose
// userCount is unchanged keeps its figures without a request; a changed one
// is read.
func TestECAUnchangedAppsNotReRead(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	var users []int
	for i := range 6 {
		users = append(users, org.AddUser("e"+string(rune('a'+i))+"@example.com", true))
	}
	for i, name := range []string{"A", "B", "C"} {
		org.AddECA(sftest.ECASpec{Name: name, DeveloperName: name, Users: users[i : i+2], LastUsed: now})
	}
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	srv.SetECAShape(sftest.ECAShape{UserCount: true}) // the change signal some orgs may send
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceLimits, config.SourceECAs))
	usageCalls := func() int {
		srv.ResetCounts()
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		return srv.Requests()["apps_oauth_usage"]
	}
	first := usageCalls()
	steady := usageCalls()
	if steady >= first || steady > 2 {
		t.Errorf("unchanged apps re-read: %d usage requests, first read %d", steady, first)
	}
	org.AddECAUser("B", users[5])
	changed := usageCalls()
	if changed <= steady {
		t.Errorf("a changed app was not read: %d requests", changed)
	}
	for _, a := range r.Snapshot().Apps {
		if a.Kind == snapshot.KindExternalClientApp && a.Users != map[string]int64{"A": 2, "B": 3, "C": 2}[a.Name] {
			t.Errorf("%s: %d users", a.Name, a.Users)
		}
	}
	// The hourly full read reads every app again.
	org.Advance(ecaFullEvery + time.Minute)
	if full := usageCalls(); full <= changed {
		t.Errorf("no full read after an hour: %d requests", full)
	}
}

// TestECARequestsPerRefresh (issue 21.2): an External Client App with 2,000
// users costs a few requests a refresh, not one per user: its tokens are
// OauthToken rows, which the oauth_tokens source reads anyway. The figures
// stay right.
func TestECARequestsPerRefresh(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	users := make([]int, 2000)
	for i := range users {
		users[i] = org.AddUser(fmt.Sprintf("u%d@example.com", i), i%100 != 0)
	}
	org.AddECA(sftest.ECASpec{Name: "Field Companion", DeveloperName: "Field_Companion", Users: users, LastUsed: now.Add(-time.Hour)})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceECAs))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	total := 0
	for _, n := range reqs {
		total += n
	}
	t.Logf("requests per refresh (oauth_tokens and external_client_apps): %d %v", total, reqs)
	if reqs["apps_oauth_usage"] > 2 || total > 10 {
		t.Errorf("%d requests a refresh (%d to the App OAuth Usage resources) for one ECA of 2,000 users; want at most 10 (2)", total, reqs["apps_oauth_usage"])
	}
	var eca []snapshot.AppUsage
	for _, a := range r.Snapshot().Apps {
		if a.Tokens > 0 || a.Kind == snapshot.KindExternalClientApp {
			eca = append(eca, a)
		}
	}
	if len(eca) != 1 || eca[0].Kind != snapshot.KindExternalClientApp || eca[0].Users != 2000 || eca[0].Tokens != 2000 || eca[0].InactiveTokens != 20 {
		t.Errorf("apps with tokens: %+v, want the one ECA with 2,000 users and tokens, 20 of them inactive", eca)
	}
}

// TestECATokensPerUserWhenOauthTokenIsLimited: without Customize
// Application OauthToken shows only the integration user's tokens; the
// External Client App's figures then come from the per-user reads, and its
// OauthToken rows are not counted on top.
func TestECATokensPerUserWhenOauthTokenIsLimited(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org.SetNow(now)
	users := []int{org.IntegrationUser(), org.AddUser("a@example.com", true), org.AddUser("b@example.com", true)}
	org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: users, TokensPerUser: 2, LastUsed: now.Add(-time.Hour)})
	org.RestrictTokensToIntegrationUser(true)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceECAs))
	for range 2 {
		srv.ResetCounts()
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range r.Snapshot().Apps {
			got = append(got, fmt.Sprintf("%s %s tokens=%d users=%d", a.Kind, a.Name, a.Tokens, a.Users))
		}
		if want := "external_client_app Partner Sync tokens=6 users=3"; strings.Join(got, "; ") != want {
			t.Errorf("apps: %v, want %s", got, want)
		}
		if n := srv.Requests()["apps_oauth_usage"]; n < 3 {
			t.Errorf("%d App OAuth Usage requests: the per-user reads did not happen", n)
		}
	}
}

// TestECAOrgVariants: an External Client App is one row with its figures
// whether its tokens carry an AppMenuItem (ApplicationId 0xI…) or none, and
// whether the org answers SOQL on ExternalClientApplication or not (then
// the usage collection alone lists it). No uninstalled connected app
// appears for it.
func TestECAOrgVariants(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name            string
		menuItems, soql bool
	}{
		{"no menu item", false, true},
		{"a 0xI menu item", true, true},
		{"no ExternalClientApplication", false, false},
		{"a 0xI menu item, no ExternalClientApplication", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			org := sftest.NewOrg()
			now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
			org.SetNow(now)
			org.Behavior.ECAMenuItems = c.menuItems
			org.Behavior.NoExternalClientApplication = !c.soql
			crm := org.AddApp(sftest.App{Name: "CRM Sync", Installed: true})
			a, b := org.AddUser("a@example.com", true), org.AddUser("b@example.com", false)
			org.AddToken(sftest.TokenSpec{User: a, App: crm, Created: now.Add(-time.Hour)})
			org.AddECA(sftest.ECASpec{Name: "Partner Sync", DeveloperName: "Partner_Sync", Users: []int{a, b}, TokensPerUser: 2, LastUsed: now.Add(-time.Hour)})
			_, ts := sftest.Start(t, org, sftest.TestCredentials)
			r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens, config.SourceApps, config.SourceECAs))
			if err := r.RefreshAll(t.Context()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range r.Snapshot().Apps {
				got = append(got, fmt.Sprintf("%s %s id=%s installed=%v tokens=%d users=%d inactive=%d", a.Kind, a.Name, a.ID, a.Installed, a.Tokens, a.Users, a.InactiveTokens))
			}
			eca := org.Apps()[org.ECAIndex("Partner Sync")].ID
			want := []string{
				"connected_app CRM Sync id=" + org.Apps()[crm].ID + " installed=true tokens=1 users=1 inactive=0",
				"external_client_app Partner Sync id=" + eca + " installed=true tokens=4 users=2 inactive=2",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("apps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestVisibilityPassingErrorKeepsAnswer: a permissions read that fails with
// a server error keeps the last answer (and tries again at the next
// refresh); with no answer yet it is unverified, never full.
func TestVisibilityPassingErrorKeepsAnswer(t *testing.T) {
	t.Parallel()
	org := visibilityOrg(t)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceSessions))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	fault := sftest.Fault{Path: "/query", Count: 1000, Status: 503, Body: `[{"message":"try later","errorCode":"SERVER_UNAVAILABLE"}]`, MatchQuery: "PermissionSetAssignment"}
	srv.Inject(fault)
	org.Advance(visibilityEvery + time.Minute)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := r.Snapshot().Visibility[config.SourceSessions]; v.State() != snapshot.VisibilityFull {
		t.Errorf("after a passing error: %+v, want the last answer (full)", v)
	}
	r2 := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceSessions))
	if err := r2.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := r2.Snapshot().Visibility[config.SourceSessions]; v.State() != snapshot.VisibilityUnverified {
		t.Errorf("a passing error before any answer: %+v, want unverified", v)
	}
}

// TestVisibilityUsersCheckFailureKeepsSourceUp: the User count failing says
// nothing about the tokens: the source stays up, and the log says why the
// deactivated-user figures are unchecked.
func TestVisibilityUsersCheckFailureKeepsSourceUp(t *testing.T) {
	t.Parallel()
	org := visibilityOrg(t)
	org.Behavior.OauthTokenAggregates = true
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	srv.Inject(sftest.Fault{Path: "/query", Count: 1000, Status: 400, Body: `[{"message":"no","errorCode":"MALFORMED_QUERY"}]`, MatchQuery: "FROM User"})
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceOAuthTokens))
	var logs bytes.Buffer
	r.logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if !snap.Sources[config.SourceOAuthTokens].Up || snap.TokenMode != TokenModeAggregate {
		t.Fatalf("oauth_tokens: %+v, mode %q", snap.Sources[config.SourceOAuthTokens], snap.TokenMode)
	}
	if !strings.Contains(logs.String(), "Could not compare the readable User records") {
		t.Errorf("no log of the failed User count:\n%s", logs.String())
	}
}
