package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHouseBounds: the root holds at most three non-test Go files, and no
// hand-written production file is over 600 lines (generated code, marked
// as the Go convention says, is exempt).
func TestHouseBounds(t *testing.T) {
	root, err := filepath.Glob(filepath.Join("..", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var rootFiles []string
	for _, f := range root {
		if !strings.HasSuffix(f, "_test.go") {
			rootFiles = append(rootFiles, filepath.Base(f))
		}
	}
	if len(rootFiles) > 3 {
		t.Errorf("the root has %d non-test Go files (%v): commands go in internal/cli", len(rootFiles), rootFiles)
	}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("\n// Code generated ")) || bytes.HasPrefix(b, []byte("// Code generated ")) {
			return nil
		}
		if n := bytes.Count(b, []byte("\n")); n > 600 {
			t.Errorf("%s has %d lines: split it along its comments (no production file over 600)", path, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
