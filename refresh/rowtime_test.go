package refresh

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestDetectionRowTimesFromTheFile is issue 15 through the fake org: the
// detection takes each row's TIMESTAMP_DERIVED, so a network first seen at
// 10:41 in a Daily file is new in a window that starts at 05:00 that day
// (with its file's midnight it was not), while one first seen at 03:30 is
// not. Rows with odd times (another precision, an offset, TIMESTAMP only)
// are read; rows with none, or outside the period, are placed at its edge,
// counted and logged.
func TestDetectionRowTimesFromTheFile(t *testing.T) {
	t.Parallel()
	d := newDetectionOrg(t)
	// Each quiet day also brings a new network of 100 requests, so that
	// the app's usual share of requests from new networks (about 9%) is
	// above day 9's: that day is not flagged, and no hold keeps its
	// networks new in the later window.
	d.extra = func(ld time.Time, n int) []sftest.UsageRow {
		return []sftest.UsageRow{{AppID: d.erp.ID[:15], AppName: d.erp.Name, StatusCode: 200, Time: ld.Add(8 * time.Hour), Count: 100, ClientIP: fmt.Sprintf("203.0.%d.1", n), Entity: "Account"}}
	}
	var logs bytes.Buffer
	for n := range 9 {
		d.day(n, sftest.TrafficSpec{}, sftest.TrafficSpec{}, false)
	}
	d.r.logger = slog.New(slog.NewTextHandler(&logs, nil))
	day := detectDay0.AddDate(0, 0, 9)
	erp := sftest.TrafficSpec{AppID: d.erp.ID[:15], AppName: d.erp.Name, Profile: sftest.Integration, Day: day, DayIndex: 9}
	usual := sftest.IntegrationIP(d.erp.Name, 0)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	row := func(t time.Time, ip string, n int, odd sftest.OddTime) sftest.UsageRow {
		return sftest.UsageRow{AppID: erp.AppID, AppName: erp.AppName, StatusCode: 200, Time: t, Count: n, ClientIP: ip, Entity: "Account", Spread: 20 * time.Minute, OddTime: odd}
	}
	rows := append(sftest.Traffic(erp),
		row(at(10, 41), "100.127.10.1", 11, sftest.UsualTime),    // new: first seen in the window
		row(at(3, 30), "100.127.11.1", 13, sftest.UsualTime),     // seen two hours before the window
		row(at(12, 0), "100.127.12.1", 2, sftest.SecondsTime),    // new, another precision
		row(at(13, 0), "100.127.13.1", 3, sftest.MicrosTime),     // new
		row(at(14, 0), "100.127.14.1", 4, sftest.OffsetTime),     // new
		row(at(15, 0), "100.127.15.1", 5, sftest.EmptyDerived),   // new: TIMESTAMP is read instead
		row(at(16, 0), "100.127.16.1", 6, sftest.EmptyTime),      // no time: the period's start, so not new
		row(at(17, 0), "100.127.17.1", 7, sftest.UnparsableTime), // likewise
		row(day.Add(30*time.Hour), usual, 8, sftest.UsualTime),   // outside the period
		row(day.Add(-2*time.Hour), usual, 9, sftest.UsualTime),   // likewise
	)
	d.org.AddLogFile(&sftest.LogFile{LogDate: day, CreatedDate: day.Add(25 * time.Hour), Rows: rows})
	// Hourly files of the next day up to 05:00: the window is 05:00 to 05:00.
	next := day.AddDate(0, 0, 1)
	for h := range 5 {
		hr := next.Add(time.Duration(h) * time.Hour)
		d.org.AddLogFile(&sftest.LogFile{Interval: "Hourly", LogDate: hr, CreatedDate: hr.Add(3 * time.Hour), Rows: []sftest.UsageRow{row(hr.Add(5*time.Minute), usual, 10, sftest.UsualTime)}})
	}
	d.org.SetNow(next.Add(8 * time.Hour))
	for range 2 {
		if err := d.r.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	start, end := d.r.detect.tr.APIWindow()
	if !start.Equal(at(5, 0)) || !end.Equal(next.Add(5*time.Hour)) {
		t.Fatalf("window %v to %v, want 05:00 to 05:00", start, end)
	}
	f := d.figures("Acme ERP Sync")
	if want := int64(11 + 2 + 3 + 4 + 5); f.RequestsFromNewNetworks != want {
		t.Errorf("%d requests from new networks, want %d", f.RequestsFromNewNetworks, want)
	}
	for _, e := range d.r.detect.tr.Evidence(f.Key, start, end) {
		if e.Network == "100.127.10.0/24" && (!e.FirstSeen.Equal(at(10, 41)) || !e.LastSeen.Before(at(11, 1)) || e.LastSeen.Before(at(10, 59))) {
			t.Errorf("first and last seen %v, %v: want 10:41 and the run's last, 20 minutes on", e.FirstSeen, e.LastSeen)
		}
	}
	if !strings.Contains(logs.String(), "outside_period=17 no_time=13") {
		t.Errorf("no warning of the rows outside the period (17) and without a time (13):\n%s", logs.String())
	}
}
