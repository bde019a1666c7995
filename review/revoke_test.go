package review

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

func (f *fixture) client(t *testing.T) *salesforce.Client {
	t.Helper()
	c, err := salesforce.NewClient(f.cfg.Orgs[0].AuthConfig(), salesforce.WithRetry(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func auditLines(t *testing.T, b *bytes.Buffer) []auditEntry {
	t.Helper()
	var out []auditEntry
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var e auditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func noSecrets(t *testing.T, org *sftest.Org, outputs ...string) {
	t.Helper()
	for _, dt := range org.DeleteTokens() {
		for _, o := range outputs {
			if strings.Contains(o, dt) || strings.Contains(o, dt[3:]) {
				t.Fatalf("a DeleteToken appears in the output")
			}
		}
	}
	for _, o := range outputs {
		if strings.Contains(o, sftest.TestCredentials.ClientSecret) || strings.Contains(o, "!AQ") {
			t.Fatalf("a client secret or access token appears in the output")
		}
	}
}

func TestRevokeDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.org.TokenCount()
	var out, audit bytes.Buffer
	sum, err := Revoke(t.Context(), f.client(t), Selector{InactiveUsers: true}, RevokeOptions{Org: "prod", Out: &out, Audit: &audit})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Selected != 2 || sum.Revoked != 0 || f.org.TokenCount() != before || f.srv.Requests()["revoke"] != 0 {
		t.Fatalf("dry run: %+v, tokens %d -> %d", sum, before, f.org.TokenCount())
	}
	for _, want := range []string{"DRY RUN", "leaver-recent@example.com", "leaver-old@example.com", "Tokens per app", "     2  Mobile", "Tokens per user"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out.String())
		}
	}
	if audit.Len() != 0 {
		t.Error("a dry run wrote to the audit log")
	}
	noSecrets(t, f.org, out.String())
}

func TestRevokeConfirmAuditAndPartialFailureRerun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.org.TokenCount()
	var out, audit bytes.Buffer
	c := f.client(t)
	sel := Selector{Apps: []string{"survey"}} // 25 tokens
	// Two revocations fail (Salesforce trouble).
	f.srv.Inject(sftest.Fault{Path: "/services/oauth2/revoke", Count: 2, Status: 503, Body: "<html>busy</html>", ContentType: "text/html"})
	sum, err := Revoke(t.Context(), c, sel, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: &audit})
	if err == nil || sum.Failed != 2 || sum.Revoked != 23 {
		t.Fatalf("first run: %+v err=%v", sum, err)
	}
	if !strings.Contains(out.String(), "run the same command again") {
		t.Error("no clear summary after a partial failure")
	}
	if f.org.TokenCount() != before-23 {
		t.Fatalf("tokens %d -> %d, want 23 fewer", before, f.org.TokenCount())
	}
	// Rerun: only the two left are selected and revoked; nothing twice.
	var out2 bytes.Buffer
	sum, err = Revoke(t.Context(), c, sel, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out2, Audit: &audit})
	if err != nil || sum.Selected != 2 || sum.Revoked != 2 || sum.AlreadyGone != 0 {
		t.Fatalf("rerun: %+v err=%v", sum, err)
	}
	if f.org.TokenCount() != before-25 {
		t.Fatalf("after rerun %d tokens, want %d", f.org.TokenCount(), before-25)
	}
	lines := auditLines(t, &audit)
	outcomes := map[string]int{}
	for _, e := range lines {
		outcomes[e.Outcome]++
		if e.Org != "prod" || e.App != "Survey" || !strings.HasPrefix(e.User, "survey") || e.UserID == "" || e.Time.IsZero() {
			t.Errorf("audit line lacks fields: %+v", e)
		}
	}
	if outcomes["revoked"] != 25 || outcomes["failed"] != 2 || len(lines) != 27 {
		t.Errorf("audit outcomes %v over %d lines", outcomes, len(lines))
	}
	noSecrets(t, f.org, out.String(), out2.String(), audit.String())
}

func TestRevokeSelectors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t)
	count := func(sel Selector) int {
		var out bytes.Buffer
		sum, err := Revoke(t.Context(), c, sel, RevokeOptions{Org: "prod", Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		return sum.Selected
	}
	if n := count(Selector{Stale: true, StaleAfter: 90 * day}); n != 3 {
		t.Errorf("--stale selected %d, want 3", n)
	}
	if n := count(Selector{Users: []string{"BOB@example.com"}}); n != 3 {
		t.Errorf("--user bob selected %d, want 3", n)
	}
	if n := count(Selector{Users: []string{"bob@example.com"}, Apps: []string{"Phish"}}); n != 1 {
		t.Errorf("--user bob --app Phish selected %d, want 1", n)
	}
	if _, err := Revoke(t.Context(), c, Selector{}, RevokeOptions{Org: "prod", Out: &bytes.Buffer{}}); err == nil {
		t.Error("an empty selector was accepted")
	}
}

// TestRevokeOutputIsNeutralized: app and user names with escape sequences
// reach the terminal as visible text, in the dry run and with --confirm.
func TestRevokeOutputIsNeutralized(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	evil := "Evil\x1b[2J\u202eApp"
	app := f.org.AddApp(sftest.App{Name: evil, Installed: true})
	u := f.org.AddUser("x\x1b]0;owned\x07@example.com", true)
	f.org.AddToken(sftest.TokenSpec{User: u, App: app, Created: f.org.Now().Add(-time.Hour)})
	for _, confirm := range []bool{false, true} {
		var out bytes.Buffer
		sum, err := Revoke(t.Context(), f.client(t), Selector{Apps: []string{evil}}, RevokeOptions{Org: "prod", Out: &out, Confirm: confirm, Rate: 50})
		if err != nil || sum.Selected != 1 {
			t.Fatalf("confirm=%v: %+v %v", confirm, sum, err)
		}
		if strings.ContainsAny(out.String(), "\x1b\x07\u202e") || !strings.Contains(out.String(), `Evil\x1b[2J\u202eApp`) || !strings.Contains(out.String(), `x\x1b]0;owned\x07@example.com`) {
			t.Errorf("confirm=%v: terminal output not neutralized:\n%q", confirm, out.String())
		}
	}
}
