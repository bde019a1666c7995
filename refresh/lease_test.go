package refresh

import (
	"context"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestLeaseOneHolder: the lease file on disk decides, one holder at a time;
// a restarted holder (same name) takes its lease back at once, another
// waits for its release or expiry.
func TestLeaseOneHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if ok, _, err := acquireLease(dir, "prod", "pod-0", now, 10*time.Minute); !ok || err != nil {
		t.Fatalf("a free lease: %v %v", ok, err)
	}
	if ok, l, err := acquireLease(dir, "prod", "pod-1", now.Add(time.Minute), 10*time.Minute); ok || err != nil || l.Holder != "pod-0" {
		t.Fatalf("a held lease was taken: %v %+v %v", ok, l, err)
	}
	if ok, _, _ := acquireLease(dir, "prod", "pod-0", now.Add(2*time.Minute), 10*time.Minute); !ok {
		t.Fatal("the holder could not renew its lease (a restart of the same replica)")
	}
	if ok, _, _ := acquireLease(dir, "prod", "pod-1", now.Add(11*time.Minute), 10*time.Minute); ok {
		t.Fatal("taken before the renewed lease expired")
	}
	if ok, _, _ := acquireLease(dir, "prod", "pod-1", now.Add(13*time.Minute), 10*time.Minute); !ok {
		t.Fatal("an expired lease was not taken")
	}
	// pod-0 can release nothing it does not hold; pod-1 releases its own.
	if err := releaseLease(dir, "prod", "pod-0", now.Add(14*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := acquireLease(dir, "prod", "pod-0", now.Add(14*time.Minute), 10*time.Minute); ok {
		t.Fatal("a lease released by a replica that did not hold it")
	}
	if err := releaseLease(dir, "prod", "pod-1", now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := acquireLease(dir, "prod", "pod-0", now.Add(15*time.Minute), 10*time.Minute); !ok {
		t.Fatal("a released lease was not taken at once")
	}
	// A damaged lease holds nobody back; an oversized one is an error.
	writeFile(t, leaseFile(dir, "prod"), "{not json")
	if ok, _, err := acquireLease(dir, "prod", "pod-1", now.Add(16*time.Minute), 10*time.Minute); !ok || err != nil {
		t.Fatalf("a damaged lease: %v %v", ok, err)
	}
	writeFile(t, leaseFile(dir, "prod"), string(make([]byte, maxLeaseFile+1)))
	if ok, _, err := acquireLease(dir, "prod", "pod-1", now.Add(17*time.Minute), 10*time.Minute); ok || err == nil {
		t.Fatalf("an oversized lease: %v %v", ok, err)
	}
}

// TestMovedOrgKeepsItsMemory: two replicas share the storage folder, as
// when sharding moves an org, or an HA pair. The second starts while the
// first holds the org's lease: it serves with the first's first-seen times
// and writes nothing; once the first stops (the org left it), the second
// takes the lease and writes the state.
func TestMovedOrgKeepsItsMemory(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	app := org.AddApp(sftest.App{Name: "Integration", Installed: true})
	org.AddToken(sftest.TokenSpec{User: org.AddUser("u@example.com", true), App: app, Created: org.Now().Add(-time.Hour)})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	storage := t.TempDir()
	cfg := testOrgConfig(t, ts.URL, config.SourceApps, config.SourceOAuthTokens)
	newR := func(holder string) *Refresher {
		r := newTestRefresher(t, cfg)
		r.storage = storage
		r.SetLease(holder, time.Hour)
		return r
	}
	run := func(r *Refresher) (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); r.Run(ctx) }()
		return func() { cancel(); <-done }
	}
	// until kicks r until its snapshot satisfies ok (a publish each). It
	// gives up only after minutes: a refresh under -race on a loaded
	// machine can take seconds, and the test means the state, not the time.
	until := func(r *Refresher, what string, ok func(*snapshot.Snapshot) bool) *snapshot.Snapshot {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
			if s := r.Snapshot(); s != nil && ok(s) {
				return s
			}
			r.Kick()
			time.Sleep(10 * time.Millisecond)
		}
		s := r.Snapshot()
		if s != nil {
			t.Logf("last: lease %q writes %+v apps %d", s.StorageLease, s.StorageWrites, len(s.Apps))
		}
		t.Fatalf("never: %s", what)
		return nil
	}
	written := func(s *snapshot.Snapshot) bool {
		return !s.StorageWrites[snapshot.StorageFileState].LastSuccess.IsZero()
	}

	a := newR("pod-0")
	stopA := run(a)
	sa := until(a, "pod-0 wrote the state", func(s *snapshot.Snapshot) bool { return written(s) && s.StorageLease == snapshot.StorageLeaseHeld })
	seenA := findApp(t, sa, "Integration").FirstSeen

	b := newR("pod-1")
	stopB := run(b)
	defer stopB()
	sb := until(b, "pod-1 read the apps", func(s *snapshot.Snapshot) bool {
		return s.StorageLease == snapshot.StorageLeaseElsewhere && len(s.Apps) > 0
	})
	if got := findApp(t, sb, "Integration").FirstSeen; !got.Equal(seenA) {
		t.Fatalf("pod-1's first-seen time %v, want pod-0's %v (the moved org's memory)", got, seenA)
	}
	if written(sb) {
		t.Fatal("pod-1 wrote the state while pod-0 held the lease")
	}

	stopA() // the org left pod-0: it releases the lease
	if l, err := readLease(storage, "test"); err != nil || l.Holder != "pod-0" || l.Expires.After(time.Now()) {
		t.Fatalf("pod-0's lease after it stopped: %+v %v, want released", l, err)
	}
	until(b, "pod-1 took the lease and wrote the state", func(s *snapshot.Snapshot) bool {
		return s.StorageLease == snapshot.StorageLeaseHeld && written(s)
	})
	if l, _ := readLease(storage, "test"); l.Holder != "pod-1" {
		t.Fatalf("lease holder %q, want pod-1", l.Holder)
	}
}
