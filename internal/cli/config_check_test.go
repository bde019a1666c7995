package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestConfigCheckWarnsOfInventoryWithoutAppID: an inventory entry without
// app_id approves any app of that name, a look-alike included; --config.check
// says so and still passes.
func TestConfigCheckWarnsOfInventoryWithoutAppID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "https://acme.my.salesforce.com", `inventory:
  - app: Data Loader
    owner: ops@example.com
  - app: Slack
    app_id: 0H4000000000001AAA
    owner: it@example.com
`)
	out, err := exec.Command(binary, "--config.file="+cfg, "--config.check").CombinedOutput()
	if err != nil {
		t.Fatalf("--config.check: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, `warning: `) || !strings.Contains(s, `inventory[0] (app "Data Loader"): no app_id`) || !strings.Contains(s, "add app_id") {
		t.Errorf("no warning about the entry without app_id:\n%s", s)
	}
	if strings.Contains(s, `"Slack"`) {
		t.Errorf("warned about an entry with app_id:\n%s", s)
	}
	// Each warning once: on stdout with the verdict, not logged again.
	if n := strings.Count(s, `inventory[0] (app "Data Loader"): no app_id`); n != 1 {
		t.Errorf("the warning is printed %d times, want once:\n%s", n, s)
	}
	if !strings.Contains(s, "OK: 1 org(s), 2 inventory entries") {
		t.Errorf("check did not pass:\n%s", s)
	}
}

// TestConfigCheckRefusesNaNBudget: api_budget_percent: .nan once passed
// --config.check and turned the API budget off.
func TestConfigCheckRefusesNaNBudget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "https://acme.my.salesforce.com", "")
	setRefreshInterval(t, cfg, "refresh_interval: 10s\n    api_budget_percent: .nan")
	out, err := exec.Command(binary, "--config.file="+cfg, "--config.check").CombinedOutput()
	if err == nil {
		t.Fatalf("--config.check passed a NaN budget:\n%s", out)
	}
	if !strings.Contains(string(out), "orgs[0].api_budget_percent: NaN is not a number") {
		t.Errorf("the error does not name the key:\n%s", out)
	}
}
