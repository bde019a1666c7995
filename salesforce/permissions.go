package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// UserPermissions are the running user's effective system permissions: the
// OR over its profile's permission set and every permission set assignment
// in force (active, not expired, not revoked).
type UserPermissions struct {
	APIEnabled           bool
	ManageUsers          bool
	CustomizeApplication bool
	ViewEventLogFiles    bool
	MonitorLoginHistory  bool
	ViewAllUsers         bool
	ViewSetup            bool
	ViewAllData          bool
	// Assignments is how many permission sets (the profile's included) were read.
	Assignments int
	// NotInForce is how many of them grant nothing: inactive, expired or revoked.
	NotInForce int
}

// ReadsEventLogFiles reports whether EventLogFile is readable: View Event
// Log Files, or View All Data.
func (p UserPermissions) ReadsEventLogFiles() bool { return p.ViewEventLogFiles || p.ViewAllData }

// SeesAllUsers reports whether every User record is readable whatever the
// org-wide default for users: View All Users, or View All Data, which
// includes it. Without them, under a Private default, the user sees only its
// own User record (and OauthToken.User of others' tokens is null).
func (p UserPermissions) SeesAllUsers() bool { return p.ViewAllUsers || p.ViewAllData }

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
// IsActive and ExpirationDate exist from API 52.0, IsRevoked from 57.0 and
// only in orgs with user access policies on; nil when not selected.
type permissionSetRow struct {
	IsActive       *bool `json:"IsActive"`
	ExpirationDate *Time `json:"ExpirationDate"`
	IsRevoked      *bool `json:"IsRevoked"`
	PermissionSet  *struct {
		PermissionsAPIEnabled           bool `json:"PermissionsApiEnabled"`
		PermissionsManageUsers          bool `json:"PermissionsManageUsers"`
		PermissionsCustomizeApplication bool `json:"PermissionsCustomizeApplication"`
		PermissionsViewEventLogFiles    bool `json:"PermissionsViewEventLogFiles"`
		PermissionsMonitorLoginHistory  bool `json:"PermissionsMonitorLoginHistory"`
		PermissionsViewAllUsers         bool `json:"PermissionsViewAllUsers"`
		PermissionsViewSetup            bool `json:"PermissionsViewSetup"`
		PermissionsViewAllData          bool `json:"PermissionsViewAllData"`
	} `json:"PermissionSet"`
}

// inForce reports whether the assignment grants its permissions at now.
func (r permissionSetRow) inForce(now time.Time) bool {
	switch {
	case r.IsActive != nil && !*r.IsActive:
		return false
	case r.IsRevoked != nil && *r.IsRevoked:
		return false
	case r.ExpirationDate != nil && !r.ExpirationDate.IsZero() && !r.ExpirationDate.After(now):
		return false
	}
	return true
}

// ErrNoIdentity is returned when the token response named no running user
// (its id URL is missing or odd), so permissions cannot be looked up.
var ErrNoIdentity = errors.New("salesforce: token response has no identity URL")

// ReadPermissionsNeeds names what reading PermissionSetAssignment needs
// (Summer '20 and later): any one of them.
const ReadPermissionsNeeds = "View Setup and Configuration (or Assign Permission Sets, or Manage Users)"

// ErrPermissionsUnreadable is returned (wrapped) when the org refuses to
// show the running user's PermissionSetAssignment rows: the user lacks
// every permission ReadPermissionsNeeds names. What the user may see is then
// unknown.
var ErrPermissionsUnreadable = errors.New("salesforce: PermissionSetAssignment is not readable; grant " + ReadPermissionsNeeds)

// maxAssignments bounds the permission set assignments read for one user
// (Salesforce allows 1,000 per user).
const maxAssignments = 5000

// apiAtLeast reports whether the client's API version is v or later.
func (c *Client) apiAtLeast(v float64) bool {
	f, err := strconv.ParseFloat(c.apiVersion, 64)
	return err != nil || f >= v
}

// Permissions returns the running user's effective permissions, from the
// PermissionSetAssignment rows of the user named by the token's identity URL
// (a profile's permissions live in a permission set owned by the profile, so
// one query covers both). An assignment that is inactive, expired (by the
// org's clock) or revoked grants nothing. It logs in first when no token is
// held yet. When the org hides PermissionSetAssignment from the user, the
// error matches ErrPermissionsUnreadable.
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
	var state []string
	if c.apiAtLeast(52) {
		state = append(state, "IsActive", "ExpirationDate")
	}
	revoked := c.apiAtLeast(57) && !c.noRevokedField.Load()
	for {
		fields := state
		if revoked {
			fields = append(slices.Clip(state), "IsRevoked")
		}
		var err error
		p, err = c.permissions(ctx, id.UserID, fields)
		if revoked && errors.Is(err, ErrInvalidField) {
			// IsRevoked exists only where user access policies are on.
			revoked = false
			c.noRevokedField.Store(true)
			continue
		}
		if IsObjectRefused(err) {
			return p, fmt.Errorf("read the running user's permissions: %w (%w)", ErrPermissionsUnreadable, err)
		}
		if err != nil {
			return p, fmt.Errorf("read the running user's permissions: %w", err)
		}
		return p, nil
	}
}

func (c *Client) permissions(ctx context.Context, userID string, state []string) (UserPermissions, error) {
	var p UserPermissions
	soql := "SELECT PermissionSet.PermissionsApiEnabled, PermissionSet.PermissionsManageUsers, PermissionSet.PermissionsCustomizeApplication, " +
		"PermissionSet.PermissionsViewEventLogFiles, PermissionSet.PermissionsMonitorLoginHistory, PermissionSet.PermissionsViewAllUsers, " +
		"PermissionSet.PermissionsViewSetup, PermissionSet.PermissionsViewAllData"
	for _, f := range state {
		soql += ", " + f
	}
	soql += " FROM PermissionSetAssignment WHERE AssigneeId = " + Quote(userID)
	var rows []permissionSetRow
	_, err := Stream(ctx, c, soql, func(r permissionSetRow) bool {
		rows = append(rows, r)
		return len(rows) <= maxAssignments
	})
	if len(rows) > maxAssignments {
		return p, fmt.Errorf("the running user has over %d permission set assignments", maxAssignments)
	}
	if err != nil {
		return p, err
	}
	// Expiry is judged by the org's clock, known once a response came.
	now := c.ServerNow()
	for _, r := range rows {
		p.Assignments++
		if !r.inForce(now) {
			p.NotInForce++
			continue
		}
		if ps := r.PermissionSet; ps != nil {
			p.APIEnabled = p.APIEnabled || ps.PermissionsAPIEnabled
			p.ManageUsers = p.ManageUsers || ps.PermissionsManageUsers
			p.CustomizeApplication = p.CustomizeApplication || ps.PermissionsCustomizeApplication
			p.ViewEventLogFiles = p.ViewEventLogFiles || ps.PermissionsViewEventLogFiles
			p.MonitorLoginHistory = p.MonitorLoginHistory || ps.PermissionsMonitorLoginHistory
			p.ViewAllUsers = p.ViewAllUsers || ps.PermissionsViewAllUsers
			p.ViewSetup = p.ViewSetup || ps.PermissionsViewSetup
			p.ViewAllData = p.ViewAllData || ps.PermissionsViewAllData
		}
	}
	return p, err
}
