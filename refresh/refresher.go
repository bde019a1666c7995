package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Settings are the parts of the config shared by every org that may change on
// reload without restarting a refresher.
type Settings struct {
	StaleAfter time.Duration
	Inventory  func(org, appName, appID string) *config.InventoryEntry
}

// Refresher keeps one org's snapshot fresh. It is the only writer of its
// state; readers call Snapshot.
type Refresher struct {
	org      config.Org
	client   *salesforce.Client
	logger   *slog.Logger
	storage  string
	settings atomic.Pointer[Settings]
	now      func() time.Time

	snap atomic.Pointer[Snapshot]
	kick chan struct{}

	// Everything below is touched only by the run goroutine.
	state             *orgState
	dirty             bool
	sources           map[string]*sourceRun
	budget            *budget
	store             *tokenStore
	aggs              []salesforce.TokenAggregate
	aggInactive       int64
	tokenMode         string
	rowApps           map[appKey]*AppUsage
	rowInactive       int
	capps             []salesforce.ConnectedApplication
	menus             []salesforce.AppMenuItem
	limits            salesforce.Limits
	usage             *usageTotals
	sessions          map[string]int64
	logins            map[string][2]int64
	ecas              []ecaUsage
	ecaInactiveUsers  map[string]bool
	loginEvents       []loginEvent
	loginWM           time.Time
	visibilityLimited bool
	visibilityChecked time.Time
	readOnly          bool
	onPublish         func()
	warned            map[string]bool
}

type sourceRun struct {
	name   string
	fn     func(ctx context.Context) error
	status SourceStatus
	next   time.Time
	cost   float64 // requests per steady-state run, smoothed
	runs   int
}

// NewRefresher builds a refresher for one org. It makes no network call.
// observe, when not nil, sees every request the org's client makes (the
// exporter's request metrics, or a command's call counter).
func NewRefresher(org config.Org, settings Settings, storage string, logger *slog.Logger, observe func(salesforce.RequestInfo), opts ...salesforce.Option) (*Refresher, error) {
	r := &Refresher{
		org: org, logger: logger.With("org", org.Name), storage: storage, now: time.Now,
		kick: make(chan struct{}, 1), warned: map[string]bool{}, budget: newBudget(),
	}
	r.settings.Store(&settings)
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
	r.sources = map[string]*sourceRun{}
	add := func(name string, fn func(context.Context) error) {
		r.sources[name] = &sourceRun{name: name, fn: fn, status: SourceStatus{Enabled: org.SourceEnabled(name), Interval: org.SourceInterval(name)}}
	}
	add(config.SourceOAuthTokens, r.refreshTokens)
	add(config.SourceApps, r.refreshApps)
	add(config.SourceLimits, r.refreshLimits)
	add(config.SourceSessions, r.refreshSessions)
	add(config.SourceLogins, r.refreshLogins)
	add(config.SourceAPIUsage, r.refreshAPIUsage)
	add(config.SourceECAs, r.refreshECAs)
	return r, nil
}

// SetReadOnlyState makes the refresher read its state file but never write
// it, for one-shot commands that run beside a serving exporter.
func (r *Refresher) SetReadOnlyState() { r.readOnly = true }

// Client returns the org's API client (for the review and revoke commands).
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
func (r *Refresher) Snapshot() *Snapshot { return r.snap.Load() }

// Run refreshes sources as they fall due until ctx is done. The first
// refresh starts at once.
func (r *Refresher) Run(ctx context.Context) {
	r.state = loadState(r.storage, r.org.Name, r.logger)
	r.publish()
	order := []string{config.SourceLimits, config.SourceApps, config.SourceOAuthTokens, config.SourceECAs, config.SourceSessions, config.SourceLogins, config.SourceAPIUsage}
	for {
		now := r.now()
		ran := false
		for _, name := range order {
			s := r.sources[name]
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

func (r *Refresher) runSource(ctx context.Context, s *sourceRun) {
	start := r.now()
	before := r.budget.total()
	timeout := time.Duration(r.org.Timeout)
	if s.name == config.SourceOAuthTokens && r.fullSyncDue(start) {
		// A full read of a big org takes as long as it takes (about a minute
		// per million tokens at 200 ms a request); cutting it short at the
		// refresh timeout would only start it again.
		timeout = max(timeout, fullSyncTimeout)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	err := s.fn(cctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	// The first run of a source is a full read (a full OauthToken sync, a log
	// backfill): it says nothing of the steady cost, so it only counts in the
	// last-24-hours total.
	cost := float64(r.budget.total() - before)
	s.runs++
	switch s.runs {
	case 1:
	case 2:
		s.cost = cost
	default:
		s.cost = 0.7*s.cost + 0.3*cost
	}
	s.status.LastAttempt, s.status.Duration = start, r.now().Sub(start)
	interval := r.effectiveInterval(s)
	s.status.Interval = interval
	if err != nil {
		s.status.Up, s.status.LastError = false, err.Error()
		r.logFailure(s.name, err)
		retry := min(interval, time.Minute)
		if errors.Is(err, salesforce.ErrRequestLimitExceeded) {
			// Back off until the rolling allocation frees up: five intervals,
			// at most 15 minutes, and never less than one interval.
			retry = max(interval, min(15*time.Minute, 5*interval))
		}
		if errors.Is(err, errPermission) {
			retry = max(interval, time.Hour)
		}
		s.next = r.now().Add(retry)
		return
	}
	if !s.status.Up && !s.status.LastSuccess.IsZero() {
		r.logger.Info("Source recovered", "data_source", s.name)
	}
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

// errPermission marks a source that failed for want of a permission.
var errPermission = errors.New("missing permission")

// permissionError wraps a 403, or an INVALID_TYPE for an object the user
// can't see, with the permission the source needs.
func permissionError(err error, perm string) error {
	var apiErr *salesforce.APIError
	if errors.As(err, &apiErr) && (errors.Is(apiErr, salesforce.ErrForbidden) || apiErr.Code() == "INVALID_TYPE" || apiErr.Code() == "INSUFFICIENT_ACCESS") {
		return fmt.Errorf("%w %s: %w", errPermission, perm, err)
	}
	return err
}

// effectiveInterval stretches a source's interval when the org's API budget is tight.
func (r *Refresher) effectiveInterval(s *sourceRun) time.Duration {
	base := r.org.SourceInterval(s.name)
	allowed := r.allowedDaily()
	if allowed <= 0 {
		return base
	}
	var projected float64
	for _, x := range r.sources {
		if x.status.Enabled {
			projected += x.cost * float64(24*time.Hour) / float64(r.org.SourceInterval(x.name))
		}
	}
	stretch := max(1, projected/allowed, float64(r.budget.last24h(r.now()))/allowed)
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
	return time.Duration(float64(base) * stretch)
}

// allowedDaily is the share of DailyApiRequests the exporter may use (0 when unknown).
func (r *Refresher) allowedDaily() float64 {
	maxReq := int64(0)
	if l, ok := r.limits["DailyApiRequests"]; ok {
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

func (r *Refresher) refreshLimits(ctx context.Context) error {
	l, err := r.client.Limits(ctx)
	if err != nil {
		return permissionError(err, "View Setup and Configuration")
	}
	r.limits = l
	return nil
}

func (r *Refresher) refreshApps(ctx context.Context) error {
	capps, err := r.client.ConnectedApplications(ctx)
	if err != nil {
		return permissionError(err, "View Setup and Configuration")
	}
	menus, err := r.client.AppMenuItems(ctx)
	if err != nil {
		return permissionError(err, "View Setup and Configuration")
	}
	r.capps, r.menus = capps, menus
	return nil
}

// fullSyncTimeout bounds a full OauthToken read.
const fullSyncTimeout = 30 * time.Minute

// fullSyncDue reports whether the next token refresh reads every row.
func (r *Refresher) fullSyncDue(now time.Time) bool {
	if r.tokenMode == "aggregate" {
		return false
	}
	return r.store == nil || !r.store.valid || now.Sub(r.store.lastFull) > time.Duration(r.org.FullSyncInterval)
}

// aggregateRetry is how long the exporter remembers that an org rejects
// GROUP BY on OauthToken before trying again.
const aggregateRetry = 7 * 24 * time.Hour

func (r *Refresher) refreshTokens(ctx context.Context) error {
	set := r.settings.Load()
	now := r.client.ServerNow()
	if rej := r.state.AggregatesRejectedAt; rej.IsZero() || now.Sub(rej) > aggregateRetry {
		aggs, inactive, err := r.client.TokenAggregates(ctx, now.Add(-set.StaleAfter))
		if err == nil {
			r.aggs, r.aggInactive, r.tokenMode, r.store = aggs, inactive, "aggregate", nil
			return r.checkVisibility(ctx, now)
		}
		if !errors.Is(err, salesforce.ErrQueryRejected) {
			return permissionError(err, "API Enabled")
		}
		r.logger.Info("Org rejects aggregate queries on OauthToken; reading token rows incrementally instead", "err", err)
		r.state.AggregatesRejectedAt, r.dirty = now, true
	}
	r.tokenMode, r.aggs = "rows", nil
	if r.store == nil {
		r.store = newTokenStore()
	}
	if !r.store.valid || now.Sub(r.store.lastFull) > time.Duration(r.org.FullSyncInterval) {
		if err := r.store.fullSync(ctx, r.client, r.org.MaxConcurrency); err != nil {
			r.store.valid = false
			return err
		}
	} else if _, err := r.store.incremental(ctx, r.client, r.org.MaxConcurrency); err != nil {
		return err
	}
	r.rowApps, r.rowInactive = r.store.summarize(now, set.StaleAfter)
	return r.checkVisibility(ctx, now)
}

// checkVisibility detects an integration user who sees only its own tokens
// (no Customize Application): the org would otherwise look clean.
func (r *Refresher) checkVisibility(ctx context.Context, now time.Time) error {
	me := r.client.Identity().UserID
	if me == "" {
		return nil
	}
	if r.store == nil && !r.visibilityChecked.IsZero() && now.Sub(r.visibilityChecked) < time.Hour {
		return nil // in aggregate mode the check costs a request: hourly is enough
	}
	r.visibilityChecked = now
	if r.store != nil {
		own := ID(me).Key()
		others := false
		for i := range r.store.entries {
			if !strings.HasPrefix(r.store.userIDs[r.store.entries[i].user], own) {
				others = true
				break
			}
		}
		// No token of anyone else in sight: either a user without Customize
		// Application, or an org nobody has authorized anything in.
		r.visibilityLimited = !others
		return nil
	}
	n, err := r.client.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE UserId != "+salesforce.Quote(me))
	if err != nil {
		return err
	}
	r.visibilityLimited = n == 0
	return nil
}

// publish builds a snapshot from what the sources last read, and saves the
// state when it changed.
func (r *Refresher) publish() {
	set := r.settings.Load()
	now := r.now()
	snap := &Snapshot{Org: r.org.Name, Taken: now, Sources: map[string]SourceStatus{}, TokenMode: r.tokenMode}
	for name, s := range r.sources {
		st := s.status
		if st.Interval == 0 {
			st.Interval = r.org.SourceInterval(name)
		}
		snap.Sources[name] = st
	}
	snap.BudgetDaily = r.allowedDaily()
	snap.Requests24h = r.budget.last24h(now)
	if l, ok := r.limits["DailyApiRequests"]; ok {
		snap.HasLimits, snap.DailyAPIMax, snap.DailyAPIRemaining = true, l.Max, l.Remaining
	}
	if u, ok := r.client.LastAPIUsage(); ok && u.Max > 0 {
		// The header is newer than /limits, which is "accurate within five minutes".
		snap.HasLimits, snap.DailyAPIMax, snap.DailyAPIRemaining = true, u.Max, max(u.Max-u.Used, 0)
	}
	if r.visibilityLimited {
		snap.PermissionWarnings = append(snap.PermissionWarnings, "customize_application")
	}

	apps := map[string]*AppUsage{} // by kind|name|menuItem or id
	var order []string
	get := func(key string, init AppUsage) *AppUsage {
		if a, ok := apps[key]; ok {
			return a
		}
		a := init
		apps[key] = &a
		order = append(order, key)
		return &a
	}
	menuByID := map[string]salesforce.AppMenuItem{}
	for _, m := range r.menus {
		menuByID[m.ID] = m
	}
	cappByID15 := map[string]salesforce.ConnectedApplication{}
	for _, c := range r.capps {
		cappByID15[ID(c.ID).Key()] = c
	}
	appsKnown := !r.sources[config.SourceApps].status.LastSuccess.IsZero()
	connected := func(name, menuItem string) AppUsage {
		a := AppUsage{Name: name, MenuItemID: menuItem, Kind: KindConnectedApp, Installed: menuItem != ""}
		if m, ok := menuByID[menuItem]; ok {
			if c, ok := cappByID15[ID(m.ApplicationID).Key()]; ok {
				a.ID = c.ID
				a.AdminApproved = c.OptionsAllowAdminApprovedUsersOnly
			} else {
				a.ID = m.ApplicationID
				if appsKnown {
					a.Installed = false // a menu item without a ConnectedApplication row
				}
			}
			if a.AdminApproved == nil {
				a.AdminApproved = m.IsUsingAdminAuthorization
			}
		}
		return a
	}
	tokensOK := !r.sources[config.SourceOAuthTokens].status.LastSuccess.IsZero()
	if tokensOK {
		snap.HasTokenTotals = true
		switch r.tokenMode {
		case "aggregate":
			snap.InactiveUsers = r.aggInactive
			for _, g := range r.aggs {
				a := get("c|"+g.AppName+"|"+g.AppMenuItemID, connected(g.AppName, g.AppMenuItemID))
				a.HasTokens = true
				a.Tokens, a.Users, a.Uses, a.Stale, a.InactiveTokens = g.Tokens, g.Users, g.Uses, g.Stale, g.InactiveTokens
				a.LastUsed, a.FirstAuthorized = g.LastUsed, g.FirstCreated
			}
		case "rows":
			snap.InactiveUsers = int64(r.rowInactive)
			keys := make([]appKey, 0, len(r.rowApps))
			for k := range r.rowApps {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i].name+keys[i].menuItem < keys[j].name+keys[j].menuItem })
			for _, k := range keys {
				u := r.rowApps[k]
				a := get("c|"+k.name+"|"+k.menuItem, connected(k.name, k.menuItem))
				a.HasTokens = true
				a.Tokens, a.Users, a.Uses, a.Stale, a.InactiveTokens = u.Tokens, u.Users, u.Uses, u.Stale, u.InactiveTokens
				a.LastUsed, a.FirstAuthorized = u.LastUsed, u.FirstAuthorized
			}
		}
	}
	// Installed connected apps that nobody has authorized still get an info series.
	for _, m := range r.menus {
		key := "c|" + m.Label + "|" + m.ID
		if _, ok := apps[key]; ok {
			continue
		}
		if _, ok := cappByID15[ID(m.ApplicationID).Key()]; !ok {
			continue
		}
		a := get(key, connected(m.Label, m.ID))
		a.HasTokens = tokensOK
	}
	for _, e := range r.ecas {
		a := get("e|"+e.ID, AppUsage{Name: e.Name, ID: e.ID, Kind: KindExternalClientApp, Installed: true})
		a.HasTokens = true
		a.Tokens, a.Users, a.Uses, a.Stale, a.InactiveTokens = e.Tokens, e.Users, e.Uses, e.Stale, e.InactiveTokens
		a.LastUsed, a.FirstAuthorized = e.LastUsed, e.FirstAuthorized
	}
	// Match usage, sessions and logins to apps: by Id when the data has one, else by name.
	byName := map[string][]*AppUsage{}
	byID := map[string]*AppUsage{}
	for _, k := range order {
		a := apps[k]
		byName[strings.ToLower(a.Name)] = append(byName[strings.ToLower(a.Name)], a)
		if a.ID != "" {
			byID[ID(a.ID).Key()] = a
		}
	}
	match := func(name, id string) *AppUsage {
		if id != "" {
			if a, ok := byID[ID(id).Key()]; ok {
				return a
			}
		}
		cands := byName[strings.ToLower(name)]
		if id != "" {
			// Prefer the same-named app whose Id is unknown (an uninstalled one).
			for _, a := range cands {
				if a.ID == "" {
					a.ID = id
					byID[ID(id).Key()] = a
					return a
				}
			}
			if len(cands) > 0 {
				return nil
			}
		} else if len(cands) > 0 {
			return cands[0]
		}
		kind := KindConnectedApp
		if strings.HasPrefix(id, "0xI") {
			kind = KindExternalClientApp
		}
		a := get("u|"+name+"|"+id, AppUsage{Name: name, ID: id, Kind: kind, Installed: id != "" && byIDInstalled(cappByID15, id)})
		byName[strings.ToLower(name)] = append(byName[strings.ToLower(name)], a)
		if id != "" {
			byID[ID(id).Key()] = a
		}
		return a
	}
	if r.usage != nil {
		snap.APIUsageEnd, snap.APIUsageStart = r.usage.end, r.usage.start
		keys := make([]string, 0, len(r.usage.names))
		for k := range r.usage.names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a := match(r.usage.names[k], r.usage.ids[k])
			if a == nil {
				a = get("u|"+r.usage.names[k]+"|"+r.usage.ids[k], AppUsage{Name: r.usage.names[k], ID: r.usage.ids[k], Kind: KindConnectedApp})
			}
			a.HasAPIUsage = true
			a.Requests24h += r.usage.req24[k]
			a.Requests7d += r.usage.req7[k]
			a.Errors24h += r.usage.err24[k]
			a.Errors7d += r.usage.err7[k]
		}
		for _, a := range apps {
			a.HasAPIUsage = true
		}
	}
	if r.sessions != nil {
		for name, n := range r.sessions {
			if a := match(name, ""); a != nil {
				a.Sessions += n
			}
		}
		for _, a := range apps {
			a.HasSessions = true
		}
	}
	if r.logins != nil {
		for name, n := range r.logins {
			if a := match(name, ""); a != nil {
				a.LoginSuccess += n[0]
				a.LoginFailure += n[1]
			}
		}
		for _, a := range apps {
			a.HasLogins = true
		}
	}
	for _, k := range order {
		a := apps[k]
		if e := set.Inventory(r.org.Name, a.Name, a.ID); e != nil {
			a.Known, a.Owner = true, e.Owner
		}
		sk := a.Kind + "|" + a.Name + "|" + a.MenuItemID + "|" + a.ID
		if a.HasTokens && a.Tokens > 0 || a.HasAPIUsage && a.Requests7d > 0 {
			fs, ok := r.state.FirstSeen[sk]
			if !ok {
				fs = now.UTC().Truncate(time.Second)
				r.state.FirstSeen[sk], r.dirty = fs, true
			}
			a.FirstSeen = fs
		}
		snap.Apps = append(snap.Apps, *a)
	}
	slices.SortFunc(snap.Apps, func(x, y AppUsage) int {
		return strings.Compare(x.Kind+"\x00"+x.Name+"\x00"+x.ID+"\x00"+x.MenuItemID, y.Kind+"\x00"+y.Name+"\x00"+y.ID+"\x00"+y.MenuItemID)
	})
	r.snap.Store(snap)
	if r.onPublish != nil {
		r.onPublish()
	}
	if r.dirty && r.storage != "" && !r.readOnly {
		if err := saveState(r.storage, r.state); err != nil {
			r.logger.Error("Could not save state; will retry", "err", err)
		} else {
			r.dirty = false
		}
	}
}

func byIDInstalled(capps map[string]salesforce.ConnectedApplication, id string) bool {
	_, ok := capps[ID(id).Key()]
	return ok
}

// RefreshAll runs every enabled source once, now, and publishes. It is what
// one-shot commands (review) and tests use; it must not run alongside Run.
func (r *Refresher) RefreshAll(ctx context.Context) error {
	if r.state == nil {
		r.state = loadState(r.storage, r.org.Name, r.logger)
	}
	var errs []error
	for _, name := range []string{config.SourceLimits, config.SourceApps, config.SourceOAuthTokens, config.SourceECAs, config.SourceSessions, config.SourceLogins, config.SourceAPIUsage} {
		s := r.sources[name]
		if !s.status.Enabled {
			continue
		}
		r.runSource(ctx, s)
		if !s.status.Up {
			errs = append(errs, fmt.Errorf("%s: %s", name, s.status.LastError))
		}
	}
	r.publish()
	return errors.Join(errs...)
}

// RequestsMade is the number of Salesforce API requests this refresher has made.
func (r *Refresher) RequestsMade() int64 { return r.budget.total() }
