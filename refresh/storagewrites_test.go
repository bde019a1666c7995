package refresh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// noInventory is the settings of an org with no inventory.
var noInventory = Settings{StaleAfter: staleAfter, Inventory: func(_, _, _ string) *config.InventoryEntry { return nil }}

// TestStorageWriteFailuresReported: while the storage folder cannot be
// written (here a file stands where the folder should be, as a full or
// read-only volume would refuse the write), the refresher serves from memory
// and counts each failed write of the state and token files with its cause;
// once the folder can be written, both files are written and the failures
// stay counted.
func TestStorageWriteFailuresReported(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 200, Apps: 3, Users: 50, Seed: 4})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	storage := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(storage, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := NewRefresher(testOrgConfig(t, ts.URL), noInventory, storage, quiet, nil, salesforce.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	org.AddToken(sftest.TokenSpec{User: org.AddUser("later@example.com", true), App: 0, LastUsed: org.Now()})
	org.Advance(time.Minute)
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if len(snap.Apps) == 0 {
		t.Fatal("no data served while the folder cannot be written")
	}
	for _, file := range []string{snapshot.StorageFileState, snapshot.StorageFileTokens} {
		w := snap.StorageWrites[file]
		if w.Failures == 0 || !w.LastSuccess.IsZero() || !strings.Contains(w.LastError, "not a directory") {
			t.Errorf("%s while the folder cannot be written: %+v", file, w)
		}
	}
	failed := snap.StorageWrites

	if err := os.Remove(storage); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	org.AddToken(sftest.TokenSpec{User: org.AddUser("later2@example.com", true), App: 0, LastUsed: org.Now()})
	org.Advance(time.Minute)
	for range 2 { // the second publish carries the first one's write
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	snap = r.Snapshot()
	for _, file := range []string{snapshot.StorageFileState, snapshot.StorageFileTokens} {
		w := snap.StorageWrites[file]
		if w.Failures < failed[file].Failures || w.LastSuccess.Before(before) || w.LastError != "" {
			t.Errorf("%s once the folder can be written: %+v (before: %+v)", file, w, failed[file])
		}
	}
	for _, p := range []string{stateFile(storage, "test"), tokenFile(storage, "test")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("not written: %v", err)
		}
	}
}

// TestReadOnlyRefresherReportsNoWrites: a command's read-only refresher
// writes nothing, so its snapshots carry no write figures.
func TestReadOnlyRefresherReportsNoWrites(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 50, Apps: 2, Users: 10, Seed: 5})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	r, err := NewRefresher(testOrgConfig(t, ts.URL), noInventory, t.TempDir(), quiet, nil, salesforce.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r.SetReadOnlyState()
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := r.Snapshot().StorageWrites; w != nil {
		t.Errorf("a read-only refresher reports writes: %+v", w)
	}
}
