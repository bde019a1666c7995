package sftest

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
)

// allPerms lists every permission the fake models.
var allPerms = []string{PermAPIEnabled, PermManageUsers, PermCustomizeApplication, PermViewEventLogFiles, PermMonitorLoginHistory, PermViewAllUsers, PermViewSetup}

// permState is the integration user's permissions: the profile's permission
// set grants API Enabled, and an assigned permission set grants the rest.
// Effective permissions are the OR over both, as in Salesforce.
type permState struct {
	missing map[string]bool // permissions the exporter's permission set lacks
}

// SetPermission grants or removes one permission (a Perm* name) of the
// integration user. Without Manage Users, LoginHistory and AuthSession
// silently shrink to the user's own rows, as in a real org (Monitor Login
// History still shows every login); no query fails.
func (o *Org) SetPermission(name string, granted bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.perms.missing == nil {
		o.perms.missing = map[string]bool{}
	}
	o.perms.missing[name] = !granted
}

// has reports an effective permission of the integration user. Called with o.mu held.
func (o *Org) has(name string) bool { return !o.perms.missing[name] }

// permission set rows: 0 is the profile's, 1 the exporter's permission set.
func (o *Org) permGranted(ps int, name string) bool {
	if ps == 0 {
		return name == PermAPIEnabled && o.has(name)
	}
	return name != PermAPIEnabled && o.has(name)
}

// seesAllLogins and seesAllSessions are what the shrinking depends on.
func (o *Org) seesAllLogins() bool   { return o.has(PermManageUsers) || o.has(PermMonitorLoginHistory) }
func (o *Org) seesAllSessions() bool { return o.has(PermManageUsers) }

func permissionObjects() []*objectDef {
	psFields := []*fieldDef{
		f("Id", true, true, func(_ *Org, r int) value { return strVal(makeID("0PS", r+1)) }),
		f("Name", true, true, func(_ *Org, r int) value {
			return strVal([]string{"X00ex00000018ozh_128_09_04_12_1", "Salesforce_OAuth_Exporter"}[r])
		}),
		f("IsOwnedByProfile", true, true, func(_ *Org, r int) value { return boolVal(r == 0) }),
	}
	for _, p := range allPerms {
		psFields = append(psFields, f("Permissions"+p, true, true, func(o *Org, r int) value { return boolVal(o.permGranted(r, p)) }))
	}
	ps := &objectDef{
		name: "PermissionSet", idPrefix: "0PS",
		n:       func(*Org) int { return 2 },
		visible: func(*Org, int) bool { return true },
		id:      func(_ *Org, r int) string { return makeID("0PS", r+1) },
		fields:  fields(psFields...),
	}
	psa := &objectDef{
		name: "PermissionSetAssignment", idPrefix: "0Pa",
		n:       func(*Org) int { return 2 },
		visible: func(*Org, int) bool { return true },
		id:      func(_ *Org, r int) string { return makeID("0Pa", r+1) },
		fields: fields(
			f("Id", true, true, func(_ *Org, r int) value { return strVal(makeID("0Pa", r+1)) }),
			f("AssigneeId", true, true, func(o *Org, _ int) value { return strVal(o.users[o.integrationUser].ID) }),
			f("PermissionSetId", true, true, func(_ *Org, r int) value { return strVal(makeID("0PS", r+1)) }),
		),
		rels: map[string]*relDef{
			"permissionset": {name: "PermissionSet", target: "permissionset", fk: func(_ *Org, r int) int { return r }},
		},
	}
	return []*objectDef{ps, psa}
}
