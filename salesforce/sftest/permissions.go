package sftest

import (
	"fmt"
	"time"
)

// Permission names, as the PermissionSet fields spell them without the
// "Permissions" prefix.
const (
	PermAPIEnabled           = "ApiEnabled"
	PermManageUsers          = "ManageUsers"
	PermCustomizeApplication = "CustomizeApplication"
	PermViewEventLogFiles    = "ViewEventLogFiles"
	PermMonitorLoginHistory  = "MonitorLoginHistory"
	PermViewAllUsers         = "ViewAllUsers"
	PermViewSetup            = "ViewSetup"
	// PermViewAllData and PermAssignPermissionSets are not granted unless a
	// test grants them: a least-privilege integration user has neither.
	PermViewAllData          = "ViewAllData"
	PermAssignPermissionSets = "AssignPermissionSets"
	// The permissions a posture read counts among the org's users. The
	// exporter's permission sets lack them unless a test grants them.
	PermModifyAllData = "ModifyAllData"
	PermAuthorApex    = "AuthorApex"
	// PermModifyMetadata is Modify Metadata Through Metadata API
	// Functions: with Modify All Data, what every Metadata API call needs.
	PermModifyMetadata = "ModifyMetadata"
	// The bypass permissions: their fields exist only where
	// Behaviour.APIAccessControl, ApproveUninstalledAppsField or
	// UseAnyAPIAuthField says so (INVALID_FIELD otherwise).
	PermUseAnyAPIClient       = "UseAnyApiClient"
	PermCanApproveUninstalled = "CanApproveUninstalledApps"
	PermUseAnyAPIAuth         = "UseAnyApiAuth"
)

// allPerms lists every permission the fake models.
var allPerms = []string{PermAPIEnabled, PermManageUsers, PermCustomizeApplication, PermViewEventLogFiles, PermMonitorLoginHistory, PermViewAllUsers, PermViewSetup, PermViewAllData, PermAssignPermissionSets,
	PermModifyAllData, PermAuthorApex, PermModifyMetadata, PermUseAnyAPIClient, PermCanApproveUninstalled, PermUseAnyAPIAuth}

// permFieldExists says whether the org has a permission's PermissionSet
// field (nil: always).
var permFieldExists = map[string]func(o *Org) bool{
	PermUseAnyAPIClient:       func(o *Org) bool { return o.Behavior.APIAccessControl },
	PermCanApproveUninstalled: func(o *Org) bool { return o.Behavior.ApproveUninstalledAppsField },
	PermUseAnyAPIAuth:         func(o *Org) bool { return o.Behavior.UseAnyAPIAuthField },
}

// profilePerms are granted by the profile's permission set, whose
// assignment is always in force; the exporter's permission set grants the rest.
var profilePerms = map[string]bool{PermAPIEnabled: true, PermAssignPermissionSets: true}

// offByDefault are the permissions the exporter's permission set lacks
// until SetPermission grants them.
var offByDefault = map[string]bool{PermViewAllData: true, PermAssignPermissionSets: true,
	PermModifyAllData: true, PermAuthorApex: true, PermModifyMetadata: true, PermUseAnyAPIClient: true, PermCanApproveUninstalled: true, PermUseAnyAPIAuth: true}

// userGrant is a permission set assigned to another user of the org (one
// PermissionSet row and one PermissionSetAssignment row each).
type userGrant struct {
	user  int
	perms map[string]bool
	state string // an Assignment* state; AssignmentActive when ""
}

// GrantUser assigns user a permission set holding perms (Perm* names), in
// the given Assignment* state ("" for active). Only the org's other
// readers see it: the integration user's own permissions stay as
// SetPermission made them.
func (o *Org) GrantUser(user int, state string, perms ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("GrantUser", "user", user, len(o.users)) {
		return
	}
	g := userGrant{user: user, perms: map[string]bool{}, state: state}
	for _, p := range perms {
		g.perms[p] = true
	}
	o.grants = append(o.grants, g)
}

// Assignment states of the exporter's permission set (SetAssignment).
const (
	AssignmentActive   = "active"
	AssignmentInactive = "inactive" // IsActive false
	AssignmentExpired  = "expired"  // ExpirationDate in the past
	AssignmentRevoked  = "revoked"  // IsRevoked true (orgs with user access policies)
)

// permState is the integration user's permissions: the profile's permission
// set grants API Enabled, and an assigned permission set grants the rest.
// Effective permissions are the OR over the assignments that are in force,
// as in Salesforce: an inactive, expired or revoked assignment grants nothing.
type permState struct {
	set        map[string]bool // permissions of the exporter's permission set set by a test
	assignment string          // AssignmentActive when ""
}

// SetPermission grants or removes one permission (a Perm* name) of the
// integration user. Without Manage Users, LoginHistory and AuthSession
// silently shrink to the user's own rows, as in a real org (Monitor Login
// History still shows every login); no query fails. Without View Setup and
// Configuration, Assign Permission Sets and Manage Users, PermissionSetAssignment
// is not readable (INVALID_TYPE), as since Summer '20. Without View All Users
// the User records of others are hidden unless Behavior.PublicUserSharing.
func (o *Org) SetPermission(name string, granted bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.perms.set == nil {
		o.perms.set = map[string]bool{}
	}
	o.perms.set[name] = granted
}

// SetAssignment sets the state of the exporter's permission set assignment
// (an Assignment* name). Anything but AssignmentActive leaves the user with
// the profile's API Enabled only.
func (o *Org) SetAssignment(state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.perms.assignment = state
}

// inForce reports whether the exporter's permission set assignment grants
// its permissions. Called with o.mu held.
func (o *Org) inForce() bool {
	return o.perms.assignment == "" || o.perms.assignment == AssignmentActive
}

// inSet reports whether the exporter's permission set holds a permission,
// in force or not. Called with o.mu held.
func (o *Org) inSet(name string) bool {
	if g, ok := o.perms.set[name]; ok {
		return g
	}
	return !offByDefault[name]
}

// has reports an effective permission of the integration user. Called with o.mu held.
func (o *Org) has(name string) bool {
	if profilePerms[name] {
		return o.inSet(name)
	}
	return o.inForce() && o.inSet(name)
}

// permission set rows: 0 is the profile's (profilePerms), 1 the exporter's
// permission set (the rest), then one per GrantUser.
// They show what each set holds, whatever its assignment's state.
func (o *Org) permGranted(ps int, name string) bool {
	if ps >= 2 {
		return o.grants[ps-2].perms[name]
	}
	return profilePerms[name] == (ps == 0) && o.inSet(name)
}

// seesAllLogins and seesAllSessions are what the shrinking depends on.
func (o *Org) seesAllLogins() bool   { return o.has(PermManageUsers) || o.has(PermMonitorLoginHistory) }
func (o *Org) seesAllSessions() bool { return o.has(PermManageUsers) }

// seesUser reports whether the integration user can read user r's User
// record: with a Private org-wide default for users (the strict default),
// only its own without View All Users (or View All Data, which implies it).
func (o *Org) seesUser(r int) bool {
	return o.Behavior.PublicUserSharing || o.has(PermViewAllUsers) || o.has(PermViewAllData) || r == o.integrationUser
}

// readsAssignments reports whether PermissionSetAssignment is readable.
func (o *Org) readsAssignments() bool {
	return o.has(PermViewSetup) || o.has(PermAssignPermissionSets) || o.has(PermManageUsers)
}

func permissionObjects() []*objectDef {
	psFields := []*fieldDef{
		f("Id", true, true, func(_ *Org, r int) value { return strVal(makeID("0PS", r+1)) }),
		f("Name", true, true, func(_ *Org, r int) value {
			if r >= 2 {
				return strVal(fmt.Sprintf("Granted_%d", r-1))
			}
			return strVal([]string{"X00ex00000018ozh_128_09_04_12_1", "Salesforce_OAuth_Exporter"}[r])
		}),
		f("IsOwnedByProfile", true, true, func(_ *Org, r int) value { return boolVal(r == 0) }),
	}
	for _, p := range allPerms {
		fd := f("Permissions"+p, true, true, func(o *Org, r int) value { return boolVal(o.permGranted(r, p)) })
		fd.exists = permFieldExists[p]
		psFields = append(psFields, fd)
	}
	nSets := func(o *Org) int { return 2 + len(o.grants) }
	ps := &objectDef{
		name: "PermissionSet", idPrefix: "0PS",
		n:       nSets,
		visible: func(*Org, int) bool { return true },
		id:      func(_ *Org, r int) string { return makeID("0PS", r+1) },
		fields:  fields(psFields...),
	}
	// The exporter's assignment (row 1) takes the state SetAssignment gave it.
	state := func(o *Org, r int) string {
		switch {
		case r == 0:
			return AssignmentActive
		case r >= 2:
			return o.grants[r-2].state
		}
		return o.perms.assignment
	}
	assignee := func(o *Org, r int) int {
		if r >= 2 {
			return o.grants[r-2].user
		}
		return o.integrationUser
	}
	isActive := f("IsActive", true, true, func(o *Org, r int) value { return boolVal(state(o, r) != AssignmentInactive) })
	isActive.since = "52.0"
	expires := f("ExpirationDate", true, false, func(o *Org, r int) value {
		if state(o, r) == AssignmentExpired {
			return timeVal(o.nowLocked().Add(-24 * time.Hour))
		}
		if r >= 1 {
			return timeVal(o.nowLocked().Add(30 * 24 * time.Hour)) // in force: expires later
		}
		return value{}
	})
	expires.since = "52.0"
	revoked := f("IsRevoked", true, true, func(o *Org, r int) value { return boolVal(state(o, r) == AssignmentRevoked) })
	revoked.since = "57.0"
	revoked.exists = func(o *Org) bool { return o.Behavior.UserAccessPolicies }
	psa := &objectDef{
		name: "PermissionSetAssignment", idPrefix: "0Pa",
		n:       nSets,
		visible: func(*Org, int) bool { return true },
		access:  (*Org).readsAssignments,
		id:      func(_ *Org, r int) string { return makeID("0Pa", r+1) },
		fields: fields(
			f("Id", true, true, func(_ *Org, r int) value { return strVal(makeID("0Pa", r+1)) }),
			f("AssigneeId", true, true, func(o *Org, r int) value { return strVal(o.users[assignee(o, r)].ID) }),
			f("PermissionSetId", true, true, func(_ *Org, r int) value { return strVal(makeID("0PS", r+1)) }),
			isActive, expires, revoked,
		),
		rels: map[string]*relDef{
			"permissionset": {name: "PermissionSet", target: "permissionset", fk: func(_ *Org, r int) int { return r }},
			"assignee":      {name: "Assignee", target: "user", shared: true, fk: assignee},
		},
	}
	return []*objectDef{ps, psa}
}
