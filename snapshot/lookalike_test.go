package snapshot

import (
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

func TestSkeleton(t *testing.T) {
	t.Parallel()
	same := []string{"Data Loader", "DataLoader", "data loader", " DATA-LOADER ", "Dаta Loader" /* Cyrillic а */, "Data\u200bLoader", "Dɑtɑ Lοader" /* Latin alpha, Greek omicron */, "Ｄａｔａ Ｌｏａｄｅｒ" /* fullwidth */, "Dáta Lóader", "Data_Loader", "Data 1oader", "Data IOader"}
	for _, s := range same {
		if got := Skeleton(s); got != Skeleton("Data Loader") {
			t.Errorf("Skeleton(%q) = %q, want %q", s, got, Skeleton("Data Loader"))
		}
	}
	for _, s := range []string{"Data Exporter", "Loader", "Data Loader Pro", "Dataloader Partner"} {
		if Skeleton(s) == Skeleton("Data Loader") {
			t.Errorf("Skeleton(%q) = Skeleton(\"Data Loader\")", s)
		}
	}
	if Skeleton("modern") != Skeleton("modem") {
		t.Errorf("rn is not read as m: %q %q", Skeleton("modern"), Skeleton("modem"))
	}
	// Bounded: a name of a million runes costs its first 255.
	if got := Skeleton(strings.Repeat("a", 1_000_000)); len(got) != maxSkeletonRunes {
		t.Errorf("skeleton of a long name: %d bytes", len(got))
	}
}

// TestLookAlikesAreNeverKnown (issue 22.9): with the approved "Data Loader"
// pinned by name in the inventory, apps whose names match it loosely are
// look-alikes of it, never known: another case (the existing rule), a
// Cyrillic letter, a zero-width space, a missing space. The approved app
// seen by two sources under one Id is one app; an unrelated unknown app is
// no look-alike; an exact twin (which the name entry approves too) is left
// to SalesforceSameNameApps.
func TestLookAlikesAreNeverKnown(t *testing.T) {
	t.Parallel()
	const (
		cyr   = "0H4000000000011AAA"
		zw    = "0H4000000000012AAA"
		joint = "0H4000000000013AAA"
		lower = "0H4000000000014AAA"
		other = "0H4000000000015AAA"
		twin  = "0H4000000000016AAA"
	)
	var p Parts
	p.AppsKnown = true
	for i, a := range []struct{ name, id string }{{"Data Loader", loaderID18}, {"Dаta Loader", cyr}, {"Data\u200bLoader", zw}, {"DataLoader", joint}, {"data loader", lower}, {"Reports Hub", other}, {"Data Loader", twin}} {
		menu := "0DS0" + string(rune('1'+i))
		p.MenuItems = append(p.MenuItems, salesforce.AppMenuItem{ID: menu, ApplicationID: a.id, Label: a.name})
		p.ConnectedApps = append(p.ConnectedApps, salesforce.ConnectedApplication{ID: a.id, Name: a.name})
		p.Tokens = append(p.Tokens, tokens(a.name, menu, 2))
	}
	p.TokensKnown = true
	// The approved app's API usage by its 15-character Id: the same app.
	p.APIUsage = usage([4]string{"Data Loader", loaderID15, loaderID15, "9"})
	cfg := &config.Config{Inventory: []config.InventoryEntry{{App: "Data Loader", Owner: "ops"}}}
	snap, _ := Build("prod", p, cfg.InventoryFor, nil, time.Unix(1_780_000_000, 0))
	got := map[string]string{}
	for _, a := range snap.Apps {
		got[a.ID] = a.LookAlikeOf
		if a.Known != (a.ID == loaderID18 || a.ID == twin) {
			t.Errorf("%q (%s): known=%v", a.Name, a.ID, a.Known)
		}
	}
	for _, id := range []string{cyr, zw, joint, lower} {
		if got[id] != "Data Loader" {
			t.Errorf("app %s: look-alike of %q, want \"Data Loader\"", id, got[id])
		}
	}
	if got[loaderID18] != "" || got[other] != "" || got[twin] != "" {
		t.Errorf("the approved app or an unrelated one marked a look-alike: %v", got)
	}
	if len(snap.Apps) != 7 {
		t.Errorf("%d apps, want 7 (the usage rows by Id are the approved app's)", len(snap.Apps))
	}
}
