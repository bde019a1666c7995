package refresh

import (
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

func TestStaleRule(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_780_000_000, 0)
	cutoff := salesforce.StaleCutoff(now, 90*24*time.Hour)
	day := 24 * time.Hour
	for _, c := range []struct {
		lastUsed, created time.Time
		want              bool
	}{
		{now.Add(-91 * day), now.Add(-200 * day), true},
		{now.Add(-89 * day), now.Add(-200 * day), false},
		{time.Time{}, now.Add(-91 * day), true}, // never used: its CreatedDate counts
		{time.Time{}, now.Add(-1 * day), false},
		{now.Add(-90 * day), time.Time{}, false}, // exactly stale_after: not yet
		{time.Time{}, time.Time{}, false},
	} {
		if got := salesforce.IsStale(c.lastUsed, c.created, cutoff); got != c.want {
			t.Errorf("salesforce.IsStale(%v, %v) = %v, want %v", c.lastUsed, c.created, got, c.want)
		}
		ms := func(t time.Time) int64 {
			if t.IsZero() {
				return 0
			}
			return t.UnixMilli()
		}
		if got := isStaleMs(ms(c.lastUsed), ms(c.created), cutoff.UnixMilli()); got != c.want {
			t.Errorf("isStaleMs(%v, %v) = %v, want %v: the two forms of the rule disagree", c.lastUsed, c.created, got, c.want)
		}
	}
}
