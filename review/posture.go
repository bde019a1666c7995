package review

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// PostureRow is one connected app's posture in the review: what it may do,
// how far its tokens reach, and the control catalogue's recommendations it
// misses, ranked by Risk.
type PostureRow struct {
	App   string `json:"app"`
	AppID string `json:"app_id,omitempty"`
	Kind  string `json:"kind"`
	// Risk ranks the rows: the higher, the worse (see postureRisk).
	Risk int `json:"risk"`
	// PermittedUsers is "admin_approved" or "all_users"; "" when unknown.
	PermittedUsers string `json:"permitted_users,omitempty"`
	// RefreshPolicy is until_revoked, idle_expiry or absolute_expiry.
	RefreshPolicy string `json:"refresh_policy,omitempty"`
	// RefreshPeriod is RefreshTokenValidityPeriod, in the unit the app's
	// page set (the API does not say which).
	RefreshPeriod      int64 `json:"refresh_period,omitempty"`
	HighAssurance      bool  `json:"high_assurance,omitempty"`
	TokensBeyondPolicy int64 `json:"tokens_beyond_policy,omitempty"`
	// BlastRadius is, by permission label (modify_all_data...), how many
	// of its token holders hold it; nil when unknown.
	BlastRadius map[string]int64 `json:"blast_radius,omitempty"`
	// Admins names its token holders with Modify All Data (usernames where
	// the per-user detail has them, else Ids).
	Admins []string `json:"modify_all_data_users,omitempty"`
	// OAuthScopes are the scope classes it may be granted (the
	// app_metadata source's), IPRelaxation its IP relaxation
	// (snapshot.IPPolicies); both empty when not read.
	OAuthScopes  []string `json:"oauth_scopes,omitempty"`
	IPRelaxation string   `json:"ip_relaxation,omitempty"`
	// Missed are the control catalogue's recommendations it misses, each
	// with the Setup path that fixes it.
	Missed []PostureFix `json:"missed_recommendations,omitempty"`
}

// PostureFix is one missed recommendation and where to fix it.
type PostureFix struct {
	Recommendation string `json:"recommendation"`
	SetupPath      string `json:"setup_path"`
}

// blastLabels are the blast radius's keys, in salesforce.BlastPermissions' order.
var blastLabels = []string{"modify_all_data", "view_all_data", "manage_users", "customize_application", "author_apex", "api_enabled"}

// The Setup path of a connected app's OAuth policies.
const policySetupPath = "Setup > Apps > Connected Apps > Manage Connected Apps > the app > Edit Policies"

// The Setup path of a connected app's OAuth scopes.
const appScopesSetupPath = "Setup > Apps > App Manager > the app > Edit > API (Enable OAuth Settings) > Selected OAuth Scopes"

// postureRows builds the Posture section from the snapshot: every app with a
// posture, the riskiest first. Usernames come from the per-user detail.
func postureRows(snap *snapshot.Snapshot, d *Detail) []PostureRow {
	names := map[string]string{}
	if d != nil {
		for _, t := range d.Tokens {
			if t.Username != "" {
				names[salesforce.ID(t.UserID).Key()] = t.Username
			}
		}
	}
	var out []PostureRow
	for _, a := range snap.Apps {
		p := a.Posture
		if p == nil {
			continue
		}
		row := PostureRow{App: a.Name, AppID: a.ID, Kind: a.Kind, RefreshPolicy: p.RefreshPolicy(), RefreshPeriod: p.RefreshPeriod, TokensBeyondPolicy: p.BeyondPolicy}
		if p.AdminApprovedOnly != nil {
			row.PermittedUsers = "all_users"
			if *p.AdminApprovedOnly {
				row.PermittedUsers = "admin_approved"
			}
		}
		row.HighAssurance = p.HighAssurance != nil && *p.HighAssurance
		if p.HasMetadata {
			row.IPRelaxation = p.IPPolicy
			row.OAuthScopes = []string{} // read: none is not unknown
			for i, class := range snapshot.ScopeClasses {
				if p.Scopes.Has(i) {
					row.OAuthScopes = append(row.OAuthScopes, class)
				}
			}
		}
		if p.HasBlast {
			row.BlastRadius = map[string]int64{}
			for i, l := range blastLabels {
				row.BlastRadius[l] = p.Holders[i]
			}
		}
		for _, id := range p.Admins {
			n := names[salesforce.ID(id).Key()]
			if n == "" {
				n = id
			}
			row.Admins = append(row.Admins, n)
		}
		row.Missed = missed(row, p)
		row.Risk = postureRisk(row)
		out = append(out, row)
	}
	slices.SortFunc(out, func(x, y PostureRow) int { return cmp.Or(cmp.Compare(y.Risk, x.Risk), strings.Compare(x.App, y.App)) })
	return out
}

// missed lists the recommendations of Salesforce's connected app controls
// (help: shr_connected_apps) that the app's readable policy misses.
func missed(row PostureRow, p *snapshot.AppPosture) []PostureFix {
	var fixes []PostureFix
	if row.PermittedUsers == "all_users" {
		fixes = append(fixes, PostureFix{"Permitted Users: admin approved users are pre-authorized, with only the profiles or permission sets that need the app", policySetupPath + " > Permitted Users"})
	}
	if row.RefreshPolicy == "until_revoked" {
		fixes = append(fixes, PostureFix{"Refresh Token Policy: expire refresh tokens if not used for a set time", policySetupPath + " > Refresh Token Policy"})
	}
	if row.TokensBeyondPolicy > 0 {
		fixes = append(fixes, PostureFix{"Revoke the tokens idle beyond the app's own expiry", "Setup > Apps > Connected Apps > Connected Apps OAuth Usage > the app (or revoke --app)"})
	}
	if slices.Contains(row.OAuthScopes, "full") {
		fixes = append(fixes, PostureFix{"Selected OAuth Scopes: only what the integration needs (api, with refresh_token only if it must run unattended), never Full access (full)", appScopesSetupPath})
	}
	if row.IPRelaxation == "relax" || row.IPRelaxation == "relax_with_2fa" {
		fixes = append(fixes, PostureFix{"IP Relaxation: enforce IP restrictions, and trust the integration's ranges instead", policySetupPath + " > IP Relaxation"})
	}
	if p.HasBlast && p.Holders[0] > 0 {
		fixes = append(fixes, PostureFix{"No Modify All Data user should authorize an integration: give it a least-privilege integration user", "Setup > Users > the user > Permission Set Assignments"})
	}
	return fixes
}

// postureRisk weighs what a stolen token of the app reaches and how long
// it lasts.
func postureRisk(row PostureRow) int {
	risk := 0
	weights := map[string]int{"modify_all_data": 10, "view_all_data": 8, "manage_users": 6, "author_apex": 6, "customize_application": 4, "api_enabled": 0}
	for l, n := range row.BlastRadius {
		if n > 0 {
			risk += weights[l]
		}
	}
	if row.PermittedUsers == "all_users" {
		risk += 3
	}
	if row.RefreshPolicy == "until_revoked" {
		risk += 3
	}
	if row.TokensBeyondPolicy > 0 {
		risk += 2
	}
	if slices.Contains(row.OAuthScopes, "full") {
		risk += 5
		if slices.Contains(row.OAuthScopes, "refresh_token") {
			risk += 2
		}
	}
	switch row.IPRelaxation {
	case "relax":
		risk += 4
	case "relax_with_2fa":
		risk++
	}
	return risk
}

var postureHeader = []string{"App", "Risk", "Permitted users", "Refresh token policy", "Tokens beyond policy", "Blast radius (token holders with)", "Modify All Data users", "OAuth scopes", "IP relaxation", "Missed recommendations (Setup path)"}

func postureCells(p PostureRow) []string {
	policy := p.RefreshPolicy
	if p.RefreshPeriod > 0 {
		policy += " (" + strconv.FormatInt(p.RefreshPeriod, 10) + " units)"
	}
	var blast []string
	for _, l := range blastLabels {
		if n := p.BlastRadius[l]; n > 0 {
			blast = append(blast, fmt.Sprintf("%s %d", l, n))
		}
	}
	b := strings.Join(blast, ", ")
	if p.BlastRadius == nil {
		b = "unknown"
	}
	var fixes []string
	for _, f := range p.Missed {
		fixes = append(fixes, f.Recommendation+" ("+f.SetupPath+")")
	}
	scopes := "unknown"
	if p.OAuthScopes != nil {
		scopes = orNone(strings.Join(p.OAuthScopes, ", "))
	}
	ip := p.IPRelaxation
	if ip == "" {
		ip = "unknown"
	}
	return []string{displayApp(p.App), strconv.Itoa(p.Risk), orNone(p.PermittedUsers), policy, num(p.TokensBeyondPolicy), orNone(b), strings.Join(p.Admins, ", "), scopes, ip, strings.Join(fixes, "; ")}
}

// postureSection is the Posture table.
func postureSection(r *Report) section {
	s := section{ID: anchor(r.Org, "posture"), Title: "Posture", Header: postureHeader,
		Note: "Each connected app's OAuth policy, scopes, IP relaxation and blast radius (its token holders' permissions), the riskiest first, with the recommendations of Salesforce's connected app controls it misses."}
	if !r.PostureScopesKnown {
		s.Note += " Scopes and IP relaxation are unknown: SOQL does not show them, and the Metadata API that does needs Modify Metadata Through Metadata API Functions (or Modify All Data). To read them, grant the integration user that permission and enable the opt-in source (sources: {app_metadata: {enabled: true}})."
	}
	for _, p := range r.Posture {
		s.Rows = append(s.Rows, postureCells(p))
	}
	return s
}
