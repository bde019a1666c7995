package salesforce_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

func newClient(t *testing.T, url string, opts ...salesforce.Option) *salesforce.Client {
	t.Helper()
	c, err := salesforce.NewClient(salesforce.AuthConfig{
		Flow: salesforce.FlowClientCredentials, LoginURL: url,
		ClientID: sftest.TestCredentials.ClientID, ClientSecret: sftest.TestCredentials.ClientSecret,
	}, append([]salesforce.Option{salesforce.WithRetry(3, time.Millisecond), salesforce.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// smallOrg has 3 apps, 5 users and tokens with known answers.
func smallOrg() *sftest.Org {
	org := sftest.NewOrg()
	org.SetNow(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	now := org.Now()
	a := org.AddApp(sftest.App{Name: "Salesforce Mobile App", Installed: true})
	b := org.AddApp(sftest.App{Name: "Data Loader", Installed: true})
	x := org.AddApp(sftest.App{Name: "Phantom", Installed: false})
	var users []int
	for i := range 5 {
		users = append(users, org.AddUser(fmt.Sprintf("u%d@example.com", i), i != 4))
	}
	org.AddToken(sftest.TokenSpec{User: users[0], App: a, Created: now.Add(-200 * 24 * time.Hour), LastUsed: now.Add(-time.Hour), UseCount: 10})
	org.AddToken(sftest.TokenSpec{User: users[0], App: a, Created: now.Add(-100 * 24 * time.Hour), UseCount: 0})
	org.AddToken(sftest.TokenSpec{User: users[1], App: a, Created: now.Add(-10 * 24 * time.Hour), LastUsed: now.Add(-2 * time.Hour), UseCount: 5})
	org.AddToken(sftest.TokenSpec{User: users[4], App: b, Created: now.Add(-400 * 24 * time.Hour), LastUsed: now.Add(-95 * 24 * time.Hour), UseCount: 7})
	org.AddToken(sftest.TokenSpec{User: users[2], App: x, Created: now.Add(-3 * 24 * time.Hour), LastUsed: now.Add(-time.Minute), UseCount: 1})
	return org
}

func TestQueryStreamsNestedNullsAndDatetimes(t *testing.T) {
	t.Parallel()
	_, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	c := newClient(t, ts.URL)
	var rows []salesforce.OauthToken
	stats, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{}, func(tk salesforce.OauthToken) { rows = append(rows, tk) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || stats.Count != 5 {
		t.Fatalf("got %d rows, count %d; want 5", len(rows), stats.Count)
	}
	var inactive, neverUsed, uninstalled int
	for _, r := range rows {
		if !r.UserActive() {
			inactive++
		}
		if r.LastUsedDate.IsZero() {
			neverUsed++
		}
		if r.AppMenuItemID == "" {
			uninstalled++
		}
		if r.CreatedDate.IsZero() || r.CreatedDate.Location() != time.UTC {
			t.Errorf("CreatedDate not decoded as UTC: %v", r.CreatedDate)
		}
	}
	if inactive != 1 || neverUsed != 1 || uninstalled != 1 {
		t.Errorf("inactive=%d neverUsed=%d uninstalled=%d, want 1 each", inactive, neverUsed, uninstalled)
	}
}

// TestOauthTokensCapAndSharedCreatedDate: 10,000 tokens, 3,000 of them in one
// second; every token must come back exactly once, whichever totalSize the org
// reports at the cap.
func TestOauthTokensCapAndSharedCreatedDate(t *testing.T) {
	t.Parallel()
	for _, capped := range []bool{false, true} {
		t.Run(fmt.Sprintf("cappedTotalSize=%v", capped), func(t *testing.T) {
			t.Parallel()
			org := sftest.NewOrg()
			org.Behavior.CappedTotalSize = capped
			now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			org.SetNow(now)
			apps := []int{org.AddApp(sftest.App{Name: "A", Installed: true}), org.AddApp(sftest.App{Name: "B", Installed: true})}
			var users []int
			for i := range 3500 {
				users = append(users, org.AddUser(fmt.Sprintf("u%d@example.com", i), true))
			}
			shared := now.Add(-48 * time.Hour).Add(123 * time.Millisecond)
			for i := range 3000 {
				org.AddToken(sftest.TokenSpec{User: users[i], App: apps[i%2], Created: shared})
			}
			for i := range 7000 {
				org.AddToken(sftest.TokenSpec{User: users[i%3500], App: apps[(i/3500+1)%2], Created: now.Add(-time.Duration(i+1) * 37 * time.Minute)})
			}
			srv, ts := sftest.Start(t, org, sftest.TestCredentials)
			c := newClient(t, ts.URL)
			seen := map[string]int{}
			stats, err := c.OauthTokens(t.Context(), salesforce.TokenQuery{Concurrency: 4}, func(tk salesforce.OauthToken) {
				seen[tk.UserID+"|"+tk.AppName+"|"+tk.CreatedDate.String()]++
			})
			if err != nil {
				t.Fatal(err)
			}
			if stats.Rows != 10000 || len(seen) != 10000 {
				t.Fatalf("rows %d, distinct %d; want 10000", stats.Rows, len(seen))
			}
			for k, n := range seen {
				if n != 1 {
					t.Fatalf("token %s delivered %d times", k, n)
				}
			}
			if got := srv.Requests()["query:OauthToken"]; got != stats.Requests {
				t.Errorf("server saw %d OauthToken requests, client counted %d", got, stats.Requests)
			}
			if srv.SecretFieldSelections() != 0 {
				t.Error("AccessToken or RequestToken was selected")
			}
		})
	}
}

func TestUnauthorizedMidCursorRefreshesOnce(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	for i := range 5000 {
		org.AddUser(fmt.Sprintf("x%d@example.com", i), false)
	}
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	n := 0
	err := c.InactiveUsers(t.Context(), func(salesforce.User) {
		n++
		if n == 1 {
			srv.ExpireSessions() // the next page meets a 401
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5000 {
		t.Fatalf("got %d users, want 5000", n)
	}
	if got := srv.Requests()["token"]; got != 2 {
		t.Errorf("token requests = %d, want 2 (one refresh)", got)
	}
}

func TestRequestLimitExceededNotRetried(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	org.SetAPILimit(100, 100)
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	_, err := c.Limits(t.Context())
	if !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Fatalf("err = %v, want ErrRequestLimitExceeded", err)
	}
	if got := srv.APICalls(); got != 1 {
		t.Errorf("API calls = %d, want 1 (no retry)", got)
	}
	// Calls fail fast afterwards without spending requests.
	_, err = c.Limits(t.Context())
	if !errors.Is(err, salesforce.ErrRequestLimitExceeded) || srv.APICalls() != 1 {
		t.Errorf("second call: err=%v calls=%d; want fast failure", err, srv.APICalls())
	}
}

const html503 = "<html><head><title>Service Unavailable</title></head><body><h1>Down for maintenance</h1></body></html>"

func TestHTML503RetriedThenReported(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	srv.Inject(sftest.Fault{Path: "/limits", Count: 2, Status: 503, Body: html503, ContentType: "text/html"})
	c := newClient(t, ts.URL)
	l, err := c.Limits(t.Context())
	if err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if l["DailyApiRequests"].Max == 0 {
		t.Errorf("limits not decoded: %+v", l)
	}
	if _, ok := l["Ant Migration Tool"]; ok {
		t.Error("per-app sub-limit leaked into top-level limits")
	}
	srv.Inject(sftest.Fault{Path: "/limits", Count: 10, Status: 502, Body: html503, ContentType: "text/html"})
	_, err = c.Limits(t.Context())
	var apiErr *salesforce.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Fatalf("err = %v, want a 502 APIError", err)
	}
	if strings.Contains(err.Error(), "<") || !strings.Contains(err.Error(), "Down for maintenance") {
		t.Errorf("error text %q: want the page's text without markup", err)
	}
}

func TestJSON503BurstRecovers(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	srv.Inject(sftest.Fault{Path: "/query", Count: 3, Status: 503, Body: `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]`})
	c := newClient(t, ts.URL)
	apps, err := c.ConnectedApplications(t.Context())
	if err != nil || len(apps) != 2 {
		t.Fatalf("apps=%d err=%v; want 2 installed apps", len(apps), err)
	}
}

func TestInvalidFieldIsTyped(t *testing.T) {
	t.Parallel()
	_, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	c := newClient(t, ts.URL)
	_, err := salesforce.Stream(t.Context(), c, "SELECT Id FROM LoginHistory WHERE Application = 'x'", func(salesforce.User) bool { return true })
	if !errors.Is(err, salesforce.ErrInvalidField) || !strings.Contains(err.Error(), "can not be filtered") {
		t.Fatalf("err = %v, want INVALID_FIELD can not be filtered", err)
	}
}

func TestAggregatesBothBehaviours(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	stale := org.Now().Add(-90 * 24 * time.Hour)
	if _, _, err := c.TokenAggregates(t.Context(), stale); !errors.Is(err, salesforce.ErrQueryRejected) {
		t.Fatalf("default org: err = %v, want ErrQueryRejected", err)
	}
	org.Behavior.OauthTokenAggregates = true
	aggs, inactiveUsers, err := c.TokenAggregates(t.Context(), stale)
	if err != nil {
		t.Fatal(err)
	}
	truth, wantInactive := org.GroundTruth(90 * 24 * time.Hour)
	if int(inactiveUsers) != wantInactive {
		t.Errorf("inactive users = %d, want %d", inactiveUsers, wantInactive)
	}
	if len(aggs) != len(truth) {
		t.Fatalf("%d aggregates, want %d", len(aggs), len(truth))
	}
	for _, a := range aggs {
		w := truth[a.AppName]
		if int(a.Tokens) != w.Tokens || int(a.Users) != w.Users || a.Uses != w.Uses || int(a.Stale) != w.Stale || int(a.InactiveTokens) != w.InactiveTokens {
			t.Errorf("%s: got %+v, want %+v", a.AppName, a, w)
		}
		if !a.FirstAuthorized.Equal(w.FirstAuthorized) || !a.LastUsed.Equal(w.LastUsed) {
			t.Errorf("%s: times got %v/%v want %v/%v", a.AppName, a.FirstAuthorized, a.LastUsed, w.FirstAuthorized, w.LastUsed)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	srv, ts := sftest.Start(t, smallOrg(), sftest.TestCredentials)
	srv.SetLatency(time.Second)
	c := newClient(t, ts.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Limits(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func rsaKeyPEM(t *testing.T, pkcs8 bool) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if pkcs8 {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// Canary secrets: none may appear in any error text.
const (
	canarySecret  = "CANARY-secret-7f3a"
	canaryRefresh = "CANARY-refresh-91bc"
	canaryPass    = "CANARY-password-55de"
)

func TestAuthFlows(t *testing.T) {
	t.Parallel()
	key, keyPEM := rsaKeyPEM(t, false)
	_, otherPEM := rsaKeyPEM(t, true)
	creds := sftest.TestCredentials
	creds.PublicKey = &key.PublicKey
	tests := []struct {
		name    string
		auth    salesforce.AuthConfig
		wantErr string
	}{
		{"jwt", salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, ClientID: creds.ClientID, Username: creds.Username, PrivateKey: keyPEM}, ""},
		{"jwt wrong key", salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, ClientID: creds.ClientID, Username: creds.Username, PrivateKey: otherPEM}, "invalid_grant"},
		{"jwt wrong user", salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, ClientID: creds.ClientID, Username: "nobody@example.com", PrivateKey: keyPEM}, "hasn't approved"},
		{"jwt wrong audience", salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, ClientID: creds.ClientID, Username: creds.Username, PrivateKey: keyPEM, Audience: "https://evil.example.com"}, "audience is invalid"},
		{"client credentials", salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret}, ""},
		{"client credentials wrong secret", salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, ClientID: creds.ClientID, ClientSecret: canarySecret}, "invalid_client"},
		{"refresh token", salesforce.AuthConfig{Flow: salesforce.FlowRefreshToken, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, RefreshToken: creds.RefreshToken}, ""},
		{"refresh token revoked", salesforce.AuthConfig{Flow: salesforce.FlowRefreshToken, ClientID: creds.ClientID, RefreshToken: canaryRefresh}, "invalid_grant"},
		{"password", salesforce.AuthConfig{Flow: salesforce.FlowPassword, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, Username: creds.Username, Password: creds.Password}, ""},
		{"password wrong", salesforce.AuthConfig{Flow: salesforce.FlowPassword, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, Username: creds.Username, Password: canaryPass}, "authentication failure"},
	}
	org := smallOrg()
	_, ts := sftest.Start(t, org, creds)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.auth.LoginURL = ts.URL
			c, err := salesforce.NewClient(tc.auth, salesforce.WithRetry(1, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Limits(t.Context())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ae *salesforce.AuthError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want an AuthError with %q", err, tc.wantErr)
			}
			for _, secret := range []string{canarySecret, canaryRefresh, canaryPass, string(keyPEM[40:80])} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error text holds a secret: %v", err)
				}
			}
		})
	}
}

func TestConfigErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	_, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowJWTBearer, LoginURL: "https://login.salesforce.com", ClientID: "x", Username: "u", PrivateKey: []byte("-----BEGIN RSA PRIVATE KEY-----\n" + canarySecret + "\n-----END RSA PRIVATE KEY-----\n")})
	if err == nil || strings.Contains(err.Error(), canarySecret) {
		t.Fatalf("err = %v: want an error without the key", err)
	}
	a := salesforce.AuthConfig{Flow: salesforce.FlowPassword, ClientSecret: canarySecret, Password: canaryPass}
	if s := fmt.Sprint(a); strings.Contains(s, canarySecret) || strings.Contains(s, canaryPass) {
		t.Fatalf("AuthConfig prints a secret: %s", s)
	}
}

func TestLimitInfoRecorded(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	// An org clock three hours off the local one is believed (see
	// TestDateHeaderOutsideWindowIgnored for one that is not). Both clocks
	// stand still on a whole second, so the estimate is exact: no slack for
	// the request's time on a loaded machine.
	local := time.Now().Truncate(time.Second)
	org.SetNow(local.Add(3 * time.Hour))
	org.SetAPILimit(5000, 24)
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL, salesforce.WithClock(func() time.Time { return local }))
	if _, err := c.AppMenuItems(t.Context()); err != nil {
		t.Fatal(err)
	}
	u, ok := c.LastAPIUsage()
	if !ok || u.Used != 25 || u.Max != 5000 {
		t.Fatalf("usage = %+v %v, want 25/5000", u, ok)
	}
	if got := c.ServerNow(); !got.Equal(org.Now()) {
		t.Errorf("ServerNow %v, want the org's clock %v", got, org.Now())
	}
}
