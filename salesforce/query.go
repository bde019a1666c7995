package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// QueryOption changes how a query runs.
type QueryOption func(*queryOpts)

type queryOpts struct {
	all       bool
	batchSize int
	resource  string
	ahead     bool
	noCursor  bool
}

// All runs the query through queryAll, which includes deleted and archived rows.
func All() QueryOption { return func(o *queryOpts) { o.all = true } }

// BatchSize asks for pages of n records (Sforce-Query-Options; 200 to 2000,
// and Salesforce may ignore it).
func BatchSize(n int) QueryOption { return func(o *queryOpts) { o.batchSize = n } }

// ReadAhead requests each next page as soon as a page names it, before its
// records are decoded, so the decoding overlaps the next request. For a
// consumer that reads to the end: one that stops early has paid for a page
// it never reads.
func ReadAhead() QueryOption { return func(o *queryOpts) { o.ahead = true } }

// withoutCursor runs a query without taking one of the client's cursor
// slots: only for a query that cannot leave a cursor open, SELECT COUNT().
// Salesforce creates a server-side cursor and its query locator only "when
// results for a large or complex query can't be returned in a single
// batch"; a COUNT() answer has no records.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/object_ref/sforce_api_calls_query_querylocator.htm
func withoutCursor() QueryOption { return func(o *queryOpts) { o.noCursor = true } }

// CursorInfo is what a finished query cursor reported.
type CursorInfo struct {
	// TotalSize is the totalSize of the first page.
	TotalSize int
	// Rows is the number of records yielded.
	Rows int
	// Pages is the number of requests made.
	Pages int
}

var fromRE = regexp.MustCompile(`(?i)\bfrom\s+([A-Za-z0-9_]+)`)

// queryResource names a query for request accounting: "query:OauthToken".
func queryResource(soql string) string {
	if m := fromRE.FindStringSubmatch(soql); m != nil {
		return "query:" + m[1]
	}
	return "query"
}

// errStopped reports that the consumer stopped early.
var errStopped = errors.New("stopped by caller")

// Stream runs a SOQL query and calls fn for each record as its page is
// decoded, following nextRecordsUrl until done (through walkPages). It
// returns what the cursor reported. fn returning false stops the query.
// A query still paging after QueryMaxPages pages (MaxQueryRows rows at the
// page size asked for) fails with ErrNoLastPage, naming its object.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
func Stream[T any](ctx context.Context, c *Client, soql string, fn func(T) bool, opts ...QueryOption) (CursorInfo, error) {
	o := queryOpts{resource: queryResource(soql)}
	for _, f := range opts {
		f(&o)
	}
	endpoint := "query"
	if o.all {
		endpoint = "queryAll"
	}
	var header http.Header
	if o.batchSize > 0 {
		header = http.Header{"Sforce-Query-Options": {"batchSize=" + strconv.Itoa(o.batchSize)}}
	}
	var info CursorInfo
	hold, err := func() {}, error(nil)
	if !o.noCursor {
		if hold, err = c.openCursor(ctx); err != nil {
			return info, fmt.Errorf("%s: %w", o.resource, err)
		}
	}
	// The slot is given back when a page says done (the org has closed the
	// cursor: another query may open one while this page decodes), or when
	// the query ends.
	var once sync.Once
	release := func() { once.Do(hold) }
	defer release()
	first := request{method: http.MethodGet, path: c.dataPath(endpoint), query: url.Values{"q": {soql}}, header: header, resource: o.resource}
	maxPages := QueryMaxPages(o.batchSize)
	info.Pages, err = c.walk(ctx, first, o.resource, maxPages, func(n int, body io.Reader, ahead func(*nextPage)) (*nextPage, error) {
		var onNext func(string)
		if o.ahead {
			onNext = func(u string) { ahead(&nextPage{url: u}) }
		}
		page, err := decodePage(body, onNext, release, func(dec *jsontext.Decoder) error {
			var rec T
			if err := jsonv2.UnmarshalDecode(dec, &rec, decodeOpts); err != nil {
				return fmt.Errorf("decode record %d: %w", info.Rows+1, err)
			}
			info.Rows++
			if !fn(rec) {
				return errStopped
			}
			return nil
		})
		if n == 1 {
			info.TotalSize = page.TotalSize
		}
		if err != nil {
			if errors.Is(err, errStopped) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: page %d: %w", o.resource, n, err)
		}
		if page.Done || page.NextRecordsURL == "" {
			return nil, nil
		}
		return &nextPage{url: page.NextRecordsURL}, nil
	})
	if errors.Is(err, ErrNoLastPage) {
		err = fmt.Errorf("%w (%d rows read): a query is read for at most %d rows, %d pages of %d, and the server answered every page with a next one; "+
			"it is not behaving as Salesforce does (check the org's login_url, and any proxy in between)", err, info.Rows, MaxQueryRows, maxPages, pageRowsOf(o.batchSize))
	}
	if errors.Is(err, ErrInvalidQueryLocator) && !o.noCursor {
		// The query's own slot, unless a page said done and gave it back
		// already, is the one the shed keeps.
		var slot func()
		once.Do(func() { slot = hold })
		c.shedCursor(slot)
	}
	return info, err
}

// collect runs a SOQL query and returns its records.
func collect[T any](ctx context.Context, c *Client, soql string) ([]T, error) {
	var out []T
	_, err := Stream(ctx, c, soql, func(v T) bool { out = append(out, v); return true })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pageMeta is the part of a query page that is not records.
type pageMeta struct {
	TotalSize      int
	Done           bool
	NextRecordsURL string
}

// yieldEvery is how many records a page decodes between yields.
const yieldEvery = 50

// maxPageBytes bounds one page's body: far above any real page, it stops a
// runaway response.
const maxPageBytes = 256 << 20

// decodeOpts are encoding/json's rules for reading, on the streaming
// decoder of its version 2 (github.com/go-json-experiment/json, the
// standard library's encoding/json/v2 outside GOEXPERIMENT): field names
// match without regard to case, a name given twice keeps its last value,
// and invalid UTF-8 is replaced, not refused. The version 2 decoder reads
// each record once, where encoding/json's Decoder scans it to its end and
// then parses it again: a 500-record OauthToken page decodes in less than
// half the CPU (BenchmarkDecodePage).
var decodeOpts = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// decodePage reads one query page token by token and has fn decode each
// record straight from the stream, so a page is never held whole and each
// record is parsed once. It does not depend on the order of the top-level
// keys. onNext, when not nil, is called with nextRecordsUrl as soon as it is
// read: Salesforce writes it before the records. onDone, when not nil, is
// called as soon as the page says it is the last.
func decodePage(r io.Reader, onNext func(string), onDone func(), fn func(*jsontext.Decoder) error) (pageMeta, error) {
	var m pageMeta
	dec := jsontext.NewDecoder(io.LimitReader(r, maxPageBytes), decodeOpts)
	if err := expectKind(dec, '{'); err != nil {
		return m, err
	}
	for dec.PeekKind() != '}' {
		t, err := dec.ReadToken()
		if err != nil {
			return m, fmt.Errorf("invalid JSON: %w", err)
		}
		switch key := t.String(); key {
		case "totalSize":
			if err := jsonv2.UnmarshalDecode(dec, &m.TotalSize, decodeOpts); err != nil {
				return m, fmt.Errorf("invalid totalSize: %w", err)
			}
		case "done":
			if err := jsonv2.UnmarshalDecode(dec, &m.Done, decodeOpts); err != nil {
				return m, fmt.Errorf("invalid done: %w", err)
			}
			if m.Done && onDone != nil {
				onDone()
			}
		case "nextRecordsUrl":
			var s *string
			if err := jsonv2.UnmarshalDecode(dec, &s, decodeOpts); err != nil {
				return m, fmt.Errorf("invalid nextRecordsUrl: %w", err)
			}
			if s != nil {
				m.NextRecordsURL = *s
				if onNext != nil && *s != "" && !m.Done {
					onNext(*s)
				}
			}
		case "records":
			if dec.PeekKind() == 'n' {
				if _, err := dec.ReadToken(); err != nil {
					return m, fmt.Errorf("invalid records: %w", err)
				}
				continue // COUNT() answers with records: null in some versions
			}
			if k := dec.PeekKind(); k != '[' {
				return m, fmt.Errorf("invalid records: want an array, got %v", k)
			}
			if err := readRecords(dec, fn); err != nil {
				return m, err
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return m, fmt.Errorf("invalid JSON in %q: %w", truncate(key, 40), err)
			}
		}
	}
	if err := expectKind(dec, '}'); err != nil {
		return m, err
	}
	return m, nil
}

// readRecords reads a records array, the decoder at its '[', handing each
// record to fn.
func readRecords(dec *jsontext.Decoder, fn func(*jsontext.Decoder) error) error {
	if _, err := dec.ReadToken(); err != nil {
		return fmt.Errorf("invalid records: %w", err)
	}
	for n := 1; ; n++ {
		switch dec.PeekKind() {
		case ']':
			if _, err := dec.ReadToken(); err != nil {
				return fmt.Errorf("invalid JSON: %w", err)
			}
			return nil
		case 0: // cut short, or not JSON: ReadToken says which
			_, err := dec.ReadToken()
			return fmt.Errorf("invalid JSON: %w", err)
		}
		if err := fn(dec); err != nil {
			return err
		}
		if n%yieldEvery == 0 {
			// A page decodes in a few milliseconds without blocking: let a
			// goroutine the network woke meanwhile (another cursor's
			// answer) run, so its next request is not held up behind
			// this page.
			runtime.Gosched()
		}
	}
}

// expectKind reads the next token, which must be the delimiter want.
func expectKind(dec *jsontext.Decoder, want jsontext.Kind) error {
	t, err := dec.ReadToken()
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if t.Kind() != want {
		return fmt.Errorf("invalid JSON: want %v, got %v", want, t.Kind())
	}
	return nil
}

// Count runs a SELECT COUNT() query and returns totalSize.
func (c *Client) Count(ctx context.Context, soql string) (int, error) {
	info, err := Stream(ctx, c, soql, func(struct{}) bool { return true })
	if err != nil {
		return 0, err
	}
	return info.TotalSize, nil
}

// Quote returns s as a SOQL string literal.
func Quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, `"`, `\"`)
	return "'" + r.Replace(s) + "'"
}

// AggregateRecord is one AggregateResult row: grouped fields under their field
// name, aggregates under their alias or expr0, expr1, ...
type AggregateRecord map[string]json.RawMessage

// Int returns an aggregate as an integer (Salesforce may write 3 or 3.0).
func (a AggregateRecord) Int(key string) (int64, error) {
	raw, ok := a[key]
	if !ok || string(raw) == "null" {
		return 0, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("aggregate %s: %w", key, err)
	}
	return int64(f), nil
}

// String returns a grouped field's value ("" for null).
func (a AggregateRecord) String(key string) string {
	var s string
	_ = json.Unmarshal(a[key], &s)
	return s
}

// Time returns an aggregate datetime (zero for null).
func (a AggregateRecord) Time(key string) (Time, error) {
	var t Time
	raw, ok := a[key]
	if !ok {
		return t, nil
	}
	err := t.UnmarshalJSON(raw)
	return t, err
}
