// Package stats holds small summaries of samples shared by the review and
// the bench.
package stats

import "slices"

// Number is what Median summarizes.
type Number interface{ ~int64 | ~float64 }

// Median is the middle value of v (the mean of the two middle ones for an
// even count, truncated for integers), 0 for none. v is not reordered.
func Median[T Number](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
