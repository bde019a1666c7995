package sftest

import (
	"maps"
	"slices"
)

// DefaultCursorLimit is how many query cursors one user may hold open:
// Salesforce releases the oldest past ten, and reading a released cursor
// fails with INVALID_QUERY_LOCATOR.
const DefaultCursorLimit = 10

// SetCursorLimit sets how many query cursors may be open at once (every
// session of the fake is the same user). 0 restores DefaultCursorLimit; a
// negative n removes the limit.
func (s *Server) SetCursorLimit(n int) { s.cursorLimit.Store(int32(n)) }

// CursorsReleased returns how many open cursors were released for exceeding
// the limit.
func (s *Server) CursorsReleased() int64 { return s.cursorsReleased.Load() }

// CapWithFailingNextPage makes a cursor that reaches its row cap (OauthToken's
// 2,500) answer done:false with a nextRecordsUrl whose request fails, instead
// of done:true. The docs say only that no more records come back; both endings
// are plausible.
func (s *Server) CapWithFailingNextPage(on bool) { s.capNextPageError.Store(on) }

// releaseOldestCursors drops the oldest cursors past the limit. Called with s.mu held.
func (s *Server) releaseOldestCursors() {
	limit := int(s.cursorLimit.Load())
	if limit == 0 {
		limit = DefaultCursorLimit
	}
	if limit < 0 || len(s.cursors) <= limit {
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
