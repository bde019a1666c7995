package salesforce_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestTokenFetchPagesNearMinimum: a full read of 100,000 tokens costs close
// to the fewest pages that can hold them (200 of 500, plus COUNT(), the
// oldest token and the 12 bin counts of a cold read). A cut cursor's rest
// goes on as one range while every cursor is busy, so few ranges end in a
// part page; halving every cut range, as the fetch once did, cost 218
// requests here before the bins (8% over), and this reads it in 203 to 207
// pages.
func TestTokenFetchPagesNearMinimum(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: 100_000, Apps: 200, Users: 20_000, Seed: 1})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	srv.ResetCounts()
	n := 0
	st, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 2}, func(salesforce.OauthToken) { n++ })
	if err != nil || n != org.TokenCount() || st.Rows != n {
		t.Fatalf("rows %d of %d, err %v", n, org.TokenCount(), err)
	}
	minimum := (n+salesforce.OauthTokenPageSize-1)/salesforce.OauthTokenPageSize + 2 + 12
	if calls := srv.APICalls(); float64(calls) > 1.05*float64(minimum) || st.Requests != int(calls) {
		t.Fatalf("%d requests (stats say %d) for %d tokens: more than 5%% over the minimum of %d", calls, st.Requests, n, minimum)
	}
}

// TestTokenFetchAsksCountAndOldestAtOnce: a full read asks COUNT() and the
// oldest token together. The server holds COUNT() until the oldest-token
// query has arrived too; a fetch that asked them in series would wait on
// COUNT() until the test's deadline.
func TestTokenFetchAsksCountAndOldestAtOnce(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 3_000, Apps: 5, Users: 100, Seed: 1})
	srv := sftest.NewServer(org, sftest.TestCredentials)
	oldestAsked := make(chan struct{})
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		switch {
		case strings.Contains(q, "ORDER BY CreatedDate ASC LIMIT 1"):
			once.Do(func() { close(oldestAsked) })
		case strings.HasPrefix(q, "SELECT COUNT()"):
			select {
			case <-oldestAsked:
			case <-r.Context().Done():
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	st, err := c.OauthTokens(ctx, salesforce.TokenQuery{}, func(salesforce.OauthToken) {})
	if err != nil {
		t.Fatalf("the fetch waited on COUNT() before asking for the oldest token: %v", err)
	}
	if st.Count != org.TokenCount() || st.Rows != st.Count {
		t.Fatalf("count %d, rows %d, want %d", st.Count, st.Rows, org.TokenCount())
	}
}

// TestCursorSlotFreedByTheLastPage: a query gives its cursor slot back as
// soon as its last page says done (the org has closed the cursor), so
// another query can open one while that page decodes. With one slot, a
// second query is started from inside the first one's last page and must
// finish before that page goes on; a slot held to the query's end would
// never let it (the test's own bound, which only a failure reaches).
func TestCursorSlotFreedByTheLastPage(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 700, Apps: 3, Users: 50, Seed: 2})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL, salesforce.WithMaxOpenCursors(1))
	rows, other := 0, -1
	var otherErr error
	_, err := salesforce.Stream(t.Context(), c, "SELECT Id, CreatedDate FROM OauthToken ORDER BY CreatedDate ASC", func(salesforce.OauthToken) bool {
		rows++
		if rows != salesforce.OauthTokenPageSize+1 {
			return true
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			other, otherErr = c.Count(t.Context(), "SELECT COUNT() FROM OauthToken")
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Error("a second query could not open a cursor while the first one's last page decoded")
			return false
		}
		return true
	})
	if err != nil || rows != 700 || otherErr != nil || other != 700 {
		t.Fatalf("rows %d (err %v), the other query's count %d (err %v)", rows, err, other, otherErr)
	}
}
