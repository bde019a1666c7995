package sftest

import (
	"compress/gzip"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials are what the fake's token endpoint accepts.
type Credentials struct {
	ClientID, ClientSecret string
	Username, Password     string
	RefreshToken           string
	PublicKey              *rsa.PublicKey // JWT bearer; nil disables the flow
}

// Fault is an injected failure. Path matches a substring of the request path
// ("" matches every API request, not the token endpoint).
type Fault struct {
	Path  string
	Count int // how many requests it hits
	// Status and Body replace the response; ContentType defaults to JSON.
	Status      int
	Body        string
	ContentType string
	// Delay is added before answering.
	Delay time.Duration
	// Malformed serves the real response cut in the middle and made invalid.
	Malformed bool
	// Truncate serves only the first half of the real (gzip) body.
	Truncate bool
	// MatchQuery, when set, limits the fault to queries whose SOQL contains it.
	MatchQuery string
}

// Server serves an Org over HTTP like Salesforce's REST API and OAuth endpoints.
type Server struct {
	org   *Org
	creds Credentials

	// Latency is added to every request.
	latency atomic.Int64
	// realOrg holds the switches of realorg.go.
	realOrg

	mu       sync.Mutex
	faults   []*Fault
	sessions map[string]bool
	issued   []string
	// expireEvery, when > 0, expires every session at each expireEvery-th API request.
	expireEvery int
	apiSeen     int
	cursors     map[string]*cursor
	nextCur     int
	counts      map[string]int
	apiCalls    int64
	revoke      RevokeBehaviour
	// every is a recurring fault (FailEvery): every everyN-th matching request.
	every     *Fault
	everyN    int
	everySeen int
}

type cursor struct {
	res     *result
	offset  int
	batch   int
	version string
	used    time.Time
}

// NewServer returns a handler for org that accepts creds.
func NewServer(org *Org, creds Credentials) *Server {
	return &Server{org: org, creds: creds, sessions: map[string]bool{}, cursors: map[string]*cursor{}, counts: map[string]int{}}
}

// Org returns the served org.
func (s *Server) Org() *Org { return s.org }

// SetLatency sets the delay added to every request.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Count == 0 {
		f.Count = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// ExpireEvery makes every n-th REST API request find its session expired
// (0 turns it off): 401s land in the middle of cursors, and each is met once.
func (s *Server) ExpireEvery(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireEvery, s.apiSeen = n, 0
}

// ExpireSessions invalidates every access token issued so far.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]bool{}
}

// Requests returns request counts by resource: "token", "revoke", "limits",
// "query:OauthToken" (first pages and nextRecordsUrl pages alike), "logfile", "apps_oauth_usage".
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// APICalls returns the REST API calls served (those that count against DailyApiRequests).
func (s *Server) APICalls() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// ResetCounts zeroes the request accounting.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.apiCalls = 0
}

// SecretFieldSelections counts AccessToken or RequestToken values served.
func (s *Server) SecretFieldSelections() int64 { return s.org.secretSelected.Load() }

func (s *Server) count(resource string, api bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[resource]++
	if api {
		s.apiCalls++
	}
}

func (s *Server) takeFault(r *http.Request, token bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := r.URL.Path
	for i, f := range s.faults {
		match := (f.Path == "" && !token) || (f.Path != "" && strings.Contains(path, f.Path))
		if !match || (f.MatchQuery != "" && !strings.Contains(r.URL.Query().Get("q"), f.MatchQuery)) {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	if f := s.every; f != nil && !token && strings.Contains(path, f.Path) && (f.MatchQuery == "" || strings.Contains(r.URL.Query().Get("q"), f.MatchQuery)) {
		s.everySeen++
		if s.everySeen%s.everyN == 0 {
			return f
		}
	}
	return nil
}

// FailEvery answers every n-th API request that f matches (by Path and
// MatchQuery) as f says, for as long as the server runs: one page in n
// fails, as on a flaky network or a busy org; a real org promises nothing
// about how often. n <= 0 turns it off.
func (s *Server) FailEvery(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.every, s.everyN, s.everySeen = nil, 0, 0
	if n > 0 {
		s.every, s.everyN = &f, n
	}
}

var versionRE = regexp.MustCompile(`^/services/data/v(\d+\.\d)/(.*)$`)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(s.latency.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Date", s.org.Now().UTC().Format(http.TimeFormat))
	p := r.URL.Path
	isToken := p == "/services/oauth2/token"
	if f := s.takeFault(r, isToken); f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.Status != 0 {
			s.count(resourceOf(p, r), false)
			ct := f.ContentType
			if ct == "" {
				ct = "application/json;charset=UTF-8"
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(f.Status)
			io.WriteString(w, f.Body)
			return
		}
		if f.Malformed || f.Truncate {
			rec := &captureWriter{header: http.Header{}}
			s.route(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status())
			body := rec.buf
			if f.Malformed {
				body = append(body[:len(body)/2:len(body)/2], []byte(`,"x":{]`)...)
			} else {
				body = body[:len(body)/2]
			}
			w.Write(body)
			return
		}
	}
	s.route(w, r)
}

type captureWriter struct {
	header http.Header
	code   int
	buf    []byte
}

func (c *captureWriter) Header() http.Header         { return c.header }
func (c *captureWriter) WriteHeader(code int)        { c.code = code }
func (c *captureWriter) Write(p []byte) (int, error) { c.buf = append(c.buf, p...); return len(p), nil }
func (c *captureWriter) status() int {
	if c.code == 0 {
		return http.StatusOK
	}
	return c.code
}

func resourceOf(p string, r *http.Request) string {
	switch {
	case p == "/services/oauth2/token":
		return "token"
	case p == "/services/oauth2/revoke":
		return "revoke"
	case strings.HasSuffix(p, "/LogFile"):
		return "logfile"
	case strings.Contains(p, "/limits"):
		return "limits"
	case strings.Contains(p, "/apps/oauth/usage"):
		return "apps_oauth_usage"
	case strings.Contains(p, "/query"):
		if m := objRE.FindStringSubmatch(r.URL.Query().Get("q")); m != nil {
			return "query:" + m[1]
		}
		return "query"
	}
	return "other"
}

var objRE = regexp.MustCompile(`(?i)\bfrom\s+([A-Za-z0-9_]+)`)

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch p {
	case "/services/oauth2/token":
		s.count("token", false)
		s.handleToken(w, r)
		return
	case "/services/oauth2/revoke":
		s.count("revoke", false)
		s.handleRevoke(w, r)
		return
	case "/services/data", "/services/data/":
		s.count("versions", false)
		writeJSON(w, http.StatusOK, []map[string]string{
			{"label": "Winter '26", "url": "/services/data/v65.0", "version": "65.0"},
			{"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"},
		})
		return
	}
	m := versionRE.FindStringSubmatch(p)
	if m == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	version, rest := m[1], m[2]
	s.mu.Lock()
	if s.expireEvery > 0 {
		s.apiSeen++
		if s.apiSeen%s.expireEvery == 0 {
			s.sessions = map[string]bool{}
		}
	}
	s.mu.Unlock()
	if !s.authorized(r) {
		s.count(resourceOf(p, r), false)
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	resource := s.cursorResource(rest, r)
	s.count(resource, true)
	s.org.mu.Lock()
	s.org.apiUsed++
	s.org.lastVersion = version
	used, limit := s.org.apiUsed, s.org.apiMax
	s.org.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
	if used > limit {
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	gz := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
	switch {
	case rest == "query" || rest == "query/" || rest == "queryAll" || rest == "queryAll/":
		s.handleQuery(w, r, version, gz)
	case strings.HasPrefix(rest, "query/"):
		s.handleMore(w, r, strings.TrimPrefix(rest, "query/"), gz)
	case rest == "limits" || rest == "limits/":
		s.handleLimits(w, gz)
	case strings.HasPrefix(rest, "sobjects/EventLogFile/") && strings.HasSuffix(rest, "/LogFile"):
		s.handleLogFile(w, r, strings.TrimSuffix(strings.TrimPrefix(rest, "sobjects/EventLogFile/"), "/LogFile"), gz)
	case strings.HasPrefix(rest, "sobjects/OauthToken/"):
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are HEAD,GET,POST")
	case strings.HasPrefix(rest, "apps/oauth/usage"):
		s.handleECA(w, r, strings.TrimPrefix(rest, "apps/oauth/usage"), version, gz)
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (s *Server) cursorResource(rest string, r *http.Request) string {
	if strings.HasPrefix(rest, "query/") {
		s.mu.Lock()
		defer s.mu.Unlock()
		id, _, _ := strings.Cut(strings.TrimPrefix(rest, "query/"), "-")
		if c := s.cursors[id]; c != nil {
			return "query:" + c.res.c.d.name
		}
		return "query"
	}
	return resourceOf("/services/data/v0/"+rest, r)
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[tok]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]string{{"message": msg, "errorCode": code}})
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// body writes a JSON body, gzip-compressed when the client accepts it.
func body(w http.ResponseWriter, gz bool, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(b)
		zw.Close()
		return
	}
	w.Write(b)
}

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

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, version string, gz bool) {
	soql := r.URL.Query().Get("q")
	q, err := parseSOQL(soql)
	if err != nil {
		writeSOQLError(w, err)
		return
	}
	q.version = version
	var c *compiled
	var res *result
	err = s.org.readLocked(func() (err error) {
		if c, err = compile(s.org, q); err == nil {
			res, err = c.run(s.org)
		}
		return err
	})
	if err != nil {
		writeSOQLError(w, err)
		return
	}
	if res.c.agg && s.aggregateQuirk(w, res) {
		return
	}
	batch := 2000
	if opt := r.Header.Get("Sforce-Query-Options"); opt != "" {
		if n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(opt), "batchSize=")); err == nil {
			batch = min(max(n, 200), 2000)
		}
	}
	if c.d.pageSize > 0 {
		batch = c.d.pageSize
	}
	cur := &cursor{res: res, batch: batch, version: version}
	s.page(w, cur, "", gz)
}

func writeSOQLError(w http.ResponseWriter, err error) {
	if se, ok := err.(*soqlError); ok {
		writeError(w, http.StatusBadRequest, se.code, se.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred: "+err.Error())
}

// readLocked runs f with the org's read lock, which it always releases: a
// panic in f (a bug of the fake, or rows added around Add's checks) becomes
// an error, answered as Salesforce answers its own faults (500
// UNKNOWN_EXCEPTION), and the org stays usable.
func (o *Org) readLocked(f func() error) (err error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sftest: internal error: %v", p)
		}
	}()
	return f()
}

func (s *Server) handleMore(w http.ResponseWriter, r *http.Request, locator string, gz bool) {
	id, off, _ := strings.Cut(locator, "-")
	s.mu.Lock()
	cur := s.cursors[id]
	valid := cur != nil && off == strconv.Itoa(cur.offset)
	s.mu.Unlock()
	if !valid {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	if s.pastCap(cur) {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.page(w, cur, id, gz)
}

// page writes the next page of a cursor and registers or drops its locator.
func (s *Server) page(w http.ResponseWriter, cur *cursor, id string, gz bool) {
	res := cur.res
	total := res.total
	avail := len(res.rows) + len(res.aggs)
	limit := avail
	if capRows := res.c.d.cursorCap; capRows > 0 && limit > capRows {
		limit = capRows
		if s.org.Behavior.CappedTotalSize {
			total = capRows
		}
	}
	if res.c.agg {
		// Aggregate results come in one batch: no query locator.
		cur.batch = max(cur.batch, maxAggregateRows)
	}
	s.mu.Lock()
	start := cur.offset
	end := min(start+cur.batch, limit)
	done := end >= limit
	if done && limit < avail && s.capNextPageError.Load() {
		done = false // the cap ends with a next page that fails (see CapWithFailingNextPage)
	}
	if done && !res.c.agg && s.endlessCursors.Load() {
		done = false // and the next page is empty and not done either (EndlessCursors)
	}
	cur.offset, cur.used = end, time.Now()
	if !done && id == "" {
		s.nextCur++
		id = fmt.Sprintf("01g5j%010d", s.nextCur)
		s.cursors[id] = cur
		s.gcCursors()
		s.releaseOldestCursors()
	} else if done && id != "" {
		delete(s.cursors, id)
	}
	s.mu.Unlock()
	b := make([]byte, 0, 256*(end-start)+64)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, done)
	if !done {
		b = append(b, `,"nextRecordsUrl":"/services/data/v`...)
		b = append(b, cur.version...)
		b = append(b, "/query/"...)
		b = append(b, id...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(end), 10)
		b = append(b, '"')
	}
	b = append(b, `,"records":[`...)
	if err := s.org.readLocked(func() error {
		for i := start; i < end; i++ {
			if i > start {
				b = append(b, ',')
			}
			if res.c.agg {
				b = append(b, res.aggs[i]...)
			} else {
				b = res.c.renderRecord(s.org, b, int(res.rows[i]), cur.version)
			}
		}
		return nil
	}); err != nil {
		writeSOQLError(w, err)
		return
	}
	b = append(b, "]}"...)
	body(w, gz, b)
}

// gcCursors drops locators idle for 15 minutes, as Salesforce does. Called with s.mu held.
func (s *Server) gcCursors() {
	for id, c := range s.cursors {
		if !c.used.IsZero() && time.Since(c.used) > 15*time.Minute {
			delete(s.cursors, id)
		}
	}
}

func (s *Server) handleLimits(w http.ResponseWriter, gz bool) {
	s.org.mu.RLock()
	used, limit := s.org.apiUsed, s.org.apiMax
	s.org.mu.RUnlock()
	b := fmt.Sprintf(`{"DailyApiRequests":{"Max":%d,"Remaining":%d,"Ant Migration Tool":{"Max":0,"Remaining":0},"Dataloader Bulk":{"Max":0,"Remaining":0}},"DailyBulkApiBatches":{"Max":15000,"Remaining":15000},"DataStorageMB":{"Max":1024,"Remaining":1024},"PermissionSets":{"Max":1500,"Remaining":1499,"CreateCustom":{"Max":1000,"Remaining":999}}}`,
		limit, max(limit-used, 0))
	body(w, gz, []byte(b))
}

func (s *Server) handleLogFile(w http.ResponseWriter, r *http.Request, id string, gz bool) {
	s.org.mu.RLock()
	var lf *LogFile
	for _, l := range s.org.logs {
		if l.ID == id && l.listed(s.org, s.org.nowLocked()) {
			lf = l
		}
	}
	s.org.mu.RUnlock()
	if lf == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	w.Header().Set("Content-Type", "application/octetstream")
	flushResponse := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if gz && lf.hugeRows() {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = s.logFileWriter(r, w, flushResponse).Write(lf.gzipped(s.org))
		return
	}
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		_ = lf.writeCSV(s.logFileWriter(r, zw, func() { _ = zw.Flush(); flushResponse() }), s.org)
		zw.Close()
		return
	}
	_ = lf.writeCSV(s.logFileWriter(r, w, flushResponse), s.org)
}

// IssuedAccessTokens returns every access token issued, expired ones
// included, so tests can check that none is ever printed.
func (s *Server) IssuedAccessTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}
