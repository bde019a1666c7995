package salesforce

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadAheadOverlapsDecode: with ReadAhead, a cursor's next page is
// requested while the current page's records are still arriving. The first
// page's server writes its head (with nextRecordsUrl), then holds its records
// back until the second page has been requested: a client that asks for the
// next page only after decoding this one never gets there, and the server
// gives up on it (the test's own bound, which only a failure reaches).
func TestReadAheadOverlapsDecode(t *testing.T) {
	t.Parallel()
	secondAsked := make(chan struct{})
	var asked atomic.Bool
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/query/01g-2") {
			if asked.CompareAndSwap(false, true) {
				close(secondAsked)
			}
			queryPage(w, 3, true, "", "c")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v66.0/query/01g-2","records":[`)
		w.(http.Flusher).Flush()
		select {
		case <-secondAsked:
		case <-r.Context().Done():
			return
		case <-time.After(time.Minute):
			return // never asked: the page ends cut, and the stream fails
		}
		io.WriteString(w, `{"Id":"a"},{"Id":"b"}]}`)
	})
	done := make(chan struct{})
	var ids []string
	var info CursorInfo
	var err error
	go func() {
		defer close(done)
		ids, info, err = streamIDs(t, c, ReadAhead())
	}()
	<-done
	if err != nil || strings.Join(ids, ",") != "a,b,c" || info.Pages != 2 || info.TotalSize != 3 {
		t.Fatalf("ids %v, info %+v, err %v; want a,b,c from two pages", ids, info, err)
	}
	if n := len(o.requests()); n != 2 {
		t.Fatalf("%d requests, want 2: %q", n, o.requests())
	}
}

// TestReadAheadSameRowsAndRequests: reading ahead changes neither the rows
// nor the number of requests of a cursor read to its end.
func TestReadAheadSameRowsAndRequests(t *testing.T) {
	t.Parallel()
	for _, ahead := range []bool{false, true} {
		o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/query"):
				queryPage(w, 5, false, "/services/data/v66.0/query/01g-2", "a", "b")
			case strings.HasSuffix(r.URL.Path, "/01g-2"):
				queryPage(w, 5, false, "/services/data/v66.0/query/01g-4", "c", "d")
			default:
				queryPage(w, 5, true, "", "e")
			}
		})
		var opts []QueryOption
		if ahead {
			opts = append(opts, ReadAhead())
		}
		ids, info, err := streamIDs(t, c, opts...)
		if err != nil || strings.Join(ids, ",") != "a,b,c,d,e" || info.Pages != 3 || len(o.requests()) != 3 {
			t.Fatalf("ahead %v: ids %v, info %+v, err %v, requests %q", ahead, ids, info, err, o.requests())
		}
	}
}

// TestReadAheadStoppedConsumer: a consumer that stops ends the walk at once;
// the page requested ahead is cancelled and closed, and no further page is
// asked for.
func TestReadAheadStoppedConsumer(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/query") {
			queryPage(w, 9, false, "/services/data/v66.0/query/01g-2", "a", "b")
			return
		}
		queryPage(w, 9, false, "/services/data/v66.0/query/01g-4", "c", "d")
	})
	var ids []string
	info, err := Stream(t.Context(), c, "SELECT Id FROM User", func(r idRow) bool { ids = append(ids, r.ID); return false }, ReadAhead())
	if !errors.Is(err, errStopped) || len(ids) != 1 || info.Pages != 1 {
		t.Fatalf("ids %v, info %+v, err %v", ids, info, err)
	}
	if n := len(o.requests()); n > 2 {
		t.Fatalf("%d requests, want the first and at most the one asked ahead: %q", n, o.requests())
	}
}

// TestReadAheadRefusedURL: a next URL the pager refuses is never requested
// ahead either; the walk reports the refusal after the page's rows.
func TestReadAheadRefusedURL(t *testing.T) {
	t.Parallel()
	var evil atomic.Int32
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evil.Add(1) }))
	t.Cleanup(otherSrv.Close)
	other := otherSrv.URL
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		queryPage(w, 2, false, other+"/services/data/v66.0/query/01g-1", "a")
	})
	ids, info, err := streamIDs(t, c, ReadAhead())
	if err == nil || !strings.Contains(err.Error(), "next page URL") || strings.Join(ids, ",") != "a" || info.Pages != 1 || len(o.requests()) != 1 || evil.Load() != 0 {
		t.Fatalf("ids %v, info %+v, err %v, requests %q, other host hit %d times", ids, info, err, o.requests(), evil.Load())
	}
}

// TestWalkAheadBounds: a reader that names pages ahead stays within
// maxPages, and a page named ahead that is not the page the reader then
// answers is dropped for the right one.
func TestWalkAheadBounds(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })
	first := request{method: http.MethodGet, path: c.dataPath("things"), query: url.Values{"page": {"0"}}, resource: "things"}
	pages, err := c.walk(t.Context(), first, "list things", 3, func(n int, body io.Reader, ahead func(*nextPage)) (*nextPage, error) {
		_, _ = io.Copy(io.Discard, body)
		ahead(&nextPage{query: url.Values{"page": {fmt.Sprint(n)}}})
		return &nextPage{query: url.Values{"page": {fmt.Sprint(n)}}}, nil
	})
	if err == nil || err.Error() != "list things: no last page after 3 pages" || pages != 3 {
		t.Fatalf("pages %d, err %v", pages, err)
	}
	want := "/services/data/v66.0/things?page=0| /services/data/v66.0/things?page=1| /services/data/v66.0/things?page=2|"
	if got := strings.Join(o.requests(), " "); got != want {
		t.Fatalf("requests %q, want %q (none past the bound)", got, want)
	}

	o, c = newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })
	first.path = c.dataPath("things")
	pages, err = c.walk(t.Context(), first, "list things", 0, func(n int, body io.Reader, ahead func(*nextPage)) (*nextPage, error) {
		_, _ = io.Copy(io.Discard, body)
		if n == 2 {
			return nil, nil
		}
		ahead(&nextPage{query: url.Values{"page": {"wrong"}}})
		return &nextPage{query: url.Values{"page": {"right"}}}, nil
	})
	if err != nil || pages != 2 {
		t.Fatalf("pages %d, err %v", pages, err)
	}
	if got := strings.Join(o.requests(), " "); !strings.Contains(got, "things?page=right|") {
		t.Fatalf("requests %q: the page the reader answered was not read", got)
	}
}

// TestReadAheadRecordsFirst: a page that puts its records before
// nextRecordsUrl (Salesforce writes the URL first; a proxy may reorder) is
// read the same, just without the overlap.
func TestReadAheadRecordsFirst(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/query") {
			io.WriteString(w, `{"records":[{"Id":"a"}],"totalSize":2,"nextRecordsUrl":"/services/data/v66.0/query/01g-1","done":false}`)
			return
		}
		io.WriteString(w, `{"records":[{"Id":"b"}],"totalSize":2,"done":true}`)
	})
	ids, info, err := streamIDs(t, c, ReadAhead())
	if err != nil || strings.Join(ids, ",") != "a,b" || info.Pages != 2 || len(o.requests()) != 2 {
		t.Fatalf("ids %v, info %+v, err %v, requests %q", ids, info, err, o.requests())
	}
}
