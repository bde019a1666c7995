package collector

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHandlerCachesAndRefreshes(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x", Help: "x"}, func() float64 { return float64(n.Add(1)) })
	reg.MustRegister(g)
	var version atomic.Uint64
	h := NewHandler(reg, version.Load, time.Hour, quiet)
	get := func(accept, enc string) (string, string) {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Encoding", enc)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		body := w.Body.Bytes()
		if w.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		return string(body), w.Header().Get("Content-Type")
	}
	b1, ct := get("text/plain", "")
	b2, _ := get("text/plain", "")
	if b1 != b2 || !strings.Contains(b1, "x 1") || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("not cached: %q %q %q", b1, b2, ct)
	}
	// A new version is served once the background encoding is done.
	version.Add(1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := get("text/plain", "")
		if strings.Contains(b, "x 2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never refreshed: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// gzip and protobuf are negotiated and cached apart.
	if b, _ := get("text/plain", "gzip"); !strings.Contains(b, "# TYPE x gauge") {
		t.Errorf("gzip body: %q", b)
	}
	if _, ct := get("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", ""); !strings.Contains(ct, "protobuf") {
		t.Errorf("protobuf not negotiated: %q", ct)
	}
}
