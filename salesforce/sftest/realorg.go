package sftest

import "sync/atomic"

// realOrg holds switches for behaviours that real orgs show and that the
// facts the client was first written from did not mention.
type realOrg struct {
	// acceptHostAudience lets a JWT's aud be the server's own URL (a My
	// Domain). Real orgs have refused it with "audience is invalid".
	acceptHostAudience atomic.Bool
	// cursorLimit: 0 is DefaultCursorLimit, negative is no limit.
	cursorLimit      atomic.Int32
	cursorsReleased  atomic.Int64
	capNextPageError atomic.Bool
	endlessCursors   atomic.Bool
	ecaShapeMu       ecaShapeState
}

// AcceptMyDomainAudience makes the JWT bearer flow accept the server's own
// URL as the aud claim. Off by default: like Salesforce, the fake accepts only
// https://login.salesforce.com and https://test.salesforce.com.
func (s *Server) AcceptMyDomainAudience(on bool) { s.acceptHostAudience.Store(on) }

// ConcurrentLimitFault is the 403 a real org sends while too many long
// requests run at once: errorCode REQUEST_LIMIT_EXCEEDED, as for the daily
// allocation, but transient. Inject it with Count set to how many requests
// it hits.
func ConcurrentLimitFault(path string, count int) Fault {
	return Fault{Path: path, Count: count, Status: 403,
		Body: `[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`}
}

// queryTimeoutMessage is the message of a real org's QUERY_TIMEOUT.
const queryTimeoutMessage = "Your query request was running for too long."

// QueryTimeoutFault is the answer of a real org to a query that ran past its
// time limit: 400 with errorCode QUERY_TIMEOUT. It is a 400, like a
// rejected query, yet the same query may succeed on the next try. Inject it
// with MatchQuery naming the slow query and Count how many times it is slow.
func QueryTimeoutFault(matchQuery string, count int) Fault {
	return Fault{Path: "/query", Count: count, Status: 400, MatchQuery: matchQuery,
		Body: `[{"message":"` + queryTimeoutMessage + `","errorCode":"QUERY_TIMEOUT"}]`}
}
