package salesforce_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// hostile is a token endpoint plus handlers for API paths: what a hostile or
// broken Salesforce endpoint can answer that the fake org does not.
type hostile struct {
	ts       *httptest.Server
	instance string // instance_url in the token response; "" for the server's own URL
	routes   map[string]http.HandlerFunc
}

func newHostile(t *testing.T, routes map[string]http.HandlerFunc) *hostile {
	t.Helper()
	h := &hostile{routes: routes}
	h.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			if f, ok := h.routes["token"]; ok {
				f(w, r)
				return
			}
			inst := h.instance
			if inst == "" {
				inst = h.ts.URL
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"AT-hostile-bearer","instance_url":%q,"token_type":"Bearer"}`, inst)
			return
		}
		for p, f := range h.routes {
			if p != "token" && strings.Contains(r.URL.Path, p) {
				f(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(h.ts.Close)
	return h
}

func quietClient(t *testing.T, url string, opts ...salesforce.Option) *salesforce.Client {
	t.Helper()
	return newClient(t, url, append([]salesforce.Option{salesforce.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// witness counts requests and records whether any carried a credential.
type witness struct {
	hits, creds atomic.Int64
}

func (w *witness) server(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "" || bytes.Contains(b, []byte(sftest.TestCredentials.ClientSecret)) {
			w.creds.Add(1)
		}
		rw.WriteHeader(http.StatusOK)
		io.WriteString(rw, `{"DailyApiRequests":{"Max":1,"Remaining":1}}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestPOSTRedirectIsNotSuccess: a 302 from the revoke endpoint to a page
// that answers 200 is a failure, and the page is never fetched.
func TestPOSTRedirectIsNotSuccess(t *testing.T) {
	t.Parallel()
	var w witness
	other := w.server(t)
	for _, code := range []int{301, 302, 303, 307, 308} {
		h := newHostile(t, nil)
		h.routes = map[string]http.HandlerFunc{"/services/oauth2/revoke": func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, h.ts.URL+"/services/data/v66.0/limits/", code)
		}, "/limits": func(rw http.ResponseWriter, _ *http.Request) { io.WriteString(rw, "{}") }}
		err := quietClient(t, h.ts.URL).Revoke(t.Context(), "DT-token")
		var apiErr *salesforce.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != code {
			t.Errorf("%d: err = %v, want an APIError with status %d", code, err, code)
		}
		h.routes["/services/oauth2/revoke"] = func(rw http.ResponseWriter, r *http.Request) { http.Redirect(rw, r, other.URL+"/", code) }
		if err := quietClient(t, h.ts.URL).Revoke(t.Context(), "DT-token"); err == nil {
			t.Errorf("%d to another host: revoke reported success", code)
		}
	}
	if w.hits.Load() != 0 {
		t.Errorf("the redirect target was requested %d times", w.hits.Load())
	}
}

// TestCrossOriginRedirectCarriesNoCredentials: a 307 from the API host or the
// token endpoint to another port is not followed, so neither the bearer token
// nor the client secret reaches it, and the exporter does not serve its data.
func TestCrossOriginRedirectCarriesNoCredentials(t *testing.T) {
	t.Parallel()
	var w witness
	other := w.server(t)
	api := newHostile(t, map[string]http.HandlerFunc{"/limits": func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}})
	if _, err := quietClient(t, api.ts.URL).Limits(t.Context()); err == nil {
		t.Error("limits after a cross-origin 307: no error")
	}
	tok := newHostile(t, map[string]http.HandlerFunc{"token": func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}})
	_, err := quietClient(t, tok.ts.URL).Limits(t.Context())
	var authErr *salesforce.AuthError
	if !errors.As(err, &authErr) {
		t.Errorf("token endpoint 307: err = %v, want an AuthError", err)
	}
	if w.hits.Load() != 0 || w.creds.Load() != 0 {
		t.Errorf("the other origin got %d requests, %d with credentials", w.hits.Load(), w.creds.Load())
	}
	// A same-origin redirect of a GET is still followed.
	same := newHostile(t, nil)
	same.routes = map[string]http.HandlerFunc{"/limits/": func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("moved") == "" {
			http.Redirect(rw, r, r.URL.Path+"?moved=1", http.StatusFound)
			return
		}
		io.WriteString(rw, `{"DailyApiRequests":{"Max":10,"Remaining":7}}`)
	}}
	if l, err := quietClient(t, same.ts.URL).Limits(t.Context()); err != nil || l["DailyApiRequests"].Remaining != 7 {
		t.Errorf("same-origin redirect: %v %v", l, err)
	}
}

// TestInstanceURLOffDomainRefused: an instance_url that is neither on a
// Salesforce domain nor the login URL's host is ignored; the bearer token
// stays on the login host.
func TestInstanceURLOffDomainRefused(t *testing.T) {
	t.Parallel()
	var w witness
	other := w.server(t)
	for _, inst := range []string{other.URL, "https://evil.example.com", "https://salesforce.com.evil.example", "http://acme.my.salesforce.com", "https://user@acme.my.salesforce.com"} {
		h := newHostile(t, map[string]http.HandlerFunc{"/limits": func(rw http.ResponseWriter, _ *http.Request) {
			io.WriteString(rw, `{"DailyApiRequests":{"Max":10,"Remaining":9}}`)
		}})
		h.instance = inst
		l, err := quietClient(t, h.ts.URL).Limits(t.Context())
		if err != nil || l["DailyApiRequests"].Remaining != 9 {
			t.Errorf("instance_url %s: %v %v, want the login host's answer", inst, l, err)
		}
	}
	if w.hits.Load() != 0 {
		t.Errorf("the foreign instance got %d requests", w.hits.Load())
	}
}

func TestInstanceAllowedDomains(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"https://acme.my.salesforce.com":      true,
		"https://na85.salesforce.com":         true,
		"https://acme.lightning.force.com":    true,
		"https://acme.my.salesforce.mil":      true,
		"https://acme.my.sfcrmproducts.cn":    true,
		"https://na1.cloudforce.com":          true,
		"https://acme.my.salesforce.com:443":  true,
		"https://acme.my.salesforce.com:8443": false,
		"https://salesforce.com":              false,
		"https://evilsalesforce.com":          false,
		"https://acme.my.salesforce.com.evil": false,
		"http://acme.my.salesforce.com":       false,
	} {
		if got := salesforce.InstanceAllowedForTest(host); got != want {
			t.Errorf("%s: allowed = %v, want %v", host, got, want)
		}
	}
}

// gzipOf compresses n bytes of c, streamed: a small body that decompresses big.
func gzipOf(t *testing.T, prefix string, c byte, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	io.WriteString(zw, prefix)
	chunk := bytes.Repeat([]byte{c}, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		zw.Write(chunk[:k])
		n -= k
	}
	zw.Close()
	return b.Bytes()
}

// TestResponseBodiesBounded: /limits, External Client App pages and query
// pages that decompress to far more than any real answer fail with
// ErrResponseTooLarge, and the client allocates a bounded amount.
//
// The allocation count (runtime.MemStats.TotalAlloc) covers the whole
// process, so the test is not parallel: a parallel test waits until every
// sequential test of the package is done, and none runs beside this one to
// inflate the count.
func TestResponseBodiesBounded(t *testing.T) {
	limitsBomb := gzipOf(t, `{"DailyApiRequests":{"Max":1,"Remaining":1,"x":"`, 'A', 256<<20)
	ecaBomb := gzipOf(t, `{"apps":[{"name":"`, 'B', 64<<20)
	pageBomb := gzipOf(t, `{"totalSize":1,"done":true,"records":[{"Id":"`, 'C', 64<<20)
	errBomb := gzipOf(t, `[{"errorCode":"X","message":"`, 'D', 64<<20)
	serve := func(b []byte, code int) http.HandlerFunc {
		return func(rw http.ResponseWriter, _ *http.Request) {
			rw.Header().Set("Content-Encoding", "gzip")
			rw.WriteHeader(code)
			rw.Write(b)
		}
	}
	h := newHostile(t, map[string]http.HandlerFunc{
		"/limits": serve(limitsBomb, 200), "/apps/oauth/usage": serve(ecaBomb, 200),
		"/query": serve(pageBomb, 200), "/sobjects": serve(errBomb, 500),
	})
	c := quietClient(t, h.ts.URL, salesforce.WithRetry(0, time.Millisecond))
	alloc := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	// 256 MiB + 64 MiB + 64 MiB served decompressed; 1 + 8 MiB and the 64 KiB
	// error excerpt let through.
	small := alloc(func() {
		if _, err := c.Limits(t.Context()); !errors.Is(err, salesforce.ErrResponseTooLarge) {
			t.Errorf("limits: err = %v", err)
		}
		if _, err := c.ECAs(t.Context()); !errors.Is(err, salesforce.ErrResponseTooLarge) {
			t.Errorf("ECA page: err = %v", err)
		}
		if _, err := c.OpenLogFile(t.Context(), salesforce.EventLogFile{ID: "0AT1"}); err == nil || len(err.Error()) > 600 {
			t.Errorf("error body: err = %.200v", err)
		}
	})
	// Total allocation, not live memory, for 384 MiB served: the bounded
	// bodies (1 and 8 MiB) grow their buffers by doubling (measured: 61 MiB).
	if small > 80<<20 {
		t.Errorf("allocated %d MiB reading /limits, an ECA page and an error body", small>>20)
	}
	// A query page of one 64 MiB value: the decoder holds at most the 16 MiB
	// bound (in doubling buffers).
	page := alloc(func() {
		if _, err := c.ConnectedApplications(t.Context()); !errors.Is(err, salesforce.ErrResponseTooLarge) {
			t.Errorf("query page: err = %v", err)
		}
	})
	t.Logf("allocated: %d MiB for /limits + ECA page + error body, %d MiB for the query page", small>>20, page>>20)
	if page > 80<<20 {
		t.Errorf("allocated %d MiB reading a query page", page>>20)
	}
}

// TestDateHeaderOutsideWindowIgnored: an org Date header in 2099 does not
// move ServerNow; it is counted and the time windows stay on the local clock.
func TestDateHeaderOutsideWindowIgnored(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.SetNow(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	local := time.Now().Truncate(time.Second) // standing still: an exact comparison
	c := quietClient(t, ts.URL, salesforce.WithClock(func() time.Time { return local }))
	if _, err := c.AppMenuItems(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := c.ServerNow(); !got.Equal(local) {
		t.Errorf("ServerNow is %v, want the local clock %v after a Date in 2099", got, local)
	}
	if c.ImplausibleTimes() == 0 {
		t.Error("the refused Date header was not counted")
	}
}

// TestImplausibleLogFilesSkipped: a LogDate of 9000-01-01, a CreatedDate of
// 2999 and a LogDate after its CreatedDate never reach the caller.
func TestImplausibleLogFilesSkipped(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	// An org with corrupt dates lists files no real org would.
	org.Behavior.FutureLogFiles = true
	now := org.Now()
	day := 24 * time.Hour
	ld := now.UTC().Truncate(day).Add(-day)
	good := &sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(25 * time.Hour), Rows: []sftest.UsageRow{{AppName: "A", StatusCode: 200, Count: 1}}}
	org.AddLogFile(good)
	org.AddLogFile(&sftest.LogFile{LogDate: time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC), CreatedDate: ld.Add(26 * time.Hour), Retention: 1 << 62})
	org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), Retention: 1 << 62})
	org.AddLogFile(&sftest.LogFile{LogDate: ld.Add(2 * day), CreatedDate: ld.Add(27 * time.Hour), Retention: 1 << 62})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := quietClient(t, ts.URL)
	files, err := c.EventLogFiles(t.Context(), "ApiTotalUsage", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !files[0].LogDate.Equal(ld) || files[0].CreatedDate.Year() > now.Year()+1 {
		t.Errorf("files = %+v, want only the plausible one", files)
	}
	if c.ImplausibleTimes() != 3 {
		t.Errorf("ImplausibleTimes = %d, want 3", c.ImplausibleTimes())
	}
}

// TestStreamPageBound: a server whose query cursor never ends (done:false
// and a next page, for ever) makes Stream fail after QueryMaxPages pages,
// naming the object and the bound, instead of reading for ever; the same
// client reads the query to its end once the server behaves.
func TestStreamPageBound(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := quietClient(t, ts.URL)
	type user struct{ Id string }
	count := func() (int, salesforce.CursorInfo, error) {
		n := 0
		info, err := salesforce.Stream(t.Context(), c, "SELECT Id FROM User", func(user) bool { n++; return true })
		return n, info, err
	}
	users, _, err := count()
	if err != nil || users == 0 {
		t.Fatalf("%d users, err %v", users, err)
	}
	srv.EndlessCursors(true)
	before := srv.Requests()["query:User"]
	n, info, err := count()
	pages := salesforce.QueryMaxPages(0)
	if pages != 5000 {
		t.Errorf("QueryMaxPages(0) = %d, want 10,000,000 rows / 2,000 a page = 5000", pages)
	}
	if !errors.Is(err, salesforce.ErrNoLastPage) || n != users || info.Pages != pages || srv.Requests()["query:User"]-before != pages {
		t.Fatalf("endless cursor: %d rows, info %+v, %d requests, err %v; want %d rows, %d pages and ErrNoLastPage",
			n, info, srv.Requests()["query:User"]-before, err, users, pages)
	}
	t.Log(err)
	for _, want := range []string{"query:User: no last page after 5000 pages", "at most 10000000 rows, 5000 pages of 2000", "login_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	srv.EndlessCursors(false)
	if n, _, err := count(); err != nil || n != users {
		t.Errorf("after the server mends: %d users, err %v; want %d", n, err, users)
	}
}
