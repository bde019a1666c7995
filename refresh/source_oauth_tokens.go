package refresh

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Token modes: how the OauthToken source reads the org.
const (
	TokenModeAggregate = "aggregate" // GROUP BY: a few requests per refresh
	TokenModeRows      = "rows"      // incremental row sync (tokenstore.go), when the org rejects GROUP BY
)

// tokensSource reads OauthToken: by aggregate queries when the org accepts
// them, else through the incremental token store. It also detects an
// integration user who can see only its own tokens.
type tokensSource struct {
	known    bool // a read has succeeded
	mode     string
	apps     []snapshot.AppTokens
	inactive int64 // distinct deactivated users holding tokens
	store    *tokenStore

	visibilityLimited bool
	visibilityChecked time.Time
	// usersHidden: fewer User records are readable than users hold tokens
	// (a Private sharing default for users, without View All Users), so the
	// deactivated-user figures are low. usersLogged: that was logged.
	usersHidden, usersLogged bool
	vis                      visibilityCheck

	// aggregatesRetryAt is when to try GROUP BY again after failures that
	// may pass made the source read rows (kept in memory only: a restart
	// retries); aggregateFails counts the runs in a row that such a failure
	// failed, before that.
	aggregatesRetryAt time.Time
	aggregateFails    int
	// The token file (tokenfile.go): the org Id of a restored file, until
	// checked against the client's; and what was last written.
	fileOrgID  string
	savedGen   uint64
	savedAt    time.Time
	saveFailed bool
}

// tokensSpec declares the oauth_tokens source.
var tokensSpec = Spec{
	Name:          config.SourceOAuthTokens,
	Permission:    "Customize Application",
	HasPermission: func(p salesforce.UserPermissions) bool { return p.CustomizeApplication },
	SeesAll:       salesforce.UserPermissions.SeesAllTokens,
	Missing:       tokensPermission,
	Probe:         probeTokens,
	Resources:     []string{"query:OauthToken", "query:User"},
	newSource:     func() source { return &tokensSource{} },
}

// probeTokens counts OauthToken's rows, tells the mode the org allows, and,
// when the permissions do not already show the view limited, whether fewer
// User records are readable than users hold tokens.
func probeTokens(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error) {
	n, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken")
	if err != nil {
		return ProbeResult{}, err
	}
	r := ProbeResult{Rows: ptr(n), OauthTokenMode: TokenModeRows}
	if _, _, err := c.TokenAggregates(ctx, c.ServerNow().Add(-90*24*time.Hour)); err == nil {
		r.OauthTokenMode = TokenModeAggregate
		r.Cost = Cost{PerRefresh: 5}
	} else if !errors.Is(err, salesforce.ErrAggregateUnsupported) {
		return r, err
	} else {
		// Steady state: about four requests a refresh; a full sync
		// (pages of 500, cursors of 2,500) once per full_sync_interval.
		full := float64(n)/salesforce.OauthTokenPageSize + float64(n)/salesforce.OauthTokenCursorCap + 2
		r.Cost = Cost{PerRefresh: 4, PerDay: full * float64(24*time.Hour) / float64(time.Duration(in.Org.FullSyncInterval))}
	}
	r.TokensComplete = in.Perms != nil && in.Perms.SeesAllTokens()
	if in.Perms != nil && !in.Perms.SeesAllTokens() {
		return r, nil // limited already: the User records tell nothing more
	}
	if hidden, err := usersHidden(ctx, c, r.OauthTokenMode); err != nil {
		r.Notes = append(r.Notes, "could not compare the readable User records with the token holders: "+in.clean(err))
	} else if hidden {
		r.UsersHidden = true
	} else if in.Perms != nil && !in.Perms.SeesAllUsers() && r.OauthTokenMode != TokenModeAggregate {
		r.Notes = append(r.Notes, "the integration user lacks View All Users: where the org-wide default for users is Private, it sees only part of the User records and the deactivated-user figures are low (serve compares the User records with the token holders hourly); grant View All Users to be sure")
	}
	return r, nil
}

// usersHidden reports whether fewer User records are readable than users
// hold tokens: a Private sharing default for users without View All Users,
// under which OauthToken.User is null for the rest. In row mode, where
// COUNT_DISTINCT is refused, it tells only the case where no other user's
// record is readable while others hold tokens.
func usersHidden(ctx context.Context, c *salesforce.Client, mode string) (bool, error) {
	users, err := c.Count(ctx, "SELECT COUNT() FROM User")
	if err != nil {
		return false, err
	}
	if mode == TokenModeAggregate {
		var holders int64
		var decodeErr error
		_, err := salesforce.Stream(ctx, c, "SELECT COUNT_DISTINCT(UserId) users FROM OauthToken", func(r salesforce.AggregateRecord) bool {
			holders, decodeErr = r.Int("users")
			return true
		})
		if err == nil {
			err = decodeErr
		}
		return int64(users) < holders, err
	}
	if users > 1 {
		return false, nil
	}
	me := c.Identity().UserID
	if me == "" {
		return false, nil
	}
	others, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE UserId != "+salesforce.Quote(me))
	return others > 0, err
}

// fullSyncTimeout bounds a full OauthToken read.
const fullSyncTimeout = 30 * time.Minute

// timeout implements timeoutSetter: a full read of a big org takes as long
// as it takes (about a minute per million tokens at 200 ms a request);
// cutting it short at the refresh timeout would only start it again.
func (s *tokensSource) timeout(now time.Time, org config.Org) time.Duration {
	base := time.Duration(org.Timeout)
	if s.fullSyncDue(now, time.Duration(org.FullSyncInterval)) {
		return max(base, fullSyncTimeout)
	}
	return base
}

// fullSyncDue reports whether the next token refresh reads every row;
// every is the org's full_sync_interval.
func (s *tokensSource) fullSyncDue(now time.Time, every time.Duration) bool {
	if s.mode == TokenModeAggregate {
		return false
	}
	return s.store == nil || !s.store.valid || now.Sub(s.store.lastFull) > every
}

// aggregateRetry is how long the exporter remembers that an org rejects
// GROUP BY on OauthToken before trying again.
const aggregateRetry = 7 * 24 * time.Hour

// aggregateRetryTemporary is how soon GROUP BY is tried again, once failures
// that may pass (QUERY_TIMEOUT, a 5xx that outlived the client's retries)
// have made the source read rows instead.
const aggregateRetryTemporary = time.Hour

// aggregateTriesBeforeRows is how many runs in a row an aggregate read may
// fail with a failure that may pass before the source reads rows instead.
// Until then each such run fails, keeps the last figures and leaves the
// next try to the refresher's backoff (a minute, then two): one slow query
// must not start a full row sync, a day's worth of requests at a million
// tokens.
const aggregateTriesBeforeRows = 3

// aggregateFailure says why the org's aggregate answer was not used, and
// whether the cause may pass. Only an answer about the org (a rejection of
// the query's shape, totals that disagree, a result that does not decode)
// is not temporary.
func aggregateFailure(err error) (reason string, temporary bool) {
	var total *salesforce.AggregateTotalError
	var aggErr *salesforce.AggregateError
	var apiErr *salesforce.APIError
	temporary = errors.As(err, &aggErr) && aggErr.Temporary()
	switch {
	case errors.As(err, &total):
		return "the aggregate totals disagree with COUNT()", false
	case errors.As(err, &apiErr) && temporary && apiErr.Code() == "QUERY_TIMEOUT":
		return "the query timed out (QUERY_TIMEOUT)", true
	case errors.As(err, &apiErr) && temporary && apiErr.StatusCode >= 500:
		return "a server error outlived the retries", true
	case errors.As(err, &apiErr) && temporary:
		return fmt.Sprintf("the org answered %d %s, which may pass", apiErr.StatusCode, apiErr.Code()), true
	case errors.As(err, &apiErr):
		return "the query was rejected", false
	case temporary:
		return "the connection failed", true
	}
	return "the result could not be read", false
}

func (s *tokensSource) refresh(ctx context.Context, e *env) error {
	now := e.client.ServerNow()
	if rej := e.state.AggregatesRejectedAt; (rej.IsZero() || now.Sub(rej) > aggregateRetry) && !now.Before(s.aggregatesRetryAt) {
		aggs, inactive, err := e.client.TokenAggregates(ctx, salesforce.StaleCutoff(now, e.settings.StaleAfter))
		if err == nil {
			s.mode, s.store, s.inactive, s.aggregateFails = TokenModeAggregate, nil, inactive, 0
			s.apps = make([]snapshot.AppTokens, 0, len(aggs))
			for _, g := range aggs {
				s.apps = append(s.apps, snapshot.AppTokens{Name: g.AppName, MenuItemID: g.AppMenuItemID, TokenStats: g.TokenStats})
			}
			return s.done(s.checkVisibility(ctx, e, now))
		}
		if !errors.Is(err, salesforce.ErrQueryRejected) {
			return permissionError(err, "API Enabled")
		}
		reason, temporary := aggregateFailure(err)
		switch {
		case !temporary:
			s.aggregateFails = 0
			// Most orgs reject them: a line at INFO, the full error at DEBUG.
			e.logger.Info("Org rejects aggregate queries on OauthToken; reading token rows incrementally instead", "reason", reason, "retry_after", aggregateRetry)
			e.logger.Debug("Aggregate query on OauthToken rejected", "err", err)
			e.state.AggregatesRejectedAt = now
			e.stateChanged()
		case (s.store == nil || !s.store.valid) && s.aggregateFails+1 < aggregateTriesBeforeRows:
			// No rows at hand: reading them would be a full sync. Fail
			// this run (the last figures stay) and try GROUP BY again.
			s.aggregateFails++
			e.logger.Warn("Aggregate queries on OauthToken failed; keeping the last figures and trying them again at the next run", "reason", reason, "failures", s.aggregateFails, "rows_after", aggregateTriesBeforeRows, "err", err)
			return fmt.Errorf("OauthToken aggregates failed (%s); the last figures are kept and the next run tries again: %w", reason, err)
		default:
			s.aggregateFails = 0
			s.aggregatesRetryAt = now.Add(aggregateRetryTemporary)
			e.logger.Warn("Aggregate queries on OauthToken failed; reading token rows until they are tried again", "reason", reason, "retry_after", aggregateRetryTemporary, "err", err)
		}
	}
	if s.mode == TokenModeAggregate {
		s.apps = nil
	}
	s.mode = TokenModeRows
	if s.store == nil {
		s.store = s.restore(e, now)
	}
	s.store.latest = e.oneShot
	full := !s.store.valid || now.Sub(s.store.lastFull) > time.Duration(e.org.FullSyncInterval)
	if !full {
		s.checkFileOrg(e)
		if !s.store.valid {
			full = true
		} else if _, err := s.store.incremental(ctx, e.client, e.org.MaxConcurrency); err != nil {
			return err
		}
		// The file's org is known for sure once a request has been made.
		if s.checkFileOrg(e); !s.store.valid {
			full = true
		}
	}
	if full {
		if err := s.store.fullSync(ctx, e.client, e.org.MaxConcurrency); err != nil {
			s.store.valid = false
			return err
		}
	}
	s.persist(e, now, full)
	s.apps, s.inactive = s.store.summarize(now, e.settings.StaleAfter)
	return s.done(s.checkVisibility(ctx, e, now))
}

func (s *tokensSource) done(err error) error {
	if err == nil {
		s.known = true
	}
	return err
}

// tokensPermission is what OauthToken needs to show every user's tokens.
const tokensPermission = "Customize Application"

// usersPermission is what shows every User record under a Private sharing
// default for users.
const usersPermission = "View All Users"

// checkVisibility detects an integration user who sees only its own tokens
// (no Customize Application): the org would otherwise look clean; one who
// sees fewer User records than there are users holding tokens (no View All
// Users under a Private sharing default: OauthToken.User is null for the
// rest, and the deactivated-user figures are silently low); and, from its
// permissions, whether either answer can be trusted.
func (s *tokensSource) checkVisibility(ctx context.Context, e *env, now time.Time) error {
	s.vis.update(ctx, e, now, &tokensSpec)
	c := e.client
	me := c.Identity().UserID
	if me == "" {
		return nil
	}
	if !s.visibilityChecked.IsZero() && now.Sub(s.visibilityChecked) < visibilityEvery && now.After(s.visibilityChecked.Add(-time.Minute)) {
		if s.store != nil {
			s.visibilityLimited = !s.store.anyUserBut(salesforce.ID(me))
		}
		return nil // the counts cost requests: hourly is enough
	}
	s.visibilityChecked = now
	if s.store != nil {
		s.visibilityLimited = !s.store.anyUserBut(salesforce.ID(me))
	} else {
		n, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE UserId != "+salesforce.Quote(me))
		if err != nil {
			return err
		}
		s.visibilityLimited = n == 0
	}
	if err := s.checkUsers(ctx, e, now); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The token figures are fine; only whether the deactivated-user
		// ones are complete is unknown until the next hourly check.
		e.logger.Warn("Could not compare the readable User records with the users holding tokens; keeping the last answer", "data_source", config.SourceOAuthTokens, "err", err)
	}
	return nil
}

// checkUsers compares the readable User records with the users holding
// tokens. Every token holder is a User of the org, and users are never
// deleted: with every User record readable their count is at least the
// token holders'. Tokens were read first, so users added since only add.
func (s *tokensSource) checkUsers(ctx context.Context, e *env, now time.Time) error {
	c := e.client
	holders, err := s.tokenHolders(ctx, c)
	if err != nil {
		return err
	}
	if holders == 0 {
		s.usersHidden = false
		return nil
	}
	users, err := c.Count(ctx, "SELECT COUNT() FROM User")
	if err != nil {
		return fmt.Errorf("count the readable users: %w", err)
	}
	wasHidden := s.usersHidden
	s.usersHidden = int64(users) < holders
	if wasHidden && !s.usersHidden && s.store != nil {
		// The deactivated users hidden until now: the incremental sync reads
		// only users modified since, so read them all again.
		if err := c.InactiveUsers(ctx, func(u salesforce.User) { s.store.inactive[s.store.userIdx(u.ID)] = true }); err != nil {
			return fmt.Errorf("list inactive users: %w", err)
		}
		s.apps, s.inactive = s.store.summarize(now, e.settings.StaleAfter)
	}
	switch {
	case s.usersHidden && !s.usersLogged:
		s.usersLogged = true
		e.logger.Warn("The integration user sees fewer User records than users hold OAuth tokens; the deactivated-user figures are low. Grant View All Users",
			"data_source", config.SourceOAuthTokens, "missing_permission", usersPermission, "users_visible", users, "token_holders_at_least", holders)
	case !s.usersHidden && s.usersLogged:
		s.usersLogged = false
		e.logger.Info("The integration user now sees every token holder's User record", "data_source", config.SourceOAuthTokens)
	}
	return nil
}

// tokenHolders is how many distinct users hold tokens: from the store in
// row mode, by COUNT_DISTINCT in aggregate mode (which the org accepts there).
func (s *tokensSource) tokenHolders(ctx context.Context, c *salesforce.Client) (int64, error) {
	if s.store != nil {
		seen := make(map[uint32]struct{}, len(s.store.userIDs))
		for i := range s.store.entries {
			seen[s.store.entries[i].user] = struct{}{}
		}
		return int64(len(seen)), nil
	}
	var holders int64
	var decodeErr error
	_, err := salesforce.Stream(ctx, c, "SELECT COUNT_DISTINCT(UserId) users FROM OauthToken", func(r salesforce.AggregateRecord) bool {
		holders, decodeErr = r.Int("users")
		return true // one row
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return 0, fmt.Errorf("count the users holding tokens: %w", err)
	}
	return holders, nil
}

func (s *tokensSource) contribute(p *snapshot.Parts) {
	p.TokenMode = s.mode
	p.TokensKnown = s.known
	p.Tokens = s.apps
	p.InactiveUsers = s.inactive
	p.VisibilityLimited = s.visibilityLimited
	if !s.known {
		return
	}
	vis, _ := s.vis.visibility(tokensPermission)
	switch {
	case s.visibilityLimited:
		vis = snapshot.Visibility{Limited: true, Missing: tokensPermission}
	case vis.Limited:
	case s.usersHidden:
		vis = snapshot.Visibility{Limited: true, Missing: usersPermission}
	}
	p.SetVisibility(config.SourceOAuthTokens, vis)
}

// sortAppTokens orders the row store's apps as the snapshot has always
// listed them: by name and menu item run together.
func sortAppTokens(apps []snapshot.AppTokens) {
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name+apps[i].MenuItemID < apps[j].Name+apps[j].MenuItemID })
}

// anyUserBut reports whether the store holds a token of a user other than me.
// No token of anyone else in sight means either a user without Customize
// Application, or an org nobody has authorized anything in.
func (s *tokenStore) anyUserBut(me salesforce.ID) bool {
	own := me.Key()
	for i := range s.entries {
		if !strings.HasPrefix(s.userIDs[s.entries[i].user], own) {
			return true
		}
	}
	return false
}

// tokenSaveEvery is how often the token file is rewritten when no row
// changed, so that a restart's first read since the watermarks stays small.
const tokenSaveEvery = time.Hour

// restore loads the org's token file, if any, so that the first refresh
// after a restart reads only what changed since its watermarks.
func (s *tokensSource) restore(e *env, now time.Time) *tokenStore {
	if e.storage == "" {
		return newTokenStore()
	}
	if !e.readOnly {
		// A kill during a write leaves its temporary file, never read:
		// remove them (a read-only command must not, the serving exporter
		// may be writing one).
		left, _ := filepath.Glob(tokenFile(e.storage, e.org.Name) + ".tmp-*")
		for _, p := range left {
			_ = os.Remove(p)
		}
	}
	start := time.Now()
	st, orgID := loadTokenStore(e.storage, e.org.Name, e.logger)
	if st == nil {
		return newTokenStore()
	}
	if st.createdWM.After(now.Add(time.Hour)) {
		// Watermarks from the org's future: the file was written against
		// another clock. Its rows can't be trusted to cover what is missing.
		e.logger.Warn("Token store file is ahead of the org's clock; reading every token instead", "file", tokenFile(e.storage, e.org.Name), "watermark", st.createdWM.Format(time.RFC3339), "org_now", now.Format(time.RFC3339))
		return newTokenStore()
	}
	s.fileOrgID, s.savedGen, s.savedAt = orgID, st.gen, now
	e.logger.Info("Restored the token store; reading only the changes since it was saved",
		"tokens", len(st.entries), "users", len(st.userIDs), "apps", len(st.appKeys), "saved_through", st.createdWM.Format(time.RFC3339),
		"last_full_sync", st.lastFull.Format(time.RFC3339), "load_seconds", time.Since(start).Seconds())
	return st
}

// checkFileOrg compares the org Id of a restored token file with the
// client's, once the client knows it. Another Id under the same name and
// URL (a refreshed sandbox) means other rows whose count may even match:
// the file is set aside and the store invalidated, for a full read.
func (s *tokensSource) checkFileOrg(e *env) {
	if s.fileOrgID == "" {
		return
	}
	id := e.client.Identity().OrgID
	if id == "" {
		return
	}
	if !salesforce.ID(id).Same(salesforce.ID(s.fileOrgID)) {
		setAside(tokenFile(e.storage, e.org.Name), "Token store file", "reading every token (it was written for another org Id: a refreshed sandbox?)", fmt.Errorf("token file is for org Id %s, the org is %s", salesforce.ID(s.fileOrgID).Key(), salesforce.ID(id).Key()), e.logger)
		s.store = newTokenStore()
	}
	s.fileOrgID = ""
}

// persist writes the token file after a full sync, after an incremental one
// that changed rows or users, and at least hourly; never when read-only.
func (s *tokensSource) persist(e *env, now time.Time, full bool) {
	if e.storage == "" || e.readOnly || !s.store.valid {
		return
	}
	if !full && !s.saveFailed && s.store.gen == s.savedGen && now.Sub(s.savedAt) < tokenSaveEvery {
		return
	}
	start := time.Now()
	n, err := saveTokenStore(e.storage, e.org.Name, e.client.Identity().OrgID, s.store)
	e.wrote(snapshot.StorageFileTokens, err)
	if err != nil {
		s.saveFailed = true
		e.logger.Error("Could not save the token store; will retry after the next refresh (until then a restart reads every token)", "err", err)
		return
	}
	s.saveFailed, s.savedGen, s.savedAt = false, s.store.gen, now
	e.logger.Debug("Saved the token store", "tokens", len(s.store.entries), "bytes", n, "duration_seconds", time.Since(start).Seconds())
}
