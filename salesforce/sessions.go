package salesforce

import (
	"context"
	"time"
)

// AuthSession is an active or expired session; for OAuth sessions the app
// is only known through the login that created (or last reused) the session.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_authsession.htm
type AuthSession struct {
	SessionType      string `json:"SessionType"`
	LastModifiedDate Time   `json:"LastModifiedDate"`
	NumSecondsValid  int64  `json:"NumSecondsValid"`
	LoginHistory     *struct {
		Application string `json:"Application"`
	} `json:"LoginHistory"`
}

// Active reports whether the session is still valid at now
// (LastModifiedDate + NumSecondsValid > now).
func (s AuthSession) Active(now time.Time) bool {
	return s.LastModifiedDate.Add(time.Duration(s.NumSecondsValid) * time.Second).After(now)
}

// Application is LoginHistory.Application, or "" when the session has no login row.
func (s AuthSession) Application() string {
	if s.LoginHistory == nil {
		return ""
	}
	return s.LoginHistory.Application
}

// OAuthSessions streams OAuth 2.0 sessions modified at or after since.
func (c *Client) OAuthSessions(ctx context.Context, since time.Time, fn func(AuthSession)) error {
	_, err := Stream(ctx, c, "SELECT SessionType, LastModifiedDate, NumSecondsValid, LoginHistory.Application FROM AuthSession WHERE SessionType = 'Oauth2' AND LastModifiedDate >= "+SOQLTime(since),
		func(s AuthSession) bool { fn(s); return true })
	return err
}
