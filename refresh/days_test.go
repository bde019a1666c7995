package refresh

import (
	"testing"
	"time"

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
