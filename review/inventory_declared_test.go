package review

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// TestInventoryWritesNetworksSeen: review --format=inventory writes the
// networks an app was seen calling from as a commented networks: line, a
// starting point that loads once uncommented; an app that declares
// networks and objects keeps them.
func TestInventoryWritesNetworksSeen(t *testing.T) {
	t.Parallel()
	r := &Report{Org: "prod", GeneratedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Inventory: []AppRow{
		{App: "Acme ERP Sync", AppID: "0H45j000000Erp1AAA", Kind: snapshot.KindConnectedApp, Networks: []string{"198.51.100.0/24", "2001:db8:1::/48"}},
		{App: "Declared", AppID: "0H45j000000Dec1AAA", Kind: snapshot.KindConnectedApp, Known: true, Networks: []string{"203.0.113.0/24"},
			DeclaredNetworks: []string{"203.0.113.0/24", "192.0.2.7"}, DeclaredObjects: []string{"Invoice__c"}},
	}}
	var b bytes.Buffer
	if err := Write(&b, []*Report{r}, InventoryFormat); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "    # networks: [\"198.51.100.0/24\", \"2001:db8:1::/48\"]\n") {
		t.Errorf("no commented networks seen for the undeclared app:\n%s", out)
	}
	cfg := withInventory(t, "https://acme.my.salesforce.com", out)
	d := cfg.DeclaredFor("prod")
	if len(d) != 1 || d[0].AppID != "0H45j000000Dec1AAA" || fmt.Sprint(d[0].Networks) != "[203.0.113.0/24 192.0.2.7/32]" || fmt.Sprint(d[0].Objects) != "[Invoice__c]" {
		t.Errorf("declared as written: %+v\n%s", d, out)
	}
	cfg = withInventory(t, "https://acme.my.salesforce.com", strings.Replace(out, "    # networks: ", "    networks: ", 1))
	if d := cfg.DeclaredFor("prod"); len(d) != 2 || fmt.Sprint(d[0].Networks) != "[198.51.100.0/24 2001:db8:1::/48]" {
		t.Errorf("uncommented: %+v", d)
	}
}
