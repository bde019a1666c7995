package salesforce

import (
	"context"
	"iter"
	"sync"
	"time"
)

// TokenCuts is the Cuts of TokenQuery for tokens created at the given Unix
// milliseconds, ascending (as the previous read found them): ranges of
// whole seconds holding at most rows tokens each, except where one second
// alone holds more. rows <= 0 is one less than the cursor cap: a cursor that
// ends at exactly the cap cannot tell its end from the cap's, and is split.
func TokenCuts(created iter.Seq[int64], rows int) []time.Time {
	if rows <= 0 {
		rows = OauthTokenCursorCap - 1
	}
	var cuts []time.Time
	inRange, inSec := 0, 0
	sec, started := int64(0), false
	closeSec := func() {
		if inRange > 0 && inRange+inSec > rows {
			cuts = append(cuts, time.Unix(sec, 0).UTC())
			inRange = 0
		}
		inRange += inSec
	}
	for ms := range created {
		s := ms / 1000
		if ms < 0 && ms%1000 != 0 {
			s-- // floor, for times before 1970
		}
		if !started || s != sec {
			if started {
				closeSec()
			}
			sec, inSec, started = s, 0, true
		}
		inSec++
	}
	if started {
		closeSec()
	}
	return cuts
}

// cutsWithin is the query's cuts strictly inside (from, before), ascending.
func (f *tokenFetcher) cutsWithin(from, before time.Time) []time.Time {
	var out []time.Time
	for _, c := range f.q.Cuts {
		c = c.UTC().Truncate(time.Second)
		if c.After(from) && c.Before(before) && (len(out) == 0 || c.After(out[len(out)-1])) {
			out = append(out, c)
		}
	}
	return out
}

// spawner starts ranges: each gets a goroutine, and a semaphore bounds the
// requests in flight. A range that overflows spawns its remainder the same
// way. wait waits for every range spawned.
func (f *tokenFetcher) spawner(ctx context.Context, cancel context.CancelCauseFunc, workers int) (spawn func(timeRange), wait func()) {
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	spawn = func(r timeRange) {
		wg.Add(1)
		f.ranges.Add(1)
		go func() {
			defer wg.Done()
			defer f.steal(spawn) // this range's cursor is free: another range's far end may want it
			defer f.ranges.Add(-1)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			if err := f.fetchRange(ctx, r, spawn); err != nil {
				cancel(err)
			}
		}()
	}
	return spawn, wg.Wait
}
