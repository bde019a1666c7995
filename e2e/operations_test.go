package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// promValue runs an instant query and returns the number of series and the
// first value.
func promValue(t *testing.T, promAddr, expr string) (int, float64) {
	t.Helper()
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	if len(r.Data.Result) == 0 {
		return 0, 0
	}
	var v float64
	if s, ok := r.Data.Result[0].Value[1].(string); ok {
		_, _ = fmt.Sscan(s, &v)
	}
	return len(r.Data.Result), v
}

// waitProm waits until expr returns at least one series.
func waitProm(t *testing.T, promAddr, expr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if n, _ := promValue(t, promAddr, expr); n > 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: no result within %s", expr, within)
}

// TestOperationsPageOnlyWhenItMatters runs ordinary operations that used to
// page falsely (an exporter restart with a slow first token read, the grant
// of Customize Application) next to attacks that used to be missed (a new
// app's first-day bulk export, a look-alike with an approved app's name),
// with Prometheus scraping the one exporter through two targets (two
// instance labels) and the mixin's Alertmanager inhibition rules loaded.
// Each attack pages exactly once; nothing else pages, nothing resolves.
func TestOperationsPageOnlyWhenItMatters(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	names := []string{"restart", "grant", "bulk", "lookalike"}
	orgs := map[string]*scenarioOrg{}
	for _, name := range names {
		orgs[name] = cleanOrg(t, name)
	}
	// Before the grant the integration user sees only its own tokens.
	orgs["grant"].org.RestrictTokensToIntegrationUser(true)

	// A source that has not succeeded since the restart is pending, not
	// failing: give the slow first token read (below) its time, as the
	// default 15m does in production. keep_firing_for outlasts the restart
	// and that read, as the default 30m does.
	st := startStack(t, stackConfig{names: names, orgs: orgs, inhibit: true, twoTargets: true,
		mixin: " + { sourceFailingFor: '90s', securityKeepFiringFor: '90s' }"})
	promAddr, hook := st.promAddr, st.hook
	waitProm(t, promAddr, `count(up{job="salesforce"} == 1) == 2`, 30*time.Second)
	waitProm(t, promAddr, `salesforce_exporter_oauth_tokens_visibility_limited{org="grant"} == 1`, 30*time.Second)

	// Watch every org for longer than the surge window.
	time.Sleep(25 * time.Second)
	if got := hook.all(); len(got) != 0 {
		t.Fatalf("alerts before any scenario started: %+v", got)
	}

	// The grant: every app appears at once. No page.
	orgs["grant"].org.RestrictTokensToIntegrationUser(false)

	// A new app's own bulk export: 200,000 requests on its first day, in
	// the Daily file the org publishes once that day has ended.
	b := orgs["bulk"]
	bulkApp := b.org.AddApp(sftest.App{Name: "Bulk Exporter", Installed: true})
	bulkID := b.org.Apps()[bulkApp].ID
	bulkDay := b.org.Now().UTC().Truncate(day)
	b.org.Advance(day)
	b.org.AddLogFile(&sftest.LogFile{LogDate: bulkDay, CreatedDate: b.org.Now(), Retention: 30 * day,
		Rows: []sftest.UsageRow{{AppID: bulkID[:15], AppName: "Bulk Exporter", StatusCode: 200, Count: 200000}}})

	// A look-alike named like the approved "Slack", with a few users.
	l := orgs["lookalike"]
	fake := l.org.AddApp(sftest.App{Name: "Slack", Installed: true})
	for i := range 3 {
		u := l.org.AddUser(fmt.Sprintf("lookalike-victim%d@example.com", i), true)
		l.org.AddToken(sftest.TokenSpec{User: u, App: fake, Created: l.org.Now().Add(-400 * day), LastUsed: l.org.Now().Add(-time.Hour), UseCount: 3})
	}

	type key struct{ org, alert, app string }
	want := []key{
		{"bulk", "SalesforceAPISurge", "Bulk Exporter"},
		{"lookalike", "SalesforceSameNameApps", "Slack"},
	}
	deadline := time.Now().Add(waitLimit)
	pending := map[key]bool{}
	for _, w := range want {
		pending[w] = true
	}
	for len(pending) > 0 && time.Now().Before(deadline) {
		for w := range pending {
			if _, ok := hook.firstFiring(map[string]string{"org": w.org, "alertname": w.alert, "app": w.app}); ok {
				delete(pending, w)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	for w := range pending {
		t.Errorf("%s: %s for %q never reached Alertmanager", w.org, w.alert, w.app)
	}

	// A restart during the quiet hour, whose first token reads are slow.
	for _, name := range names {
		orgs[name].srv.Inject(sftest.Fault{MatchQuery: "OauthToken", Delay: 6 * time.Second, Count: 4})
	}
	restartedAt := time.Now()
	st.restartExporter(t, 3*time.Second) // a few failed scrapes: Prometheus marks every series stale
	t.Logf("exporter back after %.1fs", time.Since(restartedAt).Seconds())
	// salesforce_up is back before the token data, which the slow read holds up.
	waitProm(t, promAddr, `salesforce_up{org="restart"}`, 20*time.Second)
	if n, _ := promValue(t, promAddr, `salesforce_connected_app_authorized_users{org="restart"}`); n != 0 {
		t.Logf("token data was back at once (%d series): the slow first read was not exercised", n)
	} else {
		t.Logf("salesforce_up back %.1fs after the restart, token data not yet", time.Since(restartedAt).Seconds())
	}
	// Wait for every source's data to be back, then past the surge window:
	// any false page has arrived by then, and no alert resolved meanwhile.
	for _, expr := range []string{
		`count(salesforce_connected_app_authorized_users{org="restart"}) > 0`,
		`count(salesforce_connected_app_authorized_users{org="grant"}) > 0`,
		`count(salesforce_connected_app_api_requests{org="bulk", app="Bulk Exporter"}) > 0`,
		`count(count by (app_id) (salesforce_connected_app_info{org="lookalike", app="Slack"})) > 1`,
	} {
		waitProm(t, promAddr, expr, 80*time.Second)
	}
	t.Logf("data back %.1fs after the restart", time.Since(restartedAt).Seconds())
	time.Sleep(25 * time.Second)

	allowed := map[key]bool{}
	for _, w := range want {
		allowed[w] = true
	}
	firing := map[string]int{}
	for _, n := range hook.all() {
		k := key{n.Labels["org"], n.Labels["alertname"], n.Labels["app"]}
		if !allowed[k] {
			t.Errorf("unexpected alert %s (%s) %v", k.alert, n.Status, n.Labels)
		}
		if n.Status == "resolved" {
			t.Errorf("resolved although nothing was fixed: %v", n.Labels)
			continue
		}
		if _, ok := n.Labels["instance"]; ok {
			t.Errorf("alert carries the target's instance label: %v", n.Labels)
		}
		ls := make([]string, 0, len(n.Labels))
		for k, v := range n.Labels {
			ls = append(ls, k+"="+v)
		}
		sort.Strings(ls)
		firing[strings.Join(ls, ",")]++
	}
	for ls, count := range firing {
		if count != 1 {
			t.Errorf("%d notifications for one alert {%s}, want 1", count, ls)
		}
	}
	// The dashboards' sums do not double through two targets.
	if n, v := promValue(t, promAddr, `sum(max without(instance, pod) (salesforce_connected_app_authorized_users{job="salesforce", org="restart"}))`); n != 1 || v != 33 {
		t.Errorf("users of org restart through two targets = %v (%d series), want 33", v, n)
	}
}
