package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The posture source's metrics: each connected app's OAuth policy and blast
// radius, and the org's holders of the permissions that bypass API client
// control.
var (
	appPermissionLabels = append(append([]string(nil), appLabels...), "permission")

	descAdminApprovedOnly = prometheus.NewDesc("salesforce_connected_app_admin_approved_only",
		"1 when only users an administrator approved may use the app (ConnectedApplication.OptionsAllowAdminApprovedUsersOnly; for an External Client App, ExtlClntAppOauthPlcyCnfg.PermittedUsersPolicyType), 0 when all users may self-authorize."+cached, appLabels, nil)
	descRefreshPolicy = prometheus.NewDesc("salesforce_connected_app_refresh_token_policy",
		"1 for the connected app's refresh token policy in force, 0 for the others: until_revoked (RefreshTokenValidityPeriod null or 0), idle_expiry (OptionsRefreshTokenValidityMetric true) or absolute_expiry. Absent for External Client Apps, whose policy fields are not read."+cached, append(append([]string(nil), appLabels...), "policy"), nil)
	descRefreshMax = prometheus.NewDesc("salesforce_connected_app_refresh_token_validity_max_seconds",
		"The longest the connected app's refresh token policy lets a token live (or stay idle): RefreshTokenValidityPeriod read in months of 31 days, since the API does not say whether the app's page set hours, days or months. Absent when tokens are valid until revoked."+cached, appLabels, nil)
	descHighAssurance = prometheus.NewDesc("salesforce_connected_app_high_assurance_required",
		"1 when the connected app requires a high-assurance session (ConnectedApplication.OptionsHasSessionLevelPolicy)."+cached, appLabels, nil)
	descHolders = prometheus.NewDesc("salesforce_connected_app_token_holders_with_permission",
		"Distinct users holding the app's OAuth tokens who have the permission (modify_all_data, view_all_data, manage_users, customize_application, author_apex, api_enabled) through a permission set assignment in force (PermissionSetAssignment): how far a stolen token of the app reaches."+cached, appPermissionLabels, nil)
	descBeyondPolicy = prometheus.NewDesc("salesforce_connected_app_tokens_beyond_policy",
		"The app's OAuth tokens idle (last used, or created when never used) for longer than its idle refresh token expiry allows at its longest reading: tokens the policy says should not exist. Absent when the app has no idle expiry."+cached, appLabels, nil)
	descPostureChange = prometheus.NewDesc("salesforce_connected_app_posture_change_timestamp_seconds",
		"When the exporter last found the change in the app's posture, against the last read it held (kept across restarts in the state file; a first read is never a change): opened_to_all_users, valid_until_revoked, first_modify_all_data; with the opt-in app_metadata source, gained_full_scope and lost_ip_restrictions. Absent until one is found."+cached, append(append([]string(nil), appLabels...), "change"), nil)
	descBypassHolders = prometheus.NewDesc("salesforce_org_users_with_permission",
		"Active users holding the bypass permission (use_any_api_client, approve_uninstalled_apps, use_any_api_auth) through a permission set assignment in force. Absent when the org has no such PermissionSet field (salesforce_org_permission_known 0)."+cached, []string{"org", "permission"}, nil)
	descBypassKnown = prometheus.NewDesc("salesforce_org_permission_known",
		"1 when the org's holders of the bypass permission could be counted, 0 when the org has no such PermissionSet field (the feature is off, or not in its release)."+cached, []string{"org", "permission"}, nil)
	descBypassIncrease = prometheus.NewDesc("salesforce_org_permission_holders_increase_timestamp_seconds",
		"When a read last found more holders of the bypass permission than the read before (kept across restarts in the state file; a first read is never an increase). Absent until one is found."+cached, []string{"org", "permission"}, nil)
	descBlastKnown = prometheus.NewDesc("salesforce_org_blast_radius_known",
		"1 when the permissions of the org's token holders were read, 0 when not (the oauth_tokens source holds no token rows, or too many users hold tokens)."+cached, []string{"org"}, nil)
)

// permissionLabels are the permission label values, by the PermissionSet
// field names of salesforce.BlastPermissions and BypassPermissions.
var permissionLabels = map[string]string{
	salesforce.PermModifyAllData:          "modify_all_data",
	salesforce.PermViewAllData:            "view_all_data",
	salesforce.PermManageUsers:            "manage_users",
	salesforce.PermCustomizeApplication:   "customize_application",
	salesforce.PermAuthorApex:             "author_apex",
	salesforce.PermAPIEnabled:             "api_enabled",
	salesforce.PermUseAnyAPIClient:        "use_any_api_client",
	salesforce.PermApproveUninstalledApps: "approve_uninstalled_apps",
	salesforce.PermUseAnyAPIAuth:          "use_any_api_auth",
}

// PermissionLabel is the permission label value of a PermissionSet field
// name (without its prefix).
func PermissionLabel(perm string) string { return permissionLabels[perm] }

// postureChangeKinds are the change label values, the posture source's and
// then the app_metadata source's.
var postureChangeKinds = []string{"opened_to_all_users", "valid_until_revoked", "first_modify_all_data", "gained_full_scope", "lost_ip_restrictions"}

var postureMetrics = metricSet{
	descs: []*prometheus.Desc{descAdminApprovedOnly, descRefreshPolicy, descRefreshMax, descHighAssurance, descHolders, descBeyondPolicy, descPostureChange,
		descBypassHolders, descBypassKnown, descBypassIncrease, descBlastKnown},
	org: collectOrgPosture,
	app: collectAppPosture,
}

func collectOrgPosture(e *emitter, s *snapshot.Snapshot) {
	p := s.Posture
	if p == nil {
		return
	}
	e.gauge(descBlastKnown, boolGauge(p.BlastUnknown == ""), e.org)
	for _, perm := range salesforce.BypassPermissions {
		n, known := p.Holders[perm]
		e.gauge(descBypassKnown, boolGauge(known), e.org, permissionLabels[perm])
		if known {
			e.gauge(descBypassHolders, float64(n), e.org, permissionLabels[perm])
		}
		if t, ok := p.HolderIncreases[perm]; ok {
			e.gauge(descBypassIncrease, float64(t), e.org, permissionLabels[perm])
		}
	}
}

func collectAppPosture(e *emitter, _ *snapshot.Snapshot, a *snapshot.AppUsage) {
	p := a.Posture
	if p == nil {
		return
	}
	if p.HasPolicy {
		if p.AdminApprovedOnly != nil {
			e.gauge(descAdminApprovedOnly, boolGauge(*p.AdminApprovedOnly), e.org, a.Name, a.ID)
		}
		if cur := p.RefreshPolicy(); cur != "" {
			for _, pol := range []string{"until_revoked", "idle_expiry", "absolute_expiry"} {
				e.gauge(descRefreshPolicy, boolGauge(pol == cur), e.org, a.Name, a.ID, pol)
			}
		}
		if p.RefreshPeriod > 0 {
			e.gauge(descRefreshMax, float64(p.RefreshPeriod)*(31*24*time.Hour).Seconds(), e.org, a.Name, a.ID)
		}
		if p.HighAssurance != nil {
			e.gauge(descHighAssurance, boolGauge(*p.HighAssurance), e.org, a.Name, a.ID)
		}
	}
	// The app_metadata source's changes are here too, so that the posture
	// source need not be on for them.
	for _, kind := range postureChangeKinds {
		if t, ok := p.Changes[kind]; ok {
			e.gauge(descPostureChange, float64(t), e.org, a.Name, a.ID, kind)
		}
	}
	if p.HasBlast {
		for i, perm := range salesforce.BlastPermissions {
			e.gauge(descHolders, float64(p.Holders[i]), e.org, a.Name, a.ID, permissionLabels[perm])
		}
	}
	if p.HasBeyond {
		e.gauge(descBeyondPolicy, float64(p.BeyondPolicy), e.org, a.Name, a.ID)
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
