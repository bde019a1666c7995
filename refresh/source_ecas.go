package refresh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// ecaSource lists the External Client Apps (the App OAuth Usage collection
// and ExternalClientApplication). Their tokens are OauthToken rows, which
// the oauth_tokens source reads anyway: only when it cannot see every
// user's tokens (it is disabled, or its user lacks Customize Application)
// does this source read each app's users and each user's tokens, at one
// request per user and app.
type ecaSource struct {
	apps []snapshot.ECAUsage
	// soql is ExternalClientApplication's last good rows; soqlRefused is
	// set when the org refuses the query (an older org or API version).
	soql        []salesforce.ExternalClientApplication
	soqlRefused bool
	// last is each app's last good figures, by app Id: an app whose read
	// fails keeps them (and counts in degraded) while the others go on.
	last     map[string]snapshot.ECAUsage
	degraded int
	known    bool // a read has succeeded
	// userCounts is each app's userCount at its last read, and lastFull
	// when every app was last read: in between, an app whose userCount is
	// unchanged keeps its figures without a request.
	userCounts map[string]int64
	lastFull   time.Time
	// ownUsers is each app's count of users, read every ecaFullEvery when
	// OauthToken holds the tokens (ownUsersAt), the evidence that tells an
	// uninstalled app of an ECA's name apart; countsRead is set when the
	// latest refresh read them (or every app's tokens per user).
	ownUsers   map[string]int64
	ownUsersAt time.Time
	countsRead bool
}

// ecaFullEvery is how often every External Client App's users and tokens
// are read, changed or not: uses and revocations that leave the user count
// alone show up within it.
const ecaFullEvery = time.Hour

// ecaSpec declares the external_client_apps source.
var ecaSpec = Spec{
	Name:          config.SourceECAs,
	Permission:    "View Setup and Configuration",
	HasPermission: func(p salesforce.UserPermissions) bool { return p.ViewSetup },
	Probe:         probeECAs,
	Resources:     []string{"apps_oauth_usage"},
	newSource:     func() source { return &ecaSource{} },
}

// probeECAs lists the External Client Apps and prices a refresh
// (ecaRequestsPerRefresh).
func probeECAs(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error) {
	apps, err := c.ECAs(ctx)
	if err != nil {
		if errors.Is(err, salesforce.ErrNotFound) {
			return ProbeResult{
				Apps: ptr(0), Cost: Cost{PerRefresh: 1},
				Note: "the App OAuth Usage API is not served (API version below 59.0, or no External Client Apps): nothing to report",
			}, nil
		}
		return ProbeResult{}, err
	}
	r := ProbeResult{Apps: ptr(len(apps))}
	perRefresh, err := ecaRequestsPerRefresh(ctx, c, apps, in.TokensComplete)
	if err != nil {
		return r, err
	}
	r.Cost = Cost{PerRefresh: perRefresh}
	if in.Enabled && !in.TokensComplete && len(apps) > 0 {
		r.Notes = append(r.Notes, "external_client_apps reads every user's tokens of each External Client App, a request per user and app each refresh, because oauth_tokens cannot show them: enable oauth_tokens and grant Customize Application to read them from OauthToken at no extra cost")
	}
	return r, nil
}

// ecaSampleApps bounds the External Client Apps whose users check counts;
// the cost of the others is taken as their average.
const ecaSampleApps = 20

// ecaRequestsPerRefresh prices one refresh of the external_client_apps
// source: the app collection's pages (the last one empty) and the
// ExternalClientApplication query. When OauthToken cannot show every user's
// tokens (tokensComplete false), each app's users are read too, page by
// page, then each user's tokens (one request per user and app), and the
// deactivated users among them, 200 to a query; otherwise only each app's
// users' pages, to count them, when the collection does not.
func ecaRequestsPerRefresh(ctx context.Context, c *salesforce.Client, apps []salesforce.ECA, tokensComplete bool) (float64, error) {
	pages := func(n int) float64 { return float64((n+99)/100 + 1) } // the last one empty
	cost := pages(len(apps)) + 1
	if len(apps) == 0 {
		return cost, nil
	}
	var perUser, userPages float64
	users := 0
	sample := apps[:min(len(apps), ecaSampleApps)]
	for _, a := range sample {
		us, err := c.ECAUsers(ctx, a.Identifier)
		if err != nil {
			return 0, fmt.Errorf("count the users of External Client App %s: %w", a.Identifier, err)
		}
		if a.UserCount == nil {
			userPages += pages(len(us))
		}
		perUser += pages(len(us)) + float64(len(us))
		users += len(us)
	}
	if tokensComplete {
		// Each app's users are counted, page by page, once an hour
		// (ecaFullEvery), unless the collection gives the count: priced
		// here as a share of each refresh.
		return cost + userPages*float64(len(apps))/float64(len(sample))/4, nil
	}
	perUser *= float64(len(apps)) / float64(len(sample))
	users = int(math.Ceil(float64(users) * float64(len(apps)) / float64(len(sample))))
	return cost + perUser + math.Ceil(float64(users)/200), nil
}

func (s *ecaSource) refresh(ctx context.Context, e *env) error {
	apps, err := e.client.ECAs(ctx)
	if err != nil {
		var apiErr *salesforce.APIError
		if !errors.As(err, &apiErr) || !errors.Is(apiErr, salesforce.ErrNotFound) {
			return permissionError(err, "View Setup and Configuration")
		}
		// The resource is v59.0 and later; an older API version or an org
		// without External Client Apps has no usage to report.
		apps = nil
	}
	if err := s.readSOQL(ctx, e); err != nil {
		return err
	}
	byKey := map[string]salesforce.ExternalClientApplication{}
	for _, r := range s.soql {
		byKey[salesforce.ID(r.ID).Key()] = r
	}
	if !e.oauthTokensComplete {
		s.ownUsers, s.ownUsersAt, s.countsRead = nil, time.Time{}, true
		return s.readTokens(ctx, e, apps, byKey)
	}
	// OauthToken holds the apps' tokens: no per-user reads. Each app's
	// users are counted (the collection's count, or its users' pages), the
	// evidence that tells an uninstalled app of the same name apart
	// (snapshot.ForeignECATokens); an app whose users cannot be read has
	// none, and its name alone decides.
	out := make([]snapshot.ECAUsage, 0, len(apps)+len(s.soql))
	now := e.client.ServerNow()
	count := s.ownUsersAt.IsZero() || now.Sub(s.ownUsersAt) >= ecaFullEvery || now.Before(s.ownUsersAt.Add(-time.Minute)) // a clock set back
	if count {
		s.ownUsers, s.ownUsersAt = map[string]int64{}, now
	}
	for _, a := range apps {
		u := ecaFrom(a, byKey)
		switch {
		case a.UserCount != nil:
			s.ownUsers[a.Identifier] = *a.UserCount
		case count:
			us, err := e.client.ECAUsers(ctx, a.Identifier)
			if err != nil && salesforce.IsSourceWide(err) {
				return err
			}
			if err != nil {
				e.logger.Warn("Could not count an External Client App's users; its OauthToken rows are filed under it by name alone", "app_id", a.Identifier, "err", err)
				break
			}
			s.ownUsers[a.Identifier] = int64(len(us))
		}
		if n, ok := s.ownUsers[a.Identifier]; ok {
			u.HasUsers, u.Users = true, n
		}
		out = append(out, u)
	}
	s.countsRead = count
	out = append(out, s.unlisted(apps, false)...)
	s.apps, s.degraded, s.known = out, 0, true
	s.last, s.userCounts, s.lastFull = nil, nil, time.Time{}
	return nil
}

// ecaFrom is an app of the usage collection, with the names
// ExternalClientApplication gives it.
func ecaFrom(a salesforce.ECA, soql map[string]salesforce.ExternalClientApplication) snapshot.ECAUsage {
	u := snapshot.ECAUsage{ID: a.Identifier, Name: a.DisplayName(), DeveloperName: a.DeveloperName, Label: a.Label}
	if r, ok := soql[salesforce.ID(a.Identifier).Key()]; ok {
		u.Label = cmp.Or(r.MasterLabel, u.Label)
		u.DeveloperName = cmp.Or(u.DeveloperName, r.DeveloperName)
		if a.Name == "" && a.Label == "" && r.MasterLabel != "" {
			u.Name = r.MasterLabel
		}
	}
	return u
}

// unlisted is the ExternalClientApplication rows the usage collection does
// not list: apps nobody has authorized, whose figures are zero when read per
// user (perUser).
func (s *ecaSource) unlisted(apps []salesforce.ECA, perUser bool) []snapshot.ECAUsage {
	listed := make(map[string]bool, len(apps))
	for _, a := range apps {
		listed[salesforce.ID(a.Identifier).Key()] = true
	}
	var out []snapshot.ECAUsage
	for _, r := range s.soql {
		if !listed[salesforce.ID(r.ID).Key()] {
			out = append(out, snapshot.ECAUsage{ID: r.ID, Name: cmp.Or(r.MasterLabel, r.DeveloperName, r.ID), DeveloperName: r.DeveloperName, Label: r.MasterLabel, HasTokens: perUser})
		}
	}
	return out
}

// readSOQL reads ExternalClientApplication. An org that refuses the query
// (INVALID_TYPE, no access) has only the usage collection; another failure
// keeps the last good rows, so that no app blinks out for one refresh.
func (s *ecaSource) readSOQL(ctx context.Context, e *env) error {
	rows, err := e.client.ExternalClientApplications(ctx)
	if err == nil {
		s.soql, s.soqlRefused = rows, false
		return nil
	}
	if salesforce.IsSourceWide(err) {
		return err
	}
	if salesforce.IsObjectRefused(err) {
		if !s.soqlRefused {
			e.logger.Info("The org does not answer SOQL on ExternalClientApplication; External Client Apps are listed from the App OAuth Usage resource only", "err", err)
		}
		s.soql, s.soqlRefused = nil, true
		return nil
	}
	e.logger.Warn("Could not read ExternalClientApplication; keeping its last rows", "err", err)
	return nil
}

// readTokens reads each app's users and each user's tokens from the App
// OAuth Usage resources: the fallback when OauthToken cannot show them.
func (s *ecaSource) readTokens(ctx context.Context, e *env, apps []salesforce.ECA, soql map[string]salesforce.ExternalClientApplication) error {
	now := e.client.ServerNow()
	cutoff := salesforce.StaleCutoff(now, e.settings.StaleAfter)
	var out []snapshot.ECAUsage
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
				names := ecaFrom(a, soql)
				prev.Name, prev.DeveloperName, prev.Label = names.Name, names.DeveloperName, names.Label
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
				names := ecaFrom(a, soql)
				prev.Name, prev.DeveloperName, prev.Label = names.Name, names.DeveloperName, names.Label
				out = append(out, prev)
			}
			continue
		}
		u := ecaFrom(a, soql)
		u.HasTokens = true
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
	out = append(out, s.unlisted(apps, true)...)
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
	s.last = make(map[string]snapshot.ECAUsage, len(out))
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

func (s *ecaSource) contribute(p *snapshot.Parts) {
	p.ECAs = s.apps
	p.ECAsKnown, p.ECAsDegraded = s.known, s.degraded
	p.ECAUsersRead = s.countsRead
}
