package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
)

// declared checks and parses an inventory entry's networks and objects.
func (v *validator) declared(i int, e *InventoryEntry) error {
	at := func(keys ...any) []any { return append([]any{"inventory", i}, keys...) }
	key := func(k string) string { return fmt.Sprintf("inventory[%d].%s", i, k) }
	if len(e.Networks) > detect.MaxDeclaredNetworks {
		return v.errf(key("networks"), at("networks"), "%d networks: at most %d (declare the app's egress ranges, not each address)", len(e.Networks), detect.MaxDeclaredNetworks)
	}
	if len(e.Objects) > detect.MaxDeclaredObjects {
		return v.errf(key("objects"), at("objects"), "%d objects: at most %d", len(e.Objects), detect.MaxDeclaredObjects)
	}
	e.networks = nil
	seen := map[netip.Prefix]bool{}
	for j, s := range e.Networks {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return v.errf(fmt.Sprintf("%s[%d]", key("networks"), j), at("networks", j), "%q is not a CIDR prefix or address such as 203.0.113.0/24 or 192.0.2.7", s)
		}
		if err := detect.CheckDeclared(detect.Declared{Networks: []netip.Prefix{p}}); err != nil {
			return v.errf(fmt.Sprintf("%s[%d]", key("networks"), j), at("networks", j), "%v", err)
		}
		if seen[p] {
			return v.errf(fmt.Sprintf("%s[%d]", key("networks"), j), at("networks", j), "%s is listed twice", p)
		}
		seen[p] = true
		e.networks = append(e.networks, p)
	}
	objs := map[string]bool{}
	for j, o := range e.Objects {
		if err := detect.CheckDeclared(detect.Declared{Objects: []string{o}}); err != nil {
			return v.errf(fmt.Sprintf("%s[%d]", key("objects"), j), at("objects", j), "%q is not an object API name such as Account or Invoice__c", o)
		}
		if objs[strings.ToLower(o)] {
			return v.errf(fmt.Sprintf("%s[%d]", key("objects"), j), at("objects", j), "%q is listed twice", o)
		}
		objs[strings.ToLower(o)] = true
	}
	return nil
}

// DeclaredFor is the declarations of the inventory entries that apply to
// org and declare networks or objects, in the inventory's order, for the
// org's detection tracker.
func (c *Config) DeclaredFor(org string) []detect.Declared {
	var out []detect.Declared
	for _, e := range c.Inventory {
		if len(e.networks) == 0 && len(e.Objects) == 0 {
			continue
		}
		if len(e.Orgs) > 0 && !slices.Contains(e.Orgs, org) {
			continue
		}
		out = append(out, detect.Declared{AppID: e.AppID, App: e.App, Networks: e.networks, Objects: e.Objects})
	}
	return out
}
