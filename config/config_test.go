package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGoodConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Orgs) != 2 || time.Duration(cfg.StaleAfter) != 30*24*time.Hour {
		t.Fatalf("orgs=%d stale=%v", len(cfg.Orgs), cfg.StaleAfter)
	}
	prod := cfg.Orgs[0]
	if prod.AuthConfig().ClientSecret != "not-a-secret-but-a-test-value" {
		t.Error("secret file not read (or trailing newline kept)")
	}
	if prod.SourceEnabled(SourceSessions) || !prod.SourceEnabled(SourceLogins) {
		t.Error("sources enabled wrong")
	}
	if prod.SourceInterval(SourceAPIUsage) != time.Hour || prod.SourceInterval(SourceOAuthTokens) != 10*time.Minute {
		t.Error("source intervals wrong")
	}
	sb := cfg.Orgs[1]
	if time.Duration(sb.RefreshInterval) != DefaultRefreshInterval || sb.APIBudgetPercent != 1 || sb.MaxConcurrency != 8 {
		t.Errorf("defaults not applied: %+v", sb)
	}
	if e := cfg.InventoryFor("prod", "salesforce mobile app", ""); e == nil || e.Owner != "mobile-team@example.com" {
		t.Error("inventory match by name failed")
	}
	if e := cfg.InventoryFor("prod", "Another Name", "0H45j000000XyzA"); e == nil {
		t.Error("inventory match by 15-character id failed")
	}
	if e := cfg.InventoryFor("sandbox", "Another Name", "0H45j000000XyzA"); e != nil {
		t.Error("inventory entry limited to prod matched sandbox")
	}
}

func TestBadConfigs(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"unknown-key.bad.yml":           "testdata/unknown-key.bad.yml:4: refresh_intervall: unknown key (in an org)",
		"bad-flow.bad.yml":              `testdata/bad-flow.bad.yml:5: orgs[0].auth.flow: unknown flow "magic": want jwt_bearer, client_credentials, refresh_token or password`,
		"missing-secret.bad.yml":        "testdata/missing-secret.bad.yml:7: orgs[0].auth.client_secret_file: cannot read secret file testdata/does-not-exist: no such file or directory (a relative path is resolved against the config file's folder)",
		"dup-org.bad.yml":               `testdata/dup-org.bad.yml:5: orgs[1].name: org "prod" is listed twice`,
		"bad-duration.bad.yml":          `testdata/bad-duration.bad.yml:1: "ninety days" is not a duration such as 90d, 5m or 1h30m`,
		"no-orgs.bad.yml":               "testdata/no-orgs.bad.yml:1: orgs: at least one org is required",
		"bad-max-apps.bad.yml":          "testdata/bad-max-apps.bad.yml:1: max_apps_per_org: must be a positive number of apps (leave it out for 5000)",
		"inventory-org.bad.yml":         `testdata/inventory-org.bad.yml:7: inventory[0].orgs: org "staging" is not in orgs`,
		"bad-source.bad.yml":            "testdata/bad-source.bad.yml:5: orgs[0].sources.tokens: unknown source: want one of oauth_tokens, apps, sessions, logins, api_usage, limits, external_client_apps, posture, app_metadata, threat_detection, stream, api_events",
		"bad-stream-topic.bad.yml":      `testdata/bad-stream-topic.bad.yml:6: orgs[0].stream.topics: unknown topic "/event/Nope": want one of /event/ApiEventStream, /event/LoginEventStream`,
		"bad-stream-endpoint.bad.yml":   `testdata/bad-stream-endpoint.bad.yml:5: orgs[0].stream.endpoint: "pubsub.example.com" is not a host:port such as "api.pubsub.salesforce.com:7443"`,
		"bad-stream-expired.bad.yml":    `testdata/bad-stream-expired.bad.yml:5: orgs[0].stream.on_expired: "never": want earliest or latest`,
		"stream-and-api-events.bad.yml": `testdata/stream-and-api-events.bad.yml:7: orgs[0].sources.api_events: the org's stream already reads /event/ApiEventStream, the same API calls as the stored ApiEvent: enable one of them (turn api_events off, or drop /event/ApiEventStream from stream.topics)`,
		"jwt-no-key.bad.yml":            "testdata/jwt-no-key.bad.yml:4: orgs[0].auth: jwt_bearer needs username and private_key_file",
		"inline-secret.bad.yml":         "testdata/inline-secret.bad.yml:4: client_secret: unknown key (in auth)",
	}
	files, _ := filepath.Glob("testdata/*.bad.yml")
	if len(files) != len(want) {
		t.Fatalf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		_, err := Load(f)
		if err == nil {
			t.Errorf("%s: no error", f)
			continue
		}
		if got := err.Error(); got != want[filepath.Base(f)] {
			t.Errorf("%s:\n got %s\nwant %s", f, got, want[filepath.Base(f)])
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error quotes a secret", f)
		}
	}
}

func TestLoginURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, flow, want string }{
		{"https://acme.my.salesforce.com", "client_credentials", ""},
		{"https://acme.my.salesforce.com/", "client_credentials", ""},
		{"http://127.0.0.1:8080", "client_credentials", ""},
		{"http://localhost:8080", "client_credentials", ""},
		{"http://[::1]:8080", "client_credentials", ""},
		{"https://login.salesforce.com", "jwt_bearer", ""},
		{"https://test.salesforce.com", "refresh_token", ""},
		{"http://acme.my.salesforce.com", "client_credentials", `uses http: Salesforce needs https (http is accepted only for loopback hosts, for tests); use "https://acme.my.salesforce.com"`},
		{"https://acme.my.salesforce.com/services/oauth2/token", "client_credentials", `has a path: give the host only, "https://acme.my.salesforce.com"`},
		{"https://acme.lightning.force.com", "jwt_bearer", `is the Lightning UI host, not a login host: use the My Domain URL "https://acme.my.salesforce.com"`},
		{"https://acme--uat.sandbox.lightning.force.com", "jwt_bearer", `use the My Domain URL "https://acme--uat.sandbox.my.salesforce.com"`},
		{"https://login.salesforce.com", "client_credentials", "does not serve the client credentials flow (Salesforce refuses it there): use the org's My Domain URL"},
		{"https://test.salesforce.com", "client_credentials", "does not serve the client credentials flow"},
		{"acme.my.salesforce.com", "client_credentials", "is not an absolute https URL: use the org's My Domain URL, such as https://acme.my.salesforce.com"},
	} {
		yml := "orgs:\n  - name: a\n    login_url: " + tc.url + "\n    auth: {flow: " + tc.flow + ", client_id: x, client_secret_file: s, refresh_token_file: s, username: u, private_key_file: s}\n"
		_, err := Parse([]byte(yml), filepath.Join(dir, "c.yml"))
		if tc.want == "" {
			if err != nil && strings.Contains(err.Error(), "login_url") {
				t.Errorf("%s (%s): %v", tc.url, tc.flow, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "c.yml:3: orgs[0].login_url: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s (%s):\n got %v\nwant line 3, orgs[0].login_url and %q", tc.url, tc.flow, err, tc.want)
		}
	}
}

func TestWorldReadableSecretWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte("orgs:\n  - name: a\n    login_url: https://a.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: s}\n"), filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "readable by every user") {
		t.Fatalf("warnings = %v", cfg.Warnings)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/good.yml", "testdata/unknown-key.bad.yml", "testdata/dup-org.bad.yml"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b, "testdata/fuzz.yml")
		if err == nil && len(cfg.Orgs) == 0 {
			t.Fatal("a config without orgs was accepted")
		}
	})
}

// TestNonFiniteNumbersRejected: YAML's .nan and .inf decode into a float, and
// "between 0 and 100" is false both ways for NaN, so api_budget_percent: .nan
// once passed and turned the API budget off. Every number refuses them, with
// the key and line.
func TestNonFiniteNumbersRejected(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	const org = "orgs:\n  - name: a\n    login_url: https://a.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: s}\n"
	for _, tc := range []struct{ yml, key string }{
		{org + "    api_budget_percent: VALUE\n", "orgs[0].api_budget_percent"},
		{org + "    max_concurrency: VALUE\n", ""},
		{org + "    refresh_interval: VALUE\n", ""},
		{org + "    sources: {limits: {interval: VALUE}}\n", ""},
		{"max_apps_per_org: VALUE\n" + org, ""},
		{"detection: {ipv4_prefix: VALUE}\n" + org, ""},
		{"detection: {max_networks_per_app: VALUE}\n" + org, ""},
		{"stale_after: VALUE\n" + org, ""},
	} {
		for _, val := range []string{".nan", ".NaN", ".inf", "-.inf", "+.Inf"} {
			yml := strings.Replace(tc.yml, "VALUE", val, 1)
			_, err := Parse([]byte(yml), filepath.Join(dir, "c.yml"))
			if err == nil {
				t.Errorf("%q accepted:\n%s", val, yml)
				continue
			}
			if tc.key != "" && !strings.Contains(err.Error(), "c.yml:5: "+tc.key+": ") {
				t.Errorf("%s = %s: error %q does not name line 5 and the key", tc.key, val, err)
			}
		}
	}
	// Finite values still pass.
	if _, err := Parse([]byte(org+"    api_budget_percent: 0.5\n"), filepath.Join(dir, "c.yml")); err != nil {
		t.Error(err)
	}
}

func TestStreamDefaultsAndOptIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "c.yml")
	body := `orgs:
  - name: prod
    login_url: https://acme.my.salesforce.com
    auth: {flow: client_credentials, client_id: x, client_secret_file: secret}
  - name: shield
    login_url: https://shield.my.salesforce.com
    stream: {enabled: true}
    auth: {flow: client_credentials, client_id: x, client_secret_file: secret}
  - name: off
    login_url: https://off.my.salesforce.com
    stream: {enabled: true, topics: [/event/ApiEventStream, /event/LoginEventStream], endpoint: "127.0.0.1:7443", on_expired: latest}
    sources: {stream: {enabled: false}}
    auth: {flow: client_credentials, client_id: x, client_secret_file: secret}
`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	prod, shield, off := cfg.Orgs[0], cfg.Orgs[1], cfg.Orgs[2]
	if prod.SourceEnabled(SourceStream) {
		t.Error("the stream is on for an org without a stream block: it must be opt-in")
	}
	if !prod.SourceEnabled(SourceAPIUsage) {
		t.Error("the other sources must stay on by default")
	}
	if !shield.SourceEnabled(SourceStream) {
		t.Error("stream.enabled did not turn the stream on")
	}
	if got := shield.Stream; got.Endpoint != DefaultStreamEndpoint || !slices.Equal(got.Topics, DefaultStreamTopics) || got.OnExpired != StreamOnExpiredEarliest {
		t.Errorf("defaults not filled in: %+v", got)
	}
	if off.SourceEnabled(SourceStream) {
		t.Error("sources.stream.enabled: false did not turn an enabled stream off")
	}
	if off.Stream.OnExpired != StreamOnExpiredLatest || len(off.Stream.Topics) != 2 || off.Stream.Endpoint != "127.0.0.1:7443" {
		t.Errorf("explicit settings not kept: %+v", off.Stream)
	}
}
