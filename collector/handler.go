package collector

import (
	"bytes"
	"compress/gzip"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Handler serves the exposition of a Gatherer, encoded at most once per
// snapshot change and per MaxAge for each format and encoding. The data
// changes only when a refresher publishes, so many scrapers (an HA pair, a
// federation, people with curl) cost one encoding, not one each. A stale
// body is still served while a fresh one is encoded in the background, so
// the data a scrape sees is at most one encoding behind the latest snapshot,
// and self metrics (go_*, process_*, request counters) at most MaxAge old.
type Handler struct {
	gatherer prometheus.Gatherer
	version  func() uint64
	maxAge   time.Duration
	logger   *slog.Logger

	mu    sync.Mutex
	cache map[string]*cachedBody
}

type cachedBody struct {
	mu       sync.Mutex
	body     []byte
	ctype    string
	version  uint64
	at       time.Time
	building bool
}

// NewHandler returns a Handler. version must change whenever the data does.
func NewHandler(g prometheus.Gatherer, version func() uint64, maxAge time.Duration, logger *slog.Logger) *Handler {
	return &Handler{gatherer: g, version: version, maxAge: maxAge, logger: logger, cache: map[string]*cachedBody{}}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// OpenMetrics needs a trailer per response, so offer protobuf and text.
	format := expfmt.NegotiateAccept(r.Header, expfmt.FmtProtoDelim, expfmt.FmtText)
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	key := string(format)
	if gz {
		key += "|gzip"
	}
	h.mu.Lock()
	c := h.cache[key]
	if c == nil {
		c = &cachedBody{}
		h.cache[key] = c
	}
	h.mu.Unlock()

	c.mu.Lock()
	v := h.version()
	stale := c.body == nil || c.version != v || time.Since(c.at) > h.maxAge
	switch {
	case c.body == nil:
		// Nothing to serve yet: build it now.
		body, err := h.encode(format, gz)
		if err != nil {
			c.mu.Unlock()
			http.Error(w, "encode metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		c.body, c.ctype, c.version, c.at = body, string(format), v, time.Now()
	case stale && !c.building:
		// Serve the current body and rebuild in the background, so a scrape
		// never waits for an encoding (stale-while-revalidate).
		c.building = true
		go func() {
			body, err := h.encode(format, gz)
			c.mu.Lock()
			defer c.mu.Unlock()
			c.building = false
			if err == nil {
				c.body, c.version, c.at = body, v, time.Now()
			}
		}()
	}
	body, ctype := c.body, c.ctype
	c.mu.Unlock()

	w.Header().Set("Content-Type", ctype)
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Vary", "Accept, Accept-Encoding")
	_, _ = w.Write(body)
}

func (h *Handler) encode(format expfmt.Format, gz bool) ([]byte, error) {
	mfs, err := h.gatherer.Gather()
	if err != nil {
		// As promhttp's ContinueOnError: serve what was gathered, log the rest.
		h.logger.Error("Error gathering metrics", "err", err)
	}
	var buf bytes.Buffer
	var out interface {
		Write([]byte) (int, error)
	} = &buf
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		out = zw
	}
	enc := expfmt.NewEncoder(out, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
