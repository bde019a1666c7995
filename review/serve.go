package review

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Bounds of the served review's per-user reads.
const (
	// detailReadTimeout bounds one read of an org's per-user detail
	// (about 30 s for a million tokens).
	detailReadTimeout = 10 * time.Minute
	// firstReadWait is how long a request waits for an org's first read
	// before it gets the report without per-user detail. A client that gives
	// up sooner stops waiting; the read goes on for the next request.
	firstReadWait = 90 * time.Second
	// DetailBackoffMin and detailBackoffMax bound the wait after a failed read.
	DetailBackoffMin = time.Minute
	detailBackoffMax = time.Hour
	// budgetRetry is the wait after a read refused for the API budget.
	budgetRetry = 10 * time.Minute
)

// Orgs is what the served review reads of the running exporter: the config
// in force, each org's refresher (for its latest snapshot) and a client of
// the org's own. A *refresh.Manager is one.
type Orgs interface {
	Config() *config.Config
	Refresher(org string) *refresh.Refresher
	NewClient(org string, observe func(salesforce.RequestInfo)) (*salesforce.Client, error)
}

// Server serves /review and /review.json (on with --web.enable-review).
// The per-user detail costs about one API call per 2,000 tokens, so it is
// read in the background, under the server's context and never a request's:
// at most one read per org at a time, at most once per ttl while the apps
// stay the same, never when the org's API budget is spent, and failures are
// remembered with a backoff. Requests get the last good read, which is
// never older than the snapshot it is shown with.
type Server struct {
	mgr     Orgs
	ctx     context.Context // the server's life
	ttl     time.Duration
	maxRows int
	shard   config.Shard
	logger  *slog.Logger
	now     func() time.Time
	// failed counts a failed read of an org's detail (a metric).
	failed func(org string)

	mu   sync.Mutex
	orgs map[string]*orgDetail
}

// orgDetail is one org's per-user detail: the latest good read, with the
// snapshot it was read against, and the read in flight.
type orgDetail struct {
	snap   *snapshot.Snapshot
	key    string // tokenKey(snap)
	detail *Detail
	at     time.Time // when the read finished (local clock)
	cost   int64     // the latest read's API calls

	running bool
	started time.Time
	done    chan struct{} // closed when the running read ends

	lastErr  string
	failures int
	retryAt  time.Time
}

// NewServer returns the served review over mgr's orgs. Reads of the detail
// run under ctx; failed is called with the org of each failed read.
func NewServer(ctx context.Context, mgr Orgs, ttl time.Duration, maxRows int, shard config.Shard, logger *slog.Logger, failed func(org string)) *Server {
	if failed == nil {
		failed = func(string) {}
	}
	return &Server{mgr: mgr, ctx: ctx, ttl: ttl, maxRows: maxRows, shard: shard, logger: logger, now: time.Now, failed: failed, orgs: map[string]*orgDetail{}}
}

// Register serves /review and /review.json; when off, they answer 404
// with how to turn them on.
func Register(mux *http.ServeMux, s *Server) {
	var h http.Handler = s
	if s == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the review page is off: start the exporter with --web.enable-review to serve /review and /review.json (each read of the per-user detail costs about one API call per 2,000 tokens), or run the review command", http.StatusNotFound)
		})
	}
	mux.Handle("/review", h)
	mux.Handle("/review.json", h)
}

// tokenKey identifies the token data a detail read matches: the apps with
// their token and user counts. When it changes (an app appears, gains
// users), a read made before no longer matches the snapshot.
func tokenKey(snap *snapshot.Snapshot) string {
	h := sha256.New()
	for _, a := range snap.Apps {
		if a.HasTokens {
			fmt.Fprintf(h, "%q %q %q %d %d\n", a.Kind, a.Name, salesforce.ID(a.ID).Key(), a.Tokens, a.Users)
		}
	}
	return string(h.Sum(nil))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	cfg := s.mgr.Config()
	q := req.URL.Query()
	orgs, err := SelectOrgs(cfg, q.Get("org"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	var reports []*Report
	for _, o := range orgs {
		r := s.mgr.Refresher(o.Name)
		if r == nil {
			continue
		}
		snap := r.Snapshot()
		if snap == nil {
			continue
		}
		reports = append(reports, s.report(req.Context(), cfg, o, snap, q.Get("app")))
	}
	format := "html"
	if strings.HasSuffix(req.URL.Path, ".json") {
		format = "json"
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := Write(w, reports, format); err != nil {
		s.logger.Debug("Write review", "err", err) // the client went away
	}
}

// report builds one org's report from the latest read that matches a
// snapshot: cur when the read matches it, else the snapshot the read was
// made against, while a new read runs.
func (s *Server) report(ctx context.Context, cfg *config.Config, o config.Org, cur *snapshot.Snapshot, fullApp string) *Report {
	key := tokenKey(cur)
	s.mu.Lock()
	c := s.orgs[o.Name]
	if c == nil {
		c = &orgDetail{}
		s.orgs[o.Name] = c
	}
	now := s.now()
	fresh := c.detail != nil && c.key == key && now.Sub(c.at) < s.ttl
	if !fresh && !c.running && !now.Before(c.retryAt) {
		s.start(o, cur, key, c, now)
	}
	wait := c.detail == nil && c.running
	done := c.done
	s.mu.Unlock()
	if wait {
		t := time.NewTimer(firstReadWait)
		select {
		case <-done:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}

	s.mu.Lock()
	snap, d, readKey, readSnap := cur, c.detail, c.key, c.snap
	status := &DetailStatus{LastError: c.lastErr}
	if c.lastErr != "" {
		status.RetryAfter = c.retryAt.UTC()
	}
	if c.running {
		status.RefreshingSince = c.started.UTC()
	}
	s.mu.Unlock()
	switch {
	case d == nil && status.LastError != "":
		d = &Detail{Taken: s.now(), Err: status.LastError}
	case d == nil:
		d = &Detail{Taken: s.now(), Err: fmt.Sprintf("it is being read (started %s ago); reload the page in a minute", s.now().Sub(status.RefreshingSince).Round(time.Second))}
	default:
		status.Taken = d.Taken.UTC()
		status.SnapshotTaken = readSnap.Taken.UTC()
		if readKey != key {
			// The apps changed since the read: show the read with its own
			// snapshot, so no app shows tokens without authorizations.
			snap = readSnap
		}
	}
	opts := DefaultOptions()
	opts.StaleAfter = time.Duration(cfg.StaleAfter)
	opts.ConfigFile = cfg.File
	opts.History = HistoryOf(cur)
	opts.MaxRows, opts.FullApp = s.maxRows, fullApp
	opts.Shard = &ShardInfo{Index: s.shard.Index, Count: s.shard.Count}
	r := Build(snap, d, cfg.InventoryFor, opts)
	r.Detail = status
	if snap != cur {
		r.Notes = append(r.Notes, fmt.Sprintf("refreshing: the apps changed after the per-user detail was read (%s), so this report shows the data of that read; a new read started %s ago",
			d.Taken.UTC().Format(time.RFC3339), s.now().Sub(status.RefreshingSince).Round(time.Second)))
	}
	return r
}

// start begins a read of o's detail against snap, unless the org's API
// budget is spent. s.mu is held.
func (s *Server) start(o config.Org, snap *snapshot.Snapshot, key string, c *orgDetail, now time.Time) {
	if reason := budgetRefusal(snap, c.cost); reason != "" {
		c.lastErr, c.retryAt = reason, now.Add(budgetRetry)
		s.logger.Warn("Review detail not read: the API budget is spent", "org", o.Name, "reason", reason)
		return
	}
	c.running, c.started, c.done = true, now, make(chan struct{})
	go s.fetch(o, snap, key, c)
}

// budgetRefusal says why a read of about cost calls may not start now, or "".
func budgetRefusal(snap *snapshot.Snapshot, cost int64) string {
	if snap.BudgetDaily > 0 && float64(snap.Requests24h+cost) > snap.BudgetDaily {
		return fmt.Sprintf("the exporter's API budget for the org is spent: %d requests in the last 24 hours, %d more for this read, %.0f allowed (api_budget_percent of DailyApiRequests)", snap.Requests24h, cost, snap.BudgetDaily)
	}
	if snap.HasLimits && snap.DailyAPIMax > 0 && snap.DailyAPIRemaining <= cost {
		return fmt.Sprintf("the org's DailyApiRequests are nearly used up: %d of %d left, this read needs about %d", snap.DailyAPIRemaining, snap.DailyAPIMax, cost)
	}
	return ""
}

// fetch reads o's detail under the server's context and records the outcome.
func (s *Server) fetch(o config.Org, snap *snapshot.Snapshot, key string, c *orgDetail) {
	ctx, cancel := context.WithTimeout(s.ctx, detailReadTimeout)
	defer cancel()
	// A client of its own, so its call count is the detail's alone while the
	// refresher keeps running; its requests still count in the org's metrics
	// and API budget.
	calls := &refresh.CallCounter{}
	d, err := func() (*Detail, error) {
		cl, err := s.mgr.NewClient(o.Name, calls.Observe)
		if err != nil {
			return nil, err
		}
		return FetchDetail(ctx, cl, snap, o.MaxConcurrency)
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c.running = false
	close(c.done)
	if err != nil {
		c.failures++
		wait := min(detailBackoffMax, DetailBackoffMin<<min(c.failures-1, 10))
		if errors.Is(err, salesforce.ErrRequestLimitExceeded) {
			wait = max(wait, 15*time.Minute)
		}
		c.lastErr, c.retryAt = err.Error(), now.Add(wait)
		c.cost = max(c.cost, calls.Count())
		s.failed(o.Name)
		s.logger.Error("Review detail read failed; serving the last good read", "org", o.Name, "err", err, "retry_in", wait.String(), "api_calls", calls.Count())
		return
	}
	d.APICalls = calls.Count()
	c.snap, c.key, c.detail, c.at, c.cost = snap, key, d, now, d.APICalls
	c.failures, c.lastErr, c.retryAt = 0, "", time.Time{}
	s.logger.Info("Review detail read", "org", o.Name, "api_calls", d.APICalls, "duration_seconds", now.Sub(c.started).Seconds(), "tokens", len(d.Tokens))
}

// SelectOrgs returns the configured orgs, or the one named.
func SelectOrgs(cfg *config.Config, name string) ([]config.Org, error) {
	if name == "" {
		return cfg.Orgs, nil
	}
	for _, o := range cfg.Orgs {
		if o.Name == name {
			return []config.Org{o}, nil
		}
	}
	names := make([]string, 0, len(cfg.Orgs))
	for _, o := range cfg.Orgs {
		names = append(names, o.Name)
	}
	return nil, fmt.Errorf("org %q is not in the config (orgs: %s)", name, strings.Join(names, ", "))
}
