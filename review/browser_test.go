package review

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/browser"
)

// demoHistory is eight weeks of daily rows for the demo's apps, with the
// phishing app's burst and the integration's surge on the last day.
func demoHistory(r *Report) History {
	var h History
	end := r.GeneratedAt.UTC().Truncate(24 * time.Hour)
	for _, a := range r.Inventory {
		for d := 55; d >= 0; d-- {
			row := DayRow{Day: end.AddDate(0, 0, -d), App: a.App, AppID: a.AppID, Kind: a.Kind, Users: a.Users, Tokens: a.Tokens, Requests: a.Requests7d / 7}
			switch {
			case a.App == "My Data Loader Pro" && d > 0:
				continue
			case a.App == "Acme ERP Sync" && d == 0:
				row.Requests, row.Errors = a.Requests24h, int64(float64(a.Requests24h)*a.ErrorRate24h)
			case d > 0:
				row.Users -= int64(d) * a.Users / 200
				row.Tokens -= int64(d) * a.Tokens / 200
				row.Requests += int64((d*37)%11) * row.Requests / 40
				row.Errors = row.Requests / 100
			}
			h = append(h, row)
		}
	}
	return h
}

// TestDemoReviewInBrowser renders the demo's review, with charts, in a real
// browser and writes the screenshot to the test's output folder.
func TestDemoReviewInBrowser(t *testing.T) {
	browser.Exec(t)
	r := demoReport(t)
	r.History = demoHistory(r)
	var b bytes.Buffer
	if err := Write(&b, []*Report{r, hostileOrgReport(t)}, "html"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "review.html")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := browser.Load(t, "file://"+path, "table.charts")
	p.Save(t, "demo-review")
	p.Check(t, "findings")
	// The first screen names the phishing app, the leavers and the surge.
	first := p.Text[:min(len(p.Text), 1500)]
	for _, want := range []string{"My Data Loader Pro", "deactivated users still hold", "Acme ERP Sync"} {
		if !strings.Contains(first, want) {
			t.Errorf("the top of the page does not name %q:\n%s", want, first)
		}
	}
	// The demo org has Shield: its Threat Detection events and their evidence.
	for _, want := range []string{"Anomalies (Threat Detection)", "report_anomaly", "Report export larger than usual", "login_anomaly"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	// The Posture section names the risky app, its admin and the fix.
	if i := strings.Index(p.Text, "Posture"); i < 0 || !strings.Contains(p.Text[i:], "Dataloader Partner") || !strings.Contains(p.Text[i:], "Refresh Token Policy: expire") {
		t.Error("the Posture section, with the risky app and its fix, is missing")
	}
	// The legacy authentication section lists the demo's username-password
	// integration and its SOAP login() client, with the fix.
	shown := false
	for _, part := range strings.Split(p.Text, "Integrations still on legacy authentication")[1:] {
		part, _, _ = strings.Cut(part, "Inventory")
		if strings.Contains(part, "Acme ERP Sync") && strings.Contains(part, "username_password") &&
			strings.Contains(part, "Dataloader Partner") && strings.Contains(part, "soap_login") && strings.Contains(part, "retired with Summer '27") {
			shown = true
		}
	}
	if !shown {
		t.Error("no legacy authentication section shows Acme ERP Sync's username-password logins and Dataloader Partner's SOAP login() with the fix")
	}
	if !strings.Contains(p.Text, `<script>alert("x")</script>`) {
		t.Error("the hostile name is not shown as text")
	}
	if strings.Count(b.String(), "<svg") < 10 {
		t.Error("the charts are missing")
	}
}

// hostileOrgReport is the hostile names' report under another org name.
func hostileOrgReport(t *testing.T) *Report {
	r, _ := hostileReport(t)
	r.Org = "sandbox"
	for i := range r.Findings {
		r.Findings[i].Org = r.Org
	}
	return r
}
