package refresh

import (
	"cmp"
	"slices"
	"time"
)

// FirstSeenRetention is how long the state keeps an app's first-seen time
// after the app was last seen holding tokens, with API usage in the 7-day
// window, or installed: the 7-day usage window plus three weeks of margin.
// An app forgotten after it and seen again counts as new (its first-seen
// time is stamped again, and NewAppAuthorized fires for it).
const FirstSeenRetention = 30 * 24 * time.Hour

// lastSeenWriteEvery is how stale a saved last-seen time may be: touching an
// app marks the state for saving only when its saved time is older, so a
// steady org does not rewrite its state file at every publish.
const lastSeenWriteEvery = 24 * time.Hour

// fillLastSeen gives every first-seen app without a last-seen time (a state
// file from before last-seen existed) the load time, and drops last-seen
// times of apps with no first-seen time.
func (st *orgState) fillLastSeen(now time.Time) {
	now = now.UTC().Truncate(time.Second)
	for k := range st.FirstSeen {
		if _, ok := st.LastSeen[k]; !ok {
			st.LastSeen[k] = now
		}
	}
	for k := range st.LastSeen {
		if _, ok := st.FirstSeen[k]; !ok {
			delete(st.LastSeen, k)
		}
	}
}

// clampSeen moves the first- and last-seen times later than now back to
// now: a state file written under a clock that ran ahead, or edited, would
// otherwise keep a future first-seen time for ever and never forget an app
// whose last-seen time lies ahead. Moved to now, they age from now. It
// returns how many times it moved.
func (st *orgState) clampSeen(now time.Time) int {
	now = now.UTC().Truncate(time.Second)
	n := 0
	for _, m := range []map[string]time.Time{st.FirstSeen, st.LastSeen} {
		for k, t := range m {
			if t.After(now) {
				m[k] = now
				n++
			}
		}
	}
	return n
}

// touchSeen records that the apps of keys were seen now. It reports whether
// the state should be saved (a saved last-seen time went stale).
func (st *orgState) touchSeen(keys []string, now time.Time) (dirty bool) {
	now = now.UTC().Truncate(time.Second)
	for _, k := range keys {
		if _, ok := st.FirstSeen[k]; !ok {
			continue
		}
		if prev, ok := st.LastSeen[k]; !ok || now.Sub(prev) >= lastSeenWriteEvery {
			dirty = true
		}
		st.LastSeen[k] = now
	}
	return dirty
}

// pruneSeen forgets the first-seen times of apps not seen for
// FirstSeenRetention, except those in live (seen at this publish), and then,
// when more than limit remain (limit > 0), the least recently seen: apps not
// in exported (the apps with a series of their own) go before those that
// are. It returns how many it forgot for age and for the limit.
func (st *orgState) pruneSeen(now time.Time, limit int, live, exported map[string]bool) (aged, evicted int) {
	st.clampSeen(now) // the clock may have stepped back since the load
	for k := range st.FirstSeen {
		if live[k] {
			continue
		}
		if ls, ok := st.LastSeen[k]; !ok || now.Sub(ls) > FirstSeenRetention {
			delete(st.FirstSeen, k)
			delete(st.LastSeen, k)
			aged++
		}
	}
	if limit <= 0 || len(st.FirstSeen) <= limit {
		return aged, 0
	}
	type entry struct {
		key      string
		exported bool
		lastSeen time.Time
	}
	entries := make([]entry, 0, len(st.FirstSeen))
	for k := range st.FirstSeen {
		entries = append(entries, entry{k, exported[k], st.LastSeen[k]})
	}
	// Evicted first: not exported, then seen longest ago, then by key.
	slices.SortFunc(entries, func(x, y entry) int {
		if x.exported != y.exported {
			if y.exported {
				return -1
			}
			return 1
		}
		if c := x.lastSeen.Compare(y.lastSeen); c != 0 {
			return c
		}
		return cmp.Compare(x.key, y.key)
	})
	for _, e := range entries[:len(entries)-limit] {
		delete(st.FirstSeen, e.key)
		delete(st.LastSeen, e.key)
		evicted++
	}
	return aged, evicted
}
