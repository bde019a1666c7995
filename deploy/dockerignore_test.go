package deploy

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerignore returns Docker's matcher for the repository's .dockerignore.
func dockerignore(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatalf("no .dockerignore: %v", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// The build context leaves out the history, builds, state and any local
// secret, matched the way docker build matches it.
func TestDockerignoreLeavesOut(t *testing.T) {
	pm := dockerignore(t)
	for _, p := range []string{
		".git/config", ".git/objects/ab/cdef",
		"salesforce_oauth_exporter", // make build's binary
		"data/prod.state.json", "dist/sha256sums.txt", "bench/out/run.txt",
		"prod-client-secret", "secrets/prod-client-secret", "config/prod-client-secret",
		"key.pem", "deploy/emea-key.pem", ".env", "config.yml", "my-values.yaml",
		"config/testdata/secret", "main_test.go",
	} {
		excluded, err := pm.MatchesOrParentMatches(p)
		if err != nil {
			t.Fatal(err)
		}
		if !excluded {
			t.Errorf("%s goes into the image's build context", p)
		}
	}
}

// What the .dockerignore lets through is enough to build the exporter: copy
// exactly that, as docker build would send it, and build it.
func TestDockerignoreKeepsTheBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the exporter")
	}
	pm := dockerignore(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			// Skip only what no exception could bring back; deploy/ is its own
			// module, which go build . ignores like any other.
			if rel == ".git" || rel == "deploy" {
				return filepath.SkipDir
			}
			return nil
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil || excluded {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(ctx, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		n++
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		if _, err := os.Stat(filepath.Join(ctx, f)); err != nil {
			t.Errorf("%s is left out of the build context: %v", f, err)
		}
	}
	// The Dockerfile's build, less the stamping.
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "exporter"), ".")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the %d files the .dockerignore lets through: %v\n%s", n, err, out)
	}
	dockerfile, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "COPY . .") || !strings.Contains(string(dockerfile), "go build") {
		t.Error("the Dockerfile no longer builds from COPY . . with go build: update this test")
	}
	t.Logf("%d files in the build context", n)
}
