package cli

import (
	"strings"
	"testing"
)

// acmeValue is Acme ERP Sync's value of a per-app metric, whatever its app_id.
func acmeValue(m map[string]*metricFamily, name string) (float64, bool) {
	f := m[name]
	if f == nil {
		return 0, false
	}
	for k, v := range f.Series {
		if strings.Contains(k, "app=Acme ERP Sync,") && strings.Contains(k, "org=demo") {
			return v, true
		}
	}
	return 0, false
}

// TestDemoDeclaredNetworks: the demo's integration declares its networks
// and its one object. Before the surge it keeps to them; the surge's
// replay (five networks it never used, reading User and Account, and a
// login from an IOC address) is outside both.
func TestDemoDeclaredNetworks(t *testing.T) {
	t.Parallel()
	t.Run("before the surge", func(t *testing.T) {
		t.Parallel()
		e := startExporter(t, "--demo", "--demo.surge-after=24h")
		// Its logins read (their count) and its API usage (the undeclared objects).
		m := e.waitFor(t, "Acme ERP Sync's logins and declared figures", func(m map[string]*metricFamily) bool {
			_, ok := acmeValue(m, "salesforce_connected_app_api_undeclared_objects")
			_, logins := acmeValue(m, "salesforce_connected_app_oauth_logins")
			return ok && logins
		})
		for _, name := range []string{"salesforce_connected_app_api_requests_outside_declared_networks", "salesforce_connected_app_oauth_logins_outside_declared_networks", "salesforce_connected_app_api_undeclared_objects"} {
			if v, ok := acmeValue(m, name); !ok || v != 0 {
				t.Errorf("%s = %v (%v), want 0 before the surge", name, v, ok)
			}
		}
		if v, _ := acmeValue(m, "salesforce_connected_app_declared_networks"); v != 3 {
			t.Errorf("declared networks = %v, want 3", v)
		}
	})
	t.Run("after the surge", func(t *testing.T) {
		t.Parallel()
		e := startExporter(t, "--demo", "--demo.surge-after=1s")
		m := e.waitFor(t, "the replay outside Acme ERP Sync's declared networks", func(m map[string]*metricFamily) bool {
			v, _ := acmeValue(m, "salesforce_connected_app_api_requests_outside_declared_networks")
			l, _ := acmeValue(m, "salesforce_connected_app_oauth_logins_outside_declared_networks")
			return v > 0 && l > 0
		})
		if v, _ := acmeValue(m, "salesforce_connected_app_api_requests_outside_declared_networks"); v != 1000 {
			t.Errorf("requests outside the declared networks = %v, want the replay's 1,000", v)
		}
		if v, _ := acmeValue(m, "salesforce_connected_app_api_undeclared_objects"); v != 2 {
			t.Errorf("undeclared objects = %v, want 2 (User, Account)", v)
		}
	})
}
