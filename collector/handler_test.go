package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
