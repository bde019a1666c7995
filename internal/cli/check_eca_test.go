package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// TestCheckPricesECAUsers (issue 21.2): check prices the
// external_client_apps source as it runs. With OauthToken readable it lists
// the apps (two collection pages and one query a refresh) and counts their
// users once an hour; without it,
// an External Client App of 2,000 users costs a request per user a refresh,
// not two per app.
func TestCheckPricesECAUsers(t *testing.T) {
	t.Parallel()
	org := sftest.NewOrg()
	users := make([]int, 2000)
	for i := range users {
		users[i] = org.AddUser(fmt.Sprintf("u%d@example.com", i), true)
	}
	org.AddECA(sftest.ECASpec{Name: "Field Companion", DeveloperName: "Field_Companion", Users: users, LastUsed: org.Now().Add(-time.Hour)})
	_, ts := sftest.Start(t, org, sftest.TestCredentials)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	const refreshesPerDay = 96 // the source's default 15-minute interval
	for _, c := range []struct {
		tokens bool
		want   int64
	}{
		// 2 collection pages + 1 query a refresh, and once an hour the
		// app's 21 user pages, to count its users (issue 22.9: the evidence
		// that tells an uninstalled app of its name apart).
		{tokens: true, want: (2+1)*refreshesPerDay + 21*24},
		// 2 collection pages + 1 query + 21 user pages + 2,000 token reads
		// + 10 deactivated-user queries.
		{tokens: false, want: (2 + 1 + 21 + 2000 + 10) * refreshesPerDay},
	} {
		cfg := filepath.Join(dir, fmt.Sprintf("config-%v.yml", c.tokens))
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n    sources: {oauth_tokens: {enabled: %v}}\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
			ts.URL, c.tokens, sftest.TestCredentials.ClientID)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, out, errOut := runCheck(t, "--config.file="+cfg, "--format=json")
		rep := decodeCheck(t, out)
		if len(rep.Orgs) != 1 {
			t.Fatalf("report: %s\n%s", out, errOut)
		}
		noted := strings.Contains(strings.Join(rep.Orgs[0].Notes, "\n"), "grant Customize Application to read them from OauthToken")
		if noted == c.tokens {
			t.Errorf("oauth_tokens enabled=%v: the note on per-user reads is there: %v; notes %q", c.tokens, noted, rep.Orgs[0].Notes)
		}
		for _, s := range rep.Orgs[0].Sources {
			if s.Source == "external_client_apps" && (!s.Works || s.RequestsPerDay != c.want) {
				t.Errorf("oauth_tokens enabled=%v: external_client_apps priced %d requests a day, want %d (%+v)", c.tokens, s.RequestsPerDay, c.want, s)
			}
		}
	}
}
