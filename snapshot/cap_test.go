package snapshot

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

func TestCapApps(t *testing.T) {
	t.Parallel()
	snap := &Snapshot{}
	var tokens, requests int64
	for i := range 10 {
		a := AppUsage{Name: fmt.Sprintf("App %02d", i), Kind: KindConnectedApp, HasTokens: true, HasAPIUsage: true,
			TokenStats: salesforce.TokenStats{Tokens: int64(i), Users: 1}, Requests7d: int64(100 * i)}
		if i == 0 {
			a.Known = true // the least used, but on the inventory: kept
		}
		tokens, requests = tokens+a.Tokens, requests+a.Requests7d
		snap.Apps = append(snap.Apps, a)
	}
	if n := Cap(snap, 4); n != 7 || snap.AppsFolded != 7 {
		t.Fatalf("folded %d (%d), want 7", n, snap.AppsFolded)
	}
	var names []string
	var gotTokens, gotRequests int64
	for _, a := range snap.Apps {
		names = append(names, a.Name)
		gotTokens, gotRequests = gotTokens+a.Tokens, gotRequests+a.Requests7d
	}
	if fmt.Sprint(names) != "[(other) App 00 App 08 App 09]" {
		t.Errorf("kept %v, want the known app, the two busiest and (other)", names)
	}
	if gotTokens != tokens || gotRequests != requests {
		t.Errorf("totals %d tokens, %d requests; want %d, %d: nothing lost in the fold", gotTokens, gotRequests, tokens, requests)
	}
	if n := Cap(snap, 4); n != 0 {
		t.Errorf("a second cap folded %d", n)
	}
	if n := Cap(&Snapshot{Apps: make([]AppUsage, 3)}, 0); n != 0 {
		t.Errorf("no cap folded %d", n)
	}
}

// TestFoldsCoverEveryField: every field of AppUsage is declared either in
// folds (how it sums into the (other) row) or in notFolded, so a new figure
// cannot be left out of the (other) row by oversight.
func TestFoldsCoverEveryField(t *testing.T) {
	t.Parallel()
	declared := map[string]int{}
	for _, f := range folds {
		declared[f.field]++
	}
	for _, n := range notFolded {
		declared[n]++
	}
	typ := reflect.TypeFor[AppUsage]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		switch declared[name] {
		case 0:
			t.Errorf("AppUsage.%s is neither in folds nor in notFolded: declare how it sums into the (other) row", name)
		case 1:
		default:
			t.Errorf("AppUsage.%s is declared %d times", name, declared[name])
		}
		delete(declared, name)
	}
	for name := range declared {
		t.Errorf("folds or notFolded name %q, which is no field of AppUsage", name)
	}
}

// TestFoldSumsEveryFigure: folding two apps adds their counts, keeps the
// newest last use and the oldest first authorization, and sets a has-flag
// when either has it.
func TestFoldSumsEveryFigure(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_780_000_000, 0)
	a := AppUsage{HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: 1, Users: 2, Uses: 3, Stale: 4, InactiveTokens: 5, LastUsed: t0, FirstAuthorized: t0},
		HasSessions: true, Sessions: 6, Requests24h: 7, Requests7d: 8, Errors24h: 9, Errors7d: 10, LoginSuccess: 11, LoginFailure: 12}
	b := AppUsage{HasAPIUsage: true, HasLogins: true, TokenStats: salesforce.TokenStats{Tokens: 100, Users: 200, Uses: 300, Stale: 400, InactiveTokens: 500,
		LastUsed: t0.Add(time.Hour), FirstAuthorized: t0.Add(-time.Hour)},
		Sessions: 600, Requests24h: 700, Requests7d: 800, Errors24h: 900, Errors7d: 1000, LoginSuccess: 1100, LoginFailure: 1200}
	other := AppUsage{Name: OtherApps}
	other.Fold(&a)
	other.Fold(&b)
	want := AppUsage{Name: OtherApps, HasTokens: true, HasSessions: true, HasAPIUsage: true, HasLogins: true,
		TokenStats: salesforce.TokenStats{Tokens: 101, Users: 202, Uses: 303, Stale: 404, InactiveTokens: 505, LastUsed: t0.Add(time.Hour), FirstAuthorized: t0.Add(-time.Hour)},
		Sessions:   606, Requests24h: 707, Requests7d: 808, Errors24h: 909, Errors7d: 1010, LoginSuccess: 1111, LoginFailure: 1212}
	if !reflect.DeepEqual(other, want) {
		t.Errorf("folded:\n%+v\nwant:\n%+v", other, want)
	}
}
