package salesforce

import (
	"context"
	"errors"
)

// Session is what an API of the org other than REST needs to authenticate,
// such as the Pub/Sub API's gRPC metadata: the current access token, the
// instance URL and the org's Id. String never prints the token.
type Session struct {
	AccessToken string
	InstanceURL string
	OrgID       string
}

// String never prints the access token.
func (s Session) String() string {
	return "Session{InstanceURL:" + s.InstanceURL + " OrgID:" + s.OrgID + "}"
}

// Session returns the current session, fetching an access token when the
// client holds none (or only an expired one), exactly as a REST request would.
func (c *Client) Session(ctx context.Context) (Session, error) {
	tok, err := c.auth.token(ctx, c.hc)
	if err != nil {
		c.observe(RequestInfo{Resource: "token", Method: "POST", Err: err})
		return Session{}, err
	}
	c.setInstance(tok.Extra("instance_url"))
	id := c.Identity()
	if id.OrgID == "" {
		return Session{}, errors.New("session: the token response has no identity URL (id), so the org Id is unknown")
	}
	return Session{AccessToken: tok.AccessToken, InstanceURL: c.instanceURL().String(), OrgID: id.OrgID}, nil
}

// InvalidateSession drops the access token if it is still accessToken, so
// the next request or Session fetches a new one. Call it when another API
// refused the token (the Pub/Sub API's UNAUTHENTICATED).
func (c *Client) InvalidateSession(accessToken string) { c.auth.invalidate(accessToken) }
