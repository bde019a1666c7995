package textsafe

import "testing"

// TestCleanCleanTextDoesNotAllocate: a name already clean, in any script,
// comes back as it is, without a copy (a label value repeated in every
// series of an app).
func TestCleanCleanTextDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"Ünïcödé App 日本語 Sync", "Данные Loader"} {
		if got := Clean(s, 255); got != s {
			t.Fatalf("Clean(%q) = %q", s, got)
		}
		if n := testing.AllocsPerRun(100, func() { _ = Clean(s, 255) }); n != 0 {
			t.Errorf("Clean(%q): %v allocations, want 0", s, n)
		}
	}
}
