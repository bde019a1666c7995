package mixin

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-jsonnet"
	"go.yaml.in/yaml/v3"
)

// renderDetection renders the detection group (alerts/detection.libsonnet)
// on its own, as the mixin builds it: over the one config, with the runbook
// links every alert gets.
func renderDetection(t *testing.T) []byte {
	t.Helper()
	vm := jsonnet.MakeVM()
	vm.Importer(&fsImporter{cache: map[string]jsonnet.Contents{}})
	out, err := vm.EvaluateAnonymousSnippet("detection.jsonnet",
		"local m = import 'mixin.libsonnet'; std.manifestYamlDoc({ groups: [g for g in m.prometheusAlerts.groups if g.name == 'salesforce-detection'] }, indent_array_in_object=false, quote_keys=false)")
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

func TestDetectionAlertsHaveRunbooks(t *testing.T) {
	t.Parallel()
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert       string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(renderDetection(t), &rf); err != nil {
		t.Fatal(err)
	}
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			n++
			anchor := strings.ToLower(r.Alert)
			if !strings.Contains(string(runbooks), "\n## "+anchor+"\n") {
				t.Errorf("%s has no runbook section ## %s", r.Alert, anchor)
			}
			if !strings.HasSuffix(r.Annotations["runbook_url"], "#"+anchor) {
				t.Errorf("%s: runbook_url %q", r.Alert, r.Annotations["runbook_url"])
			}
		}
	}
	if n != 7 {
		t.Fatalf("%d detection alerts, want 7", n)
	}
}

// TestDetectionPromtool checks the detection alerts and runs their unit
// tests (tests/detection-test.yaml) with the real promtool.
func TestDetectionPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH; make test installs it")
		}
		t.Skip("promtool not on PATH")
	}
	dir := t.TempDir()
	for _, d := range []string{"rendered", "tests"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "rendered", "alerts.yaml"), renderDetection(t), 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("tests/detection-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tests", "detection-test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "rules", "rendered/alerts.yaml"},
		{"test", "rules", "tests/detection-test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
