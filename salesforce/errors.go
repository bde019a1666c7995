package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Sentinel errors matched by *APIError through errors.Is.
var (
	// ErrRequestLimitExceeded is the org's API allocation running out (403 REQUEST_LIMIT_EXCEEDED).
	ErrRequestLimitExceeded = errors.New("salesforce: request limit exceeded")
	// ErrUnauthorized is a 401, or an errorCode of INVALID_SESSION_ID.
	ErrUnauthorized = errors.New("salesforce: unauthorized")
	// ErrNotFound is a 404 or NOT_FOUND.
	ErrNotFound = errors.New("salesforce: not found")
	// ErrInvalidField is INVALID_FIELD: an unknown field, or one that can't be filtered or grouped.
	ErrInvalidField = errors.New("salesforce: invalid field")
	// ErrForbidden is a 403 other than REQUEST_LIMIT_EXCEEDED, typically a missing permission.
	ErrForbidden = errors.New("salesforce: forbidden")
	// ErrQueryRejected is any 400 for a query: the org does not accept that SOQL.
	ErrQueryRejected = errors.New("salesforce: query rejected")
	// ErrConcurrentRequestLimit is REQUEST_LIMIT_EXCEEDED for too many
	// long-running requests at once ("ConcurrentPerOrgLongTxn Limit
	// exceeded"): transient, unlike the daily allocation.
	ErrConcurrentRequestLimit = errors.New("salesforce: concurrent request limit exceeded")
	// ErrInvalidQueryLocator is INVALID_QUERY_LOCATOR: the query cursor
	// expired, or the org released it because the user opened more than ten.
	ErrInvalidQueryLocator = errors.New("salesforce: invalid query locator")
)

// ErrorDetail is one element of Salesforce's JSON error array.
type ErrorDetail struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// APIError is returned for any non-2xx response from the REST API.
type APIError struct {
	StatusCode int
	Method     string
	// Path is the request path only: never the query string (it holds SOQL or tokens).
	Path    string
	Details []ErrorDetail
	// Body is a short, sanitised excerpt of a body that was not a JSON error array (an HTML 503 page, say).
	Body string
}

// Code returns the first errorCode, or "".
func (e *APIError) Code() string {
	if len(e.Details) == 0 {
		return ""
	}
	return e.Details[0].ErrorCode
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	for _, d := range e.Details {
		msg := strings.Join(strings.Fields(d.Message), " ")
		fmt.Fprintf(&b, ": %s: %s", d.ErrorCode, truncate(msg, 300))
	}
	if len(e.Details) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	return b.String()
}

// Is matches the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	code := e.Code()
	switch target {
	case ErrRequestLimitExceeded:
		return code == "REQUEST_LIMIT_EXCEEDED" && !e.concurrentLimit()
	case ErrConcurrentRequestLimit:
		return e.concurrentLimit()
	case ErrInvalidQueryLocator:
		return code == "INVALID_QUERY_LOCATOR"
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || code == "INVALID_SESSION_ID"
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || code == "NOT_FOUND"
	case ErrInvalidField:
		return code == "INVALID_FIELD"
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && code != "REQUEST_LIMIT_EXCEEDED"
	case ErrQueryRejected:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}

// concurrentLimit reports REQUEST_LIMIT_EXCEEDED for concurrent long-running
// requests, which clears as soon as requests finish.
func (e *APIError) concurrentLimit() bool {
	for _, d := range e.Details {
		if d.ErrorCode == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(strings.ToLower(d.Message), "concurrent") {
			return true
		}
	}
	return false
}

// Temporary reports whether retrying the same request later may succeed:
// 5xx, 429, the Edge's 420 and the concurrent request limit.
func (e *APIError) Temporary() bool {
	return e.concurrentLimit() || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == 420
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// newAPIError reads a failed response's body (bounded) and builds an *APIError.
// It tolerates JSON arrays, single JSON objects, HTML and empty bodies.
func newAPIError(resp *http.Response) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Method: resp.Request.Method, Path: resp.Request.URL.Path}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e.Details, e.Body = ParseErrorBody(body)
	return e
}

// ParseErrorBody decodes a Salesforce error body. It returns the details of a
// JSON error array (or of a single error object), or, for anything else, a short
// printable excerpt with markup and control characters removed.
func ParseErrorBody(body []byte) ([]ErrorDetail, string) {
	trimmed := strings.TrimSpace(string(body))
	var details []ErrorDetail
	if strings.HasPrefix(trimmed, "[") && json.Unmarshal([]byte(trimmed), &details) == nil {
		out := details[:0]
		for _, d := range details {
			if d.ErrorCode != "" || d.Message != "" {
				out = append(out, d)
			}
		}
		if len(out) > 0 {
			return out, ""
		}
	}
	var one struct {
		ErrorDetail
		OAuthError       string `json:"error"`
		OAuthDescription string `json:"error_description"`
	}
	if strings.HasPrefix(trimmed, "{") && json.Unmarshal([]byte(trimmed), &one) == nil {
		if one.ErrorCode == "" && one.OAuthError != "" {
			one.ErrorCode, one.Message = one.OAuthError, one.OAuthDescription
		}
		if one.ErrorCode != "" || one.Message != "" {
			return []ErrorDetail{one.ErrorDetail}, ""
		}
	}
	// The OAuth endpoints (revoke among them) answer errors form-encoded:
	// error=unsupported_token_type&error_description=this%20token%20type%20is%20not%20supported
	// (seen in omniphx/forrest#213).
	if d, ok := parseFormError(trimmed); ok {
		return []ErrorDetail{d}, ""
	}
	return nil, excerpt(trimmed)
}

// parseFormError decodes a form-encoded OAuth error body. It accepts only a
// body whose error parameter is a plain code (letters, digits, '_' and '.'),
// so a page of text that happens to hold "error=" is not taken for one.
func parseFormError(body string) (ErrorDetail, bool) {
	if len(body) > 4096 || strings.ContainsAny(body, "<>{}\n\r ") {
		return ErrorDetail{}, false
	}
	v, err := url.ParseQuery(body)
	if err != nil {
		return ErrorDetail{}, false
	}
	code := v.Get("error")
	if code == "" || len(code) > 100 || strings.IndexFunc(code, func(r rune) bool {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.'
		return !ok
	}) >= 0 {
		return ErrorDetail{}, false
	}
	return ErrorDetail{ErrorCode: code, Message: excerpt(v.Get("error_description"))}, true
}

// excerpt turns an arbitrary body (often an HTML error page) into a short
// single-line text: tags dropped, whitespace folded, non-printables removed.
func excerpt(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>':
			inTag = false
			b.WriteByte(' ')
		case inTag:
		case r == utf8.RuneError, r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return truncate(strings.Join(strings.Fields(b.String()), " "), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// AuthError is a failed OAuth token request. It holds the OAuth error code and
// description from the token endpoint, never the request's credentials.
type AuthError struct {
	StatusCode  int
	Code        string // invalid_grant, invalid_client_id, ...
	Description string
	Err         error // a transport error, when there was no response
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return "oauth token request: " + e.Err.Error()
	}
	s := fmt.Sprintf("oauth token request: %d", e.StatusCode)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + truncate(e.Description, 200)
	}
	return s
}

func (e *AuthError) Unwrap() error { return e.Err }

// Temporary reports whether the token endpoint may answer later (network error or 5xx).
func (e *AuthError) Temporary() bool {
	return e.Err != nil || e.StatusCode >= 500 || e.StatusCode == 429
}

// IsObjectRefused reports whether err is the org refusing an object to the
// running user: a 403, INVALID_TYPE (the object is not there, or not
// visible) or INSUFFICIENT_ACCESS. A timeout, a 5xx or a limit is not: it
// says nothing about what the user may read.
func IsObjectRefused(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (errors.Is(apiErr, ErrForbidden) || apiErr.Code() == "INVALID_TYPE" || apiErr.Code() == "INSUFFICIENT_ACCESS")
}
