package sftest

import (
	"net/http"
	"net/url"
	"strings"
)

// EndlessCursors makes every SOQL cursor that has served its last row go on
// answering done:false with a nextRecordsUrl, to a page of no records that
// does the same: a broken or hostile server whose query never ends. Off by
// default.
func (s *Server) EndlessCursors(on bool) { s.endlessCursors.Store(on) }

// Switches for revoke endpoint behaviour a real org, or something between
// the exporter and it, can show and the documented facts do not describe.

// RevokeBehaviour changes how /services/oauth2/revoke answers.
type RevokeBehaviour struct {
	// RedirectTo, when set, answers every revoke with a redirect (RedirectCode,
	// default 302) to this URL, and revokes nothing.
	RedirectTo   string
	RedirectCode int
	// FalseInvalid answers this many revocations of live tokens with 400
	// invalid_token while leaving the tokens live.
	FalseInvalid int
	// GoneInvalid revokes this many tokens and answers 400 invalid_token,
	// as for a token an admin revoked in Setup a moment before.
	GoneInvalid int
	// EchoToken puts the posted token into the error body, as some gateways
	// and error pages echo the request.
	EchoToken bool
	// JSONErrors answers errors as a JSON object ({"error": ...,
	// "error_description": ...}) instead of the form-encoded body a real org
	// sends (error=...&error_description=..., see omniphx/forrest#213).
	JSONErrors bool
	// OKError answers every revocation with a 200 whose body is this OAuth
	// error as JSON (say "unsupported_token_type"), and revokes nothing.
	OKError string
	// OKLoginPage answers every revocation with a 200 and an HTML login
	// page, as a proxy or a lost session can, and revokes nothing.
	OKLoginPage bool
}

// loginPage is what a 200 login page looks like.
const loginPage = `<!DOCTYPE html><html><head><title>Login | Salesforce</title></head><body><form method="post" action="/"><input name="username"><input type="password" name="pw"></form></body></html>`

// SetRevokeBehaviour sets how the revoke endpoint answers; the zero value is
// the documented behaviour.
func (s *Server) SetRevokeBehaviour(b RevokeBehaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoke = b
}

// hostileRevoke answers a revoke request as the switches say and reports
// whether it did.
func (s *Server) hostileRevoke(w http.ResponseWriter, r *http.Request, tok string) bool {
	s.mu.Lock()
	b := s.revoke
	falseInvalid := false
	if b.FalseInvalid > 0 && s.org.liveDeleteToken(tok) {
		s.revoke.FalseInvalid--
		falseInvalid = true
	}
	if b.GoneInvalid > 0 && s.org.revokeByDeleteToken(tok) {
		s.revoke.GoneInvalid--
		falseInvalid = true
	}
	s.mu.Unlock()
	switch {
	case b.OKError != "":
		writeJSON(w, http.StatusOK, map[string]string{"error": b.OKError, "error_description": "this token type is not supported"})
		return true
	case b.OKLoginPage:
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(loginPage))
		return true
	case b.RedirectTo != "":
		code := b.RedirectCode
		if code == 0 {
			code = http.StatusFound
		}
		http.Redirect(w, r, b.RedirectTo, code)
		return true
	case falseInvalid || b.EchoToken && !s.org.liveDeleteToken(tok):
		desc := "invalid token"
		if b.EchoToken {
			desc = "invalid token: " + tok + " (" + url.QueryEscape(tok) + ")"
		}
		s.revokeError(w, b, "invalid_token", desc)
		return true
	}
	return false
}

// liveDeleteToken reports whether dt is the DeleteToken of a live token.
func (o *Org) liveDeleteToken(dt string) bool {
	seq, ok := parseDeleteToken(dt)
	if !ok {
		return false
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	for i := range o.tokens {
		if o.tokens[i].seq == seq {
			return !o.tokens[i].revoked && o.deleteToken(i) == dt
		}
	}
	return false
}

// parseDeleteToken reads the sequence number out of a DeleteToken,
// "DT0" + base 36 sequence + "x" + hex MAC. The base 36 part can itself hold
// an "x", so the MAC is split off at the last one.
func parseDeleteToken(dt string) (uint32, bool) {
	rest, ok := strings.CutPrefix(dt, "DT0")
	if !ok {
		return 0, false
	}
	i := strings.LastIndexByte(rest, 'x')
	if i < 0 {
		return 0, false
	}
	var seq uint64
	for _, c := range rest[:i] {
		d := strings.IndexRune("0123456789abcdefghijklmnopqrstuvwxyz", c)
		if d < 0 {
			return 0, false
		}
		seq = seq*36 + uint64(d)
		if seq > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(seq), i > 0
}

// revokeError answers a failed revocation: form-encoded, as a real org does,
// or JSON when JSONErrors is set.
func (s *Server) revokeError(w http.ResponseWriter, b RevokeBehaviour, code, desc string) {
	if b.JSONErrors {
		writeOAuthError(w, http.StatusBadRequest, code, desc)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	// Spaces as %20, as the org writes them.
	_, _ = w.Write([]byte("error=" + url.PathEscape(code) + "&error_description=" + url.PathEscape(desc)))
}
