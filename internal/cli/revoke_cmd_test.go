package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/review"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// lookalikeOrg has an approved, installed "Data Loader" holding 11 tokens
// and an uninstalled look-alike of the same name holding 5, all recent.
func lookalikeOrg() (org *sftest.Org, approved, lookalike int) {
	org = sftest.NewOrg()
	now := org.Now()
	approved = org.AddApp(sftest.App{Name: "Data Loader", Installed: true, AdminApproved: true})
	lookalike = org.AddApp(sftest.App{Name: "Data Loader", Installed: false})
	for i := range 16 {
		app := approved
		if i >= 11 {
			app = lookalike
		}
		u := org.AddUser(fmt.Sprintf("user%02d@example.com", i), true)
		org.AddToken(sftest.TokenSpec{User: u, App: app, Created: now.Add(-time.Duration(i+1) * time.Hour), LastUsed: now.Add(-time.Minute), UseCount: 3})
	}
	return org, approved, lookalike
}

// tokensOf counts an app's live tokens.
func tokensOf(org *sftest.Org, app int) int {
	n := 0
	org.RevokeWhere(func(_, a int) bool {
		if a == app {
			n++
		}
		return false
	})
	return n
}

// TestReviewFindingRevokesOnlyItsApp: the review's critical finding on a
// look-alike of an approved app (same name, not installed, no Id) prescribes
// a command that revokes the look-alike's 5 tokens and none of the approved
// app's 11. It once prescribed --app=NAME, which revoked all 16. A bare
// --app=NAME --confirm is refused, and so is a confirmed run that would
// revoke more tokens than --expect.
func TestReviewFindingRevokesOnlyItsApp(t *testing.T) {
	t.Parallel()
	org, approved, lookalike := lookalikeOrg()
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, ts.URL, fmt.Sprintf("inventory:\n  - app: Data Loader\n    app_id: %s\n    owner: ops@example.com\n", org.Apps()[approved].ID))
	report := filepath.Join(dir, "review.json")
	if code, out := runBinary(t, 2*time.Minute, "review", "--config.file="+cfg, "--format=json", "--output="+report, "--storage.path="+filepath.Join(dir, "data")); code != 0 {
		t.Fatalf("review: exit %d\n%s", code, tailStr(out, 800))
	}
	var r review.Report
	if err := json.Unmarshal([]byte(mustRead(t, report)), &r); err != nil {
		t.Fatal(err)
	}
	var f *review.Finding
	for i := range r.Findings {
		if r.Findings[i].Kind == review.KindUnknownApp {
			f = &r.Findings[i]
		}
	}
	if f == nil || f.Severity != review.SeverityCritical || f.ConfirmCommand == "" {
		t.Fatalf("no critical unknown_app finding with a command: %+v", r.Findings)
	}
	run := func(command string) (int, string) {
		t.Helper()
		// The command as printed, through a shell, with the built binary.
		line := strings.Replace(command, "salesforce_oauth_exporter ", "", 1)
		cmd := exec.Command("sh", "-c", `cd "$1" && shift && exec "$@" `+line, "sh", dir, binary)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	// A bare name covers both apps: refused, nothing revoked.
	code, out := run(fmt.Sprintf("salesforce_oauth_exporter revoke --config.file=%s --org=prod --app='Data Loader' --confirm", cfg))
	if code == 0 || !strings.Contains(out, "--app names several apps") || tokensOf(org, approved) != 11 || tokensOf(org, lookalike) != 5 {
		t.Fatalf("bare --app --confirm: exit %d, tokens %d + %d:\n%s", code, tokensOf(org, approved), tokensOf(org, lookalike), tailStr(out, 800))
	}
	// The finding's dry run lists the look-alike's 5 tokens alone.
	code, out = run(f.Command)
	if code != 0 || !strings.Contains(out, "DRY RUN: nothing is revoked; add --confirm to revoke: 5 token(s)") || !strings.Contains(out, "--confirm --expect=5") {
		t.Fatalf("dry run %q: exit %d\n%s", f.Command, code, tailStr(out, 800))
	}
	// A sixth look-alike token after the review: its confirmed run refuses.
	org.AddToken(sftest.TokenSpec{User: org.AddUser("late@example.com", true), App: lookalike, Created: org.Now().Add(-time.Minute)})
	code, out = run(f.ConfirmCommand)
	if code == 0 || !strings.Contains(out, "more than --expect=5") || tokensOf(org, lookalike) != 6 {
		t.Fatalf("grown selection: exit %d, %d look-alike tokens:\n%s", code, tokensOf(org, lookalike), tailStr(out, 800))
	}
	late := len(org.Users()) - 1
	org.RevokeWhere(func(u, a int) bool { return a == lookalike && u == late })
	code, out = run(f.ConfirmCommand)
	if code != 0 || tokensOf(org, lookalike) != 0 || tokensOf(org, approved) != 11 || !strings.Contains(out, "Revoked 5,") {
		t.Fatalf("%q: exit %d, tokens approved %d look-alike %d:\n%s", f.ConfirmCommand, code, tokensOf(org, approved), tokensOf(org, lookalike), tailStr(out, 800))
	}
}
