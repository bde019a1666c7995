package snapshot

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyCollectorAndCommandsUsePrometheus: no package of the module but
// collector/ and the commands (the root, internal/cli/) depends on
// client_golang, directly or not. depguard
// (.golangci.yml) checks direct imports; this checks every dependency.
func TestOnlyCollectorAndCommandsUsePrometheus(t *testing.T) {
	t.Parallel()
	const module = "github.com/salesforce-oauth-exporter/salesforce_oauth_exporter"
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{module: true, module + "/collector": true, module + "/internal/cli": true}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		checked++
		if allowed[pkg] {
			continue
		}
		for _, dep := range fields[1:] {
			if strings.HasPrefix(dep, "github.com/prometheus/client_golang") {
				t.Errorf("%s depends on %s: metrics belong in collector/", pkg, dep)
				break
			}
		}
	}
	if checked < 5 {
		t.Fatalf("go list named %d packages: %s", checked, out)
	}
}
