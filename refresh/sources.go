package refresh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// NoLoginHistory is the app label for active OAuth sessions whose
// LoginHistory row is missing, so the app that opened them is unknown.
const NoLoginHistory = "(unknown)"

// maxSessionLife bounds how long a session can stay valid (the longest
// session timeout an org can set is 24 hours).
const maxSessionLife = 24 * time.Hour

func (r *Refresher) refreshSessions(ctx context.Context) error {
	now := r.client.ServerNow()
	counts := map[string]int64{}
	err := r.client.OAuthSessions(ctx, now.Add(-maxSessionLife), func(s salesforce.AuthSession) {
		if !s.Active(now) {
			return
		}
		app := s.Application()
		if app == "" {
			app = NoLoginHistory
		}
		counts[app]++
	})
	if err != nil {
		return permissionError(err, "Manage Users")
	}
	r.sessions = counts
	return nil
}

// loginEvent is one OAuth login kept for the 24-hour window.
type loginEvent struct {
	at  int64 // Unix ms
	app string
	ok  bool
}

// isOAuthLogin reports whether a LoginHistory row is an OAuth login, by its
// LoginType label ("Remote Access 2.0", "Remote Access Client") or API value.
func isOAuthLogin(t string) bool {
	t = strings.ToLower(t)
	return strings.Contains(t, "remote access") || strings.Contains(t, "oauth")
}

func (r *Refresher) refreshLogins(ctx context.Context) error {
	now := r.client.ServerNow()
	windowStart := now.Add(-24 * time.Hour)
	since := windowStart
	if r.loginWM.After(since) {
		since = r.loginWM
	}
	var fresh []loginEvent
	var newest int64
	err := r.client.Logins(ctx, since, func(l salesforce.LoginHistory) {
		ms := l.LoginTime.UnixMilli()
		newest = max(newest, ms)
		if !isOAuthLogin(l.LoginType) || l.Application == "" {
			return
		}
		fresh = append(fresh, loginEvent{at: ms, app: l.Application, ok: l.Status == "Success"})
	})
	if err != nil {
		return permissionError(err, "Manage Users or Monitor Login History")
	}
	// Logins at the watermark's millisecond were read last time too: the
	// query is >= and LoginTime is the only order, so drop exact repeats.
	cut := r.loginWM.UnixMilli()
	kept := r.loginEvents[:0]
	for _, e := range r.loginEvents {
		if e.at >= windowStart.UnixMilli() && e.at < cut {
			kept = append(kept, e)
		}
	}
	for _, e := range fresh {
		if e.at >= windowStart.UnixMilli() {
			kept = append(kept, e)
		}
	}
	r.loginEvents = kept
	if newest > 0 {
		r.loginWM = time.UnixMilli(newest).UTC()
	}
	counts := map[string][2]int64{}
	for _, e := range r.loginEvents {
		c := counts[e.app]
		if e.ok {
			c[0]++
		} else {
			c[1]++
		}
		counts[e.app] = c
	}
	r.logins = counts
	return nil
}

func (r *Refresher) refreshAPIUsage(ctx context.Context) error {
	u := &r.state.Usage
	since := time.Time{}
	if !u.ListedUntil.IsZero() {
		since = u.ListedUntil.Add(-listOverlap)
	}
	files, err := r.client.EventLogFiles(ctx, "ApiTotalUsage", since)
	if err != nil {
		return permissionError(err, "View Event Log Files")
	}
	var firstErr error
	for _, f := range u.filesToIngest(files) {
		p, rows, err := r.ingestFile(ctx, f)
		if err != nil {
			// Stop at the first failure: later files wait for it, so the
			// history never has a hole that would look like a quiet day.
			firstErr = fmt.Errorf("ingest ApiTotalUsage file %s (%s %s): %w", f.ID, f.Interval, f.LogDate.Format("2006-01-02T15"), err)
			break
		}
		k := periodKey(f.Interval, f.LogDate.Time, f.Sequence)
		if old, ok := u.Periods[k]; ok {
			r.logger.Info("Log file re-issued; replacing its counts", "log_date", f.LogDate.Format(time.RFC3339), "interval", f.Interval, "old_file", old.FileID, "file", f.ID)
		}
		u.Periods[k] = p
		r.dirty = true
		r.logger.Debug("Ingested ApiTotalUsage file", "file", f.ID, "rows", rows, "log_date", f.LogDate.Format(time.RFC3339))
	}
	for _, f := range files {
		if f.CreatedDate.After(u.ListedUntil) && firstErr == nil {
			u.ListedUntil, r.dirty = f.CreatedDate.UTC(), true
		}
	}
	u.prune()
	t := u.windows()
	r.usage = &t
	return firstErr
}

func (r *Refresher) ingestFile(ctx context.Context, f salesforce.EventLogFile) (*usagePeriod, int, error) {
	body, err := r.client.OpenLogFile(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	defer body.Close()
	return countFile(f, body)
}

// ecaUsage is one External Client App's OAuth figures.
type ecaUsage struct {
	ID, Name                  string
	Tokens, Users, Uses       int64
	Stale, InactiveTokens     int64
	LastUsed, FirstAuthorized time.Time
}

func (r *Refresher) refreshECAs(ctx context.Context) error {
	apps, err := r.client.ECAs(ctx)
	if err != nil {
		var apiErr *salesforce.APIError
		if errors.As(err, &apiErr) && errors.Is(apiErr, salesforce.ErrNotFound) {
			// The resource is v59.0 and later; an older API version or an org
			// without External Client Apps has nothing to report.
			r.ecas = nil
			return nil
		}
		return permissionError(err, "View Setup and Configuration")
	}
	now := r.client.ServerNow()
	staleBefore := now.Add(-r.settings.Load().StaleAfter)
	var out []ecaUsage
	var userIDs []string
	type tokenRef struct {
		app  int
		user string
	}
	var refs []tokenRef
	for _, a := range apps {
		users, err := r.client.ECAUsers(ctx, a.Identifier)
		if err != nil {
			return err
		}
		e := ecaUsage{ID: a.Identifier, Name: a.DisplayName(), Users: int64(len(users))}
		for _, u := range users {
			toks, err := r.client.ECATokens(ctx, a.Identifier, u.UserIdentifier)
			if err != nil {
				return err
			}
			for _, t := range toks {
				e.Tokens++
				e.Uses += t.UseCount
				if t.LastUsedAt.After(e.LastUsed) {
					e.LastUsed = t.LastUsedAt.Time
				}
				if !t.InitialConnectionAt.IsZero() && (e.FirstAuthorized.IsZero() || t.InitialConnectionAt.Before(e.FirstAuthorized)) {
					e.FirstAuthorized = t.InitialConnectionAt.Time
				}
				ref := t.LastUsedAt.Time
				if ref.IsZero() {
					ref = t.InitialConnectionAt.Time
				}
				if !ref.IsZero() && ref.Before(staleBefore) {
					e.Stale++
				}
				refs = append(refs, tokenRef{len(out), u.UserIdentifier})
			}
			userIDs = append(userIDs, u.UserIdentifier)
		}
		out = append(out, e)
	}
	inactive, err := r.inactiveAmong(ctx, userIDs)
	if err != nil {
		return err
	}
	for _, t := range refs {
		if inactive[ID(t.user).Key()] {
			out[t.app].InactiveTokens++
		}
	}
	r.ecas = out
	r.ecaInactiveUsers = inactive
	return nil
}

// inactiveAmong returns which of the given users are deactivated (by 15-character Id).
func (r *Refresher) inactiveAmong(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, 200) {
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = salesforce.Quote(id)
		}
		_, err := salesforce.Stream(ctx, r.client, "SELECT Id, IsActive FROM User WHERE IsActive = false AND Id IN ("+strings.Join(quoted, ",")+")", func(u salesforce.User) bool {
			out[ID(u.ID).Key()] = true
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("read External Client App users: %w", err)
		}
	}
	return out, nil
}
