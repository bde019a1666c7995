package collector

import (
	"slices"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// TestLoginFlowAndFamilyMetrics: an app's logins by flow and requests by
// family are emitted for the flows and families it used only, with the
// fixed label values; the org's logins by flow have every flow; the
// readability gauges say 0 when the fields are missing.
func TestLoginFlowAndFamilyMetrics(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.HasLoginFlows, s.LoginSubTypeReadable = true, false
	s.LoginsByFlow[salesforce.LoginSOAP] = 6
	s.LoginsByFlow[salesforce.LoginFlowUnknown] = 4
	a := &s.Apps[0]
	a.HasLoginFlows = true
	a.LoginsByFlow[salesforce.LoginSOAP] = 2
	a.HasAPIFamilies = true
	a.RequestsByFamily24h[salesforce.APIFamilyBulk2] = 3
	a.RequestsByFamily7d[salesforce.APIFamilyBulk2] = 3
	a.RequestsByFamily7d[salesforce.APIFamilyREST] = 60
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(stubSource{s}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string][]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			id := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "flow" || l.GetName() == "family" || l.GetName() == "window" {
					id += l.GetValue() + " "
				}
			}
			series[mf.GetName()] = append(series[mf.GetName()], id+strconv.FormatFloat(m.GetGauge().GetValue(), 'f', -1, 64))
		}
	}
	check := func(name string, want []string) {
		t.Helper()
		got := series[name]
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	check("salesforce_connected_app_logins_by_flow", []string{"soap_login 24h 2"})
	check("salesforce_connected_app_api_requests_by_family", []string{"bulk2 24h 3", "bulk2 7d 3", "rest 24h 0", "rest 7d 60"})
	var org []string
	for f := range salesforce.NumLoginFlows {
		org = append(org, f.String()+" 24h "+strconv.FormatInt(s.LoginsByFlow[f], 10))
	}
	check("salesforce_org_logins_by_flow", org)
	check("salesforce_org_login_subtype_readable", []string{"0"})
	check("salesforce_api_usage_family_readable", []string{"0"})
}
