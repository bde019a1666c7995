package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeTools fills a tools folder with an executable for every pinned tool,
// as .ci/tools.sh leaves it, so the script builds nothing.
func fakeTools(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("..", ".ci/tools.sh"))
	if err != nil {
		t.Fatal(err)
	}
	version := func(name string) string {
		for l := range strings.Lines(string(script)) {
			if v, ok := strings.CutPrefix(l, name+"_VERSION="); ok {
				return strings.Fields(v)[0]
			}
		}
		t.Fatalf("no %s_VERSION in .ci/tools.sh", name)
		return ""
	}
	for folder, bins := range map[string][]string{
		"prometheus-" + version("PROMETHEUS"):                                                  {"prometheus", "promtool"},
		"alertmanager-" + version("ALERTMANAGER"):                                              {"alertmanager"},
		"golangci-lint-" + version("GOLANGCI_LINT"):                                            {"golangci-lint"},
		"jsonnet-" + version("JSONNET"):                                                        {"jsonnet", "jsonnetfmt", "jsonnet-lint"},
		"helm-" + version("HELM"):                                                              {"helm"},
		"goreleaser-" + version("GORELEASER"):                                                  {"goreleaser"},
		"protoc-gen-go-" + version("PROTOC_GEN_GO") + "-grpc-" + version("PROTOC_GEN_GO_GRPC"): {"protoc-gen-go", "protoc-gen-go-grpc"},
	} {
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, b := range bins {
			if err := os.WriteFile(filepath.Join(dir, folder, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The helm there is taken for stamped: ldflags.txt holds the flags the
	// script builds it with.
	cmd := exec.Command("bash", ".ci/tools.sh", "helm-ldflags")
	cmd.Dir = ".." // the repository root
	cmd.Env = append(os.Environ(), "TOOLS_DIR="+dir)
	flags, err := cmd.Output()
	if err != nil {
		t.Fatalf("tools.sh helm-ldflags: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "helm-"+version("HELM"), "ldflags.txt"), flags, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestToolsScriptGroups (issue 25): each Makefile target installs only the
// tool groups it uses, so make test builds no linter and no release tool;
// the script prints the PATH entries of the groups asked for.
func TestToolsScriptGroups(t *testing.T) {
	t.Parallel()
	dir := fakeTools(t)
	run := func(args ...string) ([]string, error) {
		cmd := exec.Command("bash", append([]string{".ci/tools.sh"}, args...)...)
		cmd.Dir = ".." // the repository root
		cmd.Env = append(os.Environ(), "TOOLS_DIR="+dir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, stderr.String())
		}
		var names []string
		for l := range strings.Lines(string(out)) {
			names = append(names, strings.SplitN(filepath.Base(strings.TrimSpace(l)), "-v", 2)[0])
		}
		return names, err
	}
	cases := map[string][]string{
		"lint":    {"golangci-lint"},
		"release": {"helm", "goreleaser"},
		"mixin":   {"prometheus", "jsonnet"},
	}
	// The proto, test and all groups install protoc when it is missing, and
	// test and all install Chromium; check them only where those are there.
	_, protocErr := exec.LookPath("protoc")
	if protocErr == nil {
		cases["proto"] = []string{"protoc-gen-go"}
	}
	if _, err := exec.LookPath("chromium"); err == nil && protocErr == nil {
		cases["test"] = []string{"prometheus", "alertmanager", "jsonnet", "helm", "protoc-gen-go"}
		cases["all"] = []string{"prometheus", "alertmanager", "golangci-lint", "jsonnet", "helm", "goreleaser", "protoc-gen-go"}
	}
	for group, want := range cases {
		got, err := run(group)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("tools.sh %s: PATH entries %v (err %v), want %v", group, got, err, want)
		}
	}
	if _, err := run("bogus"); err == nil {
		t.Error("tools.sh accepted an unknown group")
	}
	mk, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for target, group := range map[string]string{"test": "test", "lint": "lint", "release-check": "release", "mixin-check": "mixin"} {
		i := strings.Index(string(mk), "\n"+target+":")
		if i < 0 {
			t.Fatalf("no %s target in the Makefile", target)
		}
		body := string(mk)[i+1:]
		if j := strings.Index(body, "\n\n"); j > 0 {
			body = body[:j]
		}
		installs := strings.Contains(body, "$(call with_tools,"+group+")") || strings.Contains(body, ".ci/tools.sh "+group+" ")
		if !installs || strings.Contains(body, "with_tools,all") || strings.Contains(body, "tools.sh all") {
			t.Errorf("make %s does not install just the %s tools:\n%s", target, group, body)
		}
	}
}

// TestMakeToolsPrintsPath (issue 25): make tools prints the export line
// that puts the tools on a shell's PATH.
func TestMakeToolsPrintsPath(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("make tools would install Chromium")
	}
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("make tools would install protoc")
	}
	dir := fakeTools(t)
	cmd := exec.Command("make", "-s", "tools")
	cmd.Dir = ".." // the repository root
	cmd.Env = append(os.Environ(), "TOOLS_DIR="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(out))
	if !strings.HasPrefix(line, "export PATH="+dir+"/prometheus-") || !strings.HasSuffix(line, ":$PATH") || strings.Count(line, dir) != 7 {
		t.Errorf("make tools printed %q, want one export PATH=... line with the seven tool folders", line)
	}
}
