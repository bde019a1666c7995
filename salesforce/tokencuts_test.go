package salesforce_test

import (
	"slices"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestTokenCuts: ranges of whole seconds with at most the rows asked for,
// a second that alone holds more standing alone, times before 1970 floored.
func TestTokenCuts(t *testing.T) {
	t.Parallel()
	sec := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	for _, c := range []struct {
		name    string
		created []int64
		rows    int
		want    []time.Time
	}{
		{"empty", nil, 3, nil},
		{"fits", []int64{1000, 1500, 2000}, 3, nil},
		{"one over", []int64{1000, 1500, 2000, 3000}, 3, []time.Time{sec(3)}},
		{"never inside a second", []int64{1000, 2000, 2100, 2200, 3000}, 3, []time.Time{sec(2), sec(3)}},
		{"a full second alone", []int64{1000, 5000, 5001, 5002, 5003, 5004, 6000}, 3, []time.Time{sec(5), sec(6)}},
		{"before 1970", []int64{-1500, -1200, -500, 200}, 2, []time.Time{sec(-1)}},
	} {
		got := salesforce.TokenCuts(slices.Values(c.created), c.rows)
		if !slices.EqualFunc(got, c.want, time.Time.Equal) {
			t.Errorf("%s: cuts %v, want %v", c.name, got, c.want)
		}
	}
}

// TestTokenFetchWithCuts: a read given the previous read's cuts opens one
// cursor per range and no more (no cursor reaches the cap), reads every
// token once, and needs no more requests than the pages hold plus COUNT()
// and the oldest token. Tokens created since fall in the last range, which
// splits as usual; revoked ones leave their ranges short.
func TestTokenFetchWithCuts(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetAPILimit(5_000_000, 0)
	org.Generate(sftest.Scale{Tokens: 60_000, Apps: 50, Users: 5_000, Seed: 3})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	cuts := salesforce.TokenCuts(slices.Values(org.LiveCreated()), 0)
	if len(cuts)+1 < 60_000/salesforce.OauthTokenCursorCap {
		t.Fatalf("%d cuts for 60,000 tokens", len(cuts))
	}
	srv.ResetCounts()
	n := 0
	st, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 4, Cuts: cuts}, func(salesforce.OauthToken) { n++ })
	if err != nil || n != org.TokenCount() || st.Rows != n || st.Count != n {
		t.Fatalf("rows %d (stats %d, count %d) of %d, err %v", n, st.Rows, st.Count, org.TokenCount(), err)
	}
	if st.Partitions != len(cuts)+1 {
		t.Errorf("%d cursors for %d ranges: some cursor reached the cap", st.Partitions, len(cuts)+1)
	}
	pages := 0
	created := org.LiveCreated()
	bounds := append(append([]time.Time{time.Unix(0, 0)}, cuts...), st.Before)
	for i := 1; i < len(bounds); i++ {
		lo, _ := slices.BinarySearch(created, bounds[i-1].UnixMilli())
		hi, _ := slices.BinarySearch(created, bounds[i].UnixMilli())
		pages += max(1, (hi-lo+salesforce.OauthTokenPageSize-1)/salesforce.OauthTokenPageSize)
	}
	if calls := srv.APICalls(); int(calls) != pages+2 || st.Requests != int(calls) {
		t.Errorf("%d requests (stats %d), want the ranges' %d pages plus COUNT() and the oldest token", calls, st.Requests, pages)
	}

	// A day later: 5,000 new tokens and some revoked.
	org.Advance(24 * time.Hour)
	org.Churn(0, 5_000, 9)
	org.RevokeRandom(300, 9)
	n = 0
	st, err = c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 4, Cuts: cuts, Before: org.Now()}, func(salesforce.OauthToken) { n++ })
	if err != nil || n != org.TokenCount() || st.Rows != n {
		t.Fatalf("after churn: rows %d (stats %d) of %d, err %v", n, st.Rows, org.TokenCount(), err)
	}
	if st.Partitions <= len(cuts)+1 {
		t.Errorf("after churn: %d cursors: the last range's 5,000 new tokens took one cursor", st.Partitions)
	}
}
