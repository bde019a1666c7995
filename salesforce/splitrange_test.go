package salesforce

import (
	"testing"
	"time"
)

// TestSplitRange: the pieces cover the range exactly, in whole seconds, in
// order, as even as they can be, and never more than its seconds.
func TestSplitRange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		secs, n, want int
	}{
		{10, 1, 1}, {10, 2, 2}, {10, 3, 3}, {10, 10, 10}, {3, 5, 3}, {1, 4, 1}, {86400 * 365, 6, 6},
	} {
		r := timeRange{t0, t0.Add(time.Duration(tc.secs) * time.Second)}
		got := splitRange(r, tc.n)
		if len(got) != tc.want {
			t.Fatalf("%d s in %d: %d pieces, want %d", tc.secs, tc.n, len(got), tc.want)
		}
		from := r.from
		minLen, maxLen := time.Duration(1<<62), time.Duration(0)
		for _, p := range got {
			if !p.from.Equal(from) || !p.before.After(p.from) || p.before.Sub(p.from)%time.Second != 0 {
				t.Fatalf("%d s in %d: piece %v–%v after %v", tc.secs, tc.n, p.from, p.before, from)
			}
			minLen, maxLen = min(minLen, p.before.Sub(p.from)), max(maxLen, p.before.Sub(p.from))
			from = p.before
		}
		if !from.Equal(r.before) || maxLen-minLen > time.Second {
			t.Fatalf("%d s in %d: pieces end at %v (want %v), lengths %v to %v", tc.secs, tc.n, from, r.before, minLen, maxLen)
		}
	}
}

// TestPiecesFor: the rest of a cut range goes on whole while every cursor
// has a range; idle cursors get a piece each, none smaller than a page.
func TestPiecesFor(t *testing.T) {
	for _, tc := range []struct {
		parallel, ranges, remaining, want int
	}{
		{5, 5, 0, 1},     // every cursor busy
		{5, 9, 20000, 1}, // more queued than cursors
		{5, 3, 0, 3},     // two idle, count unknown: one each and ours
		{5, 1, 20000, 5}, // alone: one per cursor
		{5, 1, 700, 2},   // but no piece under a page
		{5, 1, 300, 1},   // a part page stays whole
		{1, 1, 20000, 1}, // one cursor: the rest goes on whole
	} {
		f := &tokenFetcher{parallel: tc.parallel}
		f.ranges.Store(int64(tc.ranges))
		if got := f.piecesFor(tc.remaining); got != tc.want {
			t.Errorf("parallel %d, ranges %d, remaining %d: %d pieces, want %d", tc.parallel, tc.ranges, tc.remaining, got, tc.want)
		}
	}
}
