package snapshot

import "slices"

// OtherApps is the app label of the one series that sums the apps over
// max_apps_per_org.
const OtherApps = "(other)"

// Cap keeps at most limit apps in snap (limit <= 0: no cap): the apps on
// the inventory first, then the busiest (tokens, API requests in 7 days,
// sessions, logins), then by name. The rest are summed into one
// app="(other)" row (Fold), so the org's totals stay right and /metrics
// stays bounded. It returns how many apps were folded.
func Cap(snap *Snapshot, limit int) int {
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
		other.Fold(&ranked[i])
	}
	folded := len(ranked) - keep
	kept := append(ranked[:keep:keep], other)
	sortApps(kept)
	snap.Apps = kept
	snap.AppsFolded = folded
	return folded
}

// fold is how one figure of AppUsage sums into the (other) row.
type fold struct {
	field string // the AppUsage field (TestFoldsCoverEveryField)
	add   func(to, a *AppUsage)
}

// folds declares, figure by figure, how an app folds into the (other) row:
// a count adds up, a has-flag is set when any folded app has it, a time
// keeps the newest (or oldest) one. A new figure on AppUsage goes here, or
// in notFolded; TestFoldsCoverEveryField fails until it is in one of them.
var folds = []fold{
	{"HasTokens", func(to, a *AppUsage) { to.HasTokens = to.HasTokens || a.HasTokens }},
	// Users is then an upper bound: a user of two folded apps counts twice.
	{"TokenStats", func(to, a *AppUsage) { addTokenStats(&to.TokenStats, a.TokenStats) }},
	{"HasSessions", func(to, a *AppUsage) { to.HasSessions = to.HasSessions || a.HasSessions }},
	{"Sessions", func(to, a *AppUsage) { to.Sessions += a.Sessions }},
	{"HasAPIUsage", func(to, a *AppUsage) { to.HasAPIUsage = to.HasAPIUsage || a.HasAPIUsage }},
	{"Requests24h", func(to, a *AppUsage) { to.Requests24h += a.Requests24h }},
	{"Requests7d", func(to, a *AppUsage) { to.Requests7d += a.Requests7d }},
	{"Errors24h", func(to, a *AppUsage) { to.Errors24h += a.Errors24h }},
	{"Errors7d", func(to, a *AppUsage) { to.Errors7d += a.Errors7d }},
	{"HasAPIFamilies", func(to, a *AppUsage) { to.HasAPIFamilies = to.HasAPIFamilies || a.HasAPIFamilies }},
	{"RequestsByFamily24h", func(to, a *AppUsage) {
		for f := range a.RequestsByFamily24h {
			to.RequestsByFamily24h[f] += a.RequestsByFamily24h[f]
		}
	}},
	{"RequestsByFamily7d", func(to, a *AppUsage) {
		for f := range a.RequestsByFamily7d {
			to.RequestsByFamily7d[f] += a.RequestsByFamily7d[f]
		}
	}},
	{"HasLogins", func(to, a *AppUsage) { to.HasLogins = to.HasLogins || a.HasLogins }},
	{"LoginSuccess", func(to, a *AppUsage) { to.LoginSuccess += a.LoginSuccess }},
	{"LoginFailure", func(to, a *AppUsage) { to.LoginFailure += a.LoginFailure }},
	{"HasLoginFlows", func(to, a *AppUsage) { to.HasLoginFlows = to.HasLoginFlows || a.HasLoginFlows }},
	{"LoginsByFlow", func(to, a *AppUsage) {
		for f := range a.LoginsByFlow {
			to.LoginsByFlow[f] += a.LoginsByFlow[f]
		}
	}},
}

// notFolded are the AppUsage fields that name one app, or describe it
// alone, and so stay out of the (other) row.
var notFolded = []string{
	"Name", "ID", "MenuItemID", "Kind", "Installed", "Known", "Owner", "AdminApproved", "LookAlikeOf", "LookAlikeOfID",
	"OauthTokenGroups", "TokensPerUser", "FirstSeen", "stateKey", "Detection",
	// Set after Cap, from the history of each app by its own Id or name.
	"HighWater",
	// An app's policy and blast radius describe it alone: the (other) row
	// has none.
	"Posture",
}

// Fold adds x's figures to a, as folds declares.
func (a *AppUsage) Fold(x *AppUsage) {
	for _, f := range folds {
		f.add(a, x)
	}
}

// Seen reports whether an app counts as seen for its first-seen time's
// retention: it holds tokens, has API usage in the 7-day window, or is
// installed.
func (a *AppUsage) Seen() bool {
	return a.HasTokens && a.Tokens > 0 || a.HasAPIUsage && a.Requests7d > 0 || a.Installed
}

// StateKey is the app's key in the state's first-seen times, set by Build;
// "" for the (other) row.
func (a *AppUsage) StateKey() string { return a.stateKey }
