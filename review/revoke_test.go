package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
		if e.Org != "prod" || e.App != "Survey" || !strings.HasPrefix(e.User, "survey") || e.UserID == "" || e.Time.IsZero() || !strings.HasPrefix(e.TokenID, "0CQ") {
			t.Errorf("audit line lacks fields: %+v", e)
		}
	}
	// Each revocation is announced ("revoking") before it is made.
	if outcomes["revoked"] != 25 || outcomes["failed"] != 2 || outcomes["revoking"] != 27 || len(lines) != 54 {
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
		// The fixture's org clock is days from the local one.
		sum, err := Revoke(t.Context(), c, sel, RevokeOptions{Org: "prod", Out: &out, MaxClockSkew: 3650 * day})
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

// TestRevokeAppIDAndExactNames: --app-id picks one of two same-named apps,
// and a name with spaces at its ends is matched whole, as the metrics show it.
func TestRevokeAppIDAndExactNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.org.Now()
	a := f.org.AddApp(sftest.App{Name: "Twin", Installed: true})
	b := f.org.AddApp(sftest.App{Name: "Twin", Installed: true})
	sp := f.org.AddApp(sftest.App{Name: " Spaced ", Installed: true})
	for i, app := range []int{a, a, b, sp} {
		f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser(fmt.Sprintf("twin%d@example.com", i), true), App: app, Created: now.Add(-day)})
	}
	apps := f.org.Apps()
	c := f.client(t)
	run := func(sel Selector) (RevokeSummary, string) {
		var out bytes.Buffer
		sum, err := Revoke(t.Context(), c, sel, RevokeOptions{Org: "prod", Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		return sum, out.String()
	}
	sum, out := run(Selector{Apps: []string{"Twin"}})
	if sum.Selected != 3 || !strings.Contains(out, "Twin names 2 different apps") ||
		!strings.Contains(out, apps[a].ID[:15]) || !strings.Contains(out, apps[b].ID[:15]) || !strings.Contains(out, "App id") || !strings.Contains(out, "Installed") {
		t.Errorf("--app Twin: %d selected, dry run:\n%s", sum.Selected, out)
	}
	for _, id := range []string{apps[b].ID, apps[b].ID[:15], apps[b].MenuItemID} {
		if sum, _ := run(Selector{AppIDs: []string{id}}); sum.Selected != 1 {
			t.Errorf("--app-id %s selected %d, want 1", id, sum.Selected)
		}
	}
	if sum, _ := run(Selector{Apps: []string{" Spaced "}}); sum.Selected != 1 {
		t.Errorf("--app ' Spaced ' selected %d, want 1", sum.Selected)
	}
	if sum, _ := run(Selector{Apps: []string{"Spaced"}}); sum.Selected != 0 {
		t.Errorf("--app Spaced selected %d, want 0: names are matched whole", sum.Selected)
	}
}

// TestRevokeInvalidTokenConfirmed: a 400 invalid_token for a token that is
// still live is a failure, not "already gone"; the rerun revokes it.
func TestRevokeInvalidTokenConfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t)
	before := f.org.TokenCount()
	var out, audit bytes.Buffer
	f.srv.SetRevokeBehaviour(sftest.RevokeBehaviour{FalseInvalid: 3, EchoToken: true})
	sum, err := Revoke(t.Context(), c, Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: &audit})
	if err == nil || sum.Failed != 3 || sum.AlreadyGone != 0 || sum.Revoked != 22 || f.org.TokenCount() != before-22 {
		t.Fatalf("first run: %+v err=%v tokens %d -> %d", sum, err, before, f.org.TokenCount())
	}
	if !strings.Contains(audit.String(), "still there") || !strings.Contains(audit.String(), "[redacted]") {
		t.Errorf("audit log does not say why, or the echoed token was not redacted:\n%s", audit.String())
	}
	// Tokens revoked behind revoke's back are confirmed gone.
	f.srv.SetRevokeBehaviour(sftest.RevokeBehaviour{})
	sum, err = Revoke(t.Context(), c, Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: &audit})
	if err != nil || sum.Revoked != 3 || f.org.TokenCount() != before-25 {
		t.Fatalf("rerun: %+v err=%v", sum, err)
	}
	noSecrets(t, f.org, out.String(), audit.String())
}

// TestRevokeAlreadyGoneConfirmed: a token revoked elsewhere between the read
// and the revoke answers invalid_token; a COUNT() confirms it is gone. A bare
// 400 invalid_token for a live token is not believed.
func TestRevokeAlreadyGoneConfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t)
	var out bytes.Buffer
	f.srv.SetRevokeBehaviour(sftest.RevokeBehaviour{GoneInvalid: 1})
	sum, err := Revoke(t.Context(), c, Selector{Apps: []string{"Phish"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out})
	if err != nil || sum.AlreadyGone != 1 || sum.Revoked != 1 {
		t.Fatalf("%+v err=%v", sum, err)
	}
	f.srv.Inject(sftest.Fault{Path: "/services/oauth2/revoke", Count: 1, Status: 400, Body: `{"error":"invalid_token","error_description":"invalid token"}`})
	sum, err = Revoke(t.Context(), c, Selector{Users: []string{"alice@example.com"}, Apps: []string{"Mobile"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out})
	if err == nil || sum.Failed != 1 || sum.AlreadyGone != 0 {
		t.Fatalf("%+v err=%v", sum, err)
	}
}

// TestRevokeRedirectIsFailure: a revoke endpoint that redirects to a page
// answering 200 revokes nothing, and revoke says so.
func TestRevokeRedirectIsFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t)
	before := f.org.TokenCount()
	f.srv.SetRevokeBehaviour(sftest.RevokeBehaviour{RedirectTo: "/services/data/v66.0/limits/"})
	var out, audit bytes.Buffer
	sum, err := Revoke(t.Context(), c, Selector{Apps: []string{"Phish"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: &audit})
	if err == nil || sum.Revoked != 0 || sum.Failed != 2 || f.org.TokenCount() != before {
		t.Fatalf("%+v err=%v", sum, err)
	}
	if strings.Contains(audit.String(), `"outcome":"revoked"`) {
		t.Errorf("audit log says revoked:\n%s", audit.String())
	}
}

// failAfter is an audit log whose writes fail after n succeed (a full disk).
type failAfter struct {
	n      int
	synced int
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("no space left on device")
	}
	w.n--
	return len(p), nil
}

func (w *failAfter) Sync() error { w.synced++; return nil }

var _ io.Writer = (*failAfter)(nil)

// TestRevokeStopsWhenAuditFails: no token is revoked whose audit line could
// not be written, and the run stops at the first failed write.
func TestRevokeStopsWhenAuditFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.client(t)
	before := f.org.TokenCount()
	var out bytes.Buffer
	w := &failAfter{n: 0}
	if _, err := Revoke(t.Context(), c, Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: w}); err == nil || !strings.Contains(err.Error(), "nothing more was revoked") {
		t.Fatalf("err = %v", err)
	}
	if f.org.TokenCount() != before || f.srv.Requests()["revoke"] != 0 {
		t.Fatalf("revoked with no audit line: tokens %d -> %d", before, f.org.TokenCount())
	}
	// The intent line is written, the outcome line fails: one revoked, then stop.
	w = &failAfter{n: 1}
	if _, err := Revoke(t.Context(), c, Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: w}); err == nil {
		t.Fatal("no error")
	}
	if f.org.TokenCount() != before-1 || w.synced != 1 || strings.Contains(out.String(), "revoked  ") {
		t.Fatalf("tokens %d -> %d, synced %d, out:\n%s", before, f.org.TokenCount(), w.synced, out.String())
	}
}

// TestRevokeStaleRefusesWrongClock: --stale does not run on an org clock
// hours from the local one.
func TestRevokeStaleRefusesWrongClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.org.SetNow(time.Now().Add(5 * time.Hour))
	_, err := Revoke(t.Context(), f.client(t), Selector{Stale: true, StaleAfter: 90 * day}, RevokeOptions{Org: "prod", Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "--stale would select by a wrong age") {
		t.Fatalf("err = %v", err)
	}
	f.org.SetNow(time.Now())
	if _, err := Revoke(t.Context(), f.client(t), Selector{Stale: true, StaleAfter: 90 * day}, RevokeOptions{Org: "prod", Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
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

// TestRevokeOKWithErrorIsFailure: a revoke endpoint answering 200 with an
// OAuth error or an HTML login page revokes nothing; revoke reports every
// token failed, writes no "revoked" line, and says why.
func TestRevokeOKWithErrorIsFailure(t *testing.T) {
	t.Parallel()
	for _, b := range []sftest.RevokeBehaviour{{OKError: "unsupported_token_type"}, {OKLoginPage: true}} {
		f := newFixture(t)
		before := f.org.TokenCount()
		f.srv.SetRevokeBehaviour(b)
		var out, audit bytes.Buffer
		sum, err := Revoke(t.Context(), f.client(t), Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: &audit})
		if err == nil || sum.Revoked != 0 || sum.Failed != 25 || f.org.TokenCount() != before {
			t.Fatalf("%+v: %+v err=%v, tokens %d -> %d", b, sum, err, before, f.org.TokenCount())
		}
		if strings.Contains(audit.String(), `"outcome":"revoked"`) || !strings.Contains(out.String(), "Revoked 0,") {
			t.Errorf("%+v: reported revoked:\n%s", b, tailOf(out.String()))
		}
		want := "unsupported_token_type"
		if b.OKLoginPage {
			want = "HTML page"
		}
		if !strings.Contains(audit.String(), want) {
			t.Errorf("%+v: the audit log does not say %q:\n%s", b, want, tailOf(audit.String()))
		}
		noSecrets(t, f.org, out.String(), audit.String())
	}
}

// TestRevokeConfirmsEachToken: an endpoint that answers 200 with an empty
// body but revokes nothing (a proxy that swallows the request) is caught by
// the check that the token is gone.
func TestRevokeConfirmsEachToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.org.TokenCount()
	f.srv.Inject(sftest.Fault{Path: "/services/oauth2/revoke", Count: 2, Status: 200, Body: " ", ContentType: "text/plain"})
	var out, audit bytes.Buffer
	sum, err := Revoke(t.Context(), f.client(t), Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: &audit})
	if err == nil || sum.Revoked != 23 || sum.Failed != 2 || f.org.TokenCount() != before-23 {
		t.Fatalf("%+v err=%v, tokens %d -> %d", sum, err, before, f.org.TokenCount())
	}
	if n := strings.Count(audit.String(), `"outcome":"revoked"`); n != 23 || !strings.Contains(audit.String(), "but the token is still there") {
		t.Errorf("%d revoked lines, audit:\n%s", n, tailOf(audit.String()))
	}
}

// TestRevokeFormEncodedAlreadyGone: the org answers an already revoked
// token with a form-encoded invalid_token; it is recognised and, once the
// token is confirmed gone, counted as already gone rather than failed.
func TestRevokeFormEncodedAlreadyGone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetRevokeBehaviour(sftest.RevokeBehaviour{GoneInvalid: 2})
	var out bytes.Buffer
	sum, err := Revoke(t.Context(), f.client(t), Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out})
	if err != nil || sum.AlreadyGone != 2 || sum.Revoked != 23 || sum.Failed != 0 {
		t.Fatalf("%+v err=%v\n%s", sum, err, tailOf(out.String()))
	}
}

// TestRevokeStopsAtFailedLogin: when the login starts failing mid-run,
// revoke stops at the first failure instead of logging in once per token
// (with the password flow, a lockout), and reports the rest not attempted.
func TestRevokeStopsAtFailedLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Every request logs in anew, so a login failure shows at once.
	c, err := salesforce.NewClient(f.cfg.Orgs[0].AuthConfig(), salesforce.WithRetry(1, time.Millisecond), salesforce.WithTokenLifetime(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	before := f.org.TokenCount()
	// The logins fail from the first revocation on.
	atHook := -1
	audit := &hookWriter{hook: func() {
		atHook = f.srv.Requests()["token"]
		f.srv.Inject(sftest.Fault{Path: "/services/oauth2/token", Count: 1000, Status: 400, Body: `{"error":"invalid_grant","error_description":"authentication failure"}`})
	}}
	var out bytes.Buffer
	sum, err := Revoke(t.Context(), c, Selector{Apps: []string{"Survey"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: audit})
	if err == nil || sum.Failed != 1 || sum.NotAttempted != 24 || sum.Revoked != 0 || f.org.TokenCount() != before {
		t.Fatalf("%+v err=%v\n%s", sum, err, tailOf(out.String()))
	}
	if n := f.srv.Requests()["token"] - atHook; atHook < 0 || n != 1 {
		t.Errorf("%d failed logins, want 1", n)
	}
	if !strings.Contains(out.String(), "not attempted 24") || !strings.Contains(out.String(), "Stopped at the first failed login") {
		t.Errorf("output:\n%s", tailOf(out.String()))
	}
}

// hookWriter is an audit log that calls hook once, at its first write.
type hookWriter struct {
	hook func()
	done bool
}

func (w *hookWriter) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		w.hook()
	}
	return len(p), nil
}

func tailOf(s string) string {
	if len(s) > 1500 {
		return "…" + s[len(s)-1500:]
	}
	return s
}

// TestRevokeSharedNameAndExpect: a confirmed run by a name that an
// approved app and an uninstalled look-alike share is refused unless told
// so; --not-installed picks the look-alike alone; a confirmed run whose
// selection holds more tokens than --expect revokes nothing.
func TestRevokeSharedNameAndExpect(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.org.Now()
	approved := f.org.AddApp(sftest.App{Name: "Loader", Installed: true})
	look := f.org.AddApp(sftest.App{Name: "Loader", Installed: false})
	for i := range 16 {
		app := approved
		if i >= 11 {
			app = look
		}
		f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser(fmt.Sprintf("loader%d@example.com", i), true), App: app, Created: now.Add(-day)})
	}
	c := f.client(t)
	before := f.org.TokenCount()
	run := func(sel Selector, o RevokeOptions) (RevokeSummary, string, error) {
		var out bytes.Buffer
		o.Org, o.Out, o.Rate = "prod", &out, 50
		sum, err := Revoke(t.Context(), c, sel, o)
		return sum, out.String(), err
	}
	if _, _, err := run(Selector{Apps: []string{"loader"}}, RevokeOptions{Confirm: true}); err == nil || !strings.Contains(err.Error(), "--app names several apps") || !strings.Contains(err.Error(), "not installed") || f.org.TokenCount() != before {
		t.Fatalf("shared name: err=%v, tokens %d -> %d", err, before, f.org.TokenCount())
	}
	sum, out, err := run(Selector{Apps: []string{"Loader"}, NotInstalled: true}, RevokeOptions{})
	if err != nil || sum.Selected != 5 || !strings.Contains(out, "--confirm --expect=5") {
		t.Fatalf("--not-installed dry run: %+v err=%v\n%s", sum, err, out)
	}
	if _, _, err := run(Selector{Apps: []string{"Loader"}, NotInstalled: true}, RevokeOptions{Confirm: true, Expect: 4}); err == nil || !strings.Contains(err.Error(), "more than --expect=4") || f.org.TokenCount() != before || f.srv.Requests()["revoke"] != 0 {
		t.Fatalf("--expect=4 for 5: err=%v, tokens %d -> %d", err, before, f.org.TokenCount())
	}
	sum, _, err = run(Selector{Apps: []string{"Loader"}, NotInstalled: true}, RevokeOptions{Confirm: true, Expect: 5})
	if err != nil || sum.Revoked != 5 || f.org.TokenCount() != before-5 {
		t.Fatalf("--not-installed --expect=5: %+v err=%v", sum, err)
	}
	// A look-alike that differs only in case is picked by --app too (names
	// match case-insensitively): refused as well.
	lower := f.org.AddApp(sftest.App{Name: "loader", Installed: false})
	f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser("loader-lower@example.com", true), App: lower, Created: now.Add(-day)})
	if _, _, err := run(Selector{Apps: []string{"Loader"}}, RevokeOptions{Confirm: true}); err == nil || !strings.Contains(err.Error(), `loader (not installed)`) || f.org.TokenCount() != before-4 {
		t.Fatalf("case look-alike: err=%v, tokens %d -> %d", err, before-5, f.org.TokenCount())
	}
	f.org.RevokeWhere(func(_, a int) bool { return a == lower })
	// Told to, a shared name covers every app of it: the approved one and a
	// second look-alike.
	look2 := f.org.AddApp(sftest.App{Name: "Loader", Installed: false})
	f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser("loader-late@example.com", true), App: look2, Created: now.Add(-day)})
	sum, _, err = run(Selector{Apps: []string{"Loader"}}, RevokeOptions{Confirm: true, AllowSharedName: true})
	if err != nil || sum.Revoked != 12 || f.org.TokenCount() != before-16 {
		t.Fatalf("--allow-shared-name: %+v err=%v", sum, err)
	}
}

// TestRevokeConfirmsByID: two tokens of one user and app created in the
// same second. The endpoint answers the first revocation as if it worked
// but revokes nothing, while the second token is revoked elsewhere. Counting
// the (user, app, second) tuple took the first for revoked; its Id shows it
// is still there, and the second is already gone.
func TestRevokeConfirmsByID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sec := f.org.Now().Add(-time.Hour).Truncate(time.Second)
	u := f.org.AddUser("twice@example.com", true)
	for _, ms := range []time.Duration{100, 600} {
		f.org.AddToken(sftest.TokenSpec{User: u, App: 0, Created: sec.Add(ms * time.Millisecond)})
	}
	dts := f.org.DeleteTokens()
	second := dts[len(dts)-1] // the newest token
	revokeURL := strings.TrimSuffix(f.cfg.Orgs[0].LoginURL, "/") + "/services/oauth2/revoke"
	audit := &hookWriter{hook: func() {
		resp, err := http.PostForm(revokeURL, url.Values{"token": {second}})
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		// The next revocation, ours of the first token, answers a bare 200.
		f.srv.Inject(sftest.Fault{Path: "/services/oauth2/revoke", Status: 200, Body: "", ContentType: "text/plain"})
	}}
	var out bytes.Buffer
	before := f.org.TokenCount()
	sum, err := Revoke(t.Context(), f.client(t), Selector{Users: []string{"twice@example.com"}}, RevokeOptions{Org: "prod", Confirm: true, Rate: 50, Out: &out, Audit: audit})
	if err == nil || sum.Revoked != 0 || sum.Failed != 1 || sum.AlreadyGone != 1 {
		t.Fatalf("%+v err=%v\n%s", sum, err, tailOf(out.String()))
	}
	// Only the token revoked behind our back is gone; ours is still there.
	if f.org.TokenCount() != before-1 || !strings.Contains(out.String(), "failed") {
		t.Fatalf("output:\n%s", tailOf(out.String()))
	}
}

// TestRevokeConfirmsInBatches: a token is revoked only once it is no longer
// listed, but tokens with an Id are checked together, up to confirmBatch by
// one query: one COUNT() a token spent as many of the org's daily API
// requests as tokens revoked. Tokens without an Id are still checked one by
// one, by their user, app and second.
func TestRevokeConfirmsInBatches(t *testing.T) {
	t.Parallel()
	for _, nullIDs := range []bool{false, true} {
		f := newFixture(t)
		f.org.Behavior.NullOauthTokenIDs = nullIDs
		now := f.org.Now()
		app := f.org.AddApp(sftest.App{Name: "Bulk", Installed: true})
		const n = 230
		for i := range n {
			f.org.AddToken(sftest.TokenSpec{User: f.org.AddUser(fmt.Sprintf("bulk%d@example.com", i), true), App: app, Created: now.Add(-time.Duration(i+1) * time.Minute)})
		}
		c := f.client(t)
		before := f.org.TokenCount()
		var out, audit bytes.Buffer
		calls := f.srv.APICalls()
		if _, err := Revoke(t.Context(), c, Selector{Apps: []string{"Bulk"}}, RevokeOptions{Org: "prod", Out: &out}); err != nil {
			t.Fatal(err)
		}
		list := f.srv.APICalls() - calls
		calls = f.srv.APICalls()
		sum, err := Revoke(t.Context(), c, Selector{Apps: []string{"Bulk"}}, RevokeOptions{Org: "prod", Confirm: true, Expect: n, Rate: 1000, Out: &out, Audit: &audit})
		if err != nil || sum.Revoked != n || f.org.TokenCount() != before-n {
			t.Fatalf("null ids %v: %+v err=%v, tokens %d -> %d", nullIDs, sum, err, before, f.org.TokenCount())
		}
		checks := f.srv.APICalls() - calls - list
		want := int64(3) // 230 tokens in batches of 100
		if nullIDs {
			want = n // no Id: one COUNT() each
		}
		if checks != want {
			t.Errorf("null ids %v: %d API requests to confirm %d revocations, want %d", nullIDs, checks, n, want)
		}
		if got := strings.Count(audit.String(), `"outcome":"revoked"`); got != n || strings.Count(audit.String(), `"outcome":"revoking"`) != n {
			t.Errorf("null ids %v: %d revoked lines", nullIDs, got)
		}
	}
}
