package salesforce

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrAggregateUnsupported is matched by an *AggregateError: the org's answer
// to an aggregate query cannot be trusted, and rows must be read instead.
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

// AggregateError is a failed or untrustworthy aggregate query: a rejection
// (400), a server error that outlived the retries (a 5xx such as
// UNKNOWN_EXCEPTION), a result that does not decode, or an
// *AggregateTotalError. It matches ErrAggregateUnsupported and, so that
// callers that fall back on a rejected query fall back here too,
// ErrQueryRejected. Auth, API-limit and context errors are never wrapped.
type AggregateError struct{ Err error }

func (e *AggregateError) Error() string { return "aggregate query unsupported: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *AggregateError) Unwrap() error { return e.Err }

// Is matches ErrAggregateUnsupported and ErrQueryRejected.
func (e *AggregateError) Is(target error) bool {
	return target == ErrAggregateUnsupported || target == ErrQueryRejected
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
// limits or the context (a 400, a 5xx such as UNKNOWN_EXCEPTION, an empty or
// odd result, a total that disagrees with SELECT COUNT()) is an
// *AggregateError, which matches ErrAggregateUnsupported and
// ErrQueryRejected: the caller falls back to OauthTokens.
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
