package cli

import "time"

// orgClock is an hour of the fake org's clock that a test runs at.
type orgClock struct {
	name string
	at   time.Time
}

// midnightClocks are the hours at which a date computed from the org's clock
// is most often wrong: just after midnight UTC, when yesterday's Daily
// ApiTotalUsage file is not yet published (a real org publishes it some
// hours after the day ends), and just before it. A test of something dated
// by the day runs at both, so it can never pass or fail by the hour of the
// run. The day is today's, so the org's clock and the exporter's stay within
// a day of each other.
func midnightClocks() []orgClock {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	return []orgClock{
		{"00:30 UTC", today.Add(30 * time.Minute)},
		{"23:59 UTC", today.Add(23*time.Hour + 59*time.Minute)},
	}
}
