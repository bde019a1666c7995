package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The oauth_tokens source's metrics (OauthToken, or the External Client App
// usage API for an External Client App read per user).
var (
	descUsers = prometheus.NewDesc("salesforce_connected_app_authorized_users",
		"Distinct users who hold at least one OAuth token for the app (OauthToken, or the External Client App usage API)."+cached, appLabels, nil)
	descTokens = prometheus.NewDesc("salesforce_connected_app_oauth_tokens",
		"OAuth tokens (approvals) for the app."+cached, appLabels, nil)
	descUses = prometheus.NewDesc("salesforce_connected_app_oauth_token_uses",
		"Sum of UseCount over the app's current tokens; it falls when tokens are revoked, so it is a gauge."+cached, appLabels, nil)
	descLastUsed = prometheus.NewDesc("salesforce_connected_app_last_used_timestamp_seconds",
		"Newest LastUsedDate among the app's tokens, as Unix seconds; absent if never used."+cached, appLabels, nil)
	descFirstAuth = prometheus.NewDesc("salesforce_connected_app_first_authorized_timestamp_seconds",
		"Oldest CreatedDate among the app's current tokens, as Unix seconds."+cached, appLabels, nil)
	descStale = prometheus.NewDesc("salesforce_connected_app_stale_oauth_tokens",
		"Tokens unused for longer than stale_after (LastUsedDate, or CreatedDate if never used)."+cached, appLabels, nil)
	descInactiveTok = prometheus.NewDesc("salesforce_connected_app_inactive_user_oauth_tokens",
		"Tokens held by users whose User.IsActive is false."+cached, appLabels, nil)
	descInactiveUsers = prometheus.NewDesc("salesforce_inactive_users_with_oauth_tokens",
		"Distinct deactivated users in the org who still hold any OAuth token."+cached, []string{"org"}, nil)
	descVisibility = prometheus.NewDesc("salesforce_exporter_oauth_tokens_visibility_limited",
		"1 when every OAuth token the integration user can see is its own: it lacks Customize Application, and the token metrics would look like a clean org.", []string{"org"}, nil)
	descUsersMax = prometheus.NewDesc("salesforce_connected_app_authorized_users_max",
		"The most users who held the app's OAuth tokens at the end of a UTC day, over the window's days before yesterday (the exporter's daily history, kept in its state file): the app's recent high-water mark, which an authorization surge is judged against; absent until a day of the window is in the history."+cached, []string{"org", "app", "app_id", "window"}, nil)
	descTokenMode = prometheus.NewDesc("salesforce_exporter_oauth_token_mode",
		"How OauthToken is read: mode=\"aggregate\" (GROUP BY, a few requests per refresh) or mode=\"rows\" (incremental row sync, when the org rejects GROUP BY).", []string{"org", "mode"}, nil)
)

var tokensMetrics = metricSet{
	descs: []*prometheus.Desc{descUsers, descTokens, descUses, descLastUsed, descFirstAuth, descStale, descInactiveTok, descInactiveUsers, descVisibility, descTokenMode, descUsersMax},
	org:   collectTokenTotals,
	app:   collectAppTokens,
}

func collectTokenTotals(e *emitter, s *snapshot.Snapshot) {
	if s.TokenMode != "" {
		e.gauge(descTokenMode, 1, e.org, s.TokenMode)
	}
	if s.HasTokenTotals {
		e.gauge(descInactiveUsers, float64(s.InactiveUsers), e.org)
		e.gauge(descVisibility, b2f(len(s.PermissionWarnings) > 0), e.org)
	}
}

func collectAppTokens(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	if !a.HasTokens {
		return
	}
	e.gauge(descUsers, float64(a.Users), e.org, a.Name, a.ID)
	e.gauge(descTokens, float64(a.Tokens), e.org, a.Name, a.ID)
	e.gauge(descUses, float64(a.Uses), e.org, a.Name, a.ID)
	e.gauge(descStale, float64(a.Stale), e.org, a.Name, a.ID)
	e.gauge(descInactiveTok, float64(a.InactiveTokens), e.org, a.Name, a.ID)
	if !a.LastUsed.IsZero() {
		e.gauge(descLastUsed, float64(a.LastUsed.UnixMilli())/1000, e.org, a.Name, a.ID)
	}
	if a.HighWater.HasUsers {
		e.gauge(descUsersMax, float64(a.HighWater.Users), e.org, a.Name, a.ID, highWaterWindow)
	}
	if !a.FirstAuthorized.IsZero() {
		e.gauge(descFirstAuth, float64(a.FirstAuthorized.UnixMilli())/1000, e.org, a.Name, a.ID)
	}
}
