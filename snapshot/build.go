package snapshot

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Build joins what the sources read into one org's snapshot. It is pure:
// firstSeen (by AppUsage.StateKey) is only read, and the first-seen times of apps
// seen now for the first time come back in added, stamped now.
//
// It runs in named steps: the org's own figures (orgFigures), the token join
// (joinTokens: OauthToken groups, installed apps, External Client Apps), the
// usage join (joinUsage, joinSessions, joinLogins: data matched to those apps
// by Id or name), the detection matching (matchDetection), and the
// inventory and first-seen times (finish).
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
//     external_client_apps source read them per user (ECAUsage.HasTokens:
//     OauthToken cannot show every user's tokens), which then win. Either
//     way the app is one row, never an uninstalled connected app. By name
//     only when nothing contradicts the name: when the per-user read shows
//     fewer tokens or users than the OauthToken rows of that name without
//     a menu item, the rest are another app's (an uninstalled connected app
//     named like the ECA), which gets its own uninstalled row with them
//     (Parts.ECAForeign, ForeignECATokens).
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
//   - An app that is not known, whose name has the Skeleton of a known
//     app's (case, spaces, punctuation, accents, zero-width characters,
//     Cyrillic or Greek look-alike letters aside) and whose Id is another,
//     is a look-alike of it (LookAlikeOf). Rows of one Id are one app.
func Build(org string, p Parts, inventory InventoryFunc, firstSeen map[string]time.Time, now time.Time) (snap *Snapshot, added map[string]time.Time) {
	j := newJoin(org, p, now)
	j.orgFigures()
	j.joinTokens()
	j.indexApps()
	j.joinUsage()
	j.joinSessions()
	j.joinLogins()
	j.joinPosture()
	j.joinAppMetadata()
	j.joinLoginFlows()
	if p.Detection != nil {
		matchDetection(j.snap, p.Detection, p.DetectionIOCLists, j.byID, j.byName)
	}
	added = j.finish(inventory, firstSeen)
	return j.snap, added
}

// join is Build's work in progress: the apps found so far and the indexes
// that match data to them.
type join struct {
	org  string
	p    Parts
	now  time.Time
	snap *Snapshot

	apps  map[string]*AppUsage // by kind|name|menuItem or id
	order []string             // apps' keys, in the order found

	menuByID  map[string]salesforce.AppMenuItem
	cappByKey map[string]salesforce.ConnectedApplication // by Id key
	// External Client Apps, by Id key and by any of their names (lower
	// case; "" when two apps share the name, which then matches neither).
	ecaByKey  map[string]*ECAUsage
	ecaByName map[string]string

	// The apps by lower-case name and by Id key (indexApps), for the usage join.
	byName map[string][]*AppUsage
	byID   map[string]*AppUsage
}

func newJoin(org string, p Parts, now time.Time) *join {
	j := &join{
		org: org, p: p, now: now,
		snap:      &Snapshot{Org: org, Taken: now, TokenMode: p.TokenMode},
		apps:      map[string]*AppUsage{},
		menuByID:  map[string]salesforce.AppMenuItem{},
		cappByKey: map[string]salesforce.ConnectedApplication{},
		ecaByKey:  map[string]*ECAUsage{},
		ecaByName: map[string]string{},
	}
	for _, m := range p.MenuItems {
		j.menuByID[m.ID] = m
	}
	for _, c := range p.ConnectedApps {
		j.cappByKey[salesforce.ID(c.ID).Key()] = c
	}
	for i := range j.p.ECAs {
		e := &j.p.ECAs[i]
		j.ecaByKey[salesforce.ID(e.ID).Key()] = e
		for _, n := range []string{e.Name, e.Label, e.DeveloperName} {
			if n == "" {
				continue
			}
			n = strings.ToLower(n)
			if prev, ok := j.ecaByName[n]; ok && !salesforce.ID(prev).Same(salesforce.ID(e.ID)) {
				j.ecaByName[n] = ""
			} else {
				j.ecaByName[n] = e.ID
			}
		}
	}
	return j
}

// orgFigures sets the org's own figures: limits, warnings, visibility and
// the sources' status figures.
func (j *join) orgFigures() {
	p, snap := &j.p, j.snap
	snap.HasLimits, snap.DailyAPIMax, snap.DailyAPIRemaining = p.HasLimits, p.DailyAPIMax, p.DailyAPIRemaining
	if u := p.HeaderUsage; u != nil && u.Max > 0 {
		// The header is newer than /limits, which is "accurate within five minutes".
		snap.HasLimits, snap.DailyAPIMax, snap.DailyAPIRemaining = true, u.Max, max(u.Max-u.Used, 0)
	}
	if p.VisibilityLimited {
		snap.PermissionWarnings = append(snap.PermissionWarnings, "customize_application")
	}
	snap.Visibility = p.Visibility
	snap.Threats = p.Threats
	snap.HasECAStatus, snap.ECAsDegraded = p.ECAsKnown, p.ECAsDegraded
	snap.HasAPIUsageScan, snap.APIUsageRowsSkipped = p.APIUsage != nil, p.APIUsageRowsSkipped
	snap.Stream = p.Stream
	snap.APIEvents = p.APIEvents
	snap.APIUsageRowsFolded = p.APIUsageRowsFolded
}

// get returns the app of key, adding init under it when there is none.
func (j *join) get(key string, init AppUsage) *AppUsage {
	if a, ok := j.apps[key]; ok {
		return a
	}
	a := init
	j.apps[key] = &a
	j.order = append(j.order, key)
	return &a
}

// finish applies the inventory, stamps the first-seen times (those seen now
// for the first time come back in added) and puts the apps in the snapshot,
// sorted.
func (j *join) finish(inventory InventoryFunc, firstSeen map[string]time.Time) (added map[string]time.Time) {
	added = map[string]time.Time{}
	exactNames := map[string]bool{}
	for _, k := range j.order {
		exactNames[j.apps[k].Name] = true
	}
	for _, k := range j.order {
		a := j.apps[k]
		if e := inventory(j.org, a.Name, a.ID); e != nil && (e.AppID != "" || a.Name == e.App || !exactNames[e.App]) {
			a.Known, a.Owner = true, e.Owner
		}
		sk := firstSeenKey(a)
		a.stateKey = sk
		if a.HasTokens && a.Tokens > 0 || a.HasAPIUsage && a.Requests7d > 0 {
			fs, ok := firstSeen[sk]
			if !ok {
				if fs, ok = added[sk]; !ok {
					fs = j.now.UTC().Truncate(time.Second)
					added[sk] = fs
				}
			}
			a.FirstSeen = fs
		}
		if a.ID == "" && a.MenuItemID != "" {
			a.ID = a.MenuItemID // after the first-seen key, which stays as it was
		}
		j.snap.Apps = append(j.snap.Apps, *a)
	}
	apps := make([]*AppUsage, len(j.snap.Apps))
	for i := range j.snap.Apps {
		apps[i] = &j.snap.Apps[i]
	}
	markLookAlikes(apps)
	sortApps(j.snap.Apps)
	return added
}

// sortApps sorts apps by kind, name, Id and menu item.
func sortApps(apps []AppUsage) {
	// Field by field: the order of the joined "kind\x00name\x00id\x00menu"
	// keys it once compared, without building two keys per comparison.
	slices.SortFunc(apps, func(x, y AppUsage) int {
		return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID), strings.Compare(x.MenuItemID, y.MenuItemID))
	})
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

// firstSeenKey is an app's key in the state's first-seen times.
func firstSeenKey(a *AppUsage) string {
	return a.Kind + "|" + a.Name + "|" + a.MenuItemID + "|" + a.ID
}
