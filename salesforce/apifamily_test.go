package salesforce_test

import (
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestClassifyAPIFamily: the documented API_FAMILY values map to their
// family whatever their case; Bulk API 2.0 is told by its /jobs/ resource
// whatever the family says, Bulk API 1.0 by /async/ too; an unknown value
// is other, an empty one unknown.
func TestClassifyAPIFamily(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ family, resource, want string }{
		{"REST", "/v66.0/sobjects/Account", "rest"},
		{"rest", "", "rest"},
		{"SOAP", "query", "soap"},
		{"Bulk", "", "bulk"},
		{"REST", "/services/async/66.0/job/750x/batch", "bulk"},
		{"REST", "/v66.0/jobs/ingest/750x/batches", "bulk2"},
		{"Bulk", "/v66.0/jobs/query/750x/results", "bulk2"},
		{"", "/v66.0/jobs/query", "bulk2"},
		{"ApexREST", "/services/apexrest/x", "apex_rest"},
		{"DirectApexREST", "", "apex_rest"},
		{"DirectAura", "", "other"},
		{"Bulk\u202e", "", "other"},
		{" ", "/v66.0/query", "unknown"},
		{"", "", "unknown"},
	} {
		if got := salesforce.ClassifyAPIFamily([]byte(c.family), []byte(c.resource)).String(); got != c.want {
			t.Errorf("%q %q: %s, want %s", c.family, c.resource, got, c.want)
		}
	}
	if salesforce.APIFamily(99).String() != "other" {
		t.Error("an out-of-range family must print as other")
	}
}
