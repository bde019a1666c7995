package refresh

import (
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

var appMetadataSources = []string{config.SourceApps, config.SourceOAuthTokens, config.SourceAppMetadata}

// Without Modify Metadata, the app_metadata source is refused and says
// which permission it lacks; the scopes stay unknown, never none.
func TestAppMetadataRefusedWithoutPermission(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, appMetadataSources...))
	_ = r.RefreshAll(t.Context())
	snap := r.Snapshot()
	st := snap.Sources[config.SourceAppMetadata]
	if st.Up || !strings.Contains(st.LastError, "Modify Metadata Through Metadata API Functions") || !strings.Contains(st.LastError, "INSUFFICIENT_ACCESS") {
		t.Errorf("status %+v; want down for want of Modify Metadata (INSUFFICIENT_ACCESS)", st)
	}
	if snap.Metadata != nil {
		t.Errorf("metadata %+v read without the permission", snap.Metadata)
	}
	for _, a := range snap.Apps {
		if a.Posture != nil && a.Posture.HasMetadata {
			t.Errorf("%s has scopes without the permission: %+v", a.Name, *a.Posture)
		}
	}
}

// With it, each connected app's scope classes and IP relaxation are read
// and joined by Id. Gaining full scope and losing IP restrictions are
// judged against the last read held: never on the first read (install
// day), once on the change, kept across a restart, not found by an HA
// peer starting after it, and not found again when an app is edited back
// and forth between reads' baselines.
func TestAppMetadataScopesAndChanges(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	o.org.SetPermission(sftest.PermModifyMetadata, true)
	o.org.UpdateApp(o.open, func(a *sftest.App) { a.Scopes, a.IPRelaxation = []string{"Full", "RefreshToken"}, "BYPASS" })
	o.org.UpdateApp(o.gate, func(a *sftest.App) { a.Scopes = []string{"Api", "Web", "CDPIngest", "Basic"} })
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	cfg := testOrgConfig(t, ts.URL, appMetadataSources...)
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
	snap := r.Snapshot()
	if snap.Metadata == nil || snap.Metadata.Apps != 3 || snap.Metadata.Calls != 2 {
		t.Fatalf("metadata %+v; want 3 apps in 2 calls", snap.Metadata)
	}
	open := postureApp(t, snap, "Open Loader")
	if !open.HasMetadata || !open.Scopes.Has(snapshot.ScopeFull) || !open.Scopes.Has(snapshot.ScopeRefreshToken) || open.IPPolicy != "relax" || len(open.Changes) != 0 {
		t.Errorf("Open Loader (full, refresh_token, BYPASS since install) read as %+v", *open)
	}
	gate := postureApp(t, snap, "Gated Tool")
	if want := snapshot.ScopesOf([]string{"api", "web", "cdp_ingest_api", "other"}); gate.Scopes != want || gate.IPPolicy != "enforce" {
		t.Errorf("Gated Tool's scopes %b, IP %s; want %b, enforce", gate.Scopes, gate.IPPolicy, want)
	}
	// The changes: Gated Tool gains full, Idle Sync relaxes IP with 2FA.
	o.org.UpdateApp(o.gate, func(a *sftest.App) { a.Scopes = append(a.Scopes, "Full") })
	o.org.UpdateApp(o.idle, func(a *sftest.App) { a.IPRelaxation = "BYPASS_2FA" })
	o.org.SetNow(o.now.Add(time.Hour))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	changedAt := o.now.Add(time.Hour).Unix()
	atRead := func(stamp int64) bool { return stampedAtRead(stamp, changedAt) }
	check := func(r *Refresher, when string) {
		t.Helper()
		snap := r.Snapshot()
		if ch := postureApp(t, snap, "Gated Tool").Changes; !atRead(ch[ChangeGainedFullScope]) || len(ch) != 1 {
			t.Errorf("%s: Gated Tool's changes %v; want gained_full_scope at %d", when, ch, changedAt)
		}
		if ch := postureApp(t, snap, "Idle Sync").Changes; !atRead(ch[ChangeLostIPRestrictions]) || len(ch) != 1 {
			t.Errorf("%s: Idle Sync's changes %v; want lost_ip_restrictions at %d", when, ch, changedAt)
		}
		if ch := postureApp(t, snap, "Open Loader").Changes; len(ch) != 0 {
			t.Errorf("%s: Open Loader, risky since install, has changes %v", when, ch)
		}
	}
	check(r, "after the change")
	o.org.SetNow(o.now.Add(2 * time.Hour))
	check(start(dir), "after a restart")
	peer := start(t.TempDir())
	for _, name := range []string{"Gated Tool", "Idle Sync"} {
		if ch := postureApp(t, peer.Snapshot(), name).Changes; len(ch) != 0 {
			t.Errorf("a replica's first read found changes of %s: %v", name, ch)
		}
	}
	// Edited back (full dropped, IP enforced again), then forth again: a
	// new change, stamped at the read that found it.
	o.org.UpdateApp(o.gate, func(a *sftest.App) { a.Scopes = []string{"Api"} })
	o.org.UpdateApp(o.idle, func(a *sftest.App) { a.IPRelaxation = "ENFORCE" })
	o.org.SetNow(o.now.Add(3 * time.Hour))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	check(r, "after the edit back")
	o.org.UpdateApp(o.gate, func(a *sftest.App) { a.Scopes = []string{"Api", "Full"} })
	o.org.SetNow(o.now.Add(4 * time.Hour))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ch := postureApp(t, r.Snapshot(), "Gated Tool").Changes; !stampedAtRead(ch[ChangeGainedFullScope], o.now.Add(4*time.Hour).Unix()) {
		t.Errorf("gaining full again: changes %v, want it stamped at the new read", ch)
	}
}

// Where listMetadata gives the apps Ids of their own (the documentation
// does not say they are the ConnectedApplication's), the scopes are still
// joined, by API name, and changes still judged.
func TestAppMetadataOwnIDsJoinByName(t *testing.T) {
	t.Parallel()
	o := newPostureOrg()
	o.org.Behavior.MetadataOwnIDs = true
	o.org.SetPermission(sftest.PermModifyMetadata, true)
	_, ts := sftest.Start(t, o.org, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts.URL, appMetadataSources...))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := postureApp(t, r.Snapshot(), "Open Loader"); !p.HasMetadata || !p.Scopes.Has(snapshot.ScopeRefreshToken) || p.IPPolicy != "enforce" {
		t.Fatalf("Open Loader read as %+v; want its default scopes joined by name", *p)
	}
	o.org.UpdateApp(o.open, func(a *sftest.App) { a.Scopes = []string{"Full"} })
	o.org.SetNow(o.now.Add(time.Hour))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ch := postureApp(t, r.Snapshot(), "Open Loader").Changes; !stampedAtRead(ch[ChangeGainedFullScope], o.now.Add(time.Hour).Unix()) {
		t.Errorf("changes %v; want gained_full_scope", ch)
	}
}

// stampedAtRead reports whether a change's stamp is the read at the org's
// time read: the client's clock is the org's Date header plus the time
// since that response, so a loaded machine may add a second or two, and
// the tests' reads are an hour apart.
func stampedAtRead(stamp, read int64) bool { return stamp >= read && stamp < read+60 }
