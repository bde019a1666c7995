package salesforce

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stealFetcher is a planned read of 10,000 rows spread evenly over 10,000
// seconds from t0, with parallel cursors of which busy read ranges.
func stealFetcher(parallel, busy int) (*tokenFetcher, time.Time) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &tokenFetcher{parallel: parallel, est: &rowEstimate{edges: []time.Time{t0, t0.Add(10_000 * time.Second)}, counts: []int{10_000}}}
	f.ranges.Store(int64(busy))
	return f, t0
}

// TestStealTakesTheFarEnd: a cursor left idle takes the far end of the
// range expected to hold the most rows past its cursor's reach (its limit,
// with the margin); the range keeps its rows up to there, and the pieces
// cover the rest exactly, one per idle cursor, none under a page.
func TestStealTakesTheFarEnd(t *testing.T) {
	f, t0 := stealFetcher(8, 5) // three cursors idle
	short := f.begin(timeRange{t0, t0.Add(2_000 * time.Second)}, 2500)
	long := f.begin(timeRange{t0.Add(2_000 * time.Second), t0.Add(10_000 * time.Second)}, 1000)
	var got []timeRange
	f.steal(func(r timeRange) { got = append(got, r) })
	if !short.before().Equal(t0.Add(2_000 * time.Second)) {
		t.Errorf("the range within its cursor's reach gave its end away: bound %v", short.before())
	}
	reach := t0.Add(2_000*time.Second + time.Duration(stealMargin*1000)*time.Second + time.Second)
	if !long.before().Equal(reach) {
		t.Fatalf("long range's bound %v, want %v (its cursor's reach with the margin)", long.before(), reach)
	}
	if len(got) != 3 {
		t.Fatalf("%d pieces for three idle cursors: %v", len(got), got)
	}
	at := reach
	for _, r := range got {
		if !r.from.Equal(at) || !r.before.After(r.from) || f.est.rows(r) < OauthTokenPageSize {
			t.Fatalf("pieces %v do not cover [%v, end) in pages", got, reach)
		}
		at = r.before
	}
	if !at.Equal(t0.Add(10_000 * time.Second)) {
		t.Errorf("pieces end at %v, want the range's old bound", at)
	}
	// The range's cursor ends: its bound is the lowered one.
	if b := f.end(long, timeRange{t0.Add(2_000 * time.Second), t0.Add(10_000 * time.Second)}); !b.Equal(reach) {
		t.Errorf("end returned %v, want %v", b, reach)
	}
}

// TestStealLeavesWhatIsNotWorthIt: no cursor idle, no active range, a far
// end of less than a page, or an unplanned read: nothing is taken.
func TestStealLeavesWhatIsNotWorthIt(t *testing.T) {
	spawned := 0
	spawn := func(timeRange) { spawned++ }
	f, t0 := stealFetcher(8, 8)
	a := f.begin(timeRange{t0, t0.Add(10_000 * time.Second)}, 500)
	f.steal(spawn)
	f2, _ := stealFetcher(8, 2)
	f2.steal(spawn)
	f3, _ := stealFetcher(8, 2)
	small := f3.begin(timeRange{t0, t0.Add(1_700 * time.Second)}, 500) // reach 751 s: 948 rows past it
	f4, _ := stealFetcher(8, 2)
	f4.begin(timeRange{t0, t0.Add(1_200 * time.Second)}, 500) // reach 751 s: 448 rows past it, under a page
	f4.steal(spawn)
	f5 := &tokenFetcher{parallel: 8}
	if f5.begin(timeRange{t0, t0.Add(10_000 * time.Second)}, 500) != nil {
		t.Error("an unplanned read registered a range to steal from")
	}
	f5.steal(spawn)
	if spawned != 0 || !a.before().Equal(t0.Add(10_000*time.Second)) {
		t.Errorf("%d pieces spawned, busy range's bound %v", spawned, a.before())
	}
	f3.steal(spawn)
	if spawned != 1 || small.before().After(t0.Add(752*time.Second)) {
		t.Errorf("a far end of 948 rows: %d pieces, bound %v", spawned, small.before())
	}
}

// TestBelowKeepsRowsBeforeTheBound: rows before a lowered bound are kept; a
// row past it makes the range complete whatever the cap did; with none past
// it a truncated cursor stays truncated (its rest is cut as usual).
func TestBelowKeepsRowsBeforeTheBound(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	row := func(ms int) RevocableToken {
		var r RevocableToken
		r.CreatedDate = Time{t0.Add(time.Duration(ms) * time.Millisecond)}
		return r
	}
	rows := []RevocableToken{row(0), row(999), row(1000), row(2500)}
	got, tr := below(slices.Clone(rows), t0.Add(time.Second), true)
	if len(got) != 2 || tr {
		t.Errorf("bound at 1 s: kept %d, truncated %v; want 2, false", len(got), tr)
	}
	got, tr = below(slices.Clone(rows), t0.Add(3*time.Second), true)
	if len(got) != 4 || !tr {
		t.Errorf("bound past every row: kept %d, truncated %v; want 4, true", len(got), tr)
	}
	a := &activeRange{}
	a.bound.Store(t0.Add(time.Second).UnixMilli())
	if a.passed(row(999)) || !a.passed(row(1000)) || (*activeRange)(nil).passed(row(5000)) {
		t.Error("passed is wrong at the bound")
	}
}

// TestCursorStopsPastALoweredBound: a range's cursor whose far end was taken
// stops at its first row past the new bound, instead of reading on to its
// limit: five pages of three rows, the bound in the second page; it asks
// that page and at most the one it asked ahead, and the range keeps the
// rows before the bound, complete.
func TestCursorStopsPastALoweredBound(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	page := func(w http.ResponseWriter, k int) {
		var recs []string
		for j := range 3 {
			recs = append(recs, fmt.Sprintf(`{"Id":"0CQ%d","CreatedDate":%q}`, 3*k+j, t0.Add(time.Duration(3*k+j)*time.Second).Format(DateTimeLayout)))
		}
		next := ""
		if k < 4 {
			next = fmt.Sprintf(`,"nextRecordsUrl":"/services/data/v66.0/query/01g-%d"`, 3*(k+1))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"totalSize":15,"done":%v%s,"records":[%s]}`, k == 4, next, strings.Join(recs, ","))
	}
	o, c := newPagedOrg(t, func(w http.ResponseWriter, r *http.Request) {
		k := 0
		if i := strings.LastIndex(r.URL.Path, "-"); i >= 0 {
			n, _ := strconv.Atoi(r.URL.Path[i+1:])
			k = n / 3
		}
		page(w, k)
	})
	f := &tokenFetcher{c: c, fields: tokenFields, est: &rowEstimate{edges: []time.Time{t0, t0.Add(time.Hour)}, counts: []int{15}}}
	r := timeRange{t0, t0.Add(time.Hour)}
	a := f.begin(r, 2500)
	a.bound.Store(t0.Add(4 * time.Second).UnixMilli())
	rows, _, truncated, err := f.cursor(t.Context(), f.selectSOQL(createdRange(r.from, r.before), "CreatedDate", 2500), 2500, a)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(o.requests()); n > 3 {
		t.Errorf("%d requests, want the two pages to the bound and at most one asked ahead: %q", n, o.requests())
	}
	bound := f.end(a, r)
	rows, truncated = below(rows, bound, truncated)
	if len(rows) != 4 || truncated || !rows[3].CreatedDate.Equal(t0.Add(3*time.Second)) {
		t.Errorf("kept %d rows (truncated %v), want the four before the bound, complete", len(rows), truncated)
	}
}
