package salesforce

import (
	"context"
	"fmt"
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

// AppMenuItems lists the App Launcher items of connected apps.
func (c *Client) AppMenuItems(ctx context.Context) ([]AppMenuItem, error) {
	return collect[AppMenuItem](ctx, c, "SELECT Id, ApplicationId, Label, Name, Type, IsUsingAdminAuthorization FROM AppMenuItem WHERE Type = 'ConnectedApplication'")
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

func collect[T any](ctx context.Context, c *Client, soql string) ([]T, error) {
	var out []T
	_, err := Stream(ctx, c, soql, func(v T) bool { out = append(out, v); return true })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TokenAggregate is one app's OauthToken totals from GROUP BY queries.
type TokenAggregate struct {
	AppName, AppMenuItemID string
	Tokens, Users, Uses    int64
	LastUsed, FirstCreated time.Time
	Stale                  int64
	InactiveTokens         int64
}

// TokenAggregates answers the per-app questions with four aggregate queries
// and one COUNT(), whatever the number of tokens. Whether OauthToken accepts
// GROUP BY is not documented. Any failure that is not about auth, the API
// limits or the context (a 400, a 5xx such as UNKNOWN_EXCEPTION, an empty or
// odd result, a total that disagrees with SELECT COUNT()) is an
// *AggregateError, which matches ErrAggregateUnsupported and
// ErrQueryRejected: the caller falls back to OauthTokens.
func (c *Client) TokenAggregates(ctx context.Context, staleBefore time.Time) ([]TokenAggregate, int64, error) {
	aggs, inactive, err := c.tokenAggregates(ctx, staleBefore)
	if err != nil {
		return nil, 0, asAggregateError(ctx, err)
	}
	var total int64
	for _, a := range aggs {
		total += a.Tokens
	}
	if err := c.VerifyAggregateTotal(ctx, "OauthToken", "", total); err != nil {
		return nil, 0, asAggregateError(ctx, err)
	}
	return aggs, inactive, nil
}

func (c *Client) tokenAggregates(ctx context.Context, staleBefore time.Time) ([]TokenAggregate, int64, error) {
	const group = " GROUP BY AppName, AppMenuItemId"
	byKey := map[[2]string]*TokenAggregate{}
	var order [][2]string
	get := func(r AggregateRecord) *TokenAggregate {
		k := [2]string{r.String("AppName"), r.String("AppMenuItemId")}
		a := byKey[k]
		if a == nil {
			a = &TokenAggregate{AppName: k[0], AppMenuItemID: k[1]}
			byKey[k] = a
			order = append(order, k)
		}
		return a
	}
	var firstErr error
	keep := func(err error) {
		if firstErr == nil && err != nil {
			firstErr = err
		}
	}
	rows, err := collect[AggregateRecord](ctx, c, "SELECT AppName, AppMenuItemId, COUNT(CreatedDate) tokens, COUNT_DISTINCT(UserId) users, SUM(UseCount) uses, MAX(LastUsedDate) lastUsed, MIN(CreatedDate) firstCreated FROM OauthToken"+group)
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate OauthToken: %w", err)
	}
	for _, r := range rows {
		a := get(r)
		var err error
		a.Tokens, err = r.Int("tokens")
		keep(err)
		a.Users, err = r.Int("users")
		keep(err)
		a.Uses, err = r.Int("uses")
		keep(err)
		lu, err := r.Time("lastUsed")
		keep(err)
		fc, err := r.Time("firstCreated")
		keep(err)
		a.LastUsed, a.FirstCreated = lu.Time, fc.Time
	}
	st := SOQLTime(staleBefore)
	rows, err = collect[AggregateRecord](ctx, c, "SELECT AppName, AppMenuItemId, COUNT(CreatedDate) n FROM OauthToken WHERE (LastUsedDate < "+st+") OR (LastUsedDate = null AND CreatedDate < "+st+")"+group)
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate stale OauthToken: %w", err)
	}
	for _, r := range rows {
		n, err := r.Int("n")
		keep(err)
		get(r).Stale = n
	}
	rows, err = collect[AggregateRecord](ctx, c, "SELECT AppName, AppMenuItemId, COUNT(CreatedDate) n FROM OauthToken WHERE User.IsActive = false"+group)
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate inactive-user OauthToken: %w", err)
	}
	for _, r := range rows {
		n, err := r.Int("n")
		keep(err)
		get(r).InactiveTokens = n
	}
	rows, err = collect[AggregateRecord](ctx, c, "SELECT COUNT_DISTINCT(UserId) users FROM OauthToken WHERE User.IsActive = false")
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate inactive users: %w", err)
	}
	var inactiveUsers int64
	if len(rows) > 0 {
		inactiveUsers, err = rows[0].Int("users")
		keep(err)
	}
	if firstErr != nil {
		return nil, 0, fmt.Errorf("decode OauthToken aggregates: %w", firstErr)
	}
	out := make([]TokenAggregate, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, inactiveUsers, nil
}
