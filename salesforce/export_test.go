package salesforce

import "net/url"

// InstanceAllowedForTest exposes instanceAllowed, with no login URL.
func InstanceAllowedForTest(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && instanceAllowed(u, nil)
}

// IdleCursorSlotsHeldForTest is how many of the client's cursor slots are
// taken while no query runs: the slots shed and not yet given back.
func IdleCursorSlotsHeldForTest(c *Client) int { return len(c.cursors) }
