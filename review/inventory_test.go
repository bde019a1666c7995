package review

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/sftest"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// withInventory loads, strictly and from a file as the exporter does, the
// fixture's org with the inventory block given.
func withInventory(t *testing.T, loginURL, inventory string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(sftest.TestCredentials.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "config.yml")
	text := fmt.Sprintf("orgs:\n  - name: prod\n    login_url: %s\n    auth: {flow: client_credentials, client_id: %s, client_secret_file: secret}\n%s", loginURL, sftest.TestCredentials.ClientID, inventory)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("the config with the bootstrap inventory does not load: %v\n%s", err, inventory)
	}
	return cfg
}

func unknownApps(r *Report) []string {
	var out []string
	for _, a := range r.Inventory {
		if !a.Known && a.Kind != snapshot.KindSalesforceInternal {
			out = append(out, a.App)
		}
	}
	return out
}

// TestInventoryBootstrapRoundTrips (issue 25): on day one every app is
// unknown; review --format=inventory writes an inventory block that the
// config loader takes strictly and that, loaded, leaves no app unknown.
// Entries are keyed by app_id, and keep the owner and purpose of an app
// already approved.
func TestInventoryBootstrapRoundTrips(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	url := fx.cfg.Orgs[0].LoginURL
	approved := fx.cfg
	fx.cfg = withInventory(t, url, "")
	before := fx.report(t, DefaultOptions())
	if len(unknownApps(before)) < 5 {
		t.Fatalf("day one: unknown apps %v, want every app", unknownApps(before))
	}
	var b bytes.Buffer
	if err := Write(&b, []*Report{before}, InventoryFormat); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	fx.cfg = withInventory(t, url, out)
	if len(fx.cfg.Inventory) != len(before.Inventory) {
		t.Errorf("%d entries for %d apps:\n%s", len(fx.cfg.Inventory), len(before.Inventory), out)
	}
	ids := map[string]string{}
	for _, a := range before.Inventory {
		ids[a.App] = a.AppID
	}
	for _, e := range fx.cfg.Inventory {
		if e.AppID != ids[e.App] || e.Owner != "" || e.Purpose != "" || len(e.Orgs) != 1 || e.Orgs[0] != "prod" {
			t.Errorf("entry %+v: want app_id %q, empty owner and purpose, and its org", e, ids[e.App])
		}
	}
	if !strings.Contains(out, "owner: \"\"") || !strings.Contains(out, "purpose: \"\"") {
		t.Errorf("no owner and purpose to fill in:\n%s", out)
	}
	after := fx.report(t, DefaultOptions())
	if u := unknownApps(after); len(u) != 0 {
		t.Errorf("unknown apps after loading the bootstrap: %v", u)
	}

	// With an inventory already there, its owners and purposes are kept.
	fx.cfg = approved
	b.Reset()
	if err := Write(&b, []*Report{fx.report(t, DefaultOptions())}, InventoryFormat); err != nil {
		t.Fatal(err)
	}
	kept := withInventory(t, url, b.String())
	found := false
	for _, e := range kept.Inventory {
		if e.App == "Mobile" {
			found = true
			if e.Owner != "mobile@example.com" || e.Purpose != "Field sales" {
				t.Errorf("Mobile's entry lost its owner or purpose: %+v", e)
			}
		}
	}
	if !found {
		t.Errorf("no Mobile entry:\n%s", b.String())
	}
}

// TestInventoryBootstrapHostileNames: app names with quotes, control
// characters and YAML syntax load back exactly as Salesforce gave them.
func TestInventoryBootstrapHostileNames(t *testing.T) {
	t.Parallel()
	r, _ := hostileReport(t)
	var b bytes.Buffer
	if err := Write(&b, []*Report{r}, InventoryFormat); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\r\u202e") {
		t.Errorf("the inventory carries a raw control character:\n%q", b.String())
	}
	cfg := withInventory(t, "https://x.my.salesforce.com", b.String())
	names := map[string]bool{}
	for _, e := range cfg.Inventory {
		names[e.App] = true
	}
	for _, a := range r.Inventory {
		if !names[a.App] {
			t.Errorf("app %q did not round-trip", a.App)
		}
	}
}

// TestInventoryBootstrapEmpty: an org without apps gives an empty, loadable
// inventory.
func TestInventoryBootstrapEmpty(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Write(&b, []*Report{{Org: "prod"}}, InventoryFormat); err != nil {
		t.Fatal(err)
	}
	if cfg := withInventory(t, "https://x.my.salesforce.com", b.String()); len(cfg.Inventory) != 0 {
		t.Fatalf("%d entries:\n%s", len(cfg.Inventory), b.String())
	}
}
