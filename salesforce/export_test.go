package salesforce

import "net/url"

// InstanceAllowedForTest exposes instanceAllowed, with no login URL.
func InstanceAllowedForTest(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && instanceAllowed(u, nil)
}
