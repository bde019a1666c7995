package sftest

import "net/http"

// AggregateQuirk is how an org that accepts GROUP BY on OauthToken may still
// get it wrong. No public evidence shows GROUP BY working on OauthToken at all.
type AggregateQuirk int

// The quirks.
const (
	// AggregateExact answers aggregates over every row.
	AggregateExact AggregateQuirk = iota
	// AggregateUnknownException answers every aggregate query on OauthToken
	// with 500 UNKNOWN_EXCEPTION.
	AggregateUnknownException
	// AggregateEmpty answers aggregate queries on OauthToken with no records.
	AggregateEmpty
	// AggregateOverCursorCap computes aggregates over the first 2,500 rows
	// only, so their total disagrees with SELECT COUNT().
	AggregateOverCursorCap
	// AggregateQueryTimeout answers every aggregate query on OauthToken as
	// a real org answers a query that ran past its time limit: 400
	// QUERY_TIMEOUT (a 400, yet no rejection of the query: it may pass).
	AggregateQueryTimeout
)

// aggregateQuirk applies the org's quirk to an aggregate result on an object
// with a cursor cap; it reports whether it wrote the response itself.
func (s *Server) aggregateQuirk(w http.ResponseWriter, res *result) bool {
	if res.c.d.cursorCap == 0 {
		return false
	}
	switch s.org.Behavior.AggregateQuirk {
	case AggregateUnknownException:
		writeError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)")
		return true
	case AggregateQueryTimeout:
		writeError(w, http.StatusBadRequest, "QUERY_TIMEOUT", queryTimeoutMessage)
		return true
	case AggregateEmpty:
		res.aggs, res.total = nil, 0
	}
	return false
}

// capMatches lets only the first n matching rows through.
func capMatches(match func(int) bool, n int) func(int) bool {
	seen := 0
	return func(i int) bool {
		if seen >= n || !match(i) {
			return false
		}
		seen++
		return true
	}
}
