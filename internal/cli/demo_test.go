package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDemoIsQuietAndNamesItsCommands (issue 25): the demo logs no warning or
// error about its own setup (its inventory names apps by Id, its intervals
// fit its budget, its log files' rows are dated inside their hour, the
// org's refusal of aggregate queries is one INFO line without the error),
// its start line says how to run check, review and revoke against it, and
// its surge makes Acme ERP Sync's 24-hour requests about ten times its
// daily average, as the README says.
func TestDemoIsQuietAndNamesItsCommands(t *testing.T) {
	t.Parallel()
	e := startExporter(t, "--demo", "--demo.surge-after=1s")
	var ratio float64
	e.waitFor(t, "the surge app and Acme ERP Sync's surge", func(m map[string]*metricFamily) bool {
		phish, _ := value(m, "salesforce_connected_app_oauth_tokens", "org=demo", "app=My Data Loader Pro", "app_id=")
		requests := func(window string) (float64, bool) {
			f := m["salesforce_connected_app_api_requests"]
			if f == nil {
				return 0, false
			}
			for k, v := range f.Series {
				if strings.Contains(k, "app=Acme ERP Sync,") && strings.Contains(k, "window="+window) {
					return v, true
				}
			}
			return 0, false
		}
		day, ok1 := requests("24h")
		week, ok2 := requests("7d")
		if !ok1 || !ok2 || week <= day {
			return false
		}
		// The alert's figure: the last 24 hours over the average of the six days before.
		ratio = day / ((week - day) / 6)
		return phish == 20 && ratio > 5
	})
	if ratio < 8 || ratio > 12.5 {
		t.Errorf("Acme ERP Sync's 24h requests are %.1f times its daily average, want about ten", ratio)
	}
	lg := e.log()
	for l := range strings.Lines(lg) {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("the demo logs a warning or error: %s", l)
		}
		if strings.Contains(l, "MALFORMED_QUERY") && !strings.Contains(l, "level=DEBUG") {
			t.Errorf("the aggregate query's error is logged above DEBUG: %s", l)
		}
	}
	start := regexp.MustCompile(`(?m)^.*msg="Demo org started.*$`).FindString(lg)
	for _, cmd := range []string{"check", "review", "revoke"} {
		m := regexp.MustCompile(cmd + `="(\S+) ` + cmd + ` --config.file=([^\s"]+)`).FindStringSubmatch(start)
		if m == nil {
			t.Errorf("the start line has no %s command: %s", cmd, start)
			continue
		}
		if _, err := os.Stat(m[2]); err != nil {
			t.Errorf("the %s command's config file: %v", cmd, err)
		}
	}
	// Without the stream, the stored API events are read (api_events):
	// every metric of its set is served, README-documented.
	documented := readmeMetrics(t)
	e.waitFor(t, "the stored API events read", func(m map[string]*metricFamily) bool {
		read, _ := value(m, "salesforce_api_events_read_total", "org=demo")
		return read > 0 && m["salesforce_api_events_last_event_timestamp_seconds"] != nil && m["salesforce_api_events_capped_reads_total"] != nil
	})
	m := e.waitFor(t, "Acme ERP Sync's stored API events", func(m map[string]*metricFamily) bool {
		return m["salesforce_api_events_app_requests_total"] != nil && m["salesforce_api_events_app_rows_processed_total"] != nil
	})
	for name := range documented {
		if strings.HasPrefix(name, "salesforce_api_events_") && m[name] == nil {
			t.Errorf("%s is in the README but the demo does not serve it", name)
		}
	}
	for _, name := range []string{"salesforce_api_events_read_total", "salesforce_api_events_last_event_timestamp_seconds", "salesforce_api_events_capped_reads_total",
		"salesforce_api_events_app_requests_total", "salesforce_api_events_app_rows_processed_total", "salesforce_api_events_app_events_folded_total"} {
		if !documented[name] {
			t.Errorf("%s is served but not in the README's metrics table", name)
		}
	}
}
