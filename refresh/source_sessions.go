package refresh

import (
	"context"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// NoLoginHistory is the app label for active OAuth sessions whose
// LoginHistory row is missing, so the app that opened them is unknown.
const NoLoginHistory = "(unknown)"

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

func (s *sessionsSource) name() string { return config.SourceSessions }

func (s *sessionsSource) refresh(ctx context.Context, e *env) error {
	now := e.client.ServerNow()
	counts := map[string]int64{}
	err := e.client.OAuthSessions(ctx, now.Add(-maxSessionLife), func(a salesforce.AuthSession) {
		if !a.Active(now) {
			return
		}
		app := a.Application()
		if app == "" {
			app = NoLoginHistory
		}
		counts[app]++
	})
	if err != nil {
		return permissionError(err, sessionsPermission)
	}
	s.vis.update(ctx, e, now, config.SourceSessions, sessionsPermission, salesforce.UserPermissions.SeesAllSessions)
	s.counts = counts
	return nil
}

func (s *sessionsSource) contribute(p *parts) {
	p.Sessions = s.counts
	s.vis.add(p, config.SourceSessions, sessionsPermission)
}
