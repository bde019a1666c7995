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

var syncRuns = flag.Int("runs", 3, "how many times the fullsync measure reads each org with every method, one after another, each run starting with the next method (its figures are then the medians, its ratios the medians of each run's; the keyset pager runs each time too unless -no-baselines)")

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

// floorMargin is how close the sync must be to a floor that is itself
// below the target: within 10%.
const floorMargin = 1.10

// speedupMet judges the sync's speedup over the keyset pager by the median
// of each run's ratio.
func speedupMet(speedup []float64) (bool, string) {
	if stats.Median(speedup) >= speedupTarget {
		return true, fmt.Sprintf("%s faster: %.0fx met", spread(speedup, "x"), speedupTarget)
	}
	return false, fmt.Sprintf("%s faster: %.0fx not met", spread(speedup, "x"), speedupTarget)
}

// floorMet judges the sync against the floor with the client's decoding
// (a read that knows where every token is, decoding as this client does),
// by medians of each run's ratios: the floor's speedup over the keyset
// pager, and the sync's time over the floor's. Met when the floor is below
// the target and the sync within floorMargin of it; nil (not judged) when
// the floor reaches the target: then the speedup is the measure.
func floorMet(floorSpeedup, ofFloor []float64) (*bool, string) {
	f, o := stats.Median(floorSpeedup), stats.Median(ofFloor)
	switch {
	case f >= speedupTarget:
		return nil, fmt.Sprintf("the floor reaches %s the keyset pager's speed: not judged, the speedup is the measure", spread(floorSpeedup, "x"))
	case o <= floorMargin:
		return boolp(true), fmt.Sprintf("the floor is %s the keyset pager's speed, below %.0fx, and the sync takes %s its time: within %.0f%%, met",
			spread(floorSpeedup, "x"), speedupTarget, spread(ofFloor, "x"), (floorMargin-1)*100)
	default:
		return boolp(false), fmt.Sprintf("the floor is %s the keyset pager's speed, below %.0fx, but the sync takes %s its time: not within %.0f%%",
			spread(floorSpeedup, "x"), speedupTarget, spread(ofFloor, "x"), (floorMargin-1)*100)
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
