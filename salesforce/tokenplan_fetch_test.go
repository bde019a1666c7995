package salesforce_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// binCount reports whether a query is one of a cold read's bin counts: a
// COUNT() with both CreatedDate bounds (the read's own COUNT() has only the
// upper one).
func binCount(q string) bool {
	return strings.HasPrefix(q, "SELECT COUNT()") && strings.Contains(q, "CreatedDate >= ") && strings.Contains(q, "CreatedDate < ")
}

// TestColdReadCountsBinsAtOnce: a first read of more than ten cursors'
// worth of tokens counts its CreatedDate bins in one round, holding no
// cursor slot (a COUNT() leaves no cursor open). The client has one slot;
// the server holds every bin count until all of them have arrived, so
// counts that took a slot each would wait until the test's deadline.
func TestColdReadCountsBinsAtOnce(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: 30_000, Apps: 20, Users: 2_000, Seed: 3})
	srv := sftest.NewServer(org, sftest.TestCredentials)
	const bins = 12 // planEdges for a span of days or more
	var arrived atomic.Int32
	all := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if binCount(r.URL.Query().Get("q")) {
			if arrived.Add(1) == bins {
				close(all)
			}
			select {
			case <-all:
			case <-r.Context().Done():
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL, salesforce.WithMaxOpenCursors(1))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	n := 0
	st, err := c.OauthTokens(ctx, salesforce.TokenQuery{}, func(salesforce.OauthToken) { n++ })
	if err != nil {
		t.Fatalf("after %d bin counts: %v", arrived.Load(), err)
	}
	if got := arrived.Load(); got != bins {
		t.Fatalf("%d bin counts, want %d", got, bins)
	}
	if n != org.TokenCount() || st.Rows != n || st.Count != n {
		t.Fatalf("rows %d (stats %d, COUNT %d), want %d", n, st.Rows, st.Count, org.TokenCount())
	}
}

// TestColdReadWithoutBins: a bin count that fails leaves the read to slice
// by time, and the read is still exact; a read of few tokens counts no
// bins at all.
func TestColdReadWithoutBins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tokens   int
		failBins bool
		wantBins bool
	}{
		{tokens: 30_000, failBins: true, wantBins: true},
		{tokens: 20_000, wantBins: false},
	} {
		org := sftest.NewOrg()
		org.SetAPILimit(5_000_000, 0)
		org.Generate(sftest.Scale{Tokens: tc.tokens, Apps: 20, Users: 2_000, Seed: 4})
		srv := sftest.NewServer(org, sftest.TestCredentials)
		var asked atomic.Int32
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if binCount(r.URL.Query().Get("q")) {
				asked.Add(1)
				if tc.failBins {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`[{"message":"test: refused","errorCode":"MALFORMED_QUERY"}]`))
					return
				}
			}
			srv.ServeHTTP(w, r)
		}))
		n := 0
		st, err := newClient(t, ts.URL).OauthTokens(t.Context(), salesforce.TokenQuery{}, func(salesforce.OauthToken) { n++ })
		ts.Close()
		if err != nil || n != org.TokenCount() || st.Count != n {
			t.Fatalf("%d tokens: rows %d, COUNT %d, err %v", tc.tokens, n, st.Count, err)
		}
		if got := asked.Load() > 0; got != tc.wantBins {
			t.Fatalf("%d tokens: %d bin counts asked, want some: %v", tc.tokens, asked.Load(), tc.wantBins)
		}
	}
}
