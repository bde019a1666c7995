package salesforce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// EventLogFile is one Event Monitoring log file.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_eventlogfile.htm
type EventLogFile struct {
	ID            string  `json:"Id"`
	EventType     string  `json:"EventType"`
	Interval      string  `json:"Interval"` // Daily or Hourly
	LogDate       Time    `json:"LogDate"`
	CreatedDate   Time    `json:"CreatedDate"`
	Sequence      int     `json:"Sequence"`
	LogFileLength float64 `json:"LogFileLength"`
	LogFile       string  `json:"LogFile"` // the blob's path
}

// maxLogFileColumns bounds the columns LogFileColumns returns: a real
// file has a few dozen.
const maxLogFileColumns = 256

// LogFileColumns returns the CSV columns (LogFileFieldNames, upper case) of
// the newest event log file of an event type, without downloading it; ok is
// false when there is none.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile.htm
func (c *Client) LogFileColumns(ctx context.Context, eventType string) (cols []string, ok bool, err error) {
	type row struct {
		Names string `json:"LogFileFieldNames"`
	}
	rows, err := collect[row](ctx, c, "SELECT LogFileFieldNames FROM EventLogFile WHERE EventType = "+Quote(eventType)+" ORDER BY CreatedDate DESC LIMIT 1")
	if err != nil {
		return nil, false, fmt.Errorf("read the columns of %s log files: %w", eventType, err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	for n := range strings.SplitSeq(rows[0].Names, ",") {
		if len(cols) == maxLogFileColumns {
			break
		}
		cols = append(cols, strings.ToUpper(strings.TrimSpace(n)))
	}
	return cols, true, nil
}

// PeriodEnd is the end of the period the file covers: LogDate plus a day
// (Daily) or an hour (Hourly).
func (f EventLogFile) PeriodEnd() time.Time {
	if strings.EqualFold(f.Interval, "Hourly") {
		return f.LogDate.Add(time.Hour)
	}
	return f.LogDate.AddDate(0, 0, 1)
}

// EventLogFiles lists the files of an event type created at or after since,
// oldest first. It needs View Event Log Files. A file whose LogDate or
// CreatedDate is implausible (see plausibleLogFile) is left out, logged and
// counted in ImplausibleTimes.
func (c *Client) EventLogFiles(ctx context.Context, eventType string, since time.Time) ([]EventLogFile, error) {
	soql := "SELECT Id, EventType, Interval, LogDate, CreatedDate, Sequence, LogFileLength, LogFile FROM EventLogFile WHERE EventType = " + Quote(eventType)
	if !since.IsZero() {
		soql += " AND CreatedDate >= " + SOQLTime(since)
	}
	soql += " ORDER BY CreatedDate ASC"
	files, err := collect[EventLogFile](ctx, c, soql)
	if err != nil {
		return nil, fmt.Errorf("list %s log files: %w", eventType, err)
	}
	// Dates that cannot be true never reach the caller, where they would
	// move a watermark or prune good periods.
	now := c.ServerNow()
	kept := files[:0]
	for _, f := range files {
		if err := plausibleLogFile(f, now); err != nil {
			c.implausible.Add(1)
			c.log().Warn("Skipping an event log file with an implausible date", "file", f.ID, "event_type", eventType, "err", err)
			continue
		}
		kept = append(kept, f)
	}
	return kept, nil
}

// OpenLogFile streams a log file's CSV, decompressed. The caller closes it.
// The client's whole-request timeout does not apply: the download is
// bounded by DownloadBounds, its overall time sized by f.LogFileLength
// (DownloadTimeout), and fails with ErrDownloadHeaderTimeout,
// ErrDownloadStalled or ErrDownloadTooSlow when a bound is reached.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_event_log_file_download.htm
func (c *Client) OpenLogFile(ctx context.Context, f EventLogFile) (io.ReadCloser, error) {
	p := f.LogFile
	if p == "" {
		p = c.dataPath("sobjects/EventLogFile/" + f.ID + "/LogFile")
	}
	p, _, err := c.resolveNext(p)
	if err != nil {
		return nil, fmt.Errorf("log file %s: %w", f.ID, err)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: p, resource: "eventlogfile_download", stream: c.downloadBounds(f.LogFileLength)})
	if err != nil {
		return nil, fmt.Errorf("download log file %s: %w", f.ID, err)
	}
	return resp.Body, nil
}

// UsageEvent is the part of an ApiTotalUsage row the exporter reads. The
// byte slices are only valid during the callback. ClientIP, EntityName and
// UserID are nil when the file has no such column.
type UsageEvent struct {
	AppID, AppName []byte
	StatusCode     int
	// ClientIP is CLIENT_IP: an address, or "Salesforce.com IP" for calls from Salesforce itself.
	ClientIP []byte
	// EntityName is ENTITY_NAME: the object name(s) the call touched.
	EntityName []byte
	// UserID is USER_ID, the 15-character user Id.
	UserID []byte
	// Time is TIMESTAMP_DERIVED ("2025-01-15T10:22:33.123Z"), or TIMESTAMP
	// ("20250115102233.123", GMT) when that column is missing or the value
	// empty; unparsed, nil when the file has neither.
	Time []byte
	// Family is the API the event came through (API_FAMILY, API_RESOURCE);
	// APIFamilyUnknown when the file has neither column (then HasFamily
	// is false) or the value is empty.
	Family    APIFamily
	HasFamily bool
}

// Bounds of the ApiTotalUsage reader. A real row is a few hundred bytes; a
// record or value past these is skipped and counted, never held, so a hostile
// or corrupt file cannot grow memory, the state file or /metrics.
const (
	// MaxCSVRecordBytes bounds one record (all its physical lines).
	MaxCSVRecordBytes = 64 << 10
	// MaxCSVNameBytes bounds CONNECTED_APP_NAME and ENTITY_NAME.
	MaxCSVNameBytes = 1024
	// MaxCSVIDBytes bounds CONNECTED_APP_ID, USER_ID and CLIENT_IP.
	MaxCSVIDBytes = 64
)

// CSVError is a malformed ELF CSV, with the line it was found on.
type CSVError struct {
	Line int
	Msg  string
}

func (e *CSVError) Error() string { return fmt.Sprintf("csv line %d: %s", e.Line, e.Msg) }

// UsageScan is what a read of an ApiTotalUsage file found.
type UsageScan struct {
	// Rows is the number of events delivered.
	Rows int
	// Skipped is the number of malformed or oversized rows left out.
	Skipped int
	// FirstSkipped is the first skipped row and why, nil when none was.
	FirstSkipped *CSVError
	// HasFamily is set when the header has API_FAMILY or API_RESOURCE.
	HasFamily bool
}

// ParseAPITotalUsage reads an ApiTotalUsage CSV and calls fn for each event.
// It returns the number of events; malformed rows are skipped (see
// ScanAPITotalUsage, which also counts them).
func ParseAPITotalUsage(r io.Reader, fn func(UsageEvent)) (int, error) {
	s, err := ScanAPITotalUsage(r, fn)
	return s.Rows, err
}

// ScanAPITotalUsage reads an ApiTotalUsage CSV and calls fn for each event.
// Columns are found by header name, since their order changes between
// releases. Values may be quoted, with doubled quotes inside, and may span
// lines; line ends may be LF or CRLF. Memory use does not depend on the file
// size, nor on the length of any line or value.
//
// One bad row does not reject the file: a row that is short, has a
// STATUS_CODE that is not an integer from 0 to 999, has text after a quoted
// value, or exceeds MaxCSVRecordBytes or a value bound is skipped, and
// counted in the result with the first such line. An error is returned only
// when the file cannot be read as a whole: no usable header, a quoted value
// left open at the end (a truncated download), or a read error.
func ScanAPITotalUsage(r io.Reader, fn func(UsageEvent)) (UsageScan, error) {
	var scan UsageScan
	p := &csvReader{br: bufio.NewReaderSize(r, 256<<10)}
	header, err := p.record()
	if err != nil {
		var bad *rowError
		if errors.As(err, &bad) {
			return scan, &CSVError{Line: bad.line, Msg: "header: " + bad.msg}
		}
		if errors.Is(err, io.EOF) {
			return scan, &CSVError{Line: 1, Msg: "empty file: no header"}
		}
		return scan, err
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToUpper(strings.TrimSpace(string(h)))] = i
	}
	appID, ok1 := idx["CONNECTED_APP_ID"]
	appName, ok2 := idx["CONNECTED_APP_NAME"]
	status, ok3 := idx["STATUS_CODE"]
	if !ok1 || !ok2 || !ok3 {
		return scan, &CSVError{Line: 1, Msg: "header lacks CONNECTED_APP_ID, CONNECTED_APP_NAME or STATUS_CODE"}
	}
	// Optional columns: -1 when absent.
	opt := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	clientIP, entity, userID := opt("CLIENT_IP"), opt("ENTITY_NAME"), opt("USER_ID")
	derived, stamp := opt("TIMESTAMP_DERIVED"), opt("TIMESTAMP")
	family, resource := opt("API_FAMILY"), opt("API_RESOURCE")
	scan.HasFamily = family >= 0 || resource >= 0
	need := max(appID, appName, status) + 1
	skip := func(line int, format string, args ...any) {
		scan.Skipped++
		if scan.FirstSkipped == nil {
			scan.FirstSkipped = &CSVError{Line: line, Msg: fmt.Sprintf(format, args...)}
		}
	}
	optional := func(rec [][]byte, i int) []byte {
		if i < 0 || i >= len(rec) {
			return nil
		}
		return rec[i]
	}
	for {
		rec, err := p.record()
		if err != nil { // only then: errors.As(err, &bad) moves bad to the heap, once a row
			if errors.Is(err, io.EOF) {
				return scan, nil
			}
			var bad *rowError
			if errors.As(err, &bad) {
				skip(bad.line, "%s", bad.msg)
				continue
			}
			return scan, err
		}
		if len(rec) == 1 && len(rec[0]) == 0 {
			continue // blank line
		}
		if len(rec) < need {
			skip(p.start, "%d fields, header has %d", len(rec), len(header))
			continue
		}
		ev := UsageEvent{AppID: rec[appID], AppName: rec[appName],
			ClientIP: optional(rec, clientIP), EntityName: optional(rec, entity), UserID: optional(rec, userID),
			Time: optional(rec, derived)}
		if len(ev.Time) == 0 && stamp >= 0 {
			ev.Time = optional(rec, stamp)
		}
		if scan.HasFamily {
			ev.Family, ev.HasFamily = ClassifyAPIFamily(optional(rec, family), optional(rec, resource)), true
		}
		if len(ev.AppName) > MaxCSVNameBytes || len(ev.EntityName) > MaxCSVNameBytes {
			skip(p.start, "CONNECTED_APP_NAME or ENTITY_NAME longer than %d bytes", MaxCSVNameBytes)
			continue
		}
		if len(ev.AppID) > MaxCSVIDBytes || len(ev.UserID) > MaxCSVIDBytes || len(ev.ClientIP) > MaxCSVIDBytes {
			skip(p.start, "CONNECTED_APP_ID, USER_ID or CLIENT_IP longer than %d bytes", MaxCSVIDBytes)
			continue
		}
		if s := rec[status]; len(s) > 0 {
			n, ok := statusCode(s)
			if !ok {
				skip(p.start, "STATUS_CODE %q is not an integer from 0 to 999", truncate(string(s), 20))
				continue
			}
			ev.StatusCode = n
		}
		fn(ev)
		scan.Rows++
	}
}

// statusCode parses an HTTP status of at most three digits.
func statusCode(s []byte) (int, bool) {
	if len(s) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// rowError is a record that was read past but cannot be used.
type rowError struct {
	line int
	msg  string
}

func (e *rowError) Error() string { return fmt.Sprintf("csv line %d: %s", e.line, e.msg) }

// csvReader is a small RFC 4180 reader that reuses its buffers. It holds at
// most MaxCSVRecordBytes of a record, whatever the input.
type csvReader struct {
	br *bufio.Reader
	// line is the last physical line read; start is the first line of the last record.
	line, start int
	fields      [][]byte
	buf         []byte // unescaped fields
	spans       []span
	raw         []byte // a record of several physical lines, joined
}

// rawRecord returns the next record's bytes, its physical lines joined by
// LF. A record continues past a line end while it has an odd number of
// quotes (RFC 4180: a line end inside a quoted value). A record longer than
// MaxCSVRecordBytes is read past, without being held, and reported as a
// *rowError.
func (p *csvReader) rawRecord() ([]byte, error) {
	line, quotes, tooLong, err := p.readLine()
	if err != nil {
		return nil, err
	}
	p.start = p.line
	if !tooLong && quotes%2 == 0 {
		return line, nil // the common case: one line, no copy
	}
	if !tooLong {
		p.raw = append(p.raw[:0], line...)
	}
	for quotes%2 == 1 {
		next, q, long, err := p.readLine()
		if errors.Is(err, io.EOF) {
			return nil, &CSVError{Line: p.start, Msg: "unterminated quoted field"}
		}
		if err != nil {
			return nil, err
		}
		quotes += q
		if tooLong || long || len(p.raw)+1+len(next) > MaxCSVRecordBytes {
			tooLong = true
			continue
		}
		p.raw = append(p.raw, '\n')
		p.raw = append(p.raw, next...)
	}
	if tooLong {
		return nil, &rowError{line: p.start, msg: fmt.Sprintf("record longer than %d bytes", MaxCSVRecordBytes)}
	}
	return p.raw, nil
}

// record returns the next record; its slices are valid until the next call.
// A field is a slice of the line itself (ApiTotalUsage quotes every field,
// and few hold a doubled quote); only a quoted field with doubled quotes is
// copied, unescaped, into buf.
func (p *csvReader) record() ([][]byte, error) {
	line, err := p.rawRecord()
	if err != nil {
		return nil, err
	}
	full := line
	p.buf, p.spans = p.buf[:0], p.spans[:0]
	for {
		// One field.
		at := len(full) - len(line)
		if len(line) > 0 && line[0] == '"' {
			line = line[1:]
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				// Cannot happen: rawRecord balances the quotes.
				return nil, &rowError{line: p.start, msg: "unterminated quoted field"}
			}
			if i+1 < len(line) && line[i+1] == '"' {
				// Doubled quotes: unescape into buf.
				lo := len(p.buf)
				for {
					p.buf = append(p.buf, line[:i]...)
					if i+1 < len(line) && line[i+1] == '"' {
						p.buf = append(p.buf, '"')
						line = line[i+2:]
						if i = bytes.IndexByte(line, '"'); i < 0 {
							return nil, &rowError{line: p.start, msg: "unterminated quoted field"}
						}
						continue
					}
					line = line[i+1:]
					break
				}
				p.spans = append(p.spans, span{lo: lo, hi: len(p.buf), inBuf: true})
			} else {
				p.spans = append(p.spans, span{lo: at + 1, hi: at + 1 + i})
				line = line[i+1:]
			}
			if len(line) == 0 {
				break
			}
			if line[0] != ',' {
				return nil, &rowError{line: p.start, msg: "extra text after a quoted field"}
			}
			line = line[1:]
			continue
		}
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			p.spans = append(p.spans, span{lo: at, hi: len(full)})
			break
		}
		p.spans = append(p.spans, span{lo: at, hi: at + i})
		line = line[i+1:]
	}
	// The slices are taken once buf has stopped growing.
	p.fields = p.fields[:0]
	for _, s := range p.spans {
		src := full
		if s.inBuf {
			src = p.buf
		}
		p.fields = append(p.fields, src[s.lo:s.hi:s.hi])
	}
	return p.fields, nil
}

// span is a field of a record: a range of its line, or of buf.
type span struct {
	lo, hi int
	inBuf  bool
}

// readLine returns the next physical line without its LF or CRLF, and the
// number of quotes in it. A line longer than MaxCSVRecordBytes is read to its
// end without being kept: tooLong is set and line is nil.
func (p *csvReader) readLine() (line []byte, quotes int, tooLong bool, err error) {
	line, err = p.br.ReadSlice('\n')
	quotes = bytes.Count(line, quote)
	// The buffer is larger than MaxCSVRecordBytes: a line that fills it is too long.
	for errors.Is(err, bufio.ErrBufferFull) {
		tooLong = true
		line, err = p.br.ReadSlice('\n')
		quotes += bytes.Count(line, quote)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, false, fmt.Errorf("read csv: %w", err)
	}
	if len(line) == 0 && !tooLong && errors.Is(err, io.EOF) {
		return nil, 0, false, io.EOF
	}
	p.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if tooLong || len(line) > MaxCSVRecordBytes {
		return nil, quotes, true, nil
	}
	return line, quotes, false, nil
}

var quote = []byte{'"'}
