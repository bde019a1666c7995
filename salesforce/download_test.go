package salesforce_test

import (
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// slowDownloadOrg is an org with one daily ApiTotalUsage file of 200 events,
// served by a fake whose log file downloads the test paces or stalls.
func slowDownloadOrg(t *testing.T) (*sftest.Server, string, *sftest.Org) {
	t.Helper()
	org := smallOrg()
	apps := org.Apps()
	org.AddLogFile(&sftest.LogFile{LogDate: org.Now().Add(-24 * time.Hour).Truncate(24 * time.Hour), Rows: []sftest.UsageRow{
		{AppID: apps[0].ID[:15], AppName: apps[0].Name, StatusCode: 200, Time: org.Now().Add(-20 * time.Hour), Count: 200, Spread: time.Hour},
	}})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	return srv, ts.URL, org
}

// download lists the org's one file and reads it whole, counting its events.
func download(t *testing.T, c *salesforce.Client, org *sftest.Org) (salesforce.EventLogFile, int, error) {
	t.Helper()
	files, err := c.EventLogFiles(t.Context(), "ApiTotalUsage", org.Now().Add(-72*time.Hour))
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, err %v", files, err)
	}
	rc, err := c.OpenLogFile(t.Context(), files[0])
	if err != nil {
		return files[0], 0, err
	}
	defer rc.Close()
	n, err := salesforce.ParseAPITotalUsage(rc, func(salesforce.UsageEvent) {})
	return files[0], n, err
}

// TestSlowLogFileDownloadCompletes: a log file whose body keeps flowing for
// about three times the HTTP client's whole-request timeout (1 s here, 2
// minutes by default) is read whole: that timeout covers the wait for the
// headers only, not the body. It once failed such a file on every refresh.
func TestSlowLogFileDownloadCompletes(t *testing.T) {
	t.Parallel()
	srv, url, org := slowDownloadOrg(t)
	c := newClient(t, url, salesforce.WithHTTPClient(&http.Client{Timeout: time.Second}))
	f, _, err := download(t, c, org) // unpaced: learn the file's length
	if err != nil {
		t.Fatal(err)
	}
	srv.SlowLogFiles(int64(f.LogFileLength) / 3) // about 3 s of steady bytes
	_, n, err := download(t, c, org)
	if err != nil || n != 200 {
		t.Fatalf("%d events, err %v; want all 200 of a file that is slow but flowing", n, err)
	}
}

// TestStalledLogFileDownloadFails: a body that stops flowing fails on the
// idle bound, with ErrDownloadStalled, though the overall bound is far off;
// a body that flows but too slowly for its LogFileLength fails with
// ErrDownloadTooSlow.
func TestStalledLogFileDownloadFails(t *testing.T) {
	t.Parallel()
	t.Run("stalled", func(t *testing.T) {
		t.Parallel()
		srv, url, org := slowDownloadOrg(t)
		srv.StallLogFiles(1000)
		c := newClient(t, url, salesforce.WithDownloadBounds(salesforce.DownloadBounds{HeaderTimeout: time.Minute, IdleTimeout: 500 * time.Millisecond}))
		_, _, err := download(t, c, org)
		if !errors.Is(err, salesforce.ErrDownloadStalled) {
			t.Fatalf("err = %v, want ErrDownloadStalled", err)
		}
	})
	t.Run("too slow", func(t *testing.T) {
		t.Parallel()
		srv, url, org := slowDownloadOrg(t)
		// The overall bound is the header wait plus the longer of the idle
		// bound and LogFileLength/MinBytesPerSecond: here 0.5 s + 1 s,
		// for a body that flows steadily (a slice every 50 ms) for 3 s.
		c := newClient(t, url, salesforce.WithDownloadBounds(salesforce.DownloadBounds{
			HeaderTimeout: 500 * time.Millisecond, IdleTimeout: time.Second, MinBytesPerSecond: 1 << 40}))
		f, _, err := download(t, c, org)
		if err != nil {
			t.Fatal(err)
		}
		srv.SlowLogFiles(int64(f.LogFileLength) / 3)
		_, _, err = download(t, c, org)
		if !errors.Is(err, salesforce.ErrDownloadTooSlow) {
			t.Fatalf("err = %v, want ErrDownloadTooSlow", err)
		}
	})
}

// TestDownloadTimeout: the overall bound of a download grows with the
// file's length at the minimum throughput, never below the header and idle
// bounds, never above MaxDownloadTimeout, whatever LogFileLength says.
func TestDownloadTimeout(t *testing.T) {
	t.Parallel()
	c := newClient(t, "https://login.salesforce.com", salesforce.WithDownloadBounds(salesforce.DownloadBounds{
		HeaderTimeout: time.Minute, IdleTimeout: 30 * time.Second, MinBytesPerSecond: 1000}))
	for _, tc := range []struct {
		length float64
		want   time.Duration
	}{
		{0, 90 * time.Second},
		{-5, 90 * time.Second},
		{10_000, 90 * time.Second},
		{120_000, 3 * time.Minute},
		{1e18, salesforce.MaxDownloadTimeout},
		{math.Inf(1), salesforce.MaxDownloadTimeout},
		{math.NaN(), 90 * time.Second},
	} {
		if got := c.DownloadTimeout(tc.length); got != tc.want {
			t.Errorf("DownloadTimeout(%v) = %v, want %v", tc.length, got, tc.want)
		}
	}
}
