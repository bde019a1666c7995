package e2e

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// dayEvery is how long a fake day lasts in the detection scenarios: longer
// than a refresh (2s) plus a scrape (1s), so Prometheus sees every day.
const dayEvery = 3 * time.Second

// detectionOrg is a clean org whose API traffic has realistic client
// networks (sftest.Traffic): Acme ERP Sync and Slack call from their fixed
// egress networks, the mobile app's 320 users from a new residential network
// each day, reading Account, Contact and Opportunity. Its clock is frozen at
// 02:00 (Advance moves it), and it has history days of Daily files before
// today, the last with its logins. With acmeRequests, Acme ERP Sync makes
// that many requests a day, and its replay is replayRuns runs of 10.
func detectionOrg(t *testing.T, name string, history, acmeRequests, replayRuns int) *scenarioOrg {
	t.Helper()
	o := sftest.NewOrg()
	o.SetNow(time.Now().UTC().Truncate(day).Add(2 * time.Hour))
	s := populate(name, o)
	s.acmeRequests, s.replayRuns = acmeRequests, replayRuns
	now := o.Now()
	for i := range 300 {
		u := o.AddUser(fmt.Sprintf("%s-roamer%d@example.com", name, i), true)
		s.mobileUsers = append(s.mobileUsers, u)
		o.AddToken(sftest.TokenSpec{User: u, App: s.apps["Salesforce Mobile App"], Created: now.Add(-time.Duration(60+i%30) * day), LastUsed: now.Add(-time.Hour), UseCount: 20})
	}
	for d := history; d >= 1; d-- {
		s.trafficDay(-d, false)
	}
	s.serve(t)
	return s
}

// trafficDay adds the Daily ApiTotalUsage file of the day offset days from
// the org's today (-1 is yesterday), published an hour after the day's end,
// and for yesterday its OAuth logins, moved into the 24 hours before the
// org's clock. With replay, Acme ERP Sync's token is also used from five
// networks it never used, reading User and Account
// (sftest.TrafficSpec.TokenReplay).
func (s *scenarioOrg) trafficDay(offset int, replay bool) {
	s.addTrafficDay(offset, replay, false)
}

// lateDay is trafficDay for a file published now, however old its day:
// a Daily file that lands late.
func (s *scenarioOrg) lateDay(offset int, replay bool) {
	s.addTrafficDay(offset, replay, true)
}

func (s *scenarioOrg) addTrafficDay(offset int, replay, late bool) {
	now := s.org.Now()
	logDate := now.UTC().Truncate(day).Add(time.Duration(offset) * day)
	n := int(logDate.Unix() / int64(day/time.Second))
	apps := s.org.Apps()
	specs := []sftest.TrafficSpec{
		{AppName: "Acme ERP Sync", Profile: sftest.Integration, Users: []int{s.integrationUser}, TokenReplay: replay, Requests: s.acmeRequests, ReplayRuns: s.replayRuns, Egress: s.egress},
		{AppName: "Slack", Profile: sftest.Integration, Users: s.slackUsers, Requests: 1500},
		{AppName: "Salesforce Mobile App", Profile: sftest.Mobile, Users: s.mobileUsers, Requests: 9000, Objects: []string{"Account", "Contact", "Opportunity"}},
	}
	var rows []sftest.UsageRow
	for _, sp := range specs {
		sp.AppID, sp.Day, sp.DayIndex = apps[s.apps[sp.AppName]].ID, logDate, n
		rows = append(rows, sftest.Traffic(sp)...)
		if offset == -1 {
			shift := now.Sub(logDate.Add(day))
			for _, l := range sp.LoginSpecs(false) {
				l.Time = l.Time.Add(shift)
				s.org.AddLogin(l)
			}
		}
	}
	created := logDate.Add(day + time.Hour)
	if created.After(now) || late {
		created = now
	}
	s.org.AddLogFile(&sftest.LogFile{LogDate: logDate, CreatedDate: created, Rows: rows, Retention: 30 * day})
}

// nextDay moves the org's clock a day on and publishes yesterday's traffic.
func (s *scenarioOrg) nextDay(replay bool) {
	s.org.Advance(day)
	s.trafficDay(-1, replay)
}

// baselineStarts returns each app's baseline start in an org, as Prometheus
// scraped it from the exporter.
func baselineStarts(t *testing.T, promAddr, org string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, app := range inventory {
		if n, v := promValue(t, promAddr, fmt.Sprintf(`salesforce_connected_app_api_baseline_start_timestamp_seconds{org=%q, app=%q}`, org, app)); n == 1 {
			out[app] = v
		}
	}
	return out
}

// TestDetectionPages runs the stolen-token detection end to end, each
// scenario in its own org, at the same time, in one stack:
//   - replay: a known, installed, approved integration keeps its usual
//     volume (10,000 requests a day), but 0.3% of a day's requests come
//     from networks it never used and read User and Account, in the very
//     day's file that makes its baseline ready: the exporter's own usual
//     figures judge it, with no Prometheus history before;
//   - ioc: one OAuth login of the integration from an address on the
//     public IOC list (docs/);
//   - roaming: a quiet week of the mobile app whose 320 users call from new
//     residential networks every day, during which its baseline becomes
//     ready (min_baseline, 7 days, the default);
//   - restart: the exporter restarts (SIGTERM, the same state folder) in the
//     middle of the org's baseline; once it is ready, a replay still pages;
//   - move: the integration moves, its whole volume, users and objects, to
//     networks it never used (a planned NAT move): a warning, never a page;
//   - late: the integration's replay (5% of its day) is in a Daily file
//     that lands after the next day's: the 24-hour figures never show it,
//     the exporter's judged counters do, corroborated as it judged the day
//     (the replay reads objects the app never read), and it pages;
//   - login: one OAuth login of the integration's one user from a network
//     it never used (a replayed token's first login), nothing to
//     corroborate it: a warning at the next read of the logins source, not
//     when the next day's log file lands.
//
// Each attack pages once, critical, for its org and app; the move and the
// uncorroborated login warn; nothing else pages (the roaming mobile app's
// users log in from new networks every day, as always: quiet).
func TestDetectionPages(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	names := []string{"replay", "ioc", "roaming", "restart", "move", "login", "late"}
	history := map[string]int{"replay": 7, "ioc": 8, "roaming": 3, "restart": 4, "move": 8, "login": 8, "late": 8}
	orgs := map[string]*scenarioOrg{}
	for _, name := range names {
		acme, runs := 0, 0
		switch name {
		case "replay":
			acme, runs = 10_000, 3 // 30 requests: 0.3%
		case "late":
			acme, runs = 10_000, 50 // 500 requests: with the next day's, 2.5% of the files read (corroborated: the critical late-day alert has no floor)
		}
		orgs[name] = detectionOrg(t, name, history[name], acme, runs)
	}
	iocFile, err := filepath.Abs(filepath.Join("..", "docs", "ioc-2025-salesforce-campaigns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The detection pages are under test here, not the exporter's health:
	// a source that fails for a moment on a loaded machine (four orgs, a
	// day every 3 s) must not count as an unexpected page.
	st := startStack(t, stackConfig{names: names, orgs: orgs, inhibit: true, mixin: " + { sourceFailingFor: '90s' }",
		exporterExtra: fmt.Sprintf("detection:\n  ioc_lists:\n    - name: campaigns-2025\n      file: %s\n", iocFile)})
	promAddr, hook := st.promAddr, st.hook

	// A baseline of eight days is ready at once, one of three, four or
	// seven is not.
	for org, ready := range map[string]bool{"replay": false, "ioc": true, "roaming": false, "restart": false, "move": true, "login": true, "late": true} {
		want := 0
		if ready {
			want = 1
		}
		waitProm(t, promAddr, fmt.Sprintf(`salesforce_connected_app_api_baseline_ready{org=%q, app="Acme ERP Sync"} == %d`, org, want), 30*time.Second)
	}
	// The new-network alerts need no Prometheus history: a day of quiet is
	// enough to see that nothing pages before the scenarios.
	time.Sleep(dayEvery)
	if got := hook.all(); len(got) != 0 {
		t.Fatalf("alerts before any scenario started: %+v", got)
	}

	type key struct{ org, alert, app string }
	t0 := map[string]time.Time{}
	got := map[key]time.Duration{}
	wait := func(within time.Duration, ws ...key) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			pending := 0
			for _, w := range ws {
				if _, ok := got[w]; ok {
					continue
				}
				if at, ok := hook.firstFiring(map[string]string{"org": w.org, "alertname": w.alert, "app": w.app}); ok {
					got[w] = at.Sub(t0[w.org])
					continue
				}
				pending++
			}
			if pending == 0 || time.Now().After(deadline) {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	// (3) The quiet week, day by day, through everything below.
	roamingDone := make(chan struct{})
	go func() {
		defer close(roamingDone)
		for range 8 {
			orgs["roaming"].nextDay(false)
			time.Sleep(dayEvery)
		}
	}()
	// (1) The replay and (2) the IOC login.
	t0["replay"] = time.Now()
	orgs["replay"].nextDay(true)
	i := orgs["ioc"]
	t0["ioc"] = time.Now()
	// The login happened a minute ago, after the last one the exporter read
	// (the logins source reads from a watermark): the clock moves on two.
	i.org.Advance(2 * time.Minute)
	i.org.AddLogin(sftest.LoginSpec{User: i.integrationUser, App: "Acme ERP Sync", Time: i.org.Now().Add(-time.Minute), SourceIP: sftest.IOCAddress})
	// (6) The login from a new network, as the IOC login above.
	l := orgs["login"]
	t0["login"] = time.Now()
	l.org.Advance(2 * time.Minute)
	l.org.AddLogin(sftest.LoginSpec{User: l.integrationUser, App: "Acme ERP Sync", Time: l.org.Now().Add(-time.Minute), SourceIP: sftest.ReplayIP(0, 7)})
	// (7) The late day: the next day's file is read first, then the day
	// before it lands, with the replay.
	lt := orgs["late"]
	t0["late"] = time.Now()
	lt.org.Advance(2 * day)
	lt.trafficDay(-1, false)
	yesterdayEnd := lt.org.Now().UTC().Truncate(day)
	waitProm(t, promAddr, fmt.Sprintf(`salesforce_api_usage_data_end_timestamp_seconds{org="late"} >= %d`, yesterdayEnd.Unix()), 30*time.Second)
	lt.org.Advance(time.Minute)
	lt.lateDay(-2, true)
	// (5) The planned move.
	t0["move"] = time.Now()
	orgs["move"].egress = "Acme ERP Sync, new NAT"
	orgs["move"].nextDay(false)
	want := []key{
		{"replay", "SalesforceAppNewNetworksReadSensitiveObjects", "Acme ERP Sync"},
		{"ioc", "SalesforceAppLoginFromIOCAddress", "Acme ERP Sync"},
		{"move", "SalesforceAppRequestsFromNewNetworks", "Acme ERP Sync"},
		{"login", "SalesforceAppLoginsFromNewNetworks", "Acme ERP Sync"},
		{"late", "SalesforceAppLateDayNewNetworksReadSensitiveObjects", "Acme ERP Sync"},
	}
	wait(30*time.Second, want[0])
	// The next day's file has no replay: the replay's figures leave the
	// window (its networks, held as new, make no requests), and every alert
	// about it clears at once, so no warning held back by the critical page
	// leaks out when the page resolves.
	orgs["replay"].nextDay(false)
	// (4) Two days of the restart org's baseline, then the restart.
	r := orgs["restart"]
	for range 2 {
		r.nextDay(false)
		time.Sleep(dayEvery)
	}
	wait(30*time.Second, want...)
	// The replay's warnings fire in Prometheus too; Alertmanager's
	// inhibition leaves one notification, the critical one.
	for _, expr := range []string{
		`ALERTS{alertstate="firing", org="replay", app="Acme ERP Sync", alertname="SalesforceAppRequestsFromNewNetworks", severity="warning"}`,
		`ALERTS{alertstate="firing", org="replay", app="Acme ERP Sync", alertname="SalesforceKnownAppNewSensitiveObject", object="User", severity="warning"}`,
		`ALERTS{alertstate="firing", org="replay", app="Acme ERP Sync", alertname="SalesforceKnownAppNewSensitiveObject", object="Account", severity="warning"}`,
	} {
		if n, _ := promValue(t, promAddr, expr); n != 1 {
			t.Errorf("%s: %d series, want 1", expr, n)
		}
	}

	before := baselineStarts(t, promAddr, "restart")
	if len(before) != len(inventory) {
		t.Fatalf("baseline starts of org restart before the restart: %v", before)
	}
	restartedAt := time.Now()
	st.restartExporter(t, 3*time.Second)
	waitProm(t, promAddr, `salesforce_connected_app_api_baseline_start_timestamp_seconds{org="restart", app="Acme ERP Sync"}`, 30*time.Second)
	t.Logf("detection figures back %.1fs after the restart", time.Since(restartedAt).Seconds())
	if after := baselineStarts(t, promAddr, "restart"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("baseline starts after the restart %v, want %v (kept in the state folder)", after, before)
	}
	// The rest of the baseline: ready on the fourth day after the start,
	// then quiet days (the usual figures kept in the state folder across
	// the restart).
	for range 4 {
		r.nextDay(false)
		time.Sleep(dayEvery)
	}
	waitProm(t, promAddr, `salesforce_connected_app_api_baseline_ready{org="restart", app="Acme ERP Sync"} == 1`, 10*time.Second)
	time.Sleep(10 * time.Second)
	for _, n := range hook.all() {
		if n.Labels["org"] == "restart" {
			t.Errorf("org restart paged before its replay: %v", n.Labels)
		}
	}
	t0["restart"] = time.Now()
	r.nextDay(true)
	restartWant := key{"restart", "SalesforceAppNewNetworksReadSensitiveObjects", "Acme ERP Sync"}
	want = append(want, restartWant)
	wait(30*time.Second, restartWant)

	const budget = refreshEvery + 3*time.Second // refresh + scrape + eval + group_wait, for: 0s
	for _, w := range want {
		d, ok := got[w]
		if !ok {
			t.Errorf("%s: %s for %q never reached Alertmanager", w.org, w.alert, w.app)
			continue
		}
		t.Logf("time to page: %-8s %-46s %5.1fs (budget %.0fs)", w.org, w.alert, d.Seconds(), budget.Seconds())
	}
	<-roamingDone
	time.Sleep(5 * time.Second) // let anything late arrive

	// Exactly the expected pages: one firing notification each, critical,
	// with the org's and app's labels; nothing for the roaming mobile app.
	allowed := map[key]bool{}
	for _, w := range want {
		allowed[w] = true
	}
	firing := map[string]int{}
	for _, n := range hook.all() {
		k := key{n.Labels["org"], n.Labels["alertname"], n.Labels["app"]}
		if !allowed[k] {
			t.Errorf("unexpected alert %s (%s) %v", k.alert, n.Status, n.Labels)
			continue
		}
		if sev := map[bool]string{true: "warning", false: "critical"}[k.org == "move" || k.org == "login"]; n.Labels["severity"] != sev {
			t.Errorf("%s is %q, want %s: %v", k.alert, n.Labels["severity"], sev, n.Labels)
		}
		if k.alert == "SalesforceAppLoginFromIOCAddress" && n.Labels["list"] != "campaigns-2025" {
			t.Errorf("IOC alert without its list: %v", n.Labels)
		}
		for _, l := range []string{"user", "user_id", "ip", "address", "network"} {
			if _, ok := n.Labels[l]; ok {
				t.Errorf("alert carries a %s label: %v", l, n.Labels)
			}
		}
		if n.Status != "firing" {
			continue
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
			t.Errorf("%d firing notifications for one alert {%s}, want 1 (did it resolve across the restart?)", count, ls)
		}
	}
	// The roaming app had new networks every day, and a ready baseline by
	// the end of its week.
	if n, v := promValue(t, promAddr, `salesforce_connected_app_api_client_networks{org="roaming", app="Salesforce Mobile App"}`); n != 1 || v < 200 {
		t.Errorf("roaming mobile app: %v networks (%d series), want hundreds", v, n)
	}
	if n, _ := promValue(t, promAddr, `salesforce_connected_app_api_baseline_ready{org="roaming", app="Salesforce Mobile App"} == 1`); n != 1 {
		t.Error("roaming mobile app: baseline not ready after its week")
	}
}
