package refresh

import (
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
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
	APIUsageRowsFolded  UsageFolded
	// Visibility by source (sessions, logins, oauth_tokens), when known
	Visibility map[string]Visibility
	// sessions and logins by app name; nil until the first read
	Sessions map[string]int64
	Logins   map[string][2]int64
	// limits, then the newer Sforce-Limit-Info header
	HasLimits                      bool
	DailyAPIMax, DailyAPIRemaining int64
	HeaderUsage                    *salesforce.APIUsage
	// the detection baseline (fed by api_usage and logins); nil in tests
	Detection         *detect.Tracker
	DetectionIOCLists []string // the IOC list names, in the tracker's order
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
//   - An External Client App is its own row, keyed by its Id (0xI). Its
//     tokens are OauthToken rows too: a group whose AppMenuItem has a 0xI
//     ApplicationId, or, without a menu item (the usual case), whose AppName
//     is the name, label or developer name of exactly one External Client
//     App, is that app's. Its token figures come from those rows, unless the
//     external_client_apps source read them per user (ecaUsage.HasTokens:
//     OauthToken cannot show every user's tokens), which then win. Either
//     way the app is one row, never an uninstalled connected app.
//   - An app whose ConnectedApplication Id is unknown but whose menu item
//     is known takes the AppMenuItem Id as its Id (the app_id label), so
//     two same-named apps never share one series; OauthToken rows of two
//     uninstalled apps of one name carry neither and cannot be told apart.
//   - Sessions and logins, which have only a name (LoginHistory.Application),
//     go to the one app of that name (case-insensitive). When several apps
//     share the name, the datum cannot be attributed: it is not credited to
//     any of them (they get no sessions or logins series, rather than a
//     wrong one) and counts under app="(unknown)" (NoLoginHistory).
//   - API usage is matched by Id when the row has one, else by name
//     (case-insensitive), the first app of that name. A usage Id that
//     matches no app goes to a same-named app without an Id (an uninstalled
//     one), or to a new row when there is none; when every same-named app
//     has another Id, the usage row gets a row of its own.
//   - An API usage Id with the 888 prefix (salesforce.IsInternalAppID) is
//     an External Client App's OAuth consumer when the row's name is that of
//     exactly one External Client App. Otherwise it is a
//     Salesforce-internal app: it never matches an app by name, and gets a
//     row of its own per Id, kind salesforce_internal, installed, named
//     InternalApp when the row has no name. It is never an uninstalled or
//     phantom third-party app.
//   - The inventory matches by org, name and Id (config.InventoryFor). An
//     entry without app_id matches a name case-insensitively, spaces at its
//     ends ignored, except that when the org has an app named exactly as the
//     entry, an app whose name matches only loosely (another case, other
//     spaces) and is not that app is a look-alike: never known.
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
	snap.APIUsageRowsFolded = p.APIUsageRowsFolded

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
		cappByKey[salesforce.ID(c.ID).Key()] = c
	}
	connected := func(name, menuItem string) AppUsage {
		a := AppUsage{Name: name, MenuItemID: menuItem, Kind: KindConnectedApp, Installed: menuItem != ""}
		if m, ok := menuByID[menuItem]; ok {
			if c, ok := cappByKey[salesforce.ID(m.ApplicationID).Key()]; ok {
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
	// External Client Apps, by Id and by any of their names (lower case; ""
	// when two apps share the name, which then matches neither).
	ecaByKey := map[string]*ecaUsage{}
	ecaByName := map[string]string{}
	for i := range p.ECAs {
		e := &p.ECAs[i]
		ecaByKey[salesforce.ID(e.ID).Key()] = e
		for _, n := range []string{e.Name, e.Label, e.DeveloperName} {
			if n == "" {
				continue
			}
			n = strings.ToLower(n)
			if prev, ok := ecaByName[n]; ok && !salesforce.ID(prev).Same(salesforce.ID(e.ID)) {
				ecaByName[n] = ""
			} else {
				ecaByName[n] = e.ID
			}
		}
	}
	ecaRow := func(id, name string) *AppUsage {
		init := AppUsage{Name: name, ID: id, Kind: KindExternalClientApp, Installed: true}
		if e, ok := ecaByKey[salesforce.ID(id).Key()]; ok {
			init.Name, init.ID = e.Name, e.ID
		}
		return get("e|"+salesforce.ID(id).Key(), init)
	}
	// ecaOf is the External Client App an OauthToken group belongs to, or "".
	ecaOf := func(t appTokens) string {
		if t.MenuItemID != "" {
			if m, ok := menuByID[t.MenuItemID]; ok && salesforce.IsExternalClientAppID(m.ApplicationID) {
				return m.ApplicationID
			}
			return ""
		}
		return ecaByName[strings.ToLower(t.Name)]
	}
	if p.TokensKnown {
		snap.HasTokenTotals = true
		snap.InactiveUsers = p.InactiveUsers
		for _, t := range p.Tokens {
			if id := ecaOf(t); id != "" {
				a := ecaRow(id, t.Name)
				a.HasTokens = true
				a.OauthTokenGroups = append(a.OauthTokenGroups, TokenGroup{AppName: t.Name, MenuItemID: t.MenuItemID})
				if e, ok := ecaByKey[salesforce.ID(id).Key()]; !ok || !e.HasTokens {
					// Figures read per user (HasTokens) already count these rows.
					addTokenStats(&a.TokenStats, t.TokenStats)
				}
				continue
			}
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
		if _, ok := cappByKey[salesforce.ID(m.ApplicationID).Key()]; !ok {
			continue
		}
		a := get(key, connected(m.Label, m.ID))
		a.HasTokens = p.TokensKnown
	}
	for _, e := range p.ECAs {
		a := ecaRow(e.ID, e.Name)
		if e.HasTokens {
			a.HasTokens, a.TokensPerUser = true, true
			a.TokenStats = e.TokenStats
		} else {
			// Its tokens are OauthToken rows, folded in above.
			a.HasTokens = a.HasTokens || p.TokensKnown
		}
	}
	// Match usage, sessions and logins to apps: by Id when the data has one, else by name.
	byName := map[string][]*AppUsage{}
	byID := map[string]*AppUsage{}
	for _, k := range order {
		a := apps[k]
		byName[strings.ToLower(a.Name)] = append(byName[strings.ToLower(a.Name)], a)
		if a.ID != "" {
			byID[salesforce.ID(a.ID).Key()] = a
		}
	}
	match := func(name, id string) *AppUsage {
		if id != "" {
			if a, ok := byID[salesforce.ID(id).Key()]; ok {
				return a
			}
		}
		if salesforce.IsInternalAppID(id) {
			// An External Client App's OAuth consumer has an 888 Id too: a row
			// named as one External Client App is that app's.
			if eid := ecaByName[strings.ToLower(name)]; eid != "" {
				if a, ok := apps["e|"+salesforce.ID(eid).Key()]; ok {
					byID[salesforce.ID(id).Key()] = a
					return a
				}
			}
			return internalApp(get, byID, name, id)
		}
		cands := byName[strings.ToLower(name)]
		if id != "" {
			// Prefer the same-named app whose Id is unknown (an uninstalled one).
			for _, a := range cands {
				if a.ID == "" {
					a.ID = id
					byID[salesforce.ID(id).Key()] = a
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
		_, installed := cappByKey[salesforce.ID(id).Key()]
		a := get("u|"+name+"|"+id, AppUsage{Name: name, ID: id, Kind: kind, Installed: id != "" && installed})
		byName[strings.ToLower(name)] = append(byName[strings.ToLower(name)], a)
		if id != "" {
			byID[salesforce.ID(id).Key()] = a
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
	// byNameOnly attributes a name-only datum: the one app of that name, or
	// the "(unknown)" row when several share it (ambiguous records them).
	ambiguous := map[*AppUsage]bool{}
	byNameOnly := func(name string) *AppUsage {
		if cands := byName[strings.ToLower(name)]; len(cands) > 1 {
			for _, a := range cands {
				ambiguous[a] = true
			}
			name = NoLoginHistory
		}
		return match(name, "")
	}
	if p.Sessions != nil {
		names := sortedKeys(p.Sessions)
		for _, name := range names {
			if a := byNameOnly(name); a != nil {
				a.Sessions += p.Sessions[name]
			}
		}
		for _, a := range apps {
			a.HasSessions = !ambiguous[a]
		}
	}
	if p.Logins != nil {
		clear(ambiguous)
		for _, name := range sortedKeys(p.Logins) {
			if a := byNameOnly(name); a != nil {
				n := p.Logins[name]
				a.LoginSuccess += n[0]
				a.LoginFailure += n[1]
			}
		}
		for _, a := range apps {
			a.HasLogins = !ambiguous[a]
		}
	}
	if p.Detection != nil {
		matchDetection(snap, p.Detection, p.DetectionIOCLists, byID, byName)
	}
	added = map[string]time.Time{}
	exactNames := map[string]bool{}
	for _, k := range order {
		exactNames[apps[k].Name] = true
	}
	for _, k := range order {
		a := apps[k]
		if e := inventory(org, a.Name, a.ID); e != nil && (e.AppID != "" || a.Name == e.App || !exactNames[e.App]) {
			a.Known, a.Owner = true, e.Owner
		}
		sk := firstSeenKey(a)
		a.stateKey = sk
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
		if a.ID == "" && a.MenuItemID != "" {
			a.ID = a.MenuItemID // after the first-seen key, which stays as it was
		}
		snap.Apps = append(snap.Apps, *a)
	}
	slices.SortFunc(snap.Apps, func(x, y AppUsage) int {
		return strings.Compare(x.Kind+"\x00"+x.Name+"\x00"+x.ID+"\x00"+x.MenuItemID, y.Kind+"\x00"+y.Name+"\x00"+y.ID+"\x00"+y.MenuItemID)
	})
	return snap, added
}

// addTokenStats adds one OauthToken group's figures to an app's. Users is
// then an upper bound: a user holding tokens in both groups counts twice.
func addTokenStats(to *salesforce.TokenStats, t salesforce.TokenStats) {
	to.Tokens += t.Tokens
	to.Users += t.Users
	to.Uses += t.Uses
	to.Stale += t.Stale
	to.InactiveTokens += t.InactiveTokens
	if t.LastUsed.After(to.LastUsed) {
		to.LastUsed = t.LastUsed
	}
	if !t.FirstAuthorized.IsZero() && (to.FirstAuthorized.IsZero() || t.FirstAuthorized.Before(to.FirstAuthorized)) {
		to.FirstAuthorized = t.FirstAuthorized
	}
}

// seenNow reports whether an app counts as seen for its first-seen time's
// retention (pruneSeen): it holds tokens, has API usage in the 7-day window,
// or is installed.
func seenNow(a *AppUsage) bool {
	return a.HasTokens && a.Tokens > 0 || a.HasAPIUsage && a.Requests7d > 0 || a.Installed
}

// sortedKeys returns m's keys in order, so rows appear in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// OtherApps is the app label of the one series that sums the apps over
// max_apps_per_org.
const OtherApps = "(other)"

// capApps keeps at most limit apps in snap (limit <= 0: no cap): the apps on
// the inventory first, then the busiest (tokens, API requests in 7 days,
// sessions), then by name. The rest are summed into one app="(other)" row,
// so the org's totals stay right and /metrics stays bounded. It returns how
// many apps were folded.
func capApps(snap *Snapshot, limit int) int {
	if limit <= 0 || len(snap.Apps) <= limit {
		return 0
	}
	ranked := slices.Clone(snap.Apps)
	weight := func(a *AppUsage) int64 { return a.Tokens + a.Requests7d + a.Sessions + a.LoginSuccess + a.LoginFailure }
	slices.SortStableFunc(ranked, func(x, y AppUsage) int {
		if x.Known != y.Known {
			if x.Known {
				return -1
			}
			return 1
		}
		if wx, wy := weight(&x), weight(&y); wx != wy {
			if wx > wy {
				return -1
			}
			return 1
		}
		return 0 // snap.Apps is sorted by kind and name already
	})
	keep := limit - 1 // one row for (other)
	other := AppUsage{Name: OtherApps, Kind: KindConnectedApp}
	for i := keep; i < len(ranked); i++ {
		a := &ranked[i]
		other.HasTokens = other.HasTokens || a.HasTokens
		other.Tokens += a.Tokens
		other.Users += a.Users // an upper bound: a user of two folded apps counts twice
		other.Uses += a.Uses
		other.Stale += a.Stale
		other.InactiveTokens += a.InactiveTokens
		if a.LastUsed.After(other.LastUsed) {
			other.LastUsed = a.LastUsed
		}
		if !a.FirstAuthorized.IsZero() && (other.FirstAuthorized.IsZero() || a.FirstAuthorized.Before(other.FirstAuthorized)) {
			other.FirstAuthorized = a.FirstAuthorized
		}
		other.HasSessions = other.HasSessions || a.HasSessions
		other.Sessions += a.Sessions
		other.HasAPIUsage = other.HasAPIUsage || a.HasAPIUsage
		other.Requests24h += a.Requests24h
		other.Requests7d += a.Requests7d
		other.Errors24h += a.Errors24h
		other.Errors7d += a.Errors7d
		other.HasLogins = other.HasLogins || a.HasLogins
		other.LoginSuccess += a.LoginSuccess
		other.LoginFailure += a.LoginFailure
	}
	folded := len(ranked) - keep
	kept := append(ranked[:keep:keep], other)
	slices.SortFunc(kept, func(x, y AppUsage) int {
		return strings.Compare(x.Kind+"\x00"+x.Name+"\x00"+x.ID+"\x00"+x.MenuItemID, y.Kind+"\x00"+y.Name+"\x00"+y.ID+"\x00"+y.MenuItemID)
	})
	snap.Apps = kept
	snap.AppsFolded = folded
	return folded
}
