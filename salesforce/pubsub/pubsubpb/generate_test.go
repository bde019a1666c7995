package pubsubpb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The generator versions the committed files were made with; .ci/tools.sh
// (group proto) installs the same ones.
const (
	protocGenGoVersion     = "v1.36.12"
	protocGenGoGRPCVersion = "1.6.2"
)

// protocLine is the header line naming protoc's version: protoc changes no
// generated code between the versions Debian and the release page ship, so
// the check ignores it.
var protocLine = regexp.MustCompile(`(?m)^// (\t|- )protoc +v?[0-9.]+\n`)

// TestGeneratedCodeMatchesProto regenerates the Go code from the vendored
// proto with the go:generate line of doc.go and compares it with the
// committed files. It skips, saying what is missing, when protoc or the
// pinned generators are not on PATH (make pubsub-generate installs them).
func TestGeneratedCodeMatchesProto(t *testing.T) {
	for _, tool := range []struct{ name, want string }{
		{"protoc", ""},
		{"protoc-gen-go", "protoc-gen-go " + protocGenGoVersion},
		{"protoc-gen-go-grpc", "protoc-gen-go-grpc " + protocGenGoGRPCVersion},
	} {
		path, err := exec.LookPath(tool.name)
		if err != nil {
			t.Skipf("%s is not on PATH, so the generated code is not checked against pubsub_api.proto: install protoc (Debian: protobuf-compiler) and put the pinned generators on PATH (make test does; bash .ci/tools.sh proto prints their folder)", tool.name)
		}
		if tool.want == "" {
			continue
		}
		out, err := exec.Command(path, "--version").Output()
		if err != nil {
			t.Fatalf("%s --version: %v", tool.name, err)
		}
		if got := strings.TrimSpace(string(out)); got != tool.want {
			t.Skipf("%s on PATH is %q, the committed code was made with %q: put the pinned one first on PATH (bash .ci/tools.sh proto prints its folder)", tool.name, got, tool.want)
		}
	}
	args := generateArgs(t)
	dir := t.TempDir()
	proto, err := os.ReadFile("pubsub_api.proto")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pubsub_api.proto"), proto, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, name := range []string{"pubsub_api.pb.go", "pubsub_api_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(protocLine.ReplaceAll(got, nil), protocLine.ReplaceAll(want, nil)) {
			t.Errorf("%s differs from what pubsub_api.proto generates: run make pubsub-generate and commit the result", name)
		}
	}
}

// generateArgs reads the go:generate line of doc.go, so the check runs the
// very command the files are made with.
func generateArgs(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(src)) {
		if rest, ok := strings.CutPrefix(line, "//go:generate "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("doc.go has no go:generate line")
	return nil
}
