package snapshot

import (
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// The posture join: what each app may do (its OAuth policy) and how far a
// stolen token of it reaches (the permissions of the users who authorized
// it), matched to the apps the token join found.

// PostureParts is what the posture source last read.
type PostureParts struct {
	// Policies are the connected apps' OAuth policies, by Id.
	Policies []salesforce.AppPolicy
	// ECAPolicies are the External Client Apps' permitted users, by Id;
	// ECAUnknown says why they are not known ("" when they are).
	ECAPolicies []salesforce.ECAPolicy
	ECAUnknown  string
	// Groups are the per-app figures read from the held token rows, by the
	// OauthToken group (AppName, AppMenuItemId) they came from; nil when
	// BlastUnknown says why.
	Groups []PostureGroup
	// BlastUnknown says why the blast radius is not known ("" when it is).
	BlastUnknown string
	// Holders counts the active users holding each bypass permission (by
	// salesforce.BypassPermissions name); Unknown says why one is not
	// known.
	Holders map[string]int64
	Unknown map[string]string
	// Calls is how many requests the latest read made.
	Calls int
	// Changes are the exporter's judged changes since it first read the
	// org (persisted across restarts), by app Id key and change kind.
	Changes map[string]map[string]int64
	// HolderIncreases counts the reads that found more holders of a
	// bypass permission than the read before, by permission.
	HolderIncreases map[string]int64
}

// PostureGroup is one OauthToken group's posture figures.
type PostureGroup struct {
	Name, MenuItemID string
	// Holders is, by salesforce.BlastPermissions index, how many distinct
	// users holding the group's tokens have the permission.
	Holders [6]int64
	// BeyondPolicy counts the tokens idle longer than the app's idle
	// expiry allows at its longest reading (-1 when the app has no idle
	// expiry).
	BeyondPolicy int64
	// Admins are the Ids of (at most MaxPostureAdmins) token holders with
	// Modify All Data, for the review: never a metric label.
	Admins []string
}

// MaxPostureAdmins bounds the Modify All Data holders an app's posture
// names (the review's; the count has them all).
const MaxPostureAdmins = 20

// AppPosture is an app's posture, as far as it is known.
type AppPosture struct {
	// HasPolicy: the policy fields below were read.
	HasPolicy           bool
	AdminApprovedOnly   *bool
	RefreshByInactivity *bool
	HighAssurance       *bool
	RefreshPeriod       int64 // 0: valid until revoked
	// RefreshUnknown: the refresh token policy was not read (an External
	// Client App's, whose fields are not confirmed).
	RefreshUnknown bool
	// HasBlast: Holders are known.
	HasBlast bool
	Holders  [6]int64
	// HasBeyond: the app expires idle tokens, and BeyondPolicy counts its
	// tokens idle for longer than that.
	HasBeyond    bool
	BeyondPolicy int64
	// Admins are the user Ids of its Modify All Data token holders (at
	// most MaxPostureAdmins), for the review only.
	Admins []string
	// Changes counts the exporter's judged changes, by kind.
	Changes map[string]int64
	// HasMetadata: the app_metadata source read the app's ConnectedApp;
	// HasOAuth is whether it has OAuth settings, Scopes the classes of
	// the scopes they grant, IPPolicy its IP relaxation (an IPPolicies
	// value).
	HasMetadata bool
	HasOAuth    bool
	Scopes      ScopeSet
	IPPolicy    string
}

// RefreshPolicy names the refresh token policy in force: "until_revoked",
// "idle_expiry" or "absolute_expiry"; "" when not read.
func (p *AppPosture) RefreshPolicy() string {
	switch {
	case p == nil || !p.HasPolicy || p.RefreshUnknown:
		return ""
	case p.RefreshPeriod <= 0:
		return "until_revoked"
	case p.RefreshByInactivity != nil && *p.RefreshByInactivity:
		return "idle_expiry"
	}
	return "absolute_expiry"
}

// ECAAdminApproved reads an External Client App's PermittedUsersPolicyType:
// whether only admin-approved users may use it, and whether the value is
// one the documentation lists.
func ECAAdminApproved(policy string) (approved, known bool) {
	switch policy {
	case "AdminApprovedPreAuthorized":
		return true, true
	case "AllSelfAuthorized":
		return false, true
	}
	return false, false
}

// OrgPosture is the org's posture figures.
type OrgPosture struct {
	Holders         map[string]int64
	Unknown         map[string]string
	BlastUnknown    string
	Calls           int
	HolderIncreases map[string]int64
}

// posture returns the app's posture, made on first use.
func (a *AppUsage) posture() *AppPosture {
	if a.Posture == nil {
		a.Posture = &AppPosture{}
	}
	return a.Posture
}

// joinPosture hangs the posture source's figures on the apps: policies and
// changes by Id, token groups by their menu item's application Id, else by
// name. It adds no app.
func (j *join) joinPosture() {
	pp := j.p.Posture
	if pp == nil {
		return
	}
	j.snap.Posture = &OrgPosture{Holders: pp.Holders, Unknown: pp.Unknown, BlastUnknown: pp.BlastUnknown, Calls: pp.Calls, HolderIncreases: pp.HolderIncreases}
	for _, pol := range pp.Policies {
		a := j.byID[salesforce.ID(pol.ID).Key()]
		if a == nil {
			continue
		}
		p := a.posture()
		p.HasPolicy = true
		p.AdminApprovedOnly, p.RefreshByInactivity, p.HighAssurance = pol.AdminApprovedOnly, pol.RefreshByInactivity, pol.HighAssurance
		if pol.RefreshPeriod != nil {
			p.RefreshPeriod = *pol.RefreshPeriod
		}
		p.Changes = pp.Changes[salesforce.ID(pol.ID).Key()]
	}
	for _, pol := range pp.ECAPolicies {
		approved, ok := ECAAdminApproved(pol.PermittedUsers)
		a := j.byID[salesforce.ID(pol.AppID).Key()]
		if !ok || a == nil {
			continue
		}
		p := a.posture()
		p.HasPolicy, p.RefreshUnknown, p.AdminApprovedOnly = true, true, &approved
		p.Changes = pp.Changes[salesforce.ID(pol.AppID).Key()]
	}
	if pp.BlastUnknown != "" {
		return
	}
	for _, g := range pp.Groups {
		a := j.postureApp(g.Name, g.MenuItemID)
		if a == nil {
			continue
		}
		p := a.posture()
		p.HasBlast = true
		for i, n := range g.Holders {
			p.Holders[i] += n
		}
		for _, id := range g.Admins {
			if len(p.Admins) < MaxPostureAdmins {
				p.Admins = append(p.Admins, id)
			}
		}
		if g.BeyondPolicy >= 0 {
			p.HasBeyond = true
			p.BeyondPolicy += g.BeyondPolicy
		}
	}
}

// postureApp is the app of an OauthToken group, or nil.
func (j *join) postureApp(name, menuItem string) *AppUsage {
	if m, ok := j.menuByID[menuItem]; ok && m.ApplicationID != "" {
		if a := j.byID[salesforce.ID(m.ApplicationID).Key()]; a != nil {
			return a
		}
	}
	if cands := j.byName[strings.ToLower(name)]; len(cands) > 0 {
		return cands[0]
	}
	return nil
}
