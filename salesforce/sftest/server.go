package sftest

import (
	"compress/gzip"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
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
	s.cursorsPeak.Store(int64(len(s.cursors)))
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
	}
	if strings.HasPrefix(p, "/services/Soap/m/") {
		s.handleMetadata(w, r)
		return
	}
	switch p {
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

// gzipWriters are reused: a compressor is about 800 kB of state, and the
// fake shares the machine's cores with the client it serves (the bench's
// full sync spent a third of the fake's CPU in gzip at the default level).
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// body writes a JSON body, gzip-compressed when the client accepts it.
func body(w http.ResponseWriter, gz bool, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(w)
		zw.Write(b)
		zw.Close()
		zw.Reset(io.Discard)
		gzipWriters.Put(zw)
		return
	}
	w.Write(b)
}
