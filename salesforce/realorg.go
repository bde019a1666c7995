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
// once, and so how many queries it runs at once. Salesforce no longer limits
// open cursors: the ten per user it kept (releasing the oldest past them)
// were removed with API version 56.0, for every API version. The bound is
// the client's own: eight in-flight pages keep a full OauthToken read near
// its latency floor (eight requests every round trip), cost at most eight
// decoded pages of memory, and stay far below the org's concurrent request
// limits. An org that still released cursors past ten would cost a re-read
// of the released range (INVALID_QUERY_LOCATOR), never a lost row.
//
// Salesforce API docs: https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-apicursors.html
const DefaultMaxOpenCursors = 8

// WithMaxOpenCursors sets how many queries may run at once (DefaultMaxOpenCursors).
func WithMaxOpenCursors(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.cursors = make(chan struct{}, n)
		}
	}
}

// cursorRegainAfter is how long a client that shed a cursor slot goes
// without another release before it takes one slot back. A release is
// rare on a current org (no cursor limit since API 56.0): a locator that
// sat idle past its expiry (a process paused, a host suspended) should not
// slow every later read until a restart. Where a per-user limit does
// remain, a slot taken back too soon costs one more release, and its
// range's re-read, an hour.
const cursorRegainAfter = time.Hour

// shedCursor gives up one of the client's cursor slots, keeping at least
// one, until cursorRegainAfter passes without another release. The org
// released a cursor of this client (INVALID_QUERY_LOCATOR): it keeps fewer
// for this user than the client holds open, as orgs before API 56.0 did
// (ten per user, shared by every process of that user: an HA pair, review
// beside a serving exporter), or a locator sat idle past its expiry. Each
// release costs its range one re-read; with fewer open, two clients of the
// same user settle under such a limit instead of releasing each other's
// cursors without end. slot gives back the failed query's own slot, nil
// when it was given back already.
func (c *Client) shedCursor(slot func()) {
	c.shedMu.Lock()
	c.shedAt = c.now()
	c.shedMu.Unlock()
	for {
		n := c.shed.Load()
		if int(n) >= cap(c.cursors)-1 {
			if slot != nil {
				slot() // the last slot is never shed: give it back
			}
			return
		}
		if c.shed.CompareAndSwap(n, n+1) {
			c.logger.Warn("The org released a query cursor of this client (INVALID_QUERY_LOCATOR); holding fewer open until an hour passes without another",
				"max_open_cursors", cap(c.cursors)-int(n)-1)
			break
		}
	}
	if slot != nil {
		return // the failed query's slot stays taken: it is the one shed
	}
	// Taken now if one is free, or when a query gives its slot back.
	select {
	case c.cursors <- struct{}{}:
	default:
		go func() { c.cursors <- struct{}{} }()
	}
}

// regainCursor takes back one shed slot once cursorRegainAfter has passed
// since the last release or the last slot taken back.
func (c *Client) regainCursor() {
	if c.shed.Load() == 0 {
		return
	}
	c.shedMu.Lock()
	defer c.shedMu.Unlock()
	now := c.now()
	if now.Sub(c.shedAt) < cursorRegainAfter {
		return
	}
	// The slots are counted, not named: any one taken off the count gives
	// back the one the shed holds (or, while that one waits to be taken,
	// makes room for it).
	select {
	case <-c.cursors:
	default:
		return // nothing held yet: the next query tries again
	}
	c.shedAt = now
	n := c.shed.Add(-1)
	c.logger.Info("No query cursor of this client released for an hour; holding one more open again",
		"max_open_cursors", cap(c.cursors)-int(n))
}

// MaxOpenCursors is how many query cursors the client holds open at most
// now: its bound, less the slots shed after the org released a cursor.
func (c *Client) MaxOpenCursors() int { return cap(c.cursors) - int(c.shed.Load()) }

// openCursor waits for a free cursor slot. A query holds one from its first
// request until a page says done (the org closes the cursor with its last
// page) or the query ends, whether it ended done or not.
func (c *Client) openCursor(ctx context.Context) (func(), error) {
	c.regainCursor()
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
