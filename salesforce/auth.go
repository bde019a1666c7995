package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"
)

// Flow names an OAuth 2.0 flow the exporter can authenticate with.
type Flow string

// The supported flows.
const (
	FlowJWTBearer         Flow = "jwt_bearer"
	FlowClientCredentials Flow = "client_credentials"
	FlowRefreshToken      Flow = "refresh_token"
	FlowPassword          Flow = "password"
)

// Flows lists every supported flow.
var Flows = []Flow{FlowJWTBearer, FlowClientCredentials, FlowRefreshToken, FlowPassword}

// AuthConfig holds what one flow needs. The secret fields are held in memory
// only; they never appear in errors or String output.
type AuthConfig struct {
	Flow Flow
	// LoginURL is the token endpoint's host, such as https://login.salesforce.com
	// or the org's My Domain URL (required for client credentials).
	LoginURL string
	ClientID string
	// ClientSecret: client credentials, refresh token (when the app requires it), password.
	ClientSecret string
	// Username: JWT bearer (the sub claim) and password.
	Username string
	// Password: the password flow, with the security token appended when the org wants one.
	Password string
	// RefreshToken: the refresh token flow.
	RefreshToken string
	// PrivateKey is a PEM RSA key (PKCS#1 or PKCS#8) for JWT bearer.
	PrivateKey []byte
	// Audience is the JWT aud claim; the default is DefaultAudience(LoginURL).
	Audience string
}

// String never prints a secret.
func (a AuthConfig) String() string {
	return fmt.Sprintf("AuthConfig{Flow:%s LoginURL:%s}", a.Flow, a.LoginURL)
}

// Validate checks that the flow has what it needs. It makes no network call.
func (a AuthConfig) Validate() error {
	if a.ClientID == "" {
		return errors.New("client_id is required")
	}
	u, err := url.Parse(a.LoginURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("login_url %q must be an absolute https URL", a.LoginURL)
	}
	switch a.Flow {
	case FlowJWTBearer:
		if a.Username == "" || len(a.PrivateKey) == 0 {
			return errors.New("jwt_bearer needs username and private_key_file")
		}
	case FlowClientCredentials:
		if a.ClientSecret == "" {
			return errors.New("client_credentials needs client_secret_file")
		}
	case FlowRefreshToken:
		if a.RefreshToken == "" {
			return errors.New("refresh_token needs refresh_token_file")
		}
	case FlowPassword:
		if a.Username == "" || a.Password == "" || a.ClientSecret == "" {
			return errors.New("password needs username, password_file and client_secret_file")
		}
	default:
		return fmt.Errorf("unknown auth flow %q: want one of jwt_bearer, client_credentials, refresh_token, password", a.Flow)
	}
	return nil
}

func (a AuthConfig) tokenURL() string {
	return strings.TrimRight(a.LoginURL, "/") + "/services/oauth2/token"
}

// JWT bearer audiences Salesforce accepts: login for production orgs, test
// for sandboxes and scratch orgs. A My Domain URL as aud has been refused
// with "invalid_grant: audience is invalid" by some orgs and is tried by the
// Salesforce CLI, so it is a fallback (JWTAudiences); an Experience Cloud
// site URL must be set explicitly.
const (
	AudienceProduction = "https://login.salesforce.com"
	AudienceSandbox    = "https://test.salesforce.com"
)

// DefaultAudience returns the first JWT aud claim to try for a login URL:
// the sandbox audience for sandbox hosts (test.salesforce.com,
// *.sandbox.my.salesforce.com, the older name--sandbox.my.salesforce.com,
// and scratch orgs' *.scratch.my.salesforce.com), the production audience
// for everything else, My Domain URLs included.
func DefaultAudience(loginURL string) string {
	if IsSandboxHost(loginURL) {
		return AudienceSandbox
	}
	return AudienceProduction
}

// IsSandboxHost reports whether a login URL names a sandbox's login host.
func IsSandboxHost(loginURL string) bool {
	u, err := url.Parse(loginURL)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case h == "test.salesforce.com",
		strings.HasSuffix(h, ".sandbox.my.salesforce.com"),
		strings.HasSuffix(h, ".scratch.my.salesforce.com"), // scratch orgs are sandboxes
		strings.HasSuffix(h, ".my.salesforce.com") && strings.Contains(h, "--"):
		return true
	}
	return false
}

// JWTAudiences returns the aud values the JWT bearer flow tries, in order:
// the configured audience alone when set; else the guess from the login
// URL (DefaultAudience), then, as the Salesforce CLI does (sfdx-core
// getLoginAudienceCombos) since hosts no longer tell a sandbox from
// production, the My Domain itself, then test, then login.
func JWTAudiences(a AuthConfig) []string {
	if a.Audience != "" {
		return []string{a.Audience}
	}
	out := []string{DefaultAudience(a.LoginURL)}
	if u, err := url.Parse(a.LoginURL); err == nil && u.Scheme != "" && u.Host != "" {
		out = append(out, u.Scheme+"://"+u.Host)
	}
	out = append(out, AudienceSandbox, AudienceProduction)
	seen := map[string]bool{}
	uniq := out[:0]
	for _, aud := range out {
		if k := strings.ToLower(aud); !seen[k] {
			seen[k] = true
			uniq = append(uniq, aud)
		}
	}
	return uniq
}

// audienceRefused reports whether the token endpoint refused the JWT's aud:
// "invalid_grant: audience is invalid" (or "Audience validation failed").
func audienceRefused(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	code, desc := re.ErrorCode, re.ErrorDescription
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(re.Body, &body) == nil && body.Error != "" {
		code, desc = body.Error, body.Description
	}
	return code == "invalid_grant" && strings.Contains(strings.ToLower(desc), "audience")
}

// jwtFetcher logs in with the first audience the org accepts, trying the
// candidates in order on "audience is invalid" only, and remembers the one
// that worked: later logins (after a 401, or a restart of the client's
// token) start with it and cost one request.
func jwtFetcher(conf jwt.Config, auds []string) fetchFunc {
	var mu sync.Mutex
	good := ""
	return func(ctx context.Context) (*oauth2.Token, error) {
		mu.Lock()
		first := good
		mu.Unlock()
		order := make([]string, 0, len(auds)+1)
		if first != "" {
			order = append(order, first)
		}
		for _, aud := range auds {
			if aud != first {
				order = append(order, aud)
			}
		}
		var lastErr error
		for _, aud := range order {
			c := conf
			c.Audience = aud
			tok, err := c.TokenSource(ctx).Token()
			if err == nil {
				mu.Lock()
				good = aud
				mu.Unlock()
				return tok, nil
			}
			if !audienceRefused(err) {
				return nil, err
			}
			lastErr = err
		}
		return nil, lastErr
	}
}

// DefaultTokenLifetime is how long an access token is kept without a 401.
// Salesforce's token response has no expires_in and sessions usually last
// hours, so the client keeps the token until the API rejects it (401, then one
// fresh login and a retry). A short stamped lifetime would log in about 96
// times a day and inflate the exporter's own app's logins and UseCount. The
// cap only bounds how long a token that is never rejected is trusted.
const DefaultTokenLifetime = 24 * time.Hour

// fetchFunc gets a brand-new token from the token endpoint.
type fetchFunc func(ctx context.Context) (*oauth2.Token, error)

func newFetcher(a AuthConfig) (fetchFunc, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	tokenURL := a.tokenURL()
	switch a.Flow {
	case FlowJWTBearer:
		if _, err := parseRSAKey(a.PrivateKey); err != nil {
			return nil, err
		}
		conf := jwt.Config{
			Email:      a.ClientID, // iss
			Subject:    a.Username, // sub
			PrivateKey: a.PrivateKey,
			TokenURL:   tokenURL,
			// Salesforce wants exp within 3 minutes.
			Expires: 2*time.Minute + 30*time.Second,
		}
		return jwtFetcher(conf, JWTAudiences(a)), nil
	case FlowClientCredentials:
		conf := &clientcredentials.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}
		return func(ctx context.Context) (*oauth2.Token, error) { return conf.Token(ctx) }, nil
	case FlowRefreshToken:
		conf := &oauth2.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
		rt := a.RefreshToken
		return func(ctx context.Context) (*oauth2.Token, error) {
			// A fresh source each time: oauth2's own cache would keep a token
			// without expiry forever.
			return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		}, nil
	case FlowPassword:
		conf := &oauth2.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
		user, pass := a.Username, a.Password
		return func(ctx context.Context) (*oauth2.Token, error) {
			return conf.PasswordCredentialsToken(ctx, user, pass)
		}, nil
	}
	return nil, fmt.Errorf("unknown auth flow %q", a.Flow)
}

// tokenCache holds the current access token, stamps an expiry on it, and
// drops it when the API says it is no longer valid.
type tokenCache struct {
	fetch    fetchFunc
	lifetime time.Duration
	now      func() time.Time

	mu  sync.Mutex
	tok *oauth2.Token
}

// token returns a valid access token, fetching one when needed. Concurrent
// callers share one fetch.
func (c *tokenCache) token(ctx context.Context, hc *http.Client) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.now().Before(c.tok.Expiry) {
		return c.tok, nil
	}
	tok, err := c.fetch(context.WithValue(ctx, oauth2.HTTPClient, hc))
	if err != nil {
		return nil, toAuthError(ctx, err)
	}
	if tok.AccessToken == "" {
		return nil, &AuthError{StatusCode: http.StatusOK, Code: "invalid_response", Description: "token response has no access_token"}
	}
	// Salesforce sends no expires_in: stamp a conservative expiry ourselves.
	if tok.Expiry.IsZero() || tok.Expiry.Sub(c.now()) > c.lifetime {
		tok.Expiry = c.now().Add(c.lifetime)
	}
	c.tok = tok
	return tok, nil
}

// invalidate forgets the token if it is still the one that was rejected.
func (c *tokenCache) invalidate(access string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.AccessToken == access {
		c.tok = nil
	}
}

// toAuthError turns an x/oauth2 error into an *AuthError that carries the
// endpoint's error code and description, and nothing of the request.
func toAuthError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		ae := &AuthError{Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			ae.StatusCode = re.Response.StatusCode
		}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(re.Body, &body) == nil && body.Error != "" {
			ae.Code, ae.Description = body.Error, body.Description
		} else if ae.Code == "" {
			ae.Description = excerpt(string(re.Body))
		}
		return ae
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error holds the token URL, which is not secret; its Err is the cause.
		return &AuthError{Err: fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)}
	}
	return &AuthError{Err: errors.New(excerpt(err.Error()))}
}

// redactURL drops the query string and user info of a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid url>"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
