package salesforce_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

func TestDefaultAudience(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://acme.my.salesforce.com":               salesforce.AudienceProduction,
		"https://login.salesforce.com":                 salesforce.AudienceProduction,
		"https://test.salesforce.com":                  salesforce.AudienceSandbox,
		"https://acme--uat.sandbox.my.salesforce.com":  salesforce.AudienceSandbox,
		"https://ACME--UAT.SANDBOX.MY.SALESFORCE.COM/": salesforce.AudienceSandbox,
		"https://acme--dev.my.salesforce.com":          salesforce.AudienceSandbox,
		"https://acme.my.site.com":                     salesforce.AudienceProduction,
		"http://127.0.0.1:8080":                        salesforce.AudienceProduction,
	} {
		if got := salesforce.DefaultAudience(in); got != want {
			t.Errorf("DefaultAudience(%q) = %q, want %q", in, got, want)
		}
	}
}

// A JWT config without audience, with a My Domain login_url, logs in to an
// org that refuses a My Domain as aud (as real orgs have); the explicit
// override still reaches the token endpoint as given.
func TestJWTAudienceStrictOrg(t *testing.T) {
	t.Parallel()
	key, keyPEM := rsaKeyPEM(t, false)
	creds := sftest.TestCredentials
	creds.PublicKey = &key.PublicKey
	srv, ts := sftest.Start(t, smallOrg(), creds)
	login := func(aud string) error {
		c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, LoginURL: ts.URL, ClientID: creds.ClientID,
			Username: creds.Username, PrivateKey: keyPEM, Audience: aud}, salesforce.WithRetry(0, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Limits(t.Context())
		return err
	}
	if err := login(""); err != nil {
		t.Fatalf("default audience refused by a strict org: %v", err)
	}
	if err := login(ts.URL); err == nil || !strings.Contains(err.Error(), "audience is invalid") {
		t.Fatalf("My Domain audience: err = %v, want audience is invalid from a strict org", err)
	}
	srv.AcceptMyDomainAudience(true)
	if err := login(ts.URL); err != nil {
		t.Fatalf("explicit audience on a lenient org: %v", err)
	}
}

// The client keeps its access token until a 401 instead of logging in every
// 15 minutes: each login counts against the exporter's own app.
func TestTokenKeptUntil401(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	now := time.Now()
	c := newClient(t, ts.URL, salesforce.WithClock(func() time.Time { return now }))
	for range 12 {
		if _, err := c.Limits(t.Context()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(30 * time.Minute) // six hours in all
	}
	if n := srv.Requests()["token"]; n != 1 {
		t.Fatalf("%d logins over 6 hours without a 401, want 1", n)
	}
	srv.ExpireSessions()
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("after the session expired: %v", err)
	}
	if n := srv.Requests()["token"]; n != 2 {
		t.Fatalf("%d logins after one 401, want 2", n)
	}
}


// "ConcurrentPerOrgLongTxn Limit exceeded" is REQUEST_LIMIT_EXCEEDED too, but
// it clears in seconds: a brief backoff, not the daily-limit block.
func TestConcurrentLimitIsTransient(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	c := newClient(t, ts.URL, salesforce.WithLimitBlock(15*time.Minute))
	srv.Inject(sftest.ConcurrentLimitFault("/limits", 2))
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("a transient concurrent limit failed the call: %v", err)
	}
	if n := srv.Requests()["limits"]; n != 3 {
		t.Fatalf("%d /limits requests, want 3 (two refused, one retried through)", n)
	}
	srv.Inject(sftest.ConcurrentLimitFault("/limits", 10))
	_, err := c.Limits(t.Context())
	if errors.Is(err, salesforce.ErrRequestLimitExceeded) || !errors.Is(err, salesforce.ErrConcurrentRequestLimit) {
		t.Fatalf("err = %v, want ErrConcurrentRequestLimit and not the daily limit", err)
	}
	srv.ClearFaults()
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("the client blocked itself after a concurrent limit: %v", err)
	}
	// The daily allocation still blocks.
	srv.Inject(sftest.Fault{Path: "/limits", Status: 403, Body: `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`})
	if _, err := c.Limits(t.Context()); !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Fatalf("err = %v, want ErrRequestLimitExceeded", err)
	}
	if _, err := c.Limits(t.Context()); !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Fatalf("err = %v, want the daily limit to block", err)
	}
}
