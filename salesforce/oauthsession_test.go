package salesforce_test

import (
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestSessionAndInvalidate: Session hands out the token the org issued with
// its instance URL and org Id; after InvalidateSession the next Session
// fetches a new token, and the String form never holds the token.
func TestSessionAndInvalidate(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c, err := salesforce.NewClient(salesforce.AuthConfig{
		Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	s1, err := c.Session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	issued := srv.IssuedAccessTokens()
	if len(issued) != 1 || s1.AccessToken != issued[0] {
		t.Fatalf("session token is not the one issued (%d issued)", len(issued))
	}
	if s1.InstanceURL != ts.URL || s1.OrgID == "" || !strings.HasPrefix(s1.AccessToken, s1.OrgID[:15]) {
		t.Errorf("session %v: want instance %s and the org's Id", s1, ts.URL)
	}
	if strings.Contains(s1.String(), s1.AccessToken) {
		t.Error("Session.String prints the access token")
	}
	again, err := c.Session(t.Context())
	if err != nil || again.AccessToken != s1.AccessToken {
		t.Fatalf("a second Session fetched a new token (err %v)", err)
	}
	c.InvalidateSession(s1.AccessToken)
	s2, err := c.Session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s2.AccessToken == s1.AccessToken || len(srv.IssuedAccessTokens()) != 2 {
		t.Errorf("InvalidateSession did not make Session fetch a new token")
	}
}
