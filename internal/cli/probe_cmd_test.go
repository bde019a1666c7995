package cli

import (
	"bytes"
	"crypto/subtle"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The probe command is an exec probe that sends basic auth from its
// environment: 0 on a 2xx answer, 1 otherwise, and never the password in
// its output.
func TestProbeCommand(t *testing.T) {
	const user, password = "probe", "s3cret-probe-password"
	ready := true
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u+":"+p), []byte(user+":"+password)) != 1 {
			w.Header().Set("WWW-Authenticate", "Basic")
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/-/ready" && !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/-/ready", http.StatusFound)
			return
		}
		w.Write([]byte("OK\n"))
	})
	// run sets the default logger to its stderr buffer; the servers log
	// (a refused TLS handshake) to their own, or they would write to that
	// buffer while the probe does.
	quiet := log.New(io.Discard, "", 0)
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = quiet
	srv.Start()
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(handler)
	tlsSrv.Config.ErrorLog = quiet
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	probe := func(t *testing.T, args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(append([]string{"probe"}, args...), &out, &errOut)
		s := out.String() + errOut.String()
		if strings.Contains(s, password) {
			t.Errorf("the output holds the password: %q", s)
		}
		return code, s
	}

	t.Setenv(probeUserEnv, user)
	t.Setenv(probePasswordEnv, password)
	if code, out := probe(t, "--url="+srv.URL+"/-/ready"); code != 0 {
		t.Errorf("ready, right credentials: exit %d, %s", code, out)
	}
	ready = false
	if code, out := probe(t, "--url="+srv.URL+"/-/ready"); code != 1 || !strings.Contains(out, "503") {
		t.Errorf("not ready: exit %d, %q; want 1 naming the 503", code, out)
	}
	ready = true
	if code, out := probe(t, "--url="+srv.URL+"/moved"); code != 1 || !strings.Contains(out, "302") {
		t.Errorf("a redirect: exit %d, %q; want 1, not followed", code, out)
	}
	// HTTPS with the exporter's own (here self-signed) certificate.
	if code, _ := probe(t, "--url="+tlsSrv.URL+"/-/healthy"); code != 1 {
		t.Errorf("an unverified certificate accepted without --tls.insecure-skip-verify: exit %d", code)
	}
	if code, out := probe(t, "--url="+tlsSrv.URL+"/-/healthy", "--tls.insecure-skip-verify"); code != 0 {
		t.Errorf("HTTPS with --tls.insecure-skip-verify: exit %d, %s", code, out)
	}
	for _, bad := range []string{"ftp://127.0.0.1/x", "127.0.0.1:10157/-/ready", "http://u:" + password + "@127.0.0.1/-/ready"} {
		if code, out := probe(t, "--url="+bad); code != 1 || !strings.Contains(out, "want http(s)://host:port/path") {
			t.Errorf("--url=%s: exit %d, %q; want 1 saying what a URL must be", bad, code, out)
		}
	}
	t.Setenv(probePasswordEnv, "wrong-"+password)
	if code, out := probe(t, "--url="+srv.URL+"/-/ready"); code != 1 || !strings.Contains(out, "401") {
		t.Errorf("wrong password: exit %d, %q; want 1 naming the 401", code, out)
	}
}
