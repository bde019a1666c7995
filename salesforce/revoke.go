package salesforce

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Revoke revokes a token (a DeleteToken, refresh token or access token) at
// /services/oauth2/revoke. The token goes in the POST body, never the URL.
//
// A revocation that works is a 200 with an empty body. Anything else is an
// error: a non-2xx (its body is an OAuth error, form-encoded as
// error=...&error_description=..., or JSON), and also a 200 whose body is not
// empty, such as {"error":"unsupported_token_type"} or an HTML login page
// served by a proxy or a session gone wrong, which revoke nothing. Such an
// error is an *APIError with StatusCode 200, and Code() gives the OAuth error
// code when the body holds one. A nil error means only that the endpoint
// answered as it does when it works: callers that must know the token is
// gone check that it is no longer listed.
//
// Salesforce API docs: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm
func (c *Client) Revoke(ctx context.Context, token string) error {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/services/oauth2/revoke", form: url.Values{"token": {token}}, resource: "revoke"})
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	defer resp.Body.Close()
	// The body is bounded by limitBody (MaxRevokeBytes); reading it whole is safe.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("revoke: read the response: %w", err)
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil
	}
	e := &APIError{StatusCode: resp.StatusCode, Method: resp.Request.Method, Path: resp.Request.URL.Path}
	e.Details, e.Body = ParseErrorBody(body)
	if len(e.Details) == 0 {
		kind := "an unexpected body"
		if looksHTML(resp.Header.Get("Content-Type"), body) {
			kind = "an HTML page (a login page or a proxy's page, not Salesforce's revoke endpoint)"
		}
		e.Body = "answered with " + kind + " instead of an empty body: " + e.Body
	}
	return fmt.Errorf("revoke: %w", e)
}

// looksHTML reports whether a response is an HTML page.
func looksHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	// Markup of any kind (<!doctype html>, <html>, an XML error page).
	return strings.HasPrefix(strings.TrimSpace(string(body[:min(len(body), 512)])), "<")
}
