package sftest

import (
	"net/http/httptest"
	"testing"
)

// TestCredentials are the credentials Start's server accepts for every flow
// but JWT bearer (which needs a key).
var TestCredentials = Credentials{
	ClientID:     "3MVG9test.client.id",
	ClientSecret: "test-client-secret",
	Username:     "integration@example.com",
	Password:     "test-password",
	RefreshToken: "test-refresh-token",
}

// Start serves org on a loopback listener for the length of the test.
func Start(tb testing.TB, org *Org, creds Credentials) (*Server, *httptest.Server) {
	tb.Helper()
	s := NewServer(org, creds)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	tb.Cleanup(func() {
		if err := org.Err(); err != nil {
			tb.Error(err)
		}
	})
	return s, ts
}
