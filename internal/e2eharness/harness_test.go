package e2eharness

import (
	"os"
	"path/filepath"
	"testing"
)

// TestParseMetricsAndValue: series are found by their labels in any order,
// a missing series or family says so, and a bad body is an error.
func TestParseMetricsAndValue(t *testing.T) {
	t.Parallel()
	body := []byte("# TYPE salesforce_up gauge\nsalesforce_up{org=\"prod\"} 1\nsalesforce_up{org=\"sandbox\"} 0\n# TYPE x_total counter\nx_total{b=\"2\",a=\"1\"} 7\n")
	m, err := ParseMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := Value(m, "salesforce_up", "org=prod"); !ok || v != 1 {
		t.Errorf("salesforce_up{org=prod} = %v %v, want 1", v, ok)
	}
	if v, ok := Value(m, "x_total", "b=2", "a=1"); !ok || v != 7 {
		t.Errorf("x_total = %v %v, want 7", v, ok)
	}
	if _, ok := Value(m, "salesforce_up", "org=other"); ok {
		t.Error("a series that is not there was found")
	}
	if _, ok := Value(m, "absent"); ok {
		t.Error("a family that is not there was found")
	}
	if len(m["salesforce_up"].Series) != 2 || string(m["salesforce_up"].Raw) != string(body) {
		t.Errorf("family: %+v", m["salesforce_up"])
	}
	if _, err := ParseMetrics([]byte("salesforce_up{org=\"prod\" 1\n")); err == nil {
		t.Error("a bad exposition parsed")
	}
}

// TestRepoRoot finds the module's root from a package folder.
func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "main.go")); err != nil {
		t.Errorf("%s: no main.go: %v", root, err)
	}
	if want, _ := filepath.Abs(filepath.Join("..", "..")); root != want {
		t.Errorf("root %s, want %s", root, want)
	}
}
