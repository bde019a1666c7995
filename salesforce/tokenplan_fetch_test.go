package salesforce_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// binCount reports whether a query is one of a read's bin counts: a
// COUNT() other than the read's own, which spans the whole read: from its
// From (none for a read of every token) to its upper bound, the org's
// clock less a margin.
func binCount(q string, from time.Time) bool {
	if !strings.HasPrefix(q, "SELECT COUNT()") {
		return false
	}
	lower := ""
	if !from.IsZero() {
		lower = "CreatedDate >= " + salesforce.SOQLTime(from) + " AND "
	}
	i := strings.Index(q, " WHERE "+lower+"CreatedDate < ")
	if i < 0 || (from.IsZero() && strings.Contains(q, "CreatedDate >= ")) {
		return true
	}
	upper, err := time.Parse("2006-01-02T15:04:05Z", q[i+len(" WHERE "+lower+"CreatedDate < "):])
	return err != nil || time.Since(upper) > time.Hour
}

// TestColdReadCountsBinsAtOnce: a first read of more than ten cursors'
// worth of tokens counts its CreatedDate bins in one round, holding no
// cursor slot (a COUNT() leaves no cursor open). A read of every token asks
// them with its COUNT() (13 bins counted back from its upper bound, the
// first with no lower bound, like COUNT() itself); a read from a given time
// asks them once COUNT() says it is large (12 bins over its span). The
// client has one slot; the server holds those counts until all of them have
// arrived, so counts that took a slot each, or waited for anything but
// COUNT(), would wait until the test's deadline.
func TestColdReadCountsBinsAtOnce(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: 30_000, Apps: 20, Users: 2_000, Seed: 3})
	srv := sftest.NewServer(org, sftest.TestCredentials)
	for _, tc := range []struct {
		name string
		q    salesforce.TokenQuery
		held func(q string) bool
		want int32
	}{
		{"every token", salesforce.TokenQuery{}, func(q string) bool { return strings.HasPrefix(q, "SELECT COUNT()") }, 1 + 13},
		{"from a time", salesforce.TokenQuery{From: time.Unix(1, 0)}, func(q string) bool { return binCount(q, time.Unix(1, 0)) }, 12},
	} {
		var arrived atomic.Int32
		all := make(chan struct{})
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.held(r.URL.Query().Get("q")) {
				if arrived.Add(1) == tc.want {
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
		c := newClient(t, ts.URL, salesforce.WithMaxOpenCursors(1))
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		n := 0
		st, err := c.OauthTokens(ctx, tc.q, func(salesforce.OauthToken) { n++ })
		cancel()
		ts.Close()
		if err != nil {
			t.Fatalf("%s: after %d counts: %v", tc.name, arrived.Load(), err)
		}
		if got := arrived.Load(); got != tc.want {
			t.Fatalf("%s: %d counts, want %d", tc.name, got, tc.want)
		}
		if n != org.TokenCount() || st.Rows != n || st.Count != n {
			t.Fatalf("%s: rows %d (stats %d, COUNT %d), want %d", tc.name, n, st.Rows, st.Count, org.TokenCount())
		}
	}
}

// TestColdReadWithoutBins: a bin count that fails leaves the read to slice
// by time, and the read is still exact; a read of few tokens from a given
// time counts no bins at all (a read of every token asks them before it
// knows it is small, and slices by time all the same).
func TestColdReadWithoutBins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tokens   int
		from     time.Time
		failBins bool
		wantBins bool
	}{
		{tokens: 30_000, failBins: true, wantBins: true},
		{tokens: 30_000, from: time.Unix(1, 0), failBins: true, wantBins: true},
		{tokens: 20_000, from: time.Unix(1, 0), wantBins: false},
		{tokens: 20_000, wantBins: true},
	} {
		org := sftest.NewOrg()
		org.SetAPILimit(5_000_000, 0)
		org.Generate(sftest.Scale{Tokens: tc.tokens, Apps: 20, Users: 2_000, Seed: 4})
		srv := sftest.NewServer(org, sftest.TestCredentials)
		var asked atomic.Int32
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if binCount(r.URL.Query().Get("q"), tc.from) {
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
		st, err := newClient(t, ts.URL).OauthTokens(t.Context(), salesforce.TokenQuery{From: tc.from}, func(salesforce.OauthToken) { n++ })
		ts.Close()
		if err != nil || n != org.TokenCount() || st.Count != n {
			t.Fatalf("%d tokens: rows %d, COUNT %d, err %v", tc.tokens, n, st.Count, err)
		}
		if got := asked.Load() > 0; got != tc.wantBins {
			t.Fatalf("%d tokens: %d bin counts asked, want some: %v", tc.tokens, asked.Load(), tc.wantBins)
		}
	}
}

// TestPlannedReadEndsInSmallerCursors: a read large enough to plan by bins
// asks smaller cursors (whole pages) once the rows left no longer give
// every cursor the cap, and stays exact, with a second holding more tokens
// than such a cursor near its end.
func TestPlannedReadEndsInSmallerCursors(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: 30_000, Apps: 20, Users: 2_000, Seed: 5})
	burst := time.Now().Add(-2 * time.Hour).Truncate(time.Second).Add(300 * time.Millisecond)
	for i := range 1_200 {
		org.AddToken(sftest.TokenSpec{User: i % 1_000, App: i % 20, Created: burst})
	}
	srv := sftest.NewServer(org, sftest.TestCredentials)
	limits := map[int]int{}
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if i := strings.LastIndex(q, " LIMIT "); i >= 0 && strings.HasPrefix(q, "SELECT Id") {
			n, err := strconv.Atoi(q[i+len(" LIMIT "):])
			if err != nil {
				t.Errorf("query %q: %v", q, err)
			}
			mu.Lock()
			limits[n]++
			mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	n := 0
	st, err := newClient(t, ts.URL).OauthTokens(t.Context(), salesforce.TokenQuery{}, func(salesforce.OauthToken) { n++ })
	if err != nil || n != org.TokenCount() || st.Rows != n || st.Count != n {
		t.Fatalf("rows %d (stats %d, COUNT %d), want %d: %v", n, st.Rows, st.Count, org.TokenCount(), err)
	}
	smaller := 0
	for l, k := range limits {
		if l%salesforce.OauthTokenPageSize != 0 || l < salesforce.OauthTokenPageSize || l > salesforce.OauthTokenCursorCap {
			t.Errorf("%d queries with LIMIT %d: want whole pages up to the cap", k, l)
		}
		if l < salesforce.OauthTokenCursorCap {
			smaller += k
		}
	}
	if smaller == 0 {
		t.Errorf("no cursor near the end asked less than the cap: %v", limits)
	}
}

// TestSkewedReadExact: a planned read of an org whose newest day holds a
// burst the bins spread over the whole day (idle cursors take the far ends
// of the ranges that hold it, and the ranges' cursors stop at their new
// bounds) reads every token once.
func TestSkewedReadExact(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: 30_000, Apps: 20, Users: 3_000, Seed: 6})
	burst := time.Now().Add(-3 * time.Hour)
	for i := range 12_000 {
		org.AddToken(sftest.TokenSpec{User: i % 3_000, App: i / 3_000, Created: burst.Add(time.Duration(i) * 150 * time.Millisecond)})
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	for range 3 {
		seen := map[string]int{}
		st, err := newClient(t, ts.URL).OauthTokens(t.Context(), salesforce.TokenQuery{}, func(tok salesforce.OauthToken) { seen[tok.ID]++ })
		if err != nil || st.Rows != org.TokenCount() || len(seen) != org.TokenCount() || st.Count != st.Rows {
			t.Fatalf("rows %d, distinct %d, COUNT %d, want %d: %v", st.Rows, len(seen), st.Count, org.TokenCount(), err)
		}
	}
}
