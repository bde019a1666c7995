package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
)

// readmeShellBlocks returns the ```sh blocks of the README's section under
// heading (a "## " or "### " line), up to the next heading of any level.
// The Quick start test runs them; a walkthrough of another section (the
// Kubernetes one, with helm) can be run the same way.
func readmeShellBlocks(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q heading", heading)
	}
	s = s[i+len(heading)+2:]
	if j := regexp.MustCompile(`(?m)^#{2,3} `).FindStringIndex(s); j != nil {
		s = s[:j[0]]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(s, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		t.Fatalf("README's %q has no sh block", heading)
	}
	return blocks
}

// shellLines are a block's commands, comments and blank lines left out.
func shellLines(block string) []string {
	var out []string
	for l := range strings.Lines(block) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestReadmeQuickStart (issue 25) follows the README's Quick start as
// written, in a temporary folder: it builds the binary, starts the demo,
// and runs every command of the second block (check, review, the inventory
// bootstrap, a revoke dry run) with DEMO set to the folder the demo's start
// line names. The only changes: the binary is built into the temporary
// folder, the demo listens on a free port, and its surge comes after 1s.
// The inventory written loads strictly into the demo's config.
func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	blocks := readmeShellBlocks(t, "## Quick start")
	if len(blocks) < 2 {
		t.Fatalf("the Quick start has %d sh blocks, want the demo's and the commands against it", len(blocks))
	}
	first := shellLines(blocks[0])
	if len(first) != 1 || !strings.HasPrefix(first[0], "go build . && ./salesforce_oauth_exporter --demo") {
		t.Fatalf("the Quick start's first block changed; update this test: %q", first)
	}
	dir := t.TempDir()
	repo, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", dir, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build .: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "salesforce_oauth_exporter")
	e := startBinary(t, bin, "--demo", "--demo.surge-after=1s")
	m := regexp.MustCompile(`demo_folder=(\S+)`).FindStringSubmatch(e.log())
	if m == nil {
		t.Fatalf("the demo's start line names no demo_folder:\n%s", e.log())
	}
	demo := m[1]
	e.waitFor(t, "the demo's surge app", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_connected_app_oauth_tokens", "org=demo", "app=My Data Loader Pro", "app_id=")
		return v == 20
	})
	outputs := map[string]string{}
	for _, line := range shellLines(blocks[1]) {
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DEMO="+demo)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
		}
		outputs[line] = string(out)
	}
	var sawReview, sawRevoke bool
	for line, out := range outputs {
		switch {
		case strings.Contains(line, " check "):
			if !strings.Contains(out, "demo") {
				t.Errorf("check says nothing of the demo org:\n%s", out)
			}
		case strings.Contains(line, " review ") && !strings.Contains(line, "--format=inventory"):
			sawReview = true
			if !strings.Contains(out, "My Data Loader Pro") {
				t.Errorf("the review does not name the unknown app:\n%.2000s", out)
			}
		case strings.Contains(line, " revoke "):
			sawRevoke = true
			if !strings.Contains(out, "My Data Loader Pro") {
				t.Errorf("the revoke dry run does not list the app's tokens:\n%.2000s", out)
			}
		}
	}
	if !sawReview || !sawRevoke {
		t.Errorf("the Quick start runs no review (%v) or no revoke (%v)", sawReview, sawRevoke)
	}
	// The inventory bootstrap, made the demo config's inventory, loads.
	inv, err := os.ReadFile(filepath.Join(dir, "inventory.yml"))
	if err != nil {
		t.Fatalf("the inventory bootstrap: %v", err)
	}
	cfg, err := os.ReadFile(filepath.Join(demo, "demo.yml"))
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(cfg), "\ninventory:\n")
	if !ok {
		t.Fatalf("the demo's config has no inventory:\n%s", cfg)
	}
	merged := filepath.Join(demo, "with-bootstrap.yml")
	if err := os.WriteFile(merged, []byte(head+"\n"+string(inv)), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Load(merged)
	if err != nil {
		t.Fatalf("the demo's config with the bootstrap inventory does not load: %v\n%s", err, inv)
	}
	if e := loaded.InventoryFor("demo", "My Data Loader Pro", ""); e == nil {
		t.Errorf("the bootstrap does not list the unknown app:\n%s", inv)
	}
}
