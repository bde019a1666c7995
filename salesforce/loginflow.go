package salesforce

import "strings"

// LoginFlow is how a login authenticated, as a small fixed set: the values
// of the exporter's flow label. Salesforce's own values (LoginSubType,
// LoginType) never reach a label; a value this list does not know is
// LoginFlowOther.
type LoginFlow uint8

// The login flows, in the order the metrics and the review list them.
const (
	LoginFlowUnknown       LoginFlow = iota // LoginSubType unreadable or empty
	LoginUsernamePassword                   // OAuth username-password
	LoginSOAP                               // SOAP API login(), retired in Summer '27
	LoginDevice                             // OAuth device flow
	LoginUserAgent                          // OAuth user-agent (implicit)
	LoginWebServer                          // OAuth web server (authorization code)
	LoginRefreshToken                       // OAuth refresh token
	LoginJWTBearer                          // OAuth JWT bearer
	LoginClientCredentials                  // OAuth client credentials
	LoginTokenExchange                      // OAuth token exchange
	LoginFlowOther                          // a login type or subtype this list does not know
	NumLoginFlows
)

var flowNames = [NumLoginFlows]string{
	"unknown", "username_password", "soap_login", "device", "user_agent", "web_server",
	"refresh_token", "jwt_bearer", "client_credentials", "token_exchange", "other",
}

// String is the flow's label value.
func (f LoginFlow) String() string {
	if f < NumLoginFlows {
		return flowNames[f]
	}
	return flowNames[LoginFlowOther]
}

// Legacy reports whether the flow sends a user's password to Salesforce
// (username-password, SOAP login()) or lets anyone with a code log in as a
// user (device): the flows an integration should move off.
func (f LoginFlow) Legacy() bool {
	return f == LoginUsernamePassword || f == LoginSOAP || f == LoginDevice
}

// squash lower-cases s and drops everything but letters and digits, so the
// API name ("OauthUsernamePassword") and the label ("OAuth
// Username-Password") of a picklist value compare equal.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// subTypeFlows maps the squashed LoginSubType values the object reference
// lists (API names and labels), hybrid apps' variants included. Device and
// JWT bearer are not in the documented picklist: Flow matches them by the
// words "device" and "jwt", and anything else OAuth is LoginFlowOther.
var subTypeFlows = map[string]LoginFlow{
	"oauthusernamepassword":           LoginUsernamePassword,
	"oauthclientcredentials":          LoginClientCredentials,
	"oauthrefreshtoken":               LoginRefreshToken,
	"oauthhybridrefreshtoken":         LoginRefreshToken,
	"oauthrefreshtokenforhybridapps":  LoginRefreshToken,
	"oauthwebserver":                  LoginWebServer,
	"oauthhybridwebserver":            LoginWebServer,
	"oauthwebserverforhybridapps":     LoginWebServer,
	"oauthuseragent":                  LoginUserAgent,
	"oauthuseragentidtoken":           LoginUserAgent,
	"oauthuseragentwithidtoken":       LoginUserAgent,
	"oauthhybriduseragent":            LoginUserAgent,
	"oauthuseragentforhybridapps":     LoginUserAgent,
	"oauthtokenexchange":              LoginTokenExchange,
	"oauthhybridtokenexchange":        LoginTokenExchange,
	"oauthtokenexchangeforhybridapps": LoginTokenExchange,
}

// IsOAuthLogin reports whether a LoginType (label, such as "Remote Access
// 2.0" or "Remote Access Client", or API value) is an OAuth login.
func IsOAuthLogin(loginType string) bool {
	t := strings.ToLower(loginType)
	return strings.Contains(t, "remote access") || strings.Contains(t, "oauth")
}

// isAPILogin reports whether a LoginType is a login() call of the SOAP API:
// "Other Apex API" (OtherApi) or "Partner Product" (Partner).
func isAPILogin(loginType string) bool {
	switch squash(loginType) {
	case "otherapexapi", "otherapi", "partnerproduct", "partner":
		return true
	}
	return false
}

// Flow classifies the login: its flow, and whether it is a login the
// exporter counts (an OAuth login, or a SOAP API login() call). A SOAP
// login() shows as LoginType "Other Apex API" (or "Partner Product")
// with a SOAP ApiType, or as a LoginSubType naming SOAP.
func (l *LoginHistory) Flow() (LoginFlow, bool) {
	sub := squash(l.LoginSubType)
	if strings.HasPrefix(sub, "soap") || (isAPILogin(l.LoginType) && strings.Contains(squash(l.APIType), "soap")) {
		return LoginSOAP, true
	}
	if !IsOAuthLogin(l.LoginType) {
		return LoginFlowOther, false
	}
	if sub == "" {
		return LoginFlowUnknown, true
	}
	if f, ok := subTypeFlows[sub]; ok {
		return f, true
	}
	switch {
	case strings.Contains(sub, "device"):
		return LoginDevice, true
	case strings.Contains(sub, "jwt"):
		return LoginJWTBearer, true
	case strings.Contains(sub, "clientcredential"):
		return LoginClientCredentials, true
	case strings.Contains(sub, "usernamepassword"):
		return LoginUsernamePassword, true
	}
	return LoginFlowOther, true
}
