package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OauthToken is one OAuth approval (a refresh-token grant) as the exporter
// reads it. It never carries AccessToken, RequestToken or DeleteToken.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_oauthtoken.htm
type OauthToken struct {
	// ID is the token's Id (0CQ...). The object reference says it is always
	// null, but real orgs return it (troystaylor/SharingIsCaring#2); "" when
	// null.
	ID            string `json:"Id"`
	AppName       string `json:"AppName"`
	AppMenuItemID string `json:"AppMenuItemId"` // empty when the app is not installed
	UserID        string `json:"UserId"`
	User          *struct {
		IsActive bool   `json:"IsActive"`
		Username string `json:"Username,omitempty"`
	} `json:"User"`
	CreatedDate  Time  `json:"CreatedDate"`
	LastUsedDate Time  `json:"LastUsedDate"` // zero when never used
	UseCount     int64 `json:"UseCount"`
}

// UserActive reports User.IsActive, true when the relationship is missing.
func (t OauthToken) UserActive() bool { return t.User == nil || t.User.IsActive }

// Username returns User.Username when it was selected.
func (t OauthToken) Username() string {
	if t.User == nil {
		return ""
	}
	return t.User.Username
}

// Field lists. Id is selected and used as the token's key where an org
// returns it; nothing relies on it, since the docs say it is always null.
// AccessToken and RequestToken are never selected; DeleteToken only by
// RevocableTokens.
const (
	tokenFields       = "Id, AppName, AppMenuItemId, UserId, User.IsActive, CreatedDate, LastUsedDate, UseCount"
	tokenReviewFields = "Id, AppName, AppMenuItemId, UserId, User.IsActive, User.Username, CreatedDate, LastUsedDate, UseCount"
	tokenRevokeFields = tokenReviewFields + ", DeleteToken"
)

// Secret is a value that must not be printed: its String, GoString and JSON
// forms are redacted. Reveal returns the value.
type Secret struct{ v string }

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return "[redacted]" }

// MarshalJSON never writes the value.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// UnmarshalJSON reads the value.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v != nil {
		s.v = *v
	}
	return nil
}

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// RevocableToken is an OauthToken with its DeleteToken, for revocation only.
type RevocableToken struct {
	OauthToken
	DeleteToken Secret `json:"DeleteToken"`
}

// ClockMargin keeps the newest seconds out of a fetch bounded by "now": the
// org's clock is only known to the second (from the Date header), and a token
// created after the bound is read by the next fetch, while one created before
// a bound that was set in the org's future would be missed for good.
const ClockMargin = 2 * time.Second

// OauthToken's special row limits: pages of 500 and no more than 2,500 rows per cursor.
const (
	OauthTokenPageSize  = 500
	OauthTokenCursorCap = 2500
)

// TokenQuery selects which OauthToken rows to fetch.
type TokenQuery struct {
	// Where is an extra SOQL condition, ANDed with the partition bounds.
	Where string
	// From and Before bound CreatedDate: From <= CreatedDate < Before. Before
	// defaults to the org's current time less ClockMargin, rounded down to the
	// second; From to the oldest token.
	From, Before time.Time
	// Concurrency bounds the partitions fetched at once (default 8).
	Concurrency int
	// Usernames adds User.Username (for the review; never for metrics).
	Usernames bool
	// SkipCount skips the COUNT() check.
	SkipCount bool
	// Partitions is how many CreatedDate slices to start with (default two per
	// range read at once: the workers, bounded by the client's open cursors).
	// Use 1 when few rows are expected: one cursor, split only if it
	// reaches the cap.
	Partitions int
	// Latest is for a one-shot read that no later fetch completes (the
	// review's per-user detail, revoke): the default Before is then
	// ClockMargin past the org's clock instead of before it, so a token
	// created in the current second, or a second ahead of the clock the Date
	// header gave, is read too. An incremental sync leaves it false: its
	// next fetch starts at Before, and a bound in the org's future would skip
	// the tokens created before it for good.
	Latest bool
	// Cuts are where to start new ranges instead of even slices: CreatedDate
	// bounds, ascending, from the previous read of the same tokens (see
	// TokenCuts). Each range then holds at most a cursor's worth of rows, so
	// a cursor rarely reaches the cap and no query spans more than it reads.
	// Cuts outside (From, Before) are ignored. Tokens created since the
	// previous read fall in the last range, which splits as usual when it
	// fills.
	Cuts []time.Time
}

// TokenFetchStats describes a partitioned fetch.
type TokenFetchStats struct {
	Rows       int       // rows delivered
	Count      int       // COUNT() for the same bounds (-1 when skipped)
	Before     time.Time // the upper bound used: the next incremental sync starts here
	Partitions int       // cursors opened
	Requests   int       // query requests made, COUNT() included
}

// ErrCountMismatch is returned (wrapped in *CountMismatchError) when the rows
// fetched do not add up to COUNT(), typically because tokens were revoked
// while the fetch ran.
var ErrCountMismatch = errors.New("salesforce: OauthToken rows do not match COUNT()")

// CountMismatchError gives the two numbers.
type CountMismatchError struct{ Count, Rows int }

func (e *CountMismatchError) Error() string {
	return fmt.Sprintf("OauthToken: fetched %d rows but COUNT() is %d", e.Rows, e.Count)
}

// Is matches ErrCountMismatch.
func (e *CountMismatchError) Is(target error) bool { return target == ErrCountMismatch }

// OauthTokens fetches every OauthToken row matching q exactly once and calls
// fn for each (never concurrently). Because a cursor stops after 2,500 rows,
// it splits the CreatedDate range into partitions that are fetched in
// parallel; a partition that reaches the cap keeps the rows before its last
// second and splits what is left. A second holding more than 2,500 tokens is
// walked by UserId and then AppName. The total is checked against COUNT().
func (c *Client) OauthTokens(ctx context.Context, q TokenQuery, fn func(OauthToken)) (TokenFetchStats, error) {
	f := &tokenFetcher{c: c, q: q, fields: tokenFields, emit: func(t RevocableToken) { fn(t.OauthToken) }}
	if q.Usernames {
		f.fields = tokenReviewFields
	}
	return f.run(ctx)
}

// RevocableTokens fetches tokens as OauthTokens does, with usernames and their
// DeleteToken. Only the revoke path calls it: the DeleteToken revokes the grant.
func (c *Client) RevocableTokens(ctx context.Context, q TokenQuery, fn func(RevocableToken)) (TokenFetchStats, error) {
	f := &tokenFetcher{c: c, q: q, fields: tokenRevokeFields, emit: fn}
	return f.run(ctx)
}

type tokenFetcher struct {
	c      *Client
	q      TokenQuery
	fields string
	emit   func(RevocableToken)

	mu    sync.Mutex
	stats TokenFetchStats

	parallel int                       // ranges read at once
	ranges   atomic.Int64              // ranges waiting or being read
	est      *rowEstimate              // where a cold read expects its rows; nil when not counted
	active   map[*activeRange]struct{} // ranges whose cursor is being read (steal); under mu
}

func (f *tokenFetcher) where(extra ...string) string {
	conds := append([]string(nil), extra...)
	if f.q.Where != "" {
		conds = append(conds, "("+f.q.Where+")")
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// selectSOQL is the row query for some conditions, in ascending orderBy
// order. It asks for no more than limit rows, at most what a cursor gives
// (the cap): the org need not look past them, and a cut range's rest is
// asked again anyway.
func (f *tokenFetcher) selectSOQL(conds []string, orderBy string, limit int) string {
	return "SELECT " + f.fields + " FROM OauthToken" + f.where(conds...) + " ORDER BY " + orderBy + " ASC LIMIT " + strconv.Itoa(limit)
}

func createdRange(from, before time.Time) []string {
	var c []string
	if !from.IsZero() {
		c = append(c, "CreatedDate >= "+SOQLTime(from))
	}
	return append(c, "CreatedDate < "+SOQLTime(before))
}

func (f *tokenFetcher) count(ctx context.Context, soql string) (int, error) {
	n, err := f.c.Count(ctx, soql)
	f.mu.Lock()
	f.stats.Requests++
	f.mu.Unlock()
	return n, err
}

func (f *tokenFetcher) run(ctx context.Context) (TokenFetchStats, error) {
	before := f.q.Before
	if before.IsZero() {
		if f.q.Latest {
			before = f.c.ServerNow().Add(ClockMargin)
		} else {
			before = f.c.ServerNow().Add(-ClockMargin)
		}
	}
	before = before.UTC().Truncate(time.Second)
	f.stats.Before, f.stats.Count = before, -1
	// COUNT() and the oldest token are asked at once: neither needs the
	// other, and in series they kept every cursor idle for two round trips.
	from := f.q.From.UTC().Truncate(time.Second)
	type counted struct {
		n   int
		err error
	}
	var countDone chan counted
	if !f.q.SkipCount {
		countDone = make(chan counted, 1)
		go func() {
			n, err := f.count(ctx, "SELECT COUNT() FROM OauthToken"+f.where(createdRange(f.q.From, before)...))
			countDone <- counted{n, err}
		}()
	}
	// A cold read of every token up to now (no bounds, no previous read's
	// cuts: the review's and revoke's reads, a first read) asks its bins in
	// the same round, counted back from before: the oldest token they would
	// start from is not needed, and waiting for it kept every cursor idle
	// for another round trip. A read that turns out small has paid the
	// bins' COUNT() queries for nothing (13 API calls).
	var binsDone chan *rowEstimate
	if f.q.From.IsZero() && f.q.Before.IsZero() && !f.q.SkipCount && f.q.Partitions == 0 && len(f.q.Cuts) == 0 {
		binsDone = make(chan *rowEstimate, 1)
		go func() { binsDone <- f.countBins(ctx, coldEdges(before)) }()
	}
	var oldestErr error
	found := true
	if from.IsZero() {
		var oldest *OauthToken
		_, err := Stream(ctx, f.c, "SELECT CreatedDate FROM OauthToken"+f.where(createdRange(time.Time{}, before)...)+" ORDER BY CreatedDate ASC LIMIT 1",
			func(t OauthToken) bool { oldest = &t; return false })
		f.mu.Lock()
		f.stats.Requests++
		f.mu.Unlock()
		switch {
		case err != nil && !errors.Is(err, errStopped):
			oldestErr = fmt.Errorf("find oldest OauthToken: %w", err)
		case oldest == nil:
			found = false
		default:
			from = oldest.CreatedDate.UTC().Truncate(time.Second)
		}
	}
	var bins *rowEstimate
	if binsDone != nil {
		bins = <-binsDone // before any return: the counts add to the stats
	}
	if countDone != nil {
		c := <-countDone
		if c.err != nil {
			return f.stats, fmt.Errorf("count OauthToken: %w", c.err)
		}
		f.stats.Count = c.n
		if c.n == 0 {
			return f.stats, nil
		}
	}
	if oldestErr != nil {
		return f.stats, oldestErr
	}
	if !found {
		return f.stats, nil
	}
	if !from.Before(before) {
		return f.stats, nil
	}

	workers := f.q.Concurrency
	if workers <= 0 {
		workers = 8
	}
	// Ranges read at once: the workers, bounded by the client's open cursors.
	f.parallel = min(workers, cap(f.c.cursors))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	spawn, wait := f.spawner(ctx, cancel, workers)
	if cuts := f.cutsWithin(from, before); len(cuts) > 0 {
		a := from
		for _, c := range cuts {
			spawn(timeRange{a, c})
			a = c
		}
		spawn(timeRange{a, before})
		return f.finish(ctx, wait)
	}
	if f.q.Partitions == 0 && f.stats.Count > planMinCursors*OauthTokenCursorCap {
		if binsDone != nil {
			f.est = bins.from(from)
		} else {
			f.est = f.estimate(ctx, from, before)
		}
		if f.est != nil {
			for _, r := range f.est.split(timeRange{from, before}, f.parallel) {
				spawn(r)
			}
			return f.finish(ctx, wait)
		}
	}
	// Start with two slices per cursor; a slice that overflows goes on as
	// one range while every cursor has work, and splits when one is idle.
	slices := f.parallel * 2
	if f.q.Partitions > 0 {
		slices = f.q.Partitions
	} else if f.stats.Count > 0 {
		slices = min(slices, max(1, (f.stats.Count+OauthTokenCursorCap-1)/OauthTokenCursorCap))
	}
	span := before.Sub(from)
	step := (span / time.Duration(slices)).Truncate(time.Second)
	if step < time.Second {
		step, slices = time.Second, int(span/time.Second)
	}
	for i := range slices {
		a := from.Add(time.Duration(i) * step)
		b := a.Add(step)
		if i == slices-1 {
			b = before
		}
		spawn(timeRange{a, b})
	}
	return f.finish(ctx, wait)
}

// finish waits for every range and checks the rows against COUNT().
func (f *tokenFetcher) finish(ctx context.Context, wait func()) (TokenFetchStats, error) {
	wait()
	if err := context.Cause(ctx); err != nil {
		return f.stats, err
	}
	if f.stats.Count >= 0 && f.stats.Count != f.stats.Rows {
		return f.stats, &CountMismatchError{Count: f.stats.Count, Rows: f.stats.Rows}
	}
	return f.stats, nil
}

type timeRange struct{ from, before time.Time }

// fetchRange opens one cursor over [from, before) ordered by CreatedDate.
func (f *tokenFetcher) fetchRange(ctx context.Context, r timeRange, push func(timeRange)) error {
	limit := f.cursorLimit()
	a := f.begin(r, limit)
	rows, total, truncated, err := f.cursor(ctx, f.selectSOQL(createdRange(r.from, r.before), "CreatedDate", limit), limit, a)
	if bound := f.end(a, r); bound.Before(r.before) {
		// An idle cursor took the range's far end (steal).
		r.before, total = bound, 0
		rows, truncated = below(rows, bound, truncated)
	}
	if err != nil {
		return err
	}
	if !truncated {
		f.deliver(rows)
		return nil
	}
	// The cursor hit the cap: keep the rows before the last row's second
	// (complete, since rows came in CreatedDate order) and split the rest.
	cut := rows[len(rows)-1].CreatedDate.UTC().Truncate(time.Second)
	keep := 0
	for keep < len(rows) && rows[keep].CreatedDate.Before(cut) {
		keep++
	}
	f.deliver(rows[:keep])
	rest := timeRange{cut, r.before}
	if rest.before.Sub(rest.from) <= time.Second {
		return f.fetchSecond(ctx, rest.from, nil)
	}
	// The first second of the rest is at least partly full; give it its own range.
	if keep == 0 {
		push(timeRange{rest.from, rest.from.Add(time.Second)})
		rest.from = rest.from.Add(time.Second)
		if !rest.from.Before(rest.before) {
			return nil
		}
	}
	remaining := 0 // unknown: the org reported no more rows than it gave
	if total > len(rows) {
		remaining = total - keep
	} else if exp := f.est.rowsLike(rest, timeRange{r.from, cut}, keep); exp >= OauthTokenPageSize {
		remaining = exp // expected; less than a page is taken as unknown
	}
	for _, piece := range f.est.split(rest, f.piecesFor(remaining)) {
		push(piece)
	}
	return nil
}

// piecesFor is how many ranges the rest of a cut range is read in, given
// the rows it holds (0 when unknown). While every cursor has a range to
// read, one: the rest goes on where the cut cursor stopped, so its pages
// stay full (each range ends in a part page, and a cut cursor re-reads only
// its last second). When cursors would sit idle, enough to give each one a
// range, but none smaller than a page.
func (f *tokenFetcher) piecesFor(remaining int) int {
	others := int(f.ranges.Load()) - 1 // this one is still counted
	idle := f.parallel - others - 1    // and its rest takes a cursor
	if idle <= 0 {
		return 1
	}
	n := idle + 1
	if remaining > 0 {
		n = min(n, (remaining+OauthTokenPageSize-1)/OauthTokenPageSize)
	}
	return max(1, n)
}

// splitRange cuts r into n ranges of whole seconds, as even as they can be
// (fewer when r holds fewer seconds).
func splitRange(r timeRange, n int) []timeRange {
	secs := int64(r.before.Sub(r.from) / time.Second)
	n = int(min(int64(n), secs))
	if n <= 1 {
		return []timeRange{r}
	}
	out := make([]timeRange, 0, n)
	from := r.from
	for i := 1; i <= n; i++ {
		before := r.before
		if i < n {
			before = r.from.Add(time.Duration(secs*int64(i)/int64(n)) * time.Second)
		}
		out = append(out, timeRange{from, before})
		from = before
	}
	return out
}

// keyField is one level of the keyset walk inside a single second.
type keyField struct {
	name string
	get  func(RevocableToken) string
}

var secondKeys = []keyField{
	{"UserId", func(t RevocableToken) string { return t.UserID }},
	{"AppName", func(t RevocableToken) string { return t.AppName }},
}

// fetchSecond walks one second that holds more than a cursor's worth of
// tokens, by UserId and then AppName, keyset style: each cursor keeps the
// rows before the last key value and the next starts at that value.
func (f *tokenFetcher) fetchSecond(ctx context.Context, sec time.Time, fixed []string) error {
	level := len(fixed)
	if level >= len(secondKeys) {
		return fmt.Errorf("OauthToken: more than %d tokens share one second, user and app; cannot partition", OauthTokenCursorCap)
	}
	key := secondKeys[level]
	conds := createdRange(sec, sec.Add(time.Second))
	for i, v := range fixed {
		conds = append(conds, secondKeys[i].name+" = "+Quote(v))
	}
	lower, op := "", "" // op is ">=" or ">" once a lower bound exists
	for {
		c := conds
		if op != "" {
			c = append(append([]string(nil), conds...), key.name+" "+op+" "+Quote(lower))
		}
		rows, _, truncated, err := f.cursor(ctx, f.selectSOQL(c, key.name, OauthTokenCursorCap), OauthTokenCursorCap, nil)
		if err != nil {
			return err
		}
		if !truncated {
			f.deliver(rows)
			return nil
		}
		last := key.get(rows[len(rows)-1])
		keep := 0
		for keep < len(rows) && key.get(rows[keep]) != last {
			keep++
		}
		f.deliver(rows[:keep])
		if keep == 0 {
			// One key value fills the cursor: walk it one level down, then go on after it.
			if err := f.fetchSecond(ctx, sec, append(append([]string(nil), fixed...), last)); err != nil {
				return err
			}
			lower, op = last, ">"
			continue
		}
		lower, op = last, ">="
	}
}

// cursorAttempts bounds how often one partition's query is run again after
// the org released its cursor.
const cursorAttempts = 4

// cursor runs one query to its end and reports the first page's totalSize
// and whether the cap or the query's limit may have cut it short. It stops
// at the first row past a's bound, when a's far end was taken.
func (f *tokenFetcher) cursor(ctx context.Context, soql string, limit int, a *activeRange) ([]RevocableToken, int, bool, error) {
	for attempt := 1; ; attempt++ {
		rows, total, truncated, err := f.cursorOnce(ctx, soql, limit, a)
		// A cursor the org released (orgs before API 56.0 kept ten per
		// user, and a locator expires when idle) holds nothing wrong: read
		// the partition again from its start.
		if errors.Is(err, ErrInvalidQueryLocator) && attempt < cursorAttempts {
			if err := sleepCtx(ctx, backoff(f.c.retryBase, attempt-1)); err != nil {
				return nil, 0, false, err
			}
			continue
		}
		return rows, total, truncated, err
	}
}

func (f *tokenFetcher) cursorOnce(ctx context.Context, soql string, limit int, a *activeRange) ([]RevocableToken, int, bool, error) {
	rows := make([]RevocableToken, 0, min(limit, OauthTokenCursorCap)) // what the cursor may hold: no regrowth
	info, err := Stream(ctx, f.c, soql, func(t RevocableToken) bool { rows = append(rows, t); return !a.passed(t) }, ReadAhead())
	if errors.Is(err, errStopped) {
		err = nil // past a's lowered bound: the caller keeps the rows before it
	}
	f.mu.Lock()
	f.stats.Requests += info.Pages
	f.stats.Partitions++
	f.mu.Unlock()
	if err != nil && !capEnding(err, len(rows)) {
		return nil, 0, false, err
	}
	truncated := len(rows) >= min(limit, OauthTokenCursorCap) || info.TotalSize > len(rows)
	return rows, info.TotalSize, truncated && len(rows) > 0, nil
}

// capEnding reports whether a query error is how the 2,500-row cap ended the
// cursor: the docs say only that no more records come back, and an org may
// answer done:false and then refuse the next page. The rows read are whole,
// and the caller splits the rest of the range.
func capEnding(err error, rows int) bool {
	var apiErr *APIError
	return rows >= OauthTokenCursorCap && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest
}

func (f *tokenFetcher) deliver(rows []RevocableToken) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rows {
		f.emit(r)
	}
	f.stats.Rows += len(rows)
}
