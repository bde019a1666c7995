package refresh

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestAPIFamilies: an app's ApiTotalUsage requests count by API family:
// Bulk API 2.0 by its /jobs/ resource although its API_FAMILY says REST,
// Bulk API 1.0 by API_FAMILY Bulk, a family the exporter does not know as
// other, an empty one as unknown; a state file keeps them across a
// restart. A file without API_FAMILY and API_RESOURCE gives no families,
// and says so.
func TestAPIFamilies(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	ld := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	org := sftest.NewOrg()
	org.SetNow(ld.Add(day + 2*time.Hour))
	app := org.AddApp(sftest.App{Name: "Integration", Installed: true})
	id := org.Apps()[app].ID
	org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(day + time.Hour), Rows: []sftest.UsageRow{
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 10},
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 5, Resource: "/v66.0/jobs/ingest/7505j000001abcd/batches"},
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 4, Family: "REST", Resource: "/v66.0/jobs/query/7505j000001abce/results"},
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 3, Family: "Bulk", Resource: "/services/async/66.0/job/7505j000001abcf/batch"},
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 2, Family: "SOAP", Resource: "query"},
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 1, Family: "DirectAura\u202e"},
		{AppID: id, AppName: "Integration", StatusCode: 200, Count: 6, Family: " "},
	}})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	storage := t.TempDir()
	cfg := testOrgConfig(t, ts.URL, config.SourceAPIUsage)
	var want snapshot.APIFamilyCounts
	want[salesforce.APIFamilyREST] = 10
	want[salesforce.APIFamilyBulk2] = 9
	want[salesforce.APIFamilyBulk] = 3
	want[salesforce.APIFamilySOAP] = 2
	want[salesforce.APIFamilyOther] = 1
	want[salesforce.APIFamilyUnknown] = 6
	for run := range 2 {
		r := newTestRefresher(t, cfg)
		r.storage = storage
		if err := r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		snap := r.Snapshot()
		a := findApp(t, snap, "Integration")
		if !snap.APIFamilyReadable || !a.HasAPIFamilies || a.RequestsByFamily24h != want || a.RequestsByFamily7d != want || a.RequestsByFamily24h.Bulk() != 12 {
			t.Errorf("run %d: readable %t, by family 24h %v 7d %v (known %t); want %v", run+1, snap.APIFamilyReadable, a.RequestsByFamily24h, a.RequestsByFamily7d, a.HasAPIFamilies, want)
		}
	}

	// A file without the two columns.
	org2 := sftest.NewOrg()
	org2.SetNow(ld.Add(day + 2*time.Hour))
	app2 := org2.AddApp(sftest.App{Name: "Integration", Installed: true})
	cols := slices.DeleteFunc(slices.Clone(sftest.DefaultUsageColumns), func(c string) bool { return c == "API_FAMILY" || c == "API_RESOURCE" })
	org2.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(day + time.Hour), Columns: cols, Rows: []sftest.UsageRow{
		{AppID: org2.Apps()[app2].ID, AppName: "Integration", StatusCode: 200, Count: 10, Resource: "/v66.0/jobs/ingest"},
	}})
	_, ts2 := sftest.Start(t, org2, sftest.TestCredentials)
	r := newTestRefresher(t, testOrgConfig(t, ts2.URL, config.SourceAPIUsage))
	if err := r.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if a := findApp(t, r.Snapshot(), "Integration"); r.Snapshot().APIFamilyReadable || a.HasAPIFamilies || a.Requests24h != 10 {
		t.Errorf("without API_FAMILY: readable %t, families known %t, requests %d; want false, false, 10", r.Snapshot().APIFamilyReadable, a.HasAPIFamilies, a.Requests24h)
	}
}

// TestProbeAPIFamilyColumns: check says whether the newest ApiTotalUsage
// file carries API_FAMILY and API_RESOURCE, from its header, without a
// download.
func TestProbeAPIFamilyColumns(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	ld := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	noFamily := slices.DeleteFunc(slices.Clone(sftest.DefaultUsageColumns), func(c string) bool { return c == "API_FAMILY" || c == "API_RESOURCE" })
	for _, c := range []struct {
		cols []string
		want string
	}{
		{nil, "ApiTotalUsage files carry API_FAMILY and API_RESOURCE"},
		{noFamily, "ApiTotalUsage files lack API_FAMILY and API_RESOURCE"},
	} {
		org := sftest.NewOrg()
		org.SetNow(ld.Add(day + 2*time.Hour))
		org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: ld.Add(day + time.Hour), Columns: c.cols, Rows: []sftest.UsageRow{{StatusCode: 200}}})
		_, ts := sftest.Start(t, org, sftest.TestCredentials)
		r := newTestRefresher(t, testOrgConfig(t, ts.URL, config.SourceAPIUsage))
		if err := r.RefreshAll(t.Context()); err != nil { // sets the client's clock to the org's
			t.Fatal(err)
		}
		res, err := probeAPIUsage(t.Context(), r.Client(), ProbeInput{})
		if err != nil {
			t.Fatal(err)
		}
		if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, c.want) {
			t.Errorf("notes %q, want one with %q", notes, c.want)
		}
	}
}
