package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeKubernetesWalkthrough runs the README's Kubernetes block as
// written, in a shell whose docker and kubectl only record what they are
// asked (there is no daemon or cluster here) and whose helm turns install
// into template with the helm make tools builds. The names must agree: the
// image make docker builds is the one pushed, and the one the chart renders
// with the values the block sets; the Secret the block creates is the one
// the pods mount.
func TestReadmeKubernetesWalkthrough(t *testing.T) {
	t.Parallel()
	helm, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("helm is not on PATH (make test puts the pinned one there)")
		}
		t.Skip("helm is not on PATH: run through make test")
	}
	blocks := readmeShellBlocks(t, "### Kubernetes")
	repo, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "calls")
	stub := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub("docker", `echo "docker $*" >> "$CALLS"`+"\n")
	stub("kubectl", `echo "kubectl $*" >> "$CALLS"`+"\n")
	// helm install NAME CHART ARGS... renders what it would install.
	stub("helm", `if [ "$1" = install ]; then shift; set -- template "$@"; fi
exec "$REAL_HELM" "$@" > "$RENDERED"
`)
	// The user's own values: an org to watch, its secret file by name.
	values := "config:\n  orgs:\n    - name: prod\n      login_url: https://acme.my.salesforce.com\n      auth:\n        flow: client_credentials\n        client_id: 3MVG9example\n        client_secret_file: /etc/salesforce_oauth_exporter/secrets/prod-client-secret\n"
	// The block runs at a checkout's root: the Makefile and the chart are
	// the repository's, the user's files (values, secret) the folder's own.
	work := filepath.Join(dir, "checkout")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Makefile", "deploy"} {
		if err := os.Symlink(filepath.Join(repo, f), filepath.Join(work, f)); err != nil {
			t.Fatal(err)
		}
	}
	for f, content := range map[string]string{"my-values.yaml": values, "prod-client-secret": "not-a-real-secret\n"} {
		if err := os.WriteFile(filepath.Join(work, f), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rendered := filepath.Join(dir, "rendered.yaml")
	for _, b := range blocks {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", b)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CALLS="+record, "REAL_HELM="+helm, "RENDERED="+rendered)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the README's Kubernetes block failed: %v\n%s\n--- block:\n%s", err, out, b)
		}
	}
	calls, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	built := regexp.MustCompile(`(?m)^docker build .* -t (\S+) \.$`).FindStringSubmatch(string(calls))
	pushed := regexp.MustCompile(`(?m)^docker push (\S+)$`).FindStringSubmatch(string(calls))
	if built == nil || pushed == nil || built[1] != pushed[1] {
		t.Fatalf("make docker built %v and docker push sent %v: want one image\n%s", built, pushed, calls)
	}
	secret := regexp.MustCompile(`(?m)^kubectl -n monitoring create secret generic (\S+) `).FindStringSubmatch(string(calls))
	if secret == nil {
		t.Fatalf("no Secret created:\n%s", calls)
	}
	out, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `image: "`+pushed[1]+`"`) {
		t.Errorf("the chart does not run the pushed image %s:\n%s", pushed[1], grepLines(string(out), "image:"))
	}
	if !strings.Contains(string(out), "secretName: "+secret[1]) && !strings.Contains(string(out), `secretName: "`+secret[1]+`"`) {
		t.Errorf("the pods do not mount the Secret %s the block creates:\n%s", secret[1], grepLines(string(out), "secretName"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, strings.TrimRight(l, "\n"))
		}
	}
	return strings.Join(out, "\n")
}
