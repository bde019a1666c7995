package sftest

import "sync/atomic"

// realOrg holds switches for behaviours that real orgs show and that the
// facts the client was first written from did not mention.
type realOrg struct {
	// acceptHostAudience lets a JWT's aud be the server's own URL (a My
	// Domain). Real orgs have refused it with "audience is invalid".
	acceptHostAudience atomic.Bool
	// jwtAudiences are the aud values the JWT bearer flow accepts besides
	// the host; nil is a production org's: https://login.salesforce.com.
	jwtAudiences atomic.Pointer[[]string]
	// cursorLimit: 0 is DefaultCursorLimit, negative is no limit.
	cursorLimit      atomic.Int32
	cursorsReleased  atomic.Int64
	capNextPageError atomic.Bool
	endlessCursors   atomic.Bool
	ecaShapeMu       ecaShapeState
}

// AcceptMyDomainAudience makes the JWT bearer flow accept the server's own
// URL as the aud claim. Off by default: like orgs that refused it, the fake
// accepts only the audiences SetJWTAudiences names.
func (s *Server) AcceptMyDomainAudience(on bool) { s.acceptHostAudience.Store(on) }

// SetJWTAudiences sets the aud values the JWT bearer flow accepts (besides
// the server's own URL with AcceptMyDomainAudience). By default the fake is
// a production org and accepts https://login.salesforce.com only; a sandbox
// (or scratch org) accepts https://test.salesforce.com only. Any other aud
// is "invalid_grant: audience is invalid", as in Salesforce. No argument
// restores the default.
func (s *Server) SetJWTAudiences(auds ...string) {
	if len(auds) == 0 {
		s.jwtAudiences.Store(nil)
		return
	}
	s.jwtAudiences.Store(&auds)
}

// acceptsAudience reports whether the JWT bearer flow accepts aud; host is
// the server's own URL.
func (s *Server) acceptsAudience(aud, host string) bool {
	if aud == host && s.acceptHostAudience.Load() {
		return true
	}
	auds := []string{"https://login.salesforce.com"}
	if p := s.jwtAudiences.Load(); p != nil {
		auds = *p
	}
	for _, a := range auds {
		if aud == a {
			return true
		}
	}
	return false
}

// ConcurrentLimitFault is the 403 a real org sends while too many long
// requests run at once: errorCode REQUEST_LIMIT_EXCEEDED, as for the daily
// allocation, but transient. Inject it with Count set to how many requests
// it hits.
func ConcurrentLimitFault(path string, count int) Fault {
	return Fault{Path: path, Count: count, Status: 403,
		Body: `[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`}
}
