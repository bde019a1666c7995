package salesforce

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAPIVersion is the REST API version used unless configured (Spring '26).
const DefaultAPIVersion = "66.0"

// RequestInfo describes one HTTP request the client made, for the caller's metrics.
type RequestInfo struct {
	// Resource is a low-cardinality name: "token", "limits", "query:OauthToken",
	// "eventlogfile", "apps_oauth_usage", "revoke", ...
	Resource   string
	Method     string
	StatusCode int // 0 when there was no response
	Err        error
	Duration   time.Duration
}

// Client calls the REST API of one Salesforce org. It is safe for concurrent use.
type Client struct {
	hc *http.Client
	// dl is hc without its whole-request timeout, for streamed downloads:
	// they are bounded by streamBounds instead (download.go).
	dl         *http.Client
	downloads  DownloadBounds
	auth       *tokenCache
	loginURL   *url.URL
	apiVersion string
	userAgent  string
	observer   func(RequestInfo)
	maxRetries int
	retryBase  time.Duration
	now        func() time.Time

	instance atomic.Pointer[url.URL]
	usage    atomic.Pointer[APIUsage]
	// clockSkew is server time minus local time, from the Date header.
	clockSkew atomic.Int64
	// implausible counts server timestamps refused; skewWarned limits the log to one line per episode.
	implausible atomic.Int64
	skewWarned  atomic.Bool
	// instanceWarned limits the refused-instance_url log to one line.
	instanceWarned atomic.Bool
	// noRevokedField: the org refused PermissionSetAssignment.IsRevoked
	// (no user access policies); Permissions no longer asks for it.
	noRevokedField atomic.Bool
	logger         *slog.Logger
	maxSkew        time.Duration

	// cursors bounds the query cursors this client holds open (see DefaultMaxOpenCursors).
	cursors chan struct{}
	// shed counts the cursor slots given up (shedCursor); shedAt, under
	// shedMu, is when the last was, or the last was taken back
	// (regainCursor), by c.now.
	shed   atomic.Int32
	shedMu sync.Mutex
	shedAt time.Time

	limitMu      sync.Mutex
	limitedUntil time.Time
	limitErr     *APIError
	limitBlock   time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the base HTTP client (timeouts, TLS, proxies).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithAPIVersion sets the REST API version, such as "66.0".
func WithAPIVersion(v string) Option {
	return func(c *Client) {
		if v != "" {
			c.apiVersion = strings.TrimPrefix(v, "v")
		}
	}
}

// WithRequestObserver calls fn after every HTTP request, including token requests and retries.
func WithRequestObserver(fn func(RequestInfo)) Option { return func(c *Client) { c.observer = fn } }

// WithRetry sets how many times a retryable request is retried, and the base of the jittered backoff.
func WithRetry(maxRetries int, base time.Duration) Option {
	return func(c *Client) { c.maxRetries, c.retryBase = maxRetries, base }
}

// WithTokenLifetime sets the expiry stamped on access tokens (DefaultTokenLifetime).
func WithTokenLifetime(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.auth.lifetime = d
		}
	}
}

// WithLimitBlock sets how long requests fail fast, without reaching
// Salesforce, after a REQUEST_LIMIT_EXCEEDED (default one minute).
func WithLimitBlock(d time.Duration) Option { return func(c *Client) { c.limitBlock = d } }

// WithUserAgent sets the User-Agent and the Sforce-Call-Options client name.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// NewClient returns a client for the org that auth logs in to. It makes no
// network call: the first request fetches the token.
func NewClient(auth AuthConfig, opts ...Option) (*Client, error) {
	fetch, err := newFetcher(auth)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	login, _ := url.Parse(strings.TrimRight(auth.LoginURL, "/"))
	c := &Client{
		hc:         &http.Client{Timeout: 2 * time.Minute},
		loginURL:   login,
		apiVersion: DefaultAPIVersion,
		userAgent:  "salesforce_oauth_exporter",
		maxRetries: 3,
		retryBase:  500 * time.Millisecond,
		now:        time.Now,
		limitBlock: time.Minute,
		maxSkew:    DefaultMaxClockSkew,
		downloads:  DownloadBounds{IdleTimeout: DefaultDownloadIdleTimeout, MinBytesPerSecond: DefaultDownloadMinBytesPerSecond},
	}
	c.auth = &tokenCache{fetch: fetch, lifetime: DefaultTokenLifetime, now: func() time.Time { return c.now() }}
	c.cursors = make(chan struct{}, DefaultMaxOpenCursors)
	for _, o := range opts {
		o(c)
	}
	c.hc = withRedirectPolicy(c.hc)
	dl := *c.hc
	dl.Timeout = 0
	c.dl = &dl
	if c.downloads.HeaderTimeout <= 0 {
		c.downloads.HeaderTimeout = cmp.Or(c.hc.Timeout, DefaultDownloadHeaderTimeout)
	}
	return c, nil
}

// APIVersion returns the REST API version in use, such as "66.0".
func (c *Client) APIVersion() string { return c.apiVersion }

// LastAPIUsage returns the newest Sforce-Limit-Info seen, if any.
func (c *Client) LastAPIUsage() (APIUsage, bool) {
	u := c.usage.Load()
	if u == nil {
		return APIUsage{}, false
	}
	return *u, true
}

// ServerNow estimates the org's current time from the Date headers seen, so
// that time windows agree with the org's clock.
func (c *Client) ServerNow() time.Time {
	return c.now().Add(time.Duration(c.clockSkew.Load()))
}

func (c *Client) dataPath(rel string) string {
	return "/services/data/v" + c.apiVersion + "/" + rel
}

func (c *Client) observe(ri RequestInfo) {
	if c.observer != nil {
		c.observer(ri)
	}
}

// request is one API call, before auth and retries.
type request struct {
	method   string
	path     string // absolute path on the instance, /services/...
	query    url.Values
	form     url.Values // POST body
	header   http.Header
	resource string
	noAuth   bool
	// stream, when set, bounds a streamed download instead of the HTTP
	// client's whole-request timeout (download.go).
	stream *streamBounds
	// soap, when set, makes the request a SOAP call: the envelope it
	// returns for the session is the body, and a fault is an *APIError
	// with the fault's code (metadata.go).
	soap func(session string) ([]byte, error)
}

// instanceURL is the API base: instance_url from the token response, or the login URL.
func (c *Client) instanceURL() *url.URL {
	if u := c.instance.Load(); u != nil {
		return u
	}
	return c.loginURL
}

func (c *Client) setInstance(raw any) {
	s, _ := raw.(string)
	if s == "" {
		return
	}
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || !instanceAllowed(u, c.loginURL) {
		if c.instanceWarned.CompareAndSwap(false, true) {
			c.log().Warn("Ignoring the token response's instance_url: not a Salesforce domain nor the login_url's host; using login_url", "instance_url", redactURL(s))
		}
		return // keep the login URL rather than follow an odd instance_url
	}
	u.Path, u.RawQuery, u.Fragment, u.User = "", "", "", nil
	c.instance.Store(u)
}

// do sends r with authentication, retries and gzip, and returns a response
// with status 2xx whose body the caller must close. Any other status is an
// *APIError. Retries live here and nowhere else: idempotent requests (GET)
// are retried on connection errors, 5xx and 429 with jittered backoff; a 401
// is retried once with a new token; REQUEST_LIMIT_EXCEEDED and other 4xx never.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	if err := c.limitBlocked(); err != nil {
		return nil, err
	}
	idempotent := r.method == http.MethodGet
	refreshed := false
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, r)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var apiErr *APIError
		var authErr *AuthError
		switch {
		case errors.As(err, &apiErr) && errors.Is(apiErr, ErrUnauthorized) && !refreshed && !r.noAuth:
			refreshed = true
			attempt-- // the 401 retry does not count against the retry budget
			continue
		case errors.As(err, &apiErr) && errors.Is(apiErr, ErrRequestLimitExceeded):
			c.blockLimit(apiErr)
			return nil, err
		case errors.As(err, &apiErr) && apiErr.Temporary() && idempotent:
		case errors.As(err, &authErr) && authErr.Temporary():
		case errors.As(err, &authErr):
			return nil, err
		case apiErr == nil && idempotent && isConnError(err):
		default:
			return nil, err
		}
		if attempt >= c.maxRetries {
			return nil, err
		}
		if err := sleepCtx(ctx, backoff(c.retryBase, attempt)); err != nil {
			return nil, err
		}
	}
}

// once makes one attempt.
func (c *Client) once(ctx context.Context, r request) (*http.Response, error) {
	var access string
	if !r.noAuth {
		tok, err := c.auth.token(ctx, c.hc)
		if err != nil {
			c.observe(RequestInfo{Resource: "token", Method: http.MethodPost, Err: err})
			return nil, err
		}
		c.setInstance(tok.Extra("instance_url"))
		access = tok.AccessToken
	}
	base := c.instanceURL()
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: r.path}
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	if r.soap != nil {
		env, err := r.soap(access)
		if err != nil {
			return nil, fmt.Errorf("build request for %s: %w", r.path, err)
		}
		body = bytes.NewReader(env)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", r.path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	req.Header.Set("Accept", "application/json")
	if r.soap != nil {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("Accept", "text/xml")
		req.Header.Set("SOAPAction", `""`)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Sforce-Call-Options", "client="+c.userAgent)

	start := c.now()
	hc := c.hc
	var attempt *streamAttempt
	if r.stream != nil {
		hc = c.dl
		attempt = r.stream.begin(ctx)
		req = req.WithContext(attempt.ctx)
	}
	resp, err := hc.Do(req)
	ri := RequestInfo{Resource: r.resource, Method: r.method, Duration: c.now().Sub(start)}
	if attempt != nil {
		resp, err = attempt.headers(resp, err)
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case attempt != nil && attempt.cause() != nil:
			err = attempt.cause()
		default:
			err = sanitizeTransportError(err)
		}
		ri.Err = err
		c.observe(ri)
		return nil, err
	}
	ri.StatusCode = resp.StatusCode
	c.recordHeaders(resp)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, gzErr := newGzipBody(resp.Body)
		if gzErr != nil && resp.StatusCode < 300 {
			resp.Body.Close()
			ri.Err = gzErr
			c.observe(ri)
			return nil, gzErr
		}
		if gzErr == nil {
			resp.Body = gz
		}
	}
	// Bounded after decompression, so a small gzip bomb cannot grow memory.
	resp.Body = limitBody(resp.Body, r.resource)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if r.soap != nil {
			apiErr := soapError(resp, access)
			resp.Body.Close()
			if errors.Is(apiErr, ErrUnauthorized) && access != "" {
				c.auth.invalidate(access)
			}
			ri.Err = apiErr
			c.observe(ri)
			return nil, apiErr
		}
		apiErr := newAPIError(resp)
		resp.Body.Close()
		if apiErr.StatusCode == http.StatusUnauthorized && access != "" {
			c.auth.invalidate(access)
		}
		ri.Err = apiErr
		c.observe(ri)
		return nil, apiErr
	}
	c.observe(ri)
	return resp, nil
}

func (c *Client) recordHeaders(resp *http.Response) {
	if h := resp.Header.Get("Sforce-Limit-Info"); h != "" {
		if u, err := ParseLimitInfo(h); err == nil {
			c.usage.Store(&u)
		}
	}
	if d := resp.Header.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			c.recordDate(t)
		}
	}
}

// blockLimit makes calls fail fast for a while after REQUEST_LIMIT_EXCEEDED,
// so a refresh that hits the limit does not keep spending requests.
func (c *Client) blockLimit(e *APIError) {
	c.limitMu.Lock()
	defer c.limitMu.Unlock()
	c.limitedUntil = c.now().Add(c.limitBlock)
	c.limitErr = e
}

func (c *Client) limitBlocked() error {
	c.limitMu.Lock()
	defer c.limitMu.Unlock()
	if c.limitErr != nil && c.now().Before(c.limitedUntil) {
		e := *c.limitErr
		return &e
	}
	return nil
}

// getJSON GETs a path and decodes the JSON body into v.
func (c *Client) getJSON(ctx context.Context, resource, p string, v any) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: p, resource: resource})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", resource, err)
	}
	return nil
}

// resolveNext validates a nextRecordsUrl (or nextPageUrl): it must be a path
// under /services/data/ on the API host, so the bearer token is never sent anywhere else.
func (c *Client) resolveNext(next string) (string, url.Values, error) {
	u, err := url.Parse(next)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // a *url.Error quotes the whole URL, its query included
		}
		return "", nil, fmt.Errorf("invalid next page URL: %w", err)
	}
	base := c.instanceURL()
	if u.User != nil || u.Opaque != "" || (u.Host != "" && (u.Host != base.Host || u.Scheme != base.Scheme)) || (u.Host == "" && u.Scheme != "") {
		return "", nil, fmt.Errorf("refusing next page URL on another host %q", redactURL(next))
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, "/services/data/") || clean != strings.TrimSuffix(u.Path, "/") && clean != u.Path {
		return "", nil, fmt.Errorf("refusing next page URL outside /services/data/: %q", redactURL(next))
	}
	return u.Path, u.Query(), nil
}

func isConnError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errTransport)
}

var errTransport = errors.New("transport error")

// sanitizeTransportError drops the URL (it can hold a query) from a transport error.
func sanitizeTransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return fmt.Errorf("%w: %s", errTransport, excerpt(err.Error()))
}

// backoff is exponential with full jitter: a random duration in [base*2^n/2, base*2^n].
func backoff(base time.Duration, n int) time.Duration {
	d := base << min(n, 6)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// gzipBody decompresses a response body and closes the underlying one.
type gzipBody struct {
	*gzip.Reader
	under io.ReadCloser
}

func newGzipBody(rc io.ReadCloser) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return nil, fmt.Errorf("gzip response: %w", err)
	}
	return &gzipBody{Reader: zr, under: rc}, nil
}

func (g *gzipBody) Close() error {
	g.Reader.Close()
	return g.under.Close()
}

// Identity returns the running user's and org's Ids from the identity URL of
// the current token ("" before the first request).
func (c *Client) Identity() Identity {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.tok == nil {
		return Identity{}
	}
	s, _ := c.auth.tok.Extra("id").(string)
	parts := strings.Split(strings.TrimRight(s, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return Identity{}
	}
	return Identity{OrgID: parts[len(parts)-2], UserID: parts[len(parts)-1]}
}
