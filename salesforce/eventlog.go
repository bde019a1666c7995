package salesforce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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

// PeriodEnd is the end of the period the file covers: LogDate plus a day
// (Daily) or an hour (Hourly).
func (f EventLogFile) PeriodEnd() time.Time {
	if strings.EqualFold(f.Interval, "Hourly") {
		return f.LogDate.Add(time.Hour)
	}
	return f.LogDate.AddDate(0, 0, 1)
}

// EventLogFiles lists the files of an event type created at or after since,
// oldest first. It needs View Event Log Files.
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
	return files, nil
}

// OpenLogFile streams a log file's CSV, decompressed. The caller closes it.
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
	resp, err := c.do(ctx, request{method: http.MethodGet, path: p, resource: "eventlogfile_download"})
	if err != nil {
		return nil, fmt.Errorf("download log file %s: %w", f.ID, err)
	}
	return resp.Body, nil
}

// UsageEvent is the part of an ApiTotalUsage row the exporter counts. The
// byte slices are only valid during the callback.
type UsageEvent struct {
	AppID, AppName []byte
	StatusCode     int
}

// CSVError is a malformed ELF CSV, with the line it was found on.
type CSVError struct {
	Line int
	Msg  string
}

func (e *CSVError) Error() string { return fmt.Sprintf("csv line %d: %s", e.Line, e.Msg) }

// ParseAPITotalUsage reads an ApiTotalUsage CSV and calls fn for each event.
// Columns are found by header name, since their order changes between
// releases. Values may be quoted, with doubled quotes inside, and may span
// lines; line ends may be LF or CRLF. Memory use does not depend on the file size.
func ParseAPITotalUsage(r io.Reader, fn func(UsageEvent)) (int, error) {
	p := &csvReader{br: bufio.NewReaderSize(r, 256<<10)}
	header, err := p.record()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, &CSVError{Line: 1, Msg: "empty file: no header"}
		}
		return 0, err
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToUpper(strings.TrimSpace(string(h)))] = i
	}
	appID, ok1 := idx["CONNECTED_APP_ID"]
	appName, ok2 := idx["CONNECTED_APP_NAME"]
	status, ok3 := idx["STATUS_CODE"]
	if !ok1 || !ok2 || !ok3 {
		return 0, &CSVError{Line: 1, Msg: "header lacks CONNECTED_APP_ID, CONNECTED_APP_NAME or STATUS_CODE"}
	}
	need := max(appID, appName, status) + 1
	rows := 0
	for {
		rec, err := p.record()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if len(rec) == 1 && len(rec[0]) == 0 {
			continue // blank line
		}
		if len(rec) < need {
			return rows, &CSVError{Line: p.line, Msg: fmt.Sprintf("%d fields, header has %d", len(rec), len(header))}
		}
		ev := UsageEvent{AppID: rec[appID], AppName: rec[appName]}
		if s := rec[status]; len(s) > 0 {
			n, err := strconv.Atoi(string(s))
			if err != nil {
				return rows, &CSVError{Line: p.line, Msg: fmt.Sprintf("STATUS_CODE %q is not a number", truncate(string(s), 20))}
			}
			ev.StatusCode = n
		}
		fn(ev)
		rows++
	}
}

// csvReader is a small RFC 4180 reader that reuses its buffers.
type csvReader struct {
	br     *bufio.Reader
	line   int
	fields [][]byte
	buf    []byte
	ends   []int
}

// record returns the next record; its slices are valid until the next call.
func (p *csvReader) record() ([][]byte, error) {
	p.buf, p.ends = p.buf[:0], p.ends[:0]
	line, err := p.readLine()
	if err != nil {
		return nil, err
	}
	startLine := p.line
	for {
		// One field.
		if len(line) > 0 && line[0] == '"' {
			line = line[1:]
			for {
				i := bytes.IndexByte(line, '"')
				if i < 0 {
					// The quoted field goes on past the line end.
					p.buf = append(p.buf, line...)
					p.buf = append(p.buf, '\n')
					next, err := p.readLine()
					if err != nil {
						return nil, &CSVError{Line: startLine, Msg: "unterminated quoted field"}
					}
					line = next
					continue
				}
				p.buf = append(p.buf, line[:i]...)
				if i+1 < len(line) && line[i+1] == '"' {
					p.buf = append(p.buf, '"')
					line = line[i+2:]
					continue
				}
				line = line[i+1:]
				break
			}
			p.ends = append(p.ends, len(p.buf))
			if len(line) == 0 {
				break
			}
			if line[0] != ',' {
				return nil, &CSVError{Line: p.line, Msg: "extra text after a quoted field"}
			}
			line = line[1:]
			continue
		}
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			p.buf = append(p.buf, line...)
			p.ends = append(p.ends, len(p.buf))
			break
		}
		p.buf = append(p.buf, line[:i]...)
		p.ends = append(p.ends, len(p.buf))
		line = line[i+1:]
	}
	p.fields = p.fields[:0]
	start := 0
	for _, e := range p.ends {
		p.fields = append(p.fields, p.buf[start:e])
		start = e
	}
	return p.fields, nil
}

// readLine returns the next line without its LF or CRLF.
func (p *csvReader) readLine() ([]byte, error) {
	line, err := p.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// A very long line: collect it.
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = p.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	p.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}
