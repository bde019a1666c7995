package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func declaredConfig(t *testing.T, inventory string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := "orgs:\n  - name: prod\n    login_url: https://a.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: s}\n" +
		"  - name: uat\n    login_url: https://b.my.salesforce.com\n    auth: {flow: client_credentials, client_id: x, client_secret_file: s}\n" +
		"inventory:\n" + inventory
	return Parse([]byte(yml), filepath.Join(dir, "c.yml"))
}

func TestInventoryDeclares(t *testing.T) {
	t.Parallel()
	cfg, err := declaredConfig(t, `  - app: Acme ERP Sync
    networks: [198.51.100.0/24, 192.0.2.7, "2001:db8::/48"]
    objects: [Opportunity, Invoice__c]
    orgs: [prod]
  - app: Mobile
    owner: me
`)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.DeclaredFor("prod")
	if len(d) != 1 || d[0].App != "Acme ERP Sync" || len(d[0].Objects) != 2 {
		t.Fatalf("declared for prod: %+v", d)
	}
	want := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/48")}
	if fmt.Sprint(d[0].Networks) != fmt.Sprint(want) {
		t.Errorf("networks: got %v, want %v", d[0].Networks, want)
	}
	if d := cfg.DeclaredFor("uat"); len(d) != 0 {
		t.Errorf("an entry limited to prod declares for uat: %+v", d)
	}
}

func TestInventoryDeclaresBadly(t *testing.T) {
	t.Parallel()
	many := make([]string, 257)
	for i := range many {
		many[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	for _, c := range []struct{ inv, want string }{
		{"  - app: A\n    networks: [203.0.113.7/24]\n", "c.yml:10: inventory[0].networks[0]: 203.0.113.7/24 has host bits set: write 203.0.113.0/24"},
		{"  - app: A\n    networks: [office]\n", `c.yml:10: inventory[0].networks[0]: "office" is not a CIDR prefix or address such as 203.0.113.0/24 or 192.0.2.7`},
		{"  - app: A\n    networks: [0.0.0.0/0]\n", "inventory[0].networks[0]: 0.0.0.0/0 is wider than a /8"},
		{"  - app: A\n    networks: [10.0.0.0/8, 10.0.0.0/8]\n", "inventory[0].networks[1]: 10.0.0.0/8 is listed twice"},
		{"  - app: A\n    networks: [" + strings.Join(many, ", ") + "]\n", "inventory[0].networks: 257 networks: at most 256"},
		{"  - app: A\n    objects: [Account, \"Contact Lead\"]\n", `inventory[0].objects[1]: "Contact Lead" is not an object API name`},
		{"  - app: A\n    objects: [Account, account]\n", `inventory[0].objects[1]: "account" is listed twice`},
	} {
		_, err := declaredConfig(t, c.inv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %q", c.inv, err, c.want)
		}
	}
}
