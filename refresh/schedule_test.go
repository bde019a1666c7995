package refresh

import (
	"math"
	"testing"
	"time"
)

func TestClampDuration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		f      float64
		lo, hi time.Duration
		want   time.Duration
	}{
		{"inside", float64(5 * time.Minute), time.Second, time.Hour, 5 * time.Minute},
		{"below", 3, time.Second, time.Hour, time.Second},
		{"negative", -1e30, time.Second, time.Hour, time.Second},
		{"above", float64(48 * time.Hour), time.Second, maxInterval, maxInterval},
		{"beyond int64 (once -9.22e9 s)", 1e300, time.Second, maxInterval, maxInterval},
		{"+Inf", math.Inf(1), time.Second, maxInterval, maxInterval},
		{"-Inf", math.Inf(-1), time.Second, maxInterval, time.Second},
		{"NaN", math.NaN(), time.Second, maxInterval, maxInterval},
		{"hi below lo", float64(time.Minute), time.Hour, time.Second, time.Hour},
	} {
		if got := clampDuration(c.f, c.lo, c.hi); got != c.want {
			t.Errorf("%s: clampDuration(%g, %v, %v) = %v, want %v", c.name, c.f, c.lo, c.hi, got, c.want)
		}
	}
}

func TestStretchFactor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name                         string
		projected, spent24h, allowed float64
		want                         float64
	}{
		{"within budget", 500, 100, 1000, 1},
		{"projected over", 4000, 100, 1000, 4},
		{"spent over", 10, 3000, 1000, 3},
		{"unknown budget", 1e9, 1e9, 0, 1},
		{"negative budget (a negative Max)", 100, 100, -5, 1},
		{"NaN budget", 100, 100, math.NaN(), 1},
		{"infinite budget", 100, 100, math.Inf(1), 1},
		{"tiny budget (api_budget_percent 1e-9)", 100, 0, 1e-9, 1e11},
		{"huge cost", math.Inf(1), 0, 1000, math.Inf(1)},
		{"NaN cost", math.NaN(), 0, 1000, 1},
	} {
		if got := stretchFactor(c.projected, c.spent24h, c.allowed); got != c.want && !(math.IsInf(got, 1) && math.IsInf(c.want, 1)) {
			t.Errorf("%s: stretchFactor = %g, want %g", c.name, got, c.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	m := time.Minute
	for _, c := range []struct {
		name string
		in   retryInput
		want time.Duration
	}{
		{"first failure: a minute", retryInput{interval: 5 * m, fails: 1}, m},
		{"first failure of a fast source: its interval", retryInput{interval: 10 * time.Second, fails: 1}, 10 * time.Second},
		{"doubles", retryInput{interval: 5 * m, fails: 3}, 4 * m},
		{"up to an hour", retryInput{interval: 5 * m, fails: 20}, time.Hour},
		{"up to the interval when longer", retryInput{interval: 6 * time.Hour, fails: 20}, 6 * time.Hour},
		{"a million failures do not overflow", retryInput{interval: 5 * m, fails: 1_000_000}, time.Hour},
		{"zero interval", retryInput{interval: 0, fails: 1}, time.Second},
		{"negative interval", retryInput{interval: -time.Hour, fails: 2}, 2 * time.Second},
		{"the budget earns back the failed run's calls: 20,000 calls at 2,500 a day", retryInput{interval: 5 * m, fails: 1, spent: 20000, allowed: 2500}, maxInterval},
		{"1,270 calls at 100,000 a day: 18 minutes", retryInput{interval: 5 * m, fails: 1, spent: 1270, allowed: 100000}, time.Duration(1270 * float64(24*time.Hour) / 100000)},
		{"budget spent: at least the interval", retryInput{interval: 30 * m, fails: 1, spent: 1, allowed: 1000, spent24h: 1000}, 30 * m},
		{"tiny budget", retryInput{interval: 5 * m, fails: 1, spent: 3, allowed: 1e-12}, maxInterval},
		{"allocation used up: five intervals", retryInput{interval: 2 * m, fails: 1, limited: true}, 10 * m},
		{"allocation used up: at most 15 minutes", retryInput{interval: 5 * m, fails: 1, limited: true}, 15 * m},
		{"allocation used up, long interval: the interval", retryInput{interval: time.Hour, fails: 1, limited: true}, time.Hour},
		{"missing permission: an hour", retryInput{interval: 5 * m, fails: 1, permission: true}, time.Hour},
		{"unknown budget ignores spent", retryInput{interval: 5 * m, fails: 1, spent: 1e12}, m},
		{"NaN spent waits the longest", retryInput{interval: 5 * m, fails: 1, spent: math.NaN(), allowed: 100}, maxInterval},
	} {
		if got := retryDelay(c.in); got != c.want {
			t.Errorf("%s: retryDelay(%+v) = %v, want %v", c.name, c.in, got, c.want)
		}
	}
}
