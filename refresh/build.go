package refresh

import (
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// parts is what the sources last read: the input of build. Each source
// fills its own fields (contribute); the refresher adds the request header's
// usage figure.
type parts struct {
	// apps
	AppsKnown     bool // the apps source has succeeded once
	ConnectedApps []salesforce.ConnectedApplication
	MenuItems     []salesforce.AppMenuItem
	// oauth_tokens
	TokensKnown       bool // the token source has succeeded once
	TokenMode         string
	Tokens            []appTokens
	InactiveUsers     int64
	VisibilityLimited bool
	// external_client_apps
	ECAs         []ecaUsage
	ECAsKnown    bool // the source has succeeded once
	ECAsDegraded int  // apps served from their last good figures
	// api_usage; nil until the first read
	APIUsage            *usageTotals
	APIUsageRowsSkipped int64
	// Visibility by source (sessions, logins, oauth_tokens), when known
	Visibility map[string]Visibility
	// sessions and logins by app name; nil until the first read
	Sessions map[string]int64
	Logins   map[string][2]int64
	// limits, then the newer Sforce-Limit-Info header
	HasLimits                      bool
	DailyAPIMax, DailyAPIRemaining int64
	HeaderUsage                    *salesforce.APIUsage
}

// InventoryFunc finds an app's inventory entry by org, app name and app Id.
type InventoryFunc func(org, appName, appID string) *config.InventoryEntry

// firstSeenKey is an app's key in the state's first-seen times.
func firstSeenKey(a *AppUsage) string {
	return a.Kind + "|" + a.Name + "|" + a.MenuItemID + "|" + a.ID
}

// build joins what the sources read into one org's snapshot. It is pure:
// firstSeen (by firstSeenKey) is only read, and the first-seen times of apps
// seen now for the first time come back in added, stamped now.
//
// The app-matching rules:
//   - A connected app is what OauthToken names: an AppName and an
//     AppMenuItemId. Two apps of the same name with different menu items stay
//     apart. Its Id comes from the menu item's ApplicationId, matched to a
//     ConnectedApplication by the 15-character key (so 15 and 18-character
//     Ids match). A menu item without a ConnectedApplication row marks the
//     app uninstalled once the apps source has read the org; no menu item at
//     all is uninstalled.
//   - Installed apps nobody has authorized still get a row.
//   - An External Client App is its own row, keyed by its Id.
//   - API usage is matched by Id when the row has one, else by name
//     (case-insensitive); sessions and logins, which have only a name, by
//     name: the first app of that name in the order above. A usage Id that
//     matches no app goes to a same-named app without an Id (an uninstalled
//     one), or to a new row when there is none; when every same-named app
//     has another Id, the usage row gets a row of its own.
//   - An API usage Id with the 888 prefix (salesforce.IsInternalAppID) is a
//     Salesforce-internal app: it never matches an app by name, and gets a
//     row of its own per Id, kind salesforce_internal, installed, named
//     InternalApp when the row has no name. It is never an uninstalled or
//     phantom third-party app.
//   - The inventory matches by org, name and Id (config.InventoryFor).
func build(org string, p parts, inventory InventoryFunc, firstSeen map[string]time.Time, now time.Time) (snap *Snapshot, added map[string]time.Time) {
	snap = &Snapshot{Org: org, Taken: now, TokenMode: p.TokenMode}
	snap.HasLimits, snap.DailyAPIMax, snap.DailyAPIRemaining = p.HasLimits, p.DailyAPIMax, p.DailyAPIRemaining
	if u := p.HeaderUsage; u != nil && u.Max > 0 {
		// The header is newer than /limits, which is "accurate within five minutes".
		snap.HasLimits, snap.DailyAPIMax, snap.DailyAPIRemaining = true, u.Max, max(u.Max-u.Used, 0)
	}
	if p.VisibilityLimited {
		snap.PermissionWarnings = append(snap.PermissionWarnings, "customize_application")
	}
	snap.Visibility = p.Visibility
	snap.HasECAStatus, snap.ECAsDegraded = p.ECAsKnown, p.ECAsDegraded
	snap.HasAPIUsageScan, snap.APIUsageRowsSkipped = p.APIUsage != nil, p.APIUsageRowsSkipped

	apps := map[string]*AppUsage{} // by kind|name|menuItem or id
	var order []string
	get := func(key string, init AppUsage) *AppUsage {
		if a, ok := apps[key]; ok {
			return a
		}
		a := init
		apps[key] = &a
		order = append(order, key)
		return &a
	}
	menuByID := map[string]salesforce.AppMenuItem{}
	for _, m := range p.MenuItems {
		menuByID[m.ID] = m
	}
	cappByKey := map[string]salesforce.ConnectedApplication{}
	for _, c := range p.ConnectedApps {
		cappByKey[ID(c.ID).Key()] = c
	}
	connected := func(name, menuItem string) AppUsage {
		a := AppUsage{Name: name, MenuItemID: menuItem, Kind: KindConnectedApp, Installed: menuItem != ""}
		if m, ok := menuByID[menuItem]; ok {
			if c, ok := cappByKey[ID(m.ApplicationID).Key()]; ok {
				a.ID = c.ID
				a.AdminApproved = c.OptionsAllowAdminApprovedUsersOnly
			} else {
				a.ID = m.ApplicationID
				if p.AppsKnown {
					a.Installed = false // a menu item without a ConnectedApplication row
				}
			}
			if a.AdminApproved == nil {
				a.AdminApproved = m.IsUsingAdminAuthorization
			}
		}
		return a
	}
	if p.TokensKnown {
		snap.HasTokenTotals = true
		snap.InactiveUsers = p.InactiveUsers
		for _, t := range p.Tokens {
			a := get("c|"+t.Name+"|"+t.MenuItemID, connected(t.Name, t.MenuItemID))
			a.HasTokens = true
			a.TokenStats = t.TokenStats
		}
	}
	// Installed connected apps that nobody has authorized still get an info series.
	for _, m := range p.MenuItems {
		key := "c|" + m.Label + "|" + m.ID
		if _, ok := apps[key]; ok {
			continue
		}
		if _, ok := cappByKey[ID(m.ApplicationID).Key()]; !ok {
			continue
		}
		a := get(key, connected(m.Label, m.ID))
		a.HasTokens = p.TokensKnown
	}
	for _, e := range p.ECAs {
		a := get("e|"+e.ID, AppUsage{Name: e.Name, ID: e.ID, Kind: KindExternalClientApp, Installed: true})
		a.HasTokens = true
		a.TokenStats = e.TokenStats
	}
	// Match usage, sessions and logins to apps: by Id when the data has one, else by name.
	byName := map[string][]*AppUsage{}
	byID := map[string]*AppUsage{}
	for _, k := range order {
		a := apps[k]
		byName[strings.ToLower(a.Name)] = append(byName[strings.ToLower(a.Name)], a)
		if a.ID != "" {
			byID[ID(a.ID).Key()] = a
		}
	}
	match := func(name, id string) *AppUsage {
		if id != "" {
			if a, ok := byID[ID(id).Key()]; ok {
				return a
			}
		}
		if salesforce.IsInternalAppID(id) {
			return internalApp(get, byID, name, id)
		}
		cands := byName[strings.ToLower(name)]
		if id != "" {
			// Prefer the same-named app whose Id is unknown (an uninstalled one).
			for _, a := range cands {
				if a.ID == "" {
					a.ID = id
					byID[ID(id).Key()] = a
					return a
				}
			}
			if len(cands) > 0 {
				return nil
			}
		} else if len(cands) > 0 {
			return cands[0]
		}
		kind := KindConnectedApp
		if strings.HasPrefix(id, "0xI") {
			kind = KindExternalClientApp
		}
		_, installed := cappByKey[ID(id).Key()]
		a := get("u|"+name+"|"+id, AppUsage{Name: name, ID: id, Kind: kind, Installed: id != "" && installed})
		byName[strings.ToLower(name)] = append(byName[strings.ToLower(name)], a)
		if id != "" {
			byID[ID(id).Key()] = a
		}
		return a
	}
	if u := p.APIUsage; u != nil {
		snap.APIUsageEnd, snap.APIUsageStart = u.end, u.start
		keys := make([]string, 0, len(u.names))
		for k := range u.names {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			a := match(u.names[k], u.ids[k])
			if a == nil {
				a = get("u|"+u.names[k]+"|"+u.ids[k], AppUsage{Name: u.names[k], ID: u.ids[k], Kind: KindConnectedApp})
			}
			a.HasAPIUsage = true
			a.Requests24h += u.req24[k]
			a.Requests7d += u.req7[k]
			a.Errors24h += u.err24[k]
			a.Errors7d += u.err7[k]
		}
		for _, a := range apps {
			a.HasAPIUsage = true
		}
	}
	if p.Sessions != nil {
		for name, n := range p.Sessions {
			if a := match(name, ""); a != nil {
				a.Sessions += n
			}
		}
		for _, a := range apps {
			a.HasSessions = true
		}
	}
	if p.Logins != nil {
		for name, n := range p.Logins {
			if a := match(name, ""); a != nil {
				a.LoginSuccess += n[0]
				a.LoginFailure += n[1]
			}
		}
		for _, a := range apps {
			a.HasLogins = true
		}
	}
	added = map[string]time.Time{}
	for _, k := range order {
		a := apps[k]
		if e := inventory(org, a.Name, a.ID); e != nil {
			a.Known, a.Owner = true, e.Owner
		}
		sk := firstSeenKey(a)
		if a.HasTokens && a.Tokens > 0 || a.HasAPIUsage && a.Requests7d > 0 {
			fs, ok := firstSeen[sk]
			if !ok {
				if fs, ok = added[sk]; !ok {
					fs = now.UTC().Truncate(time.Second)
					added[sk] = fs
				}
			}
			a.FirstSeen = fs
		}
		snap.Apps = append(snap.Apps, *a)
	}
	slices.SortFunc(snap.Apps, func(x, y AppUsage) int {
		return strings.Compare(x.Kind+"\x00"+x.Name+"\x00"+x.ID+"\x00"+x.MenuItemID, y.Kind+"\x00"+y.Name+"\x00"+y.ID+"\x00"+y.MenuItemID)
	})
	return snap, added
}
