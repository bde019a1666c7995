package salesforce

import "time"

// WithClock sets the clock the client reads (for tests: token lifetimes,
// limit blocks and the org's estimated time follow it).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}
