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
	LoginTime   Time   `json:"LoginTime"`
	// SourceIP is the address the login came from, or "Salesforce.com IP"
	// for Salesforce's own callers; UserID who logged in (for the review only).
	SourceIP string `json:"SourceIp"`
	UserID   string `json:"UserId"`
}

// Logins streams logins at or after since, oldest first.
func (c *Client) Logins(ctx context.Context, since time.Time, fn func(LoginHistory)) error {
	_, err := Stream(ctx, c, "SELECT Id, Application, Status, LoginType, LoginTime, SourceIp, UserId FROM LoginHistory WHERE LoginTime >= "+SOQLTime(since)+" ORDER BY LoginTime ASC",
		func(l LoginHistory) bool { fn(l); return true })
	return err
}
