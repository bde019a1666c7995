// Package salesforce is a small client for the parts of the Salesforce REST API
// that describe OAuth access to an org: OauthToken, ConnectedApplication,
// AppMenuItem, User, AuthSession, LoginHistory, EventLogFile, the External
// Client App usage resources, /limits and the OAuth revoke endpoint.
//
// It knows nothing of Prometheus. Callers observe its requests through
// WithRequestObserver.
//
// # Authentication
//
// NewClient takes an AuthConfig for one of four OAuth flows (JWT bearer,
// client credentials, refresh token, username-password), built on
// golang.org/x/oauth2. Salesforce's token response carries no expires_in, so
// the client stamps a conservative expiry on every token and, on a 401
// INVALID_SESSION_ID, fetches a new token and retries the request once. The
// instance_url of the token response is the API base.
//
// # Pagination
//
// Every paged resource goes through one pager (walkPages in pager.go): Stream
// yields SOQL records one by one while the page is still being decoded and
// follows nextRecordsUrl; the External Client App collections are read page
// number by page number until a page comes back empty. A next page URL is only
// followed when it is a path under /services/data/ on the API host, so the
// bearer token never leaves the org. OauthTokens fetches every OauthToken row
// exactly once despite the object's 500-row pages and 2,500-row cursor cap.
//
// # Rate limits
//
// Every response's Sforce-Limit-Info header is parsed into APIUsage
// (LastAPIUsage). Limits calls /limits.
//
// # Errors
//
// Any non-2xx response becomes an *APIError, which matches the sentinels
// ErrRequestLimitExceeded, ErrUnauthorized, ErrNotFound and ErrInvalidField
// through errors.Is. Error text never holds a token, a secret or a query
// string.
package salesforce
