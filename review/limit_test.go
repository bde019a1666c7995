package review

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// bigOrg is a snapshot and detail with two unknown apps of n stale tokens
// each, every token held by its own deactivated user.
func bigOrg(n int) (*snapshot.Snapshot, *Detail) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	snap := &snapshot.Snapshot{Org: "prod", Taken: now}
	d := &Detail{Taken: now, Inactive: map[string]time.Time{}}
	for _, app := range []string{"Big", "Other"} {
		snap.Apps = append(snap.Apps, snapshot.AppUsage{Name: app, Kind: snapshot.KindConnectedApp, HasTokens: true, TokenStats: salesforce.TokenStats{Tokens: int64(n), Users: int64(n)}})
		for i := range n {
			id := fmt.Sprintf("005%s%09d", app[:1], i)
			d.Tokens = append(d.Tokens, TokenRow{App: app, Kind: snapshot.KindConnectedApp, Username: fmt.Sprintf("%s-%d@example.com", app, i), UserID: id,
				AuthorizedAt: now.Add(-400 * day), LastUsed: now.Add(-200 * day)})
			d.Inactive[salesforce.ID(id).Key()] = now.Add(-10 * day)
		}
	}
	return snap, d
}

func noInventory(string, string, string) *config.InventoryEntry { return nil }

func TestMaxRowsBoundsThePerUserLists(t *testing.T) {
	t.Parallel()
	snap, d := bigOrg(700)
	o := DefaultOptions()
	full := Build(snap, d, noInventory, o)
	if len(full.Stale) != 1400 || len(full.Leavers) != 1400 || full.MoreStale != 0 {
		t.Fatalf("without MaxRows: %d stale, %d leavers, %d left out", len(full.Stale), len(full.Leavers), full.MoreStale)
	}
	o.MaxRows = 50
	r := Build(snap, d, noInventory, o)
	if len(r.Stale) != 50 || r.MoreStale != 1350 || len(r.Leavers) != 50 || r.MoreLeavers != 1350 {
		t.Errorf("MaxRows 50: %d stale (%d more), %d leavers (%d more)", len(r.Stale), r.MoreStale, len(r.Leavers), r.MoreLeavers)
	}
	for _, u := range append(r.Unknown, r.AppEvidence...) {
		if len(u.Authorizations) != 50 || u.MoreAuthorizations != 650 {
			t.Errorf("%s: %d authorizations, %d more; want 50 and 650", u.App, len(u.Authorizations), u.MoreAuthorizations)
		}
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "?app=NAME") {
		t.Errorf("no note on the rows left out: %q", r.Notes)
	}
	var small, big bytes.Buffer
	if err := Write(&small, []*Report{r}, "html"); err != nil {
		t.Fatal(err)
	}
	if err := Write(&big, []*Report{full}, "html"); err != nil {
		t.Fatal(err)
	}
	if small.Len()*5 > big.Len() || !strings.Contains(small.String(), "650 more are left out") {
		t.Errorf("bounded page is %d bytes against %d unbounded, or does not say what was left out", small.Len(), big.Len())
	}

	// One app's full list: every row of "big", the others still cut.
	o.FullApp = "BIG"
	r = Build(snap, d, noInventory, o)
	counts := map[string]int{}
	for _, t := range r.Stale {
		counts[t.App]++
	}
	if counts["Big"] != 700 || counts["Other"] != 50 {
		t.Errorf("?app=Big: stale rows per app %v, want Big 700 and Other 50", counts)
	}
	for _, u := range r.AppEvidence {
		want := map[string]int{"Big": 700, "Other": 50}[u.App]
		if len(u.Authorizations) != want {
			t.Errorf("?app=Big: %s has %d authorizations, want %d", u.App, len(u.Authorizations), want)
		}
	}
}

func TestFullAppWithoutFindingGetsASection(t *testing.T) {
	t.Parallel()
	snap, d := bigOrg(3)
	o := DefaultOptions()
	o.FullApp = "Other"
	// Known apps with active users have no finding of their own.
	inv := func(_, app, _ string) *config.InventoryEntry { return &config.InventoryEntry{App: app} }
	for i := range snap.Apps {
		snap.Apps[i].Known, snap.Apps[i].Installed = true, true
	}
	for i := range d.Tokens {
		d.Tokens[i].LastUsed, d.Tokens[i].UserActive = d.Taken, true
	}
	d.Inactive = map[string]time.Time{}
	r := Build(snap, d, inv, o)
	var apps []string
	for _, e := range r.AppEvidence {
		apps = append(apps, fmt.Sprintf("%s:%d", e.App, len(e.Authorizations)))
	}
	if strings.Join(apps, ",") != "Other:3" {
		t.Errorf("evidence sections %v, want Other:3 only", apps)
	}
}

func TestShardAndHistoryOf(t *testing.T) {
	t.Parallel()
	snap, d := bigOrg(1)
	day0 := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	snap.History = []snapshot.HistoryDay{{Day: day0, App: "Big", Users: 4, Tokens: 5, Requests: 6, Errors: 1}}
	o := DefaultOptions()
	o.History = HistoryOf(snap)
	o.Shard = &ShardInfo{Index: 1, Count: 3}
	r := Build(snap, d, noInventory, o)
	if r.Shard == nil || r.Shard.Index != 1 || !strings.Contains(strings.Join(r.Notes, "\n"), "shard 1 of 3") {
		t.Errorf("shard not named: %+v %q", r.Shard, r.Notes)
	}
	if len(r.History) != 1 || r.History[0] != (DayRow{Day: day0, App: "Big", Users: 4, Tokens: 5, Requests: 6, Errors: 1}) {
		t.Errorf("history = %+v", r.History)
	}
	o.Shard = &ShardInfo{Index: 0, Count: 1}
	if r := Build(snap, d, noInventory, o); r.Shard != nil || strings.Contains(strings.Join(r.Notes, "\n"), "shard") {
		t.Error("an unsharded report names a shard")
	}
}
