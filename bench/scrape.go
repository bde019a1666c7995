package main

// /metrics latency and CPU per scrape under many scrapers.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

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
	e := startExporter(bin, "--config.file="+writeExporterConfig(dir, urls, "5s"), "--storage.path="+filepath.Join(dir, "data"))
	defer e.Kill()
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
	body := waitMetrics(e, func(s string) bool {
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
		cpu0 := procCPU(e.Cmd.Process.Pid)
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
					resp, err := hc.Get(e.Addr + "/metrics")
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
		cpuPerScrape = (procCPU(e.Cmd.Process.Pid) - cpu0) / time.Duration(len(lat))
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
