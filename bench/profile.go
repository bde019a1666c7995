package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"time"
)

// Profiling of the full sync measure (-only fullsync): where its time goes.
var (
	cpuProfile   = flag.String("cpuprofile", "", "write a CPU profile of the full sync (ours, not the baseline) to this file (each scale's sync rewrites it: the last one run is kept); the fake org runs in the same process, so its CPU shows under salesforce/sftest")
	traceFile    = flag.String("trace", "", "write a runtime trace of the full sync to this file (go tool trace; the last scale's is kept)")
	requestsFile = flag.String("requests", "", "write every request the fake org served during the full sync to this CSV file (start and end in ms from the sync's start, kind, cursor, CreatedDate bounds; the last scale's is kept) and print a summary of where the time went")
	noBaselines  = flag.Bool("no-baselines", false, "skip the baselines' runs (the sequential keyset pager): for profiling")
)

// reqRecord is one request the fake served.
type reqRecord struct {
	start, end time.Duration
	kind       string // count, first, next, other
	cursor     string // the query locator of a next page
	bounds     string // the CreatedDate bounds of a first page
}

type reqRecorder struct {
	mu   sync.Mutex
	on   bool
	t0   time.Time
	recs []reqRecord
}

var recorder reqRecorder

var (
	nextPageRE = regexp.MustCompile(`/query/([^/-]+)-(\d+)$`)
	boundsRE   = regexp.MustCompile(`CreatedDate >= ([0-9T:.\-Z]+) AND CreatedDate < ([0-9T:.\-Z]+)`)
)

// recordRequests wraps the fake's handler to record its requests while the
// recorder is on.
func recordRequests(h http.Handler) http.Handler {
	if *requestsFile == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recorder.mu.Lock()
		on, t0 := recorder.on, recorder.t0
		recorder.mu.Unlock()
		if !on {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Since(t0)
		h.ServeHTTP(w, r)
		rec := reqRecord{start: start, end: time.Since(t0), kind: "other"}
		q := r.URL.Query().Get("q")
		switch {
		case nextPageRE.MatchString(r.URL.Path):
			rec.kind, rec.cursor = "next", nextPageRE.FindStringSubmatch(r.URL.Path)[1]
		case strings.Contains(q, "COUNT()"):
			rec.kind = "count"
		case strings.Contains(q, "LIMIT 1"):
			rec.kind = "oldest"
		case q != "":
			rec.kind = "first"
			if m := boundsRE.FindStringSubmatch(q); m != nil {
				rec.bounds = m[1] + " " + m[2]
			}
		}
		recorder.mu.Lock()
		recorder.recs = append(recorder.recs, rec)
		recorder.mu.Unlock()
	})
}

// startProfiles starts the profiles asked for; the returned func stops them
// and writes the request log and its summary.
func startProfiles(label string, slots int) func() {
	var stops []func()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatal("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal("%v", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fatal("%v", err)
		}
		if err := trace.Start(f); err != nil {
			fatal("%v", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	recorder.mu.Lock()
	recorder.on, recorder.t0, recorder.recs = *requestsFile != "", time.Now(), nil
	recorder.mu.Unlock()
	start := time.Now()
	return func() {
		wall := time.Since(start)
		for _, s := range stops {
			s()
		}
		recorder.mu.Lock()
		recs := recorder.recs
		recorder.on = false
		recorder.mu.Unlock()
		if *requestsFile != "" {
			writeRequests(recs, label)
			summarize(recs, wall, slots)
		}
	}
}

func writeRequests(recs []reqRecord, label string) {
	f, err := os.Create(*requestsFile)
	if err != nil {
		fatal("%v", err)
	}
	defer f.Close()
	fmt.Fprintf(f, "# %s\nstart_ms,end_ms,kind,cursor,bounds\n", label)
	for _, r := range recs {
		fmt.Fprintf(f, "%.1f,%.1f,%s,%s,%s\n", ms(r.start), ms(r.end), r.kind, r.cursor, r.bounds)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize prints where a full sync's wall time went, from the fake's side:
// requests in flight over time against the workers, the requests before the
// first row page, the time the fake spent per request beyond its fixed
// latency, and the client's time between two pages of one cursor. workers
// is how many requests may be in flight (the client's open cursors).
func summarize(recs []reqRecord, wall time.Duration, workers int) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].start < recs[j].start })
	kinds := map[string]int{}
	var firstPage time.Duration = -1
	var served, beyond time.Duration
	for _, r := range recs {
		kinds[r.kind]++
		if (r.kind == "first" || r.kind == "next") && firstPage < 0 {
			firstPage = r.start
		}
		served += r.end - r.start
		if d := r.end - r.start - latency; d > 0 {
			beyond += d
		}
	}
	// Requests in flight, sampled each millisecond.
	n := int(wall/time.Millisecond) + 1
	inflight := make([]int, n+1)
	for _, r := range recs {
		a, b := int(r.start/time.Millisecond), int(r.end/time.Millisecond)
		for t := a; t < b && t < n; t++ {
			inflight[t]++
		}
	}
	hist := map[int]int{}
	for _, v := range inflight[:n] {
		hist[min(v, workers)]++
	}
	// The tail: from the last moment all workers were busy to the end.
	lastFull := 0
	for t, v := range inflight[:n] {
		if v >= workers {
			lastFull = t
		}
	}
	// Gaps between two pages of one cursor: the client's decode and hand-off.
	prevEnd := map[string]time.Duration{}
	var gaps []time.Duration
	for _, r := range recs {
		if r.kind != "next" {
			continue
		}
		if e, ok := prevEnd[r.cursor]; ok {
			gaps = append(gaps, r.start-e)
		}
		prevEnd[r.cursor] = r.end
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	pct := func(p float64) time.Duration {
		if len(gaps) == 0 {
			return 0
		}
		return gaps[int(p*float64(len(gaps)-1))]
	}
	ideal := time.Duration(kinds["first"]+kinds["next"]) * latency / time.Duration(workers)
	fmt.Fprintf(os.Stderr, "  requests: %v; wall %.2f s; %d pages x %v / %d cursors = %.2f s at best\n", kinds, wall.Seconds(), kinds["first"]+kinds["next"], latency, workers, ideal.Seconds())
	fmt.Fprintf(os.Stderr, "  before the first row page: %.0f ms (COUNT(), oldest token, in series)\n", ms(firstPage))
	fmt.Fprintf(os.Stderr, "  time with k requests in flight (k of %d):", workers)
	for k := 0; k <= workers; k++ {
		fmt.Fprintf(os.Stderr, " %d:%.0f%%", k, 100*float64(hist[k])/float64(n))
	}
	fmt.Fprintln(os.Stderr)
	fmt.Fprintf(os.Stderr, "  tail after the last moment all %d were busy: %.0f ms\n", workers, float64(n-lastFull))
	fmt.Fprintf(os.Stderr, "  fake's time per request beyond its %v latency: mean %.1f ms (total %.1f s of %.1f s served)\n", latency, ms(beyond)/float64(max(len(recs), 1)), beyond.Seconds(), served.Seconds())
	fmt.Fprintf(os.Stderr, "  client's gap between two pages of a cursor: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%d gaps)\n", ms(pct(0.5)), ms(pct(0.9)), ms(pct(0.99)), ms(pct(1)), len(gaps))
}
