package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

type handlerFixture struct {
	h         *Handler
	version   atomic.Uint64
	dataCalls atomic.Int64
	selfCalls atomic.Int64
	reloads   *ReloadMetrics
}

func newHandlerFixture(t *testing.T) *handlerFixture {
	t.Helper()
	f := &handlerFixture{}
	data := prometheus.NewRegistry()
	data.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "data_encodings", Help: "x"}, func() float64 { return float64(f.dataCalls.Add(1)) }))
	self := prometheus.NewRegistry()
	self.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "self_gathers", Help: "x"}, func() float64 { return float64(f.selfCalls.Add(1)) }))
	f.reloads = NewReloadMetrics(self)
	f.h = NewHandler(data, self, f.version.Load, quiet)
	return f
}

func (f *handlerFixture) get(t *testing.T, accept, enc string) (body, ctype string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", enc)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	b := w.Body.Bytes()
	if w.Header().Get("Content-Encoding") == "gzip" {
		br := bytes.NewReader(b)
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		// One gzip member, as curl and every client expect, with a good CRC
		// and length (the reader checks both at the end).
		zr.Multistream(false)
		b, err = io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		if err := zr.Reset(br); !errors.Is(err, io.EOF) {
			t.Fatalf("gzip body has more after its first member: %v", err)
		}
	}
	return string(b), w.Header().Get("Content-Type")
}

func TestHandlerCachesDataPerVersionOnly(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	b1, ct := f.get(t, "text/plain", "")
	b2, _ := f.get(t, "text/plain", "")
	if !strings.Contains(b1, "data_encodings 1") || !strings.Contains(b2, "data_encodings 1") || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("data part not cached within a version:\n%s\n%s", b1, b2)
	}
	// Self metrics are gathered at every scrape.
	if !strings.Contains(b1, "self_gathers 1") || !strings.Contains(b2, "self_gathers 2") {
		t.Fatalf("self metrics not fresh at each scrape:\n%s\n%s", b1, b2)
	}
	// A change is encoded at once in the background: the first scrape after
	// that encoding shows it.
	built := make(chan struct{}, 1)
	f.h.built = func() { built <- struct{}{} }
	f.version.Add(1)
	f.h.Changed()
	select {
	case <-built:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed started no encoding")
	}
	if b, _ := f.get(t, "text/plain", ""); !strings.Contains(b, "data_encodings 2") {
		t.Fatalf("first scrape after the new version was encoded is stale:\n%s", b)
	}
	// gzip is the same exposition; protobuf is negotiated and cached apart.
	plain, _ := f.get(t, "text/plain", "")
	zipped, _ := f.get(t, "text/plain", "gzip")
	strip := func(s string) string { // the self counter moves between the two
		var out []string
		for l := range strings.SplitSeq(s, "\n") {
			if !strings.HasPrefix(l, "self_gathers ") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if strip(plain) != strip(zipped) || !strings.Contains(zipped, "# TYPE self_gathers gauge") {
		t.Errorf("gzip body differs from the plain one:\n%s\n---\n%s", zipped, plain)
	}
	if _, ct := f.get(t, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "gzip"); !strings.Contains(ct, "protobuf") {
		t.Errorf("protobuf not negotiated: %q", ct)
	}
	if n := f.dataCalls.Load(); n != 3 {
		t.Errorf("data gathered %d times for two versions in two formats, want 3 (text v0, text v1, protobuf v1)", n)
	}
}

func TestHandlerFirstScrapeAfterFailedReload(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	for _, enc := range []string{"", "gzip"} {
		if b, _ := f.get(t, "text/plain", enc); !strings.Contains(b, "salesforce_exporter_config_last_reload_successful 1") {
			t.Fatalf("before the reload: %s", b)
		}
	}
	f.reloads.Failed() // what main's reload does on a bad config; no data version changes
	for _, enc := range []string{"", "gzip"} {
		if b, _ := f.get(t, "text/plain", enc); !strings.Contains(b, "salesforce_exporter_config_last_reload_successful 0") {
			t.Errorf("first scrape (encoding %q) after a failed reload still reports success:\n%s", enc, b)
		}
	}
}

// TestHandlerSelfGatherStartsAfterScrape: a scrape that arrives while a
// gather of the self metrics runs must not get that gather's result (it may
// have read the reload status before the reload failed): it waits, and the
// scrapes that arrive meanwhile share one gather that starts after them.
func TestHandlerSelfGatherStartsAfterScrape(t *testing.T) {
	t.Parallel()
	f := &handlerFixture{}
	entered, release := make(chan struct{}), make(chan struct{})
	self := prometheus.NewRegistry()
	self.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "self_gathers", Help: "x"}, func() float64 {
		n := f.selfCalls.Add(1)
		if n == 1 {
			close(entered)
			<-release
		}
		return float64(n)
	}))
	f.reloads = NewReloadMetrics(self)
	f.h = NewHandler(prometheus.NewRegistry(), self, f.version.Load, quiet)
	queued := make(chan struct{}, 2)
	f.h.queued = func() { queued <- struct{}{} }

	first := make(chan string)
	go func() { b, _ := f.get(t, "text/plain", ""); first <- b }()
	<-entered // the first gather is under way, and may have read the status already
	f.reloads.Failed()
	later := make(chan string, 2)
	for _, enc := range []string{"", "gzip"} {
		go func() { b, _ := f.get(t, "text/plain", enc); later <- b }()
	}
	<-queued
	<-queued // both wait for a gather that has not started
	close(release)
	<-first
	for range 2 {
		b := <-later
		if !strings.Contains(b, "salesforce_exporter_config_last_reload_successful 0") {
			t.Errorf("a scrape that arrived after the failed reload reports success:\n%s", b)
		}
		if !strings.Contains(b, "self_gathers 2\n") {
			t.Errorf("the two scrapes that waited did not share the second gather:\n%s", b)
		}
	}
	if n := f.selfCalls.Load(); n != 2 {
		t.Errorf("self metrics gathered %d times for three scrapes (one, then two waiting), want 2", n)
	}
	// With nothing running, a scrape gathers at once.
	if b, _ := f.get(t, "text/plain", ""); !strings.Contains(b, "self_gathers 3\n") {
		t.Errorf("a scrape with no gather running did not gather:\n%s", b)
	}
}

// TestHandlerFirstScrapeAfterSourceFailure: a source failing moves the
// snapshot version; the first scrape after the new version is encoded
// reports the failure, in every format.
func TestHandlerFirstScrapeAfterSourceFailure(t *testing.T) {
	t.Parallel()
	snap := testSnapshot()
	snap.Sources = map[string]snapshot.SourceStatus{"oauth_tokens": {Enabled: true, Up: true, LastSuccess: snap.Taken, Interval: time.Minute}}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	var version atomic.Uint64
	data := prometheus.NewRegistry()
	data.MustRegister(New(snapshotFunc(func() []*snapshot.Snapshot { return []*snapshot.Snapshot{current.Load()} })))
	h := NewHandler(data, prometheus.NewRegistry(), version.Load, quiet)
	built := make(chan struct{}, 4)
	h.built = func() { built <- struct{}{} }
	scrape := func(accept, enc string) []*dto.MetricFamily {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Encoding", enc)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return parseExposition(t, w.Result())
	}
	sourceUp := func(mfs []*dto.MetricFamily) float64 {
		for _, mf := range mfs {
			if mf.GetName() == "salesforce_source_up" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no salesforce_source_up")
		return 0
	}
	formats := []string{"text/plain", protoAccept}
	for _, a := range formats {
		if v := sourceUp(scrape(a, "gzip")); v != 1 {
			t.Fatalf("%s: salesforce_source_up = %v before the failure", a, v)
		}
	}
	failed := *snap
	failed.Sources = map[string]snapshot.SourceStatus{"oauth_tokens": {Enabled: true, Up: false, LastSuccess: snap.Taken, Interval: time.Minute, LastError: "HTTP 500"}}
	current.Store(&failed)
	version.Add(1) // what a publish does
	h.Changed()
	for range formats {
		select {
		case <-built:
		case <-time.After(10 * time.Second):
			t.Fatal("Changed started no encoding")
		}
	}
	for _, a := range formats {
		for _, enc := range []string{"", "gzip"} {
			if v := sourceUp(scrape(a, enc)); v != 0 {
				t.Errorf("%s, encoding %q: first scrape after the source failed: salesforce_source_up = %v, want 0", a, enc, v)
			}
		}
	}
}

type snapshotFunc func() []*snapshot.Snapshot

func (f snapshotFunc) Snapshots() []*snapshot.Snapshot { return f() }

const protoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

// parseExposition decodes a response body (gzip or not, any format the
// handler serves) with expfmt.
func parseExposition(t *testing.T, resp *http.Response) []*dto.MetricFamily {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	}
	dec := expfmt.NewDecoder(body, expfmt.Format(resp.Header.Get("Content-Type")))
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode %s: %v", resp.Header.Get("Content-Type"), err)
		}
		out = append(out, mf)
	}
}

// seriesOf is every sample of mfs as a line (name, labels, value) plus each
// family's HELP and TYPE, sorted: what a scraper stores, whatever the format.
func seriesOf(t *testing.T, mfs []*dto.MetricFamily) []string {
	t.Helper()
	var out []string
	for _, mf := range mfs {
		out = append(out, fmt.Sprintf("# %s %s %q", mf.GetName(), mf.GetType(), mf.GetHelp()))
	}
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{}, mfs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		out = append(out, s.Metric.String()+" "+s.Value.String())
	}
	slices.Sort(out)
	return out
}

// TestHandlerMatchesUncachedGather: every format and encoding the handler
// negotiates, GET and HEAD, serves the same series as one uncached gather
// of both registries.
func TestHandlerMatchesUncachedGather(t *testing.T) {
	t.Parallel()
	data := prometheus.NewRegistry()
	data.MustRegister(New(bigSnapshots(2, 30)))
	self := prometheus.NewRegistry()
	NewReloadMetrics(self).Failed()
	m := NewRequestMetrics(self)
	for o := range 2 {
		m.ForOrg(fmt.Sprintf("org%d", o))
	}
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "self_latency_seconds", Help: "A histogram, with \"quotes\" and a \\ in its help.", Buckets: []float64{0.1, 1}}, []string{"path"})
	hist.WithLabelValues("/metrics").Observe(0.5)
	hist.WithLabelValues(`a "quoted" \ path`).Observe(2)
	self.MustRegister(hist)
	want, err := prometheus.Gatherers{data, self}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	wantSeries := seriesOf(t, want)
	h := NewHandler(data, self, func() uint64 { return 1 }, quiet)
	for _, c := range []struct{ accept, ctype string }{
		{"", "text/plain"},
		{"text/plain", "text/plain"},
		{"text/plain;version=0.0.4", "text/plain"},
		{"application/openmetrics-text;version=1.0.0,text/plain;q=0.5", "text/plain"}, // OpenMetrics is not offered
		{protoAccept, "application/vnd.google.protobuf"},
		{protoAccept + ";q=0.9,text/plain;q=0.1", "application/vnd.google.protobuf"},
		{"*/*", "text/plain"},
	} {
		for _, enc := range []string{"", "identity", "gzip", "gzip, deflate, br", "gzip;q=0"} {
			for _, method := range []string{"GET", "HEAD"} {
				req := httptest.NewRequest(method, "/metrics", nil)
				req.Header.Set("Accept", c.accept)
				req.Header.Set("Accept-Encoding", enc)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				resp := w.Result()
				name := fmt.Sprintf("%s Accept %q, Accept-Encoding %q", method, c.accept, enc)
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
					t.Errorf("%s: Content-Type %q, want %s", name, ct, c.ctype)
				}
				gz := strings.HasPrefix(enc, "gzip") && !strings.Contains(enc, "q=0")
				if got := resp.Header.Get("Content-Encoding") == "gzip"; got != gz {
					t.Errorf("%s: gzip %v, want %v", name, got, gz)
				}
				if method == "HEAD" {
					// The headers a GET gets, the length included, and no body.
					get := httptest.NewRequest("GET", "/metrics", nil)
					get.Header = req.Header
					gw := httptest.NewRecorder()
					h.ServeHTTP(gw, get)
					if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(gw.Body.Len()) || w.Body.Len() != 0 {
						t.Errorf("%s: Content-Length %q, body %d bytes; the GET's body is %d bytes", name, cl, w.Body.Len(), gw.Body.Len())
					}
					continue
				}
				if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
					t.Errorf("%s: Content-Length %q, body %d bytes", name, cl, w.Body.Len())
				}
				if got := seriesOf(t, parseExposition(t, resp)); !slices.Equal(got, wantSeries) {
					t.Errorf("%s: series differ from an uncached gather: got %d lines, want %d\n%s", name, len(got), len(wantSeries), firstDiff(got, wantSeries))
				}
			}
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at line %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}
