package collector

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestRequestMetricsSetOrgs: SetOrgs deletes every series of a removed org,
// a late request of its old observer counts nowhere, and the org added
// again counts from zero.
func TestRequestMetricsSetOrgs(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewRequestMetrics(reg)
	prod, gone := m.ForOrg("prod"), m.ForOrg("gone")
	m.SetOrgs([]string{"prod", "gone"})
	prod(salesforce.RequestInfo{Resource: "limits", StatusCode: 200})
	gone(salesforce.RequestInfo{Resource: "limits", StatusCode: 500})
	gone(salesforce.RequestInfo{Resource: "odd", StatusCode: 200})
	count := func(org string) int {
		n := 0
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			for _, mt := range f.GetMetric() {
				for _, l := range mt.GetLabel() {
					if l.GetName() == "org" && l.GetValue() == org {
						n++
					}
				}
			}
		}
		return n
	}
	if count("gone") != 43 || count("prod") != 42 { // 21 resources (refresh.Specs) in two families, and gone's "odd"
		t.Fatalf("before: gone %d, prod %d series", count("gone"), count("prod"))
	}
	m.SetOrgs([]string{"prod"})
	gone(salesforce.RequestInfo{Resource: "limits", StatusCode: 200}) // its refresher's last request
	if n := count("gone"); n != 0 {
		t.Errorf("%d series of the removed org left", n)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("prod", "limits")); got != 1 {
		t.Errorf("prod's count %v, want 1", got)
	}
	again := m.ForOrg("gone")
	again(salesforce.RequestInfo{Resource: "limits", StatusCode: 200})
	if got := testutil.ToFloat64(m.requests.WithLabelValues("gone", "limits")); got != 1 {
		t.Errorf("the org added again counts %v, want 1 (from zero)", got)
	}
}
