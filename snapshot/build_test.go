package snapshot

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Ids of the build tests: an 18-character ConnectedApplication Id and its
// 15-character form, as ApiTotalUsage and some AppMenuItem rows carry it.
const (
	loaderID18 = "0H4000000000001AAA"
	loaderID15 = "0H4000000000001"
	mobileID18 = "0H4000000000002AAA"
	ecaID18    = "0xI000000000001AAA"
	ecaID2     = "0xI000000000002AAA"
)

func tokens(name, menu string, n int64) AppTokens {
	return AppTokens{Name: name, MenuItemID: menu, TokenStats: salesforce.TokenStats{Tokens: n, Users: n}}
}

func usage(rows ...[4]string) *UsageTotals {
	u := &UsageTotals{End: time.Unix(1_780_000_000, 0).UTC(), Req24: map[string]int64{}, Req7: map[string]int64{}, Err24: map[string]int64{}, Err7: map[string]int64{}, Names: map[string]string{}, IDs: map[string]string{}}
	for _, r := range rows { // name, id, key, requests
		n, err := strconv.ParseInt(r[3], 10, 64)
		if err != nil {
			panic(err)
		}
		u.Names[r[2]], u.IDs[r[2]], u.Req7[r[2]], u.Req24[r[2]] = r[0], r[1], n, n
	}
	return u
}

// row renders the fields the matching rules decide.
func row(a AppUsage) string {
	return fmt.Sprintf("%s %q id=%s menu=%s installed=%v known=%v tokens=%d req7d=%d sessions=%d", a.Kind, a.Name, a.ID, a.MenuItemID, a.Installed, a.Known, a.Tokens, a.Requests7d, a.Sessions)
}

func TestBuildAppMatching(t *testing.T) {
	t.Parallel()
	installed := Parts{
		AppsKnown:     true,
		ConnectedApps: []salesforce.ConnectedApplication{{ID: loaderID18, Name: "Data Loader"}},
		MenuItems:     []salesforce.AppMenuItem{{ID: "0DS01", ApplicationID: loaderID15, Label: "Data Loader"}},
	}
	with := func(p Parts, f func(*Parts)) Parts { f(&p); return p }
	cases := []struct {
		name      string
		parts     Parts
		inventory []config.InventoryEntry
		want      []string
	}{{
		name: "token rows join the installed app through the menu item, 15-character ApplicationId to 18-character Id",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3)}
		}),
		want: []string{`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=3 req7d=0 sessions=0`},
	}, {
		name:  "an installed app nobody authorized still gets a row",
		parts: with(installed, func(p *Parts) { p.TokensKnown = true }),
		want:  []string{`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=0 req7d=0 sessions=0`},
	}, {
		name:  "tokens without a menu item: uninstalled, no Id",
		parts: Parts{TokensKnown: true, Tokens: []AppTokens{tokens("Old Tool", "", 2)}},
		want:  []string{`connected_app "Old Tool" id= menu= installed=false known=false tokens=2 req7d=0 sessions=0`},
	}, {
		name: "a menu item without a ConnectedApplication row is uninstalled once the apps source has read the org",
		parts: Parts{AppsKnown: true, MenuItems: []salesforce.AppMenuItem{{ID: "0DS09", ApplicationID: mobileID18, Label: "Gone"}},
			TokensKnown: true, Tokens: []AppTokens{tokens("Gone", "0DS09", 1)}},
		want: []string{`connected_app "Gone" id=` + mobileID18 + ` menu=0DS09 installed=false known=false tokens=1 req7d=0 sessions=0`},
	}, {
		name: "before the apps source has read the org, a menu item counts as installed",
		parts: Parts{MenuItems: []salesforce.AppMenuItem{{ID: "0DS09", ApplicationID: mobileID18, Label: "Gone"}},
			TokensKnown: true, Tokens: []AppTokens{tokens("Gone", "0DS09", 1)}},
		want: []string{`connected_app "Gone" id=` + mobileID18 + ` menu=0DS09 installed=true known=false tokens=1 req7d=0 sessions=0`},
	}, {
		name: "API usage matches by Id first (15 to 18 characters), whatever the name",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3)}
			p.APIUsage = usage([4]string{"Data Loader (renamed)", loaderID15, loaderID15, "40"})
		}),
		want: []string{`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=3 req7d=40 sessions=0`},
	}, {
		name: "API usage with an unknown Id goes to the same-named app without an Id (an uninstalled one), which takes the Id",
		parts: Parts{TokensKnown: true, Tokens: []AppTokens{tokens("Old Tool", "", 2)},
			APIUsage: usage([4]string{"old tool", mobileID18[:15], mobileID18[:15], "7"})},
		want: []string{`connected_app "Old Tool" id=` + mobileID18[:15] + ` menu= installed=false known=false tokens=2 req7d=7 sessions=0`},
	}, {
		name: "API usage with an Id unlike every same-named app's gets a row of its own",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3)}
			p.APIUsage = usage([4]string{"Data Loader", mobileID18[:15], mobileID18[:15], "5"})
		}),
		want: []string{
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=3 req7d=0 sessions=0`,
			`connected_app "Data Loader" id=` + mobileID18[:15] + ` menu= installed=false known=false tokens=0 req7d=5 sessions=0`,
		},
	}, {
		name: "API usage without an Id matches by name, case-insensitively; unmatched names get a row",
		parts: with(installed, func(p *Parts) {
			p.APIUsage = usage([4]string{"DATA LOADER", "", "name:DATA LOADER", "9"}, [4]string{"(none)", "", "name:(none)", "2"})
		}),
		want: []string{
			`connected_app "(none)" id= menu= installed=false known=false tokens=0 req7d=2 sessions=0`,
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=0 req7d=9 sessions=0`,
		},
	}, {
		name: "an External Client App is its own row, apart from a same-named connected app",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3)}
			p.ECAs = []ECAUsage{{ID: ecaID18, Name: "Data Loader", HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 1, Users: 1}}}
		}),
		want: []string{
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=3 req7d=0 sessions=0`,
			`external_client_app "Data Loader" id=` + ecaID18 + ` menu= installed=true known=false tokens=1 req7d=0 sessions=0`,
		},
	}, {
		// Issue 21.1: OauthToken holds ECA tokens, usually without a menu item.
		name: "ECA token rows without a menu item are the ECA's, matched by label or developer name",
		parts: Parts{
			TokensKnown: true, Tokens: []AppTokens{tokens("Partner Sync", "", 4), tokens("field_companion", "", 2)},
			ECAs: []ECAUsage{{ID: ecaID18, Name: "Partner Sync", DeveloperName: "Partner_Sync"}, {ID: ecaID2, Name: "Field Companion", DeveloperName: "Field_Companion"}},
		},
		want: []string{
			`external_client_app "Field Companion" id=` + ecaID2 + ` menu= installed=true known=false tokens=2 req7d=0 sessions=0`,
			`external_client_app "Partner Sync" id=` + ecaID18 + ` menu= installed=true known=false tokens=4 req7d=0 sessions=0`,
		},
	}, {
		name: "ECA token rows whose menu item has a 0xI ApplicationId are the ECA's, with or without the ECA source",
		parts: with(installed, func(p *Parts) {
			p.MenuItems = append(p.MenuItems, salesforce.AppMenuItem{ID: "0PpE1", ApplicationID: ecaID18[:15], Label: "Partner Sync"}, salesforce.AppMenuItem{ID: "0PpE2", ApplicationID: ecaID2[:15], Label: "Unlisted"})
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Partner Sync", "0PpE1", 2), tokens("Partner Sync", "", 1), tokens("Unlisted", "0PpE2", 5)}
			p.ECAs = []ECAUsage{{ID: ecaID18, Name: "Partner Sync"}}
		}),
		want: []string{
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=0 req7d=0 sessions=0`,
			`external_client_app "Partner Sync" id=` + ecaID18 + ` menu= installed=true known=false tokens=3 req7d=0 sessions=0`,
			`external_client_app "Unlisted" id=` + ecaID2[:15] + ` menu= installed=true known=false tokens=5 req7d=0 sessions=0`,
		},
	}, {
		name: "figures read per user win over the ECA's OauthToken rows, which are not counted twice",
		parts: Parts{
			TokensKnown: true, Tokens: []AppTokens{tokens("Partner Sync", "", 1)},
			ECAs: []ECAUsage{{ID: ecaID18, Name: "Partner Sync", HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 7, Users: 3}}},
		},
		want: []string{`external_client_app "Partner Sync" id=` + ecaID18 + ` menu= installed=true known=false tokens=7 req7d=0 sessions=0`},
	}, {
		name: "two ECAs sharing a name take no token rows by name",
		parts: Parts{
			TokensKnown: true, Tokens: []AppTokens{tokens("Twin", "", 1)},
			ECAs: []ECAUsage{{ID: ecaID18, Name: "Twin"}, {ID: ecaID2, Name: "Other", DeveloperName: "twin"}},
		},
		want: []string{
			`connected_app "Twin" id= menu= installed=false known=false tokens=1 req7d=0 sessions=0`,
			`external_client_app "Other" id=` + ecaID2 + ` menu= installed=true known=false tokens=0 req7d=0 sessions=0`,
			`external_client_app "Twin" id=` + ecaID18 + ` menu= installed=true known=false tokens=0 req7d=0 sessions=0`,
		},
	}, {
		// Issue 21.7: an ECA's OAuth consumer has an 888 Id.
		name: "an 888 usage Id named as an ECA is that ECA's; other 888 Ids stay internal",
		parts: Parts{
			ECAs:     []ECAUsage{{ID: ecaID18, Name: "Partner Sync", DeveloperName: "Partner_Sync"}},
			APIUsage: usage([4]string{"Partner Sync", "888000000000001", "888000000000001", "5"}, [4]string{"", "888000000000002", "888000000000002", "2"}),
		},
		want: []string{
			`external_client_app "Partner Sync" id=` + ecaID18 + ` menu= installed=true known=false tokens=0 req7d=5 sessions=0`,
			`salesforce_internal "` + InternalApp + `" id=888000000000002 menu= installed=true known=false tokens=0 req7d=2 sessions=0`,
		},
	}, {
		name:  "an unknown 0xI usage Id is an External Client App",
		parts: Parts{APIUsage: usage([4]string{"New ECA", ecaID18[:15], ecaID18[:15], "3"})},
		want:  []string{`external_client_app "New ECA" id=` + ecaID18[:15] + ` menu= installed=false known=false tokens=0 req7d=3 sessions=0`},
	}, {
		// Issue 13: sessions carry only a name, and two apps share it. They
		// are credited to neither (no sessions series for them, rather than
		// a wrong one) but to "(unknown)".
		name: "same-name apps are kept apart; name-only sessions of a shared name go to (unknown), not the first of them",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3), tokens("Data Loader", "", 20), tokens("Solo", "", 1)}
			p.Sessions = map[string]int64{"Data Loader": 4, "solo": 2, NoLoginHistory: 1}
			p.Logins = map[string][2]int64{"data loader": {5, 1}, "Solo": {1, 0}}
		}),
		want: []string{
			`connected_app "(unknown)" id= menu= installed=false known=false tokens=0 req7d=0 sessions=5 has_sessions=true logins=5/1 has_logins=true`,
			`connected_app "Data Loader" id= menu= installed=false known=false tokens=20 req7d=0 sessions=0 has_sessions=false logins=0/0 has_logins=false`,
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=false tokens=3 req7d=0 sessions=0 has_sessions=false logins=0/0 has_logins=false`,
			`connected_app "Solo" id= menu= installed=false known=false tokens=1 req7d=0 sessions=2 has_sessions=true logins=1/0 has_logins=true`,
		},
	}, {
		name:  "two same-named apps whose ConnectedApplication is unknown take their AppMenuItem Ids: two series, two app_ids",
		parts: Parts{TokensKnown: true, Tokens: []AppTokens{tokens("Twin", "0DS07", 1), tokens("Twin", "0DS08", 2)}},
		want: []string{
			`connected_app "Twin" id=0DS07 menu=0DS07 installed=true known=false tokens=1 req7d=0 sessions=0`,
			`connected_app "Twin" id=0DS08 menu=0DS08 installed=true known=false tokens=2 req7d=0 sessions=0`,
		},
	}, {
		name:  "sessions of an app no other source knows get a row",
		parts: Parts{Sessions: map[string]int64{NoLoginHistory: 2}},
		want:  []string{`connected_app "(unknown)" id= menu= installed=false known=false tokens=0 req7d=0 sessions=2`},
	}, {
		name: "inventory by Id (15 against 18 characters) and by name",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3), tokens("Old Tool", "", 1), tokens("Stranger", "", 1)}
		}),
		inventory: []config.InventoryEntry{{App: "whatever the name", AppID: loaderID15, Owner: "ops"}, {App: "old tool", Owner: "it"}, {App: "Stranger", AppID: mobileID18, Owner: "x"}},
		want: []string{
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=true tokens=3 req7d=0 sessions=0`,
			`connected_app "Old Tool" id= menu= installed=false known=true tokens=1 req7d=0 sessions=0`,
			// An entry with an app_id matches only by Id, never by name.
			`connected_app "Stranger" id= menu= installed=false known=false tokens=1 req7d=0 sessions=0`,
		},
	}, {
		name: "a loose name match is a look-alike when an app has the exact name",
		parts: with(installed, func(p *Parts) {
			p.TokensKnown, p.Tokens = true, []AppTokens{tokens("Data Loader", "0DS01", 3), tokens("data loader ", "", 5), tokens("OLD TOOL", "", 1)}
		}),
		inventory: []config.InventoryEntry{{App: "Data Loader", Owner: "ops"}, {App: "Old Tool", Owner: "it"}},
		want: []string{
			`connected_app "Data Loader" id=` + loaderID18 + ` menu=0DS01 installed=true known=true tokens=3 req7d=0 sessions=0`,
			// No app is named exactly "Old Tool": the loose match stands.
			`connected_app "OLD TOOL" id= menu= installed=false known=true tokens=1 req7d=0 sessions=0`,
			`connected_app "data loader " id= menu= installed=false known=false tokens=5 req7d=0 sessions=0`,
		},
	}, {
		name:  "token figures are left out until the token source has succeeded",
		parts: Parts{Tokens: []AppTokens{tokens("Data Loader", "0DS01", 3)}},
		want:  nil,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{Inventory: c.inventory}
			snap, _ := Build("prod", c.parts, cfg.InventoryFor, map[string]time.Time{}, time.Unix(1_780_000_000, 0))
			var got []string
			for _, a := range snap.Apps {
				r := row(a)
				if c.parts.Logins != nil {
					r += fmt.Sprintf(" has_sessions=%v logins=%d/%d has_logins=%v", a.HasSessions, a.LoginSuccess, a.LoginFailure, a.HasLogins)
				}
				got = append(got, r)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("apps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestBuildFirstSeenIsPure(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_780_000_000, 500_000_000)
	earlier := now.Add(-48 * time.Hour).UTC().Truncate(time.Second)
	p := Parts{TokensKnown: true, Tokens: []AppTokens{tokens("Kept", "", 1), tokens("New", "", 1), tokens("Idle", "", 0)}}
	firstSeen := map[string]time.Time{"connected_app|Kept||": earlier}
	snap, added := Build("prod", p, func(string, string, string) *config.InventoryEntry { return nil }, firstSeen, now)
	if len(firstSeen) != 1 {
		t.Errorf("build wrote into firstSeen: %v", firstSeen)
	}
	if len(added) != 1 || !added["connected_app|New||"].Equal(now.UTC().Truncate(time.Second)) {
		t.Errorf("added = %v, want only New at %v", added, now.UTC().Truncate(time.Second))
	}
	for _, a := range snap.Apps {
		switch a.Name {
		case "Kept":
			if !a.FirstSeen.Equal(earlier) {
				t.Errorf("Kept first seen %v, want %v from the state", a.FirstSeen, earlier)
			}
		case "Idle":
			if !a.FirstSeen.IsZero() {
				t.Errorf("an app without tokens or traffic was stamped first seen: %v", a.FirstSeen)
			}
		}
	}
}

func TestBuildLimitsPreferTheHeader(t *testing.T) {
	t.Parallel()
	inv := func(string, string, string) *config.InventoryEntry { return nil }
	p := Parts{HasLimits: true, DailyAPIMax: 100, DailyAPIRemaining: 90}
	snap, _ := Build("prod", p, inv, nil, time.Now())
	if snap.DailyAPIMax != 100 || snap.DailyAPIRemaining != 90 {
		t.Errorf("limits: %d/%d, want 100/90 from /limits", snap.DailyAPIRemaining, snap.DailyAPIMax)
	}
	p.HeaderUsage = &salesforce.APIUsage{Used: 120, Max: 110}
	snap, _ = Build("prod", p, inv, nil, time.Now())
	if snap.DailyAPIMax != 110 || snap.DailyAPIRemaining != 0 {
		t.Errorf("limits: %d/%d, want 0/110 from the newer header, never negative", snap.DailyAPIRemaining, snap.DailyAPIMax)
	}
}

// TestBuildInternalApps: ApiTotalUsage rows with an 888 Id are
// Salesforce-internal apps: their own row, never uninstalled, never joined
// by name to a third-party app (whose uninstalled state must show).
func TestBuildInternalApps(t *testing.T) {
	t.Parallel()
	p := Parts{
		AppsKnown:   true,
		TokensKnown: true,
		// A third-party app named like an internal one, not installed.
		Tokens: []AppTokens{tokens("Salesforce for iOS", "", 2)},
		APIUsage: usage(
			[4]string{"", "888000000000001", "888000000000001", "40"},
			[4]string{"Salesforce for iOS", "888000000000002", "888000000000002", "7"},
			[4]string{"Phantom", "0H4000000000009", "0H4000000000009", "3"},
		),
	}
	snap, _ := Build("prod", p, func(string, string, string) *config.InventoryEntry { return nil }, map[string]time.Time{}, time.Unix(1_780_000_000, 0))
	var got []string
	for _, a := range snap.Apps {
		got = append(got, row(a))
	}
	want := []string{
		`connected_app "Phantom" id=0H4000000000009 menu= installed=false known=false tokens=0 req7d=3 sessions=0`,
		`connected_app "Salesforce for iOS" id= menu= installed=false known=false tokens=2 req7d=0 sessions=0`,
		`salesforce_internal "(salesforce internal)" id=888000000000001 menu= installed=true known=false tokens=0 req7d=40 sessions=0`,
		`salesforce_internal "Salesforce for iOS" id=888000000000002 menu= installed=true known=false tokens=0 req7d=7 sessions=0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("apps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
