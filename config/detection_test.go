package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
)

func TestDetectionConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Load("testdata/detection/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.Detection.TrackerConfig()
	if tc.IPv4Prefix != 22 || tc.IPv6Prefix != 48 || tc.MinBaseline != 14*24*time.Hour || tc.MaxNetworksPerApp != 2000 || tc.MaxObjectsPerApp != detect.DefaultMaxObjectsPerApp || len(tc.SensitiveObjects) != 3 {
		t.Fatalf("tracker config %+v", tc)
	}
	ioc := cfg.Detection.IOC()
	if ioc == nil || ioc.Names()[0] != "campaigns-2025" || ioc.MatchString("198.51.100.9") != 1 || ioc.MatchString("192.0.2.1") != 0 {
		t.Fatal("ioc list not loaded")
	}
	// Defaults without a detection section.
	cfg, err = Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if tc := cfg.Detection.TrackerConfig(); tc.IPv4Prefix != 24 || tc.MinBaseline != 7*24*time.Hour || len(tc.SensitiveObjects) != 6 || cfg.Detection.IOC() != nil {
		t.Fatalf("defaults %+v", tc)
	}
}

func TestDetectionConfigErrors(t *testing.T) {
	t.Parallel()
	head := "orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth:\n      flow: client_credentials\n      client_id: x\n      client_secret_file: secret\ndetection:\n"
	for body, want := range map[string]string{
		"  ipv4_prefix: 33\n":                                       ":9: detection.ipv4_prefix: 33 is outside 8..32 (24 groups an office or cloud subnet)",
		"  ipv6_prefix: 8\n":                                        ":9: detection.ipv6_prefix: 8 is outside 16..128 (48 groups one site)",
		"  min_baseline: a week\n":                                  `:9: "a week" is not a duration such as 90d, 5m or 1h30m`,
		"  sensitive_objects: [Account, \"Account,Contact\"]\n":     `:9: detection.sensitive_objects[1]: "Account,Contact" is not an object API name such as Account or Invoice__c`,
		"  sensitive_objects: [Account, Account]\n":                 `:9: detection.sensitive_objects[1]: "Account" is listed twice`,
		"  max_networks_per_app: 5\n":                               ":9: detection.max_networks_per_app: 5 is outside 10..100000",
		"  ioc_list: []\n":                                          ":9: ioc_list: unknown key (in detection)",
		"  ioc_lists:\n    - name: bad list\n      file: ioc.txt\n": `:10: detection.ioc_lists[0].name: "bad list" must be 1 to 64 letters, digits, '_', '.' or '-' (it is the list label's value)`,
		"  ioc_lists:\n    - name: a\n      file: ioc.txt\n    - name: a\n      file: ioc.txt\n": `:12: detection.ioc_lists[1].name: list "a" is listed twice`,
		"  ioc_lists:\n    - name: a\n":                                                    ":10: detection.ioc_lists[0].file: is required: a file with one address or CIDR a line",
		"  ioc_lists:\n    - name: a\n      file: missing.txt\n":                           ":11: detection.ioc_lists[0].file: stat testdata/detection/missing.txt: no such file or directory",
		"  ioc_lists:\n    - name: a\n      file: broad-ioc.txt\n":                         `:11: detection.ioc_lists[0].file: testdata/detection/broad-ioc.txt:2: 0.0.0.0/0 is shorter than /8: it would match a large part of the Internet (every app would page); list the attacker's own networks`,
		"  ioc_lists:\n    - name: a\n      file: ioc.txt\n      url: https://x.example\n": ":12: url: unknown key (in an ioc list)",
	} {
		dir := "testdata/detection"
		p := filepath.Join(dir, "case.yml")
		_, err := Parse([]byte(head+body), p)
		if err == nil {
			t.Errorf("%q: no error", body)
			continue
		}
		if got := strings.TrimPrefix(err.Error(), p); got != want {
			t.Errorf("%q:\n got %s\nwant %s", body, got, want)
		}
	}
}

func TestDetectionReloadReadsTheListAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"secret":  "s3cr3t-test-value\n",
		"ioc.txt": "203.0.113.7\n",
		"c.yml":   "orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth:\n      flow: client_credentials\n      client_id: x\n      client_secret_file: secret\ndetection:\n  ioc_lists:\n    - {name: a, file: ioc.txt}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(filepath.Join(dir, "c.yml"))
	if err != nil || cfg.Detection.IOC().MatchString("192.0.2.1") != 0 {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "ioc.txt"), []byte("192.0.2.0/24\n"), 0o600)
	cfg, err = Load(filepath.Join(dir, "c.yml"))
	if err != nil || cfg.Detection.IOC().MatchString("192.0.2.1") != 1 || cfg.Detection.IOC().MatchString("203.0.113.7") != 0 {
		t.Fatal("a reload did not read the list again", err)
	}
}

// TestDetectionIOCLineSkippedWithWarning: a line that holds no address is
// skipped with a config warning naming the file and line; the list loads.
func TestDetectionIOCLineSkippedWithWarning(t *testing.T) {
	t.Parallel()
	dir := "testdata/detection"
	p := filepath.Join(dir, "case.yml")
	body := "orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth:\n      flow: client_credentials\n      client_id: x\n      client_secret_file: secret\ndetection:\n  ioc_lists:\n    - name: a\n      file: bad-ioc.txt\n"
	cfg, err := Parse([]byte(body), p)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(cfg.Warnings, "\n")
	for _, want := range []string{
		`detection.ioc_lists[0].file: testdata/detection/bad-ioc.txt:2: "not-an-address" is not an IP address or CIDR prefix such as 203.0.113.0/24; skipped`,
		"detection.ioc_lists[0].file: testdata/detection/bad-ioc.txt: skipped 1 lines that hold no IP address or CIDR prefix; read 1 addresses and prefixes",
	} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings:\n%s\nwant %s", w, want)
		}
	}
	if got := cfg.Detection.IOC().MatchString("203.0.113.7"); got != 1 {
		t.Errorf("the list's address matches %b", got)
	}
}

// TestGuardIOCReload: a reloaded list that is empty, or under half the
// list in force and at least 10 entries smaller, is replaced by the list
// in force; a small hand edit is taken; a shrink read twice in a row is
// taken, an empty list never is.
func TestGuardIOCReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func(lists map[string]int) *Config {
		t.Helper()
		body := "orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth:\n      flow: client_credentials\n      client_id: x\n      client_secret_file: secret\ndetection:\n  ioc_lists:\n"
		for _, name := range []string{"a", "b"} {
			var b strings.Builder
			for i := range lists[name] {
				fmt.Fprintf(&b, "10.0.%d.%d\n", i>>8, i&0xff)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			body += fmt.Sprintf("    - {name: %s, file: %s.txt}\n", name, name)
		}
		if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cr3t-test-value\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Parse([]byte(body), filepath.Join(dir, "c.yml"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	sizes := func(c *Config) map[string]int {
		out := map[string]int{}
		for _, l := range c.Detection.IOC().Lists() {
			out[l.Name] = l.Entries()
		}
		return out
	}
	cur := load(map[string]int{"a": 100, "b": 12})
	step := func(a, b int, wantA, wantB int, refused ...string) {
		t.Helper()
		next := load(map[string]int{"a": a, "b": b})
		r, err := next.Detection.GuardIOCReload(&cur.Detection)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range r {
			names = append(names, x.List)
		}
		if got := sizes(next); got["a"] != wantA || got["b"] != wantB || strings.Join(names, ",") != strings.Join(refused, ",") {
			t.Fatalf("a %d, b %d read: in force %v, refused %v; want a %d, b %d, refused %v", a, b, got, names, wantA, wantB, refused)
		}
		cur = next
	}
	step(100, 5, 100, 5)     // b: 7 fewer, a hand edit
	step(0, 5, 100, 5, "a")  // a caught empty
	step(0, 5, 100, 5, "a")  // empty again: still refused
	step(40, 5, 100, 5, "a") // a under half
	step(40, 5, 40, 5)       // the same content again: meant
	step(41, 0, 41, 5, "b")  // b empty: refused, however small it was
	if cur.Detection.IOC().MatchString("10.0.0.40") != 1 {
		t.Error("the list in force does not match")
	}
}
