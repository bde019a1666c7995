package main

// One exporter over many small orgs, to size replicas by.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

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
	// From the start of the process, as the first refresh begins then.
	start := time.Now()
	e := startExporter(bin, "--config.file="+writeExporterConfig(dir, urls, interval.String()), "--storage.path="+filepath.Join(dir, "data"))
	defer e.Kill()
	waitMetrics(e, func(s string) bool {
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
	cpu0, t0 := procCPU(e.Cmd.Process.Pid), time.Now()
	time.Sleep(3 * interval)
	cpu := procCPU(e.Cmd.Process.Pid) - cpu0
	cycles := time.Since(t0).Seconds() / interval.Seconds()
	body := waitMetrics(e, func(string) bool { return true }, time.Minute)
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
				resp, err := hc.Get(e.Addr + "/metrics")
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
	rss := vmHWM(e.Cmd.Process.Pid)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	label := fmt.Sprintf("%d orgs x %d tokens x %d apps, one process", orgs, tokens, apps)
	note := fmt.Sprintf("row mode, every source on, %s intervals (ECAs 15m); the fake orgs run in the bench process on the same %d CPUs", interval, runtime.NumCPU())
	add(Result{Name: "Fleet peak RSS, " + label, Value: rss, Unit: "MB", Note: fmt.Sprintf("%.2f MB an org; %s", rss/float64(orgs), note)})
	add(Result{Name: "Fleet goroutines, same", Value: goroutines, Unit: "", Note: fmt.Sprintf("%.1f an org", goroutines/float64(orgs))})
	add(Result{Name: "Fleet CPU per refresh cycle (all orgs), same", Value: cpu.Seconds() / cycles, Unit: "s", Note: fmt.Sprintf("%.1f ms an org per cycle; %.1fs of CPU over %.1f cycles of %s", 1000*cpu.Seconds()/cycles/float64(orgs), cpu.Seconds(), cycles, interval)})
	add(Result{Name: "Fleet first refresh of every org, same", Value: first.Seconds(), Unit: "s"})
	add(Result{Name: fmt.Sprintf("Fleet /metrics p99, 20 scrapers at 1/s (%d series)", series), Value: float64(p99.Microseconds()) / 1000, Unit: "ms", Note: fmt.Sprintf("p50 %.1f ms, %d scrapes", float64(p50.Microseconds())/1000, len(lat))})
}
