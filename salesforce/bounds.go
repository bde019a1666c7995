package salesforce

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file holds what the client does not take on trust from a response:
// redirects, body sizes, the instance_url host and server timestamps.

// Response body bounds, decompressed. A real /limits answer is a few KB, an
// External Client App page of 100 apps some tens of KB and a 2,000-row query
// page a few MB; these stop a runaway or hostile body long before memory does.
const (
	// MaxResponseBytes bounds any response not listed below (query pages included).
	MaxResponseBytes = 16 << 20
	// MaxLimitsBytes bounds a /limits response.
	MaxLimitsBytes = 1 << 20
	// MaxECAPageBytes bounds one page of the App OAuth Usage resources.
	MaxECAPageBytes = 8 << 20
	// MaxRevokeBytes bounds a revoke response (an empty body when it works).
	MaxRevokeBytes = 64 << 10
)

// ErrResponseTooLarge is returned when a response body exceeds its bound.
var ErrResponseTooLarge = errors.New("salesforce: response body too large")

// ErrNoLastPage is returned when a paged resource is still paging after the
// most pages it may have (for a SOQL query, QueryMaxPages): a server that
// always gives a next page would otherwise keep the client reading forever.
var ErrNoLastPage = errors.New("no last page")

// Bounds on a SOQL query (Stream).
const (
	// MaxQueryRows is the most rows one query is read for: far more than any
	// source asks for (a day of LoginHistory of a big org is some hundreds
	// of thousands of rows), and still an end to a cursor that never ends.
	MaxQueryRows = 10_000_000
	// DefaultQueryPageRows is the rows of a query page when no BatchSize is
	// asked for: Salesforce's default batch.
	DefaultQueryPageRows = 2000
)

// QueryMaxPages is the most pages a query asking for pages of pageRows
// records (BatchSize; 0 is DefaultQueryPageRows) may have: MaxQueryRows of
// them, 5,000 pages at the default size. Stream fails with ErrNoLastPage
// after that many.
func QueryMaxPages(pageRows int) int {
	n := pageRowsOf(pageRows)
	return (MaxQueryRows + n - 1) / n
}

// pageRowsOf is the page size of a query asking for batchSize records a page.
func pageRowsOf(batchSize int) int {
	if batchSize <= 0 {
		return DefaultQueryPageRows
	}
	return batchSize
}

// bodyLimit returns the bound on a response body for a resource; 0 means
// unbounded (a log file download, which is streamed through a bounded parser).
func bodyLimit(resource string) int64 {
	switch resource {
	case "eventlogfile_download":
		return 0
	case "limits":
		return MaxLimitsBytes
	case "apps_oauth_usage":
		return MaxECAPageBytes
	case "revoke":
		return MaxRevokeBytes
	case "metadata:listMetadata", "metadata:readMetadata":
		return MaxMetadataBytes
	}
	return MaxResponseBytes
}

// limitedBody fails with ErrResponseTooLarge once more than n bytes were read,
// rather than truncating silently into a confusing decode error.
type limitedBody struct {
	rc       io.ReadCloser
	n        int64 // bytes still allowed
	limit    int64
	resource string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, fmt.Errorf("%s: %w: more than %d bytes", l.resource, ErrResponseTooLarge, l.limit)
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1] // one byte past the bound tells "exactly n" from "more"
	}
	k, err := l.rc.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		k += int(l.n) // hand out no byte past the bound
		return k, fmt.Errorf("%s: %w: more than %d bytes", l.resource, ErrResponseTooLarge, l.limit)
	}
	return k, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

func limitBody(rc io.ReadCloser, resource string) io.ReadCloser {
	n := bodyLimit(resource)
	if n <= 0 {
		return rc
	}
	return &limitedBody{rc: rc, n: n, limit: n, resource: resource}
}

// redirectPolicy is the CheckRedirect of every request the client makes,
// token requests included: a POST follows no redirect (Go would turn it into
// a body-less GET, whose 200 says nothing about the POST), and no request
// follows one to another origin (scheme, host and port), so neither the
// bearer token nor a client secret is ever sent there. The redirect
// response itself is then returned, and being no 2xx it is an error.
func redirectPolicy(req *http.Request, via []*http.Request) error {
	first := via[0]
	switch {
	case first.Method != http.MethodGet && first.Method != http.MethodHead:
		return http.ErrUseLastResponse
	case !sameOrigin(req.URL, first.URL):
		return http.ErrUseLastResponse
	case len(via) >= 5:
		return http.ErrUseLastResponse
	}
	return nil
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u.Host + ":443"
	case "http":
		return u.Host + ":80"
	}
	return u.Host
}

// withRedirectPolicy returns a copy of hc that applies redirectPolicy.
func withRedirectPolicy(hc *http.Client) *http.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	cp := *hc
	cp.CheckRedirect = redirectPolicy
	return &cp
}

// salesforceDomains are the suffixes of the hosts Salesforce serves the API
// on: My Domain and instance hosts (*.my.salesforce.com, na1.salesforce.com),
// *.force.com, the legacy *.cloudforce.com, Government Cloud Plus
// (*.my.salesforce.mil and its force.mil and cloudforce.mil hosts) and
// Salesforce on Alibaba Cloud (*.my.sfcrmproducts.cn).
var salesforceDomains = []string{".salesforce.com", ".force.com", ".cloudforce.com", ".salesforce.mil", ".force.mil", ".cloudforce.mil", ".sfcrmproducts.cn"}

// instanceAllowed reports whether an instance_url from the token endpoint may
// become the API host: https on a Salesforce domain, or the login URL's own
// origin (how the tests and the demo run on loopback).
func instanceAllowed(u, login *url.URL) bool {
	if u.User != nil || u.Host == "" {
		return false
	}
	if login != nil && sameOrigin(u, login) {
		return true
	}
	if u.Scheme != "https" || u.Port() != "" && u.Port() != "443" {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, d := range salesforceDomains {
		if strings.HasSuffix(host, d) && len(host) > len(d) {
			return true
		}
	}
	return false
}

// Bounds on the timestamps the client hands out.
const (
	// DefaultMaxClockSkew is how far the org's Date header may be from the
	// local clock before the client ignores it (WithMaxClockSkew changes it).
	// Real clocks differ by seconds. The default is loose because the tests
	// run fake orgs whose clocks are set months away from the local one; it
	// still refuses a Date in 2099, which made revoke --stale select every
	// token. Revoke refuses --stale past a tighter bound (see review), and log
	// file dates are checked against the org's clock with a one-hour margin.
	DefaultMaxClockSkew = 2 * 365 * 24 * time.Hour
	// LogFileClockMargin is how far past the org's clock a log file's
	// CreatedDate may lie.
	LogFileClockMargin = time.Hour
	// MaxLogFileAge is the oldest LogDate accepted: event log files are kept
	// at most a year.
	MaxLogFileAge = 366 * 24 * time.Hour
)

// WithMaxClockSkew sets how far the org's Date header may lie from the local
// clock before it is ignored (DefaultMaxClockSkew).
func WithMaxClockSkew(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.maxSkew = d
		}
	}
}

// ClockSkew returns the org's clock minus the local clock, from the last
// plausible Date header.
func (c *Client) ClockSkew() time.Duration { return time.Duration(c.clockSkew.Load()) }

// PlausibleTime reports whether t lies within [now-past, now+future]; the
// zero time is not plausible.
func PlausibleTime(t, now time.Time, past, future time.Duration) bool {
	return !t.IsZero() && !t.Before(now.Add(-past)) && !t.After(now.Add(future))
}

// plausibleLogFile reports whether a listed file's dates can be true against
// the org's clock now (ServerNow): a LogDate no older than MaxLogFileAge and
// not after the file's CreatedDate, and a CreatedDate at most
// LogFileClockMargin ahead.
// A LogDate of 9000-01-01 would otherwise prune every other period, and a
// CreatedDate in 2999 would become a listing watermark hiding later files.
func plausibleLogFile(f EventLogFile, now time.Time) error {
	if !PlausibleTime(f.CreatedDate.Time, now, MaxLogFileAge+48*time.Hour, LogFileClockMargin) {
		return fmt.Errorf("CreatedDate %s is not within a year before now (%s)", SOQLTime(f.CreatedDate.Time), SOQLTime(now))
	}
	if !PlausibleTime(f.LogDate.Time, now, MaxLogFileAge, LogFileClockMargin) {
		return fmt.Errorf("LogDate %s is not within a year before now (%s)", SOQLTime(f.LogDate.Time), SOQLTime(now))
	}
	if f.LogDate.After(f.CreatedDate.Time) {
		return fmt.Errorf("LogDate %s is after its CreatedDate %s", SOQLTime(f.LogDate.Time), SOQLTime(f.CreatedDate.Time))
	}
	return nil
}

// WithLogger sets where the client logs what it refused to trust (an
// implausible Date header or log file date). The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.logger = l } }

func (c *Client) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// ImplausibleTimes returns how many server timestamps (Date headers, log
// file dates) the client has refused since it was created.
func (c *Client) ImplausibleTimes() int64 { return c.implausible.Load() }

// recordDate takes the org's clock from a Date header, unless it is further
// than the maximum skew from the local clock.
func (c *Client) recordDate(t time.Time) {
	now := c.now()
	skew := t.Sub(now).Truncate(time.Second)
	if skew > c.maxSkew || skew < -c.maxSkew {
		c.implausible.Add(1)
		if c.skewWarned.CompareAndSwap(false, true) {
			c.log().Warn("Ignoring the org's Date header: it is too far from the local clock", "date", t.UTC().Format(time.RFC3339), "local", now.UTC().Format(time.RFC3339), "max_skew", c.maxSkew)
		}
		return
	}
	c.skewWarned.Store(false)
	c.clockSkew.Store(int64(skew))
}
