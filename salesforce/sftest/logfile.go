package sftest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UsageRow is a run of identical ApiTotalUsage events.
type UsageRow struct {
	AppID      string // CONNECTED_APP_ID: 15 or 18 characters, "" for none
	AppName    string
	StatusCode int
	User       int
	Time       time.Time
	Count      int // events in the run (default 1)
	// ClientIP and Entity are CLIENT_IP and ENTITY_NAME (defaults
	// 203.0.113.7 and Account); see networks.go for realistic ones.
	ClientIP, Entity string
	// AppNameBytes, when over 0, makes CONNECTED_APP_NAME AppName repeated
	// to this many bytes, written piece by piece: a hostile file with a
	// field of a gigabyte, which neither side holds in memory. Such a file
	// is compressed once and the same gzip body served every time.
	AppNameBytes int64
	// Spread spreads the run's events evenly from Time over this long, as
	// a real run of calls is: the nth at Time + n*Spread/Count.
	Spread time.Duration
	// OddTime writes the run's times as a real file may, not as usual.
	OddTime OddTime
	// Family and Resource are API_FAMILY and API_RESOURCE (defaults REST
	// and /v66.0/sobjects/Account). Which API_FAMILY a Bulk API 2.0 call
	// (a /jobs/ingest or /jobs/query resource) gets is undocumented: REST
	// unless set, as the API is REST-based, so only the resource tells it.
	Family, Resource string
}

// OddTime is a way of writing an event's TIMESTAMP and TIMESTAMP_DERIVED
// other than Salesforce's usual one (TIMESTAMP "20250115102233.123",
// TIMESTAMP_DERIVED "2025-01-15T10:22:33.123Z"). A time outside the file's
// period needs no switch: set Time there.
type OddTime int

// Odd times.
const (
	UsualTime      OddTime = iota
	EmptyTime              // both empty
	EmptyDerived           // TIMESTAMP_DERIVED empty, TIMESTAMP as usual
	SecondsTime            // TIMESTAMP_DERIVED without a fraction, "2025-01-15T10:22:33Z"
	MicrosTime             // TIMESTAMP_DERIVED to the microsecond, "2025-01-15T10:22:33.123456Z"
	OffsetTime             // TIMESTAMP_DERIVED with the REST API's offset, "2025-01-15T10:22:33.123+0000"
	UnparsableTime         // both text that is no time
)

// DefaultUsageColumns is the ApiTotalUsage header in the order the facts file suggests.
var DefaultUsageColumns = []string{"EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "API_FAMILY", "API_VERSION", "API_RESOURCE", "CLIENT_NAME", "HTTP_METHOD", "CLIENT_IP", "COUNTS_AGAINST_API_LIMIT", "CONNECTED_APP_ID", "ENTITY_NAME", "STATUS_CODE", "CONNECTED_APP_NAME", "USER_NAME", "TIMESTAMP_DERIVED", "API_CLIENT_CATEGORY"}

// LogFile is an EventLogFile with its CSV content.
type LogFile struct {
	ID          string
	EventType   string // ApiTotalUsage
	Interval    string // Daily or Hourly
	LogDate     time.Time
	CreatedDate time.Time
	Sequence    int
	Rows        []UsageRow
	// Generate, when set, writes Rows-like events for huge files instead of Rows.
	Generate func(emit func(UsageRow))
	Columns  []string // default DefaultUsageColumns
	CRLF     bool
	// Retention is how long after CreatedDate the file is listed (default 24h).
	Retention time.Duration

	sizeOnce sync.Once
	size     int64
	gzOnce   sync.Once
	gz       []byte // the gzip body of a file with an AppNameBytes row
}

// hugeRows reports whether a row of the file has AppNameBytes.
func (l *LogFile) hugeRows() bool {
	for _, r := range l.Rows {
		if r.AppNameBytes > 0 {
			return true
		}
	}
	return false
}

// gzipped is the file's gzip body, compressed once.
func (l *LogFile) gzipped(o *Org) []byte {
	l.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		_ = l.writeCSV(zw, o)
		zw.Close()
		l.gz = b.Bytes()
	})
	return l.gz
}

// listed reports whether the org lists the file at now: it has been
// published (its CreatedDate and the end of its period are not after now,
// unless the org has FutureLogFiles) and has not expired.
func (l *LogFile) listed(o *Org, now time.Time) bool {
	if !o.Behavior.FutureLogFiles && (l.CreatedDate.After(now) || l.periodEnd().After(now)) {
		return false
	}
	return !l.expired(now)
}

// periodEnd is the end of the hour or day the file covers.
func (l *LogFile) periodEnd() time.Time {
	if strings.EqualFold(l.Interval, "Hourly") {
		return l.LogDate.Add(time.Hour)
	}
	return l.LogDate.AddDate(0, 0, 1)
}

func (l *LogFile) expired(now time.Time) bool {
	r := l.Retention
	if r == 0 {
		r = 24 * time.Hour
	}
	return now.Sub(l.CreatedDate) > r
}

// AddLogFile adds an EventLogFile; CreatedDate defaults to now and ID is
// assigned. A file with an AppNameBytes row is measured and compressed
// here, once.
func (o *Org) AddLogFile(l *LogFile) {
	if l.hugeRows() {
		l.length() // before the lock: a gigabyte takes seconds
		l.gzipped(o)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if l.EventType == "" {
		l.EventType = "ApiTotalUsage"
	}
	if l.Interval == "" {
		l.Interval = "Daily"
	}
	if l.CreatedDate.IsZero() {
		l.CreatedDate = o.nowLocked()
	}
	l.ID = makeID("0AT", len(o.logs)+1)
	o.logs = append(o.logs, l)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func (l *LogFile) length() int64 {
	l.sizeOnce.Do(func() {
		cw := &countWriter{}
		_ = l.writeCSV(cw, nil)
		l.size = cw.n
	})
	return l.size
}

// columns are the file's CSV columns.
func (l *LogFile) columns() []string {
	if l.Columns == nil {
		return DefaultUsageColumns
	}
	return l.Columns
}

// writeCSV writes the file as Salesforce does: every value double-quoted,
// quotes doubled, LF or CRLF line ends.
func (l *LogFile) writeCSV(w io.Writer, o *Org) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cols := l.columns()
	eol := "\n"
	if l.CRLF {
		eol = "\r\n"
	}
	rec := make([]string, len(cols))
	huge := -1 // the column of rec written AppNameBytes long
	var hugeRow UsageRow
	writeRec := func() {
		for i, v := range rec {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('"')
			if i == huge {
				writeRepeated(bw, hugeRow.AppName, hugeRow.AppNameBytes)
			} else {
				bw.WriteString(strings.ReplaceAll(v, `"`, `""`))
			}
			bw.WriteByte('"')
		}
		bw.WriteString(eol)
	}
	copy(rec, cols)
	writeRec()
	seq := 0
	emit := func(r UsageRow) {
		if r.Time.IsZero() {
			r.Time = l.LogDate // a row without a time: the period's start
		}
		n := max(r.Count, 1)
		at := r.Time
		for k := range n {
			seq++
			huge, hugeRow = -1, r
			r.Time = at.Add(r.Spread * time.Duration(k) / time.Duration(n))
			for i, c := range cols {
				rec[i] = usageField(c, r, seq, o)
				if c == "CONNECTED_APP_NAME" && r.AppNameBytes > 0 && r.AppName != "" {
					huge = i
				}
			}
			writeRec()
		}
	}
	if l.Generate != nil {
		l.Generate(emit)
	} else {
		for _, r := range l.Rows {
			emit(r)
		}
	}
	return bw.Flush()
}

// writeRepeated writes s, quotes doubled, repeated and cut to n bytes of
// unquoted text, a piece at a time.
func writeRepeated(bw *bufio.Writer, s string, n int64) {
	piece := strings.Repeat(s, max(1, (32<<10)/len(s)))
	for n > 0 {
		p := piece[:min(int64(len(piece)), n)]
		bw.WriteString(strings.ReplaceAll(p, `"`, `""`))
		n -= int64(len(p))
	}
}

func usageField(col string, r UsageRow, seq int, o *Org) string {
	switch col {
	case "EVENT_TYPE":
		return "ApiTotalUsage"
	case "TIMESTAMP":
		switch r.OddTime {
		case EmptyTime:
			return ""
		case UnparsableTime:
			return "yesterday"
		}
		return r.Time.UTC().Format("20060102150405.000")
	case "TIMESTAMP_DERIVED":
		switch r.OddTime {
		case EmptyTime, EmptyDerived:
			return ""
		case SecondsTime:
			return r.Time.UTC().Format("2006-01-02T15:04:05Z")
		case MicrosTime:
			return r.Time.UTC().Format("2006-01-02T15:04:05.000000Z")
		case OffsetTime:
			return r.Time.UTC().Format("2006-01-02T15:04:05.000-0700")
		case UnparsableTime:
			return "#Error!"
		}
		return r.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	case "REQUEST_ID":
		return "4kTk" + strconv.Itoa(seq)
	case "ORGANIZATION_ID":
		return "00D5j00000DgAYG"
	case "USER_ID":
		return makeID("005", r.User+1)[:15]
	case "USER_NAME":
		return "user" + strconv.Itoa(r.User) + "@example.com"
	case "API_FAMILY":
		if r.Family != "" {
			return r.Family
		}
		return "REST"
	case "API_VERSION":
		return "66.0"
	case "API_RESOURCE":
		if r.Resource != "" {
			return r.Resource
		}
		return "/v66.0/sobjects/Account"
	case "CLIENT_NAME":
		return `sync "nightly", v2`
	case "HTTP_METHOD":
		return "GET"
	case "CLIENT_IP":
		if r.ClientIP != "" {
			return r.ClientIP
		}
		return "203.0.113.7"
	case "COUNTS_AGAINST_API_LIMIT":
		return "true"
	case "CONNECTED_APP_ID":
		return r.AppID
	case "CONNECTED_APP_NAME":
		return r.AppName
	case "ENTITY_NAME":
		if r.Entity != "" {
			return r.Entity
		}
		return "Account"
	case "STATUS_CODE":
		return strconv.Itoa(r.StatusCode)
	case "API_CLIENT_CATEGORY":
		return "EXTERNAL_APPLICATION"
	}
	return ""
}
