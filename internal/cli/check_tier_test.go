package cli

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
)

// tierOf runs check on org and returns its tier report.
func tierOf(t *testing.T, org *sftest.Org) refresh.Tier {
	t.Helper()
	ts := httptest.NewServer(sftest.NewServer(org, sftest.TestCredentials))
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n",
		ts.URL, sftest.TestCredentials.ClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ := runCheck(t, "--config.file="+cfg, "--format=json")
	rep := decodeCheck(t, out)
	if rep.Orgs[0].Tier == nil {
		t.Fatalf("no tier in the report:\n%s", out)
	}
	return *rep.Orgs[0].Tier
}

func feature(t *testing.T, tier refresh.Tier, prefix string) refresh.Feature {
	t.Helper()
	for _, f := range tier.Features {
		if strings.HasPrefix(f.Name, prefix) {
			return f
		}
	}
	t.Fatalf("no feature %q in %+v", prefix, tier.Features)
	return refresh.Feature{}
}

// TestCheckTier: an org with Daily log files only and no add-on (a fresh
// fake's default) is on the free tier, every paid source unavailable; with
// the add-on the Threat Detection stores are there; and when the log files
// cannot be listed the tier is unknown, never free (check fails closed).
func TestCheckTier(t *testing.T) {
	t.Parallel()
	// The org's clock is fixed, so the Daily file's listing does not
	// depend on the hour the test runs.
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	newOrg := func() *sftest.Org {
		org := sftest.NewOrg()
		org.SetNow(now)
		org.AddUser("integration@example.com", true)
		day := now.Truncate(24 * time.Hour).Add(-48 * time.Hour)
		org.AddLogFile(&sftest.LogFile{Interval: "Daily", LogDate: day, CreatedDate: day.Add(26 * time.Hour), Retention: 30 * 24 * time.Hour})
		return org
	}
	free := tierOf(t, newOrg())
	if free.Tier != refresh.TierFree {
		t.Errorf("org without the add-on: tier %s, want free: %+v", free.Tier, free.Features)
	}
	for _, f := range free.Features {
		if f.Available == refresh.Available {
			t.Errorf("free org: %s available", f.Name)
		}
	}
	if f := feature(t, free, "Threat Detection LoginAnomalyEventStore"); f.Available != refresh.Unavailable || !strings.Contains(f.Why, "INVALID_TYPE") {
		t.Errorf("free org's LoginAnomalyEventStore: %+v", f)
	}

	shield := newOrg()
	shield.Behavior.ThreatDetection = true
	got := tierOf(t, shield)
	if got.Tier != refresh.TierEventMonitoring || feature(t, got, "Threat Detection ApiAnomalyEventStore").Available != refresh.Available {
		t.Errorf("org with the add-on: %+v", got)
	}

	blind := newOrg()
	blind.SetPermission(sftest.PermViewEventLogFiles, false)
	if got := tierOf(t, blind); got.Tier != refresh.TierUnknown {
		t.Errorf("org whose log files cannot be listed: tier %s, want unknown", got.Tier)
	}
}

// TestCheckTierReadsAPIEventStorage: ApiEvent is a big object, which takes
// no COUNT(): check tells its storage from one row, and names the source
// that reads it. Without the add-on it answers INVALID_TYPE.
func TestCheckTierReadsAPIEventStorage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	org := sftest.NewOrg()
	org.SetNow(now)
	u := org.AddUser("integration@example.com", true)
	org.Behavior.APIEventStorage = true
	org.AddAPIEvent(sftest.APIEventSpec{User: u, AppName: "Data Loader", Time: now.Add(-time.Hour)})
	got := feature(t, tierOf(t, org), "ApiEvent storage")
	if got.Available != refresh.Available || got.ReadBy != "api_events (opt-in)" {
		t.Errorf("org with ApiEvent storage: %+v, want available, read by api_events", got)
	}
	org.Behavior.APIEventStorage = false
	if got := feature(t, tierOf(t, org), "ApiEvent storage"); got.Available != refresh.Unavailable {
		t.Errorf("org without the add-on: %+v, want unavailable", got)
	}
}
