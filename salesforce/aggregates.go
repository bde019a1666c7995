package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrAggregateUnsupported is matched by an *AggregateError that is an answer
// about the org: it rejected the query's shape (MALFORMED_QUERY,
// INVALID_FIELD, INVALID_TYPE, ...), the result does not decode, or the
// totals disagree with COUNT(). Rows must be read instead. A failure that may
// pass (AggregateError.Temporary) does not match it.
var ErrAggregateUnsupported = errors.New("salesforce: aggregate query unsupported")

// AggregateTotalError is an aggregate total that disagrees with SELECT COUNT()
// over the same rows, as it would from an org that computes GROUP BY over a
// capped cursor.
type AggregateTotalError struct {
	Object       string
	Total, Count int64
}

func (e *AggregateTotalError) Error() string {
	return fmt.Sprintf("%s: aggregates add up to %d rows but COUNT() is %d", e.Object, e.Total, e.Count)
}

// queryShapeCodes are the errorCodes with which an org rejects a query's
// shape: the same query will be rejected again. Any other error on a query
// (QUERY_TIMEOUT, which comes as a 400; a 5xx such as UNKNOWN_EXCEPTION; a
// broken connection) says nothing about whether the org accepts it.
var queryShapeCodes = map[string]bool{
	"MALFORMED_QUERY":               true,
	"INVALID_FIELD":                 true,
	"INVALID_TYPE":                  true,
	"INVALID_QUERY_FILTER_OPERATOR": true,
}

// IsQueryShapeRejection reports whether err is a 400 whose errorCode rejects
// the query itself (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, ...), as
// opposed to a failure that may pass, such as QUERY_TIMEOUT.
func IsQueryShapeRejection(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest && queryShapeCodes[apiErr.Code()]
}

// AggregateError is a failed or untrustworthy aggregate query: a rejection
// (400), a failure that may pass (QUERY_TIMEOUT, a server error that
// outlived the retries, a broken connection), a result that does not decode,
// or an *AggregateTotalError. It matches ErrQueryRejected, so that callers
// that fall back on a rejected query fall back here too, and, unless it is
// Temporary, ErrAggregateUnsupported. Auth, API-limit and context errors are
// never wrapped.
type AggregateError struct{ Err error }

func (e *AggregateError) Error() string {
	if e.Temporary() {
		return "aggregate query failed: " + e.Err.Error()
	}
	return "aggregate query unsupported: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *AggregateError) Unwrap() error { return e.Err }

// Is matches ErrQueryRejected, and ErrAggregateUnsupported unless the
// failure is Temporary.
func (e *AggregateError) Is(target error) bool {
	return target == ErrQueryRejected || (target == ErrAggregateUnsupported && !e.Temporary())
}

// Temporary reports whether the failure says nothing about the org's support
// for the query and the same query may succeed later: an API error other
// than a rejection of the query's shape (QUERY_TIMEOUT, 5xx, 429), or a
// transport error.
func (e *AggregateError) Temporary() bool {
	var total *AggregateTotalError
	var apiErr *APIError
	switch {
	case errors.As(e.Err, &total):
		return false
	case errors.As(e.Err, &apiErr):
		return !IsQueryShapeRejection(apiErr)
	}
	return isConnError(e.Err)
}

// asAggregateError wraps err unless it is about auth, limits or the context.
func asAggregateError(ctx context.Context, err error) error {
	var authErr *AuthError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &authErr), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden),
		errors.Is(err, ErrRequestLimitExceeded), errors.Is(err, ErrConcurrentRequestLimit):
		return err
	}
	return &AggregateError{Err: err}
}

// VerifyAggregateTotal checks the number of rows an aggregate query counted
// (the sum of its COUNT per group) against SELECT COUNT() FROM object WHERE
// where ("" for every row). It costs one request and returns an
// *AggregateTotalError when the two differ.
func (c *Client) VerifyAggregateTotal(ctx context.Context, object, where string, total int64) error {
	soql := "SELECT COUNT() FROM " + object
	if where != "" {
		soql += " WHERE " + where
	}
	n, err := c.Count(ctx, soql)
	if err != nil {
		return fmt.Errorf("count %s: %w", object, err)
	}
	if int64(n) != total {
		return &AggregateTotalError{Object: object, Total: total, Count: int64(n)}
	}
	return nil
}

// TokenAggregate is one app's OauthToken totals from GROUP BY queries.
type TokenAggregate struct {
	AppName, AppMenuItemID string
	TokenStats
}

// TokenAggregates answers the per-app questions with four aggregate queries
// and one COUNT(), whatever the number of tokens. Whether OauthToken accepts
// GROUP BY is not documented. Any failure that is not about auth, the API
// limits or the context is an *AggregateError. A rejection of the query's
// shape, an empty or odd result or a total that disagrees with SELECT
// COUNT() matches ErrAggregateUnsupported: the caller falls back to
// OauthTokens. A failure that may pass (QUERY_TIMEOUT, a 5xx such as
// UNKNOWN_EXCEPTION) is Temporary: the caller tries again later.
func (c *Client) TokenAggregates(ctx context.Context, staleBefore time.Time) ([]TokenAggregate, int64, error) {
	aggs, inactive, err := c.tokenAggregates(ctx, staleBefore)
	if err != nil {
		return nil, 0, asAggregateError(ctx, err)
	}
	var total int64
	for _, a := range aggs {
		total += a.Tokens
	}
	if err := c.VerifyAggregateTotal(ctx, "OauthToken", "", total); err != nil {
		return nil, 0, asAggregateError(ctx, err)
	}
	return aggs, inactive, nil
}

func (c *Client) tokenAggregates(ctx context.Context, staleBefore time.Time) ([]TokenAggregate, int64, error) {
	const group = " GROUP BY AppName, AppMenuItemId"
	byKey := map[[2]string]*TokenAggregate{}
	var order [][2]string
	get := func(r AggregateRecord) *TokenAggregate {
		k := [2]string{r.String("AppName"), r.String("AppMenuItemId")}
		a := byKey[k]
		if a == nil {
			a = &TokenAggregate{AppName: k[0], AppMenuItemID: k[1]}
			byKey[k] = a
			order = append(order, k)
		}
		return a
	}
	var firstErr error
	keep := func(err error) {
		if firstErr == nil && err != nil {
			firstErr = err
		}
	}
	rows, err := collect[AggregateRecord](ctx, c, "SELECT AppName, AppMenuItemId, COUNT(CreatedDate) tokens, COUNT_DISTINCT(UserId) users, SUM(UseCount) uses, MAX(LastUsedDate) lastUsed, MIN(CreatedDate) firstCreated FROM OauthToken"+group)
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate OauthToken: %w", err)
	}
	for _, r := range rows {
		a := get(r)
		var err error
		a.Tokens, err = r.Int("tokens")
		keep(err)
		a.Users, err = r.Int("users")
		keep(err)
		a.Uses, err = r.Int("uses")
		keep(err)
		lu, err := r.Time("lastUsed")
		keep(err)
		fc, err := r.Time("firstCreated")
		keep(err)
		a.LastUsed, a.FirstAuthorized = lu.Time, fc.Time
	}
	// Per-app counts of the tokens matching a condition.
	for _, q := range []struct {
		what, where string
		field       func(*TokenAggregate) *int64
	}{
		{"stale", staleSOQL(staleBefore), func(a *TokenAggregate) *int64 { return &a.Stale }},
		{"inactive-user", "User.IsActive = false", func(a *TokenAggregate) *int64 { return &a.InactiveTokens }},
	} {
		rows, err = collect[AggregateRecord](ctx, c, "SELECT AppName, AppMenuItemId, COUNT(CreatedDate) n FROM OauthToken WHERE "+q.where+group)
		if err != nil {
			return nil, 0, fmt.Errorf("aggregate %s OauthToken: %w", q.what, err)
		}
		for _, r := range rows {
			n, err := r.Int("n")
			keep(err)
			*q.field(get(r)) = n
		}
	}
	rows, err = collect[AggregateRecord](ctx, c, "SELECT COUNT_DISTINCT(UserId) users FROM OauthToken WHERE User.IsActive = false")
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate inactive users: %w", err)
	}
	var inactiveUsers int64
	if len(rows) > 0 {
		inactiveUsers, err = rows[0].Int("users")
		keep(err)
	}
	if firstErr != nil {
		return nil, 0, fmt.Errorf("decode OauthToken aggregates: %w", firstErr)
	}
	out := make([]TokenAggregate, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, inactiveUsers, nil
}
