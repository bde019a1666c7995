package refresh

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// postureSource reads what each connected app may do (the OAuth policy
// fields of ConnectedApplication), how far its tokens reach (the
// permissions of the users holding them, from PermissionSetAssignment) and
// how many users hold the permissions that bypass API client control. It
// judges changes against the last read it held, which the org's state keeps
// across restarts, so that a restart or a first read is never a change.
type postureSource struct {
	parts *snapshot.PostureParts // nil until the first success
}

// posturePermission is what reading PermissionSetAssignment needs; the
// connected apps need View Setup and Configuration too.
const posturePermission = "View Setup and Configuration"

// maxPostureHolders bounds the token holders whose permissions a refresh
// reads: 100 queries of 200 ids.
const maxPostureHolders = 20000

// postureDayUnit is the longest unit RefreshTokenValidityPeriod may be in
// (the API does not say which of hours, days or months the app's page
// set): a token idle longer than the period in these units is beyond the
// policy whatever the unit.
const postureDayUnit = 31 * 24 * time.Hour

// maxPosturePeriod bounds the period read (int(9) in the API): a hundred
// years of months.
const maxPosturePeriod = 1200

// postureSpec declares the posture source.
var postureSpec = Spec{
	Name:          config.SourcePosture,
	Permission:    posturePermission,
	HasPermission: func(p salesforce.UserPermissions) bool { return p.ViewSetup },
	Probe:         probePosture,
	Resources:     []string{"query:ConnectedApplication", "query:ExtlClntAppOauthPlcyCnfg", "query:PermissionSetAssignment"},
	newSource:     func() source { return &postureSource{} },
}

// probePosture reads the apps' policies and prices a refresh: that read,
// a query per bypass permission, and a query per 200 token holders.
func probePosture(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error) {
	pols, err := c.AppPolicies(ctx)
	if err != nil {
		return ProbeResult{}, err
	}
	res := ProbeResult{Apps: ptr(len(pols)), Cost: Cost{PerRefresh: 2 + float64(len(salesforce.BypassPermissions))}}
	if _, err := c.ECAPolicies(ctx); salesforce.IsObjectRefused(err) || errors.Is(err, salesforce.ErrInvalidField) {
		res.Notes = append(res.Notes, "ExtlClntAppOauthPlcyCnfg is not readable: the External Client Apps' permitted users are reported as unknown")
	} else if err != nil {
		return res, err
	}
	for _, p := range salesforce.BypassPermissions {
		if _, err := c.PermissionHolders(ctx, p); errors.Is(err, salesforce.ErrPermissionFieldAbsent) {
			res.Notes = append(res.Notes, "the org has no Permissions"+p+" field: its holders are reported as unknown")
		} else if err != nil {
			return res, err
		}
	}
	res.Notes = append(res.Notes, "the blast radius costs a query per 200 users holding tokens, and needs the oauth_tokens source to read rows (an org that accepts GROUP BY on OauthToken leaves it unknown)")
	return res, nil
}

func (s *postureSource) refresh(ctx context.Context, e *env) error {
	calls := 0
	pols, err := e.client.AppPolicies(ctx)
	calls++
	if err != nil {
		return permissionError(err, posturePermission)
	}
	pp := &snapshot.PostureParts{Policies: pols, Holders: map[string]int64{}, Unknown: map[string]string{}}
	ecas, err := e.client.ECAPolicies(ctx)
	calls++
	switch {
	case salesforce.IsObjectRefused(err) || errors.Is(err, salesforce.ErrInvalidField):
		pp.ECAUnknown = "ExtlClntAppOauthPlcyCnfg is not readable here: the External Client Apps' permitted users are unknown"
	case err != nil:
		return permissionError(err, posturePermission)
	default:
		pp.ECAPolicies = ecas
	}
	for _, p := range salesforce.BypassPermissions {
		n, err := e.client.PermissionHolders(ctx, p)
		calls++
		switch {
		case errors.Is(err, salesforce.ErrPermissionFieldAbsent):
			pp.Unknown[p] = "the org has no PermissionSet.Permissions" + p + " field (the feature is off, or not in this release)"
		case err != nil:
			return permissionError(err, posturePermission)
		default:
			pp.Holders[p] = int64(n)
		}
	}
	n, err := s.blast(ctx, e, pp, pols)
	calls += n
	if err != nil {
		return permissionError(err, posturePermission)
	}
	pp.Calls = calls
	s.judge(e, pp)
	s.parts = pp
	return nil
}

// blast fills pp's token groups from the token rows the oauth_tokens
// source holds: the holders of each permission, and the tokens beyond an
// idle expiry. It returns the queries it made.
func (s *postureSource) blast(ctx context.Context, e *env, pp *snapshot.PostureParts, pols []salesforce.AppPolicy) (int, error) {
	st := e.tokens
	switch {
	case st == nil || !st.valid:
		pp.BlastUnknown = "the oauth_tokens source holds no token rows (it is off, has not read the org yet, or reads GROUP BY aggregates)"
		return 0, nil
	case len(st.userIDs) > maxPostureHolders:
		pp.BlastUnknown = fmt.Sprintf("over %d users hold tokens; their permissions are not read", maxPostureHolders)
		return 0, nil
	}
	held := make([]bool, len(st.userIDs))
	for i := range st.entries {
		held[st.entries[i].user] = true
	}
	var ids []string
	for u, ok := range held {
		if ok {
			ids = append(ids, st.userIDs[u])
		}
	}
	perms, calls, err := e.client.UserPermissionSets(ctx, ids)
	if err != nil {
		return calls, err
	}
	// The idle expiry of each app, by lower-case name: OauthToken names an
	// app by its ConnectedApplication Name.
	idle := map[string]int64{}
	for _, p := range pols {
		if p.RefreshByInactivity != nil && *p.RefreshByInactivity && p.RefreshPeriod != nil && *p.RefreshPeriod > 0 {
			idle[strings.ToLower(p.Name)] = *p.RefreshPeriod
		}
	}
	now := e.client.ServerNow()
	groups := make([]snapshot.PostureGroup, len(st.appKeys))
	seen := make([]map[uint32]struct{}, len(st.appKeys))
	for i, k := range st.appKeys {
		groups[i] = snapshot.PostureGroup{Name: k.name, MenuItemID: k.menuItem, BeyondPolicy: -1}
		if _, ok := idle[strings.ToLower(k.name)]; ok {
			groups[i].BeyondPolicy = 0
		}
		seen[i] = map[uint32]struct{}{}
	}
	for i := range st.entries {
		t := &st.entries[i]
		g := &groups[t.app]
		if period, ok := idle[strings.ToLower(g.Name)]; ok {
			cutoff := now.Add(-time.Duration(min(period, maxPosturePeriod)) * postureDayUnit).UnixMilli()
			if isStaleMs(t.lastUsed, t.created, cutoff) {
				g.BeyondPolicy++
			}
		}
		if _, ok := seen[t.app][t.user]; ok {
			continue
		}
		seen[t.app][t.user] = struct{}{}
		bits := perms[salesforce.ID(st.userIDs[t.user]).Key()]
		if bits&1 != 0 && len(g.Admins) < snapshot.MaxPostureAdmins { // bit 0: Modify All Data
			g.Admins = append(g.Admins, st.userIDs[t.user])
		}
		for b := range salesforce.BlastPermissions {
			if bits&(1<<b) != 0 {
				g.Holders[b]++
			}
		}
	}
	for i := range groups {
		if len(seen[i]) > 0 {
			pp.Groups = append(pp.Groups, groups[i])
		}
	}
	return calls, nil
}

// Change kinds the posture source judges, each against the last read the
// exporter held.
const (
	ChangeOpenedToAllUsers  = "opened_to_all_users"   // admin-approved users only, then all users may self-authorize
	ChangeValidUntilRevoked = "valid_until_revoked"   // a refresh token expiry, then none
	ChangeModifyAllData     = "first_modify_all_data" // the first token holder with Modify All Data
	changeNone              = ""
)

// postureState is what the posture source keeps across restarts in the
// org's state: the last read it judged, and the changes it found.
type postureState struct {
	Apps map[string]*appPostureSeen `json:"apps"` // by Id key
	// Holders is the last read's count of each bypass permission's holders.
	Holders map[string]int64 `json:"holders,omitempty"`
	// HolderIncreases is when a read last found more holders than the one
	// before, by permission.
	HolderIncreases map[string]time.Time `json:"holder_increases,omitempty"`
}

// appPostureSeen is one app's last judged read.
type appPostureSeen struct {
	AdminApprovedOnly bool   `json:"admin_approved_only"`
	RefreshPolicy     string `json:"refresh_policy"`
	// ModifyAllData: a token holder with Modify All Data has been seen.
	ModifyAllData bool `json:"modify_all_data,omitempty"`
	// Changes is when each kind of change was last found.
	Changes map[string]time.Time `json:"changes,omitempty"`
}

// judge compares the read with the last one the state holds, stamps the
// changes, and records the read. The first read of an org (no posture in
// the state) is the baseline: nothing in it is a change. A bypass
// permission whose holders are unknown keeps its last count.
func (s *postureSource) judge(e *env, pp *snapshot.PostureParts) {
	now := e.client.ServerNow().UTC().Truncate(time.Second)
	st := e.state.Posture
	first := st == nil
	if first {
		st = &postureState{Apps: map[string]*appPostureSeen{}}
		e.state.Posture = st
	}
	if st.Holders == nil {
		st.Holders = map[string]int64{}
	}
	if st.HolderIncreases == nil {
		st.HolderIncreases = map[string]time.Time{}
	}
	for p, n := range pp.Holders {
		if last, ok := st.Holders[p]; ok && n > last && !first {
			st.HolderIncreases[p] = now
		}
		st.Holders[p] = n
	}
	mad := map[string]bool{} // by lower-case app name
	if pp.BlastUnknown == "" {
		for _, g := range pp.Groups {
			if g.Holders[0] > 0 {
				mad[strings.ToLower(g.Name)] = true
			}
		}
	}
	pp.Changes = map[string]map[string]int64{}
	present := map[string]bool{}
	type judged struct {
		id, name string
		cur      appPostureSeen
	}
	var apps []judged
	for _, pol := range pp.Policies {
		apps = append(apps, judged{pol.ID, pol.Name, appPostureSeen{AdminApprovedOnly: pol.AdminApprovedOnly != nil && *pol.AdminApprovedOnly, RefreshPolicy: refreshPolicy(pol)}})
	}
	for _, pol := range pp.ECAPolicies {
		if approved, ok := snapshot.ECAAdminApproved(pol.PermittedUsers); ok {
			apps = append(apps, judged{pol.AppID, "", appPostureSeen{AdminApprovedOnly: approved}})
		}
	}
	for _, ap := range apps {
		key, cur := salesforce.ID(ap.id).Key(), ap.cur
		present[key] = true
		was := st.Apps[key]
		if was == nil {
			// A new app: its policy is its baseline, but its first
			// Modify All Data holder is a change unless the org's first read.
			was = &appPostureSeen{AdminApprovedOnly: cur.AdminApprovedOnly, RefreshPolicy: cur.RefreshPolicy, ModifyAllData: first && mad[strings.ToLower(ap.name)]}
			st.Apps[key] = was
		}
		stamp := func(kind string) {
			if was.Changes == nil {
				was.Changes = map[string]time.Time{}
			}
			was.Changes[kind] = now
		}
		if was.AdminApprovedOnly && !cur.AdminApprovedOnly {
			stamp(ChangeOpenedToAllUsers)
		}
		if was.RefreshPolicy != "until_revoked" && cur.RefreshPolicy == "until_revoked" {
			stamp(ChangeValidUntilRevoked)
		}
		if pp.BlastUnknown == "" && ap.name != "" && mad[strings.ToLower(ap.name)] && !was.ModifyAllData {
			stamp(ChangeModifyAllData)
			was.ModifyAllData = true
		}
		was.AdminApprovedOnly, was.RefreshPolicy = cur.AdminApprovedOnly, cur.RefreshPolicy
		if len(was.Changes) > 0 {
			ch := map[string]int64{}
			for k, t := range was.Changes {
				ch[k] = t.Unix()
			}
			pp.Changes[key] = ch
		}
	}
	// An app no longer installed leaves the state: it is new again if it
	// comes back (bounded by the apps one read returns). External Client
	// Apps stay while their policies are unreadable.
	for key := range st.Apps {
		if !present[key] && (pp.ECAUnknown == "" || !salesforce.IsExternalClientAppID(key)) {
			delete(st.Apps, key)
		}
	}
	pp.HolderIncreases = map[string]int64{}
	for p, t := range st.HolderIncreases {
		pp.HolderIncreases[p] = t.Unix()
	}
	e.stateChanged()
}

// refreshPolicy names a policy's refresh token policy as AppPosture does.
func refreshPolicy(p salesforce.AppPolicy) string {
	var period int64
	if p.RefreshPeriod != nil {
		period = *p.RefreshPeriod
	}
	return (&snapshot.AppPosture{HasPolicy: true, RefreshPeriod: period, RefreshByInactivity: p.RefreshByInactivity}).RefreshPolicy()
}

func (s *postureSource) contribute(p *snapshot.Parts) {
	if s.parts == nil {
		return
	}
	cp := *s.parts
	cp.Holders = maps.Clone(cp.Holders)
	p.Posture = &cp
}
