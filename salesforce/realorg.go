package salesforce

import (
	"context"
	"fmt"
	"time"
)

// WithClock sets the clock the client reads (for tests: token lifetimes,
// limit blocks and the org's estimated time follow it).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// DefaultMaxOpenCursors is how many query cursors one client holds open at
// once. Salesforce keeps ten per user and silently releases the oldest past
// that (reading it then fails with INVALID_QUERY_LOCATOR); half leaves room
// for review or revoke running as the same user beside a serving exporter.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
const DefaultMaxOpenCursors = 5

// WithMaxOpenCursors sets how many queries may run at once (DefaultMaxOpenCursors);
// n must stay below the org's ten cursors per user.
func WithMaxOpenCursors(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.cursors = make(chan struct{}, n)
		}
	}
}

// openCursor waits for a free cursor slot. A query holds one from its first
// request until a page says done (the org closes the cursor with its last
// page) or the query ends, whether it ended done or not.
func (c *Client) openCursor(ctx context.Context) (func(), error) {
	select {
	case c.cursors <- struct{}{}:
		return func() { <-c.cursors }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// APIVersion is one REST API version the org serves.
type APIVersion struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the REST API versions the org serves, oldest first.
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
func (c *Client) Versions(ctx context.Context) ([]APIVersion, error) {
	var v []APIVersion
	if err := c.getJSON(ctx, "versions", "/services/data/", &v); err != nil {
		return nil, fmt.Errorf("list API versions: %w", err)
	}
	return v, nil
}
