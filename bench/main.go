// Command bench measures the exporter against the fake org over loopback
// HTTP with 50 ms of latency per request, next to the baselines users would
// otherwise have, and prints a table and writes it as JSON.
//
//	go run ./bench [-out bench/out/results.json] [-quick]
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Result is one measure next to its baseline.
type Result struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Baseline float64 `json:"baseline,omitempty"`
	BaseName string  `json:"baseline_name,omitempty"`
	Target   string  `json:"target,omitempty"`
	Met      *bool   `json:"met,omitempty"`
	Note     string  `json:"note,omitempty"`
}

var (
	results []Result
	latency = 50 * time.Millisecond
)

func add(r Result) {
	results = append(results, r)
	fmt.Fprintf(os.Stderr, "  %-58s %12.2f %-6s", r.Name, r.Value, r.Unit)
	if r.BaseName != "" {
		fmt.Fprintf(os.Stderr, "  baseline %12.2f (%s)", r.Baseline, r.BaseName)
	}
	fmt.Fprintln(os.Stderr)
}

func boolp(b bool) *bool { return &b }

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "child-") {
		child(os.Args[1], os.Args[2:])
		return
	}
	out := flag.String("out", "bench/out/results.json", "where to write the results as JSON")
	quick := flag.Bool("quick", false, "smaller scales (for a smoke run)")
	exporterBin := flag.String("exporter", "", "the exporter binary (default: build it)")
	only := flag.String("only", "", "run only these measures, comma-separated: fullsync, steady, restart, rss, ingest, scrape, fleet")
	flag.Parse()
	want := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	scales := []int{300_000, 1_000_000}
	ingestMB := 1024
	if *quick {
		scales, ingestMB = []int{30_000, 100_000}, 64
	}
	tmp, _ := os.MkdirTemp("", "sfoe-bench-")
	defer os.RemoveAll(tmp)
	if *exporterBin == "" {
		*exporterBin = filepath.Join(tmp, "salesforce_oauth_exporter")
		if b, err := exec.Command("go", "build", "-o", *exporterBin, ".").CombinedOutput(); err != nil {
			fatal("build exporter: %v\n%s", err, b)
		}
	}
	fmt.Fprintf(os.Stderr, "machine: %s, %d CPUs, %s; latency %s per request\n", runtime.GOARCH, runtime.NumCPU(), runtime.Version(), latency)
	if want("fullsync") {
		for _, n := range scales {
			fullSync(n)
		}
	}
	if want("steady") {
		steadyState(scales[len(scales)-1])
	}
	if want("restart") {
		restart(scales[len(scales)-1])
	}
	if want("rss") {
		peakRSS(*exporterBin, scales[len(scales)-1], tmp)
	}
	if want("ingest") {
		ingest(ingestMB, tmp)
	}
	if want("scrape") {
		scrapeLatency(*exporterBin, tmp)
	}
	if want("fleet") {
		orgs := 200
		if *quick {
			orgs = 20
		}
		fleet(*exporterBin, orgs, tmp)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err == nil {
		b, _ := json.MarshalIndent(map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "cpus": runtime.NumCPU(), "go": runtime.Version(), "latency_ms": latency.Milliseconds(), "results": results}, "", "  ")
		_ = os.WriteFile(*out, b, 0o644)
	}
	printTable()
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func printTable() {
	fmt.Println("| measure | value | baseline | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range results {
		base, ratio, met := "", "", ""
		if r.BaseName != "" {
			base = fmt.Sprintf("%.2f %s (%s)", r.Baseline, r.Unit, r.BaseName)
			if r.Value > 0 {
				ratio = fmt.Sprintf("%.1fx", r.Baseline/r.Value)
				if strings.Contains(r.Unit, "MB/s") {
					ratio = fmt.Sprintf("%.1fx", r.Value/r.Baseline)
				}
			}
		}
		if r.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*r.Met]
		}
		fmt.Printf("| %s | %.2f %s | %s | %s | %s | %s |\n", r.Name, r.Value, r.Unit, base, ratio, r.Target, met)
	}
}

// newFake serves a generated org on loopback with the bench latency.
func newFake(n int, seed uint64) (*sftest.Org, *sftest.Server, string, func()) {
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: n, Apps: 200, Users: 200_000, Seed: seed})
	srv := sftest.NewServer(org, sftest.TestCredentials)
	srv.SetLatency(latency)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("%v", err)
	}
	hs := &http.Server{Handler: recordRequests(srv), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return org, srv, "http://" + ln.Addr().String(), func() { hs.Close() }
}

func client(url string) *salesforce.Client {
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: url,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret},
		salesforce.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 5 * time.Minute}))
	if err != nil {
		fatal("%v", err)
	}
	return c
}

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

func fullSync(n int) {
	org, srv, url, stop := newFake(n, 1)
	defer stop()
	ctx := context.Background()
	label := fmt.Sprintf("%dk tokens", n/1000)
	c := client(url)
	srv.ResetCounts()
	// At most 8 workers, each holding a cursor: the client keeps DefaultMaxOpenCursors open.
	stopProfiles := startProfiles(label, min(8, salesforce.DefaultMaxOpenCursors))
	start := time.Now()
	st, err := c.OauthTokens(ctx, salesforce.TokenQuery{Concurrency: 8}, func(salesforce.OauthToken) {})
	ours := time.Since(start)
	stopProfiles()
	if err != nil {
		fatal("full sync: %v", err)
	}
	oursCalls := srv.APICalls()
	if *noBaselines {
		add(Result{Name: "Full sync wall time, " + label, Value: ours.Seconds(), Unit: "s", Note: fmt.Sprintf("rows %d (COUNT %d), %d partitions", st.Rows, org.TokenCount(), st.Partitions)})
		add(Result{Name: "Full sync API calls, " + label, Value: float64(oursCalls), Unit: "calls"})
		return
	}
	srv.ResetCounts()
	start = time.Now()
	baseRows, err := keysetPager(ctx, client(url))
	base := time.Since(start)
	if err != nil {
		fatal("keyset pager: %v", err)
	}
	baseCalls := srv.APICalls()
	ratio := base.Seconds() / ours.Seconds()
	add(Result{Name: "Full sync wall time, " + label, Value: ours.Seconds(), Unit: "s", Baseline: base.Seconds(), BaseName: "sequential keyset pager", Target: "4x faster", Met: boolp(ratio >= 4),
		Note: fmt.Sprintf("rows: ours %d (COUNT %d), keyset pager %d (restarting at CreatedDate > last, to the second, it reads or skips the rows of that second again)", st.Rows, org.TokenCount(), baseRows)})
	add(Result{Name: "Full sync API calls, " + label, Value: float64(oursCalls), Unit: "calls", Baseline: float64(baseCalls), BaseName: "sequential keyset pager"})
}

func refresher(url string, sources ...string) *refresh.Refresher {
	dir, _ := os.MkdirTemp("", "sfoe-bench-state-")
	return refresherIn(dir, url, slog.New(slog.DiscardHandler), sources...)
}

// refresherIn is a refresher keeping its state in dir.
func refresherIn(dir, url string, logger *slog.Logger, sources ...string) *refresh.Refresher {
	secret := filepath.Join(dir, "secret")
	_ = os.WriteFile(secret, []byte(sftest.TestCredentials.ClientSecret), 0o600)
	var b strings.Builder
	fmt.Fprintf(&b, "orgs:\n  - name: bench\n    login_url: %s\n    sources:\n", url)
	for _, s := range config.Sources {
		fmt.Fprintf(&b, "      %s: {enabled: %v}\n", s, len(sources) == 0 || slices.Contains(sources, s))
	}
	fmt.Fprintf(&b, "    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n", sftest.TestCredentials.ClientID)
	cfg, err := config.Parse([]byte(b.String()), filepath.Join(dir, "c.yml"))
	if err != nil {
		fatal("%v", err)
	}
	r, err := refresh.NewRefresher(cfg.Orgs[0], refresh.Settings{StaleAfter: config.DefaultStaleAfter, Inventory: cfg.InventoryFor}, dir, logger, nil,
		salesforce.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 5 * time.Minute}))
	if err != nil {
		fatal("%v", err)
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
	r := refresher(url)
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
	r2 := refresher(url)
	_ = r2.RefreshAll(ctx)
	srv.ResetCounts()
	_ = r2.RefreshAll(ctx)
	add(Result{Name: "Refresh API calls where the org accepts GROUP BY, " + label, Value: float64(srv.APICalls()), Unit: "calls", Baseline: base, BaseName: "full rescan per refresh"})
	// Daily share at the default settings: 5-minute tokens/limits/sessions/logins,
	// 15-minute apps and ECAs, 30-minute usage, a full sync a day.
	full := float64(n/2500*5 + n/2500/4 + 10)
	perDay := float64(maxCalls)*288 + full
	maxReq := 1_000_000.0
	add(Result{Name: "Share of DailyApiRequests per day at defaults, " + label, Value: 100 * perDay / maxReq, Unit: "%", Target: "<= 1%", Met: boolp(perDay/maxReq <= 0.01),
		Note: fmt.Sprintf("%.0f requests a day (288 refreshes of at most %d requests, plus one full sync of about %.0f) against an org allocation of %.0f", perDay, maxCalls, full, maxReq)})
}

// vmHWM reads a process's peak resident set size in MB.
func vmHWM(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

func freeAddr() string {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	return l.Addr().String()
}

func writeExporterConfig(dir string, urls []string, interval string) string {
	_ = os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600)
	var b strings.Builder
	b.WriteString("orgs:\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "  - name: org%d\n    login_url: %s\n    refresh_interval: %s\n    api_budget_percent: 100\n    sources: {api_usage: {interval: %s}, apps: {interval: %s}}\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
			i, u, interval, interval, interval, sftest.TestCredentials.ClientID)
	}
	p := filepath.Join(dir, "config.yml")
	_ = os.WriteFile(p, []byte(b.String()), 0o600)
	return p
}

func scrapeUntil(addr string, cond func(string) bool, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if cond(string(b)) {
				return string(b)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	fatal("timed out waiting for the exporter")
	return ""
}

func peakRSS(bin string, n int, tmp string) {
	_, _, url, stop := newFake(n, 3)
	defer stop()
	dir, _ := os.MkdirTemp(tmp, "rss-")
	addr := freeAddr()
	cmd := exec.Command(bin, "--config.file="+writeExporterConfig(dir, []string{url}, "20s"), "--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		fatal("%v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	start := time.Now()
	scrapeUntil(addr, func(s string) bool { return strings.Contains(s, `salesforce_up{org="org0"} 1`) }, 10*time.Minute)
	first := time.Since(start)
	time.Sleep(45 * time.Second) // two steady refreshes
	ours := vmHWM(cmd.Process.Pid)
	// Baseline: a naive exporter holding every decoded row.
	naive := childRSS("child-naive", url)
	label := fmt.Sprintf("%dk tokens", n/1000)
	add(Result{Name: "Exporter peak RSS, " + label, Value: ours, Unit: "MB", Baseline: naive, BaseName: "all rows decoded and held", Target: "<= 150 MB", Met: boolp(ours <= 150),
		Note: fmt.Sprintf("first full refresh of every source took %.1fs", first.Seconds())})
}

// childRSS runs a child mode of this binary and returns its peak RSS.
func childRSS(mode string, args ...string) float64 {
	self, _ := os.Executable()
	cmd := exec.Command(self, append([]string{mode}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		fatal("%s: %v", mode, err)
	}
	v, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return v
}

func child(mode string, args []string) {
	switch mode {
	case "child-naive":
		c := client(args[0])
		var rows []salesforce.OauthToken
		_, err := c.OauthTokens(context.Background(), salesforce.TokenQuery{Concurrency: 8}, func(t salesforce.OauthToken) { rows = append(rows, t) })
		if err != nil {
			fatal("%v", err)
		}
		runtime.KeepAlive(rows)
		fmt.Println(vmHWM(os.Getpid()))
	case "child-ours", "child-detect", "child-readall":
		f, err := os.Open(args[0])
		if err != nil {
			fatal("%v", err)
		}
		start := time.Now()
		rows := 0
		switch mode {
		case "child-ours":
			counts := map[string]int{}
			rows, err = salesforce.ParseAPITotalUsage(bufio.NewReaderSize(f, 1<<20), func(e salesforce.UsageEvent) { counts[string(e.AppID)]++ })
		case "child-detect":
			// The same, with the network and object tracking on (what the
			// api_usage source does per row).
			tr, _ := detect.New(detect.Config{})
			in := tr.Begin(detect.Period{Key: "D|bench", Interval: "Daily", Start: time.Date(2025, 10, 9, 0, 0, 0, 0, time.UTC), FileID: "0AT"})
			counts := map[string]int{}
			var row detect.Row
			rows, err = salesforce.ParseAPITotalUsage(bufio.NewReaderSize(f, 1<<20), func(e salesforce.UsageEvent) {
				counts[string(e.AppID)]++
				row = detect.Row{AppID: e.AppID, AppName: e.AppName, ClientIP: e.ClientIP, EntityName: e.EntityName, UserID: e.UserID, StatusCode: e.StatusCode}
				in.Add(&row)
			})
			tr.Commit(in)
			if b, merr := tr.MarshalBinary(); merr == nil {
				fmt.Fprintf(os.Stderr, "detection state %d bytes\n", len(b))
			}
		default:
			var all [][]string
			all, err = csv.NewReader(f).ReadAll()
			rows = len(all) - 1
		}
		if err != nil {
			fatal("%v", err)
		}
		fmt.Printf("%d %f %f\n", rows, time.Since(start).Seconds(), vmHWM(os.Getpid()))
	}
}

// benchObjects are the ENTITY_NAME values of the ingest file.
var benchObjects = []string{"Account", "Opportunity", "Contact", "Invoice__c"}

func ingest(mb int, tmp string) {
	path := filepath.Join(tmp, "apitotalusage.csv")
	f, _ := os.Create(path)
	w := bufio.NewWriterSize(f, 1<<20)
	cols := sftest.DefaultUsageColumns
	fmt.Fprintf(w, "\"%s\"\n", strings.Join(cols, "\",\""))
	row := 0
	for w.Size() >= 0 {
		fi, _ := f.Stat()
		if fi.Size() >= int64(mb)<<20 {
			break
		}
		for range 10000 {
			row++
			fmt.Fprintf(w, "\"ApiTotalUsage\",\"20251009184000.123\",\"4kTk%d\",\"00D5j00000DgAYG\",\"0055j00000AT%03d\",\"REST\",\"66.0\",\"/v66.0/sobjects/Account\",\"sync \"\"nightly\"\"\",\"GET\",\"198.51.%d.%d\",\"true\",\"0H45j0000000%03dAAA\",\"%s\",\"%d\",\"App %03d\",\"user%d@example.com\",\"2025-10-09T18:40:00.123Z\",\"EXTERNAL_APPLICATION\"\n",
				row, row%997, row%3, row%250, row%200, benchObjects[row%len(benchObjects)], 200+300*(row%7/6), row%200, row%997)
		}
		_ = w.Flush()
	}
	_ = w.Flush()
	f.Close()
	fi, _ := os.Stat(path)
	size := float64(fi.Size()) / (1 << 20)
	parse := func(mode string) (float64, float64) {
		self, _ := os.Executable()
		cmd := exec.Command(self, mode, path)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fatal("%s: %v", mode, err)
		}
		var rows int
		var secs, rss float64
		if _, err := fmt.Sscan(string(out), &rows, &secs, &rss); err != nil {
			fatal("%s: %q: %v", mode, out, err)
		}
		return size / secs, rss
	}
	oursRate, oursRSS := parse("child-ours")
	detRate, detRSS := parse("child-detect")
	baseRate, baseRSS := parse("child-readall")
	label := fmt.Sprintf("%.0f MB ApiTotalUsage CSV", size)
	add(Result{Name: "Ingest throughput, " + label, Value: oursRate, Unit: "MB/s", Baseline: baseRate, BaseName: "encoding/csv ReadAll", Target: "2x", Met: boolp(oursRate >= 2*baseRate)})
	add(Result{Name: "Ingest throughput with detection, " + label, Value: detRate, Unit: "MB/s", Baseline: oursRate, BaseName: "without detection", Target: ">= 400 MB/s", Met: boolp(detRate >= 400)})
	add(Result{Name: "Ingest peak RSS with detection, " + label, Value: detRSS, Unit: "MB", Baseline: oursRSS, BaseName: "without detection", Target: "flat", Met: boolp(detRSS < 64)})
	add(Result{Name: "Ingest peak RSS, " + label, Value: oursRSS, Unit: "MB", Baseline: baseRSS, BaseName: "encoding/csv ReadAll", Target: "flat", Met: boolp(oursRSS < 64)})
}

func scrapeLatency(bin string, tmp string) {
	var urls []string
	for i := range 5 {
		org, _, url, stop := newFake(20_000, uint64(10+i))
		defer stop()
		apps := org.Apps()
		var rows []sftest.UsageRow
		for _, a := range apps {
			rows = append(rows, sftest.UsageRow{AppID: a.ID, AppName: a.Name, StatusCode: 200, Count: 3})
		}
		ld := org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(25 * time.Hour), Retention: 30 * 24 * time.Hour, Rows: rows})
		urls = append(urls, url)
	}
	dir, _ := os.MkdirTemp(tmp, "scrape-")
	addr := freeAddr()
	cmd := exec.Command(bin, "--config.file="+writeExporterConfig(dir, urls, "5s"), "--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		fatal("%v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	countSeries := func(body string) int {
		n := 0
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "salesforce_") {
				n++
			}
		}
		return n
	}
	// Every org up, and the body the same size for 10 polls in a row (two
	// refresh cycles), so that each run measures the same exposition.
	last, same := 0, 0
	body := scrapeUntil(addr, func(s string) bool {
		if strings.Count(s, "salesforce_up{") != 5 || strings.Contains(s, "salesforce_up{org=\"org4\"} 0") {
			return false
		}
		if n := countSeries(s); n == last {
			same++
		} else {
			last, same = n, 0
		}
		return same >= 10
	}, 10*time.Minute)
	series := countSeries(body)
	// The exporter's CPU time per scrape is measured next to the latency:
	// on a shared machine the latency moves with everyone else's load, the
	// CPU a scrape costs much less. It includes the refreshes' share, so
	// compare it between exporters measured alike, not with a scrape alone.
	var cpuPerScrape time.Duration
	measure := func(interval time.Duration) (time.Duration, time.Duration, int) {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
		cpu0 := procCPU(cmd.Process.Pid)
		var mu sync.Mutex
		var lat []time.Duration
		stopAt := time.Now().Add(30 * time.Second)
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i) * interval / 50)
				for time.Now().Before(stopAt) {
					start := time.Now()
					resp, err := hc.Get("http://" + addr + "/metrics")
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					d := time.Since(start)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
					if interval > 0 {
						time.Sleep(max(0, interval-d))
					}
				}
			}()
		}
		wg.Wait()
		cpuPerScrape = (procCPU(cmd.Process.Pid) - cpu0) / time.Duration(len(lat))
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100], len(lat)
	}
	p50, p99, n := measure(time.Second)
	add(Result{Name: fmt.Sprintf("/metrics p50, 5 orgs x 200 apps (%d series), 50 scrapers at 1/s, refreshing every 5s", series), Value: float64(p50.Microseconds()) / 1000, Unit: "ms", Note: fmt.Sprintf("%d scrapes", n)})
	add(Result{Name: "/metrics p99, same", Value: float64(p99.Microseconds()) / 1000, Unit: "ms", Target: "<= 20 ms", Met: boolp(p99 <= 20*time.Millisecond)})
	add(Result{Name: "/metrics exporter CPU per scrape, same", Value: float64(cpuPerScrape.Microseconds()) / 1000, Unit: "ms", Note: "user+system, refreshes included"})
	p50, p99, n = measure(0)
	add(Result{Name: "/metrics p99, 50 scrapers back to back (saturated)", Value: float64(p99.Microseconds()) / 1000, Unit: "ms", Note: fmt.Sprintf("%d scrapes in 30s (%.0f/s), p50 %.1f ms", n, float64(n)/30, float64(p50.Microseconds())/1000)})
	add(Result{Name: "/metrics exporter CPU per scrape, back to back", Value: float64(cpuPerScrape.Microseconds()) / 1000, Unit: "ms", Note: "user+system, refreshes included"})
}

// loadLog catches the refresher's "Restored the token store" log line, which
// says how long the token file took to load.
type loadLog struct {
	mu      sync.Mutex
	seconds float64
	tokens  int64
}

func (l *loadLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *loadLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *loadLog) WithGroup(string) slog.Handler            { return l }
func (l *loadLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "Restored the token store") {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "load_seconds":
			l.seconds = a.Value.Float64()
		case "tokens":
			l.tokens = a.Value.Int64()
		}
		return true
	})
	return nil
}

// tokenTotal is the number of tokens a snapshot counts on connected apps.
func tokenTotal(s *snapshot.Snapshot) int {
	n := 0
	for _, a := range s.Apps {
		if a.Kind == snapshot.KindConnectedApp {
			n += int(a.Tokens)
		}
	}
	return n
}

// restart measures what a restart of a row-mode org costs with the token
// store on disk, next to the full read it costs without.
func restart(n int) {
	org, srv, url, stop := newFake(n, 4)
	defer stop()
	dir, _ := os.MkdirTemp("", "sfoe-bench-restart-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	sources := []string{config.SourceLimits, config.SourceApps, config.SourceOAuthTokens}
	quiet := slog.New(slog.DiscardHandler)
	srv.ResetCounts()
	start := time.Now()
	if err := refresherIn(dir, url, quiet, sources...).RefreshAll(ctx); err != nil {
		fatal("first start: %v", err)
	}
	fullWall, fullCalls := time.Since(start), srv.APICalls()
	fi, err := os.Stat(filepath.Join(dir, "bench.tokens"))
	if err != nil {
		fatal("no token file: %v", err)
	}
	label := fmt.Sprintf("%dk tokens, row mode", n/1000)
	for _, down := range []time.Duration{5 * time.Minute, time.Hour} {
		// Down a while: 0.1% of the tokens change every 5 minutes, used or new.
		for i := range int(down / (5 * time.Minute)) {
			org.Churn(n/1000-n/10000, n/10000, uint64(200+i))
			org.Advance(5 * time.Minute)
		}
		ll := &loadLog{}
		srv.ResetCounts()
		start := time.Now()
		r := refresherIn(dir, url, slog.New(ll), sources...)
		if err := r.RefreshAll(ctx); err != nil {
			fatal("restart: %v", err)
		}
		wall, calls := time.Since(start), srv.APICalls()
		if ll.tokens == 0 {
			fatal("restart did not restore the token store")
		}
		if got, want := tokenTotal(r.Snapshot()), org.TokenCount(); got != want {
			fatal("restart: %d tokens counted, the org has %d", got, want)
		}
		fmt.Fprintf(os.Stderr, "  restart after %s down, requests by resource: %v\n", down, srv.Requests())
		name := fmt.Sprintf("Restart API calls (limits, apps, tokens) after %s down, %s", down, label)
		if down == 5*time.Minute {
			add(Result{Name: name, Value: float64(calls), Unit: "calls", Baseline: float64(fullCalls), BaseName: "full read (no token file)", Target: "<= 12", Met: boolp(calls <= 12)})
			add(Result{Name: "Restart wall time, same", Value: wall.Seconds(), Unit: "s", Baseline: fullWall.Seconds(), BaseName: "full read (no token file)", Target: "seconds", Met: boolp(wall < 10*time.Second)})
			add(Result{Name: "Token file size, " + label, Value: float64(fi.Size()) / (1 << 20), Unit: "MB", Note: fmt.Sprintf("%.1f bytes a token", float64(fi.Size())/float64(n))})
			add(Result{Name: "Token file load time, " + label, Value: ll.seconds * 1000, Unit: "ms"})
		} else {
			add(Result{Name: name, Value: float64(calls), Unit: "calls", Baseline: float64(fullCalls), BaseName: "full read (no token file)", Note: "the changes since the watermarks are read in 500-row pages: about one call per 500 tokens used or added while down"})
		}
	}
}

// procCPU is a process's user+system CPU time, from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func metricValue(body, name string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			return v
		}
	}
	return 0
}

// fleet runs one exporter over many orgs of 5,000 tokens and 50 apps each
// (row mode), as a consultancy would: peak RSS, goroutines, CPU per refresh
// cycle and /metrics latency under 20 scrapers, to size replicas by.
func fleet(bin string, orgs int, tmp string) {
	const tokens, apps, interval = 5000, 50, 20 * time.Second
	var urls []string
	for i := range orgs {
		org := sftest.NewOrg()
		org.SetAPILimit(5_000_000, 0)
		org.Generate(sftest.Scale{Tokens: tokens, Apps: apps, Users: 1000, Seed: uint64(1000 + i)})
		srv := sftest.NewServer(org, sftest.TestCredentials)
		srv.SetLatency(latency)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fatal("%v", err)
		}
		hs := &http.Server{Handler: recordRequests(srv), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		urls = append(urls, "http://"+ln.Addr().String())
	}
	dir, _ := os.MkdirTemp(tmp, "fleet-")
	addr := freeAddr()
	cmd := exec.Command(bin, "--config.file="+writeExporterConfig(dir, urls, interval.String()), "--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		fatal("%v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	start := time.Now()
	scrapeUntil(addr, func(s string) bool {
		n := 0
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "salesforce_up{") && strings.HasSuffix(l, "} 1") {
				n++
			}
		}
		return n == orgs
	}, 5*time.Minute)
	first := time.Since(start)
	// Steady state: CPU over three refresh cycles.
	cpu0, t0 := procCPU(cmd.Process.Pid), time.Now()
	time.Sleep(3 * interval)
	cpu := procCPU(cmd.Process.Pid) - cpu0
	cycles := time.Since(t0).Seconds() / interval.Seconds()
	body := scrapeUntil(addr, func(string) bool { return true }, time.Minute)
	goroutines := metricValue(body, "go_goroutines")
	series := 0
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "salesforce_") {
			series++
		}
	}
	// 20 scrapers, each once a second for 30 seconds, while refreshes go on.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	stopAt := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Second / 20)
			for time.Now().Before(stopAt) {
				s := time.Now()
				resp, err := hc.Get("http://" + addr + "/metrics")
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(s)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
				time.Sleep(max(0, time.Second-d))
			}
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	rss := vmHWM(cmd.Process.Pid)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	label := fmt.Sprintf("%d orgs x %d tokens x %d apps, one process", orgs, tokens, apps)
	note := fmt.Sprintf("row mode, every source on, %s intervals (ECAs 15m); the fake orgs run in the bench process on the same %d CPUs", interval, runtime.NumCPU())
	add(Result{Name: "Fleet peak RSS, " + label, Value: rss, Unit: "MB", Note: fmt.Sprintf("%.2f MB an org; %s", rss/float64(orgs), note)})
	add(Result{Name: "Fleet goroutines, same", Value: goroutines, Unit: "", Note: fmt.Sprintf("%.1f an org", goroutines/float64(orgs))})
	add(Result{Name: "Fleet CPU per refresh cycle (all orgs), same", Value: cpu.Seconds() / cycles, Unit: "s", Note: fmt.Sprintf("%.1f ms an org per cycle; %.1fs of CPU over %.1f cycles of %s", 1000*cpu.Seconds()/cycles/float64(orgs), cpu.Seconds(), cycles, interval)})
	add(Result{Name: "Fleet first refresh of every org, same", Value: first.Seconds(), Unit: "s"})
	add(Result{Name: fmt.Sprintf("Fleet /metrics p99, 20 scrapers at 1/s (%d series)", series), Value: float64(p99.Microseconds()) / 1000, Unit: "ms", Note: fmt.Sprintf("p50 %.1f ms, %d scrapes", float64(p50.Microseconds())/1000, len(lat))})
}
