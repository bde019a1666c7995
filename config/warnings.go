package config

import "fmt"

// InventoryWarnings names the inventory entries that approve an app by name
// only. Such an entry approves every app of that name, so a look-alike
// called like an approved app (a second "Data Loader") counts as approved.
func (c *Config) InventoryWarnings() []string {
	var out []string
	for i, e := range c.Inventory {
		if e.AppID != "" {
			continue
		}
		out = append(out, fmt.Sprintf("%s: inventory[%d] (app %q): no app_id, so any app of that name counts as approved, a look-alike included; "+
			"add app_id: the ConnectedApplication Id (0H4...) or External Client App Id from Setup > App Manager", c.File, i, e.App))
	}
	return out
}
