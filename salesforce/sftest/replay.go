package sftest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

var fromObjRE = regexp.MustCompile(`(?i)\bfrom\s+([A-Za-z0-9_]+)`)

// Replay serves a fixture folder: each request gets the recorded response
// with the same method, path and SOQL, else the next unused one with the same
// method, path and queried object (SOQL with times in it differs from run to
// run). The token endpoint answers with a fresh access token. A request with
// no recorded response gets 404 NOT_FOUND, and the test fails.
func Replay(tb testing.TB, dir string) *httptest.Server {
	tb.Helper()
	idx, err := salesforce.ReadFixture(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	used := make([]bool, len(idx.Responses))
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if r.URL.Path == "/services/oauth2/token" {
			writeJSON(w, http.StatusOK, map[string]string{"access_token": "00Dreplay!AQreplay", "instance_url": ts.URL, "token_type": "Bearer",
				"id": ts.URL + "/id/00D000000000001AAA/005000000000001AAA"})
			return
		}
		mu.Lock()
		pick := -1
		for pass := 0; pass < 2 && pick < 0; pass++ {
			for i, e := range idx.Responses {
				if used[i] || e.Method != r.Method || e.Path != r.URL.Path {
					continue
				}
				if pass == 0 && e.Query == q || pass == 1 && sameObject(e.Query, q) {
					pick = i
					break
				}
			}
		}
		if pick >= 0 {
			used[pick] = true
		}
		mu.Unlock()
		if pick < 0 {
			tb.Errorf("replay %s: no recorded response for %s %s %q", dir, r.Method, r.URL.Path, q)
			writeError(w, http.StatusNotFound, "NOT_FOUND", "no recorded response")
			return
		}
		e := idx.Responses[pick]
		b, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			tb.Errorf("replay: %v", err)
			writeError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "fixture file missing")
			return
		}
		ct := e.ContentType
		if ct == "" {
			ct = "application/json;charset=UTF-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(e.Status)
		w.Write(b)
	}))
	tb.Cleanup(ts.Close)
	return ts
}

func sameObject(a, b string) bool {
	ma, mb := fromObjRE.FindStringSubmatch(a), fromObjRE.FindStringSubmatch(b)
	if ma == nil || mb == nil {
		return a == b
	}
	return strings.EqualFold(ma[1], mb[1]) && strings.Contains(a, "COUNT()") == strings.Contains(b, "COUNT()")
}
