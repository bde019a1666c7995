package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The app_metadata source's metrics: each connected app's OAuth scopes and
// IP relaxation, from the Metadata API's ConnectedApp.
var (
	descOAuthScope = prometheus.NewDesc("salesforce_connected_app_oauth_scope",
		"1 when the connected app may be granted a scope of the class, 0 when not (Metadata API ConnectedApp oauthConfig.scopes): full, api, refresh_token (offline_access too), web, openid, chatter_api, custom_permissions, wave_api, content, visualforce, lightning, cdp, pardot, other. Absent unless the opt-in app_metadata source read the app (salesforce_org_app_metadata_known)."+cached, append(append([]string(nil), appLabels...), "scope"), nil)
	descIPRelaxation = prometheus.NewDesc("salesforce_connected_app_ip_relaxation",
		"1 for the connected app's IP relaxation in force, 0 for the others (Metadata API ConnectedApp oauthPolicy.ipRelaxation): enforce, relax_with_2fa (BYPASS_2FA), relax (BYPASS), other (a value not among those), unknown (the app has no OAuth policy). Absent unless the opt-in app_metadata source read the app."+cached, append(append([]string(nil), appLabels...), "policy"), nil)
	descMetadataKnown = prometheus.NewDesc("salesforce_org_app_metadata_known",
		"1 when the connected apps' OAuth scopes and IP relaxation were read (the opt-in app_metadata source, which needs Modify Metadata Through Metadata API Functions), 0 when they are unknown: the source is off, refused or has not read the org yet. Unknown is never 0 in salesforce_connected_app_oauth_scope."+cached, []string{"org"}, nil)
)

var appMetadataMetrics = metricSet{
	descs: []*prometheus.Desc{descOAuthScope, descIPRelaxation, descMetadataKnown},
	org:   collectOrgAppMetadata,
	app:   collectAppMetadata,
}

func collectOrgAppMetadata(e *emitter, s *snapshot.Snapshot) {
	// A snapshot with no source status is a test's literal, not an org read.
	if s.Metadata == nil && len(s.Sources) == 0 {
		return
	}
	e.gauge(descMetadataKnown, boolGauge(s.Metadata != nil), e.org)
}

func collectAppMetadata(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	p := a.Posture
	if p == nil || !p.HasMetadata {
		return
	}
	if p.HasOAuth {
		for i, class := range snapshot.ScopeClasses {
			e.gauge(descOAuthScope, boolGauge(p.Scopes.Has(i)), e.org, a.Name, a.ID, class)
		}
	}
	for _, pol := range snapshot.IPPolicies {
		e.gauge(descIPRelaxation, boolGauge(pol == p.IPPolicy), e.org, a.Name, a.ID, pol)
	}
}
