package refresh

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaleTempFilesRemovedAtStart: a crash between creating and renaming a
// state temporary file leaves it behind; the next start removes this org's
// old ones and nothing else.
func TestStaleTempFilesRemovedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := saveState(dir, newOrgState("prod")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	files := map[string]bool{ // name: should survive
		"prod.state.json.tmp-123":     false,
		"prod.state.json.tmp-456":     false,
		"prod.state.json.tmp-fresh":   true, // a save in progress (say, the serving exporter's)
		"other.state.json.tmp-1":      true, // another org's
		"prod.state.json.corrupt-x":   true, // set aside for inspection
		"notes.tmp-1":                 true,
		"prod.state.json":             true,
		"prod[1].state.json.tmp-glob": true,
	}
	for name := range files {
		p := filepath.Join(dir, name)
		if name != "prod.state.json" {
			writeFile(t, p, "{")
		}
		if name != "prod.state.json.tmp-fresh" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	var logs bytes.Buffer
	st := loadState(dir, "prod", slog.New(slog.NewTextHandler(&logs, nil)))
	if st.Org != "prod" || strings.Contains(logs.String(), "set it aside") {
		t.Fatalf("state not loaded: %+v\n%s", st, logs.String())
	}
	for name, survive := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != survive {
			t.Errorf("%s: exists=%v, want %v", name, got, survive)
		}
	}
	if n := strings.Count(logs.String(), "Removed a temporary state file"); n != 2 {
		t.Errorf("%d log lines, want one per removed file:\n%s", n, logs.String())
	}
}
