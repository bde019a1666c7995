package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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

// LoginHistory is one login. Application and Status can't be filtered in
// SOQL, so callers filter on LoginTime and group in Go.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_loginhistory.htm
type LoginHistory struct {
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
	_, err := Stream(ctx, c, "SELECT Application, Status, LoginType, LoginTime, SourceIp, UserId FROM LoginHistory WHERE LoginTime >= "+SOQLTime(since)+" ORDER BY LoginTime ASC",
		func(l LoginHistory) bool { fn(l); return true })
	return err
}

// ECA is one External Client App from the App OAuth Usage collection.
type ECA struct {
	Identifier    string `json:"identifier"`
	DeveloperName string `json:"developerName"`
	Name          string `json:"name"`
	Label         string `json:"label"`
	// UserCount is the app's number of OAuth users, when the org sends it
	// (undocumented: nil when absent). It is the cheap change signal that
	// lets a reader skip an app whose users did not change.
	UserCount *int64 `json:"userCount,omitempty"`
}

// DisplayName is the app's name as Setup shows it.
func (e ECA) DisplayName() string {
	for _, s := range []string{e.Name, e.Label, e.DeveloperName} {
		if s != "" {
			return s
		}
	}
	return e.Identifier
}

// ECAUser is one user of an External Client App. The keys inside a user item
// are not documented; UnmarshalJSON accepts the plausible spellings.
type ECAUser struct {
	UserIdentifier string `json:"userIdentifier"`
	Username       string `json:"username"`
}

// UnmarshalJSON reads the user id from userIdentifier, userId or id, and the
// name from username, userName or name.
func (u *ECAUser) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	u.UserIdentifier = firstString(m, "userIdentifier", "userId", "id", "identifier")
	u.Username = firstString(m, "username", "userName", "name")
	if u.UserIdentifier == "" {
		return fmt.Errorf("user item has no user id (keys %s)", keyList(m))
	}
	return nil
}

// ECAToken is one OAuth token of an External Client App user.
type ECAToken struct {
	AccessTokenFormat   string `json:"accessTokenFormat"`
	AppDeveloperName    string `json:"appDeveloperName"`
	AppIdentifier       string `json:"appIdentifier"`
	InitialConnectionAt Time   `json:"initialConnectionAt"`
	LastUsedAt          Time   `json:"lastUsedAt"`
	UseCount            int64  `json:"useCount"`
	UserIdentifier      string `json:"userIdentifier"`
	Username            string `json:"username"`
}

const ecaPageSize = 100

// ECAs lists External Client Apps with OAuth usage, page by page until a
// page comes back empty (nextPageUrl is present even on the last page).
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.chatterapi.meta/chatterapi/connect_resources_app_oauth_usage.htm
func (c *Client) ECAs(ctx context.Context) ([]ECA, error) {
	var out []ECA
	err := c.ecaPages(ctx, "apps/oauth/usage", func(raw json.RawMessage) (int, error) {
		var page struct {
			Apps []ECA `json:"apps"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return 0, err
		}
		out = append(out, page.Apps...)
		return len(page.Apps), nil
	})
	return out, err
}

// ECAUsers lists the users of one External Client App.
func (c *Client) ECAUsers(ctx context.Context, appID string) ([]ECAUser, error) {
	var out []ECAUser
	err := c.ecaPages(ctx, "apps/oauth/usage/"+url.PathEscape(appID)+"/users", func(raw json.RawMessage) (int, error) {
		var page map[string]json.RawMessage
		if err := json.Unmarshal(raw, &page); err != nil {
			return 0, err
		}
		var users []ECAUser
		if err := decodeCollection(page, &users, "users", "items"); err != nil {
			return 0, err
		}
		out = append(out, users...)
		return len(users), nil
	})
	return out, err
}

// ECATokens lists one user's tokens for one External Client App. The
// collection's array key is not documented: "tokens" is read when present,
// else the one array the response holds.
func (c *Client) ECATokens(ctx context.Context, appID, userID string) ([]ECAToken, error) {
	if userID == "" {
		return nil, errors.New("list External Client App tokens: the user item has no user id")
	}
	var page map[string]json.RawMessage
	if err := c.getJSON(ctx, "apps_oauth_usage", c.dataPath("apps/oauth/usage/"+url.PathEscape(appID)+"/"+url.PathEscape(userID)+"/tokens"), &page); err != nil {
		return nil, fmt.Errorf("list External Client App tokens: %w", err)
	}
	var toks []ECAToken
	if err := decodeCollection(page, &toks, "tokens", "oauthTokens", "items"); err != nil {
		return nil, fmt.Errorf("decode External Client App tokens: %w", err)
	}
	return toks, nil
}

// maxECAPages stops a collection that never returns an empty page.
const maxECAPages = 10000

func (c *Client) ecaPages(ctx context.Context, rel string, fn func(json.RawMessage) (int, error)) error {
	for page := 0; page < maxECAPages; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(ecaPageSize)}}
		resp, err := c.do(ctx, request{method: http.MethodGet, path: c.dataPath(rel), query: q, resource: "apps_oauth_usage"})
		if err != nil {
			return fmt.Errorf("list %s: %w", rel, err)
		}
		var raw json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("decode %s page %d: %w", rel, page, err)
		}
		n, err := fn(raw)
		if err != nil {
			return fmt.Errorf("decode %s page %d: %w", rel, page, err)
		}
		if n == 0 {
			return nil
		}
	}
	return fmt.Errorf("list %s: no empty page after %d pages", rel, maxECAPages)
}

// Revoke revokes a token (a DeleteToken, refresh token or access token) at
// /services/oauth2/revoke. The token goes in the POST body, never the URL.
//
// Salesforce API docs: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm
func (c *Client) Revoke(ctx context.Context, token string) error {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/services/oauth2/revoke", form: url.Values{"token": {token}}, resource: "revoke"})
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	resp.Body.Close()
	return nil
}
