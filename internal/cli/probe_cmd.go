package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// The environment variables the probe command reads its basic auth from.
// Kubernetes httpGet probes take header values only as plain text in the
// pod spec (kubernetes/kubernetes#93708); an exec probe's environment can
// come from a Secret.
const (
	probeUserEnv     = "SALESFORCE_EXPORTER_PROBE_USERNAME"
	probePasswordEnv = "SALESFORCE_EXPORTER_PROBE_PASSWORD"
)

// probeMaxBody bounds what the probe reads of an answer.
const probeMaxBody = 64 << 10

type probeFlags struct {
	cmd      *kingpin.CmdClause
	url      *string
	timeout  *time.Duration
	insecure *bool
}

func (f *probeFlags) register(app *kingpin.Application) {
	f.cmd = app.Command("probe", "GET one of the exporter's own URLs (by default its /-/ready) and exit 0 on a 2xx answer, 1 otherwise: a container exec probe. With basic auth in the web config, it sends the user and password of the environment variables "+probeUserEnv+" and "+probePasswordEnv+", which, unlike an httpGet probe's headers, can come from a Secret.")
	f.url = f.cmd.Flag("url", "The http or https URL to GET.").Default("http://127.0.0.1" + defaultAddress + "/-/ready").String()
	f.timeout = f.cmd.Flag("timeout", "How long the whole request may take.").Default("5s").Duration()
	f.insecure = f.cmd.Flag("tls.insecure-skip-verify", "Accept any server certificate, as the kubelet's HTTPS probes do: for the exporter's own, often self-signed, certificate on the loopback address.").Bool()
}

func (f *probeFlags) run(ctx context.Context, stdout, stderr io.Writer) int {
	u, err := url.Parse(*f.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		// Never echo a password given in the URL.
		shown := "(unparsable)"
		if err == nil {
			shown = u.Redacted()
		}
		fmt.Fprintf(stderr, "probe: --url=%q: want http(s)://host:port/path, with no user in it (set %s and %s instead)\n", shown, probeUserEnv, probePasswordEnv)
		return 1
	}
	if *f.timeout <= 0 {
		fmt.Fprintf(stderr, "probe: --timeout=%s: want a positive duration\n", *f.timeout)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 1
	}
	user, password := os.Getenv(probeUserEnv), os.Getenv(probePasswordEnv)
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil // the exporter itself, never through a proxy
	if *f.insecure {
		// As the kubelet's HTTPS probes do; opt-in, for the exporter's own certificate.
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	client := &http.Client{
		Transport: transport,
		// A redirect is not an answer of the exporter's.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		// The error names the URL and the cause, never the credentials.
		fmt.Fprintf(stderr, "probe: GET %s: %v\n", u.Redacted(), err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probeMaxBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "probe: GET %s: %s\n", u.Redacted(), resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "probe: GET %s: %s\n", u.Redacted(), resp.Status)
	return 0
}
