package salesforce

import "time"

// TokenStats are one app's OAuth token figures, whichever reader produced
// them: the OauthToken aggregates (TokenAggregates), the rows of every token
// (OauthTokens), or the External Client App usage API.
type TokenStats struct {
	Tokens, Users   int64
	Uses            int64     // sum of UseCount; falls when tokens are revoked
	LastUsed        time.Time // newest LastUsedDate; zero if never used
	FirstAuthorized time.Time // oldest CreatedDate (InitialConnectionAt for an ECA)
	Stale           int64     // tokens for which IsStale holds
	InactiveTokens  int64     // tokens held by deactivated users
}

// StaleCutoff and IsStale are the one stale rule: a token is stale when its
// last activity (LastUsedDate, or CreatedDate if it was never used) is
// before now − stale_after. A token with neither time is not stale.
// staleSOQL is the same rule as a SOQL condition.
func StaleCutoff(now time.Time, staleAfter time.Duration) time.Time { return now.Add(-staleAfter) }

// IsStale applies the stale rule to one token; cutoff is StaleCutoff(now, stale_after).
func IsStale(lastUsed, created, cutoff time.Time) bool {
	ref := lastUsed
	if ref.IsZero() {
		ref = created
	}
	return !ref.IsZero() && ref.Before(cutoff)
}

// staleSOQL is IsStale as a condition on OauthToken rows.
func staleSOQL(cutoff time.Time) string {
	st := SOQLTime(cutoff)
	return "(LastUsedDate < " + st + ") OR (LastUsedDate = null AND CreatedDate < " + st + ")"
}
