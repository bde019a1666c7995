package salesforce_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestStaleRuleSameInSOQL: the aggregate queries count stale tokens with the
// rule written as SOQL; on tokens at every edge of the rule, each app's
// aggregate Stale equals the tokens for which IsStale holds.
func TestStaleRuleSameInSOQL(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.SetNow(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	org.Behavior.OauthTokenAggregates = true
	now := org.Now()
	const staleAfter = 90 * 24 * time.Hour
	cutoff := salesforce.StaleCutoff(now, staleAfter)
	day := 24 * time.Hour
	edges := []salesforce.OauthToken{}
	for _, e := range []struct{ created, lastUsed time.Time }{
		{cutoff.Add(-day), time.Time{}},             // never used, created before the cutoff: stale
		{cutoff.Add(-time.Second), time.Time{}},     // a second before
		{cutoff, time.Time{}},                       // at the cutoff: not yet
		{cutoff.Add(time.Second), time.Time{}},      // after
		{cutoff.Add(-300 * day), cutoff.Add(-day)},  // used, but before the cutoff
		{cutoff.Add(-300 * day), cutoff},            // used at the cutoff
		{cutoff.Add(-300 * day), now.Add(-day)},     // old token, used lately: not stale
		{cutoff.Add(-time.Second), cutoff.Add(day)}, // created before, used after
	} {
		edges = append(edges, salesforce.OauthToken{CreatedDate: salesforce.Time{Time: e.created}, LastUsedDate: salesforce.Time{Time: e.lastUsed}})
	}
	// Each app gets a different subset of the edges, so a count that is
	// right only in total fails too.
	for a := range 4 {
		app := org.AddApp(sftest.App{Name: fmt.Sprintf("App %d", a), Installed: true})
		for i, e := range edges {
			if i%(a+1) == 0 {
				// One user per token: a user's sixth approval of an app would revoke the oldest.
				user := org.AddUser(fmt.Sprintf("u%d-%d@example.com", a, i), true)
				org.AddToken(sftest.TokenSpec{User: user, App: app, Created: e.CreatedDate.Time, LastUsed: e.LastUsedDate.Time})
			}
		}
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)

	want := map[string]int64{}
	if _, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{}, func(tk salesforce.OauthToken) {
		if salesforce.IsStale(tk.LastUsedDate.Time, tk.CreatedDate.Time, cutoff) {
			want[tk.AppName]++
		}
	}); err != nil {
		t.Fatal(err)
	}
	aggs, _, err := c.TokenAggregates(t.Context(), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if len(aggs) != 4 {
		t.Fatalf("%d aggregates, want 4", len(aggs))
	}
	var total, rows int64
	for _, a := range aggs {
		total, rows = total+a.Stale, rows+a.Tokens
		if a.Stale != want[a.AppName] {
			t.Errorf("%s: aggregate Stale = %d, IsStale over the rows = %d", a.AppName, a.Stale, want[a.AppName])
		}
	}
	if rows != 8+4+3+2 || total == 0 || total == rows {
		t.Fatalf("%d tokens, %d stale: the edges do not exercise the rule", rows, total)
	}
}
