package salesforce

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A first full read has no previous read to cut its ranges by (TokenQuery.
// Cuts), and tokens are far from even in time: most orgs grant more each
// year, and a rollout puts thousands in a week. Ranges of equal time then
// hold very different numbers of rows, and the cursors that drew the
// fullest ranges read alone at the end. A large read therefore counts its
// rows in a few CreatedDate bins first (one round of COUNT() queries) and
// starts one range per cursor, each expected to hold an equal share; a range
// that runs ahead of the others or behind them is evened out by the usual
// splitting, which then also splits by expected rows.

// planMinCursors is how many cursors' worth of rows (the cap each) a read
// must hold before it counts bins: below it the read is a few waves of
// cursors, and the round trip the counts take is not paid back.
const planMinCursors = 10

// rowEstimate is where a read expects its rows: the rows counted in each
// CreatedDate bin [edges[i], edges[i+1]), spread evenly within the bin.
type rowEstimate struct {
	edges  []time.Time
	counts []int
}

// planEdges are the bins' bounds for [from, before): eighths of the span,
// and finer bins towards before, where tokens are densest (halving down to
// 1/128 of the span). Whole seconds, ascending, from and before included.
func planEdges(from, before time.Time) []time.Time {
	span := before.Sub(from)
	edges := []time.Time{from, before}
	for j := 1; j < 8; j++ {
		edges = append(edges, from.Add(span*time.Duration(j)/8))
	}
	for d := span / 16; d >= span/128 && d > 0; d /= 2 {
		edges = append(edges, before.Add(-d))
	}
	for i := range edges {
		edges[i] = edges[i].Truncate(time.Second)
	}
	slices.SortFunc(edges, func(a, b time.Time) int { return a.Compare(b) })
	edges = slices.CompactFunc(edges, func(a, b time.Time) bool { return a.Equal(b) })
	// from and before are whole seconds already, so truncation keeps every
	// edge within them.
	return edges
}

// estimate counts the rows of [from, before) in planEdges's bins.
func (f *tokenFetcher) estimate(ctx context.Context, from, before time.Time) *rowEstimate {
	return f.countBins(ctx, planEdges(from, before))
}

// coldBinAges are the bins of a cold read of every token, counted back from
// its upper bound: its oldest token is not known yet when they are asked,
// together with it and COUNT(). Finer towards the bound, where tokens are
// densest; years wide past a year.
var coldBinAges = []time.Duration{
	1 * day, 3 * day, 7 * day, 14 * day, 30 * day, 91 * day, 182 * day,
	365 * day, 2 * 365 * day, 3 * 365 * day, 5 * 365 * day, 10 * 365 * day,
}

const day = 24 * time.Hour

// coldEdges are the bins' bounds for every token created before before:
// the zero time (no lower bound), then before less each of coldBinAges.
func coldEdges(before time.Time) []time.Time {
	edges := []time.Time{{}}
	for i := len(coldBinAges) - 1; i >= 0; i-- {
		edges = append(edges, before.Add(-coldBinAges[i]).Truncate(time.Second))
	}
	return append(edges, before)
}

// countBins counts the rows in each bin [edges[i], edges[i+1]), all at
// once (a zero lower edge is no bound). A COUNT() answer has no records
// and no query locator, so these hold no cursor slot. It returns nil when
// a count fails: the read then slices by time, and the row queries report
// the error if it persists.
func (f *tokenFetcher) countBins(ctx context.Context, edges []time.Time) *rowEstimate {
	e := &rowEstimate{edges: edges}
	e.counts = make([]int, len(e.edges)-1)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for i := range e.counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soql := "SELECT COUNT() FROM OauthToken" + f.where(createdRange(e.edges[i], e.edges[i+1])...)
			info, err := Stream(ctx, f.c, soql, func(struct{}) bool { return true }, withoutCursor())
			f.mu.Lock()
			f.stats.Requests += max(info.Pages, 1)
			f.mu.Unlock()
			if err != nil {
				failed.Store(true)
				return
			}
			e.counts[i] = info.TotalSize
		}()
	}
	wg.Wait()
	if failed.Load() || e.total() == 0 {
		return nil
	}
	return e
}

// from is the estimate for rows from t on, t the oldest row: the bins that
// end by t are dropped (their rows, if any were counted, go to the first
// kept bin), and the first kept bin starts at t. nil when none is left or
// no row is.
func (e *rowEstimate) from(t time.Time) *rowEstimate {
	if e == nil {
		return nil
	}
	i, moved := 0, 0
	for i < len(e.counts)-1 && !e.edges[i+1].After(t) {
		moved += e.counts[i]
		i++
	}
	if !e.edges[i+1].After(t) {
		return nil
	}
	out := &rowEstimate{edges: append([]time.Time{t}, e.edges[i+1:]...), counts: append([]int(nil), e.counts[i:]...)}
	out.counts[0] += moved
	if out.total() == 0 {
		return nil
	}
	return out
}

func (e *rowEstimate) total() int {
	n := 0
	for _, c := range e.counts {
		n += c
	}
	return n
}

// rowsBefore is how many rows are expected before t.
func (e *rowEstimate) rowsBefore(t time.Time) float64 {
	var n float64
	for i, c := range e.counts {
		a, b := e.edges[i], e.edges[i+1]
		switch {
		case !t.After(a):
			return n
		case !t.Before(b):
			n += float64(c)
		default:
			return n + float64(c)*float64(t.Sub(a))/float64(b.Sub(a))
		}
	}
	return n
}

// rows is how many rows r is expected to hold (0 without an estimate).
func (e *rowEstimate) rows(r timeRange) int {
	if e == nil {
		return 0
	}
	return int(e.rowsBefore(r.before) - e.rowsBefore(r.from))
}

// rowsLike is how many rows r is expected to hold, given that read, just
// before it, held got rows: the bins' estimate scaled by how far they were
// off there (tokens bunch within a bin, and the bins spread them evenly).
// 0 without an estimate or when read was expected empty.
func (e *rowEstimate) rowsLike(r, read timeRange, got int) int {
	want := e.rows(read)
	if want <= 0 {
		return 0
	}
	return int(float64(e.rows(r)) * float64(got) / float64(want))
}

// timeAt is the whole second by which rows rows are expected.
func (e *rowEstimate) timeAt(rows float64) time.Time {
	var n float64
	for i, c := range e.counts {
		if c > 0 && n+float64(c) >= rows {
			a, b := e.edges[i], e.edges[i+1]
			return a.Add(time.Duration(float64(b.Sub(a)) * (rows - n) / float64(c))).Truncate(time.Second)
		}
		n += float64(c)
	}
	return e.edges[len(e.edges)-1]
}

// split cuts r into at most n ranges of whole seconds expected to hold
// equal rows; time-even (splitRange) where it expects none.
func (e *rowEstimate) split(r timeRange, n int) []timeRange {
	if e == nil || n <= 1 {
		return splitRange(r, n)
	}
	lo, hi := e.rowsBefore(r.from), e.rowsBefore(r.before)
	if hi-lo < 1 {
		return splitRange(r, n)
	}
	out := make([]timeRange, 0, n)
	from := r.from
	for i := 1; i < n; i++ {
		at := e.timeAt(lo + (hi-lo)*float64(i)/float64(n))
		if !at.After(from) || !at.Before(r.before) {
			continue // a bin too dense to cut within a second, or the range's end
		}
		out = append(out, timeRange{from, at})
		from = at
	}
	return append(out, timeRange{from, r.before})
}

// cursorLimit is how many rows a new cursor of the read asks for: the cap
// while the rows not yet delivered give every cursor that many pages; near
// the end, each cursor's share of them in whole pages (one at least). A
// cursor's pages come one after another, so a cursor that asked for the cap
// when few rows were left read up to five pages alone at the end while the
// others sat idle; smaller cursors end together, the rest of a cut one
// split among the idle. The pages are the same: a limit is whole pages.
// Only a read large enough to plan by bins (f.est): a smaller one is a few
// cursors at most, where each cut adds a query and a part page (and a
// query that may fail); with the previous read's cuts, each range holds a
// cursor's worth already.
func (f *tokenFetcher) cursorLimit() int {
	if f.est == nil || f.parallel <= 0 {
		return OauthTokenCursorCap
	}
	f.mu.Lock()
	left := f.stats.Count - f.stats.Rows
	f.mu.Unlock()
	pages := left / OauthTokenPageSize / f.parallel
	return min(max(pages, 1)*OauthTokenPageSize, OauthTokenCursorCap)
}
