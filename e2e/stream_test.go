package e2e

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub/pubsubpb"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest/pubsubfake"
)

// servePubSubTLS serves the fake Pub/Sub API over TLS on loopback, as the
// real one is served, with a certificate for 127.0.0.1 that it writes to
// a PEM file for the exporter to trust (SSL_CERT_FILE). The exporter
// dials it as it dials Salesforce: no plain-text switch.
func servePubSubTLS(t *testing.T, fake *pubsubfake.Server, dir string) (addr, caFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pubsub fake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile = writeFile(t, dir, "pubsub-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})))
	pubsubpb.RegisterPubSubServer(gs, fake)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return ln.Addr().String(), caFile
}

// streamAPIEvent is one ApiEventStream event of the integration's user.
func streamAPIEvent(i int, at time.Time, appID, app, ip, entity string) map[string]any {
	ms := at.UnixMilli()
	return map[string]any{
		"CreatedDate": ms, "CreatedById": "005000000000001AAA", "EventIdentifier": fmt.Sprintf("e2e-%d", i),
		"EventDate": ms, "UserId": "005000000000002AAA", "Username": "integration@acme.example",
		"ConnectedAppId": appID, "Application": app, "ApiType": "REST", "Operation": "Query",
		"QueriedEntities": entity, "RowsProcessed": float64(50), "SourceIp": ip,
	}
}

// TestStreamReplayPages: an org with Real-Time Event Monitoring streams
// its API events (the fake Pub/Sub API, over TLS on loopback) to the
// exporter, scraped every 15 s and evaluated every 15 s by a real
// Prometheus, paging through a real Alertmanager. Acme ERP Sync has a
// ready baseline from eight days of log files and calls at its usual pace
// on the stream from its usual networks. Then, with no log file and no
// surge, a stolen token of it is replayed on the stream at the same pace,
// from five networks it never used, reading User and Account (objects it
// never read: the corroboration). The critical page reaches Alertmanager,
// for this org and app, and nothing pages before the replay. The time from
// the first replayed event to the page is printed (a measure, not an
// assertion; README, Performance).
func TestStreamReplayPages(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	const name = "stream"
	s := detectionOrg(t, name, 8, 10_000, 0)
	dir := t.TempDir()
	fake := pubsubfake.New(pubsubfake.ForOrg(s.srv), pubsubfake.WithSubscribePermission())
	addr, caFile := servePubSubTLS(t, fake, dir)
	st := startStack(t, stackConfig{
		names: []string{name}, orgs: map[string]*scenarioOrg{name: s}, inhibit: true,
		// Scraped every 15 s, and the first scrape comes up to the scrape
		// manager's 5 s target sync plus an interval after Prometheus starts:
		// the test size's 10 s and 15 s would call the exporter absent, and
		// its coverage lost, before it was ever scraped.
		mixin:          " + { sourceFailingFor: '90s', exporterDownFor: '1m', coverageLostFor: '1m' }",
		orgExtra:       map[string]string{name: fmt.Sprintf("    stream: {enabled: true, endpoint: %q, topics: [/event/ApiEventStream]}\n", addr)},
		exporterEnv:    []string{"SSL_CERT_FILE=" + caFile},
		scrapeInterval: "15s", evalInterval: "15s",
	})
	promAddr, hook := st.promAddr, st.hook
	waitProm(t, promAddr, fmt.Sprintf(`salesforce_connected_app_api_baseline_ready{org=%q, app="Acme ERP Sync"} == 1`, name), waitLimit)
	// Subscribed: the fake holds the exporter's open stream (the exporter
	// reports it connected at the stream's first answer, an event or a
	// keepalive).
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	if err := fake.Wait(ctx, func(s pubsubfake.Stats) bool { return s.Open >= 1 }); err != nil {
		t.Fatalf("the exporter never subscribed: %v", err)
	}

	app := s.org.Apps()[s.apps["Acme ERP Sync"]]
	id := app.ID[:min(15, len(app.ID))]
	seq := 0
	publish := func(ip, entity string) {
		t.Helper()
		if _, err := fake.PublishEvent(pubsubfake.TopicAPIEventStream, streamAPIEvent(seq, time.Now(), id, app.Name, ip, entity)); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	// The usual calls, seen by Prometheus: the stream works, and nothing
	// pages on them.
	const usual = 30
	for i := range usual {
		publish(sftest.IntegrationIP(app.Name, i), "Opportunity")
	}
	waitProm(t, promAddr, fmt.Sprintf(`salesforce_stream_app_requests_total{org=%q, app="Acme ERP Sync"} >= %d`, name, usual), waitLimit)
	// The detection rules evaluated once more with the usual calls in.
	seen := time.Now()
	for !lastEvaluation(t, promAddr, "salesforce-detection").After(seen) {
		if time.Since(seen) > waitLimit {
			t.Fatal("the detection rules were not evaluated")
		}
		time.Sleep(250 * time.Millisecond)
	}
	if got := hook.all(); len(got) != 0 {
		t.Fatalf("alerts before the replay: %+v", got)
	}
	// The bench (go run ./bench -only streampage) starts the replay at
	// several points of the evaluation cycle: STREAMPAGE_PHASE after the
	// evaluation above (none by default).
	phase, err := time.ParseDuration(cmp.Or(os.Getenv("STREAMPAGE_PHASE"), "0s"))
	if err != nil || phase < 0 || phase > time.Minute {
		t.Fatalf("STREAMPAGE_PHASE=%q: want a duration from 0s to 1m", os.Getenv("STREAMPAGE_PHASE"))
	}
	time.Sleep(phase)

	// The replay: 30 calls at the usual pace, a third of them from five
	// new networks reading User and Account, the rest the usual calls.
	page := map[string]string{"org": name, "alertname": "SalesforceAppNewNetworksReadSensitiveObjects", "app": "Acme ERP Sync"}
	t0 := time.Now()
	for i := range 30 {
		if i%3 == 0 {
			publish(sftest.ReplayIP(i%5, i), []string{"User", "Account"}[i%2])
		} else {
			publish(sftest.IntegrationIP(app.Name, i), "Opportunity")
		}
	}
	deadline := time.Now().Add(waitLimit)
	at, ok := hook.firstFiring(page)
	for ; !ok && time.Now().Before(deadline); at, ok = hook.firstFiring(page) {
		time.Sleep(250 * time.Millisecond)
	}
	if !ok {
		t.Fatalf("no %s page for org %s within %s of the replay; notifications: %+v", page["alertname"], name, waitLimit, hook.all())
	}
	t.Logf("time to page from the first replayed event on the stream: %.1fs (scrape 15s, evaluation 15s, group_wait 1s; started %s after an evaluation)", at.Sub(t0).Seconds(), phase)
	// The page alone: its warnings (new networks, new sensitive objects)
	// are inhibited by it.
	for _, n := range hook.all() {
		if n.Status != "firing" {
			continue
		}
		if !matches(n.Labels, page) {
			t.Errorf("unexpected alert %s: %v", n.Labels["alertname"], n.Labels)
		} else if n.Labels["severity"] != "critical" {
			t.Errorf("page is %q, want critical: %v", n.Labels["severity"], n.Labels)
		}
		for _, l := range []string{"user", "user_id", "ip", "address", "network"} {
			if _, ok := n.Labels[l]; ok {
				t.Errorf("alert carries a %s label: %v", l, n.Labels)
			}
		}
	}
}

// lastEvaluation is when Prometheus last evaluated a rule group.
func lastEvaluation(t *testing.T, promAddr, group string) time.Time {
	t.Helper()
	resp, err := http.Get("http://" + promAddr + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Groups []struct {
				Name           string    `json:"name"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, g := range r.Data.Groups {
		if g.Name == group && g.LastEvaluation.After(last) {
			last = g.LastEvaluation
		}
	}
	return last
}
