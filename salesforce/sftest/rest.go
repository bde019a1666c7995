package sftest

import (
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, version string, gz bool) {
	soql := r.URL.Query().Get("q")
	q, err := parseSOQL(soql)
	if err != nil {
		writeSOQLError(w, err)
		return
	}
	q.version = version
	var c *compiled
	var res *result
	err = s.org.readLocked(func() (err error) {
		if c, err = compile(s.org, q); err == nil {
			res, err = c.run(s.org)
		}
		return err
	})
	if err != nil {
		writeSOQLError(w, err)
		return
	}
	if res.c.agg && s.aggregateQuirk(w, res) {
		return
	}
	batch := 2000
	if opt := r.Header.Get("Sforce-Query-Options"); opt != "" {
		if n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(opt), "batchSize=")); err == nil {
			batch = min(max(n, 200), 2000)
		}
	}
	if c.d.pageSize > 0 {
		batch = c.d.pageSize
	}
	cur := &cursor{res: res, batch: batch, version: version}
	s.page(w, cur, "", gz)
}

func writeSOQLError(w http.ResponseWriter, err error) {
	if se, ok := err.(*soqlError); ok {
		writeError(w, http.StatusBadRequest, se.code, se.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred: "+err.Error())
}

// readLocked runs f with the org's read lock, which it always releases: a
// panic in f (a bug of the fake, or rows added around Add's checks) becomes
// an error, answered as Salesforce answers its own faults (500
// UNKNOWN_EXCEPTION), and the org stays usable.
func (o *Org) readLocked(f func() error) (err error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sftest: internal error: %v", p)
		}
	}()
	return f()
}

func (s *Server) handleMore(w http.ResponseWriter, r *http.Request, locator string, gz bool) {
	id, off, _ := strings.Cut(locator, "-")
	s.mu.Lock()
	cur := s.cursors[id]
	if cur != nil && s.releaseNext.Load() > 0 && s.releaseNext.Add(-1) >= 0 {
		delete(s.cursors, id) // released (ReleaseCursors)
		s.cursorsReleased.Add(1)
		cur = nil
	}
	valid := cur != nil && off == strconv.Itoa(cur.offset)
	s.mu.Unlock()
	if !valid {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	if s.pastCap(cur) {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.page(w, cur, id, gz)
}

// page writes the next page of a cursor and registers or drops its locator.
func (s *Server) page(w http.ResponseWriter, cur *cursor, id string, gz bool) {
	res := cur.res
	total := res.total
	avail := len(res.rows) + len(res.aggs)
	limit := avail
	if capRows := res.c.d.cursorCap; capRows > 0 && limit > capRows {
		limit = capRows
		if s.org.Behavior.CappedTotalSize {
			total = capRows
		}
	}
	if res.c.agg {
		// Aggregate results come in one batch: no query locator.
		cur.batch = max(cur.batch, maxAggregateRows)
	}
	s.mu.Lock()
	start := cur.offset
	end := min(start+cur.batch, limit)
	done := end >= limit
	if done && limit < avail && s.capNextPageError.Load() {
		done = false // the cap ends with a next page that fails (see CapWithFailingNextPage)
	}
	if done && !res.c.agg && s.endlessCursors.Load() {
		done = false // and the next page is empty and not done either (EndlessCursors)
	}
	cur.offset, cur.used = end, time.Now()
	if !done && id == "" {
		s.nextCur++
		id = fmt.Sprintf("01g5j%010d", s.nextCur)
		s.cursors[id] = cur
		s.gcCursors()
		s.releaseOldestCursors()
	} else if done && id != "" {
		delete(s.cursors, id)
	}
	s.mu.Unlock()
	b := make([]byte, 0, 256*(end-start)+64)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, done)
	if !done {
		b = append(b, `,"nextRecordsUrl":"/services/data/v`...)
		b = append(b, cur.version...)
		b = append(b, "/query/"...)
		b = append(b, id...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(end), 10)
		b = append(b, '"')
	}
	b = append(b, `,"records":[`...)
	if err := s.org.readLocked(func() error {
		for i := start; i < end; i++ {
			if i > start {
				b = append(b, ',')
			}
			if res.c.agg {
				b = append(b, res.aggs[i]...)
			} else {
				b = res.c.renderRecord(s.org, b, int(res.rows[i]), cur.version)
			}
		}
		return nil
	}); err != nil {
		writeSOQLError(w, err)
		return
	}
	b = append(b, "]}"...)
	body(w, gz, b)
}

// gcCursors drops locators idle for 15 minutes, as Salesforce does. Called with s.mu held.
func (s *Server) gcCursors() {
	for id, c := range s.cursors {
		if !c.used.IsZero() && time.Since(c.used) > 15*time.Minute {
			delete(s.cursors, id)
		}
	}
}

func (s *Server) handleLimits(w http.ResponseWriter, gz bool) {
	s.org.mu.RLock()
	used, limit := s.org.apiUsed, s.org.apiMax
	s.org.mu.RUnlock()
	b := fmt.Sprintf(`{"DailyApiRequests":{"Max":%d,"Remaining":%d,"Ant Migration Tool":{"Max":0,"Remaining":0},"Dataloader Bulk":{"Max":0,"Remaining":0}},"DailyBulkApiBatches":{"Max":15000,"Remaining":15000},"DataStorageMB":{"Max":1024,"Remaining":1024},"PermissionSets":{"Max":1500,"Remaining":1499,"CreateCustom":{"Max":1000,"Remaining":999}}}`,
		limit, max(limit-used, 0))
	body(w, gz, []byte(b))
}

func (s *Server) handleLogFile(w http.ResponseWriter, r *http.Request, id string, gz bool) {
	s.org.mu.RLock()
	var lf *LogFile
	for _, l := range s.org.logs {
		if l.ID == id && l.listed(s.org, s.org.nowLocked()) {
			lf = l
		}
	}
	s.org.mu.RUnlock()
	if lf == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	w.Header().Set("Content-Type", "application/octetstream")
	flushResponse := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if gz && lf.hugeRows() {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = s.logFileWriter(r, w, flushResponse).Write(lf.gzipped(s.org))
		return
	}
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		_ = lf.writeCSV(s.logFileWriter(r, zw, func() { _ = zw.Flush(); flushResponse() }), s.org)
		zw.Close()
		return
	}
	_ = lf.writeCSV(s.logFileWriter(r, w, flushResponse), s.org)
}
