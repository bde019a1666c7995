package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

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

// ExternalClientApplication is one External Client App as SOQL lists it.
// The object is not documented as queryable (the object reference marks it
// "for internal use only"), but real orgs answer SOQL on it (sfdx-hardis
// 7.5.0 reads Id, MasterLabel and DeveloperName): callers treat a refusal as
// "not known" and go on with the App OAuth Usage collection.
type ExternalClientApplication struct {
	ID                string `json:"Id"`
	MasterLabel       string `json:"MasterLabel"`
	DeveloperName     string `json:"DeveloperName"`
	DistributionState string `json:"DistributionState"`
}

// maxExternalClientApps bounds the ExternalClientApplication rows read.
const maxExternalClientApps = 10000

// ExternalClientApplications lists the org's External Client Apps.
func (c *Client) ExternalClientApplications(ctx context.Context) ([]ExternalClientApplication, error) {
	var out []ExternalClientApplication
	var over bool
	_, err := Stream(ctx, c, "SELECT Id, MasterLabel, DeveloperName, DistributionState FROM ExternalClientApplication", func(e ExternalClientApplication) bool {
		if len(out) >= maxExternalClientApps {
			over = true
			return false
		}
		out = append(out, e)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list ExternalClientApplication: %w", err)
	}
	if over {
		return nil, fmt.Errorf("list ExternalClientApplication: more than %d rows; the exporter reads at most that many", maxExternalClientApps)
	}
	return out, nil
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

// ecaPages reads a page-numbered Connect collection through walkPages: page
// 0, 1, ... until fn finds a page empty. nextPageUrl is not followed, since it
// is present even on the last page.
func (c *Client) ecaPages(ctx context.Context, rel string, fn func(json.RawMessage) (int, error)) error {
	query := func(page int) url.Values {
		return url.Values{"page": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(ecaPageSize)}}
	}
	first := request{method: http.MethodGet, path: c.dataPath(rel), query: query(0), resource: "apps_oauth_usage"}
	_, err := c.walkPages(ctx, first, "list "+rel, maxECAPages, func(n int, body io.Reader) (*nextPage, error) {
		page := n - 1
		var raw json.RawMessage
		if err := json.NewDecoder(body).Decode(&raw); err != nil {
			return nil, fmt.Errorf("decode %s page %d: %w", rel, page, err)
		}
		items, err := fn(raw)
		if err != nil {
			return nil, fmt.Errorf("decode %s page %d: %w", rel, page, err)
		}
		if items == 0 {
			return nil, nil
		}
		return &nextPage{query: query(page + 1)}, nil
	})
	return err
}
