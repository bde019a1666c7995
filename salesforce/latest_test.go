package salesforce_test

import (
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestLatestReadsTokensOfTheCurrentSecond: a one-shot read (review, revoke)
// sees a token created in the org's current second, and one created a
// second ahead of the clock the Date header gave; an incremental read keeps
// the newest seconds for its next fetch.
func TestLatestReadsTokensOfTheCurrentSecond(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	now := time.Date(2026, 5, 1, 12, 0, 0, 700e6, time.UTC)
	org.SetNow(now)
	app := org.AddApp(sftest.App{Name: "Phish", Installed: false})
	for i := range 20 {
		org.AddToken(sftest.TokenSpec{User: org.AddUser("u"+string(rune('a'+i))+"@example.com", true), App: app, Created: now.Add(-time.Duration(i) * 7 * time.Second)})
	}
	// Created within the second after the Date header's (truncated) second.
	org.AddToken(sftest.TokenSpec{User: org.AddUser("late@example.com", true), App: app, Created: now.Add(200 * time.Millisecond)})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	if _, err := c.Limits(t.Context()); err != nil { // sets the org clock
		t.Fatal(err)
	}
	read := func(latest bool) int {
		n := 0
		if _, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Latest: latest}, func(salesforce.OauthToken) { n++ }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := read(true); n != 21 {
		t.Errorf("one-shot read: %d tokens, want all 21", n)
	}
	// Before now-2s: the token at now and the one ahead of it wait.
	if n := read(false); n != 19 {
		t.Errorf("incremental read: %d tokens, want 19 (the newest seconds wait for the next fetch)", n)
	}
}
