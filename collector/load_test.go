package collector

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestScrapeLoad runs 50 concurrent scrapers for LOAD_SECONDS (60 by
// default; 5 with -short) against the real handler while every source
// refreshes each second, and records the latency. It asserts no errors and
// no empty scrapes; the race detector (make test) watches the rest.
func TestScrapeLoad(t *testing.T) {
	t.Parallel()
	seconds := 60
	if testing.Short() {
		seconds = 5
	}
	if s, err := strconv.Atoi(os.Getenv("LOAD_SECONDS")); err == nil {
		seconds = s
	}
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 5000, Apps: 200, Users: 1000, Seed: 4})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	o := testOrgConfig(t, ts.URL)
	o.RefreshInterval = config.Duration(time.Second)
	for _, s := range config.Sources {
		o.Sources[s] = config.SourceConfig{Interval: config.Duration(time.Second)}
	}
	o.APIBudgetPercent = 100
	reg := prometheus.NewRegistry()
	self := prometheus.NewRegistry()
	mgr := refresh.NewManager(t.TempDir(), quiet, NewRequestMetrics(self).ForOrg)
	ctx, cancel := context.WithCancel(t.Context())
	defer func() { cancel(); mgr.Wait() }()
	if err := mgr.Start(ctx, &config.Config{StaleAfter: config.Duration(staleAfter), Orgs: []config.Org{o}}); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(New(mgr))
	web := httptest.NewServer(NewHandler(reg, self, mgr.Version, quiet))
	defer web.Close()
	// Churn keeps the refreshes busy.
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			org.Churn(20, 2, uint64(i))
			time.Sleep(200 * time.Millisecond)
		}
	}()
	for mgr.Snapshots() == nil || len(mgr.Snapshots()) == 0 || !mgr.Snapshots()[0].Up() {
		time.Sleep(50 * time.Millisecond)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute} // a hang guard: a slow scrape on a loaded machine is not an error
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	stop := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				start := time.Now()
				resp, err := client.Get(web.URL)
				var n int64
				if err == nil {
					n, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n < 10000 {
						err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
					}
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d scrapes failed, first: %v", len(errs), len(lat), errs[0])
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	report := fmt.Sprintf("scrapes=%d seconds=%d p50=%s p99=%s max=%s refresh_requests=%d", len(lat), seconds, p(0.5), p(0.99), lat[len(lat)-1], srv.APICalls())
	t.Log(report)
	if f := os.Getenv("LOAD_REPORT"); f != "" {
		_ = os.WriteFile(f, []byte(report+"\n"), 0o644)
	}
}
