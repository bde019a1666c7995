package refresh

import (
	"net/netip"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// publish adds day n's Daily file, created at created, without a refresh.
func (d *detectionOrg) publish(n int, erp sftest.TrafficSpec, created time.Time) {
	d.t.Helper()
	ld := detectDay0.AddDate(0, 0, n)
	erp.AppID, erp.AppName, erp.Profile, erp.Day, erp.DayIndex = d.erp.ID[:15], d.erp.Name, sftest.Integration, ld, n
	d.org.AddLogFile(&sftest.LogFile{LogDate: ld, CreatedDate: created, Rows: sftest.Traffic(erp)})
}

func (d *detectionOrg) refreshAt(now time.Time) {
	d.t.Helper()
	d.org.SetNow(now)
	for range 2 {
		if err := d.r.RefreshAll(d.t.Context()); err != nil {
			d.t.Fatal(err)
		}
	}
}

// TestEveryDayIsJudged: a Daily file that lands after the next day's, and
// two days caught up at once, each hold a token replay. The window figures
// cover the newest day only, so they show 0 for both; the judged counters
// count each day once, when its file is read.
func TestEveryDayIsJudged(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	for n := range 10 {
		d.day(n, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	}
	f := d.figures("Acme ERP Sync")
	if !f.BaselineReady || f.RequestsFromNewNetworksJudged != 0 || f.RequestsJudged == 0 {
		t.Fatalf("ten quiet days: %+v", f)
	}
	quiet := f.RequestsJudged
	day := func(n int) time.Time { return detectDay0.AddDate(0, 0, n) }

	// Day 10's file is late: day 11's (quiet) lands first, day 10's (the
	// replay) an hour later.
	d.publish(11, sftest.TrafficSpec{}, day(12).Add(time.Hour))
	d.refreshAt(day(12).Add(2 * time.Hour))
	d.publish(10, sftest.TrafficSpec{TokenReplay: true}, day(12).Add(3*time.Hour))
	d.refreshAt(day(12).Add(4 * time.Hour))
	f = d.figures("Acme ERP Sync")
	if f.RequestsFromNewNetworks != 0 {
		t.Fatalf("the window (day 11) shows %d requests from new networks: the test no longer shows a late day", f.RequestsFromNewNetworks)
	}
	if f.RequestsFromNewNetworksJudged != 500 || f.SensitiveRequestsFromNewNetworksJudged != 500 {
		t.Fatalf("late day judged: from new networks %d, sensitive %d, want 500 and 500: %+v", f.RequestsFromNewNetworksJudged, f.SensitiveRequestsFromNewNetworksJudged, f)
	}
	if f.RequestsJudged <= quiet {
		t.Fatalf("requests judged %d, want more than the %d of the quiet days", f.RequestsJudged, quiet)
	}

}

// TestCaughtUpDaysAreJudged: two days' files read in one refresh (after an
// outage, or published together), the replay in the older one.
func TestCaughtUpDaysAreJudged(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	for n := range 10 {
		d.day(n, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	}
	day := func(n int) time.Time { return detectDay0.AddDate(0, 0, n) }
	d.publish(10, sftest.TrafficSpec{TokenReplay: true}, day(12).Add(time.Hour))
	d.publish(11, sftest.TrafficSpec{}, day(12).Add(time.Hour))
	d.refreshAt(day(12).Add(2 * time.Hour))
	f := d.figures("Acme ERP Sync")
	if f.RequestsFromNewNetworks != 0 {
		t.Fatalf("the window (day 11) shows %d requests from new networks: the test no longer shows a caught-up day", f.RequestsFromNewNetworks)
	}
	if f.RequestsFromNewNetworksJudged != 500 || f.SensitiveRequestsFromNewNetworksJudged != 500 {
		t.Fatalf("caught-up day judged: from new networks %d, sensitive %d, want 500 and 500", f.RequestsFromNewNetworksJudged, f.SensitiveRequestsFromNewNetworksJudged)
	}
}

// TestDeclaredNetworksReload: the inventory declares the integration's
// networks; a replay from elsewhere is outside them before any baseline is
// ready, and a reload that declares the replay's range (a planned move)
// judges the held day again at once.
func TestDeclaredNetworksReload(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	declare := func(extra ...string) {
		nets := sftest.IntegrationNetworks(d.erp.Name)
		nets = append(nets, extra...)
		var ps []netip.Prefix
		for _, n := range nets {
			ps = append(ps, netip.MustParsePrefix(n))
		}
		set := d.settings
		set.Declared = func(org string) []detect.Declared {
			return []detect.Declared{{AppID: d.erp.ID, Networks: ps, Objects: []string{"Opportunity", "Invoice__c"}}}
		}
		d.settings = set
		d.r.SetSettings(set)
	}
	declare()
	d.day(0, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	if f := d.figures("Acme ERP Sync"); f.DeclaredNetworks != 3 || f.RequestsOutsideDeclaredNetworks != 0 || f.UndeclaredObjects != 0 {
		t.Fatalf("a declared integration's first day: %+v", f)
	}
	d.day(1, sftest.TrafficSpec{TokenReplay: true}, sftest.TrafficSpec{}, false)
	f := d.figures("Acme ERP Sync")
	if f.BaselineReady || f.RequestsOutsideDeclaredNetworks != 500 || f.UndeclaredObjects != 2 {
		t.Fatalf("a replay on day 1, no baseline yet: outside %d, undeclared objects %d, want 500 and 2: %+v", f.RequestsOutsideDeclaredNetworks, f.UndeclaredObjects, f)
	}
	// The move is declared: the replay's range, 198.18.0.0/15.
	declare("198.18.0.0/15")
	if err := d.r.RefreshAll(d.t.Context()); err != nil {
		t.Fatal(err)
	}
	if f := d.figures("Acme ERP Sync"); f.RequestsOutsideDeclaredNetworks != 0 {
		t.Fatalf("after the reload that declares the move: outside %d, want 0", f.RequestsOutsideDeclaredNetworks)
	}
}
