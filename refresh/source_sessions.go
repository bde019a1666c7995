package refresh

import (
	"context"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// maxSessionLife bounds how long a session can stay valid (the longest
// session timeout an org can set is 24 hours).
const maxSessionLife = 24 * time.Hour

// sessionsSource counts the active OAuth sessions (AuthSession) per app name.
type sessionsSource struct {
	counts map[string]int64 // nil until the first success
	vis    visibilityCheck
}

// sessionsPermission is what AuthSession needs to show every user's sessions.
const sessionsPermission = "Manage Users"

// sessionsSpec declares the sessions source.
var sessionsSpec = Spec{
	Name:          config.SourceSessions,
	Permission:    "Manage Users",
	HasPermission: func(p salesforce.UserPermissions) bool { return p.ManageUsers },
	SeesAll:       salesforce.UserPermissions.SeesAllSessions,
	Missing:       sessionsPermission,
	Probe:         probeSessions,
	Resources:     []string{"query:AuthSession"},
	newSource:     func() source { return &sessionsSource{} },
}

// probeSessions counts the OAuth sessions; a refresh reads them in pages of 2,000.
func probeSessions(ctx context.Context, c *salesforce.Client, _ ProbeInput) (ProbeResult, error) {
	n, err := c.Count(ctx, "SELECT COUNT() FROM AuthSession WHERE SessionType = 'Oauth2'")
	if err != nil {
		return ProbeResult{}, err
	}
	return ProbeResult{Rows: ptr(n), Cost: Cost{PerRefresh: 1 + float64(n)/2000}}, nil
}

func (s *sessionsSource) refresh(ctx context.Context, e *env) error {
	now := e.client.ServerNow()
	counts := map[string]int64{}
	err := e.client.OAuthSessions(ctx, now.Add(-maxSessionLife), func(a salesforce.AuthSession) {
		if !a.Active(now) {
			return
		}
		app := a.Application()
		if app == "" {
			app = snapshot.NoLoginHistory
		}
		counts[app]++
	})
	if err != nil {
		return permissionError(err, sessionsPermission)
	}
	s.vis.update(ctx, e, now, &sessionsSpec)
	s.counts = counts
	return nil
}

func (s *sessionsSource) contribute(p *snapshot.Parts) {
	p.Sessions = s.counts
	s.vis.add(p, &sessionsSpec)
}
