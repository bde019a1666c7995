package salesforce_test

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestLoginFlow: the documented LoginSubType values, as API names and as
// labels, map to their flow; the undocumented device and JWT bearer values
// by their words; a value the list does not know to other; a SOAP login()
// by its subtype or by LoginType and ApiType; a UI login is not counted.
func TestLoginFlow(t *testing.T) {
	t.Parallel()
	oauth := "Remote Access 2.0"
	for _, c := range []struct {
		loginType, sub, api string
		want                string
		counted             bool
	}{
		{oauth, "OauthUsernamePassword", "", "username_password", true},
		{oauth, "OAuth Username-Password", "", "username_password", true},
		{"Remote Access Client", "OauthWebServer", "", "web_server", true},
		{oauth, "OAuth Web Server for Hybrid Apps", "", "web_server", true},
		{oauth, "OauthHybridRefreshToken", "", "refresh_token", true},
		{oauth, "OauthClientCredentials", "", "client_credentials", true},
		{oauth, "OAuth User-Agent with ID Token", "", "user_agent", true},
		{oauth, "OauthTokenExchange", "", "token_exchange", true},
		{oauth, "OauthDeviceFlow", "", "device", true},
		{oauth, "OAuth JWT Bearer", "", "jwt_bearer", true},
		{oauth, "OauthOtpLogin", "", "other", true},
		{oauth, "\u202eOauthFoo\n", "", "other", true},
		{oauth, "", "", "unknown", true},
		{"Other Apex API", "", "SOAP Partner", "soap_login", true},
		{"OtherApi", "", "Soap Enterprise", "soap_login", true},
		{"Partner Product", "SoapApiLogin", "", "soap_login", true},
		{"Other Apex API", "", "REST", "other", false},
		{"Application", "UsernamePasswordUiLogin", "", "other", false},
		{"SAML Idp Initiated SSO", "", "", "other", false},
	} {
		l := salesforce.LoginHistory{LoginType: c.loginType, LoginSubType: c.sub, APIType: c.api}
		f, counted := l.Flow()
		if f.String() != c.want || counted != c.counted {
			t.Errorf("%q/%q/%q: %s (counted %t), want %s (%t)", c.loginType, c.sub, c.api, f, counted, c.want, c.counted)
		}
	}
	if salesforce.LoginFlow(200).String() != "other" {
		t.Error("an out-of-range flow must print as other")
	}
}
