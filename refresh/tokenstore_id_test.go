package refresh

import (
	"testing"
	"time"
	"unsafe"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestTokenStoreKeysByID: two tokens share a user, an app and a CreatedDate
// millisecond. When the first is used, its row (found by its Id) gets the
// new figures; the (created, user, app) key alone updated the other one,
// the one with fewer uses, and the per-app sums went wrong.
func TestTokenStoreKeysByID(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 1, 9, 0, 0, 123e6, time.UTC)
	row := func(id string, uses int64, lastUsed time.Time) salesforce.OauthToken {
		return salesforce.OauthToken{ID: id, AppName: "Loader", UserID: "0055j000000USER1AAA", CreatedDate: salesforce.Time{Time: created}, LastUsedDate: salesforce.Time{Time: lastUsed}, UseCount: uses}
	}
	a, b := "0CQ5j0000000AaaGAA", "0CQ5j0000000BbbGAA"
	s := newTokenStore()
	s.upsert(s.entry(row(a, 5, created.Add(time.Hour))))
	s.upsert(s.entry(row(b, 3, created.Add(2*time.Hour))))
	if len(s.entries) != 2 {
		t.Fatalf("%d rows, want 2", len(s.entries))
	}
	used := created.Add(48 * time.Hour)
	s.upsert(s.entry(row(a, 7, used)))
	apps, _ := s.summarize(used, 90*24*time.Hour)
	if len(s.entries) != 2 || len(apps) != 1 || apps[0].Uses != 10 || !apps[0].LastUsed.Equal(used) {
		t.Fatalf("after a's use: %d rows, %+v; want 2 rows, 10 uses (7 + 3)", len(s.entries), apps)
	}
	got := map[int64]bool{}
	for _, e := range s.entries {
		got[e.useCount] = true
	}
	if !got[7] || !got[3] {
		t.Errorf("rows %+v: want a's 7 uses and b's 3", s.entries)
	}
	// Re-reading the same rows changes nothing.
	gen := s.gen
	s.upsert(s.entry(row(a, 7, used)))
	s.upsert(s.entry(row(b, 3, created.Add(2*time.Hour))))
	if s.gen != gen || len(s.entries) != 2 {
		t.Errorf("re-reading known rows: gen %d -> %d, %d rows", gen, s.gen, len(s.entries))
	}
	// A row from the token file has no Id: the first read with one adopts it.
	s.entries[0].id, s.entries[1].id = 0, 0
	s.upsert(s.entry(row(b, 3, created.Add(2*time.Hour))))
	s.upsert(s.entry(row(a, 7, used)))
	if len(s.entries) != 2 {
		t.Errorf("rows without Ids were not matched: %d rows", len(s.entries))
	}
	if _, ok := parseTokenID("not an id"); ok {
		t.Error("a non-Id parsed")
	}
	if k15, _ := parseTokenID(a[:15]); k15 != s.entry(row(a, 0, time.Time{})).id {
		t.Error("the 15 and 18-character forms of an Id differ")
	}
	// The row's size is the store's memory: a million tokens, 40 MB.
	if n := unsafe.Sizeof(tokEntry{}); n != 40 {
		t.Errorf("a row takes %d bytes, want 40", n)
	}
}
