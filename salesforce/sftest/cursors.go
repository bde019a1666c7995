package sftest

import (
	"maps"
	"slices"
)

// DefaultCursorLimit is how many query cursors one user may hold open in the
// fake unless SetCursorLimit says otherwise: 0, no limit. Salesforce removed
// its per-user cursor limit with API version 56.0, for every API version:
// "There isn't a limit on the number of open cursors" (API Query Cursor
// Limits, https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-apicursors.html).
const DefaultCursorLimit = 0

// LegacyCursorLimit is the limit Salesforce kept before API version 56.0:
// ten cursors per user, the oldest released past them, and reading a
// released cursor failed with INVALID_QUERY_LOCATOR. SetCursorLimit(
// LegacyCursorLimit) brings it back, for the client's release path.
const LegacyCursorLimit = 10

// SetCursorLimit sets how many query cursors may be open at once (every
// session of the fake is the same user); past it the oldest is released.
// 0 or a negative n removes the limit (DefaultCursorLimit).
func (s *Server) SetCursorLimit(n int) { s.cursorLimit.Store(int32(n)) }

// CursorsReleased returns how many open cursors were released for exceeding
// the limit.
func (s *Server) CursorsReleased() int64 { return s.cursorsReleased.Load() }

// ReleaseCursors makes the next n requests for a cursor's next page find it
// released, as a cursor limit, an expiry or a lost server would: the cursor
// is gone and the request fails with INVALID_QUERY_LOCATOR.
func (s *Server) ReleaseCursors(n int) { s.releaseNext.Store(int64(n)) }

// MaxCursorsOpen returns the most query cursors that were open at once
// (since the server started or ResetCounts).
func (s *Server) MaxCursorsOpen() int64 { return s.cursorsPeak.Load() }

// CapWithFailingNextPage makes a cursor that reaches its row cap (OauthToken's
// 2,500) answer done:false with a nextRecordsUrl whose request fails, instead
// of done:true. The docs say only that no more records come back; both endings
// are plausible.
func (s *Server) CapWithFailingNextPage(on bool) { s.capNextPageError.Store(on) }

// releaseOldestCursors records the most cursors open at once and drops the
// oldest past the limit. Called with s.mu held.
func (s *Server) releaseOldestCursors() {
	if open := int64(len(s.cursors)); open > s.cursorsPeak.Load() {
		s.cursorsPeak.Store(open)
	}
	limit := int(s.cursorLimit.Load())
	if limit <= 0 || len(s.cursors) <= limit {
		return
	}
	ids := slices.Sorted(maps.Keys(s.cursors)) // ids grow with creation
	for _, id := range ids[:len(ids)-limit] {
		delete(s.cursors, id)
		s.cursorsReleased.Add(1)
	}
}

// pastCap reports whether a cursor has already served its row cap.
func (s *Server) pastCap(cur *cursor) bool {
	capRows := cur.res.c.d.cursorCap
	s.mu.Lock()
	defer s.mu.Unlock()
	return capRows > 0 && cur.offset >= capRows
}
