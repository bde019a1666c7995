package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInhibitionsPerTargetAndOrg loads the mixin's inhibition rules into a
// real Alertmanager and posts the alerts of one shard's outage next to
// alerts of another shard and of an org whose API allocation is used up
// (every alert of the test is also a possible source: a SourceFailing of
// org west, with no other alert of west, stays delivered).
// Alertmanager's own API says which it holds back: only what the down
// target caused, and its org's source failures for the used-up allocation.
func TestInhibitionsPerTargetAndOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	amBin := tool(t, "alertmanager")
	dir := t.TempDir()
	inhibit, err := os.ReadFile(filepath.Join("..", "mixin", "alertmanager", "inhibit_rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The API answers the question; a receiver that sends nothing.
	amAddr := freeAddr(t)
	amCfg := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: none
receivers:
  - name: none
%s`, inhibit))
	am := start(t, "alertmanager", amBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitHTTP(t, "http://"+amAddr+"/-/ready", am)

	alert := func(s string) map[string]string {
		ls := map[string]string{"job": "salesforce"}
		for _, kv := range strings.Fields(s) {
			k, v, _ := strings.Cut(kv, "=")
			ls[k] = v
		}
		return ls
	}
	sources := []string{
		"alertname=SalesforceExporterDown severity=critical instance=a:10157",
		"alertname=SalesforceExporterDownForOrg severity=none instance=a:10157 org=north",
		"alertname=SalesforceAPIAllocationExhausted severity=critical org=east",
	}
	cases := map[string]bool{ // alert: held back
		"alertname=SalesforceOrgNotReported severity=critical org=north":                                                       true,
		"alertname=SalesforceSourceFailing severity=warning org=north source=oauth_tokens":                                     true,
		"alertname=SalesforceExporterStorageWriteFailing severity=warning instance=a:10157 org=north file=state":               true,
		"alertname=SalesforceSourceFailing severity=warning org=east source=limits":                                            true,
		"alertname=SalesforceAppLoginFromIOCAddress severity=critical org=south app=Slack app_id=0H4000000000001AAA list=feed": false,
		"alertname=SalesforceAppLoginFromIOCAddress severity=critical org=north app=Slack app_id=0H4000000000001AAA list=feed": false,
		"alertname=SalesforceOrgNotReported severity=critical org=south":                                                       false,
		"alertname=SalesforceExporterStorageWriteFailing severity=warning instance=b:10157 org=south file=state":               false,
		"alertname=SalesforceAPISurge severity=critical org=east app=ETL app_id=0H4000000000003AAA":                            false,
		"alertname=SalesforceSourceFailing severity=warning org=west source=oauth_tokens":                                      false,
	}
	post := func(list []string) {
		var body []map[string]any
		for _, s := range list {
			body = append(body, map[string]any{"labels": alert(s), "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339)})
		}
		b, _ := json.Marshal(body)
		resp, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post alerts: %s", resp.Status)
		}
	}
	post(sources)
	var targets []string
	for s := range cases {
		targets = append(targets, s)
	}
	post(targets)

	type status struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	key := func(ls map[string]string) string {
		b, _ := json.Marshal(ls)
		return string(b)
	}
	// Wait until every alert is in and each source holds back at least one
	// of its expected targets (Alertmanager feeds its inhibitor apart from
	// the API), then judge every alert from that one answer.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + amAddr + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		var got []status
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]status{}
		for _, a := range got {
			byKey[key(a.Labels)] = a
		}
		ready := len(got) == len(sources)+len(cases)
		for _, s := range []string{
			"alertname=SalesforceOrgNotReported severity=critical org=north",
			"alertname=SalesforceExporterStorageWriteFailing severity=warning instance=a:10157 org=north file=state",
			"alertname=SalesforceSourceFailing severity=warning org=east source=limits",
		} {
			ready = ready && len(byKey[key(alert(s))].Status.InhibitedBy) > 0
		}
		if ready {
			for s, want := range cases {
				if held := len(byKey[key(alert(s))].Status.InhibitedBy) > 0; held != want {
					t.Errorf("%s: held back %v, want %v", s, held, want)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager did not hold back the expected alerts within 30s: %+v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
