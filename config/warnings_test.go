package config

import (
	"strings"
	"testing"
)

func TestInventoryWarnings(t *testing.T) {
	cfg := &Config{File: "exporter.yml", Inventory: []InventoryEntry{
		{App: "Salesforce Mobile App", AppID: "0H4000000000001AAA"},
		{App: "Data Loader"},
		{AppID: "0H4000000000002AAA"},
	}}
	got := cfg.InventoryWarnings()
	if len(got) != 1 {
		t.Fatalf("warnings = %q, want one for the entry without app_id", got)
	}
	for _, want := range []string{"exporter.yml", "inventory[1]", `"Data Loader"`, "no app_id", "look-alike", "add app_id"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("warning %q does not say %q", got[0], want)
		}
	}
	cfg.Inventory[1].AppID = "0H4000000000003AAA"
	if got := cfg.InventoryWarnings(); len(got) != 0 {
		t.Errorf("every entry has an app_id, warnings = %q", got)
	}
}
