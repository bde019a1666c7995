package collector

import (
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func bigSnapshots(orgs, apps int) stubSource {
	var out stubSource
	t0 := time.Unix(1_780_000_000, 0)
	for o := range orgs {
		s := &snapshot.Snapshot{Org: fmt.Sprintf("org%d", o), Taken: t0, HasTokenTotals: true, HasLimits: true, DailyAPIMax: 1, APIUsageEnd: t0, Sources: map[string]snapshot.SourceStatus{"oauth_tokens": {Enabled: true, Up: true, LastSuccess: t0, Interval: time.Minute}}}
		for a := range apps {
			s.Apps = append(s.Apps, snapshot.AppUsage{Name: fmt.Sprintf("App %03d", a), ID: fmt.Sprintf("0H4%015d", a), Kind: snapshot.KindConnectedApp, Installed: true, HasTokens: true, FirstSeen: t0, HasSessions: true, HasAPIUsage: true, HasLogins: true, TokenStats: salesforce.TokenStats{Tokens: 10, Users: 9, LastUsed: t0, FirstAuthorized: t0}})
		}
		out = append(out, s)
	}
	return out
}

// BenchmarkCollect gathers 5 orgs x 200 apps through the registry.
func BenchmarkCollect(b *testing.B) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(bigSnapshots(5, 200)))
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrapeCached is a scrape served from the cached exposition.
func BenchmarkScrapeCached(b *testing.B) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(bigSnapshots(5, 200)))
	h := NewHandler(reg, prometheus.NewRegistry(), func() uint64 { return 1 }, quiet)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		_, _ = io.Copy(io.Discard, w.Body)
	}
}

// BenchmarkScrapeSelf is the per-scrape part of a scrape: the self
// registry, gathered and encoded, and joined to a cached data part with gzip.
func BenchmarkScrapeSelf(b *testing.B) {
	data := prometheus.NewRegistry()
	data.MustRegister(New(bigSnapshots(5, 200)))
	self := NewSelfRegistry("bench")
	m := NewRequestMetrics(self)
	for o := range 5 {
		m.ForOrg(fmt.Sprintf("org%d", o))
	}
	NewReloadMetrics(self)
	h := NewHandler(data, self, func() uint64 { return 1 }, quiet)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		_, _ = io.Copy(io.Discard, w.Body)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that a
// benchmark measures the handler, not a recorder copying the body.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkScrapeParallel is 50 scrapers back to back on one handler, as the
// saturated scrape measure of `make bench` but without the network: 5 orgs x
// 200 apps, the real self registry (Go and process collectors), gzip.
func BenchmarkScrapeParallel(b *testing.B) {
	data := prometheus.NewRegistry()
	data.MustRegister(New(bigSnapshots(5, 200)))
	self := NewSelfRegistry("bench")
	m := NewRequestMetrics(self)
	for o := range 5 {
		m.ForOrg(fmt.Sprintf("org%d", o))
	}
	NewReloadMetrics(self)
	h := NewHandler(data, self, func() uint64 { return 1 }, quiet)
	b.SetParallelism(25) // 50 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		for pb.Next() {
			h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
		}
	})
}
