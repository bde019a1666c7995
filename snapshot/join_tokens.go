package snapshot

import (
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// The token join: what OauthToken, the apps and the External Client Apps
// sources read, filed under one row per app.

// connected is a connected app as OauthToken names it, with what its menu
// item and ConnectedApplication row say of it.
func (j *join) connected(name, menuItem string) AppUsage {
	a := AppUsage{Name: name, MenuItemID: menuItem, Kind: KindConnectedApp, Installed: menuItem != ""}
	if m, ok := j.menuByID[menuItem]; ok {
		if c, ok := j.cappByKey[salesforce.ID(m.ApplicationID).Key()]; ok {
			a.ID = c.ID
			a.AdminApproved = c.OptionsAllowAdminApprovedUsersOnly
		} else {
			a.ID = m.ApplicationID
			if j.p.AppsKnown {
				a.Installed = false // a menu item without a ConnectedApplication row
			}
		}
		if a.AdminApproved == nil {
			a.AdminApproved = m.IsUsingAdminAuthorization
		}
	}
	return a
}

// ecaRow is the row of the External Client App of that Id.
func (j *join) ecaRow(id, name string) *AppUsage {
	init := AppUsage{Name: name, ID: id, Kind: KindExternalClientApp, Installed: true}
	if e, ok := j.ecaByKey[salesforce.ID(id).Key()]; ok {
		init.Name, init.ID = e.Name, e.ID
	}
	return j.get("e|"+salesforce.ID(id).Key(), init)
}

// ecaOf is the External Client App an OauthToken group belongs to, or "".
func (j *join) ecaOf(t AppTokens) string {
	if t.MenuItemID != "" {
		if m, ok := j.menuByID[t.MenuItemID]; ok && salesforce.IsExternalClientAppID(m.ApplicationID) {
			return m.ApplicationID
		}
		return ""
	}
	return j.ecaByName[strings.ToLower(t.Name)]
}

// joinTokens is the token join: the OauthToken groups, filed under their
// connected app or External Client App; the installed connected apps
// nobody has authorized; and the External Client Apps.
func (j *join) joinTokens() {
	p := &j.p
	if p.TokensKnown {
		j.snap.HasTokenTotals = true
		j.snap.InactiveUsers = p.InactiveUsers
		for _, t := range p.Tokens {
			if id := j.ecaOf(t); id != "" {
				a := j.ecaRow(id, t.Name)
				a.HasTokens = true
				a.OauthTokenGroups = append(a.OauthTokenGroups, TokenGroup{AppName: t.Name, MenuItemID: t.MenuItemID})
				if e, ok := j.ecaByKey[salesforce.ID(id).Key()]; !ok || !e.HasTokens {
					// Figures read per user (HasTokens) already count these rows.
					addTokenStats(&a.TokenStats, t.TokenStats)
				}
				continue
			}
			a := j.get("c|"+t.Name+"|"+t.MenuItemID, j.connected(t.Name, t.MenuItemID))
			a.HasTokens = true
			a.TokenStats = t.TokenStats
		}
	}
	// Installed connected apps that nobody has authorized still get an info series.
	for _, m := range p.MenuItems {
		key := "c|" + m.Label + "|" + m.ID
		if _, ok := j.apps[key]; ok {
			continue
		}
		if _, ok := j.cappByKey[salesforce.ID(m.ApplicationID).Key()]; !ok {
			continue
		}
		a := j.get(key, j.connected(m.Label, m.ID))
		a.HasTokens = p.TokensKnown
	}
	for _, e := range p.ECAs {
		a := j.ecaRow(e.ID, e.Name)
		if e.HasTokens {
			a.HasTokens, a.TokensPerUser = true, true
			a.TokenStats = e.TokenStats
		} else {
			// Its tokens are OauthToken rows, folded in above.
			a.HasTokens = a.HasTokens || p.TokensKnown
		}
	}
}
