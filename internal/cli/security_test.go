package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestSecretCanaries runs the exporter, review and revoke with known canary
// secrets and searches every log line, error, metric, report, audit log and
// state file for them.
func TestSecretCanaries(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	creds := sftest.Credentials{
		ClientID: "3MVG9canary.client", ClientSecret: "CANARY-client-secret-5f2a91",
		Username: "integration@example.com", Password: "CANARY-password-77c1",
		RefreshToken: "CANARY-refresh-token-0b3e", PublicKey: &key.PublicKey,
	}
	org := faultOrg()
	app := org.Apps()[0].Name
	srv, ts := sftest.Start(t, org, creds)
	dir := t.TempDir()
	for name, v := range map[string]string{"secret": creds.ClientSecret, "refresh": creds.RefreshToken, "password": creds.Password, "wrong": "CANARY-wrong-secret-9d9d", "key.pem": string(keyPEM)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yml")
	orgCfg := func(name, auth string) string {
		return fmt.Sprintf("  - name: %s\n    login_url: %s\n%s    auth: {%s}\n", name, ts.URL, fastSources, auth)
	}
	if err := os.WriteFile(cfg, []byte("orgs:\n"+
		orgCfg("cc", "flow: client_credentials, client_id: "+creds.ClientID+", client_secret_file: secret")+
		orgCfg("jwt", "flow: jwt_bearer, client_id: "+creds.ClientID+", username: "+creds.Username+", private_key_file: key.pem")+
		orgCfg("rt", "flow: refresh_token, client_id: "+creds.ClientID+", client_secret_file: secret, refresh_token_file: refresh")+
		orgCfg("pw", "flow: password, client_id: "+creds.ClientID+", client_secret_file: secret, username: "+creds.Username+", password_file: password")+
		orgCfg("bad", "flow: client_credentials, client_id: "+creds.ClientID+", client_secret_file: wrong")), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"), "--log.level=debug", "--web.enable-review")
	m := e.waitFor(t, "good orgs up, the bad one failing", func(m map[string]*metricFamily) bool {
		for _, o := range []string{"cc", "jwt", "rt", "pw"} {
			if v, _ := value(m, "salesforce_up", "org="+o); v != 1 {
				return false
			}
		}
		v, ok := value(m, "salesforce_source_up", "org=bad", "source=limits")
		return ok && v == 0
	})
	// Errors in the middle of things: 401s and a 500.
	srv.ExpireSessions()
	srv.Inject(sftest.Fault{Path: "/limits", Count: 3, Status: 500, Body: `[{"message":"An unexpected error occurred","errorCode":"UNKNOWN_EXCEPTION"}]`})
	time.Sleep(3 * time.Second)
	outputs := map[string]string{"metrics": string(m["salesforce_up"].Raw)}
	outputs["metrics-later"] = string(e.scrape(t)["salesforce_up"].Raw)
	for _, p := range []string{"/review", "/review.json"} {
		resp, err := http.Get(e.addr + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), app) {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		outputs[p] = string(b)
	}
	run := func(args ...string) string {
		out, _ := exec.Command(binary, args...).CombinedOutput()
		return string(out)
	}
	outputs["review-json"] = run("review", "--config.file="+cfg, "--org=jwt", "--format=json", "--storage.path="+filepath.Join(dir, "data"))
	outputs["review-bad"] = run("review", "--config.file="+cfg, "--org=bad", "--log.level=debug")
	audit := filepath.Join(dir, "audit.log")
	outputs["revoke-dry"] = run("revoke", "--config.file="+cfg, "--org=rt", "--app="+app, "--log.level=debug")
	srv.Inject(sftest.Fault{Path: "/services/oauth2/revoke", Count: 2, Status: 503, Body: "<html>busy</html>", ContentType: "text/html"})
	outputs["revoke"] = run("revoke", "--config.file="+cfg, "--org=rt", "--app="+app, "--confirm", "--rate=50", "--audit-log="+audit, "--log.level=debug")
	if !strings.Contains(outputs["revoke"], "revoked") {
		t.Fatalf("revoke did not run: %s", outputs["revoke"])
	}
	outputs["audit"] = mustRead(t, audit)
	outputs["exporter-log"] = e.log()
	states, _ := filepath.Glob(filepath.Join(dir, "data", "*"))
	for _, p := range states {
		// The exporter is running: a temporary file (name.tmp-N) may be
		// renamed into place between the listing and the read.
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && strings.Contains(filepath.Base(p), ".tmp-") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		outputs["state "+p] = string(b)
	}
	canaries := map[string]string{
		"client secret": creds.ClientSecret, "wrong secret": "CANARY-wrong-secret-9d9d", "password": creds.Password, "refresh token": creds.RefreshToken,
	}
	for i, line := range strings.Split(string(keyPEM), "\n") {
		if len(line) > 40 && !strings.HasPrefix(line, "-----") {
			canaries[fmt.Sprintf("private key line %d", i)] = line
		}
	}
	for i, tok := range srv.IssuedAccessTokens() {
		canaries[fmt.Sprintf("access token %d", i)] = tok
	}
	for i, dt := range org.DeleteTokens() {
		canaries[fmt.Sprintf("DeleteToken %d", i)] = dt
	}
	if len(srv.IssuedAccessTokens()) < 5 || len(org.DeleteTokens()) < 100 {
		t.Fatal("too few canaries to mean anything")
	}
	for where, out := range outputs {
		if out == "" {
			t.Errorf("%s: no output to search", where)
		}
		for what, c := range canaries {
			if strings.Contains(out, c) {
				t.Errorf("%s leaks the %s", where, what)
			}
		}
	}
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSAndBasicAuth protects /metrics, /review and /-/reload with the
// exporter-toolkit web config.
func TestTLSAndBasicAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	webCfg := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webCfg, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prom: %s\n", certFile, keyFile, hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--demo", "--web.config.file="+webCfg, "--web.enable-lifecycle", "--web.enable-review")
	addr := strings.Replace(e.addr, "http://", "https://", 1)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	do := func(method, path, user, pass string) int {
		req, _ := http.NewRequest(method, addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Wait for the demo's first data, through TLS and auth.
	deadline := time.Now().Add(waitLimit)
	for do("GET", "/review.json", "prom", "s3cret-pass") != 200 && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
	}
	for _, c := range []struct {
		method, path string
	}{{"GET", "/metrics"}, {"GET", "/review"}, {"GET", "/review.json"}, {"POST", "/-/reload"}} {
		if got := do(c.method, c.path, "", ""); got != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d, want 401", c.method, c.path, got)
		}
		if got := do(c.method, c.path, "prom", "wrong"); got != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong password: %d, want 401", c.method, c.path, got)
		}
		if got := do(c.method, c.path, "prom", "s3cret-pass"); got != http.StatusOK {
			t.Errorf("%s %s with credentials: %d, want 200", c.method, c.path, got)
		}
	}
	// Plain HTTP is refused.
	if resp, err := http.Get(e.addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served metrics")
		}
	}
	// pprof is off without its flag.
	if got := do("GET", "/debug/pprof/", "prom", "s3cret-pass"); got == 200 {
		body := &bytes.Buffer{}
		_ = body
		t.Error("/debug/pprof/ served without --web.enable-pprof")
	}
}

// TestDockerImageRunsAsNonroot reads the Dockerfile: a static build and a
// final distroless nonroot stage with a numeric non-root USER.
func TestDockerImageRunsAsNonroot(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	final := s[strings.LastIndex(s, "\nFROM "):]
	if !strings.Contains(final, "distroless/static") || !strings.Contains(final, ":nonroot") {
		t.Error("the final stage is not distroless static nonroot")
	}
	if !strings.Contains(final, "\nUSER 65532:65532") || strings.Contains(final, "USER root") || strings.Contains(final, "USER 0") {
		t.Error("the final stage does not run as the nonroot user")
	}
	if !strings.Contains(s, "CGO_ENABLED=0") || !strings.Contains(final, "EXPOSE 10157") {
		t.Error("not a static build, or the port is not exposed")
	}
}
