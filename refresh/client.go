package refresh

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// NewClient builds the API client of one org. Every client is made here,
// for the refreshers and the check, review and revoke commands alike, so an
// observer (a CallCounter, the request metrics) sees every request.
// observe, when not nil, sees every request the client makes. It makes no
// network call.
func NewClient(org config.Org, observe func(salesforce.RequestInfo), opts ...salesforce.Option) (*salesforce.Client, error) {
	base := []salesforce.Option{
		salesforce.WithAPIVersion(org.APIVersion),
		salesforce.WithLimitBlock(min(time.Minute, time.Duration(org.RefreshInterval))),
	}
	if observe != nil {
		base = append(base, salesforce.WithRequestObserver(observe))
	}
	c, err := salesforce.NewClient(org.AuthConfig(), append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("org %s: %w", org.Name, err)
	}
	return c, nil
}

// countsAgainstAllocation reports whether a request of this resource spends
// the org's DailyApiRequests: OAuth token and revoke requests don't.
func countsAgainstAllocation(resource string) bool {
	return resource != "token" && resource != "revoke"
}

// CallCounter counts the requests a client made that spend the org's API
// allocation. Its Observe is a request observer for NewClient or
// NewRefresher; the review's api_calls figure comes from one.
type CallCounter struct{ n atomic.Int64 }

// Observe counts ri if it spends the allocation.
func (c *CallCounter) Observe(ri salesforce.RequestInfo) {
	if countsAgainstAllocation(ri.Resource) {
		c.n.Add(1)
	}
}

// Count returns the requests counted so far.
func (c *CallCounter) Count() int64 { return c.n.Load() }

// Chain returns an observer that calls each non-nil observer in turn.
func Chain(observers ...func(salesforce.RequestInfo)) func(salesforce.RequestInfo) {
	return func(ri salesforce.RequestInfo) {
		for _, o := range observers {
			if o != nil {
				o(ri)
			}
		}
	}
}
