package refresh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// appKey identifies an app as OauthToken does: by name and menu item.
type appKey struct{ name, menuItem string }

// tokEntry is one OauthToken row, compact: 40 bytes, so the store keeps a
// million of them in about 40 MB.
type tokEntry struct {
	created  int64 // Unix ms
	lastUsed int64 // Unix ms, 0 = never
	useCount int64
	user     uint32
	app      uint32
	id       tokenID // zero when the org returned no Id, or the row came from the token file
}

// tokenID stands for an OauthToken Id: a 64-bit hash of its
// case-sensitive 15-character key, never 0 (0 is "no Id"). The object
// reference says Id is always null, but real orgs return it
// (troystaylor/SharingIsCaring#2): where present it tells apart tokens that
// share a user, an app and a CreatedDate millisecond. The hash keeps a row
// at 40 bytes; it is compared only among the few rows that share those,
// where two Ids with one hash are as good as impossible.
type tokenID uint64

// parseTokenID returns the tokenID of an Id, and false for "" or anything
// that is not a 15 or 18-character 0CQ Id (then the row is keyed by
// CreatedDate, user and app alone).
func parseTokenID(id string) (tokenID, bool) {
	if (len(id) != 15 && len(id) != 18) || !strings.HasPrefix(id, "0CQ") {
		return 0, false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id[:15])) // a hash.Hash write never fails
	return tokenID(max(h.Sum64(), 1)), true
}

func (e *tokEntry) less(o *tokEntry) int {
	if c := cmp.Compare(e.created, o.created); c != 0 {
		return c
	}
	if c := cmp.Compare(e.user, o.user); c != 0 {
		return c
	}
	return cmp.Compare(e.app, o.app)
}

// tokenStore mirrors the org's OauthToken rows between refreshes, so that a
// steady-state refresh reads only what changed. Only the refresher touches it.
type tokenStore struct {
	entries  []tokEntry // sorted by (created, user, app)
	users    map[string]uint32
	userIDs  []string
	apps     map[appKey]uint32
	appKeys  []appKey
	inactive map[uint32]bool // users known to be deactivated

	createdWM time.Time // every token created before this is in entries
	usedWM    time.Time // every use at or after this has yet to be read
	userWM    time.Time // user changes at or after this have yet to be read
	lastFull  time.Time
	valid     bool
	progress  *fullProgress // a full sync under way; nil when none
	gen       uint64        // counts changes to the rows and users (what the token file holds)
	// latest makes reads reach ClockMargin past the org's clock: a
	// one-shot read, which no later read completes (upperBound).
	latest bool
}

// upperBound is the CreatedDate bound of a read, to the second: ClockMargin
// before the org's clock, so that the next read, which starts there, misses
// no token created in the second the clock is known to; or, when s.latest,
// ClockMargin past it, so that a one-shot read sees a token created this
// second (its watermarks are never read again).
func (s *tokenStore) upperBound(api tokenAPI) time.Time {
	margin := -salesforce.ClockMargin
	if s.latest {
		margin = salesforce.ClockMargin
	}
	return api.ServerNow().Add(margin).UTC().Truncate(time.Second)
}

func newTokenStore() *tokenStore {
	return &tokenStore{users: map[string]uint32{}, apps: map[appKey]uint32{}, inactive: map[uint32]bool{}}
}

func (s *tokenStore) userIdx(id string) uint32 {
	if i, ok := s.users[id]; ok {
		return i
	}
	i := uint32(len(s.userIDs))
	s.users[id] = i
	s.userIDs = append(s.userIDs, id)
	return i
}

func (s *tokenStore) appIdx(k appKey) uint32 {
	if i, ok := s.apps[k]; ok {
		return i
	}
	i := uint32(len(s.appKeys))
	s.apps[k] = i
	s.appKeys = append(s.appKeys, k)
	return i
}

func (s *tokenStore) entry(t salesforce.OauthToken) tokEntry {
	e := tokEntry{
		created:  t.CreatedDate.UnixMilli(),
		useCount: t.UseCount,
		user:     s.userIdx(t.UserID),
		app:      s.appIdx(appKey{t.AppName, t.AppMenuItemID}),
	}
	e.id, _ = parseTokenID(t.ID)
	if !t.LastUsedDate.IsZero() {
		e.lastUsed = t.LastUsedDate.UnixMilli()
	}
	if !t.UserActive() {
		s.inactive[e.user] = true
	}
	return e
}

// tokenAPI is the part of *salesforce.Client the token sync needs.
type tokenAPI interface {
	OauthTokens(ctx context.Context, q salesforce.TokenQuery, fn func(salesforce.OauthToken)) (salesforce.TokenFetchStats, error)
	Count(ctx context.Context, soql string) (int, error)
	InactiveUsers(ctx context.Context, fn func(salesforce.User)) error
	UsersModifiedSince(ctx context.Context, t time.Time, fn func(salesforce.User)) error
	ServerNow() time.Time
}

// usedOverlap re-reads recent uses, since LastUsedDate may be written a
// little after the use. Re-reading a token is harmless: it is an upsert.
const usedOverlap = 2 * time.Minute

// fullSyncAges split a full sync into CreatedDate chunks, newest first,
// by age at the sync's upper bound; the last chunk reaches the oldest token.
// The chunks are read at once, so one more costs a COUNT(), and a chunk that
// fails is read again from its start: ten keep that re-read small (with
// seven, a test org's sync with one query in 15 failing once cost 3.7 times
// a clean one; with ten, at most 2.0 times in 13 runs).
var fullSyncAges = []time.Duration{0, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 182 * 24 * time.Hour, 365 * 24 * time.Hour, 2 * 365 * 24 * time.Hour, 3 * 365 * 24 * time.Hour, 5 * 365 * 24 * time.Hour}

// fullSyncResumeFor is how long a failed full sync's chunks stay good for a
// resume; after that it starts again.
const fullSyncResumeFor = 2 * time.Hour

// fullProgress is a full sync under way: the chunks read so far, kept when
// a later chunk fails, so the next attempt resumes instead of re-reading
// them (a big org's full sync once restarted whenever one page failed).
type fullProgress struct {
	fresh     *tokenStore
	before    time.Time // the sync's upper bound on CreatedDate, the same for every chunk
	userStart time.Time
	done      []bool // chunks read, by fullSyncAges index
}

// fullSync replaces the store with every token; a failed sync keeps the
// chunks it read (s.progress) for the next call to resume. The chunks are
// read at once: the client's open cursors bound them together, and one
// chunk's COUNT() and last ranges no longer leave cursors idle while they
// wait (read one after another, they made a first read of 300,000 tokens
// take 1.4 times one fetch of the same tokens).
func (s *tokenStore) fullSync(ctx context.Context, api tokenAPI, concurrency int) error {
	p := s.progress
	if p == nil || api.ServerNow().Sub(p.before) > fullSyncResumeFor {
		// Users first: the response's Date header also sets the org clock that
		// bounds the token fetch.
		p = &fullProgress{fresh: newTokenStore(), userStart: api.ServerNow(), done: make([]bool, len(fullSyncAges))}
		if err := api.InactiveUsers(ctx, func(u salesforce.User) { p.fresh.inactive[p.fresh.userIdx(u.ID)] = true }); err != nil {
			return fmt.Errorf("list inactive users: %w", err)
		}
		p.before = s.upperBound(api)
		s.progress = p
	}
	fresh := p.fresh
	var mu sync.Mutex // fresh and p.done
	var wg sync.WaitGroup
	errs := make([]error, len(fullSyncAges))
	for i := range fullSyncAges {
		if p.done[i] {
			continue
		}
		q := salesforce.TokenQuery{Concurrency: concurrency, Before: p.before.Add(-fullSyncAges[i])}
		if i+1 < len(fullSyncAges) {
			q.From = p.before.Add(-fullSyncAges[i+1])
		}
		q.Cuts = s.cuts(q.From, q.Before)
		wg.Go(func() {
			var rows []tokEntry
			_, err := api.OauthTokens(ctx, q, func(t salesforce.OauthToken) {
				mu.Lock()
				e := fresh.entry(t)
				mu.Unlock()
				rows = append(rows, e)
			})
			// A count mismatch means tokens changed during the sync; the next
			// incremental refresh finds and mends the difference.
			if err != nil && !errors.Is(err, salesforce.ErrCountMismatch) {
				errs[i] = err
				return
			}
			mu.Lock()
			fresh.entries = append(fresh.entries, rows...)
			p.done[i] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		read := 0
		for _, d := range p.done {
			if d {
				read++
			}
		}
		return fmt.Errorf("full OauthToken sync (%d of %d CreatedDate ranges read; the next attempt resumes): %w", read, len(fullSyncAges), err)
	}
	slices.SortFunc(fresh.entries, func(a, b tokEntry) int { return a.less(&b) })
	fresh.createdWM = p.before
	fresh.usedWM = p.before.Add(-usedOverlap)
	fresh.userWM = p.userStart.Add(-usedOverlap)
	fresh.lastFull, fresh.valid = p.before, true
	*s = *fresh
	return nil
}

// cuts is where the tokens the store holds in [from, before) put one
// cursor's worth of rows (salesforce.TokenCuts): a full sync that has the
// previous one's tokens reads ranges of a cursor each, not even slices of
// time that every cursor's cap cuts up as it goes. None for an empty store.
func (s *tokenStore) cuts(from, before time.Time) []time.Time {
	if !s.valid || len(s.entries) == 0 {
		return nil
	}
	lo, hi := 0, len(s.entries)
	if !from.IsZero() {
		lo = sort.Search(len(s.entries), func(i int) bool { return s.entries[i].created >= from.UnixMilli() })
	}
	hi = lo + sort.Search(len(s.entries)-lo, func(i int) bool { return s.entries[lo+i].created >= before.UnixMilli() })
	return salesforce.TokenCuts(func(yield func(int64) bool) {
		for i := lo; i < hi; i++ {
			if !yield(s.entries[i].created) {
				return
			}
		}
	}, 0)
}

// incremental reads what changed since the watermarks: new tokens, used
// tokens and user changes, then checks COUNT() and, when tokens were revoked,
// finds the CreatedDate ranges that lost them by bisecting with COUNT().
func (s *tokenStore) incremental(ctx context.Context, api tokenAPI, concurrency int) (mismatch bool, err error) {
	// Users first: the response's Date header also refreshes the org clock
	// that bounds this refresh.
	userStart := api.ServerNow()
	if err := api.UsersModifiedSince(ctx, s.userWM, func(u salesforce.User) {
		i := s.userIdx(u.ID)
		if u.IsActive != !s.inactive[i] {
			s.gen++
		}
		if u.IsActive {
			delete(s.inactive, i)
		} else {
			s.inactive[i] = true
		}
	}); err != nil {
		return false, fmt.Errorf("read changed users: %w", err)
	}
	before := s.upperBound(api)
	where := fmt.Sprintf("(CreatedDate >= %s) OR (LastUsedDate >= %s)", salesforce.SOQLTime(s.createdWM), salesforce.SOQLTime(s.usedWM))
	var changed []salesforce.OauthToken
	_, err = api.OauthTokens(ctx, salesforce.TokenQuery{Where: where, From: time.Unix(0, 0), Before: before, SkipCount: true, Partitions: 1, Concurrency: concurrency},
		func(t salesforce.OauthToken) { changed = append(changed, t) })
	if err != nil {
		return false, fmt.Errorf("read changed OauthToken rows: %w", err)
	}
	for _, t := range changed {
		s.upsert(s.entry(t))
	}
	n, err := api.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE CreatedDate < "+salesforce.SOQLTime(before))
	if err != nil {
		return false, fmt.Errorf("count OauthToken: %w", err)
	}
	s.createdWM, s.usedWM, s.userWM = before, before.Add(-usedOverlap), userStart.Add(-usedOverlap)
	if n == len(s.entries) {
		return false, nil
	}
	if err := s.reconcile(ctx, api, 0, len(s.entries), n, time.Unix(0, 0).UTC(), before, 0); err != nil {
		return true, err
	}
	return true, nil
}

// upsert inserts e, or updates its row: the one with its Id where the org
// returns Ids, else one with the same (created, user, app).
func (s *tokenStore) upsert(e tokEntry) {
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].less(&e) >= 0 })
	j := i
	for j < len(s.entries) && s.entries[j].less(&e) == 0 {
		j++
	}
	same := s.entries[i:j] // the rows with e's (created, user, app)
	const zero tokenID = 0
	if e.id != zero {
		for k := range same {
			if x := &same[k]; x.id == e.id {
				if x.lastUsed != e.lastUsed || x.useCount != e.useCount {
					x.lastUsed, x.useCount = e.lastUsed, e.useCount
					s.gen++
				}
				return
			}
		}
	}
	// Rows without an Id (read before the org returned one, or from the
	// token file), or any row when e has none, are told apart by nothing;
	// update the one with the fewest uses that the new row can have come
	// from.
	best := -1
	for k := range same {
		x := &same[k]
		if x.id != zero && e.id != zero {
			continue // another token: its Id differs from e's
		}
		if x.lastUsed == e.lastUsed && x.useCount == e.useCount {
			x.id = e.id
			return // already known
		}
		if x.useCount <= e.useCount && (best < 0 || x.useCount < same[best].useCount) {
			best = k
		}
	}
	s.gen++
	if best >= 0 {
		same[best].lastUsed, same[best].useCount, same[best].id = e.lastUsed, e.useCount, e.id
		return
	}
	s.entries = slices.Insert(s.entries, i, e)
}

// reconcileSmall is the number of local rows below which a range is re-read
// rather than bisected further.
const reconcileSmall = 500

// reconcile makes entries[lo:hi), which cover CreatedDate in [from, to),
// match the org, whose COUNT() for that range is remote.
func (s *tokenStore) reconcile(ctx context.Context, api tokenAPI, lo, hi, remote int, from, to time.Time, depth int) error {
	local := hi - lo
	if local == remote {
		return nil
	}
	span := to.Sub(from)
	if local <= reconcileSmall || span <= time.Second || depth > 40 {
		return s.reread(ctx, api, lo, hi, from, to)
	}
	// Split at the median local row, on a second boundary.
	mid := time.UnixMilli(s.entries[lo+local/2].created).UTC().Truncate(time.Second)
	if !mid.After(from) {
		mid = from.Add(time.Second)
	}
	if !mid.Before(to) {
		return s.reread(ctx, api, lo, hi, from, to)
	}
	m := lo + sort.Search(local, func(i int) bool { return s.entries[lo+i].created >= mid.UnixMilli() })
	left, err := api.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE CreatedDate >= "+salesforce.SOQLTime(from)+" AND CreatedDate < "+salesforce.SOQLTime(mid))
	if err != nil {
		return fmt.Errorf("count OauthToken range: %w", err)
	}
	right := remote - left
	// Mend the right half first: it does not move the left half's indices.
	if err := s.reconcile(ctx, api, m, hi, right, mid, to, depth+1); err != nil {
		return err
	}
	return s.reconcile(ctx, api, lo, m, left, from, mid, depth+1)
}

// reread replaces entries[lo:hi) with the org's rows for [from, to).
func (s *tokenStore) reread(ctx context.Context, api tokenAPI, lo, hi int, from, to time.Time) error {
	var rows []tokEntry
	_, err := api.OauthTokens(ctx, salesforce.TokenQuery{From: from, Before: to, SkipCount: true, Partitions: 1}, func(t salesforce.OauthToken) { rows = append(rows, s.entry(t)) })
	if err != nil {
		return fmt.Errorf("re-read OauthToken range: %w", err)
	}
	slices.SortFunc(rows, func(a, b tokEntry) int { return a.less(&b) })
	s.entries = slices.Replace(s.entries, lo, hi, rows...)
	s.gen++
	return nil
}

// summarize aggregates the store per app, and counts the distinct
// deactivated users who hold tokens.
func (s *tokenStore) summarize(now time.Time, staleAfter time.Duration) ([]snapshot.AppTokens, int64) {
	byApp := map[uint32]*snapshot.AppTokens{}
	type pair struct{ app, user uint32 }
	seen := map[pair]struct{}{}
	inactiveUsers := map[uint32]struct{}{}
	cutoff := salesforce.StaleCutoff(now, staleAfter).UnixMilli()
	for i := range s.entries {
		e := &s.entries[i]
		a := byApp[e.app]
		if a == nil {
			k := s.appKeys[e.app]
			a = &snapshot.AppTokens{Name: k.name, MenuItemID: k.menuItem}
			byApp[e.app] = a
		}
		a.Tokens++
		a.Uses += e.useCount
		if _, ok := seen[pair{e.app, e.user}]; !ok {
			seen[pair{e.app, e.user}] = struct{}{}
			a.Users++
		}
		if e.lastUsed > 0 && e.lastUsed > a.LastUsed.UnixMilli() {
			a.LastUsed = time.UnixMilli(e.lastUsed).UTC()
		}
		if a.FirstAuthorized.IsZero() || e.created < a.FirstAuthorized.UnixMilli() {
			a.FirstAuthorized = time.UnixMilli(e.created).UTC()
		}
		if isStaleMs(e.lastUsed, e.created, cutoff) {
			a.Stale++
		}
		if s.inactive[e.user] {
			a.InactiveTokens++
			inactiveUsers[e.user] = struct{}{}
		}
	}
	out := make([]snapshot.AppTokens, 0, len(byApp))
	for _, a := range byApp {
		out = append(out, *a)
	}
	sortAppTokens(out)
	return out, int64(len(inactiveUsers))
}

// isStaleMs is salesforce.IsStale on Unix milliseconds (0 = unset), for the token
// store's hot loop.
func isStaleMs(lastUsed, created, cutoff int64) bool {
	ref := lastUsed
	if ref == 0 {
		ref = created
	}
	return ref != 0 && ref < cutoff
}
