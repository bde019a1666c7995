// Package e2e runs the real chain: fake Salesforce orgs -> the exporter binary
// -> a real Prometheus scraping it and evaluating the rendered mixin rules ->
// a real Alertmanager -> a webhook receiver in the test. Each of the five
// scenarios runs in its own org, at the same time, in one stack.
package e2e

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// testConfig shrinks the mixin's windows and for-durations to test size.
const testConfig = `{
  salesforceExporterSelector: 'job="salesforce"',
  exporterDownFor: '10s', sourceFailingFor: '5s', staleDataFor: '1m', staleDataMinSeconds: 3600,
  unknownAppFor: '0s', newAppLookback: '1m', authSurgeWindow: '20s',
  apiSurgeFor: '0s', apiErrorFor: '2s', loginFailureFor: '5s',
  inactiveUserTokensFor: '3s', uninstalledAppTokensFor: '3s', staleTokensFor: '3s', abandonedAppFor: '3s',
  apiAllocationFor: '3s', exporterOverBudgetFor: '10s',
  securityKeepFiringFor: '30s', sameNameAppsFor: '2s', coverageLostFor: '15s',
  newNetworkHistory: '1m', newNetworkHistoryOffset: '8s', newNetworkHistoryStep: '1s',
}`

const (
	refreshEvery = 2 * time.Second
	day          = 24 * time.Hour
)

var inventory = []string{"Salesforce Mobile App", "Slack", "Acme ERP Sync"}

// scenarioOrg is one fake org with its server.
type scenarioOrg struct {
	name string
	org  *sftest.Org
	srv  *sftest.Server
	ts   *httptest.Server
	apps map[string]int
	// leavers are users who hold only Slack tokens.
	leavers []int
	// The users of each app's tokens; integrationUser is Acme ERP Sync's.
	mobileUsers, slackUsers []int
	integrationUser         int
	// acmeRequests and replayRuns, when set, are Acme ERP Sync's daily
	// requests and its replay's runs of 10 (sftest.TrafficSpec).
	acmeRequests, replayRuns int
	// egress, when set, moves Acme ERP Sync to other networks (sftest.TrafficSpec.Egress).
	egress string
}

// cleanOrg is an org with nothing to report: every app known, installed
// and used, every user active, steady API traffic over the last week.
func cleanOrg(t *testing.T, name string) *scenarioOrg {
	t.Helper()
	s := populate(name, sftest.NewOrg())
	today := s.org.Now().UTC().Truncate(day)
	for d := 7; d >= 1; d-- {
		s.addDay(today.Add(-time.Duration(d)*day), 1, 0.01)
	}
	s.serve(t)
	return s
}

// populate gives an org the clean org's apps, users, tokens and logins, as
// of the org's clock.
func populate(name string, o *sftest.Org) *scenarioOrg {
	now := o.Now()
	s := &scenarioOrg{name: name, org: o, apps: map[string]int{}}
	for _, a := range inventory {
		s.apps[a] = o.AddApp(sftest.App{Name: a, Installed: true, AdminApproved: a == "Acme ERP Sync", Created: now.Add(-500 * day), Integration: a == "Acme ERP Sync"})
	}
	var users []int
	for i := range 30 {
		users = append(users, o.AddUser(fmt.Sprintf("%s-user%d@example.com", name, i), true))
	}
	for i, u := range users[:20] {
		o.AddToken(sftest.TokenSpec{User: u, App: s.apps["Salesforce Mobile App"], Created: now.Add(-time.Duration(100+i) * day), LastUsed: now.Add(-time.Hour), UseCount: 50})
	}
	for i, u := range users[20:28] {
		o.AddToken(sftest.TokenSpec{User: u, App: s.apps["Slack"], Created: now.Add(-time.Duration(150+i) * day), LastUsed: now.Add(-2 * time.Hour), UseCount: 30})
	}
	for _, u := range users[28:] {
		o.AddToken(sftest.TokenSpec{User: u, App: s.apps["Acme ERP Sync"], Created: now.Add(-300 * day), LastUsed: now.Add(-time.Minute), UseCount: 9000})
	}
	s.mobileUsers, s.slackUsers, s.integrationUser = users[:20], users[20:28], users[28]
	for i := range 3 {
		u := o.AddUser(fmt.Sprintf("%s-leaver%d@example.com", name, i), true)
		s.leavers = append(s.leavers, u)
		o.AddToken(sftest.TokenSpec{User: u, App: s.apps["Slack"], Created: now.Add(-200 * day), LastUsed: now.Add(-3 * time.Hour), UseCount: 12})
	}
	for i := range 30 {
		o.AddLogin(sftest.LoginSpec{User: users[i], App: "Salesforce Mobile App", Time: now.Add(-time.Duration(i) * 10 * time.Minute)})
	}
	return s
}

// serve starts the org's fake Salesforce.
func (s *scenarioOrg) serve(t *testing.T) {
	t.Helper()
	s.srv, s.ts = sftest.Start(t, s.org, sftest.TestCredentials)
}

// addDay adds a Daily ApiTotalUsage file; Acme's volume is scaled by factor
// with the given error share.
func (s *scenarioOrg) addDay(logDate time.Time, factor int, errShare float64) {
	apps := s.org.Apps()
	var rows []sftest.UsageRow
	for name, n := range map[string]int{"Salesforce Mobile App": 2000, "Slack": 1500, "Acme ERP Sync": 5000} {
		if name == "Acme ERP Sync" {
			n *= factor
		}
		share := 0.01
		if name == "Acme ERP Sync" {
			share = errShare
		}
		errs := int(float64(n) * share)
		id := apps[s.apps[name]].ID
		rows = append(rows, sftest.UsageRow{AppID: id[:15], AppName: name, StatusCode: 200, Count: n - errs})
		if errs > 0 {
			rows = append(rows, sftest.UsageRow{AppID: id, AppName: name, StatusCode: 403, Count: errs})
		}
	}
	created := s.org.Now()
	if c := logDate.Add(day + time.Hour); c.Before(created) {
		created = c
	}
	s.org.AddLogFile(&sftest.LogFile{LogDate: logDate, CreatedDate: created, Rows: rows, Retention: 30 * day})
}

func TestAttackPatternsPage(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	names := []string{"quiet", "vishing", "stolen", "offboarding", "trouble"}
	orgs := map[string]*scenarioOrg{}
	for _, name := range names {
		orgs[name] = cleanOrg(t, name)
	}
	hook := startStack(t, stackConfig{names: names, orgs: orgs}).hook

	// Let Prometheus watch every org for longer than the surge window, so
	// that "an hour ago" exists.
	time.Sleep(25 * time.Second)
	if got := hook.all(); len(got) != 0 {
		t.Fatalf("alerts before any scenario started: %+v", got)
	}

	// The scenarios, all at once; t0 is when each change reaches the fake.
	t0 := map[string]time.Time{}
	quietDone := make(chan struct{})
	go func() {
		// A week of normal use: a day every 2 seconds.
		defer close(quietDone)
		q := orgs["quiet"]
		for d := range 7 {
			q.org.Advance(day)
			q.org.UseTokens(-1, 30, uint64(d))
			q.org.AddLogin(sftest.LoginSpec{User: 1, App: "Salesforce Mobile App"})
			q.addDay(q.org.Now().UTC().Truncate(day).Add(-day), 1, 0.01)
			time.Sleep(2 * time.Second)
		}
	}()

	v := orgs["vishing"]
	phish := v.org.AddApp(sftest.App{Name: "Data Loader Pro", Installed: true})
	t0["vishing"] = time.Now()
	for i := range 20 {
		u := v.org.AddUser(fmt.Sprintf("victim%d@example.com", i), true)
		v.org.AddToken(sftest.TokenSpec{User: u, App: phish, Created: v.org.Now().Add(-time.Minute), LastUsed: v.org.Now().Add(-30 * time.Second), UseCount: 2})
		v.org.AddLogin(sftest.LoginSpec{User: u, App: "Data Loader Pro"})
	}

	// A day of stolen-token traffic, listed once the day has ended (as a
	// real org publishes a Daily file).
	s := orgs["stolen"]
	t0["stolen"] = time.Now()
	stolenDay := s.org.Now().UTC().Truncate(day)
	s.org.Advance(day)
	s.addDay(stolenDay, 10, 0.3)

	o := orgs["offboarding"]
	t0["offboarding"] = time.Now()
	for _, u := range o.leavers {
		o.org.SetUserActive(u, false)
	}

	tr := orgs["trouble"]
	t0["trouble"] = time.Now()
	tr.srv.Inject(sftest.Fault{Count: 1 << 30, Status: 503, Body: `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]`})

	type expect struct {
		org, alert, app string
	}
	want := []expect{
		{"vishing", "SalesforceUnknownAppAuthorized", "Data Loader Pro"},
		{"vishing", "SalesforceNewAppAuthorized", "Data Loader Pro"},
		{"vishing", "SalesforceAuthorizationSurge", "Data Loader Pro"},
		{"vishing", "SalesforceNewUnknownAppWithUsers", "Data Loader Pro"},
		{"stolen", "SalesforceAPISurge", "Acme ERP Sync"},
		{"stolen", "SalesforceAPIErrorRateHigh", "Acme ERP Sync"},
		{"offboarding", "SalesforceDeactivatedUserTokens", "Slack"},
		{"trouble", "SalesforceSourceFailing", ""},
	}
	got := map[expect]time.Duration{}
	deadline := time.Now().Add(90 * time.Second)
	limitSwitched := false
	for len(got) < len(want) && time.Now().Before(deadline) {
		for _, w := range want {
			if _, ok := got[w]; ok {
				continue
			}
			m := map[string]string{"org": w.org, "alertname": w.alert}
			if w.app != "" {
				m["app"] = w.app
			}
			if at, ok := hook.firstFiring(m); ok {
				got[w] = at.Sub(t0[w.org])
			}
		}
		// Salesforce trouble, act two: once the 503s paged, the allocation runs out.
		if _, ok := got[expect{"trouble", "SalesforceSourceFailing", ""}]; ok && !limitSwitched {
			limitSwitched = true
			tr.srv.ClearFaults()
			used, maxReq := tr.org.APIUsage()
			tr.org.SetAPILimit(maxReq, max(used, maxReq)+1)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, w := range want {
		d, ok := got[w]
		if !ok {
			t.Errorf("%s: %s for %q never reached Alertmanager", w.org, w.alert, w.app)
			continue
		}
		t.Logf("time to page: %-12s %-34s %5.1fs", w.org, w.alert, d.Seconds())
	}

	// The offboarding leak resolves once the leavers' tokens are revoked.
	t1 := time.Now()
	o.org.RevokeWhere(func(user, _ int) bool {
		for _, l := range o.leavers {
			if user == l {
				return true
			}
		}
		return false
	})
	for !hook.resolved(map[string]string{"org": "offboarding", "alertname": "SalesforceDeactivatedUserTokens"}) {
		if time.Since(t1) > 60*time.Second {
			t.Error("SalesforceDeactivatedUserTokens did not resolve after the tokens were revoked")
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("time to resolve: offboarding SalesforceDeactivatedUserTokens %5.1fs", time.Since(t1).Seconds())
	<-quietDone
	time.Sleep(5 * time.Second) // let anything late arrive

	// Nothing else fired: per org, only the expected alerts; none without an org.
	allowed := map[string]map[string]bool{
		"quiet":       {},
		"vishing":     {"SalesforceUnknownAppAuthorized": true, "SalesforceNewAppAuthorized": true, "SalesforceAuthorizationSurge": true, "SalesforceNewUnknownAppWithUsers": true},
		"stolen":      {"SalesforceAPISurge": true, "SalesforceAPIErrorRateHigh": true},
		"offboarding": {"SalesforceDeactivatedUserTokens": true},
		// The allocation alerts are right once the org's allocation is used up.
		"trouble": {"SalesforceSourceFailing": true, "SalesforceAPIAllocationNearlyExhausted": true, "SalesforceAPIAllocationExhausted": true},
	}
	for _, n := range hook.all() {
		org := n.Labels["org"]
		a, ok := allowed[org]
		if !ok || !a[n.Labels["alertname"]] {
			t.Errorf("unexpected alert %s (%s) %v", n.Labels["alertname"], n.Status, n.Labels)
		}
		if org == "vishing" && n.Labels["app"] != "Data Loader Pro" || org == "stolen" && n.Labels["app"] != "Acme ERP Sync" {
			t.Errorf("alert for the wrong app: %v", n.Labels)
		}
		if n.Labels["severity"] == "" {
			t.Errorf("alert without severity: %v", n.Labels)
		}
	}
	// During the trouble no data alert flapped: the last good data stayed.
	for _, n := range hook.all() {
		if n.Labels["org"] == "trouble" && n.Status == "resolved" && n.Labels["alertname"] != "SalesforceSourceFailing" {
			t.Errorf("alert resolved during Salesforce trouble (flap): %v", n.Labels)
		}
	}
	if os.Getenv("E2E_REPORT") != "" {
		var b strings.Builder
		for _, w := range want {
			fmt.Fprintf(&b, "%s\t%s\t%.1f\n", w.org, w.alert, got[w].Seconds())
		}
		_ = os.WriteFile(os.Getenv("E2E_REPORT"), []byte(b.String()), 0o644)
	}
}
