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
	instanceURL      atomic.Pointer[string]
	ecaShapeMu       ecaShapeState
}

// SetInstanceURL makes the token endpoint answer with this instance_url, as
// a real org does when the login host (login.salesforce.com) is not the
// org's own host. "" (the default) answers with the server's own URL, which
// is the host logged in to, as with a My Domain login_url.
func (s *Server) SetInstanceURL(u string) { s.instanceURL.Store(&u) }

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
