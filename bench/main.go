// Command bench measures the exporter against the fake org over loopback
// HTTP with 50 ms of latency per request, next to the baselines users would
// otherwise have, and prints a table and writes it as JSON.
//
//	go run ./bench [-out bench/out/results.json] [-quick]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/e2eharness"
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
	if len(os.Args) > 1 && os.Args[1] == "child-stream" {
		childStream(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "child-") {
		child(os.Args[1], os.Args[2:])
		return
	}
	out := flag.String("out", "bench/out/results.json", "where to write the results as JSON")
	quick := flag.Bool("quick", false, "smaller scales (for a smoke run)")
	exporterBin := flag.String("exporter", "", "the exporter binary (default: build it)")
	only := flag.String("only", "", "run only these measures, comma-separated: fullsync, steady, restart, rss, ingest, scrape, fleet, stream, streampage (only when named: it runs the e2e stack, with prometheus and alertmanager)")
	scaleList := flag.String("scales", "", "the token counts of the fullsync measure, comma-separated (default 300000,1000000; -quick 30000,100000); steady, restart and rss use the last")
	streamPagePhases := flag.String("streampage.phases", "0s,5s,10s", "the streampage measure's runs: each starts its replay that long after an evaluation (15 s cycle)")
	streamRate := flag.Int("stream.rate", 2000, "the stream measure's events per second")
	streamFor := flag.Duration("stream.duration", 10*time.Minute, "how long the stream measure publishes at -stream.rate")
	flag.Parse()
	want := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	scales := []int{300_000, 1_000_000}
	ingestMB := 1024
	if *quick {
		scales, ingestMB = []int{30_000, 100_000}, 64
	}
	if *scaleList != "" {
		scales = nil
		for _, f := range strings.Split(*scaleList, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				fatal("-scales: %q is not a token count", f)
			}
			scales = append(scales, n)
		}
	}
	tmp, _ := os.MkdirTemp("", "sfoe-bench-")
	defer os.RemoveAll(tmp)
	if *exporterBin == "" {
		bin, err := e2eharness.Build(tmp, false)
		if err != nil {
			fatal("%v", err)
		}
		*exporterBin = bin
	}
	fmt.Fprintf(os.Stderr, "machine: %s, %d CPUs, %s; latency %s per request\n", runtime.GOARCH, runtime.NumCPU(), runtime.Version(), latency)
	if want("fullsync") {
		for _, n := range scales {
			fullSync(n)
		}
		skewedSync(scales[0])
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
	if want("stream") {
		streamIngest(*streamRate, *streamFor, tmp)
	}
	if *only != "" && want("streampage") {
		var phases []time.Duration
		for _, p := range strings.Split(*streamPagePhases, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(p))
			if err != nil || d < 0 || d > time.Minute {
				fatal("-streampage.phases: %q is not a duration from 0s to 1m", p)
			}
			phases = append(phases, d)
		}
		streamPage(phases)
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
