package salesforce

import (
	"context"
	"errors"
	"fmt"
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
