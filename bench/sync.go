package main

// Token reads: a full sync next to a sequential keyset pager, and the
// steady-state refreshes of every source.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/stats"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// keysetPager is the method public tools use: one cursor at a time, ordered
// by CreatedDate, restarting after the 2,500-row cap with CreatedDate > last.
func keysetPager(ctx context.Context, c *salesforce.Client) (int, error) {
	rows := 0
	var last time.Time
	for {
		soql := "SELECT AppName, AppMenuItemId, UserId, User.IsActive, CreatedDate, LastUsedDate, UseCount FROM OauthToken"
		if !last.IsZero() {
			soql += " WHERE CreatedDate > " + salesforce.SOQLTime(last)
		}
		soql += " ORDER BY CreatedDate ASC"
		n := 0
		_, err := salesforce.Stream(ctx, c, soql, func(t salesforce.OauthToken) bool {
			n++
			last = t.CreatedDate.Time
			return true
		})
		if err != nil {
			return rows, err
		}
		rows += n
		if n < salesforce.OauthTokenCursorCap {
			return rows, nil
		}
	}
}

// signedIn is a client for the fake at url that holds an access token.
func signedIn(ctx context.Context, url string) *salesforce.Client {
	c := client(url)
	if _, err := c.Session(ctx); err != nil {
		fatal("sign in: %v", err)
	}
	return c
}

// syncRun is one run of the full sync's measures on one org: every method
// reads it once, one after another.
type syncRun struct {
	ours, withCuts, floor, live, decoded, keyset time.Duration // keyset 0 without baselines
	st, stCut                                    salesforce.TokenFetchStats
	oursCalls, cutCalls, keysetCalls             int64
	liveCalls, decodedRows, keysetRows           int
}

func fullSync(n int) {
	org, srv, url, stop := newFake(n, 1)
	defer stop()
	label := fmt.Sprintf("%dk tokens", n/1000)
	// The next full sync of the same org has the previous read's tokens,
	// and cuts the ranges where they put a cursor's worth each (what a
	// restart with the token file, a shared-storage move and every later
	// full sync do); the org does not change between runs, so its tokens
	// are the ones any read finds.
	cuts := salesforce.TokenCuts(slices.Values(org.LiveCreated()), 0)
	// A profiled run (-cpuprofile, -trace, -requests) is one more, first,
	// and left out of the medians: profiling slows what it watches.
	profiled := 0
	if *cpuProfile != "" || *traceFile != "" || *requestsFile != "" {
		profiled = 1
	}
	runs := make([]syncRun, max(*syncRuns, 1)+profiled)
	for i := range runs {
		// Each run starts with another method, so none always reads first
		// (or last) on a machine that warms up or tires.
		runs[i] = fullSyncRun(org, srv, url, label, cuts, i, i < profiled)
		r := runs[i]
		fmt.Fprintf(os.Stderr, "  run %d of %d, %s: first read %.2f s, with cuts %.2f s, floors %.2f / %.2f / %.2f s, keyset pager %.2f s\n",
			i+1, len(runs), label, r.ours.Seconds(), r.withCuts.Seconds(), r.floor.Seconds(), r.live.Seconds(), r.decoded.Seconds(), r.keyset.Seconds())
	}
	r0, runs := runs[0], runs[profiled:]
	ours := seconds(runs, func(r syncRun) time.Duration { return r.ours })
	withCuts := seconds(runs, func(r syncRun) time.Duration { return r.withCuts })
	live := seconds(runs, func(r syncRun) time.Duration { return r.live })
	decoded := seconds(runs, func(r syncRun) time.Duration { return r.decoded })
	floor := seconds(runs, func(r syncRun) time.Duration { return r.floor })
	parallel := min(8, salesforce.DefaultMaxOpenCursors)
	latencyFloor := time.Duration((int(r0.oursCalls)+parallel-1)/parallel) * latency
	add(Result{Name: "Full sync wall time with the previous read's cuts, " + label, Value: stats.Median(withCuts), Unit: "s", Baseline: stats.Median(live), BaseName: "floor with the fake's work",
		Note: fmt.Sprintf("%d ranges cut where the previous read's tokens put at most a cursor's worth; %d requests, %d cursors, rows %d; %s the floor with the fake's work, %s the cold read's time; runs: %s",
			len(cuts)+1, r0.cutCalls, r0.stCut.Partitions, r0.stCut.Rows, spread(ratios(withCuts, live), "x"), spread(ratios(withCuts, ours), "x"), runList(withCuts, " s"))})
	add(Result{Name: "Full sync floor with the fake's work, " + label, Value: stats.Median(live), Unit: "s",
		Note: fmt.Sprintf("every live token read from the fake org by %d workers in ranges of at most one cursor's cap, cut where the org's distribution (known to the bench only) puts them: %d requests, pages thrown away undecoded; "+
			"the latency, the transport and the fake's rendering and gzip on this machine's cores; the sync took %s it; runs: %s", parallel, r0.liveCalls, spread(ratios(ours, live), "x"), runList(live, " s"))})
	add(Result{Name: "Full sync floor with the fake's work and the client's decoding, " + label, Value: stats.Median(decoded), Unit: "s",
		Note: fmt.Sprintf("the same ranges read by %d workers through the client's query path (salesforce.Stream, ReadAhead), every row decoded: %d rows; no COUNT(), planning or cursor bookkeeping; the sync took %s it; runs: %s",
			parallel, r0.decodedRows, spread(ratios(ours, decoded), "x"), runList(decoded, " s"))})
	add(Result{Name: "Full sync floor, " + label, Value: stats.Median(floor), Unit: "s",
		Note: fmt.Sprintf("the sync's %d requests, %d at once (the cursors a client keeps open), each a real 500-row page served ready-made after the latency and thrown away: latency and transport, none of the fake's work or the client's; "+
			"the latency alone is %.2f s; the sync took %s the floor; runs: %s", r0.oursCalls, parallel, latencyFloor.Seconds(), spread(ratios(ours, floor), "x"), runList(floor, " s"))})
	if *noBaselines {
		add(Result{Name: "Full sync wall time, " + label, Value: stats.Median(ours), Unit: "s", Note: fmt.Sprintf("rows %d (COUNT %d), %d partitions; runs: %s", r0.st.Rows, org.TokenCount(), r0.st.Partitions, runList(ours, " s"))})
		add(Result{Name: "Full sync API calls, " + label, Value: float64(r0.oursCalls), Unit: "calls"})
		return
	}
	keyset := seconds(runs, func(r syncRun) time.Duration { return r.keyset })
	speedup, floorSpeedup, ofFloor := ratios(keyset, ours), ratios(keyset, decoded), ratios(ours, decoded)
	met, how := speedupMet(speedup)
	add(Result{Name: "Full sync wall time, " + label, Value: stats.Median(ours), Unit: "s", Baseline: stats.Median(keyset), BaseName: "sequential keyset pager", Target: "8x faster", Met: boolp(met),
		Note: fmt.Sprintf("%s (the median of each run's ratio; the ratio of the medians is %.2fx); runs: ours %s, keyset pager %s; rows: ours %d (COUNT %d), keyset pager %d (restarting at CreatedDate > last, to the second, it reads or skips the rows of that second again)",
			how, stats.Median(keyset)/stats.Median(ours), runList(ours, " s"), runList(keyset, " s"), r0.st.Rows, org.TokenCount(), r0.keysetRows)})
	floorOK, how := floorMet(floorSpeedup, ofFloor)
	add(Result{Name: "Full sync wall time against the floor with the client's decoding, " + label, Value: stats.Median(ours), Unit: "s", Baseline: stats.Median(decoded), BaseName: "floor with the fake's work and the client's decoding",
		Target: "within 10%, where that floor is below 8x the keyset pager", Met: floorOK,
		Note: how + "; this floor reads with the client's own decoder, so it moves with it: a slower decoder would lower it, a faster one raise it; runs: " + runList(decoded, " s")})
	add(Result{Name: "Full sync API calls, " + label, Value: float64(r0.oursCalls), Unit: "calls", Baseline: float64(r0.keysetCalls), BaseName: "sequential keyset pager"})
}

// fullSyncRun reads the org once with each method: the sync (profiled when
// profile is set), the sync with the previous read's cuts, the floors with
// the fake's work and with the client's decoding and, unless -no-baselines,
// the keyset pager, starting at method rotate (modulo their number); then
// the floor of the sync's own requests, which needs their count.
func fullSyncRun(org *sftest.Org, srv *sftest.Server, url, label string, cuts []time.Time, rotate int, profile bool) syncRun {
	ctx := context.Background()
	var r syncRun
	parallel := min(8, salesforce.DefaultMaxOpenCursors)
	// Every read starts signed in, as the floors do: the measure is the
	// reads' requests, and a serving exporter's client holds a token before
	// its daily full sync.
	steps := []func(){
		func() {
			c := signedIn(ctx, url)
			srv.ResetCounts()
			stopProfiles := func() {}
			if profile {
				stopProfiles = startProfiles(label, parallel)
			}
			start := time.Now()
			st, err := c.OauthTokens(ctx, salesforce.TokenQuery{Concurrency: 8}, func(salesforce.OauthToken) {})
			r.ours = time.Since(start)
			stopProfiles()
			if err != nil {
				fatal("full sync: %v", err)
			}
			r.st, r.oursCalls = st, srv.APICalls()
		},
		func() {
			c := signedIn(ctx, url)
			srv.ResetCounts()
			start := time.Now()
			st, err := c.OauthTokens(ctx, salesforce.TokenQuery{Concurrency: 8, Cuts: cuts}, func(salesforce.OauthToken) {})
			r.withCuts = time.Since(start)
			if err != nil {
				fatal("full sync with cuts: %v", err)
			}
			r.stCut, r.cutCalls = st, srv.APICalls()
		},
		func() {
			var err error
			if r.live, r.liveCalls, err = syncFloorLive(ctx, org, url, parallel); err != nil {
				fatal("full sync live floor: %v", err)
			}
		},
		func() {
			var err error
			if r.decoded, r.decodedRows, err = syncFloorDecoded(ctx, org, signedIn(ctx, url), parallel); err != nil {
				fatal("full sync decoded floor: %v", err)
			}
		},
	}
	if !*noBaselines {
		steps = append(steps, func() {
			c := signedIn(ctx, url)
			srv.ResetCounts()
			start := time.Now()
			n, err := keysetPager(ctx, c)
			r.keyset = time.Since(start)
			if err != nil {
				fatal("keyset pager: %v", err)
			}
			r.keysetRows, r.keysetCalls = n, srv.APICalls()
		})
	}
	for i := range steps {
		steps[(i+rotate)%len(steps)]()
	}
	// The floor of the sync's own requests, at the same parallelism, with
	// no fake or client work.
	var err error
	if r.floor, err = syncFloor(ctx, url, int(r.oursCalls), parallel); err != nil {
		fatal("full sync floor: %v", err)
	}
	return r
}

func steadyState(n int) {
	org, srv, url, stop := newFake(n, 2)
	defer stop()
	// A week of daily usage files, some sessions and logins: every default source has work.
	apps := org.Apps()
	now := org.Now()
	for d := 7; d >= 1; d-- {
		ld := now.UTC().Truncate(24 * time.Hour).Add(-time.Duration(d) * 24 * time.Hour)
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(25 * time.Hour), Retention: 30 * 24 * time.Hour, Rows: []sftest.UsageRow{{AppID: apps[0].ID, AppName: apps[0].Name, StatusCode: 200, Count: 1000}}})
	}
	ctx := context.Background()
	// Each refresh runs the seven sources that read at most every 30
	// minutes at the defaults; posture (hourly) is counted on its own below.
	seven := []string{config.SourceOAuthTokens, config.SourceApps, config.SourceSessions, config.SourceLogins, config.SourceAPIUsage, config.SourceLimits, config.SourceECAs}
	r := refresher(url, seven...)
	if err := r.RefreshAll(ctx); err != nil {
		fatal("first refresh: %v", err)
	}
	var calls []int64
	var walls []time.Duration
	for i := range 3 {
		// 0.1% of tokens change during the 5 minutes: used, and new.
		org.Churn(n/1000-n/10000, n/10000, uint64(100+i))
		org.AddLogin(sftest.LoginSpec{User: 1, App: apps[0].Name})
		org.Advance(5 * time.Minute)
		srv.ResetCounts()
		start := time.Now()
		if err := r.RefreshAll(ctx); err != nil {
			fatal("refresh: %v", err)
		}
		walls = append(walls, time.Since(start))
		calls = append(calls, srv.APICalls())
		fmt.Fprintf(os.Stderr, "  steady-state refresh %d, requests by resource: %v\n", i+1, srv.Requests())
	}
	label := fmt.Sprintf("%dk tokens, 0.1%% churn", n/1000)
	// The public tools' way: rescan every token every refresh.
	base := float64(n/2500*5 + 1)
	maxCalls := slices.Max(calls)
	add(Result{Name: "Steady-state refresh API calls (all 7 sources), " + label, Value: float64(maxCalls), Unit: "calls", Baseline: base, BaseName: "full rescan per refresh", Target: "<= 12", Met: boolp(maxCalls <= 12),
		Note: fmt.Sprintf("per refresh: %v", calls)})
	add(Result{Name: "Steady-state refresh wall time, " + label, Value: slices.Max(walls).Seconds(), Unit: "s", Note: fmt.Sprintf("per refresh: %v", walls)})
	// With 5 revocations between refreshes: bisection costs calls.
	org.RevokeRandom(5, 9)
	srv.ResetCounts()
	if err := r.RefreshAll(ctx); err != nil {
		fatal("refresh: %v", err)
	}
	add(Result{Name: "Refresh API calls with 5 revocations, " + label, Value: float64(srv.APICalls()), Unit: "calls", Baseline: base, BaseName: "full rescan per refresh"})
	// With GROUP BY accepted by the org.
	org.Behavior.OauthTokenAggregates = true
	r2 := refresher(url, seven...)
	_ = r2.RefreshAll(ctx)
	srv.ResetCounts()
	_ = r2.RefreshAll(ctx)
	add(Result{Name: "Refresh API calls where the org accepts GROUP BY, " + label, Value: float64(srv.APICalls()), Unit: "calls", Baseline: base, BaseName: "full rescan per refresh"})
	org.Behavior.OauthTokenAggregates = false
	// Posture, hourly at the defaults: OAuth policies, bypass permissions and
	// the token holders' permission sets (200 a query).
	rp := refresher(url, config.SourceOAuthTokens, config.SourcePosture)
	if err := rp.RefreshAll(ctx); err != nil {
		fatal("posture refresh: %v", err)
	}
	srv.ResetCounts()
	if err := rp.RefreshAll(ctx); err != nil {
		fatal("posture refresh: %v", err)
	}
	posture := srv.Requests()
	postureCalls := srv.APICalls() - int64(posture["query:OauthToken"]+posture["query:User"]+posture["limits"])
	add(Result{Name: "Posture refresh API calls (hourly), " + label, Value: float64(postureCalls), Unit: "calls", Note: fmt.Sprintf("requests by resource with the tokens' own: %v", posture)})
	// Daily share at the default settings: 5-minute tokens/limits/sessions/logins,
	// 15-minute apps and ECAs, 30-minute usage, hourly posture, a full sync a day.
	full := float64(n/2500*5 + n/2500/4 + 10)
	perDay := float64(maxCalls)*288 + float64(postureCalls)*24 + full
	maxReq := 1_000_000.0
	add(Result{Name: "Share of DailyApiRequests per day at defaults, " + label, Value: 100 * perDay / maxReq, Unit: "%", Target: "<= 1%", Met: boolp(perDay/maxReq <= 0.01),
		Note: fmt.Sprintf("%.0f requests a day (288 refreshes of at most %d requests, 24 posture reads of %d, plus one full sync of about %.0f) against an org allocation of %.0f", perDay, maxCalls, postureCalls, full, maxReq)})
}

// skewedSync is a first read of an org whose tokens bunch: a fifth of them
// granted in one hour of the last day (a rollout), which the read's
// CreatedDate bins spread over the whole day. The ranges planned by the bins
// then hold very different numbers of rows, and the cursors that finish
// first take the far ends of the others (steal). Its baseline is the floor
// with the fake's work, which knows where the tokens are.
func skewedSync(n int) {
	org, srv, url, stop := newFake(n-n/5, 2)
	defer stop()
	burst := org.Now().Add(-5 * time.Hour)
	for i := range n / 5 {
		org.AddToken(sftest.TokenSpec{User: i % 150_000, App: i % 200, Created: burst.Add(time.Duration(i) * time.Hour / time.Duration(n/5))})
	}
	ctx := context.Background()
	label := fmt.Sprintf("%dk tokens, a fifth in one hour", n/1000)
	c := signedIn(ctx, url)
	srv.ResetCounts()
	start := time.Now()
	st, err := c.OauthTokens(ctx, salesforce.TokenQuery{Concurrency: 8}, func(salesforce.OauthToken) {})
	took := time.Since(start)
	if err != nil {
		fatal("skewed full sync: %v", err)
	}
	calls := srv.APICalls()
	parallel := min(8, salesforce.DefaultMaxOpenCursors)
	live, liveCalls, err := syncFloorLive(ctx, org, url, parallel)
	if err != nil {
		fatal("skewed full sync live floor: %v", err)
	}
	add(Result{Name: "Full sync wall time, " + label, Value: took.Seconds(), Unit: "s", Baseline: live.Seconds(), BaseName: "floor with the fake's work",
		Note: fmt.Sprintf("rows %d (COUNT %d), %d requests (the floor %d), %d partitions; %.2fx the floor with the fake's work", st.Rows, org.TokenCount(), calls, liveCalls, st.Partitions, took.Seconds()/live.Seconds())})
}
