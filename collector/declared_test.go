package collector

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestDeclaredMetrics: an app whose inventory entry declares networks and
// objects gets the figures of its declaration; an app that declares
// nothing gets none of them (absent, not 0: nothing is declared).
func TestDeclaredMetrics(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Detection = &snapshot.DetectionInfo{SensitiveObjects: []string{"User"}}
	s.Apps[0].Detection = &detect.AppFigures{DeclaredNetworks: 3, DeclaredObjects: 2, RequestsOutsideDeclaredNetworks: 625, LoginsOutsideDeclaredNetworks: 1, UndeclaredObjects: 2}
	s.Apps[1].Detection = &detect.AppFigures{Networks: 4}
	c := New(stubSource{s})
	names := []string{"salesforce_connected_app_declared_networks", "salesforce_connected_app_declared_objects",
		"salesforce_connected_app_api_requests_outside_declared_networks", "salesforce_connected_app_oauth_logins_outside_declared_networks",
		"salesforce_connected_app_api_undeclared_objects"}
	want := map[string]string{
		names[0]: "3", names[1]: "2", names[2]: "625", names[3]: "1", names[4]: "2",
	}
	for _, n := range names {
		if got := testutil.CollectAndCount(c, n); got != 1 {
			t.Errorf("%s: %d series, want 1 (the declaring app only)", n, got)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("pedantic gather: %v", err)
	}
	for _, mf := range mfs {
		w, ok := want[mf.GetName()]
		if !ok {
			continue
		}
		m := mf.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if got := fmt.Sprint(m.GetGauge().GetValue()); got != w || labels["app"] != "Data Loader" || labels["org"] != "prod" || len(labels) != 3 {
			t.Errorf("%s: %v = %s, want Data Loader's 3 labels = %s", mf.GetName(), labels, got, w)
		}
		delete(want, mf.GetName())
	}
	if len(want) > 0 {
		t.Errorf("not gathered: %v", want)
	}
	if problems, err := testutil.CollectAndLint(c, names...); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

// TestJudgedMetrics: the judged counters are counters, and the idle time a
// gauge, one per app with figures, and pass the registry's pedantic checks and the linter.
func TestJudgedMetrics(t *testing.T) {
	t.Parallel()
	s := testSnapshot()
	s.Detection = &snapshot.DetectionInfo{SensitiveObjects: []string{"User"}}
	s.Apps[0].Detection = &detect.AppFigures{RequestsJudged: 12500, RequestsFromNewNetworksJudged: 500, SensitiveRequestsFromNewNetworksJudged: 250, CorroboratedSensitiveRequestsFromNewNetworksJudged: 40, IdleBeforeWake: 67 * 24 * time.Hour}
	c := New(stubSource{s})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"salesforce_connected_app_api_requests_judged_total": 12500, "salesforce_connected_app_api_new_network_requests_judged_total": 500,
		"salesforce_connected_app_api_sensitive_object_requests_from_new_networks_judged_total": 250, "salesforce_connected_app_idle_before_wake_seconds": 67 * 86400,
		"salesforce_connected_app_api_corroborated_sensitive_requests_from_new_networks_judged_total": 40}
	for _, mf := range mfs {
		w, ok := want[mf.GetName()]
		if !ok {
			continue
		}
		m := mf.GetMetric()
		if len(m) != 1 || m[0].GetCounter().GetValue()+m[0].GetGauge().GetValue() != w || (mf.GetType().String() == "COUNTER") != (mf.GetName() != "salesforce_connected_app_idle_before_wake_seconds") {
			t.Errorf("%s: %v, want one counter of %v", mf.GetName(), mf.GetMetric(), w)
		}
		delete(want, mf.GetName())
	}
	if len(want) > 0 {
		t.Errorf("not gathered: %v", want)
	}
	if problems, err := testutil.CollectAndLint(c, "salesforce_connected_app_api_requests_judged_total", "salesforce_connected_app_api_new_network_requests_judged_total",
		"salesforce_connected_app_api_sensitive_object_requests_from_new_networks_judged_total", "salesforce_connected_app_idle_before_wake_seconds",
		"salesforce_connected_app_api_corroborated_sensitive_requests_from_new_networks_judged_total"); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}
