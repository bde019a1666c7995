package snapshot

import (
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestForeignECATokens (issue 22.9): OauthToken rows named like an External
// Client App, without a menu item, are the ECA's unless its own figures
// contradict it: users (or tokens) beyond its own are another app's, an
// uninstalled connected app of the same name, which gets its own row.
func TestForeignECATokens(t *testing.T) {
	t.Parallel()
	group := AppTokens{Name: "Partner Sync", TokenStats: salesforce.TokenStats{Tokens: 6, Users: 5, Uses: 9}}
	for _, c := range []struct {
		name string
		eca  ECAUsage
		menu string
		want map[string]salesforce.TokenStats
	}{
		{"its users counted: 3 users beyond its 2", ECAUsage{ID: ecaID18, Name: "Partner Sync", HasUsers: true, TokenStats: salesforce.TokenStats{Users: 2}}, "",
			map[string]salesforce.TokenStats{ForeignKey(ecaID18, "Partner Sync"): {Tokens: 4, Users: 3, Uses: 9}}},
		{"its tokens read per user: 1 token beyond its 5", ECAUsage{ID: ecaID18, Name: "Partner Sync", HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 5, Users: 5, Uses: 8}}, "",
			map[string]salesforce.TokenStats{ForeignKey(ecaID18, "Partner Sync"): {Tokens: 1, Users: 1, Uses: 1}}},
		{"as many users as the rows: the ECA's", ECAUsage{ID: ecaID18, Name: "Partner Sync", HasUsers: true, TokenStats: salesforce.TokenStats{Users: 5}}, "", nil},
		{"no evidence: the name decides", ECAUsage{ID: ecaID18, Name: "Partner Sync"}, "", nil},
		{"by its menu item's 0xI Id: the ECA's, whatever the figures", ECAUsage{ID: ecaID18, Name: "Partner Sync", HasUsers: true, TokenStats: salesforce.TokenStats{Users: 1}}, "0PpE1", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := group
			g.MenuItemID = c.menu
			p := Parts{TokensKnown: true, Tokens: []AppTokens{g}, ECAs: []ECAUsage{c.eca},
				MenuItems: []salesforce.AppMenuItem{{ID: "0PpE1", ApplicationID: ecaID18[:15], Label: "Partner Sync"}}}
			got := ForeignECATokens(&p)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, w := range c.want {
				if got[k] != w {
					t.Errorf("%s: %+v, want %+v", k, got[k], w)
				}
			}
			// Build files the rest under an uninstalled connected app, the
			// remainder under the ECA.
			p.ECAForeign = got
			snap, _ := Build("prod", p, (&config.Config{}).InventoryFor, nil, time.Unix(1_780_000_000, 0))
			var tokens []int64
			for _, a := range snap.Apps {
				tokens = append(tokens, a.Tokens)
				if a.Kind == KindConnectedApp && (a.Installed || a.ID != "" || a.Name != "Partner Sync") {
					t.Errorf("the other app's row: %s", row(a))
				}
			}
			if len(c.want) > 0 {
				r := c.want[ForeignKey(ecaID18, "Partner Sync")]
				if len(snap.Apps) != 2 || snap.Apps[0].Tokens != r.Tokens || snap.Apps[1].Tokens != 6-r.Tokens {
					t.Errorf("apps' tokens %v, want the other app's %d and the ECA's %d", tokens, r.Tokens, 6-r.Tokens)
				}
			} else if len(snap.Apps) != 1 || snap.Apps[0].Kind != KindExternalClientApp {
				t.Errorf("apps' tokens %v, want one ECA row", tokens)
			}
		})
	}
}
