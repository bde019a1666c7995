package salesforce

import (
	"context"
	"time"
)

// LoginHistory is one login. Application and Status can't be filtered in
// SOQL, so callers filter on LoginTime and group in Go.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_loginhistory.htm
type LoginHistory struct {
	// ID tells apart rows read twice (a re-read overlap), even in one second.
	ID          string `json:"Id"`
	Application string `json:"Application"`
	Status      string `json:"Status"`
	LoginType   string `json:"LoginType"`
	// LoginSubType is the login flow ("OAuth Username-Password", or its
	// API name OauthUsernamePassword); empty when not read (LoginsOptions).
	LoginSubType string `json:"LoginSubType"`
	// APIType is the API a login() call came through ("SOAP Partner",
	// "SOAP Enterprise"); empty for other logins.
	APIType   string `json:"ApiType"`
	LoginTime Time   `json:"LoginTime"`
	// SourceIP is the address the login came from, or "Salesforce.com IP"
	// for Salesforce's own callers; UserID who logged in (for the review only).
	SourceIP string `json:"SourceIp"`
	UserID   string `json:"UserId"`
}

// LoginsOptions selects what Logins reads.
type LoginsOptions struct {
	// NoSubType leaves LoginSubType out of the query, for an org or API
	// version that answers it with INVALID_FIELD (ErrInvalidField).
	NoSubType bool
}

// Logins streams logins at or after since, oldest first.
func (c *Client) Logins(ctx context.Context, since time.Time, opts LoginsOptions, fn func(LoginHistory)) error {
	fields := "Id, Application, Status, LoginType, LoginSubType, ApiType, LoginTime, SourceIp, UserId"
	if opts.NoSubType {
		fields = "Id, Application, Status, LoginType, ApiType, LoginTime, SourceIp, UserId"
	}
	_, err := Stream(ctx, c, "SELECT "+fields+" FROM LoginHistory WHERE LoginTime >= "+SOQLTime(since)+" ORDER BY LoginTime ASC",
		func(l LoginHistory) bool { fn(l); return true })
	return err
}
