package collector

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Handler serves the exposition of two gatherers: the Salesforce data,
// which changes only when a refresher publishes (or the orgs change), and
// the exporter's self metrics (go_*, process_*, request counters, config
// reload status), which change at any time.
//
// The data part is encoded once per data version and per format, however
// many scrapers there are (an HA pair, a federation, people with curl); the
// first scrape after a version change encodes it while concurrent scrapes
// of the same format wait for that one encoding. The self metrics are
// gathered and encoded on every scrape, so every scrape shows both at scrape
// time: nothing older than the latest snapshot, and a failed reload or a
// failing source is reported by the first scrape after it.
type Handler struct {
	data    prometheus.Gatherer
	self    prometheus.Gatherer
	version func() uint64
	logger  *slog.Logger

	mu    sync.Mutex
	cache map[expfmt.Format]*cachedData
}

// cachedData is the data part in one format, encoded for one version.
type cachedData struct {
	mu      sync.Mutex
	ok      bool
	version uint64
	plain   []byte // the encoded exposition
	// deflated is plain compressed and sync-flushed (not final), so a
	// gzip response can continue it with the self metrics.
	deflated []byte
	crc      uint32
}

// NewHandler returns a Handler. version must change whenever data's output does.
func NewHandler(data, self prometheus.Gatherer, version func() uint64, logger *slog.Logger) *Handler {
	return &Handler{data: data, self: self, version: version, logger: logger, cache: map[expfmt.Format]*cachedData{}}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// OpenMetrics needs a trailer per response, so offer protobuf and text.
	format := expfmt.NegotiateAccept(r.Header, expfmt.FmtProtoDelim, expfmt.FmtText)
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	d, err := h.dataPart(format)
	if err != nil {
		http.Error(w, "encode metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	self, err := h.encode(h.self, format)
	if err != nil {
		http.Error(w, "encode metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", string(format))
	w.Header().Set("Vary", "Accept, Accept-Encoding")
	if !gz {
		_, _ = w.Write(d.plain)
		_, _ = w.Write(self)
		return
	}
	body, err := gzipJoin(d, self)
	if err != nil {
		http.Error(w, "compress metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	_, _ = w.Write(body)
}

// dataPart returns the data part for the current version, encoding it if
// the version changed.
func (h *Handler) dataPart(format expfmt.Format) (*cachedData, error) {
	h.mu.Lock()
	c := h.cache[format]
	if c == nil {
		c = &cachedData{}
		h.cache[format] = c
	}
	h.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read the version before gathering: a publish during the encoding
	// leaves the cache one version behind, and the next scrape re-encodes.
	v := h.version()
	if c.ok && c.version == v {
		return &cachedData{plain: c.plain, deflated: c.deflated, crc: c.crc}, nil
	}
	plain, err := h.encode(h.data, format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := zw.Write(plain); err != nil {
		return nil, err
	}
	if err := zw.Flush(); err != nil {
		return nil, err
	}
	c.ok, c.version, c.plain, c.deflated, c.crc = true, v, plain, buf.Bytes(), crc32.ChecksumIEEE(plain)
	return &cachedData{plain: c.plain, deflated: c.deflated, crc: c.crc}, nil
}

// gzipHeader is a gzip member header: deflate, no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// gzipJoin makes one gzip stream of the cached data part followed by self,
// compressing only self: the cached deflate data ends on a sync flush, so
// the self part's deflate blocks can follow it (they refer back to nothing
// before themselves), and the CRC-32 continues over self.
func gzipJoin(d *cachedData, self []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(gzipHeader) + len(d.deflated) + len(self)/4 + 64)
	buf.Write(gzipHeader)
	buf.Write(d.deflated)
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := zw.Write(self); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc32.Update(d.crc, crc32.IEEETable, self))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(len(d.plain)+len(self))) // ISIZE is the length mod 2^32
	buf.Write(trailer[:])
	return buf.Bytes(), nil
}

func (h *Handler) encode(g prometheus.Gatherer, format expfmt.Format) ([]byte, error) {
	mfs, err := g.Gather()
	if err != nil {
		// As promhttp's ContinueOnError: serve what was gathered, log the rest.
		h.logger.Error("Error gathering metrics", "err", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
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
