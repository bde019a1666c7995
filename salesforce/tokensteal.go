package salesforce

import (
	"sort"
	"sync/atomic"
	"time"
)

// Near the end of a planned read, a cursor that runs out of ranges would sit
// idle while another reads a long range alone: a range is split only when
// its cursor ends (at its limit), up to five pages later. So each range
// whose cursor is being read can give away its far end: an idle cursor
// takes the rows the range is expected to hold past where its cursor will
// stop, and the range's cursor keeps only the rows before the new bound
// (stopping at the first row past it).

// stealMargin is how far past its cursor's expected reach a range keeps
// its rows when it gives its far end away, in multiples of the cursor's
// limit: the bins spread tokens evenly and tokens bunch, so a cursor may
// reach further than expected. One that stops short of the bound leaves
// the rest to a range of its own, as any cut range does.
const stealMargin = 1.5

// activeRange is a range of a planned read whose cursor is being read.
type activeRange struct {
	from  time.Time
	limit int
	bound atomic.Int64 // the range's upper bound in Unix milliseconds (whole seconds); only lowered
}

func (a *activeRange) before() time.Time { return time.UnixMilli(a.bound.Load()).UTC() }

// passed reports whether a row of the range's cursor is at or past its bound.
func (a *activeRange) passed(t RevocableToken) bool {
	return a != nil && t.CreatedDate.UnixMilli() >= a.bound.Load()
}

// begin registers r's cursor so that steal may take r's far end; nil, and
// nothing to take, outside a planned read.
func (f *tokenFetcher) begin(r timeRange, limit int) *activeRange {
	if f.est == nil {
		return nil
	}
	a := &activeRange{from: r.from, limit: limit}
	a.bound.Store(r.before.UnixMilli())
	f.mu.Lock()
	if f.active == nil {
		f.active = map[*activeRange]struct{}{}
	}
	f.active[a] = struct{}{}
	f.mu.Unlock()
	return a
}

// end unregisters a's cursor and returns the range's bound from then on:
// r.before, or lower if its far end was taken.
func (f *tokenFetcher) end(a *activeRange, r timeRange) time.Time {
	if a == nil {
		return r.before
	}
	f.mu.Lock()
	delete(f.active, a)
	f.mu.Unlock()
	return a.before()
}

// below keeps a cursor's rows that fall before a range's lowered bound.
// A row at or past it means the rows before it are all there (they come in
// CreatedDate order): the range is then complete, whatever the cap did.
func below(rows []RevocableToken, bound time.Time, truncated bool) ([]RevocableToken, bool) {
	k := sort.Search(len(rows), func(i int) bool { return !rows[i].CreatedDate.Before(bound) })
	if k < len(rows) {
		return rows[:k], false
	}
	return rows, truncated
}

// steal gives the cursors left idle the far end of the range expected to
// hold the most rows past its cursor's reach, in pieces of a page or more.
func (f *tokenFetcher) steal(spawn func(timeRange)) {
	if f.est == nil {
		return
	}
	idle := f.parallel - int(f.ranges.Load())
	if idle <= 0 {
		return
	}
	f.mu.Lock()
	var best *activeRange
	var at, old time.Time
	most := 0
	for a := range f.active {
		before := a.before()
		reach := f.est.timeAt(f.est.rowsBefore(a.from) + stealMargin*float64(a.limit)).Add(time.Second)
		if !reach.After(a.from) || !reach.Before(before) {
			continue
		}
		if n := f.est.rows(timeRange{reach, before}); n > most {
			best, most, at, old = a, n, reach, before
		}
	}
	if best == nil || most < OauthTokenPageSize {
		f.mu.Unlock()
		return
	}
	best.bound.Store(at.UnixMilli())
	f.mu.Unlock()
	for _, p := range f.est.split(timeRange{at, old}, min(idle, most/OauthTokenPageSize)) {
		spawn(p)
	}
}
