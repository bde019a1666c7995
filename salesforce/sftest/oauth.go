package sftest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "invalid form")
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	c := s.creds
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if clientID != c.ClientID || secret != c.ClientSecret || c.ClientSecret == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
	case "refresh_token":
		if clientID != c.ClientID || (secret != "" && secret != c.ClientSecret) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
			return
		}
		if c.RefreshToken == "" || r.PostForm.Get("refresh_token") != c.RefreshToken {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
	case "password":
		if clientID != c.ClientID || secret != c.ClientSecret {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
			return
		}
		if c.Password == "" || r.PostForm.Get("username") != c.Username || r.PostForm.Get("password") != c.Password {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if code, desc := s.checkJWT(r, r.PostForm.Get("assertion")); code != "" {
			writeOAuthError(w, http.StatusBadRequest, code, desc)
			return
		}
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	access := s.org.orgID()[:15] + "!AQ" + base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	s.sessions[access] = true
	s.issued = append(s.issued, access)
	s.mu.Unlock()
	instance := "http://" + r.Host
	if r.TLS != nil {
		instance = "https://" + r.Host
	}
	issued := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := instance + "/id/" + s.org.orgID() + "/" + s.org.Users()[s.org.integrationUser].ID
	if u := s.instanceURL.Load(); u != nil && *u != "" {
		instance = *u
	}
	mac := hmac.New(sha256.New, []byte(c.ClientSecret))
	mac.Write([]byte(id + issued))
	// No expires_in: Salesforce leaves it out.
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": access, "instance_url": instance, "id": id, "token_type": "Bearer",
		"issued_at": issued, "signature": base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"scope": "api refresh_token",
	})
}

func (s *Server) checkJWT(r *http.Request, assertion string) (string, string) {
	c := s.creds
	if c.PublicKey == nil {
		return "invalid_grant", "user hasn't approved this consumer"
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return "invalid_grant", "invalid assertion"
	}
	hdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	payload, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "invalid_grant", "invalid assertion"
	}
	var h struct{ Alg string }
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "RS256" {
		return "invalid_grant", "invalid assertion algorithm"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(c.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "invalid_grant", "invalid assertion signature"
	}
	var claims struct {
		Iss, Sub, Prn string
		Aud           json.RawMessage
		Exp           json.RawMessage
	}
	if json.Unmarshal(payload, &claims) != nil {
		return "invalid_grant", "invalid assertion"
	}
	if claims.Iss != c.ClientID {
		return "invalid_client_id", "client identifier invalid"
	}
	sub := claims.Sub
	if sub == "" {
		sub = claims.Prn
	}
	if sub != c.Username {
		return "invalid_grant", "user hasn't approved this consumer"
	}
	var aud string
	if json.Unmarshal(claims.Aud, &aud) != nil {
		return "invalid_grant", "audience is invalid"
	}
	host := "http://" + r.Host
	if r.TLS != nil {
		host = "https://" + r.Host
	}
	if !s.acceptsAudience(aud, host) {
		return "invalid_grant", "audience is invalid"
	}
	// exp may be a number or a string of digits.
	expStr := strings.Trim(string(claims.Exp), `"`)
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil {
		return "invalid_grant", "invalid assertion expiry"
	}
	now := time.Now().Unix()
	if exp < now {
		return "invalid_grant", "expired authorization code"
	}
	if exp > now+5*60 {
		return "invalid_grant", "assertion expiry too far in the future"
	}
	return "", ""
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b := s.revoke
	s.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		s.revokeError(w, b, "invalid_request", "invalid form")
		return
	}
	tok := r.Form.Get("token")
	if s.hostileRevoke(w, r, tok) {
		return
	}
	if !s.org.revokeByDeleteToken(tok) {
		s.revokeError(w, b, "invalid_token", "invalid token")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// deleteToken is the DeleteToken of a token row: opaque, and checkable.
func (o *Org) deleteToken(r int) string {
	seq := o.tokens[r].seq
	mac := hmac.New(sha256.New, []byte(o.OrgID))
	fmt.Fprint(mac, seq)
	return "DT0" + strconv.FormatUint(uint64(seq), 36) + "x" + hex.EncodeToString(mac.Sum(nil))[:24]
}

func (o *Org) revokeByDeleteToken(dt string) bool {
	seq, ok := parseDeleteToken(dt)
	if !ok {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.tokens {
		if o.tokens[i].seq == seq {
			if o.tokens[i].revoked || !hmac.Equal([]byte(o.deleteToken(i)), []byte(dt)) {
				return false
			}
			o.tokens[i].revoked = true
			o.live--
			return true
		}
	}
	return false
}

// IssuedAccessTokens returns every access token issued, expired ones
// included, so tests can check that none is ever printed.
func (s *Server) IssuedAccessTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}
