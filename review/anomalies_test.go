package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestAnomaliesSection: the Threat Detection events are in every format,
// with their user, address, score and summary, the acknowledged marked; a
// report without the source says why the section is empty; the list is
// bounded.
func TestAnomaliesSection(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	snap := &snapshot.Snapshot{Org: "prod", Taken: now, Threats: &snapshot.Threats{Events: []snapshot.ThreatEvent{
		{Kind: "api_anomaly", ID: "0Xa1", EventDate: now.Add(-time.Hour), Created: now.Add(-40 * time.Minute), Score: 92.5, Username: "mallory@example.com", Address: "203.0.113.9", Summary: "User and Account queries far above usual"},
		{Kind: "report_anomaly", ID: "0Xd1", EventDate: now.Add(-5 * time.Hour), Created: now.Add(-4 * time.Hour), Score: 12, UserID: "0055j000000ABCD", Acknowledged: true},
	}}}
	r := Build(snap, &Detail{Taken: now}, nil, DefaultOptions())
	if len(r.Anomalies) != 2 || !r.ThreatsRead || r.Anomalies[0].Score != 92.5 || !r.Anomalies[1].Acknowledged {
		t.Fatalf("anomalies %+v", r.Anomalies)
	}
	for _, format := range []string{"text", "markdown", "html"} {
		var out bytes.Buffer
		if err := Write(&out, []*Report{r}, format); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Anomalies (Threat Detection)", "mallory@example.com", "203.0.113.9", "92.5", "User and Account queries far above usual", "0055j000000ABCD"} {
			if !strings.Contains(strings.ReplaceAll(out.String(), `\`, ""), want) { // Markdown escapes punctuation
				t.Errorf("%s lacks %q", format, want)
			}
		}
	}
	var out bytes.Buffer
	if err := Write(&out, []*Report{r}, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range recs[1:] {
		if rec[1] == "anomaly" {
			got = append(got, strings.Join([]string{rec[4], rec[28], rec[csvEventType], rec[csvScore], rec[csvAcknowledged]}, "|"))
		}
	}
	if want := "mallory@example.com|203.0.113.9|api_anomaly|92.5|no,0055j000000ABCD||report_anomaly|12|yes"; strings.Join(got, ",") != want {
		t.Errorf("csv anomaly rows %q, want %q", strings.Join(got, ","), want)
	}
	out.Reset()
	if err := Write(&out, []*Report{r}, "json"); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Anomalies []Anomaly `json:"anomalies"`
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil || len(js.Anomalies) != 2 || js.Anomalies[0].Address != "203.0.113.9" {
		t.Errorf("json anomalies %+v (%v)", js.Anomalies, err)
	}

	// Without the source: an empty section that says why.
	r = Build(&snapshot.Snapshot{Org: "prod", Taken: now}, &Detail{Taken: now}, nil, DefaultOptions())
	out.Reset()
	if err := Write(&out, []*Report{r}, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "threat_detection source is off") {
		t.Errorf("no reason for the empty section:\n%s", out.String())
	}

	// Bounded.
	many := &snapshot.Threats{}
	for i := range maxAnomalies + 3 {
		many.Events = append(many.Events, snapshot.ThreatEvent{Kind: "login_anomaly", EventDate: now.Add(-time.Duration(i) * time.Second)})
	}
	r = Build(&snapshot.Snapshot{Org: "prod", Taken: now, Threats: many}, &Detail{Taken: now}, nil, DefaultOptions())
	if len(r.Anomalies) != maxAnomalies || r.MoreAnomalies != 3 {
		t.Errorf("%d anomalies, %d more; want %d, 3", len(r.Anomalies), r.MoreAnomalies, maxAnomalies)
	}
}
