package collector

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/promhttp/zstd" // promhttp offers zstd only with this
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// prometheusAccept is the Accept header of a Prometheus 3 scrape with its
// default scrape_protocols (OpenMetrics first, then the text format).
const prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

// handlerBenchSizes are the benchmark's exposition sizes: 40k series (about
// 10 orgs of 250 apps) and 170k (20 orgs of 530 apps).
var handlerBenchSizes = []struct {
	name       string
	orgs, apps int
}{{"40k", 10, 248}, {"170k", 20, 527}}

// benchHandlers returns, over the same two registries, the exporter's
// Handler (the data part encoded once per snapshot version) and what it
// would be replaced by: promhttp.HandlerForTransactional over both
// registries, with OpenMetrics and zstd offered as client_golang allows.
func benchHandlers(orgs, apps int) (series int, handlers []struct {
	name string
	h    http.Handler
},
) {
	data := prometheus.NewRegistry()
	data.MustRegister(New(bigSnapshots(orgs, apps)))
	self := NewSelfRegistry("bench")
	m := NewRequestMetrics(self)
	for o := range orgs {
		m.ForOrg(fmt.Sprintf("org%d", o))
	}
	NewReloadMetrics(self)
	mfs, _ := data.Gather()
	for _, mf := range mfs {
		series += len(mf.Metric)
	}
	handlers = []struct {
		name string
		h    http.Handler
	}{
		{"custom", NewHandler(data, self, func() uint64 { return 1 }, quiet)},
		{"promhttp", promhttp.HandlerForTransactional(prometheus.ToTransactionalGatherer(prometheus.Gatherers{data, self}), promhttp.HandlerOpts{
			ErrorHandling:       promhttp.ContinueOnError,
			EnableOpenMetrics:   true,
			OfferedCompressions: []promhttp.Compression{promhttp.Identity, promhttp.Gzip, promhttp.Zstd},
		})},
	}
	return series, handlers
}

// BenchmarkHandler compares the two /metrics handlers in one run, at 40k
// and 170k series, with the scrape Prometheus sends (its Accept header,
// gzip): per scrape, p50 and p99 in milliseconds and the allocations. The
// data does not change between scrapes, as between two refreshes (a
// refresh every 5 minutes or more, a scrape every 60 seconds); custom-publish
// is what the custom handler pays instead, once per change of the data, in
// the background. Before the timing, each handler's answer is decoded and
// must hold every data series.
//
//	go test -run x -bench Handler -benchtime 60x ./collector/
//
// The README's Performance section has the figures.
func BenchmarkHandler(b *testing.B) {
	for _, size := range handlerBenchSizes {
		series, handlers := benchHandlers(size.orgs, size.apps)
		// What the custom handler pays once per publish instead of per
		// scrape, in the background: a gather and an encoding of the data
		// part, plain and deflated.
		b.Run(size.name+"/custom-publish", func(b *testing.B) {
			h := handlers[0].h.(*Handler)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.encodeData(expfmt.FmtText); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, h := range handlers {
			b.Run(size.name+"/"+h.name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept", prometheusAccept)
				req.Header.Set("Accept-Encoding", "gzip")
				checkBenchScrape(b, h.h, req, series)
				durations := make([]time.Duration, 0, 1024)
				b.ReportAllocs()
				for b.Loop() {
					start := time.Now()
					h.h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
					durations = append(durations, time.Since(start))
				}
				slices.Sort(durations)
				pct := func(p float64) float64 {
					return float64(durations[int(p*float64(len(durations)-1))]) / float64(time.Millisecond)
				}
				b.ReportMetric(pct(0.50), "p50-ms")
				b.ReportMetric(pct(0.99), "p99-ms")
				b.ReportMetric(float64(series), "series")
			})
		}
	}
}

// checkBenchScrape scrapes h once and checks the answer: gzip, and at least
// the data's series in the format the handler chose.
func checkBenchScrape(b *testing.B, h http.Handler, req *http.Request, series int) {
	b.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	resp := w.Result()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		b.Fatalf("status %d, Content-Encoding %q: want 200, gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() == expfmt.TypeProtoDelim {
		dec := expfmt.NewDecoder(zr, format)
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				break
			}
			n += len(mf.Metric)
		}
	} else {
		// Text or OpenMetrics: a line per sample, at least one per series.
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		if err := sc.Err(); err != nil {
			b.Fatal(err)
		}
	}
	if n < series {
		b.Fatalf("%d series decoded (%s), want at least the data's %d", n, resp.Header.Get("Content-Type"), series)
	}
}
