package detect

import "time"

// Dormant apps. An approved app unused for months that wakes and reads
// sensitive objects is a stolen token's best cover: no baseline of its
// recent traffic (there is none), and a volume far under any floor. The
// tracker notes when an app's use resumes after a gap of at least a day
// with no API request or OAuth login in its baseline, and how long the gap
// was; the figures export it while the resumption lies in the window.
//
// The latest wake is kept in the state file (version 3, state_v3.go): the
// baseline's last-seen times already include the wake, so without it a wake
// before a restart would no longer be seen.

// minWakeGap is the shortest gap, in hours, that counts as idle: two days,
// so that a job that runs once a day at the same hour never counts.
const minWakeGap = 48

// wake is when an app's use resumed after a gap, and the gap.
type wake struct {
	at, idle int32 // Unix hours
}

// lastUse is the latest hour of the app's baseline: its networks' last
// sightings, API requests and logins alike; 0 when it has none.
func (a *appState) lastUse() int32 {
	var last int32
	for _, e := range a.nets {
		last = max(last, e.last)
	}
	return last
}

// noteUse records that the app is used from hour h on, given its last use
// before (lastUse before the new data merged). A gap of minWakeGap hours or
// more is a wake; the latest is kept.
func (a *appState) noteUse(before, h int32) {
	if before == 0 || h-before < minWakeGap {
		return
	}
	if a.woke == nil || h >= a.woke.at {
		a.woke = &wake{at: h, idle: h - before}
	}
}

// dormantFigures fills in how long the app was idle before its use resumed
// in the window (from wsHour on); 0 when it did not resume in it.
func dormantFigures(f *AppFigures, a *appState, wsHour int32) {
	if a.woke != nil && a.woke.at >= wsHour {
		f.IdleBeforeWake = time.Duration(a.woke.idle) * time.Hour
	}
}
