//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile/regfiletest"
)

// TestSecretFileHostile: a FIFO, /dev/zero, a directory and an oversized
// file are refused at once with a message that says what is wrong; a
// symbolic link to a regular file is read.
func TestSecretFileHostile(t *testing.T) {
	t.Parallel()
	h := regfiletest.Make(t, MaxSecretFileBytes)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		h.FIFO:           "not a regular file (p---------)",
		regfiletest.Zero: "not a regular file",
		h.Dir:            "not a regular file (d---------)",
		h.Big:            "more than the 65536 a secret can need",
	} {
		cfg := filepath.Join(dir, "config.yml")
		var err error
		regfiletest.NoHang(t, "Parse with the secret "+path, func() {
			_, err = Parse([]byte("orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: "+path+"}\n"), cfg)
		})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "client_secret_file") {
			t.Errorf("%s: err = %v, want %q", path, err, want)
		}
	}
	b, _, err := readSecretFile(link)
	if err != nil || string(b) != "s3cret\n" {
		t.Errorf("symlink: %q %v", b, err)
	}
}

// TestConfigFileHostile: the config file itself is read like a secret file,
// with its own bound: a FIFO, /dev/zero, a directory or a file over
// MaxConfigFileBytes is refused at once, naming the file; a symbolic link
// to a config is read.
func TestConfigFileHostile(t *testing.T) {
	t.Parallel()
	h := regfiletest.Make(t, MaxConfigFileBytes)
	dir := t.TempDir()
	cases := map[string]string{
		h.FIFO:           "not a regular file (p---------)",
		regfiletest.Zero: "not a regular file",
		h.Dir:            "not a regular file (d---------)",
		h.Big:            "16777217 bytes, more than the 16777216 a config file can need",
	}
	for p, want := range cases {
		var err error
		regfiletest.NoHang(t, "Load "+p, func() { _, err = Load(p) })
		if err == nil || !strings.Contains(err.Error(), "read config "+p) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", p, err, want)
		}
	}
	secret := filepath.Join(dir, "secret")
	good := filepath.Join(dir, "good.yml")
	link := filepath.Join(dir, "link.yml")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("orgs:\n  - name: prod\n    login_url: https://acme.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: secret}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(link); err != nil {
		t.Errorf("a symbolic link to a config: %v", err)
	}
}
