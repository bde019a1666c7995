package refresh

import (
	"math"
	"time"
)

// Bounds of every interval and retry the refresher schedules.
const (
	// minInterval is the shortest wait between two runs of a source.
	minInterval = time.Second
	// maxInterval is the longest: however tight the budget, a source runs
	// at least daily (the daily allocation renews within it).
	maxInterval = 24 * time.Hour
	// firstRetry is the wait after a first failure (or the interval, if shorter).
	firstRetry = time.Minute
	// maxBackoff is the longest backoff of a failing source whose interval is shorter.
	maxBackoff = time.Hour
)

// clampDuration converts f nanoseconds to a Duration within [lo, hi], in
// float first: a tiny budget or a huge cost must not overflow the
// conversion (it once made -9.22e9 s and a hot loop). NaN gives hi.
func clampDuration(f float64, lo, hi time.Duration) time.Duration {
	hi = max(hi, lo)
	switch {
	case math.IsNaN(f) || f >= float64(hi):
		return hi
	case f <= float64(lo):
		return lo
	}
	return time.Duration(f)
}

// stretchFactor is how much the intervals stretch: the projected daily
// requests, or those already spent in the last 24 hours, over the allowed
// daily requests; 1 when the budget is unknown (allowed <= 0) or a figure is
// not a number.
func stretchFactor(projected, spent24h, allowed float64) float64 {
	if !(allowed > 0) || math.IsInf(allowed, 1) {
		return 1
	}
	f := max(1, projected/allowed, spent24h/allowed)
	if math.IsNaN(f) {
		return 1
	}
	return f
}

// retryInput is what sets the wait after a failed run.
type retryInput struct {
	interval   time.Duration // the source's interval in force (stretched)
	fails      int           // consecutive failures, this one included
	spent      float64       // requests the failed run made
	allowed    float64       // daily requests the exporter may spend (0: unknown)
	spent24h   float64       // requests made in the last 24 hours
	limited    bool          // the org's allocation is used up
	permission bool          // a permission is missing
}

// retryDelay is the wait after a failed run. It backs off exponentially
// (a minute, or the interval if shorter, doubling per consecutive failure,
// up to the longer of the interval and an hour), and stays inside the
// budget: the wait is at least the time in which the budget earns back what
// the failed run spent, and at least the interval once the last 24 hours
// have spent the budget. An exhausted allocation waits five intervals (at
// most 15 minutes, at least one interval); a missing permission an hour.
func retryDelay(in retryInput) time.Duration {
	interval := clampDuration(float64(in.interval), minInterval, maxInterval)
	first := min(interval, firstRetry)
	wait := float64(first) * math.Pow(2, float64(max(in.fails, 1)-1))
	wait = min(wait, float64(max(interval, maxBackoff)))
	if in.limited {
		wait = max(wait, float64(max(interval, min(15*time.Minute, 5*interval))))
	}
	if in.permission {
		wait = max(wait, float64(max(interval, time.Hour)))
	}
	if in.allowed > 0 {
		wait = max(wait, in.spent*float64(24*time.Hour)/in.allowed)
		if in.spent24h >= in.allowed {
			wait = max(wait, float64(interval))
		}
	}
	return clampDuration(wait, minInterval, maxInterval)
}
