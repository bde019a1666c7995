package snapshot

import (
	"strings"
	"time"

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

// ForeignECATokens finds, for each OauthToken group that Build would file
// under an External Client App by its name alone (no menu item), the part
// that cannot be the app's, by the ECA's Id key and the group's name
// (ForeignKey). An uninstalled connected app named exactly like the ECA has
// its tokens in that group too (AppName, AppMenuItemId null), and folding
// them into the ECA would hide an app nobody installed. The evidence is the
// ECA's own figures, read per user from the App OAuth Usage resources
// (ECAUsage.HasTokens), which list its tokens alone: tokens or users beyond
// them belong to another app. Without that read nothing contradicts the
// name, and the group is the ECA's; a group whose menu item has the ECA's
// 0xI Id is the ECA's by Id, whatever its figures.
//
// The comparison holds only when the per-user read is no older than the
// token read: a user who authorized the ECA since its per-user read would
// otherwise pass for another app's. The refresher calls it when that is so
// and hands Build the latest answer (Parts.ECAForeign).
//
// The rest is an estimate: the group's figures less the ECA's (at least
// one token and one user), its oldest authorization and last use the
// group's.
func ForeignECATokens(p *Parts) map[string]salesforce.TokenStats {
	if !p.TokensKnown {
		return nil
	}
	j := newJoin("", *p, time.Time{})
	var out map[string]salesforce.TokenStats
	for _, t := range p.Tokens {
		id := j.ecaOf(t)
		e, ok := j.ecaByKey[salesforce.ID(id).Key()]
		if id == "" || t.MenuItemID != "" || !ok {
			continue
		}
		own := e.TokenStats
		switch {
		case e.HasTokens && (t.Tokens > e.Tokens || t.Users > e.Users):
		case !e.HasTokens && e.HasUsers && t.Users > e.Users:
			// Only its users are known: each holds a token at least.
			own = salesforce.TokenStats{Users: e.Users, Tokens: e.Users}
		default:
			continue
		}
		rest := t.TokenStats
		rest.Tokens = max(t.Tokens-own.Tokens, 1)
		rest.Users = max(t.Users-own.Users, 1)
		rest.Uses = max(t.Uses-own.Uses, 0)
		rest.Stale = min(max(t.Stale-own.Stale, 0), rest.Tokens)
		rest.InactiveTokens = min(max(t.InactiveTokens-own.InactiveTokens, 0), rest.Tokens)
		if out == nil {
			out = map[string]salesforce.TokenStats{}
		}
		out[ForeignKey(id, t.Name)] = rest
	}
	return out
}

// ForeignKey is the key of ForeignECATokens' answer: the ECA's Id key and
// the OauthToken group's app name.
func ForeignKey(ecaID, groupName string) string {
	return salesforce.ID(ecaID).Key() + "|" + groupName
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
				own := t.TokenStats
				if rest, ok := p.ECAForeign[ForeignKey(id, t.Name)]; ok && t.MenuItemID == "" {
					// Tokens beyond the ECA's own: another app of its name.
					// The answer may be older than t (the refresher keeps it
					// between the ECA's reads): never more than t holds.
					rest.Tokens, rest.Users = min(rest.Tokens, t.Tokens), min(rest.Users, t.Users)
					rest.Uses, rest.Stale, rest.InactiveTokens = min(rest.Uses, t.Uses), min(rest.Stale, t.Stale), min(rest.InactiveTokens, t.InactiveTokens)
					if rest.Tokens > 0 {
						a := j.get("c|"+t.Name+"|", j.connected(t.Name, ""))
						a.HasTokens = true
						a.TokenStats = rest
						own.Tokens, own.Users, own.Uses = t.Tokens-rest.Tokens, t.Users-rest.Users, t.Uses-rest.Uses
						own.Stale, own.InactiveTokens = t.Stale-rest.Stale, t.InactiveTokens-rest.InactiveTokens
					}
				}
				a := j.ecaRow(id, t.Name)
				a.HasTokens = true
				a.OauthTokenGroups = append(a.OauthTokenGroups, TokenGroup{AppName: t.Name, MenuItemID: t.MenuItemID})
				if e, ok := j.ecaByKey[salesforce.ID(id).Key()]; !ok || !e.HasTokens {
					// Figures read per user (HasTokens) already count these rows.
					addTokenStats(&a.TokenStats, own)
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
