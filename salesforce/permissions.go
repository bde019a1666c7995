package salesforce

import (
	"context"
	"errors"
	"fmt"
)

// UserPermissions are the running user's effective system permissions: the
// OR over its profile's permission set and every assigned permission set.
type UserPermissions struct {
	APIEnabled           bool
	ManageUsers          bool
	CustomizeApplication bool
	ViewEventLogFiles    bool
	MonitorLoginHistory  bool
	ViewAllUsers         bool
	ViewSetup            bool
	// Assignments is how many permission sets (the profile's included) were read.
	Assignments int
}

// SeesAllLogins reports whether LoginHistory shows every user's logins.
// Without Manage Users (or Monitor Login History) it silently shows only the
// running user's own: fewer rows, no error.
func (p UserPermissions) SeesAllLogins() bool { return p.ManageUsers || p.MonitorLoginHistory }

// SeesAllSessions reports whether AuthSession shows every user's sessions.
// Without Manage Users it silently shows only the running user's own.
func (p UserPermissions) SeesAllSessions() bool { return p.ManageUsers }

// SeesAllTokens reports whether OauthToken shows every user's tokens.
// Without Customize Application it shows only the running user's own.
func (p UserPermissions) SeesAllTokens() bool { return p.CustomizeApplication }

// permissionSetRow is one PermissionSetAssignment with its PermissionSet.
type permissionSetRow struct {
	PermissionSet *struct {
		PermissionsAPIEnabled           bool `json:"PermissionsApiEnabled"`
		PermissionsManageUsers          bool `json:"PermissionsManageUsers"`
		PermissionsCustomizeApplication bool `json:"PermissionsCustomizeApplication"`
		PermissionsViewEventLogFiles    bool `json:"PermissionsViewEventLogFiles"`
		PermissionsMonitorLoginHistory  bool `json:"PermissionsMonitorLoginHistory"`
		PermissionsViewAllUsers         bool `json:"PermissionsViewAllUsers"`
		PermissionsViewSetup            bool `json:"PermissionsViewSetup"`
	} `json:"PermissionSet"`
}

// ErrNoIdentity is returned when the token response named no running user
// (its id URL is missing or odd), so permissions cannot be looked up.
var ErrNoIdentity = errors.New("salesforce: token response has no identity URL")

// Permissions returns the running user's effective permissions, from the
// PermissionSetAssignment rows of the user named by the token's identity URL
// (a profile's permissions live in a permission set owned by the profile, so
// one query covers both). It logs in first when no token is held yet.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_permissionsetassignment.htm
func (c *Client) Permissions(ctx context.Context) (UserPermissions, error) {
	var p UserPermissions
	if _, err := c.auth.token(ctx, c.hc); err != nil {
		return p, err
	}
	id := c.Identity()
	if id.UserID == "" {
		return p, ErrNoIdentity
	}
	soql := "SELECT PermissionSet.PermissionsApiEnabled, PermissionSet.PermissionsManageUsers, PermissionSet.PermissionsCustomizeApplication, " +
		"PermissionSet.PermissionsViewEventLogFiles, PermissionSet.PermissionsMonitorLoginHistory, PermissionSet.PermissionsViewAllUsers, " +
		"PermissionSet.PermissionsViewSetup FROM PermissionSetAssignment WHERE AssigneeId = " + Quote(id.UserID)
	_, err := Stream(ctx, c, soql, func(r permissionSetRow) bool {
		p.Assignments++
		if ps := r.PermissionSet; ps != nil {
			p.APIEnabled = p.APIEnabled || ps.PermissionsAPIEnabled
			p.ManageUsers = p.ManageUsers || ps.PermissionsManageUsers
			p.CustomizeApplication = p.CustomizeApplication || ps.PermissionsCustomizeApplication
			p.ViewEventLogFiles = p.ViewEventLogFiles || ps.PermissionsViewEventLogFiles
			p.MonitorLoginHistory = p.MonitorLoginHistory || ps.PermissionsMonitorLoginHistory
			p.ViewAllUsers = p.ViewAllUsers || ps.PermissionsViewAllUsers
			p.ViewSetup = p.ViewSetup || ps.PermissionsViewSetup
		}
		return true
	})
	if err != nil {
		return p, fmt.Errorf("read the running user's permissions: %w", err)
	}
	return p, nil
}
