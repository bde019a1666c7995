package refresh

import (
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// postureOrg is an org with an app open to all users whose tokens are valid
// until revoked and held by an admin, an admin-approved app with a 1-unit
// idle expiry, and one holder of Use Any API Client.
type postureOrg struct {
	org                   *sftest.Org
	now                   time.Time
	open, idle, gate, eca int
	admin, plain, bystand int
}

func newPostureOrg() *postureOrg {
	o := &postureOrg{org: sftest.NewOrg(), now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	org, now, day := o.org, o.now, 24*time.Hour
	org.SetNow(now)
	org.Behavior.APIAccessControl = true
	o.open = org.AddApp(sftest.App{Name: "Open Loader", Installed: true})
	o.idle = org.AddApp(sftest.App{Name: "Idle Sync", Installed: true, AdminApproved: true, RefreshIdle: true, RefreshPeriod: 1})
	o.gate = org.AddApp(sftest.App{Name: "Gated Tool", Installed: true, AdminApproved: true, RefreshPeriod: 12})
	o.admin = org.AddUser("admin@example.com", true)
	o.plain = org.AddUser("plain@example.com", true)
	o.bystand = org.AddUser("bystander@example.com", true)
	org.GrantUser(o.admin, "", sftest.PermModifyAllData, sftest.PermAuthorApex, sftest.PermAPIEnabled)
	org.GrantUser(o.plain, "", sftest.PermAPIEnabled, sftest.PermUseAnyAPIClient)
	org.AddToken(sftest.TokenSpec{User: o.admin, App: o.open, Created: now.Add(-300 * day), LastUsed: now.Add(-time.Hour)})
	org.AddToken(sftest.TokenSpec{User: o.plain, App: o.open, Created: now.Add(-30 * day), LastUsed: now.Add(-time.Hour)})
	// Idle 40 days under a 1-unit idle expiry: beyond it whatever the unit.
	org.AddToken(sftest.TokenSpec{User: o.plain, App: o.idle, Created: now.Add(-100 * day), LastUsed: now.Add(-40 * day)})
	// Idle 20 days: within a month, so not surely beyond it.
	org.AddToken(sftest.TokenSpec{User: o.plain, App: o.idle, Created: now.Add(-90 * day), LastUsed: now.Add(-20 * day)})
	org.AddToken(sftest.TokenSpec{User: o.plain, App: o.gate, Created: now.Add(-10 * day), LastUsed: now.Add(-day)})
	org.AddECA(sftest.ECASpec{Name: "Partner Portal", DeveloperName: "Partner_Portal", Users: []int{o.plain}, TokensPerUser: 1, LastUsed: now.Add(-time.Hour)})
	o.eca = org.ECAIndex("Partner Portal")
	org.UpdateApp(o.eca, func(a *sftest.App) { a.AdminApproved = true })
	return o
}

var postureSources = []string{config.SourceApps, config.SourceOAuthTokens, config.SourceECAs, config.SourcePosture}

func postureApp(t *testing.T, snap *snapshot.Snapshot, name string) *snapshot.AppPosture {
	t.Helper()
	for i := range snap.Apps {
		if snap.Apps[i].Name == name {
			if snap.Apps[i].Posture == nil {
				t.Fatalf("app %s has no posture", name)
			}
			return snap.Apps[i].Posture
		}
	}
	t.Fatalf("no app %s", name)
	return nil
}

// The posture source reads each app's policy and blast radius from the
// held token rows, and the org's bypass permission holders; a permission
// field the org lacks is unknown, never zero.
func TestPostureReadsPolicyBlastAndBypass(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, postureSources...))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	mad := slicesIndex(salesforce.BlastPermissions, salesforce.PermModifyAllData)
	api := slicesIndex(salesforce.BlastPermissions, salesforce.PermAPIEnabled)
	open := postureApp(t, snap, "Open Loader")
	if open.RefreshPolicy() != "until_revoked" || *open.AdminApprovedOnly || !open.HasBlast || open.Holders[mad] != 1 || open.Holders[api] != 2 || open.HasBeyond {
		t.Errorf("the open app's posture: %+v", *open)
	}
	idle := postureApp(t, snap, "Idle Sync")
	if idle.RefreshPolicy() != "idle_expiry" || !*idle.AdminApprovedOnly || !idle.HasBeyond || idle.BeyondPolicy != 1 || idle.Holders[mad] != 0 {
		t.Errorf("the idle-expiry app's posture: %+v; want one token beyond its policy", *idle)
	}
	if gate := postureApp(t, snap, "Gated Tool"); gate.RefreshPolicy() != "absolute_expiry" || gate.HasBeyond {
		t.Errorf("the absolute-expiry app's posture: %+v", *gate)
	}
	if eca := postureApp(t, snap, "Partner Portal"); eca.AdminApprovedOnly == nil || !*eca.AdminApprovedOnly || eca.RefreshPolicy() != "" {
		t.Errorf("the External Client App's posture: %+v; want admin approved, its refresh policy unknown", *eca)
	}
	p := snap.Posture
	if p == nil || p.Holders[salesforce.PermUseAnyAPIClient] != 1 || p.BlastUnknown != "" {
		t.Fatalf("org posture %+v; want one Use Any API Client holder", p)
	}
	if _, ok := p.Holders[salesforce.PermApproveUninstalledApps]; ok || p.Unknown[salesforce.PermApproveUninstalledApps] == "" {
		t.Errorf("a permission field the org lacks read as %v holders (reason %q); want unknown", p.Holders[salesforce.PermApproveUninstalledApps], p.Unknown[salesforce.PermApproveUninstalledApps])
	}
	if p.Calls != 2+len(salesforce.BypassPermissions)+1 {
		t.Errorf("%d requests for the posture; want the two policy reads, one per bypass permission and one for 2 token holders", p.Calls)
	}
	if len(open.Changes) != 0 || len(p.HolderIncreases) != 0 {
		t.Errorf("the first read found changes: %v %v", open.Changes, p.HolderIncreases)
	}
}

// Without token rows (GROUP BY aggregates) the blast radius is unknown
// with its reason; the policies are still read.
func TestPostureBlastUnknownWithAggregates(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	o.org.Behavior.OauthTokenAggregates = true
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, postureSources...))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if snap.TokenMode != TokenModeAggregate || snap.Posture == nil || snap.Posture.BlastUnknown == "" {
		t.Fatalf("mode %s, posture %+v; want the blast radius unknown", snap.TokenMode, snap.Posture)
	}
	if open := postureApp(t, snap, "Open Loader"); open.HasBlast || !open.HasPolicy {
		t.Errorf("open app %+v: want its policy, no blast radius", *open)
	}
}

// Where ExtlClntAppOauthPlcyCnfg is not readable, the External Client Apps'
// permitted users are unknown with a reason and the source still works.
func TestPostureECAPoliciesUnreadable(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	o.org.Behavior.NoECAPolicyObject = true
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, postureSources...))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	for _, a := range snap.Apps {
		if a.Name == "Partner Portal" && a.Posture != nil && a.Posture.HasPolicy {
			t.Errorf("an unreadable ECA policy read as %+v", *a.Posture)
		}
	}
	if open := postureApp(t, snap, "Open Loader"); !open.HasPolicy {
		t.Error("the connected apps' policies were not read")
	}
}

// Changes are judged against the last read the exporter held: the first
// read is the baseline (install day: no change however risky), a restart
// keeps the baseline and the changes found (no change is found twice or
// invented), and a second replica starting after a change finds none.
func TestPostureChangesAcrossRestartsAndReplicas(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	cfg := testOrgConfig(t, ts.URL, postureSources...)
	dir := t.TempDir()
	start := func(dir string) *Refresher {
		r, err := NewRefresher(cfg, Settings{StaleAfter: staleAfter, Inventory: func(_, _, _ string) *config.InventoryEntry { return nil }}, dir, quiet, nil, salesforce.WithRetry(2, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := start(dir)
	if ch := postureApp(t, r.Snapshot(), "Open Loader").Changes; len(ch) != 0 {
		t.Fatalf("install day found changes: %v", ch)
	}
	// The changes: Gated Tool opens to all users and loses its expiry,
	// the admin authorizes Idle Sync, and a second user gets Use Any API Client.
	o.org.UpdateApp(o.gate, func(a *sftest.App) { a.AdminApproved, a.RefreshPeriod = false, 0 })
	o.org.UpdateApp(o.eca, func(a *sftest.App) { a.AdminApproved = false })
	o.org.AddToken(sftest.TokenSpec{User: o.admin, App: o.idle, Created: o.now, LastUsed: o.now})
	o.org.GrantUser(o.bystand, "", sftest.PermUseAnyAPIClient)
	o.org.SetNow(o.now.Add(time.Hour))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	changedAt := o.now.Add(time.Hour).Unix()
	at := func(stamp int64) bool { return stampedAtRead(stamp, changedAt) }
	check := func(r *Refresher, when string) {
		t.Helper()
		snap := r.Snapshot()
		gate := postureApp(t, snap, "Gated Tool").Changes
		if !at(gate[ChangeOpenedToAllUsers]) || !at(gate[ChangeValidUntilRevoked]) || len(gate) != 2 {
			t.Errorf("%s: Gated Tool's changes %v; want opened_to_all_users and valid_until_revoked at %d", when, gate, changedAt)
		}
		if idle := postureApp(t, snap, "Idle Sync").Changes; !at(idle[ChangeModifyAllData]) || len(idle) != 1 {
			t.Errorf("%s: Idle Sync's changes %v; want first_modify_all_data at %d", when, idle, changedAt)
		}
		if eca := postureApp(t, snap, "Partner Portal").Changes; !at(eca[ChangeOpenedToAllUsers]) || len(eca) != 1 {
			t.Errorf("%s: the External Client App's changes %v; want opened_to_all_users at %d", when, eca, changedAt)
		}
		if open := postureApp(t, snap, "Open Loader").Changes; len(open) != 0 {
			t.Errorf("%s: Open Loader, held by the admin since install, has changes %v", when, open)
		}
		if inc := snap.Posture.HolderIncreases[salesforce.PermUseAnyAPIClient]; !at(inc) {
			t.Errorf("%s: Use Any API Client increase at %d, want %d", when, inc, changedAt)
		}
	}
	check(r, "after the change")
	// A restart, an hour on: the same changes, none new.
	o.org.SetNow(o.now.Add(2 * time.Hour))
	check(start(dir), "after a restart")
	// The HA peer that starts now (its own storage) takes it all as its baseline.
	peer := start(t.TempDir())
	if ch := postureApp(t, peer.Snapshot(), "Gated Tool").Changes; len(ch) != 0 {
		t.Errorf("a replica's first read found changes %v", ch)
	}
	if inc := peer.Snapshot().Posture.HolderIncreases; len(inc) != 0 {
		t.Errorf("a replica's first read found holder increases %v", inc)
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
