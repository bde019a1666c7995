package salesforce_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestRevokeAnswers: only a 200 with an empty body is a revocation that
// worked. A 200 carrying an OAuth error or an HTML login page is an error,
// and the org's form-encoded error body is decoded like the JSON one.
func TestRevokeAnswers(t *testing.T) {
	t.Parallel()
	org := smallOrg()
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	c := newClient(t, ts.URL)
	dts := org.DeleteTokens()
	code := func(err error) (int, string) {
		var apiErr *salesforce.APIError
		if !errors.As(err, &apiErr) {
			return 0, ""
		}
		return apiErr.StatusCode, apiErr.Code()
	}
	for _, tc := range []struct {
		name     string
		b        sftest.RevokeBehaviour
		status   int
		code, in string
	}{
		{"200 with an OAuth error", sftest.RevokeBehaviour{OKError: "unsupported_token_type"}, 200, "unsupported_token_type", "unsupported_token_type"},
		{"200 with a login page", sftest.RevokeBehaviour{OKLoginPage: true}, 200, "", "HTML page"},
	} {
		srv.SetRevokeBehaviour(tc.b)
		err := c.Revoke(t.Context(), dts[0])
		if st, cd := code(err); err == nil || st != tc.status || cd != tc.code || !strings.Contains(err.Error(), tc.in) {
			t.Errorf("%s: err %v (status %d, code %q)", tc.name, err, st, cd)
		}
		if org.TokenCount() != 5 {
			t.Fatalf("%s: a token went", tc.name)
		}
		if err != nil && strings.Contains(err.Error(), dts[0]) {
			t.Errorf("%s: the error holds the token", tc.name)
		}
	}
	srv.SetRevokeBehaviour(sftest.RevokeBehaviour{})
	if err := c.Revoke(t.Context(), dts[0]); err != nil || org.TokenCount() != 4 {
		t.Fatalf("a real revocation: %v, %d tokens", err, org.TokenCount())
	}
	// Revoked twice: the org's form-encoded invalid_token, and the JSON one.
	for _, b := range []sftest.RevokeBehaviour{{}, {JSONErrors: true}} {
		srv.SetRevokeBehaviour(b)
		err := c.Revoke(t.Context(), dts[0])
		if st, cd := code(err); st != 400 || cd != "invalid_token" {
			t.Errorf("JSON errors %v: err %v (status %d, code %q), want 400 invalid_token", b.JSONErrors, err, st, cd)
		}
	}
}
