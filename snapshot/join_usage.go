package snapshot

import (
	"maps"
	"slices"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// The usage join: API usage, sessions and logins, matched to the apps the
// token join found, by Id when the data has one, else by name.

// indexApps indexes the apps the token join found by name and Id, for the
// usage join: usage, sessions and logins match apps by Id when the data has
// one, else by name.
func (j *join) indexApps() {
	j.byName = map[string][]*AppUsage{}
	j.byID = map[string]*AppUsage{}
	for _, k := range j.order {
		a := j.apps[k]
		j.byName[strings.ToLower(a.Name)] = append(j.byName[strings.ToLower(a.Name)], a)
		if a.ID != "" {
			j.byID[salesforce.ID(a.ID).Key()] = a
		}
	}
}

// match is the app of a datum's name and Id (see Build's rules), added when
// there is none; nil when the Id is new and every app of the name has
// another.
func (j *join) match(name, id string) *AppUsage {
	if id != "" {
		if a, ok := j.byID[salesforce.ID(id).Key()]; ok {
			return a
		}
	}
	if salesforce.IsInternalAppID(id) {
		// An External Client App's OAuth consumer has an 888 Id too: a row
		// named as one External Client App is that app's.
		if eid := j.ecaByName[strings.ToLower(name)]; eid != "" {
			if a, ok := j.apps["e|"+salesforce.ID(eid).Key()]; ok {
				j.byID[salesforce.ID(id).Key()] = a
				return a
			}
		}
		return internalApp(j.get, j.byID, name, id)
	}
	cands := j.byName[strings.ToLower(name)]
	if id != "" {
		// Prefer the same-named app whose Id is unknown (an uninstalled one).
		for _, a := range cands {
			if a.ID == "" {
				a.ID = id
				j.byID[salesforce.ID(id).Key()] = a
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
	_, installed := j.cappByKey[salesforce.ID(id).Key()]
	a := j.get("u|"+name+"|"+id, AppUsage{Name: name, ID: id, Kind: kind, Installed: id != "" && installed})
	j.byName[strings.ToLower(name)] = append(j.byName[strings.ToLower(name)], a)
	if id != "" {
		j.byID[salesforce.ID(id).Key()] = a
	}
	return a
}

// joinUsage matches the API usage rows to apps, by Id or name.
func (j *join) joinUsage() {
	u := j.p.APIUsage
	if u == nil {
		return
	}
	j.snap.APIUsageEnd, j.snap.APIUsageStart = u.End, u.Start
	for _, k := range slices.Sorted(maps.Keys(u.Names)) {
		a := j.match(u.Names[k], u.IDs[k])
		if a == nil {
			a = j.get("u|"+u.Names[k]+"|"+u.IDs[k], AppUsage{Name: u.Names[k], ID: u.IDs[k], Kind: KindConnectedApp})
		}
		a.HasAPIUsage = true
		a.Requests24h += u.Req24[k]
		a.Requests7d += u.Req7[k]
		a.Errors24h += u.Err24[k]
		a.Errors7d += u.Err7[k]
		if f24, ok := u.Family24[k]; ok {
			f7 := u.Family7[k]
			a.HasAPIFamilies = true
			for f := range f24 {
				a.RequestsByFamily24h[f] += f24[f]
				a.RequestsByFamily7d[f] += f7[f]
			}
		}
	}
	j.snap.APIFamilyReadable = u.HasFamily
	for _, a := range j.apps {
		a.HasAPIUsage = true
	}
}

// byNameOnly attributes a name-only datum: the one app of that name, or the
// "(unknown)" row when several share it (recorded in ambiguous).
func (j *join) byNameOnly(name string, ambiguous map[*AppUsage]bool) *AppUsage {
	if cands := j.byName[strings.ToLower(name)]; len(cands) > 1 {
		for _, a := range cands {
			ambiguous[a] = true
		}
		name = NoLoginHistory
	}
	return j.match(name, "")
}

// joinSessions matches the sessions, which have only an app name, to apps.
func (j *join) joinSessions() {
	if j.p.Sessions == nil {
		return
	}
	ambiguous := map[*AppUsage]bool{}
	for _, name := range slices.Sorted(maps.Keys(j.p.Sessions)) {
		if a := j.byNameOnly(name, ambiguous); a != nil {
			a.Sessions += j.p.Sessions[name]
		}
	}
	for _, a := range j.apps {
		a.HasSessions = !ambiguous[a]
	}
}

// joinLogins matches the logins, which have only an app name, to apps.
func (j *join) joinLogins() {
	if j.p.Logins == nil {
		return
	}
	ambiguous := map[*AppUsage]bool{}
	for _, name := range slices.Sorted(maps.Keys(j.p.Logins)) {
		if a := j.byNameOnly(name, ambiguous); a != nil {
			n := j.p.Logins[name]
			a.LoginSuccess += n[0]
			a.LoginFailure += n[1]
		}
	}
	for _, a := range j.apps {
		a.HasLogins = !ambiguous[a]
	}
}
