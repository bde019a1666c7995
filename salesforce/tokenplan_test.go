package salesforce

import (
	"math"
	"testing"
	"time"
)

// TestPlanEdges: the bins cover [from, before) in whole seconds, ascending,
// finer towards before; a span too short to cut keeps its two ends.
func TestPlanEdges(t *testing.T) {
	from := time.Date(2016, 3, 1, 0, 0, 0, 0, time.UTC)
	before := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	e := planEdges(from, before)
	if !e[0].Equal(from) || !e[len(e)-1].Equal(before) {
		t.Fatalf("edges %v .. %v, want %v .. %v", e[0], e[len(e)-1], from, before)
	}
	for i := 1; i < len(e); i++ {
		if !e[i].After(e[i-1]) || e[i].Truncate(time.Second) != e[i] {
			t.Fatalf("edge %d: %v after %v", i, e[i], e[i-1])
		}
	}
	if len(e) != 13 { // 8 eighths, and 1/16 to 1/128 of the span before before
		t.Fatalf("%d edges: %v", len(e), e)
	}
	if last := before.Sub(e[len(e)-2]); last > before.Sub(from)/100 {
		t.Fatalf("the newest bin spans %v, want about 1/128 of the span", last)
	}
	short := planEdges(from, from.Add(3*time.Second))
	for i := 1; i < len(short); i++ {
		if !short[i].After(short[i-1]) {
			t.Fatalf("3-second span: edges %v", short)
		}
	}
}

// TestEstimateSplitsByRows: ranges cut from a skewed estimate expect equal
// rows, where equal time would give the newest eighth most of them.
func TestEstimateSplitsByRows(t *testing.T) {
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	before := from.Add(800 * 24 * time.Hour)
	e := &rowEstimate{edges: planEdges(from, before)}
	// Rows dense towards before: each bin's count by the density
	// 1/sqrt(age), as the fake org generates them.
	cdf := func(t time.Time) float64 {
		return 100_000 * (1 - math.Sqrt(before.Sub(t).Seconds()/before.Sub(from).Seconds()))
	}
	for i := range len(e.edges) - 1 {
		e.counts = append(e.counts, int(cdf(e.edges[i+1])-cdf(e.edges[i])))
	}
	r := e.split(timeRange{from, before}, 5)
	if len(r) != 5 || !r[0].from.Equal(from) || !r[4].before.Equal(before) {
		t.Fatalf("ranges %v", r)
	}
	for i, x := range r {
		if i > 0 && !x.from.Equal(r[i-1].before) {
			t.Fatalf("range %d starts at %v, the one before ends at %v", i, x.from, r[i-1].before)
		}
		if got := cdf(x.before) - cdf(x.from); got < 18_000 || got > 22_000 {
			t.Errorf("range %d (%v to %v) holds %.0f rows, want about 20,000", i, x.from, x.before, got)
		}
	}
	if even := splitRange(timeRange{from, before}, 5); cdf(even[4].before)-cdf(even[4].from) < 40_000 {
		t.Fatalf("time-even ranges are not skewed here: the test proves nothing")
	}
	// No estimate, or none in the range: time-even.
	var none *rowEstimate
	if got := none.split(timeRange{from, before}, 4); len(got) != 4 {
		t.Fatalf("nil estimate: %v", got)
	}
	empty := &rowEstimate{edges: []time.Time{from, before}, counts: []int{0}}
	if got := empty.split(timeRange{from, before}, 3); len(got) != 3 {
		t.Fatalf("empty estimate: %v", got)
	}
	// All rows in one second: no cut inside it, the range stays whole.
	dense := &rowEstimate{edges: []time.Time{from, from.Add(time.Second), before}, counts: []int{10_000, 0}}
	if got := dense.split(timeRange{from, from.Add(time.Second)}, 4); len(got) != 1 {
		t.Fatalf("one dense second: %v", got)
	}
}

// TestRowsLikeScalesByWhatWasRead: a cut range's rest is expected to be as
// far from the bins' even spread as the part just read was; nil or an
// empty expectation gives 0 (unknown).
func TestRowsLikeScalesByWhatWasRead(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1+d, 0, 0, 0, 0, time.UTC) }
	e := &rowEstimate{edges: []time.Time{day(0), day(10), day(20)}, counts: []int{1000, 10000}}
	read, rest := timeRange{day(10), day(12)}, timeRange{day(12), day(16)}
	if got := e.rows(rest); got != 4000 {
		t.Fatalf("rows(rest) = %d, want 4000", got)
	}
	for _, tc := range []struct{ got, want int }{
		{2000, 4000}, // as expected
		{4000, 8000}, // twice as dense as the bin says
		{500, 1000},  // a quarter
		{0, 0},
	} {
		if n := e.rowsLike(rest, read, tc.got); n != tc.want {
			t.Errorf("read %d of 2000 expected: rowsLike = %d, want %d", tc.got, n, tc.want)
		}
	}
	if n := (*rowEstimate)(nil).rowsLike(rest, read, 2500); n != 0 {
		t.Errorf("no estimate: %d, want 0", n)
	}
	empty := &rowEstimate{edges: []time.Time{day(0), day(10), day(20)}, counts: []int{0, 10000}}
	if n := empty.rowsLike(rest, timeRange{day(2), day(4)}, 2500); n != 0 {
		t.Errorf("read part expected empty: %d, want 0", n)
	}
}

// TestColdEdgesAndFrom: a read of every token's bins are counted back from
// its bound, the first with no lower bound; once the oldest token is known,
// the bins before it are dropped (a row counted there, created meanwhile,
// moves to the first kept bin) and the first kept bin starts at it.
func TestColdEdgesAndFrom(t *testing.T) {
	before := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	e := coldEdges(before)
	if len(e) != len(coldBinAges)+2 || !e[0].IsZero() || !e[len(e)-1].Equal(before) || !e[1].Equal(before.Add(-10*365*day)) || !e[len(e)-2].Equal(before.Add(-day)) {
		t.Fatalf("edges %v", e)
	}
	for i := 2; i < len(e); i++ {
		if !e[i].After(e[i-1]) {
			t.Fatalf("edge %d: %v not after %v", i, e[i], e[i-1])
		}
	}
	est := &rowEstimate{edges: e, counts: make([]int, len(e)-1)}
	for i := range est.counts {
		est.counts[i] = 10 * (i + 1)
	}
	oldest := before.Add(-400 * day) // within [before-2y, before-1y), the bin at index 4
	got := est.from(oldest)
	if !got.edges[0].Equal(oldest) || !got.edges[1].Equal(before.Add(-365*day)) || len(got.counts) != len(est.counts)-4 {
		t.Fatalf("from %v: edges %v", oldest, got.edges)
	}
	if got.counts[0] != 10+20+30+40+50 || got.total() != est.total() {
		t.Errorf("from %v: first bin %d, total %d; want 150 and %d", oldest, got.counts[0], got.total(), est.total())
	}
	if est.from(before) != nil || (&rowEstimate{edges: e, counts: make([]int, len(e)-1)}).from(oldest) != nil {
		t.Error("an estimate with no row left is not nil")
	}
}

// TestCursorLimitNearTheEnd: a large planned read asks the cap while the
// rows left give every cursor five pages, then each cursor's share in whole
// pages, one at least; an unplanned read always asks the cap.
func TestCursorLimitNearTheEnd(t *testing.T) {
	f := &tokenFetcher{parallel: 8, est: &rowEstimate{}}
	f.stats.Count = 300_000
	for _, tc := range []struct{ rows, want int }{
		{0, 2500}, {280_000, 2500}, {281_000, 2000}, {288_000, 1500}, {292_000, 1000}, {296_000, 500}, {299_999, 500},
	} {
		f.stats.Rows = tc.rows
		if got := f.cursorLimit(); got != tc.want {
			t.Errorf("%d of 300,000 rows delivered: limit %d, want %d", tc.rows, got, tc.want)
		}
	}
	f.est = nil
	if got := f.cursorLimit(); got != OauthTokenCursorCap {
		t.Errorf("unplanned read: limit %d, want the cap", got)
	}
}
