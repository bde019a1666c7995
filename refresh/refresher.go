package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Settings are the parts of the config shared by every org that may change on
// reload without restarting a refresher.
type Settings struct {
	StaleAfter time.Duration
	MaxApps    int // max_apps_per_org; 0: no cap
	Inventory  func(org, appName, appID string) *config.InventoryEntry
	// Detection configures the network and object baselines (zero fields
	// take the defaults); IOC is the compiled IOC lists, nil for none.
	Detection detect.Config
	IOC       *detect.IOCSet
	// Declared is the inventory's declared networks and objects of an
	// org's apps (config.Config.DeclaredFor); nil for none.
	Declared func(org string) []detect.Declared
	// ThreatsReviewedUntil is an org's threat_events_reviewed_until in
	// force: a reload applies it without restarting the org's refresher;
	// nil reads the org's config.
	ThreatsReviewedUntil func(org string) time.Time
}

// Refresher keeps one org's snapshot fresh: it schedules the sources
// (source.go's registry), spends the API budget, and publishes. It is the
// only writer of its state; readers call Snapshot.
type Refresher struct {
	org      config.Org
	client   *salesforce.Client
	logger   *slog.Logger
	storage  string
	settings atomic.Pointer[Settings]
	now      func() time.Time

	snap atomic.Pointer[snapshot.Snapshot]
	kick chan struct{}

	// Everything below is touched only by the run goroutine.
	state   *orgState
	dirty   bool
	sources []*sourceRun // in registry order
	limits  *limitsSource
	stream  *streamSource
	// streamOpts are the Pub/Sub client options of the stream
	// (SetStreamOptions); streamFlush how often its events are drained
	// (defaultStreamFlush when 0); streamHook, for tests, sees each
	// handled event with the topic's count.
	streamOpts  []pubsub.Option
	streamFlush time.Duration
	streamHook  func(topic string, events int64)
	budget      *budget
	readOnly    bool
	oneShot     bool          // SetOneShot
	writes      storageWrites // nil without storage or when read-only
	onPublish   func()
	warned      map[string]bool
	detect      detection  // detection.go
	lease       leaseState // lease.go
	// ecaForeign is the latest snapshot.ForeignECATokens answer taken when
	// the per-user ECA read began after the token read ended (foreignECATokens).
	ecaForeign map[string]salesforce.TokenStats
}

// sourceRun is the refresher's schedule of one source.
type sourceRun struct {
	spec   *Spec
	src    source
	status snapshot.SourceStatus
	next   time.Time
	cost   float64 // requests per steady-state run, smoothed
	runs   int     // successful runs
	fails  int     // consecutive failures
}

// NewRefresher builds a refresher for one org. It makes no network call.
// observe, when not nil, sees every request the org's client makes (the
// exporter's request metrics, or a command's call counter).
func NewRefresher(org config.Org, settings Settings, storage string, logger *slog.Logger, observe func(salesforce.RequestInfo), opts ...salesforce.Option) (*Refresher, error) {
	r := &Refresher{
		org: org, logger: logger.With("org", org.Name), storage: storage, now: time.Now,
		kick: make(chan struct{}, 1), warned: map[string]bool{}, budget: newBudget(),
	}
	if storage != "" {
		r.writes = newStorageWrites()
	}
	r.settings.Store(&settings)
	opts = append([]salesforce.Option{salesforce.WithLogger(r.logger.With("component", "client"))}, opts...)
	c, err := NewClient(org, func(ri salesforce.RequestInfo) {
		if observe != nil {
			observe(ri)
		}
		if countsAgainstAllocation(ri.Resource) {
			r.budget.add(r.now())
		}
	}, opts...)
	if err != nil {
		return nil, err
	}
	r.client = c
	for _, spec := range Specs() {
		src := spec.newSource()
		if l, ok := src.(*limitsSource); ok {
			r.limits = l
		}
		if st, ok := src.(*streamSource); ok {
			r.stream = st
		}
		r.sources = append(r.sources, &sourceRun{spec: spec, src: src, status: snapshot.SourceStatus{Enabled: org.SourceEnabled(spec.Name), Interval: org.SourceInterval(spec.Name)}})
	}
	return r, nil
}

// SetReadOnlyState makes the refresher read its state file but never write
// it, for one-shot commands that run beside a serving exporter.
// The stream runs only in a serving refresher: a command's read has no
// later drain to hand its events to.
func (r *Refresher) SetReadOnlyState() {
	r.readOnly, r.writes = true, nil
	for _, s := range r.sources {
		if s.src == r.stream {
			s.status.Enabled = false
		}
	}
}

// SetStreamOptions sets Pub/Sub client options for the org's stream (a
// loopback transport for the demo); call it before Run.
func (r *Refresher) SetStreamOptions(opts ...pubsub.Option) { r.streamOpts = opts }

// SetOneShot makes the refresher a one-shot read (the review command): its
// state is read-only (SetReadOnlyState), and its token reads reach past the
// org's clock, so that a token created this second is counted. A serving
// refresher stops its reads ClockMargin short of the clock, for the next
// read to start where the last one ended; a one-shot read has no next read.
func (r *Refresher) SetOneShot() {
	r.SetReadOnlyState()
	r.oneShot = true
}

// Client returns the org's API client (the review command reads its per-user detail through it).
func (r *Refresher) Client() *salesforce.Client { return r.client }

// Org returns the org's config.
func (r *Refresher) Org() config.Org { return r.org }

// SetSettings replaces the shared settings; the next publish uses them.
func (r *Refresher) SetSettings(s Settings) {
	r.settings.Store(&s)
	r.Kick()
}

// Kick asks for a publish (and any due refresh) now.
func (r *Refresher) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Snapshot returns the latest published snapshot, or nil before the first.
func (r *Refresher) Snapshot() *snapshot.Snapshot { return r.snap.Load() }

// Run refreshes sources as they fall due until ctx is done. The first
// refresh starts at once.
func (r *Refresher) Run(ctx context.Context) {
	r.checkLease()
	r.loadState()
	defer r.endLease()
	r.publish()
	if r.stream != nil && r.org.SourceEnabled(config.SourceStream) && !r.readOnly {
		r.stream.start(ctx, r)
		defer r.stream.stop()
	}
	for {
		now := r.now()
		ran := false
		for _, s := range r.sources {
			if !s.status.Enabled || now.Before(s.next) {
				continue
			}
			r.runSource(ctx, s)
			if ctx.Err() != nil {
				return
			}
			ran = true
			// Publish at once after a slow source (a full sync), so the others' news waits for nothing.
			if s.status.Duration > 5*time.Second {
				r.publish()
				ran = false
			}
		}
		if ran {
			r.publish()
		}
		wait := time.Hour
		for _, s := range r.sources {
			if s.status.Enabled {
				wait = min(wait, s.next.Sub(r.now()))
			}
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-r.kick:
				t.Stop()
				r.publish()
			case <-t.C:
			}
		}
	}
}

// oauthTokensComplete reports whether the oauth_tokens source is enabled, has
// read the org, and sees every user's tokens (see env).
func (r *Refresher) oauthTokensComplete() bool {
	for _, s := range r.sources {
		if t, ok := s.src.(*tokensSource); ok {
			return s.status.Enabled && t.known && !t.visibilityLimited
		}
	}
	return false
}

// tokenRows is the oauth_tokens source's row store, when it is enabled and
// reads rows; nil otherwise.
func (r *Refresher) tokenRows() *tokenStore {
	for _, s := range r.sources {
		if t, ok := s.src.(*tokensSource); ok && s.status.Enabled && t.mode == TokenModeRows {
			return t.store
		}
	}
	return nil
}

func (r *Refresher) runSource(ctx context.Context, s *sourceRun) {
	start := r.now()
	before := r.budget.total()
	timeout := time.Duration(r.org.Timeout)
	if t, ok := s.src.(timeoutSetter); ok {
		timeout = t.timeout(start, r.org)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	r.syncDetection()
	err := s.src.refresh(cctx, &env{client: r.client, org: r.org, settings: r.settings.Load(), logger: r.logger, state: r.state, dirty: &r.dirty, tracker: r.detect.tr, storage: r.storage, readOnly: r.noWrite(), oneShot: r.oneShot, writes: r.writes, oauthTokensComplete: r.oauthTokensComplete(), tokens: r.tokenRows()})
	cancel()
	if ctx.Err() != nil {
		return
	}
	// The first successful run of a source is a full read (a full OauthToken
	// sync, a log backfill): it says nothing of the steady cost, so it only
	// counts in the last-24-hours total. A failed run's calls count there
	// too, and set how long the retry waits.
	spent := float64(r.budget.total() - before)
	if err == nil {
		s.runs++
		switch s.runs {
		case 1:
		case 2:
			s.cost = spent
		default:
			s.cost = 0.7*s.cost + 0.3*spent
		}
	}
	s.status.LastAttempt, s.status.Duration = start, r.now().Sub(start)
	interval := r.effectiveInterval(s)
	s.status.Interval = interval
	if err != nil {
		s.status.Up, s.status.LastError = false, err.Error()
		s.fails++
		r.logFailure(s.spec.Name, err)
		s.next = r.now().Add(retryDelay(retryInput{
			interval: interval, fails: s.fails, spent: spent, allowed: r.allowedDaily(),
			spent24h: float64(r.budget.last24h(r.now())),
			limited:  errors.Is(err, salesforce.ErrRequestLimitExceeded), permission: errors.Is(err, errPermission),
		}))
		return
	}
	if !s.status.Up && !s.status.LastSuccess.IsZero() {
		r.logger.Info("Source recovered", "data_source", s.spec.Name)
	}
	s.fails = 0
	s.status.Up, s.status.LastError, s.status.LastSuccess = true, "", r.now()
	s.next = start.Add(interval)
}

func (r *Refresher) logFailure(source string, err error) {
	switch {
	case errors.Is(err, errPermission):
		key := source + "|perm"
		if !r.warned[key] {
			r.warned[key] = true
			r.logger.Error("Source turned off: the integration user lacks a permission", "data_source", source, "err", err)
		}
	case errors.Is(err, salesforce.ErrRequestLimitExceeded):
		r.logger.Warn("Org's API allocation is used up; backing off", "data_source", source, "err", err)
	default:
		r.logger.Error("Refresh failed; serving the last good data", "data_source", source, "err", err)
	}
}

// effectiveInterval stretches a source's interval when the org's API budget
// is tight, within [minInterval, maxInterval].
func (r *Refresher) effectiveInterval(s *sourceRun) time.Duration {
	base := clampDuration(float64(r.org.SourceInterval(s.spec.Name)), minInterval, maxInterval)
	allowed := r.allowedDaily()
	var projected float64
	for _, x := range r.sources {
		if x.status.Enabled {
			iv := clampDuration(float64(r.org.SourceInterval(x.spec.Name)), minInterval, maxInterval)
			projected += x.cost * float64(24*time.Hour) / float64(iv)
		}
	}
	stretch := stretchFactor(projected, float64(r.budget.last24h(r.now())), allowed)
	if stretch > 1.05 {
		key := "stretch"
		if !r.warned[key] {
			r.warned[key] = true
			r.logger.Warn("API budget is tight: stretching refresh intervals", "stretch", stretch, "budget_daily_requests", allowed, "projected_daily_requests", projected)
		}
	} else if r.warned["stretch"] {
		delete(r.warned, "stretch")
		r.logger.Info("API budget is back within bounds; refresh intervals restored")
	}
	return clampDuration(float64(base)*stretch, base, maxInterval)
}

// allowedDaily is the share of DailyApiRequests the exporter may use (0 when unknown).
func (r *Refresher) allowedDaily() float64 {
	maxReq := int64(0)
	if l, ok := r.limits.dailyAPI(); ok {
		maxReq = l.Max
	}
	if u, ok := r.client.LastAPIUsage(); ok && u.Max > 0 {
		maxReq = u.Max
	}
	return float64(maxReq) * r.org.APIBudgetPercent / 100
}

// budget counts the exporter's requests per minute over the last day.
type budget struct {
	mu      sync.Mutex
	buckets [1440]int64
	stamp   [1440]int64 // minute number of each bucket
	all     int64
}

func newBudget() *budget { return &budget{} }

func (b *budget) add(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := now.Unix() / 60
	i := m % 1440
	if b.stamp[i] != m {
		b.stamp[i], b.buckets[i] = m, 0
	}
	b.buckets[i]++
	b.all++
}

func (b *budget) total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.all
}

func (b *budget) last24h(now time.Time) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := now.Unix() / 60
	var n int64
	for i := range b.buckets {
		if m-b.stamp[i] < 1440 {
			n += b.buckets[i]
		}
	}
	return n
}

// publish builds a snapshot from what the sources last read (snapshot.Build), and
// saves the state when it changed.
func (r *Refresher) publish() {
	set := r.settings.Load()
	now := r.now()
	if r.stream != nil {
		r.syncDetection()
		r.stream.drain(r)
	}
	var p snapshot.Parts
	for _, s := range r.sources {
		s.src.contribute(&p)
	}
	r.syncDetection()
	p.Detection = r.detect.tr
	if r.detect.ioc != nil {
		p.DetectionIOCLists = r.detect.ioc.Names()
	}
	if u, ok := r.client.LastAPIUsage(); ok {
		p.HeaderUsage = &u
	}
	r.foreignECATokens(&p)
	snap, added := snapshot.Build(r.org.Name, p, set.Inventory, r.state.FirstSeen, now)
	live := map[string]bool{}
	for i := range snap.Apps {
		if a := &snap.Apps[i]; a.Seen() {
			live[a.StateKey()] = true
		}
	}
	if n := snapshot.Cap(snap, set.MaxApps); n > 0 {
		if !r.warned["cap"] {
			r.warned["cap"] = true
			r.logger.Warn("More apps than max_apps_per_org: the least used are summed into app=\"(other)\"", "apps", len(snap.Apps)-1+n, "max_apps_per_org", set.MaxApps, "folded", n)
		}
	} else if r.warned["cap"] {
		delete(r.warned, "cap")
	}
	r.updateSeen(snap, added, live, set.MaxApps, now)
	snap.Sources = map[string]snapshot.SourceStatus{}
	for _, s := range r.sources {
		st := s.status
		if st.Interval == 0 {
			st.Interval = r.org.SourceInterval(s.spec.Name)
		}
		snap.Sources[s.spec.Name] = st
	}
	snap.BudgetDaily = r.allowedDaily()
	snap.Requests24h = r.budget.last24h(now)
	snap.ImplausibleTimes = r.client.ImplausibleTimes()
	snap.MaxOpenCursors = r.client.MaxOpenCursors()
	if h, changed := recordHistory(r.state.History, snap, &r.state.Usage, now); changed {
		r.state.History, r.dirty = h, true
	}
	snap.History = r.state.History
	// The rows ledger is judged by the org's clock, as its events' times.
	serverNow := r.client.ServerNow()
	for _, l := range r.state.Rows {
		l.prune(serverNow)
	}
	snap.Rows = rowsFigures(r.state.Rows, serverNow)
	snapshot.SetHighWater(snap)
	if r.writes != nil {
		// As of the last write: this publish's write, below, follows the
		// snapshot out and shows in the next one.
		snap.StorageWrites = r.writes.snapshot()
	}
	snap.StorageLease = r.leaseStatus()
	snap.DetectionReset = r.detect.reset
	r.snap.Store(snap)
	if r.onPublish != nil {
		r.onPublish()
	}
	r.checkLease()
	if r.dirty && r.storage != "" && !r.noWrite() {
		r.saveDetection()
		err := saveState(r.storage, r.state)
		r.writes.record(snapshot.StorageFileState, err, r.now())
		if err != nil {
			r.logger.Error("Could not save state; serving from memory and trying again at the next change", "err", err)
		} else {
			r.dirty = false
		}
	}
}

// loadState loads the org's state; its apps without a last-seen time count
// as seen now.
func (r *Refresher) loadState() {
	if r.noWrite() {
		// A command beside a serving exporter, or a replica while another
		// holds the org's lease, reads its state and touches nothing in its
		// folder: no temporary file removed, no damaged file set aside.
		r.state = readState(r.storage, r.org.Name, r.logger)
	} else {
		r.state = loadState(r.storage, r.org.Name, r.logger)
	}
	r.state.fillLastSeen(r.now())
	if n := r.state.clampSeen(r.now()); n > 0 {
		r.logger.Warn("The state file holds first- or last-seen times in the future (a clock that ran ahead, or an edit): they count from now", "times", n)
		r.dirty = !r.noWrite()
	}
}

// updateSeen keeps the state's first-seen times: it records the new ones of
// the apps exported with a series of their own (an app summed into (other)
// gets its first-seen time when it gets its own series), the last-seen
// times of the live apps, and, once every enabled source has run since the
// start (so that a live app has been seen before its time is judged),
// prunes them (pruneSeen) to the apps seen within FirstSeenRetention and to
// at most max_apps_per_org.
func (r *Refresher) updateSeen(snap *snapshot.Snapshot, added map[string]time.Time, live map[string]bool, limit int, now time.Time) {
	exported := make(map[string]bool, len(snap.Apps))
	for i := range snap.Apps {
		if k := snap.Apps[i].StateKey(); k != "" {
			exported[k] = true
		}
	}
	for k, t := range added {
		if exported[k] {
			r.state.FirstSeen[k], r.dirty = t, true
		}
	}
	if r.state.touchSeen(slices.Collect(maps.Keys(live)), now) {
		r.dirty = true
	}
	for _, s := range r.sources {
		if s.status.Enabled && s.status.LastAttempt.IsZero() {
			return
		}
	}
	aged, evicted := r.state.pruneSeen(now, limit, live, exported)
	if aged > 0 {
		r.dirty = true
		r.logger.Info("Forgot the first-seen times of apps not seen (no tokens, no API usage, not installed) for the retention", "apps", aged, "retention", FirstSeenRetention)
	}
	if evicted > 0 {
		r.dirty = true
		r.logger.Warn("More first-seen times than max_apps_per_org: forgot the least recently seen", "apps", evicted, "max_apps_per_org", limit)
	}
}

// RefreshAll runs every enabled source once, now, and publishes. It is what
// one-shot commands (review) and tests use; it must not run alongside Run.
func (r *Refresher) RefreshAll(ctx context.Context) error {
	if r.state == nil {
		r.loadState()
	}
	var errs []error
	for _, s := range r.sources {
		if !s.status.Enabled {
			continue
		}
		r.runSource(ctx, s)
		if !s.status.Up {
			errs = append(errs, fmt.Errorf("%s: %s", s.spec.Name, s.status.LastError))
		}
	}
	r.publish()
	return errors.Join(errs...)
}

// RequestsMade is the number of Salesforce API requests this refresher has made.
func (r *Refresher) RequestsMade() int64 { return r.budget.total() }

// foreignECATokens hands Build the tokens of OauthToken groups named like
// an External Client App that are another app's (snapshot.ForeignECATokens).
// They are worked out only when the ECA source's latest successful read
// counted its apps' users (ECAUsersRead) and began after the token
// source's latest read ended, so every user in the groups was there for
// the ECA's read to count if it was the ECA's; between such reads the last
// answer stands.
func (r *Refresher) foreignECATokens(p *snapshot.Parts) {
	var tokens, ecas snapshot.SourceStatus
	for _, s := range r.sources {
		switch s.spec.Name {
		case config.SourceOAuthTokens:
			tokens = s.status
		case config.SourceECAs:
			ecas = s.status
		}
	}
	if !ecas.Enabled || !tokens.Enabled {
		r.ecaForeign = nil
	} else if p.ECAUsersRead && ecas.Up && tokens.Up && !tokens.LastSuccess.IsZero() && !ecas.LastAttempt.Before(tokens.LastSuccess) {
		r.ecaForeign = snapshot.ForeignECATokens(p)
	}
	p.ECAForeign = r.ecaForeign
}
