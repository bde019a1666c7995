package salesforce

import (
	"context"
	"time"
)

// ConnectedApplication is a connected app defined or installed in the org.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_connectedapplication.htm
type ConnectedApplication struct {
	ID                                 string `json:"Id"`
	Name                               string `json:"Name"`
	OptionsAllowAdminApprovedUsersOnly *bool  `json:"OptionsAllowAdminApprovedUsersOnly"`
	CreatedDate                        Time   `json:"CreatedDate"`
}

// ConnectedApplications lists the org's connected apps.
func (c *Client) ConnectedApplications(ctx context.Context) ([]ConnectedApplication, error) {
	return collect[ConnectedApplication](ctx, c, "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly, CreatedDate FROM ConnectedApplication")
}

// AppMenuItem is an App Launcher item; for connected apps ApplicationId is the
// ConnectedApplication Id (15 characters).
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_appmenuitem.htm
type AppMenuItem struct {
	ID                        string `json:"Id"`
	ApplicationID             string `json:"ApplicationId"`
	Label                     string `json:"Label"`
	Name                      string `json:"Name"`
	Type                      string `json:"Type"`
	IsUsingAdminAuthorization *bool  `json:"IsUsingAdminAuthorization"`
}

// AppMenuItems lists the App Launcher items of connected apps and of External
// Client Apps (ApplicationId 0xI…, whatever their Type says: an ECA token's
// AppMenuItemId, when it has one, names such an item).
func (c *Client) AppMenuItems(ctx context.Context) ([]AppMenuItem, error) {
	var out []AppMenuItem
	_, err := Stream(ctx, c, "SELECT Id, ApplicationId, Label, Name, Type, IsUsingAdminAuthorization FROM AppMenuItem", func(m AppMenuItem) bool {
		if m.Type == "ConnectedApplication" || IsExternalClientAppID(m.ApplicationID) {
			out = append(out, m)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// User is the part of User the exporter reads.
type User struct {
	ID               string `json:"Id"`
	IsActive         bool   `json:"IsActive"`
	Username         string `json:"Username,omitempty"`
	LastModifiedDate Time   `json:"LastModifiedDate"`
	SystemModstamp   Time   `json:"SystemModstamp"`
}

// InactiveUsers streams the deactivated users (Id only).
func (c *Client) InactiveUsers(ctx context.Context, fn func(User)) error {
	_, err := Stream(ctx, c, "SELECT Id, IsActive, SystemModstamp FROM User WHERE IsActive = false", func(u User) bool { fn(u); return true })
	return err
}

// UsersModifiedSince streams users whose SystemModstamp is at or after t
// (activations and deactivations among them).
func (c *Client) UsersModifiedSince(ctx context.Context, t time.Time, fn func(User)) error {
	_, err := Stream(ctx, c, "SELECT Id, IsActive, SystemModstamp FROM User WHERE SystemModstamp >= "+SOQLTime(t), func(u User) bool { fn(u); return true })
	return err
}

// Identity is the running user and org, from the token's identity URL.
type Identity struct {
	UserID, OrgID string
}
