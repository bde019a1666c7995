package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// Issue 24 item 2: one hostile ApiTotalUsage file must not drive the
// exporter's memory past 200 MB, whatever its shape. Each shape is
// generated row by row as it is served (never held), read by the real
// binary, and its peak RSS (VmHWM) checked.

// hostileColumns is a compact ApiTotalUsage header: the fewer bytes a row
// takes, the more distinct keys a file of a given size holds.
var hostileColumns = []string{"CONNECTED_APP_ID", "CONNECTED_APP_NAME", "STATUS_CODE", "CLIENT_IP", "ENTITY_NAME", "USER_ID", "TIMESTAMP_DERIVED"}

// hostileShape writes rows of about size bytes in all.
type hostileShape struct {
	name string
	// row is the ith row.
	row func(i int, r *sftest.UsageRow)
	// folded is the cap label whose folded rows the shape must raise.
	folded string
}

// hostileID is a 15-character Id, distinct for each n.
func hostileID(prefix string, n int) string {
	s := strconv.FormatInt(int64(n), 36)
	return prefix + strings.Repeat("0", 12-len(s)) + s
}

// longName pads a distinct name to n bytes: long names make a key cost the
// most memory (1,024 bytes is the longest the reader keeps).
func longName(base string, n int) string {
	if len(base) >= n {
		return base
	}
	return base + strings.Repeat("x", n-len(base))
}

var hostileShapes = []hostileShape{
	{name: "distinct app ids", folded: "apps", row: func(i int, r *sftest.UsageRow) {
		r.AppID, r.AppName = hostileID("0H4", i), "App "+strconv.Itoa(i)
	}},
	{name: "distinct long app names", folded: "apps", row: func(i int, r *sftest.UsageRow) {
		r.AppID, r.AppName = hostileID("0H4", i), longName("App "+strconv.Itoa(i)+" ", 1000)
	}},
	{name: "distinct objects for one app", folded: "objects", row: func(i int, r *sftest.UsageRow) {
		r.AppID, r.AppName, r.Entity = hostileID("0H4", 1), "One app", "Obj"+strconv.Itoa(i)+"__c"
	}},
	{name: "distinct long objects over many apps", folded: "objects", row: func(i int, r *sftest.UsageRow) {
		r.AppID, r.AppName, r.Entity = hostileID("0H4", i%5000), "App "+strconv.Itoa(i%5000), longName("Obj"+strconv.Itoa(i)+"_", 1000)
	}},
	{name: "250 apps x 4,000 networks", folded: "networks", row: func(i int, r *sftest.UsageRow) {
		app, n := i%250, (i/250)%4000
		r.AppID, r.AppName = hostileID("0H4", app), "App "+strconv.Itoa(app)
		r.ClientIP = fmt.Sprintf("10.%d.%d.1", n>>8, n&0xff)
	}},
	{name: "distinct networks over 5,000 apps", folded: "networks", row: func(i int, r *sftest.UsageRow) {
		app, n := i%5000, i/5000
		r.AppID, r.AppName = hostileID("0H4", app), "App "+strconv.Itoa(app)
		r.ClientIP = fmt.Sprintf("10.%d.%d.1", (n>>8)&0xff, n&0xff)
		r.Entity = "Obj" + strconv.Itoa(i%7) + "__c"
	}},
}

// hostileFile is a Daily file for yesterday of about size bytes in the
// shape, after marker rows of a real app (777 requests) that the test waits
// for. Nothing of it is held: each download writes it again.
func hostileFile(org *sftest.Org, marker sftest.App, s hostileShape, size int64) *sftest.LogFile {
	ld := org.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	return &sftest.LogFile{LogDate: ld, CreatedDate: org.Now(), Retention: 30 * 24 * time.Hour, Columns: hostileColumns,
		Generate: func(emit func(sftest.UsageRow)) {
			emit(sftest.UsageRow{AppID: marker.ID, AppName: marker.Name, StatusCode: 200, Count: 777, Time: ld.Add(time.Hour)})
			var written int64
			for i := 0; written < size; i++ {
				r := sftest.UsageRow{StatusCode: 200, User: i % 50, Time: ld.Add(time.Duration(i%86400) * time.Second), ClientIP: "203.0.113.7", Entity: "Account"}
				s.row(i, &r)
				// A row's bytes: 7 quoted values, their commas and the line end.
				written += int64(len(r.AppID)+len(r.AppName)+3+len(r.ClientIP)+len(r.Entity)+15+24) + 7*2 + 6 + 1
				emit(r)
			}
		}}
}

// hostileStack is newStack with a request timeout long enough to download a
// large file on a busy machine (the bound under test is memory), and a
// watchdog that kills the exporter before a regression takes the machine's
// memory.
func hostileStack(t *testing.T, org *sftest.Org) *stack {
	t.Helper()
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	s := &stack{org: org, srv: srv, url: ts.URL, dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cfg = filepath.Join(s.dir, "config.yml")
	s.writeConfig(t, strings.Replace(fastSources, "timeout: 3s", "timeout: 10m", 1))
	s.e = startHostileExporter(t, s)
	return s
}

func startHostileExporter(t *testing.T, s *stack) *exporter {
	t.Helper()
	e := startExporter(t, "--config.file="+s.cfg, "--storage.path="+filepath.Join(s.dir, "data"), "--log.level=debug")
	go func() {
		for {
			select {
			case err := <-e.done:
				e.done <- err
				return
			case <-time.After(20 * time.Millisecond):
			}
			if vmHWM(e.cmd.Process.Pid) > 600<<20 {
				_ = e.cmd.Process.Kill()
			}
		}
	}()
	return e
}

// waitLong is waitFor without its three-minute limit: a large file takes
// longer than that to generate, compress and read on a busy machine.
func waitLong(t *testing.T, e *exporter, limit time.Duration, what string, cond func(map[string]*metricFamily) bool) map[string]*metricFamily {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-e.done:
			e.done <- err
			t.Fatalf("the exporter ended (%v, peak RSS over the watchdog's 600 MB?) while waiting for %s", err, what)
		default:
		}
		if m := e.scrape(t); cond(m) {
			return m
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
	return nil
}

// hostileUsageSize is the size of each shape's file: 64 MiB, or
// HOSTILE_USAGE_MB (1024 for the gigabyte of the issue).
func hostileUsageSize(t *testing.T) int64 {
	t.Helper()
	if v := os.Getenv("HOSTILE_USAGE_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		return int64(n) << 20
	}
	return 64 << 20
}

// TestHostileUsageShapesBounded: each shape is ingested, its marker rows
// counted; the excess is folded and counted in
// salesforce_api_usage_rows_folded_total with a log line naming the file
// and the cap, and the peak RSS stays under 200 MB. After a restart on the
// state the file left, the peak RSS stays under 200 MB too.
func TestHostileUsageShapesBounded(t *testing.T) {
	size := hostileUsageSize(t)
	for _, shape := range hostileShapes {
		t.Run(strings.ReplaceAll(shape.name, " ", "_"), func(t *testing.T) {
			org := faultOrg()
			s := hostileStack(t, org)
			s.e.waitFor(t, "all sources up", allUp)
			marker := org.Apps()[2]
			f := hostileFile(org, marker, shape, size)
			org.AddLogFile(f)
			start := time.Now()
			l := []string{"org=prod", "app=" + marker.Name, "app_id=" + marker.ID, "window=24h"}
			m := waitLong(t, s.e, 20*time.Minute, "the hostile file ingested", func(m map[string]*metricFamily) bool {
				v, _ := value(m, "salesforce_connected_app_api_requests", l...)
				return v == 777
			})
			series := 0
			var body int
			for _, f := range m {
				series += len(f.Series)
				body = len(f.Raw)
			}
			t.Logf("%s, %d MiB: ingested in %v; /metrics %d series, %d KiB", shape.name, size>>20, time.Since(start).Round(time.Second), series, body>>10)
			if v, _ := value(m, "salesforce_api_usage_rows_folded_total", "org=prod", "cap="+shape.folded); v == 0 {
				t.Errorf("salesforce_api_usage_rows_folded_total{cap=%q} is 0: the excess was not folded", shape.folded)
			}
			if !regexp.MustCompile(`cap=` + shape.folded + `[^\n]*file=` + f.ID + `|file=` + f.ID + `[^\n]*cap=` + shape.folded).MatchString(s.e.log()) {
				t.Errorf("no log line names the file %s and the %s cap", f.ID, shape.folded)
			}
			checkRSS(t, fmt.Sprintf("%s (%d MiB)", shape.name, size>>20), peakRSS(t, s.e.cmd.Process.Pid))

			// A restart reads the state the file left.
			if err := s.e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			err := <-s.e.done
			s.e.done <- err
			st, _ := os.Stat(filepath.Join(s.dir, "data", "prod.state.json"))
			if st != nil {
				t.Logf("%s: state file %d KiB", shape.name, st.Size()>>10)
			}
			e := startHostileExporter(t, s)
			waitLong(t, e, 5*time.Minute, "all sources up after a restart", func(m map[string]*metricFamily) bool {
				v, _ := value(m, "salesforce_connected_app_api_requests", l...)
				return allUp(m) && v == 777
			})
			checkRSS(t, shape.name+": restart on its state", peakRSS(t, e.cmd.Process.Pid))
		})
	}
}
