package salesforce_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// replayClient is a client for a fixture folder served by sftest.Replay.
func replayClient(t *testing.T, dir string) *salesforce.Client {
	t.Helper()
	ts := sftest.Replay(t, dir)
	c, err := salesforce.NewClient(salesforce.AuthConfig{Flow: salesforce.FlowClientCredentials, LoginURL: ts.URL, ClientID: "x", ClientSecret: "y"},
		salesforce.WithRetry(0, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every fixture folder (hand-built from public samples, or written by
// check --record and attached to a bug report) must parse, file by file.
func TestFixturesAreWellFormed(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob("testdata/fixtures/*")
	if len(dirs) == 0 {
		t.Fatal("no fixtures")
	}
	for _, dir := range dirs {
		idx, err := salesforce.ReadFixture(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range idx.Responses {
			if _, err := os.Stat(filepath.Join(dir, e.File)); err != nil || e.Method == "" || e.Path == "" || e.Status == 0 {
				t.Errorf("%s: entry %+v: %v", dir, e, err)
			}
		}
	}
}

// The public sample shapes, replayed through the client.
func TestReplayPublicSamples(t *testing.T) {
	t.Parallel()
	c := replayClient(t, "testdata/fixtures/public-samples")
	ctx := t.Context()

	vs, err := c.Versions(ctx)
	if err != nil || len(vs) != 4 || vs[3].Version != "66.0" {
		t.Fatalf("versions %+v, err %v", vs, err)
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := lim["DailyApiRequests"]; d.Max != 15000 || d.Remaining != 14878 {
		t.Fatalf("DailyApiRequests = %+v (nested per-app entries must not confuse it)", d)
	}
	if _, ok := lim["Ant Migration Tool"]; ok {
		t.Fatal("a nested per-app sub-limit was read as a top-level limit")
	}

	files, err := c.EventLogFiles(ctx, "ApiTotalUsage", time.Time{})
	if err != nil || len(files) != 2 {
		t.Fatalf("files %+v, err %v", files, err)
	}
	if files[0].Interval != "Daily" || !files[0].PeriodEnd().Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) ||
		files[1].Interval != "Hourly" || !files[1].PeriodEnd().Equal(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("log file periods: %+v", files)
	}
	rc, err := c.OpenLogFile(ctx, files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	byApp := map[string]int{}
	errors, internal := 0, 0
	n, err := salesforce.ParseAPITotalUsage(rc, func(e salesforce.UsageEvent) {
		byApp[string(e.AppName)]++
		if e.StatusCode >= 400 {
			errors++
		}
		if salesforce.IsInternalAppID(string(e.AppID)) {
			internal++
		}
	})
	if err != nil || n != 4 {
		t.Fatalf("parsed %d rows, err %v", n, err)
	}
	if byApp["Data Loader"] != 2 || errors != 1 || internal != 1 {
		t.Fatalf("by app %v, %d errors, %d internal", byApp, errors, internal)
	}

	apps, err := c.ECAs(ctx)
	if err != nil || len(apps) != 1 || apps[0].DisplayName() != "Field Service Companion" {
		t.Fatalf("apps %+v, err %v", apps, err)
	}
	users, err := c.ECAAppTokens(ctx, apps[0].Identifier)
	if err != nil || len(users) != 1 || len(users[0].Tokens) != 1 {
		t.Fatalf("users %+v, err %v", users, err)
	}
	if tok := users[0].Tokens[0]; tok.UseCount != 42 || tok.LastUsedAt.IsZero() || tok.InitialConnectionAt.IsZero() {
		t.Fatalf("token %+v", tok)
	}
}

// The redactor keeps shapes and joins and drops what identifies people.
func TestRedactor(t *testing.T) {
	t.Parallel()
	r := salesforce.NewRedactor()
	in := `{"access_token":"00D5j000001!AQ.secret","id":"https://x/id/00D5j00000DgAYGEA3/0055j00000AbCdEAAZ","records":[{"OwnerId":"005Hs00000KQdpMIAT","UserId":"0055j00000AbCdEAAZ","User":{"Username":"jane.doe@acme.com"},"AppName":"Data Loader","DeleteToken":"DT0abc","CLIENT_IP":"203.0.113.7"}]}`
	out := string(r.JSON([]byte(in)))
	for _, bad := range []string{"secret", "00D5j00000DgAYG", "0055j00000AbCdE", "005Hs00000KQdpM", "jane.doe", "acme.com", "DT0abc", "203.0.113.7"} {
		if contains(out, bad) {
			t.Errorf("redacted output holds %q:\n%s", bad, out)
		}
	}
	for _, keep := range []string{"Data Loader", "[redacted]", "005000000000001AAA", "00D000000000001AAA"} {
		if !contains(out, keep) {
			t.Errorf("redacted output lacks %q:\n%s", keep, out)
		}
	}
	// Stable: the same id gets the same pseudonym in a later response.
	if again := string(r.JSON([]byte(`{"UserId":"0055j00000AbCdEAAZ"}`))); !contains(again, "005000000000001AAA") {
		t.Errorf("pseudonym not stable: %s", again)
	}
	csvOut, err := r.CSV([]byte("\"USER_ID\",\"USER_NAME\",\"CLIENT_IP\",\"CONNECTED_APP_NAME\"\n\"0055j00000AbCdE\",\"jane.doe@acme.com\",\"203.0.113.7\",\"Data Loader\"\n"))
	if err != nil || contains(string(csvOut), "jane") || contains(string(csvOut), "203.0.113.7") || !contains(string(csvOut), "Data Loader") {
		t.Fatalf("csv redaction: %s, %v", csvOut, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestReadFixtureNamesABadIndex: a fixture's index.json that is not JSON is
// refused with the file's path, and a good one reads back what was written.
func TestReadFixtureNamesABadIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := salesforce.ReadFixture(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "index.json")) {
		t.Errorf("bad index.json: err %v, want one naming the file", err)
	}
	idx := `{"source":"check --record","responses":[{"method":"GET","path":"/services/data/v66.0/limits","status":200,"file":"0001.json"}],"incomplete":"stopped"}`
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(idx), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := salesforce.ReadFixture(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != "check --record" || got.Incomplete != "stopped" || len(got.Responses) != 1 || got.Responses[0].File != "0001.json" || got.Responses[0].Status != 200 {
		t.Errorf("read back %+v", got)
	}
}
