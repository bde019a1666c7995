package refresh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// ecaUsage is one External Client App's OAuth figures.
type ecaUsage struct {
	ID, Name string
	salesforce.TokenStats
}

// ecaSource reads the External Client Apps and their per-user tokens from
// the apps OAuth usage API.
type ecaSource struct {
	apps []ecaUsage
	// last is each app's last good figures, by app Id: an app whose read
	// fails keeps them (and counts in degraded) while the others go on.
	last     map[string]ecaUsage
	degraded int
	known    bool // a read has succeeded
	// userCounts is each app's userCount at its last read, and lastFull
	// when every app was last read: in between, an app whose userCount is
	// unchanged keeps its figures without a request.
	userCounts map[string]int64
	lastFull   time.Time
}

// ecaFullEvery is how often every External Client App's users and tokens
// are read, changed or not: uses and revocations that leave the user count
// alone show up within it.
const ecaFullEvery = time.Hour

func (s *ecaSource) name() string { return config.SourceECAs }

func (s *ecaSource) refresh(ctx context.Context, e *env) error {
	apps, err := e.client.ECAs(ctx)
	if err != nil {
		var apiErr *salesforce.APIError
		if errors.As(err, &apiErr) && errors.Is(apiErr, salesforce.ErrNotFound) {
			// The resource is v59.0 and later; an older API version or an org
			// without External Client Apps has nothing to report.
			s.apps, s.last, s.degraded, s.known = nil, nil, 0, true
			return nil
		}
		return permissionError(err, "View Setup and Configuration")
	}
	now := e.client.ServerNow()
	cutoff := salesforce.StaleCutoff(now, e.settings.StaleAfter)
	var out []ecaUsage
	var userIDs []string
	type tokenRef struct {
		app  int
		user string
	}
	var refs []tokenRef
	degraded := 0
	full := s.lastFull.IsZero() || now.Sub(s.lastFull) >= ecaFullEvery || now.Before(s.lastFull.Add(-time.Minute)) // a clock set back
	counts := map[string]int64{}
	for _, a := range apps {
		if a.UserCount != nil {
			counts[a.Identifier] = *a.UserCount
		}
		if prev, ok := s.last[a.Identifier]; ok && !full && a.UserCount != nil {
			if n, seen := s.userCounts[a.Identifier]; seen && n == *a.UserCount {
				prev.Name = a.DisplayName()
				out = append(out, prev)
				continue
			}
		}
		users, err := e.client.ECAAppTokens(ctx, a.Identifier)
		if err != nil {
			if salesforce.IsSourceWide(err) {
				return err
			}
			// One app's odd answer (a 404, a 5xx on its path, a shape that
			// does not decode): keep its last figures and go on.
			degraded++
			delete(counts, a.Identifier) // read it again next time
			e.logger.Warn("Could not read an External Client App's tokens; serving its last figures", "app_id", a.Identifier, "err", err)
			if prev, ok := s.last[a.Identifier]; ok {
				prev.Name = a.DisplayName()
				out = append(out, prev)
			}
			continue
		}
		u := ecaUsage{ID: a.Identifier, Name: a.DisplayName()}
		u.Users = int64(len(users))
		for _, usr := range users {
			for _, t := range usr.Tokens {
				u.Tokens++
				u.Uses += t.UseCount
				if t.LastUsedAt.After(u.LastUsed) {
					u.LastUsed = t.LastUsedAt.Time
				}
				if !t.InitialConnectionAt.IsZero() && (u.FirstAuthorized.IsZero() || t.InitialConnectionAt.Before(u.FirstAuthorized)) {
					u.FirstAuthorized = t.InitialConnectionAt.Time
				}
				if salesforce.IsStale(t.LastUsedAt.Time, t.InitialConnectionAt.Time, cutoff) {
					u.Stale++
				}
				refs = append(refs, tokenRef{len(out), usr.User.UserIdentifier})
			}
			userIDs = append(userIDs, usr.User.UserIdentifier)
		}
		out = append(out, u)
	}
	inactive, err := inactiveAmong(ctx, e.client, userIDs)
	if err != nil {
		return err
	}
	for _, t := range refs {
		if inactive[salesforce.ID(t.user).Key()] {
			out[t.app].InactiveTokens++
		}
	}
	s.apps, s.degraded, s.known, s.userCounts = out, degraded, true, counts
	if full {
		s.lastFull = now
	}
	s.last = make(map[string]ecaUsage, len(out))
	for _, u := range out {
		s.last[u.ID] = u
	}
	return nil
}

// inactiveAmong returns which of the given users are deactivated (by 15-character Id).
func inactiveAmong(ctx context.Context, c *salesforce.Client, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, 200) {
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = salesforce.Quote(id)
		}
		_, err := salesforce.Stream(ctx, c, "SELECT Id, IsActive FROM User WHERE IsActive = false AND Id IN ("+strings.Join(quoted, ",")+")", func(u salesforce.User) bool {
			out[salesforce.ID(u.ID).Key()] = true
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("read External Client App users: %w", err)
		}
	}
	return out, nil
}

func (s *ecaSource) contribute(p *parts) {
	p.ECAs = s.apps
	p.ECAsKnown, p.ECAsDegraded = s.known, s.degraded
}
