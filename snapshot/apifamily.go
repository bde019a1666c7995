package snapshot

import "github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"

// APIFamilyCounts are API requests by family (salesforce.APIFamily),
// indexed by family.
type APIFamilyCounts [salesforce.NumAPIFamilies]int64

// Bulk is the requests through a Bulk API (1.0 or 2.0).
func (c *APIFamilyCounts) Bulk() int64 {
	return c[salesforce.APIFamilyBulk] + c[salesforce.APIFamilyBulk2]
}
