package main

// Repeated runs of the full sync's measures: each run reads the same fake
// org with every method one after another, so a run's ratios compare
// methods under the same load, and the medians over runs are what the bench
// reports.

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/stats"
)

var syncRuns = flag.Int("runs", 3, "how many times the fullsync measure reads each org with every method, alternating (its figures are then the medians, its ratios the medians of each run's; the keyset pager runs each time too unless -no-baselines)")

// seconds is each run's value of one measure, in seconds.
func seconds(runs []syncRun, d func(syncRun) time.Duration) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = d(r).Seconds()
	}
	return out
}

// ratios is each run's a/b.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		if b[i] > 0 {
			out[i] = a[i] / b[i]
		}
	}
	return out
}

// spread writes values as "4.38 s" for one, or "median 4.38 s (4.30 to 4.45)".
func spread(v []float64, unit string) string {
	if len(v) == 1 {
		return fmt.Sprintf("%.2f%s", v[0], unit)
	}
	return fmt.Sprintf("median %.2f%s (%.2f to %.2f)", stats.Median(v), unit, slices.Min(v), slices.Max(v))
}

// speedupTarget is the full sync's target against the keyset pager.
const speedupTarget = 8.0

// floorMargin is how close to a floor that prevents the target the sync
// must be instead: within 10%.
const floorMargin = 1.10

// speedupVerdict judges the full sync against its target from each run's
// ratios: the sync's speedup over the keyset pager, the floor's (a client
// that knows where every token is and decodes them as this one does), and
// the sync's time over the floor's. Met when the median speedup reaches the
// target; or when the floor's median speedup does not (a floor that
// prevents it) and the sync's median time is within floorMargin of the
// floor's. how says which.
func speedupVerdict(speedup, floorSpeedup, ofFloor []float64) (met bool, how string) {
	s, f, o := stats.Median(speedup), stats.Median(floorSpeedup), stats.Median(ofFloor)
	switch {
	case s >= speedupTarget:
		return true, fmt.Sprintf("%.1fx: %.0fx met", s, speedupTarget)
	case f < speedupTarget && o <= floorMargin:
		return true, fmt.Sprintf("%.2fx; the floor with the client's decoding is %.2fx, below %.0fx, and the sync %.2fx its time: within %.0f%% of a floor that prevents %.0fx, met",
			s, f, speedupTarget, o, (floorMargin-1)*100, speedupTarget)
	case f < speedupTarget:
		return false, fmt.Sprintf("%.2fx; the floor with the client's decoding is %.2fx, below %.0fx, but the sync %.2fx its time: not within %.0f%%, not met",
			s, f, speedupTarget, o, (floorMargin-1)*100)
	default:
		return false, fmt.Sprintf("%.2fx; the floor with the client's decoding reaches %.2fx: not met", s, f)
	}
}

// runList writes each run's values, for a result's note.
func runList(v []float64, unit string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.2f%s", x, unit)
	}
	return strings.Join(parts, ", ")
}
