package cli

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const fakePkg = "github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"

// TestOnlyTheDemoImportsTheFake: the fake org is in the binary for --demo
// alone. Of every package the binary is built from, only this one and the
// fake Pub/Sub API (which checks the fake org's tokens, for
// --demo.shield) import salesforce/sftest, and here only the demo's files
// (demo.go, demo_shield.go, demo_apievents.go) do (check --record writes
// the client package's fixture types).
func TestOnlyTheDemoImportsTheFake(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", repoRoot).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var importers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && slices.Contains(f[1:], fakePkg) {
			importers = append(importers, f[0])
		}
	}
	slices.Sort(importers)
	if want := []string{"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/cli", fakePkg + "/pubsubfake"}; !slices.Equal(importers, want) {
		t.Errorf("packages of the binary importing sftest: %v, want %v", importers, want)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); p == fakePkg {
				users = append(users, name)
			}
		}
	}
	if want := []string{"demo.go", "demo_apievents.go", "demo_shield.go"}; !slices.Equal(users, want) {
		t.Errorf("files of internal/cli importing sftest: %v, want only the demo's %v", users, want)
	}
}
