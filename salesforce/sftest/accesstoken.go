package sftest

// ValidAccessToken reports whether tok is an access token this server issued
// and has not expired, as the REST API would judge it. Fakes of the org's
// other APIs (the Pub/Sub API) check their metadata with it.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tok != "" && s.sessions[tok]
}

// OrgID returns the served org's 18-character Id, the tenant Id of its tokens.
func (s *Server) OrgID() string { return s.org.orgID() }
