package salesforce_test

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestTokenFetchPagesNearMinimum: a full read of 100,000 tokens costs close
// to the fewest pages that can hold them (200 of 500, plus COUNT() and the
// oldest token). A cut cursor's rest goes on as one range while every cursor
// is busy, so few ranges end in a part page; halving every cut range, as the
// fetch once did, cost 218 requests here (8% over), and this reads it in
// 205 to 209.
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
	minimum := (n+salesforce.OauthTokenPageSize-1)/salesforce.OauthTokenPageSize + 2
	if calls := srv.APICalls(); float64(calls) > 1.05*float64(minimum) || st.Requests != int(calls) {
		t.Fatalf("%d requests (stats say %d) for %d tokens: more than 5%% over the minimum of %d", calls, st.Requests, n, minimum)
	}
}
