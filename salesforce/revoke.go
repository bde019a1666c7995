package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

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
