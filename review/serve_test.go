package review

import (
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestServedBudgetRefusal: a detail read waits when the exporter's own
// budget or the org's remaining DailyApiRequests cannot pay for it, and only
// then.
func TestServedBudgetRefusal(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		snap snapshot.Snapshot
		cost int64
		want string // in the refusal; "" for none
	}{
		{"no budget, no limits", snapshot.Snapshot{}, 1000, ""},
		{"within the budget", snapshot.Snapshot{BudgetDaily: 100, Requests24h: 50}, 50, ""},
		{"past the budget", snapshot.Snapshot{BudgetDaily: 100, Requests24h: 50}, 51, "API budget for the org is spent"},
		{"org has room", snapshot.Snapshot{HasLimits: true, DailyAPIMax: 1000, DailyAPIRemaining: 11}, 10, ""},
		{"org nearly used up", snapshot.Snapshot{HasLimits: true, DailyAPIMax: 1000, DailyAPIRemaining: 10}, 10, "nearly used up: 10 of 1000 left"},
	} {
		got := budgetRefusal(&c.snap, c.cost)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: refusal %q, want one with %q", c.name, got, c.want)
		}
	}
}

// TestServedTokenKey: a read matches a snapshot while the apps' token and
// user counts stay the same; an app gaining a user, or a new app, makes it
// stale. Apps without token figures do not count.
func TestServedTokenKey(t *testing.T) {
	t.Parallel()
	app := func(name, id string, tokens, users int64) snapshot.AppUsage {
		return snapshot.AppUsage{Name: name, ID: id, Kind: snapshot.KindConnectedApp, HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: tokens, Users: users}}
	}
	base := &snapshot.Snapshot{Apps: []snapshot.AppUsage{app("A", "0H4000000000001AAA", 5, 2)}}
	same := &snapshot.Snapshot{Apps: []snapshot.AppUsage{app("A", "0H4000000000001", 5, 2), {Name: "no figures"}}}
	if tokenKey(base) != tokenKey(same) {
		t.Error("the same apps (an Id in 15 and 18 characters, an app without token figures) give another key")
	}
	for name, s := range map[string]*snapshot.Snapshot{
		"a user more":  {Apps: []snapshot.AppUsage{app("A", "0H4000000000001AAA", 5, 3)}},
		"a token more": {Apps: []snapshot.AppUsage{app("A", "0H4000000000001AAA", 6, 2)}},
		"a new app":    {Apps: []snapshot.AppUsage{app("A", "0H4000000000001AAA", 5, 2), app("B", "0H4000000000002AAA", 1, 1)}},
	} {
		if tokenKey(s) == tokenKey(base) {
			t.Errorf("%s: the key did not change", name)
		}
	}
}

// TestSelectOrgs: every org, or the one named; an unknown name lists the
// orgs there are.
func TestSelectOrgs(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Orgs: []config.Org{{Name: "prod"}, {Name: "sandbox"}}}
	if got, err := SelectOrgs(cfg, ""); err != nil || len(got) != 2 {
		t.Errorf("all: %v %v", got, err)
	}
	if got, err := SelectOrgs(cfg, "sandbox"); err != nil || len(got) != 1 || got[0].Name != "sandbox" {
		t.Errorf("sandbox: %v %v", got, err)
	}
	if _, err := SelectOrgs(cfg, "nope"); err == nil || !strings.Contains(err.Error(), `org "nope" is not in the config (orgs: prod, sandbox)`) {
		t.Errorf("unknown org: %v", err)
	}
}
