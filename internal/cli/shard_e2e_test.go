package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestTwoShardsServeEveryOrgOnce runs two exporter processes with
// --orgs.shards=2 over one config of six fake orgs: between them they serve
// every org exactly once, each says which shard it is, and no org is read by
// both.
func TestTwoShardsServeEveryOrgOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	names := []string{"prod", "sandbox", "emea", "apac", "uat", "dev"}
	servers := map[string]*sftest.Server{}
	var cfg strings.Builder
	cfg.WriteString("orgs:\n")
	for i, n := range names {
		org := sftest.NewOrg()
		org.Generate(sftest.Scale{Tokens: 200, Apps: 3, Users: 50, Seed: uint64(20 + i)})
		srv, ts := sftest.Start(t, org, sftest.TestCredentials)
		servers[n] = srv
		fmt.Fprintf(&cfg, "  - name: %s\n    login_url: %s\n    refresh_interval: 1m\n    auth:\n      flow: client_credentials\n      client_id: %s\n      client_secret_file: secret\n",
			n, ts.URL, sftest.TestCredentials.ClientID)
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// The two shards must each get some orgs for the test to mean anything.
	counts := [2]int{}
	for _, n := range names {
		counts[config.ShardOf(n, 2)]++
	}
	if counts[0] == 0 || counts[1] == 0 {
		t.Fatalf("the six names all hash to one shard (%v): pick other names", counts)
	}

	served := map[string][]int{}
	var exporters []*exporter
	for i := range 2 {
		// Shard 1 is given as a StatefulSet pod name, as the Helm chart does.
		shardFlag := map[int]string{0: "--orgs.shard=0", 1: "--orgs.shard=salesforce-oauth-exporter-1"}[i]
		e := startExporter(t, "--config.file="+path, "--storage.path="+filepath.Join(dir, fmt.Sprint("data", i)), shardFlag, "--orgs.shards=2", "--web.enable-review")
		waitReady(t, e)
		m := e.scrape(t)
		if v, ok := value(m, "salesforce_exporter_shard_info", fmt.Sprintf("shard=%d", i), "shards=2"); !ok || v != 1 {
			t.Errorf("shard %d: salesforce_exporter_shard_info{shard=%q,shards=\"2\"} missing: %v", i, fmt.Sprint(i), m["salesforce_exporter_shard_info"])
		}
		if v, _ := value(m, "salesforce_exporter_shard_orgs"); v != float64(counts[i]) {
			t.Errorf("shard %d: salesforce_exporter_shard_orgs = %v, want %d", i, v, counts[i])
		}
		if v, _ := value(m, "salesforce_exporter_shards"); v != 2 {
			t.Errorf("shard %d: salesforce_exporter_shards = %v, want 2", i, v)
		}
		for _, n := range names {
			if up, ok := value(m, "salesforce_up", "org="+n); ok {
				served[n] = append(served[n], i)
				if up != 1 {
					t.Errorf("shard %d: salesforce_up{org=%s} = %v", i, n, up)
				}
			}
		}
		exporters = append(exporters, e)
	}
	// One refresher per org in the whole fleet: one OAuth token issued. Checked
	// before /review, whose per-user read uses a client (and token) of its own.
	for _, n := range names {
		if got := len(servers[n].IssuedAccessTokens()); got != 1 {
			t.Errorf("org %s: %d access tokens issued, want 1 (read by one replica only)", n, got)
		}
	}
	for i, e := range exporters {
		resp, err := http.Get(e.addr + "/review.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got, want := resp.Header.Get("X-Salesforce-Exporter-Shard"), fmt.Sprintf("%d/2", i); got != want {
			t.Errorf("shard %d: /review.json X-Salesforce-Exporter-Shard = %q, want %q", i, got, want)
		}
		// The body names the shard too: a saved report says what it covers.
		var reports []review.Report
		if err := json.Unmarshal(body, &reports); err != nil {
			var one review.Report // a single org's report is an object
			if err := json.Unmarshal(body, &one); err != nil {
				t.Errorf("shard %d: /review.json: %v", i, err)
			}
			reports = []review.Report{one}
		}
		if len(reports) != counts[i] {
			t.Errorf("shard %d: %d reports, want %d", i, len(reports), counts[i])
		}
		for _, r := range reports {
			if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != 2 {
				t.Errorf("shard %d: /review.json of org %s names shard %+v", i, r.Org, r.Shard)
			}
		}
		if page := get(t, e.addr+"/review"); counts[i] > 0 && !strings.Contains(page, fmt.Sprintf("served by shard %d of 2", i)) {
			t.Errorf("shard %d: /review does not say \"served by shard %d of 2\"", i, i)
		}
		for _, n := range names {
			mine := config.ShardOf(n, 2) == i
			if in := strings.Contains(string(body), fmt.Sprintf("%q", n)); in != mine {
				t.Errorf("shard %d: /review.json covers org %s: %v, want %v", i, n, in, mine)
			}
		}
	}
	for _, n := range names {
		if len(served[n]) != 1 {
			t.Errorf("org %s served by shards %v, want exactly one", n, served[n])
		}
	}
}

// waitReady polls /-/ready until it answers 200.
func waitReady(t *testing.T, e *exporter) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(e.addr + "/-/ready")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/-/ready: status %d: %s", resp.StatusCode, body)
		}
		last = string(body)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("never ready; last answer: %s", last)
}

// TestReadyWaitsForTheFirstRefresh: /-/ready says 503 with the reason while
// an org's first refresh is outstanding, and 200 once it has failed and said
// why; /-/healthy is 200 throughout.
func TestReadyWaitsForTheFirstRefresh(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	org.Generate(sftest.Scale{Tokens: 200, Apps: 3, Users: 50, Seed: 5})
	srv, ts := sftest.Start(t, org, sftest.TestCredentials)
	srv.SetLatency(3 * time.Second) // the first refresh takes a while
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"))
	get := func(path string) (int, string) {
		resp, err := http.Get(e.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	// Until the refresher's goroutine runs, the org is "not started" (also
	// 503, with its reason); then its first refresh is outstanding for the
	// 3 s of latency. Never 200 before that refresh ends.
	code, body := get("/-/ready")
	for start := time.Now(); code == 503 && strings.Contains(body, "org prod: not started") && time.Since(start) < 10*time.Second; {
		time.Sleep(20 * time.Millisecond)
		code, body = get("/-/ready")
	}
	if code != 503 || !strings.Contains(body, "org prod: first refresh of") {
		t.Errorf("/-/ready during the first refresh: %d %q, want 503 saying %q", code, body, "org prod: first refresh of")
	}
	if code, body := get("/-/healthy"); code != 200 || !strings.Contains(body, "OK") {
		t.Errorf("/-/healthy during the first refresh: %d %q, want 200 saying OK", code, body)
	}
	srv.SetLatency(0)
	waitReady(t, e)

	// Credentials the org refuses: ready all the same once the refusal is
	// on record, with salesforce_up 0 saying so.
	bad := t.TempDir()
	badCfg := writeConfig(t, bad, ts.URL, "")
	if err := os.WriteFile(filepath.Join(bad, "secret"), []byte("a-revoked-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := startExporter(t, "--config.file="+badCfg, "--storage.path="+filepath.Join(bad, "data"))
	waitReady(t, e2)
	if up, ok := value(e2.scrape(t), "salesforce_up", "org=prod"); !ok || up != 0 {
		t.Errorf("refused credentials: ready, but salesforce_up = %v (present %v), want 0", up, ok)
	}
}

func TestShardFlagErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeConfig(t, dir, "https://acme.my.salesforce.com", "")
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--orgs.shards=0"}, "--orgs.shards=0: the number of shards must be at least 1"},
		{[]string{"--orgs.shards=2", "--orgs.shard=2"}, "shard 2 is outside 0..1"},
		{[]string{"--orgs.shards=2", "--orgs.shard=exporter"}, "StatefulSet pod name"},
	} {
		code, out := runBinary(t, time.Minute, append([]string{"--config.file=" + good, "--config.check"}, c.args...)...)
		if code != 1 || !strings.Contains(out, c.says) {
			t.Errorf("%v: exit %d, %q; want 1 saying %q", c.args, code, out, c.says)
		}
	}
	code, out := runBinary(t, time.Minute, "--config.file="+good, "--config.check", "--orgs.shards=3", "--orgs.shard=pod-"+fmt.Sprint(config.ShardOf("prod", 3)))
	if code != 0 || !strings.Contains(out, "1 org(s) on shard") {
		t.Errorf("check on the org's shard: exit %d, %q", code, out)
	}
}

// runBinary runs the exporter binary to completion: its output and exit code.
