package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/browser"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestServedReviewInBrowser loads the demo's /review and the landing page in
// headless Chromium, after the demo's phishing app and surge appeared.
func TestServedReviewInBrowser(t *testing.T) {
	t.Parallel()
	browser.Exec(t)
	e := startExporter(t, "--demo", "--demo.surge-after=1s", "--review.cache-ttl=1s", "--web.enable-review")
	deadline := time.Now().Add(90 * time.Second)
	var findings []review.Finding
	for {
		var r review.Report
		if err := json.Unmarshal([]byte(get(t, e.addr+"/review.json")), &r); err == nil {
			findings = r.Findings
		}
		if len(findings) > 0 && findings[0].App == "My Data Loader Pro" && len(r.AppEvidence) > 0 && len(r.AppEvidence[0].Authorizations) == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's phishing app is not the first finding: %+v", findings)
		}
		time.Sleep(time.Second)
	}
	p := browser.Load(t, e.addr+"/review")
	p.Save(t, "served-review")
	p.Check(t, "findings")
	for _, want := range []string{"My Data Loader Pro", "deactivated users still hold", "--inactive-users --confirm"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("/review does not show %q", want)
		}
	}

	home := get(t, e.addr+"/")
	if strings.Contains(home, "pprof") || !strings.Contains(home, `href="/review"`) || !strings.Contains(home, "<th scope=\"row\">demo</th>") || !strings.Contains(home, "Version:") {
		t.Errorf("landing page: links to endpoints that are off, or lacks the orgs or version:\n%s", home)
	}
	lp := browser.Load(t, e.addr+"/")
	lp.Save(t, "landing")
	lp.Check(t, "orgs")
}

// TestReviewFileInBrowser writes the CLI's HTML review of an org whose names
// attack the page, and checks in Chromium that every value stayed text.
func TestReviewFileInBrowser(t *testing.T) {
	t.Parallel()
	browser.Exec(t)
	org := sftest.NewOrg()
	now := org.Now()
	bad := "<img src=x onerror=alert(1)>\"quoted'\nline\x1b[2J"
	app := org.AddApp(sftest.App{Name: bad, Installed: false})
	for i := range 6 {
		u := org.AddUser("<b>user"+string(rune('a'+i))+"</b>\"@example.com", true)
		org.AddToken(sftest.TokenSpec{User: u, App: app, Created: now.Add(-time.Duration(i+1) * time.Minute), LastUsed: now.Add(-time.Minute), UseCount: 1})
	}
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, "")
	out := filepath.Join(dir, "review.html")
	cmd := exec.Command(binary, "review", "--config.file="+cfg, "--format=html", "--output="+out, "--storage.path="+filepath.Join(dir, "data"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("review: %v\n%s", err, b)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range org.DeleteTokens() {
		if strings.Contains(string(html), tok) || strings.Contains(strings.ToLower(string(html)), "deletetoken") {
			t.Fatal("the review holds a token")
		}
	}
	if strings.Contains(string(html), "<img") || strings.Contains(string(html), "<b>") {
		t.Error("a name reached the page as markup")
	}
	p := browser.Load(t, "file://"+out)
	p.Save(t, "review-file")
	p.Check(t, "findings")
	if !strings.Contains(p.Text, `<img src=x onerror=alert(1)>"quoted'\nline\x1b[2J`) || !strings.Contains(p.Text, `<b>usera</b>"@example.com`) || !strings.Contains(p.Text, "and 6 users authorized it") {
		t.Errorf("the names are not shown as text:\n%s", p.Text[:min(len(p.Text), 3000)])
	}
}
