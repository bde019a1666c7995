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
)

// Token modes: how the OauthToken source reads the org.
const (
	TokenModeAggregate = "aggregate" // GROUP BY: a few requests per refresh
	TokenModeRows      = "rows"      // incremental row sync (tokenstore.go), when the org rejects GROUP BY
)

// appTokens are the token figures of one connected app as OauthToken names
// it: by AppName and AppMenuItemId.
type appTokens struct {
	Name, MenuItemID string
	salesforce.TokenStats
}

// tokensSource reads OauthToken: by aggregate queries when the org accepts
// them, else through the incremental token store. It also detects an
// integration user who can see only its own tokens.
type tokensSource struct {
	known    bool // a read has succeeded
	mode     string
	apps     []appTokens
	inactive int64 // distinct deactivated users holding tokens
	store    *tokenStore

	visibilityLimited bool
	visibilityChecked time.Time

	// aggregatesRetryAt is when to try GROUP BY again after it failed with
	// a server error that may pass (kept in memory only: a restart retries).
	aggregatesRetryAt time.Time
	// The token file (tokenfile.go): the org Id of a restored file, until
	// checked against the client's; and what was last written.
	fileOrgID  string
	savedGen   uint64
	savedAt    time.Time
	saveFailed bool
}

func (s *tokensSource) name() string { return config.SourceOAuthTokens }

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

// aggregateRetryTemporary is how soon GROUP BY is tried again when it failed
// with a 5xx that outlived the client's retries: a passing server error, not
// an answer about the org.
const aggregateRetryTemporary = time.Hour

// aggregateFailure says why the org's aggregate answer was not used, and
// whether the cause may pass.
func aggregateFailure(err error) (reason string, temporary bool) {
	var total *salesforce.AggregateTotalError
	var apiErr *salesforce.APIError
	switch {
	case errors.As(err, &total):
		return "the aggregate totals disagree with COUNT()", false
	case errors.As(err, &apiErr) && apiErr.Temporary():
		return "a server error outlived the retries", true
	case errors.As(err, &apiErr):
		return "the query was rejected", false
	}
	return "the result could not be read", false
}

func (s *tokensSource) refresh(ctx context.Context, e *env) error {
	now := e.client.ServerNow()
	if rej := e.state.AggregatesRejectedAt; (rej.IsZero() || now.Sub(rej) > aggregateRetry) && !now.Before(s.aggregatesRetryAt) {
		aggs, inactive, err := e.client.TokenAggregates(ctx, salesforce.StaleCutoff(now, e.settings.StaleAfter))
		if err == nil {
			s.mode, s.store, s.inactive = TokenModeAggregate, nil, inactive
			s.apps = make([]appTokens, 0, len(aggs))
			for _, g := range aggs {
				s.apps = append(s.apps, appTokens{Name: g.AppName, MenuItemID: g.AppMenuItemID, TokenStats: g.TokenStats})
			}
			return s.done(s.checkVisibility(ctx, e.client, now))
		}
		if !errors.Is(err, salesforce.ErrQueryRejected) {
			return permissionError(err, "API Enabled")
		}
		reason, temporary := aggregateFailure(err)
		if temporary {
			s.aggregatesRetryAt = now.Add(aggregateRetryTemporary)
			e.logger.Warn("Aggregate queries on OauthToken failed; reading token rows until they are tried again", "reason", reason, "retry_after", aggregateRetryTemporary, "err", err)
		} else {
			// Most orgs reject them: a line at INFO, the full error at DEBUG.
			e.logger.Info("Org rejects aggregate queries on OauthToken; reading token rows incrementally instead", "reason", reason, "retry_after", aggregateRetry)
			e.logger.Debug("Aggregate query on OauthToken rejected", "err", err)
			e.state.AggregatesRejectedAt = now
			e.stateChanged()
		}
	}
	if s.mode == TokenModeAggregate {
		s.apps = nil
	}
	s.mode = TokenModeRows
	if s.store == nil {
		s.store = s.restore(e, now)
	}
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
	return s.done(s.checkVisibility(ctx, e.client, now))
}

func (s *tokensSource) done(err error) error {
	if err == nil {
		s.known = true
	}
	return err
}

// checkVisibility detects an integration user who sees only its own tokens
// (no Customize Application): the org would otherwise look clean.
func (s *tokensSource) checkVisibility(ctx context.Context, c *salesforce.Client, now time.Time) error {
	me := c.Identity().UserID
	if me == "" {
		return nil
	}
	if s.store == nil && !s.visibilityChecked.IsZero() && now.Sub(s.visibilityChecked) < time.Hour {
		return nil // in aggregate mode the check costs a request: hourly is enough
	}
	s.visibilityChecked = now
	if s.store != nil {
		s.visibilityLimited = !s.store.anyUserBut(salesforce.ID(me))
		return nil
	}
	n, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE UserId != "+salesforce.Quote(me))
	if err != nil {
		return err
	}
	s.visibilityLimited = n == 0
	return nil
}

func (s *tokensSource) contribute(p *parts) {
	p.TokenMode = s.mode
	p.TokensKnown = s.known
	p.Tokens = s.apps
	p.InactiveUsers = s.inactive
	p.VisibilityLimited = s.visibilityLimited
	if s.known {
		if p.Visibility == nil {
			p.Visibility = map[string]Visibility{}
		}
		vis := Visibility{Limited: s.visibilityLimited}
		if vis.Limited {
			vis.Missing = "Customize Application"
		}
		p.Visibility[config.SourceOAuthTokens] = vis
	}
}

// sortAppTokens orders the row store's apps as the snapshot has always
// listed them: by name and menu item run together.
func sortAppTokens(apps []appTokens) {
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
	e.wrote(StorageFileTokens, err)
	if err != nil {
		s.saveFailed = true
		e.logger.Error("Could not save the token store; will retry after the next refresh (until then a restart reads every token)", "err", err)
		return
	}
	s.saveFailed, s.savedGen, s.savedAt = false, s.store.gen, now
	e.logger.Debug("Saved the token store", "tokens", len(s.store.entries), "bytes", n, "duration_seconds", time.Since(start).Seconds())
}
