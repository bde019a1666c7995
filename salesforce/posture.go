package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AppPolicy is the part of a connected app's OAuth policy that
// ConnectedApplication exposes to SOQL. Scopes, IP relaxation and PKCE are
// not among its fields (they live in the Metadata API's ConnectedApp), so
// they are not read. A nil field is one the org left null.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_connectedapplication.htm
type AppPolicy struct {
	ID   string `json:"Id"`
	Name string `json:"Name"`
	// AdminApprovedOnly: only users an administrator approved may use the
	// app (Permitted Users); false lets all users self-authorize.
	AdminApprovedOnly *bool `json:"OptionsAllowAdminApprovedUsersOnly"`
	// RefreshByInactivity: the refresh token's validity is judged from its
	// last use (an idle expiry) rather than from its issue.
	RefreshByInactivity *bool `json:"OptionsRefreshTokenValidityMetric"`
	// RefreshPeriod is the refresh token's validity "in hours, months, or
	// days": the unit is not exposed. Null or 0 when tokens are valid until
	// revoked.
	RefreshPeriod *int64 `json:"RefreshTokenValidityPeriod"`
	// HighAssurance: the app requires a high-assurance session.
	HighAssurance *bool `json:"OptionsHasSessionLevelPolicy"`
}

// maxAppPolicies bounds the ConnectedApplication rows read.
const maxAppPolicies = 10000

// AppPolicies reads the OAuth policy fields of every connected app.
func (c *Client) AppPolicies(ctx context.Context) ([]AppPolicy, error) {
	var out []AppPolicy
	_, err := Stream(ctx, c, "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly, OptionsRefreshTokenValidityMetric, RefreshTokenValidityPeriod, OptionsHasSessionLevelPolicy FROM ConnectedApplication", func(p AppPolicy) bool {
		out = append(out, p)
		return len(out) <= maxAppPolicies
	})
	if len(out) > maxAppPolicies {
		return nil, fmt.Errorf("ConnectedApplication: over %d connected apps; the posture source reads at most that many", maxAppPolicies)
	}
	return out, err
}

// ECAPolicy is the part of an External Client App's OAuth policy
// (ExtlClntAppOauthPlcyCnfg) the posture reads: only the fields public audit
// tools query. PermittedUsersPolicyType is AdminApprovedPreAuthorized or
// AllSelfAuthorized (Metadata API ExtlClntAppOauthConfigurablePolicies).
type ECAPolicy struct {
	AppID          string `json:"ExternalClientApplicationId"`
	PermittedUsers string `json:"PermittedUsersPolicyType"`
}

// ECAPolicies reads the External Client Apps' permitted users policy.
func (c *Client) ECAPolicies(ctx context.Context) ([]ECAPolicy, error) {
	var out []ECAPolicy
	_, err := Stream(ctx, c, "SELECT ExternalClientApplicationId, PermittedUsersPolicyType FROM ExtlClntAppOauthPlcyCnfg", func(p ECAPolicy) bool {
		out = append(out, p)
		return len(out) <= maxAppPolicies
	})
	if len(out) > maxAppPolicies {
		return nil, fmt.Errorf("ExtlClntAppOauthPlcyCnfg: over %d policies; the posture source reads at most that many", maxAppPolicies)
	}
	return out, err
}

// The permissions that widen what a user's token reaches, as PermissionSet
// names them without the "Permissions" prefix.
const (
	PermModifyAllData        = "ModifyAllData"
	PermViewAllData          = "ViewAllData"
	PermManageUsers          = "ManageUsers"
	PermCustomizeApplication = "CustomizeApplication"
	PermAuthorApex           = "AuthorApex"
	PermAPIEnabled           = "ApiEnabled"
)

// BlastPermissions are the permissions a blast radius counts, in order.
var BlastPermissions = []string{PermModifyAllData, PermViewAllData, PermManageUsers, PermCustomizeApplication, PermAuthorApex, PermAPIEnabled}

// The permissions that let a user past the org's control of API clients.
// Their PermissionSet fields exist only in some orgs: UseAnyApiClient
// where API Access Control is on, CanApproveUninstalledApps ("Approve
// Uninstalled Connected Apps") where the feature is enabled, UseAnyApiAuth
// from Summer '26. A field the org lacks is INVALID_FIELD.
const (
	PermUseAnyAPIClient           = "UseAnyApiClient"
	PermApproveUninstalledApps    = "CanApproveUninstalledApps"
	PermUseAnyAPIAuth             = "UseAnyApiAuth"
	userPermissionIDsPerQuery     = 200   // ids in one IN list: about 4 KB of SOQL
	maxAssignmentsPerPostureQuery = 50000 // rows of one query
)

// BypassPermissions are the bypass permissions counted per org, in order.
var BypassPermissions = []string{PermUseAnyAPIClient, PermApproveUninstalledApps, PermUseAnyAPIAuth}

// assignmentRow is one PermissionSetAssignment with the fields a posture
// read asks for.
type assignmentRow struct {
	AssigneeID     string         `json:"AssigneeId"`
	IsActive       *bool          `json:"IsActive"`
	ExpirationDate *Time          `json:"ExpirationDate"`
	PermissionSet  map[string]any `json:"PermissionSet"`
}

func (r assignmentRow) inForce(now time.Time) bool {
	return permissionSetRow{IsActive: r.IsActive, ExpirationDate: r.ExpirationDate}.inForce(now)
}

// UserPermissionSets reads the effective BlastPermissions of the users
// named, from their PermissionSetAssignment rows (the profile's included),
// userPermissionIDsPerQuery ids a query. It returns each user's
// permissions as a bit set (bit i: BlastPermissions[i]; users without any
// are absent) and the number of queries made. Assignments that are
// inactive or expired grant nothing.
func (c *Client) UserPermissionSets(ctx context.Context, userIDs []string) (map[string]uint8, int, error) {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	fields := make([]string, 0, len(BlastPermissions)+3)
	fields = append(fields, "AssigneeId")
	if c.apiAtLeast(52) {
		fields = append(fields, "IsActive", "ExpirationDate")
	}
	for _, p := range BlastPermissions {
		fields = append(fields, "PermissionSet.Permissions"+p)
	}
	out := map[string]uint8{}
	calls := 0
	for start := 0; start < len(ids); start += userPermissionIDsPerQuery {
		chunk := ids[start:min(start+userPermissionIDsPerQuery, len(ids))]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = Quote(id)
		}
		soql := "SELECT " + strings.Join(fields, ", ") + " FROM PermissionSetAssignment WHERE AssigneeId IN (" + strings.Join(quoted, ", ") + ")"
		calls++
		var rows []assignmentRow
		_, err := Stream(ctx, c, soql, func(r assignmentRow) bool {
			rows = append(rows, r)
			return len(rows) <= maxAssignmentsPerPostureQuery
		})
		if len(rows) > maxAssignmentsPerPostureQuery {
			return nil, calls, fmt.Errorf("PermissionSetAssignment: over %d assignments for %d users; the blast radius is not read", maxAssignmentsPerPostureQuery, len(chunk))
		}
		if err != nil {
			return nil, calls, err
		}
		// Expiry is judged by the org's clock, known once a response came.
		now := c.ServerNow()
		for _, r := range rows {
			if !r.inForce(now) {
				continue
			}
			var bits uint8
			for i, p := range BlastPermissions {
				if v, _ := r.PermissionSet["Permissions"+p].(bool); v {
					bits |= 1 << i
				}
			}
			if bits != 0 {
				out[ID(r.AssigneeID).Key()] |= bits
			}
		}
	}
	return out, calls, nil
}

// ErrPermissionFieldAbsent is returned (wrapped) when the org has no
// PermissionSet field for a permission: the feature is off, or the org's
// release predates it.
var ErrPermissionFieldAbsent = errors.New("salesforce: the org has no such permission field")

// PermissionHolders counts the distinct active users holding a permission
// (a PermissionSet field name without its prefix) through an assignment in
// force. A field the org lacks is ErrPermissionFieldAbsent.
func (c *Client) PermissionHolders(ctx context.Context, perm string) (int, error) {
	fields := "AssigneeId"
	if c.apiAtLeast(52) {
		fields += ", IsActive, ExpirationDate"
	}
	soql := "SELECT " + fields + " FROM PermissionSetAssignment WHERE PermissionSet.Permissions" + perm + " = true AND Assignee.IsActive = true"
	var rows []assignmentRow
	_, err := Stream(ctx, c, soql, func(r assignmentRow) bool {
		rows = append(rows, r)
		return len(rows) <= maxAssignmentsPerPostureQuery
	})
	if len(rows) > maxAssignmentsPerPostureQuery {
		return 0, fmt.Errorf("PermissionSetAssignment: over %d assignments grant %s; its holders are not counted", maxAssignmentsPerPostureQuery, perm)
	}
	if errors.Is(err, ErrInvalidField) {
		return 0, fmt.Errorf("%w: PermissionSet.Permissions%s (%w)", ErrPermissionFieldAbsent, perm, err)
	}
	if err != nil {
		return 0, err
	}
	now := c.ServerNow()
	holders := map[string]struct{}{}
	for _, r := range rows {
		if r.inForce(now) {
			holders[ID(r.AssigneeID).Key()] = struct{}{}
		}
	}
	return len(holders), err
}
