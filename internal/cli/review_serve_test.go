package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// servedReview reads /review.json (one org) with a client timeout; it
// returns nil when the request was cut off.
func servedReview(t *testing.T, url string, timeout time.Duration) *review.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	var r review.Report
	if err := json.Unmarshal(b, &r); err != nil || r.Org == "" {
		t.Fatalf("%s: not one report: %v %.300s", url, err, b)
	}
	return &r
}

// quietOrg starts a fake org and an exporter whose sources all run once and
// then wait an hour, so every later API call is the review's.
func quietOrg(t *testing.T, tokens int, args ...string) (*sftest.Org, *sftest.Server, *exporter) {
	t.Helper()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: tokens, Apps: 6, Users: tokens / 4, Seed: 5})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	setRefreshInterval(t, cfg, "refresh_interval: 1h")
	e := startExporter(t, append([]string{"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data")}, args...)...)
	e.waitFor(t, "every source up", func(m map[string]*metricFamily) bool { v, _ := value(m, "salesforce_up", "org=prod"); return v == 1 })
	return org, srv, e
}

// TestReviewIsOffByDefault: without --web.enable-review the pages answer 404
// with how to turn them on, cost nothing, and the landing page has no link.
func TestReviewIsOffByDefault(t *testing.T) {
	t.Parallel()
	_, srv, e := quietOrg(t, 500)
	before := srv.APICalls()
	for _, p := range []string{"/review", "/review.json", "/review?org=prod"} {
		resp, err := http.Get(e.addr + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "--web.enable-review") {
			t.Errorf("%s without the flag: %d %q, want 404 naming --web.enable-review", p, resp.StatusCode, b)
		}
	}
	if got := srv.APICalls() - before; got != 0 {
		t.Errorf("the disabled pages cost %d API calls", got)
	}
	if home := get(t, e.addr+"/"); strings.Contains(home, `href="/review"`) {
		t.Error("the landing page links the disabled review")
	}
}

// TestServedReviewReadsOncePerOrg: requests cut off by the client (curl
// --max-time) don't cancel the read and don't start another; concurrent
// requests share the one read; all of it costs exactly one read's calls.
func TestServedReviewReadsOncePerOrg(t *testing.T) {
	t.Parallel()
	_, srv, e := quietOrg(t, 6000, "--web.enable-review")
	before := srv.APICalls()
	srv.SetLatency(150 * time.Millisecond) // a read of several pages takes a second or more
	for range 5 {
		if r := servedReview(t, e.addr+"/review.json", 100*time.Millisecond); r != nil {
			t.Fatal("a request cut off after 100ms got a report: the read is not slow enough for this test")
		}
	}
	var wg sync.WaitGroup
	reports := make([]*review.Report, 5)
	for i := range reports {
		wg.Go(func() { reports[i] = servedReview(t, e.addr+"/review.json", waitLimit) })
	}
	wg.Wait()
	srv.SetLatency(0)
	spent := srv.APICalls() - before
	for i, r := range reports {
		if r == nil || r.Detail == nil || r.Detail.Taken.IsZero() {
			t.Fatalf("request %d got no detail: %+v", i, r)
		}
		if r.APICalls != reports[0].APICalls || !r.Detail.Taken.Equal(reports[0].Detail.Taken) {
			t.Errorf("request %d saw another read: %d calls at %v, want %d at %v", i, r.APICalls, r.Detail.Taken, reports[0].APICalls, reports[0].Detail.Taken)
		}
	}
	if reports[0].APICalls < 4 || spent != reports[0].APICalls {
		t.Errorf("10 requests (5 cut off) cost %d API calls; one read costs %d", spent, reports[0].APICalls)
	}
	// Within --review.cache-ttl and with the same apps, nothing is read again.
	servedReview(t, e.addr+"/review.json", waitLimit)
	if got := srv.APICalls() - before; got != spent {
		t.Errorf("a cached report cost %d more calls", got-spent)
	}
}

// TestServedReviewCachesFailures: a failed read is not retried by every
// request; the page says why and when the next read may start.
func TestServedReviewCachesFailures(t *testing.T) {
	t.Parallel()
	_, srv, e := quietOrg(t, 500, "--web.enable-review")
	if v, ok := value(e.scrape(t), "salesforce_exporter_review_detail_reads_failed_total", "org=prod"); !ok || v != 0 {
		t.Fatalf("failed reads before any read: %v %v, want 0", v, ok)
	}
	srv.Inject(sftest.Fault{Path: "/query", MatchQuery: "FROM User WHERE IsActive = false", Count: 1000, Status: 400,
		Body: `[{"message":"No such column 'IsActive' on entity 'User'","errorCode":"INVALID_FIELD"}]`})
	before := srv.APICalls()
	// The read fails after this instant, so its retry is at least the
	// shortest backoff after it: an exact bound, whatever the machine's load.
	asked := time.Now()
	r := servedReview(t, e.addr+"/review.json", waitLimit)
	first := srv.APICalls() - before
	if r.Detail == nil || !strings.Contains(r.Detail.LastError, "deactivated users") || r.Detail.RetryAfter.Before(asked.Add(review.DetailBackoffMin)) {
		t.Fatalf("detail status after a failed read: %+v", r.Detail)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "per-user detail unavailable") || len(r.Inventory) == 0 {
		t.Errorf("the report without detail lost its notes or its inventory: %q", r.Notes)
	}
	for range 3 {
		r2 := servedReview(t, e.addr+"/review.json", waitLimit)
		if r2.Detail == nil || r2.Detail.LastError != r.Detail.LastError || !r2.Detail.RetryAfter.Equal(r.Detail.RetryAfter) {
			t.Errorf("the failure is not the cached one: %+v", r2.Detail)
		}
	}
	if got := srv.APICalls() - before; got != first || first == 0 {
		t.Errorf("3 more requests after a failed read cost %d calls (the failed read %d)", got-first, first)
	}
	// One failed read, counted once by org, whatever the requests.
	if v, _ := value(e.scrape(t), "salesforce_exporter_review_detail_reads_failed_total", "org=prod"); v != 1 {
		t.Errorf("failed reads counted %v, want 1", v)
	}
	page := get(t, e.addr+"/review")
	if !strings.Contains(page, "the latest read failed") || !strings.Contains(page, "next attempt after") {
		t.Error("the HTML page does not say that the read failed and when it is tried again")
	}
}

// TestServedReviewRespectsTheBudget: when the exporter's share of the org's
// DailyApiRequests is spent, the page reads nothing and says so.
func TestServedReviewRespectsTheBudget(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 500, Apps: 3, Users: 100, Seed: 8})
	org.SetAPILimit(1000, 0)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	// 1% of 1,000 is 10 requests a day: the sources' first run spends more.
	cfg := writeConfig(t, dir, ts.URL, "")
	setRefreshInterval(t, cfg, "refresh_interval: 1h\n    api_budget_percent: 1")
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--web.enable-review")
	e.waitFor(t, "the budget spent", func(m map[string]*metricFamily) bool {
		used, _ := value(m, "salesforce_exporter_api_requests_24h", "org=prod")
		budget, ok := value(m, "salesforce_exporter_api_budget_daily_requests", "org=prod")
		return ok && budget > 0 && used > budget
	})
	before := srv.APICalls()
	r := servedReview(t, e.addr+"/review.json", waitLimit)
	if got := srv.APICalls() - before; got != 0 {
		t.Errorf("the review read %d calls past the budget", got)
	}
	if r.Detail == nil || !strings.Contains(r.Detail.LastError, "API budget") {
		t.Errorf("the report does not say the budget is spent: %+v", r.Detail)
	}
}

// TestServedReviewDetailMatchesItsSnapshot (issue 12): an app authorized
// after the first read never shows tokens without its authorizations: the
// page shows the old read with its own snapshot until the new read is in.
func TestServedReviewDetailMatchesItsSnapshot(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 300, Apps: 3, Users: 100, Seed: 3})
	// A budget that one-second refreshes cannot strain: stretched intervals
	// (tested elsewhere) would make the new app's arrival wait on the budget.
	org.SetAPILimit(100_000_000, 0)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	setRefreshInterval(t, cfg, "refresh_interval: 1s")
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--web.enable-review", "--review.cache-ttl=1h")
	e.waitFor(t, "first refresh", func(m map[string]*metricFamily) bool { v, _ := value(m, "salesforce_up", "org=prod"); return v == 1 })
	first := servedReview(t, e.addr+"/review.json", waitLimit)
	if first.Detail == nil || first.Detail.Taken.IsZero() || first.Detail.SnapshotTaken.IsZero() {
		t.Fatalf("no first read: %+v", first.Detail)
	}
	app := org.AddApp(sftest.App{Name: "Arrived Later", Installed: true})
	for i := range 20 {
		org.AddToken(sftest.TokenSpec{User: org.AddUser(fmt.Sprintf("later%d@example.com", i), true), App: app, LastUsed: org.Now()})
	}
	e.waitFor(t, "the new app in the metrics", func(m map[string]*metricFamily) bool {
		for k, v := range m["salesforce_connected_app_oauth_tokens"].Series {
			if strings.Contains(k, "app=Arrived Later") && v == 20 {
				return true
			}
		}
		return false
	})
	deadline := time.Now().Add(waitLimit)
	for {
		r := servedReview(t, e.addr+"/review.json", waitLimit)
		var tokens int64 = -1
		for _, a := range r.Inventory {
			if a.App == "Arrived Later" {
				tokens = a.Tokens
			}
		}
		auths := -1
		for _, u := range r.Unknown {
			if u.App == "Arrived Later" {
				auths = len(u.Authorizations)
			}
		}
		if tokens >= 0 && auths != int(tokens) {
			t.Fatalf("the new app shows %d tokens and %d authorizations (detail read %v)", tokens, auths, r.Detail.Taken)
		}
		if tokens < 0 && !strings.Contains(strings.Join(r.Notes, "\n"), "refreshing") {
			t.Fatalf("the old read is shown without saying a new one runs: %q", r.Notes)
		}
		if tokens == 20 {
			// A new read, made against a later snapshot than the first
			// read's (a read restarts only when the token data changes, so
			// that snapshot has the new app): snapshots are compared by
			// identity, never by clock slack.
			if !r.Detail.SnapshotTaken.After(first.Detail.SnapshotTaken) {
				t.Errorf("detail read against the snapshot of %v, the first read against that of %v: want a new read", r.Detail.SnapshotTaken, first.Detail.SnapshotTaken)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new app never reached the review")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServedReviewChartsHistoryAcrossRestarts: the history recorded in the
// state file (seeded with earlier days here) is drawn on the served page,
// with today's figures added, and is still there after a restart.
func TestServedReviewChartsHistoryAcrossRestarts(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	a := org.AddApp(sftest.App{Name: "Charted", Installed: true})
	for i := range 7 {
		org.AddToken(sftest.TokenSpec{User: org.AddUser(fmt.Sprintf("c%d@example.com", i), true), App: a, Created: org.Now().Add(-2 * time.Hour), LastUsed: org.Now()})
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var rows []string
	for d := 3; d >= 1; d-- {
		rows = append(rows, fmt.Sprintf(`{"day":%q,"app":"Charted","app_id":%q,"kind":"connected_app","users":%d,"tokens":%d,"requests":%d,"errors":0}`,
			today.AddDate(0, 0, -d).Format(time.RFC3339), org.Apps()[a].ID, 4-d, 4-d, 100*d))
	}
	state := `{"version":1,"org":"prod","first_seen":{},"api_usage":{"periods":{}},"history":[` + strings.Join(rows, ",") + `]}`
	if err := os.WriteFile(filepath.Join(data, "prod.state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	from, to := today.AddDate(0, 0, -3).Format("2006-01-02"), today.Format("2006-01-02")
	// Users 1, 2, 3 on the seeded days, 7 today from the live snapshot.
	wantUsers := fmt.Sprintf("Users of Charted per day, %s to %s: from 1 to 7, 7 on the last day", from, to)
	for run := range 2 {
		e := startExporter(t, "--config.file="+cfg, "--storage.path="+data, "--web.enable-review")
		e.waitFor(t, "first refresh", func(m map[string]*metricFamily) bool { v, _ := value(m, "salesforce_up", "org=prod"); return v == 1 })
		page := get(t, e.addr+"/review")
		if !strings.Contains(page, `<svg class="spark"`) || !strings.Contains(page, wantUsers) {
			i := strings.Index(page, "Users of Charted")
			t.Fatalf("run %d: the page has no users chart %q: %.600s", run, wantUsers, page[max(i, 0):])
		}
		// Today has no log file yet: its requests are unknown, not 0.
		if want := fmt.Sprintf("API requests of Charted per day, %s to %s: from 100 to 300, unknown on the last day (1 day without figures left out)", from, to); !strings.Contains(page, want) {
			t.Errorf("run %d: the page has no requests chart %q", run, want)
		}
		r := servedReview(t, e.addr+"/review.json", waitLimit)
		if n := len(r.History); n != 4 {
			t.Errorf("run %d: %d history rows, want 4: %+v", run, n, r.History)
		}
		_ = e.cmd.Process.Kill()
		<-e.done //nolint:errcheck // after Kill the exit status is an error by design
		e.done <- nil
	}
	// The review command draws the same history from --storage.path.
	out := filepath.Join(dir, "review.html")
	if code, stdout := runBinary(t, time.Minute, "review", "--config.file="+cfg, "--storage.path="+data, "--format=html", "--output="+out); code != 0 {
		t.Fatalf("review: exit %d: %s", code, stdout)
	}
	if !strings.Contains(mustRead(t, out), wantUsers) {
		t.Errorf("the review command's page has no users chart %q", wantUsers)
	}
}

// TestServedReviewShowsNewNetworks: /review, from the running refresher's
// baseline (restored from the state folder), shows the same section and
// command; /metrics carries no address and no user of it.
func TestServedReviewShowsNewNetworks(t *testing.T) {
	t.Parallel()
	f := newTrafficFixture(t)
	e := startExporter(t, "--config.file="+f.cfgFile, "--storage.path="+f.data, "--web.enable-review")
	m := e.waitFor(t, "the baseline's figures", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_connected_app_oauth_logins_matching_ioc", "org=prod", "app=Acme ERP Sync", "app_id="+f.erp.ID, "list=unc6395")
		return v == 1
	})
	page := get(t, e.addr+"/review")
	for _, w := range []string{"Acme ERP Sync: new networks", "198.18.10.0/24", f.username, "--app-id=" + f.erp.ID, "CRITICAL", "Acme ERP Sync: OAuth logins from new networks or IOC addresses"} {
		if !strings.Contains(page, w) {
			t.Errorf("/review lacks %q", w)
		}
	}
	r := servedReview(t, e.addr+"/review.json", waitLimit)
	if len(r.Findings) < 2 || r.Findings[1].Kind != review.KindNewNetwork || r.Findings[1].Command != fmt.Sprintf("salesforce_oauth_exporter revoke --config.file=%s --org=prod --app-id=%s", f.cfgFile, f.erp.ID) {
		t.Errorf("served findings: %+v", r.Findings)
	}
	// Per-user and per-address detail stays out of the metrics.
	var raw strings.Builder
	for _, mf := range m {
		raw.Write(mf.Raw)
	}
	body := get(t, e.addr+"/metrics")
	leaks := []string{"198.18.", sftest.IOCAddress, "208.68.36.", f.username, "integration@"}
	for i := range 3 {
		ip := sftest.IntegrationIP(f.erp.Name, i)
		leaks = append(leaks, ip, ip[:strings.LastIndex(ip, ".")+1]+"0/24")
	}
	for _, leak := range leaks {
		if strings.Contains(body, leak) {
			i := strings.Index(body, leak)
			t.Errorf("/metrics holds %q: %.200s", leak, body[max(i-100, 0):])
		}
	}
	if raw.Len() == 0 {
		t.Error("no metrics scraped")
	}
}
