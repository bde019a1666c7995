package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seeItFire returns the shell block of the README's "See it fire" section.
func seeItFire(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "### See it fire")
	if i < 0 {
		t.Fatal("README has no See it fire section")
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n")
	if start < 0 {
		t.Fatal("See it fire has no sh block")
	}
	s = s[start+len("```sh\n"):]
	end := strings.Index(s, "```")
	if end < 0 {
		t.Fatal("See it fire's sh block does not end")
	}
	return s[:end]
}

// TestReadmeSeeItFire runs the README's walkthrough as written, from the
// repository root, with two kinds of change only: free ports instead of the
// well-known ones (other tests run beside it), and shorter waits (the demo's
// surge after 5s instead of 2m, 1s scrapes, 45s instead of 240s). It checks
// that Prometheus loaded the rules (a rule_files path it could not resolve
// once loaded zero rules without a word) and that the alerts the README
// promises come out of the last command.
func TestReadmeSeeItFire(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	tool(t, "prometheus")
	tool(t, "alertmanager")
	for _, bin := range []string{"jq", "curl", "bash"} {
		tool(t, bin)
	}
	block := seeItFire(t)
	exporterPort, amPort, promPort := port(t), port(t), port(t)
	for _, s := range []string{":10157", ":9093", ":9090", "--demo.surge-after=2m", "scrape_interval: 15s, evaluation_interval: 15s", "sleep 240"} {
		if !strings.Contains(block, s) {
			t.Fatalf("the walkthrough no longer contains %q; update this test with it", s)
		}
	}
	script := strings.NewReplacer(
		":10157", ":"+exporterPort,
		":9093", ":"+amPort,
		":9090", ":"+promPort,
		"--demo.surge-after=2m", "--demo.surge-after=5s",
		"scrape_interval: 15s, evaluation_interval: 15s", "scrape_interval: 1s, evaluation_interval: 1s",
		// Wait for the rules to load, say how many, then wait as the README does.
		"sleep 240", "until curl -sf localhost:"+promPort+"/api/v1/rules >/dev/null; do sleep 1; done; "+
			"echo rules: $(curl -s localhost:"+promPort+"/api/v1/rules | jq '[.data.groups[].rules[]] | length'); sleep 45",
	).Replace(block)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = ".."
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A file, not a pipe: the servers the walkthrough leaves running in the
	// background keep its output open, and Run would wait for them.
	outPath := filepath.Join(t.TempDir(), "out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	// Stop those servers (the script's process group) before anything else.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	time.Sleep(2 * time.Second)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	b, _ := os.ReadFile(outPath)
	got := string(b)
	if err != nil {
		t.Fatalf("walkthrough: %v\n%s", err, tail(got, 4096))
	}
	if strings.Contains(got, "rules: 0") || !strings.Contains(got, "rules: ") {
		t.Errorf("Prometheus did not load the mixin's rules:\n%s", tail(got, 4096))
	}
	for _, want := range []string{
		"SalesforceUnknownAppAuthorized demo My Data Loader Pro",
		"SalesforceNewAppAuthorized demo My Data Loader Pro",
		"SalesforceNewUnknownAppWithUsers demo My Data Loader Pro",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the walkthrough's last command does not list %q:\n%s", want, tail(got, 4096))
		}
	}
}

// port returns a free loopback port.
func port(t *testing.T) string {
	t.Helper()
	_, p, _ := strings.Cut(freeAddr(t), ":")
	return p
}
