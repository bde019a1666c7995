package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// iocStack is a stack whose config has two IOC lists, a.txt and b.txt, in
// its folder.
func iocStack(t *testing.T, a, b string) *stack {
	t.Helper()
	org := faultOrg()
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	s := &stack{org: org, srv: srv, url: ts.URL, dir: t.TempDir()}
	for name, body := range map[string]string{"secret": sftest.TestCredentials.ClientSecret, "a.txt": a, "b.txt": b} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.cfg = filepath.Join(s.dir, "config.yml")
	s.writeConfig(t, fastSources)
	cfg := mustRead(t, s.cfg) + "detection:\n  ioc_lists:\n    - name: a\n      file: a.txt\n    - name: b\n      file: b.txt\n"
	if err := os.WriteFile(s.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.e = startExporter(t, "--config.file="+s.cfg, "--storage.path="+filepath.Join(s.dir, "data"), "--log.level=debug")
	return s
}

// addresses is a list of n distinct IPv4 addresses from base.
func addresses(n, base int) string {
	var b strings.Builder
	for i := range n {
		v := base + i
		fmt.Fprintf(&b, "10.%d.%d.%d\n", v>>16&0xff, v>>8&0xff, v&0xff)
	}
	return b.String()
}

// reloadAndWait sends SIGHUP and waits for the reload's log line.
func reloadAndWait(t *testing.T, e *exporter) {
	t.Helper()
	before := strings.Count(e.log(), `msg="Config reloaded"`) + strings.Count(e.log(), `msg="Config reload failed`)
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLimit)
	for strings.Count(e.log(), `msg="Config reloaded"`)+strings.Count(e.log(), `msg="Config reload failed`) == before {
		if time.Now().After(deadline) {
			t.Fatal("no reload logged")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIOCListShrinkRefusedOnReload (issue 24 item 7): a reload that reads
// a list empty (a `cat new > list` caught after its truncation) or at less
// than half its size keeps the list in force, says so in the log and in
// salesforce_exporter_ioc_list_reload_refused_total, and the other list
// and the rest of the config still reload; each list's size is exported.
// A shrink read twice in a row is meant, and taken.
func TestIOCListShrinkRefusedOnReload(t *testing.T) {
	t.Parallel()
	s := iocStack(t, addresses(1000, 0), addresses(50, 1<<16))
	entries := func(list string, want float64) func(m map[string]*metricFamily) bool {
		return func(m map[string]*metricFamily) bool {
			v, ok := value(m, "salesforce_exporter_ioc_list_entries", "list="+list)
			return ok && v == want
		}
	}
	refused := func(m map[string]*metricFamily, list string) float64 {
		v, _ := value(m, "salesforce_exporter_ioc_list_reload_refused_total", "list="+list)
		return v
	}
	s.e.waitFor(t, "both lists' sizes", func(m map[string]*metricFamily) bool { return entries("a", 1000)(m) && entries("b", 50)(m) })

	write := func(name, body string) {
		t.Helper()
		// As `cat new > list` does: truncate, then write.
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// a.txt caught empty; b.txt grown.
	write("a.txt", "")
	write("b.txt", addresses(80, 1<<16))
	reloadAndWait(t, s.e)
	m := s.e.scrape(t)
	if !entries("a", 1000)(m) || !entries("b", 80)(m) || refused(m, "a") != 1 || refused(m, "b") != 0 {
		t.Fatalf("after an empty a.txt: a %v entries (refused %v), b %v", m["salesforce_exporter_ioc_list_entries"].Series, refused(m, "a"), refused(m, "b"))
	}
	if v, _ := value(m, "salesforce_exporter_config_last_reload_successful"); v != 1 {
		t.Errorf("config_last_reload_successful %v: the rest of the reload applies", v)
	}
	if lg := s.e.log(); !strings.Contains(lg, "IOC list refused on reload") || !strings.Contains(lg, "a.txt now holds no addresses (it held 1000)") {
		t.Errorf("the log does not name the refused list:\n%s", tailStr(lg, 2000))
	}

	// a.txt caught at a quarter: refused; read so again: taken.
	write("a.txt", addresses(250, 0))
	reloadAndWait(t, s.e)
	m = s.e.scrape(t)
	if !entries("a", 1000)(m) || refused(m, "a") != 2 {
		t.Fatalf("a.txt at a quarter: %v entries, refused %v", m["salesforce_exporter_ioc_list_entries"].Series, refused(m, "a"))
	}
	reloadAndWait(t, s.e)
	m = s.e.scrape(t)
	if !entries("a", 250)(m) || refused(m, "a") != 2 {
		t.Fatalf("a.txt at a quarter, read twice: %v entries, refused %v", m["salesforce_exporter_ioc_list_entries"].Series, refused(m, "a"))
	}
	// Grown back: taken at once.
	write("a.txt", addresses(900, 0))
	reloadAndWait(t, s.e)
	if m = s.e.scrape(t); !entries("a", 900)(m) {
		t.Fatalf("a.txt grown back: %v entries", m["salesforce_exporter_ioc_list_entries"].Series)
	}
}

// TestIOCListsMemoryBounded (issue 24 item 8): two IOC lists at the entry
// bound (1,000,000 IPv4 addresses, padded with comments to the 64 MiB file
// bound) are validated, loaded and reloaded three times within 200 MB of
// peak RSS; a 64 MiB list of 8 million addresses is refused, naming the
// bound, within it too.
func TestIOCListsMemoryBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full := func(name string, base int) string {
		p := filepath.Join(dir, name)
		body := addresses(1_000_000, base)
		pad := strings.Repeat("# "+strings.Repeat("x", 1021)+"\n", (64<<20-len(body))/1024)
		if err := os.WriteFile(p, []byte(body+pad), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full("a.txt", 0)
	full("b.txt", 1<<23)
	s := iocStack(t, "", "")
	for _, n := range []string{"a.txt", "b.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, rss := runBinaryRSS(t, 5*time.Minute, "--config.file="+s.cfg, "--config.check")
	if code != 0 {
		t.Fatalf("--config.check: exit %d\n%s", code, tailStr(out, 2000))
	}
	checkRSS(t, "--config.check of two 64 MiB lists of 1,000,000 addresses", rss)
	for range 3 {
		reloadAndWait(t, s.e)
	}
	s.e.waitFor(t, "both lists in force", func(m map[string]*metricFamily) bool {
		a, _ := value(m, "salesforce_exporter_ioc_list_entries", "list=a")
		b, _ := value(m, "salesforce_exporter_ioc_list_entries", "list=b")
		return a == 1_000_000 && b == 1_000_000
	})
	checkRSS(t, "two lists of 1,000,000 addresses, reloaded three times", peakRSS(t, s.e.cmd.Process.Pid))

	// 8 million addresses in 64 MiB: refused at the entry bound.
	var b strings.Builder
	b.Grow(64 << 20)
	for i := 0; b.Len() < 64<<20-16; i++ {
		fmt.Fprintf(&b, "%d.%d.%d.%d\n", 11+i>>24&0x3f, i>>16&0xff, i>>8&0xff, i&0xff)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "a.txt"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, rss = runBinaryRSS(t, 5*time.Minute, "--config.file="+s.cfg, "--config.check")
	if code == 0 || !strings.Contains(out, "more than 1000000 addresses and prefixes, the most a list may hold") {
		t.Errorf("a list of 8 million addresses: exit %d\n%s", code, tailStr(out, 2000))
	}
	checkRSS(t, "--config.check of a 64 MiB list of 8 million addresses", rss)
}
