package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pagedOrg is a token endpoint plus one page handler, recording the path,
// query and Sforce-Query-Options of every API request.
type pagedOrg struct {
	ts   *httptest.Server
	mu   sync.Mutex
	seen []string // path?query | header
}

func newPagedOrg(t *testing.T, page func(w http.ResponseWriter, r *http.Request)) (*pagedOrg, *Client) {
	t.Helper()
	o := &pagedOrg{}
	o.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"AT-pager-test","instance_url":%q,"token_type":"Bearer"}`, o.ts.URL)
			return
		}
		o.mu.Lock()
		o.seen = append(o.seen, r.URL.Path+"?"+r.URL.RawQuery+"|"+r.Header.Get("Sforce-Query-Options"))
		o.mu.Unlock()
		page(w, r)
	}))
	t.Cleanup(o.ts.Close)
	c, err := NewClient(AuthConfig{Flow: FlowClientCredentials, LoginURL: o.ts.URL, ClientID: "id", ClientSecret: "secret"},
		WithRetry(0, time.Millisecond), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return o, c
}

func (o *pagedOrg) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.seen...)
}

// queryPage writes a query page of the given Ids.
func queryPage(w http.ResponseWriter, total int, done bool, next string, ids ...string) {
	recs := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		recs = append(recs, map[string]string{"Id": id})
	}
	page := map[string]any{"totalSize": total, "done": done, "records": recs}
	if next != "" {
		page["nextRecordsUrl"] = next
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

type idRow struct {
	ID string `json:"Id"`
}

func streamIDs(t *testing.T, c *Client, opts ...QueryOption) ([]string, CursorInfo, error) {
	t.Helper()
	var ids []string
	info, err := Stream(t.Context(), c, "SELECT Id FROM User", func(r idRow) bool { ids = append(ids, r.ID); return true }, opts...)
	return ids, info, err
}

func TestPagerEmptyPage(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) { queryPage(w, 0, true, "") })
	ids, info, err := streamIDs(t, c)
	if err != nil || len(ids) != 0 || info != (CursorInfo{Pages: 1}) {
		t.Fatalf("ids %v, info %+v, err %v; want nothing from one page", ids, info, err)
	}
	if n := len(o.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}

	// A page-numbered collection ends at its first empty page.
	o, c = newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"apps":[],"nextPageUrl":"/x?page=1"}`)
	})
	apps, err := c.ECAs(t.Context())
	if err != nil || len(apps) != 0 {
		t.Fatalf("apps %v, err %v; want none", apps, err)
	}
	if got := o.requests(); len(got) != 1 || !strings.Contains(got[0], "page=0&pageSize=100") {
		t.Fatalf("requests %q, want one for page 0", got)
	}
}

// TestPagerFollowsPagesWithTheirHeader: every page of a cursor is asked for
// with the first request's options, at the URL the previous page gave.
func TestPagerFollowsPagesWithTheirHeader(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/query"):
			queryPage(w, 3, false, "/services/data/v66.0/query/01g-1", "a")
		case strings.HasSuffix(r.URL.Path, "/01g-1"):
			queryPage(w, 3, false, "/services/data/v66.0/query/01g-2", "b")
		default:
			queryPage(w, 3, true, "", "c")
		}
	})
	ids, info, err := streamIDs(t, c, BatchSize(200))
	if err != nil || strings.Join(ids, ",") != "a,b,c" || info != (CursorInfo{TotalSize: 3, Rows: 3, Pages: 3}) {
		t.Fatalf("ids %v, info %+v, err %v", ids, info, err)
	}
	got := o.requests()
	want := []string{"/services/data/v66.0/query?q=SELECT+Id+FROM+User|batchSize=200", "/services/data/v66.0/query/01g-1?|batchSize=200", "/services/data/v66.0/query/01g-2?|batchSize=200"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPagerErrorOnPageN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		second func(w http.ResponseWriter)
		want   string
		status int    // the *APIError's status; 0 for none
		ids    string // the rows delivered: whole records are, as they stream in
		pages  int    // the pages counted: a refused request is not one
	}{
		{"rejected", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]`)
		}, "query:User: ", http.StatusBadRequest, "a", 1},
		{"bad record", func(w http.ResponseWriter) {
			io.WriteString(w, `{"totalSize":2,"done":true,"records":[{"Id":7}]}`)
		}, "query:User: page 2: decode record 2:", 0, "a", 2},
		{"truncated", func(w http.ResponseWriter) {
			io.WriteString(w, `{"totalSize":2,"done":true,"records":[{"Id":"b"}`)
		}, "query:User: page 2: invalid JSON", 0, "a,b", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/query") {
					queryPage(w, 2, false, "/services/data/v66.0/query/01g-1", "a")
					return
				}
				tc.second(w)
			})
			ids, info, err := streamIDs(t, c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to start with %q", err, tc.want)
			}
			var apiErr *APIError
			if got := errors.As(err, &apiErr); got != (tc.status != 0) || (got && apiErr.StatusCode != tc.status) {
				t.Fatalf("err = %#v, want an *APIError with status %d: %v", err, tc.status, got)
			}
			// The rows read before the error were delivered, and the cursor reports them.
			if strings.Join(ids, ",") != tc.ids || info.Rows != len(ids) || info.TotalSize != 2 {
				t.Fatalf("ids %v, info %+v; want %s", ids, info, tc.ids)
			}
			if info.Pages != tc.pages {
				t.Fatalf("pages = %d, want %d", info.Pages, tc.pages)
			}
			if n := len(o.requests()); n != 2 {
				t.Fatalf("%d requests, want 2", n)
			}
		})
	}
}

// TestPagerNotDoneWithoutNextURL: a page that says done:false but gives no
// nextRecordsUrl ends the cursor (there is nowhere to go); the caller learns
// of the shortfall from TotalSize, as OauthToken's cap check does.
func TestPagerNotDoneWithoutNextURL(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) { queryPage(w, 5, false, "", "a", "b") })
	ids, info, err := streamIDs(t, c)
	if err != nil || len(ids) != 2 || info != (CursorInfo{TotalSize: 5, Rows: 2, Pages: 1}) {
		t.Fatalf("ids %v, info %+v, err %v", ids, info, err)
	}
	if n := len(o.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// TestPagerRefusesHostileNextURL: walkPages itself checks every next URL,
// whichever resource gave it, before sending the bearer token anywhere; a
// SOQL cursor's nextRecordsUrl goes through that check.
func TestPagerRefusesHostileNextURL(t *testing.T) {
	t.Parallel()
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evilHits.Add(1) }))
	t.Cleanup(evil.Close) // after the subtests, which run once this function returns
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	for _, next := range []string{
		evil.URL + "/services/data/v66.0/query/01g-500",
		"//" + evilHost + "/services/data/v66.0/query/x",
		"http://user:pw@" + evilHost + "/services/data/v66.0/query/01g-1",
		"https:/services/data/v66.0/query/01g-1",
		"/services/apexrest/steal",
		"/services/data/../../oauth2/revoke",
		"/services/data/v66.0/../../oauth2/revoke?token=x",
		"%zz",
		"/services/data/v66.0/query/01g-%zz?token=x", // does not parse: the error must not quote it
	} {
		t.Run(next, func(t *testing.T) {
			t.Parallel()
			o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/query") || strings.HasSuffix(r.URL.Path, "/things") {
					queryPage(w, 2, false, next, "a")
					return
				}
				queryPage(w, 2, true, "", "b") // a URL followed ends the walk, with no refusal
			})
			first := request{method: http.MethodGet, path: c.dataPath("things"), resource: "things"}
			pages, err := c.walkPages(t.Context(), first, "list things", 2, func(n int, body io.Reader) (*nextPage, error) {
				_, _ = io.Copy(io.Discard, body)
				return &nextPage{url: next}, nil
			})
			refused := err != nil && (strings.Contains(err.Error(), "refusing next page URL") || strings.Contains(err.Error(), "invalid next page URL"))
			if !refused || !strings.HasPrefix(err.Error(), "list things: ") {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "token=x") {
				t.Fatalf("err = %v quotes the URL's credentials or query", err)
			}
			if pages != 1 || len(o.requests()) != 1 {
				t.Fatalf("pages %d, requests %q; want only the first", pages, o.requests())
			}
			ids, info, err := streamIDs(t, c)
			if err == nil || !strings.HasPrefix(err.Error(), "query:User: ") || strings.Join(ids, ",") != "a" || info.Pages != 1 || len(o.requests()) != 2 {
				t.Fatalf("Stream: ids %v, info %+v, err %v, requests %q; want the first page's row and a refusal", ids, info, err, o.requests())
			}
		})
	}
	t.Cleanup(func() {
		if evilHits.Load() != 0 {
			t.Error("a request reached the other host")
		}
	})
}

// TestPagerPageBound: a resource that never gives its last page ends in an
// error after maxPages requests, not in a loop.
func TestPagerPageBound(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })
	first := request{method: http.MethodGet, path: c.dataPath("things"), query: url.Values{"page": {"0"}}, resource: "things"}
	pages, err := c.walkPages(t.Context(), first, "list things", 3, func(n int, body io.Reader) (*nextPage, error) {
		return &nextPage{query: url.Values{"page": {fmt.Sprint(n)}}}, nil
	})
	if err == nil || err.Error() != "list things: no last page after 3 pages" || pages != 3 {
		t.Fatalf("pages %d, err %v", pages, err)
	}
	want := []string{"/services/data/v66.0/things?page=0|", "/services/data/v66.0/things?page=1|", "/services/data/v66.0/things?page=2|"}
	if got := o.requests(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

// TestPagerStopsOnReaderError: an error from the reader (a consumer that
// stopped, a page that does not decode) ends the walk and is returned as is.
func TestPagerStopsOnReaderError(t *testing.T) {
	t.Parallel()
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		queryPage(w, 9, false, "/services/data/v66.0/query/01g-1", "a", "b")
	})
	var ids []string
	info, err := Stream(t.Context(), c, "SELECT Id FROM User", func(r idRow) bool { ids = append(ids, r.ID); return false })
	if !errors.Is(err, errStopped) || len(ids) != 1 || info.Pages != 1 || len(o.requests()) != 1 {
		t.Fatalf("ids %v, info %+v, err %v, %d requests", ids, info, err, len(o.requests()))
	}
}

// TestPagerNumberedPagesErrorOnPageN: a page-numbered collection that fails
// on its second page fails whole, naming the page, and asks for no third.
func TestPagerNumberedPagesErrorOnPageN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, second, want string
		status             int
	}{
		{"server error", "", "list apps/oauth/usage: ", http.StatusInternalServerError},
		{"odd page", `{"apps":{"identifier":"0xI"}}`, "decode apps/oauth/usage page 1: ", http.StatusOK},
		{"not JSON", `<html>`, "decode apps/oauth/usage page 1: ", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("page") == "0" {
					io.WriteString(w, `{"apps":[{"identifier":"0xI000000000001AAA","name":"Portal"}]}`)
					return
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.second)
			})
			apps, err := c.ECAs(t.Context())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("apps %v, err = %v; want an error starting with %q", apps, err, tc.want)
			}
			if got := o.requests(); len(got) != 2 {
				t.Fatalf("requests %q, want pages 0 and 1 only", got)
			}
		})
	}
}
