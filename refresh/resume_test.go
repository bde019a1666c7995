package refresh

import (
	"net/http"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestFailedFullSyncResumes: with one query page in 15 failing, a full
// OauthToken sync that restarted from nothing at each failure might never
// finish; it now keeps the CreatedDate ranges it read, finishes after a few
// attempts with the right figures, and costs a small multiple of a clean sync.
func TestFailedFullSyncResumes(t *testing.T) {
	t.Parallel()
	sync := func(failEvery int) (calls int64, attempts int, r *Refresher, org *sftest.Org) {
		org = sftest.NewOrg()
		org.Behavior.OauthTokenAggregates = false
		org.Generate(sftest.Scale{Tokens: 30000, Apps: 20, Users: 3000, Seed: 4})
		srv, ts := sftest.Start(t, org, sftest.TestCredentials)
		if failEvery > 0 {
			srv.FailEvery(failEvery, sftest.Fault{Path: "/query", MatchQuery: "OauthToken", Status: http.StatusInternalServerError, Body: `[{"errorCode":"SERVER_UNAVAILABLE","message":"busy"}]`})
		}
		var err error
		r, err = NewRefresher(testOrgConfig(t, ts.URL, config.SourceOAuthTokens), Settings{StaleAfter: staleAfter,
			Inventory: func(string, string, string) *config.InventoryEntry { return nil }}, t.TempDir(), quiet, nil, salesforce.WithRetry(0, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for attempts = 1; attempts <= 40; attempts++ {
			if r.RefreshAll(t.Context()) == nil {
				break
			}
		}
		return srv.APICalls(), attempts, r, org
	}
	clean, _, _, _ := sync(0)
	calls, attempts, r, org := sync(15)
	t.Logf("clean full sync %d calls; with one page in 15 failing: %d attempts, %d calls", clean, attempts, calls)
	if attempts > 40 {
		t.Fatalf("the full sync never finished in 40 attempts (%d calls)", calls)
	}
	checkTruth(t, org, r.Snapshot())
	if calls > 3*clean {
		t.Errorf("%d calls, over 3x a clean sync's %d: failed ranges are re-read from scratch", calls, clean)
	}
}
