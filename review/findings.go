package review

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Severities, in words so that the report reads without color.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

var severityRank = map[string]int{SeverityCritical: 0, SeverityWarning: 1, SeverityInfo: 2}

// Finding kinds. The order of findingKinds is the ranking within a severity.
//
// Adding a kind: add its constant and a row in findingKinds at its place in
// the ranking (the row's Why is the finding's "why it matters"), then either
// write a detector below and call it from addFindings, or, for a detector
// that lives elsewhere (the IOC and new-network detection), pass its findings
// in Options.Extra: addFindings fills in their Why and commands when empty and
// ranks them with the rest. docs/review-json.md lists the kinds for readers of
// /review.json; a test fails when a kind is missing there.
const (
	KindUnknownApp       = "unknown_app"
	KindNewApp           = "new_app"
	KindIOCMatch         = "ioc_match"
	KindNewNetwork       = "new_network"
	KindDeactivatedUsers = "deactivated_user_tokens"
	KindNotInstalled     = "not_installed_app"
	KindSelfAuthorizable = "self_authorizable_apps"
	KindAPISurge         = "api_surge"
	KindAPIErrors        = "api_error_rate"
	KindStaleTokens      = "stale_tokens"
	KindAbandonedApp     = "abandoned_app"
)

type kindInfo struct {
	Kind, Why string
}

var findingKinds = []kindInfo{
	{KindUnknownApp, "An app nobody approved holds tokens that read the org's data through the API; in 2025 users were talked into authorizing a look-alike data loader that exported whole orgs."},
	{KindIOCMatch, "Traffic from an address or client known to be used by attackers is a sign the tokens are already in the wrong hands."},
	{KindNewNetwork, "A token used from a network it has never been used from may have been stolen."},
	{KindNewApp, "A new app with many users widens the set of tokens that can read the org's data."},
	{KindDeactivatedUsers, "Deactivating a user leaves their OAuth tokens in the org (they are still listed here); revoking them at offboarding removes any doubt about whether they can be used again, for example after the account is reactivated."},
	{KindNotInstalled, "An app that is not installed is governed by no policy in the org: any user can authorize it and its tokens are easy to miss."},
	{KindSelfAuthorizable, "Users can authorize these apps themselves, so one phishing message is enough to hand out a token; admin approval closes that door."},
	{KindAPISurge, "A sudden rise in an app's API traffic is how a stolen integration token looks while data is being exported."},
	{KindAPIErrors, "Many failing requests point to a broken integration or to someone probing the API with a token."},
	{KindStaleTokens, "A token nobody uses still grants access; revoking it costs nothing and shrinks what can be stolen."},
	{KindAbandonedApp, "An app many users authorized but nobody uses any more is access without an owner."},
}

// FindingKinds lists the kinds in ranking order.
func FindingKinds() []string {
	out := make([]string, len(findingKinds))
	for i, k := range findingKinds {
		out[i] = k.Kind
	}
	return out
}

func kindRank(kind string) int {
	for i, k := range findingKinds {
		if k.Kind == kind {
			return i
		}
	}
	return len(findingKinds)
}

// Finding is one thing the reviewer should act on this week.
type Finding struct {
	// ID is unique in the report and is the HTML anchor of the finding.
	ID       string `json:"id"`
	Org      string `json:"org"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// Summary is one sentence of what it is.
	Summary string `json:"summary"`
	// Why says why it matters.
	Why string `json:"why"`
	// App is the app concerned; empty for an org-wide finding.
	App     string `json:"app,omitempty"`
	AppID   string `json:"app_id,omitempty"`
	AppKind string `json:"app_kind,omitempty"`
	// Evidence is the facts behind it, one line each; EvidenceData the same as numbers.
	Evidence     []string     `json:"evidence"`
	EvidenceData EvidenceData `json:"evidence_data"`
	// Command is the revoke dry run that lists what would go; ConfirmCommand applies it.
	Command        string `json:"command,omitempty"`
	ConfirmCommand string `json:"confirm_command,omitempty"`
	// Action is what to do where no command does it (Setup), or in addition.
	Action string `json:"action,omitempty"`
	// Section is the anchor of the evidence section that details it.
	Section string `json:"section,omitempty"`

	notInstalled int // 1 for an app that is not installed, for the ranking
}

// EvidenceData is a finding's evidence as numbers and names.
type EvidenceData struct {
	Users           int64     `json:"users,omitempty"`
	Tokens          int64     `json:"tokens,omitempty"`
	Requests24h     int64     `json:"requests_24h,omitempty"`
	DailyAverage    int64     `json:"daily_average_before,omitempty"`
	ErrorRate24h    float64   `json:"error_rate_24h,omitempty"`
	FirstAuthorized time.Time `json:"first_authorized,omitzero"`
	LastAuthorized  time.Time `json:"last_authorized,omitzero"`
	LastUsed        time.Time `json:"last_used,omitzero"`
	UserNames       []string  `json:"users_sample,omitempty"`
	Apps            []string  `json:"apps,omitempty"`
	Networks        []string  `json:"networks,omitempty"`
}

// Thresholds of the findings that have no flag. They match the mixin's alerts.
const (
	manyAuthorizations = 5    // an unknown app this new with this many users is critical
	surgeFactor        = 3.0  // SalesforceAPISurge: 24h over 3x the daily average before
	surgeMinRequests   = 1000 // ...and at least this many
	errorRateMax       = 0.2  // SalesforceAPIErrorRateHigh
	errorMinRequests   = 500
	grownFactor        = 1.5 // the baseline diff: users grew by half...
	grownMinUsers      = 5   // ...and by at least this many
	maxEvidenceRows    = 500 // per-user rows per app section
	sampleUsers        = 10  // user names in a finding's evidence
)

// pseudoApp reports whether name is a label for traffic without an app.
func pseudoApp(name string) bool {
	return name == snapshot.NoConnectedApp || name == snapshot.NoLoginHistory
}

// Growth is an app whose users grew since the baseline.
type Growth struct {
	AppRow
	BaselineUsers  int64 `json:"baseline_users"`
	BaselineTokens int64 `json:"baseline_tokens"`
}

// addFindings derives the ranked findings, the per-app evidence and the
// baseline diff from a built report.
func addFindings(r *Report, byApp map[string][]TokenRow, now time.Time, o Options) {
	cfg := o.ConfigFile
	if cfg == "" {
		cfg = "config.yml"
	}
	// revoke gives the dry run and the confirmed run of a selection that
	// the review counted expect tokens in: the confirmed run revokes nothing
	// if the selection has grown since (--expect), so it acts only on what
	// the finding showed.
	revoke := func(expect int64, args ...string) (string, string) {
		base := "salesforce_oauth_exporter revoke --config.file=" + shellQuote(cfg) + " --org=" + shellQuote(r.Org) + " " + strings.Join(args, " ")
		confirm := base + " --confirm"
		if expect > 0 {
			confirm += fmt.Sprintf(" --expect=%d", expect)
		}
		return base, confirm + " --audit-log=revocations.jsonl"
	}
	byKey := map[string]AppRow{}
	for _, a := range r.Inventory {
		byKey[a.key()] = a
	}
	// appRevoke is revoke for one app's tokens alone, never those of an app
	// that shares its name: an app with an Id by its Id (an installed one,
	// or one whose menu item is left without a ConnectedApplication: its
	// tokens carry the menu item, which --not-installed never picks); an
	// uninstalled one without an Id by name and --not-installed (its tokens
	// carry no menu item). Only an installed app whose Id is unknown is
	// picked by name alone, and then revoke refuses to act if the name
	// covers several apps.
	appRevoke := func(a AppRow, expect int64) (string, string) {
		switch {
		case a.AppID != "":
			return revoke(expect, "--app-id="+shellQuote(a.AppID))
		case !a.Installed:
			return revoke(expect, "--app="+shellQuote(a.App), "--not-installed")
		}
		return revoke(expect, "--app="+shellQuote(a.App))
	}
	var fs []Finding
	add := func(f Finding) { fs = append(fs, f) }
	appFinding := func(kind, sev, summary string, a AppRow) Finding {
		f := Finding{Kind: kind, Severity: sev, Summary: summary, App: a.App, AppID: a.AppID, AppKind: a.Kind,
			EvidenceData: EvidenceData{Users: a.Users, Tokens: a.Tokens, LastUsed: a.LastUsed, FirstAuthorized: a.FirstAuthorized}}
		if a.Kind == snapshot.KindExternalClientApp {
			f.Action = "External Client App tokens are revoked in Setup: External Client Apps > OAuth Usage."
		} else {
			f.Command, f.ConfirmCommand = appRevoke(a, a.Tokens)
		}
		return f
	}
	unknown := map[string]bool{}
	for _, u := range r.Unknown {
		if pseudoApp(u.App) {
			continue
		}
		unknown[u.key()] = true
		isNew := !u.FirstAuthorized.IsZero() && now.Sub(u.FirstAuthorized) < o.NewWithin
		sev := SeverityWarning
		age := "first authorized " + fmtSeconds(u.FirstAuthorized)
		if isNew && u.Users >= manyAuthorizations {
			sev = SeverityCritical
		}
		f := appFinding(KindUnknownApp, sev, fmt.Sprintf("%s is not on the inventory and %s %s for it.", quoteName(u.App), holders(u.Users), plural(u.Tokens, "token", "tokens")), u.AppRow)
		if isNew {
			f.Summary = fmt.Sprintf("%s is new, not on the inventory, and %s authorized it.", quoteName(u.App), plural(u.Users, "user", "users"))
		}
		ev := []string{age}
		if n := len(u.Authorizations); n > 0 {
			first, last := u.Authorizations[0].AuthorizedAt, u.Authorizations[n-1].AuthorizedAt
			f.EvidenceData.FirstAuthorized, f.EvidenceData.LastAuthorized = first, last
			if n > 1 {
				ev = append(ev, fmt.Sprintf("%d authorizations between %s and %s (%s)", n, fmtSeconds(first), fmtSeconds(last), humanDuration(last.Sub(first))))
			}
			var names []string
			for _, t := range u.Authorizations {
				if !slices.Contains(names, t.Username) {
					names = append(names, t.Username)
				}
			}
			f.EvidenceData.UserNames = names[:min(len(names), sampleUsers)]
			// The per-user read is newer than the snapshot: count what it lists.
			f.EvidenceData.Users = int64(len(names))
			if isNew {
				f.Summary = fmt.Sprintf("%s is new, not on the inventory, and %s authorized it.", quoteName(u.App), plural(int64(len(names)), "user", "users"))
			}
			ev = append(ev, "users: "+listSample(names))
			if int64(n) > u.Tokens && f.Command != "" {
				// The per-user read is newer: it lists what revoke will find.
				f.Command, f.ConfirmCommand = appRevoke(u.AppRow, int64(n))
			}
		}
		if !u.Installed && u.Kind == snapshot.KindConnectedApp {
			f.notInstalled = 1
			ev = append(ev, "not installed in the org: no policy applies to it")
		}
		ev = append(ev, "last used "+fmtSeconds(u.LastUsed))
		f.Evidence = ev
		f.Action = cmp.Or(f.Action, "Ask the users; if nobody can vouch for the app, revoke its tokens and block it in Setup > Connected Apps OAuth Usage (users can otherwise authorize it again).")
		add(f)
	}
	for _, a := range r.NewRecently {
		if !a.Known || a.Users < 2*manyAuthorizations {
			continue
		}
		f := appFinding(KindNewApp, SeverityInfo, fmt.Sprintf("%s was first authorized %s and already has %s.", quoteName(a.App), fmtSeconds(a.FirstAuthorized), plural(a.Users, "user", "users")), a)
		f.Evidence = []string{"owner " + cmp.Or(a.Owner, "(none)"), fmt.Sprintf("%d tokens", a.Tokens)}
		f.Command, f.ConfirmCommand = "", ""
		f.Action = "Check with its owner that the rollout is expected."
		add(f)
	}
	if len(r.Leavers) > 0 {
		var tokens int64
		var apps, names []string
		eca := false
		for _, l := range r.Leavers {
			names = append(names, l.Username)
			for _, t := range l.Tokens {
				tokens++
				if !slices.Contains(apps, t.App) {
					apps = append(apps, t.App)
				}
				eca = eca || t.Kind == snapshot.KindExternalClientApp
			}
		}
		slices.Sort(apps)
		f := Finding{Kind: KindDeactivatedUsers, Severity: SeverityWarning,
			Summary:      fmt.Sprintf("%s %s.", plural(int64(len(r.Leavers)), "deactivated user still holds", "deactivated users still hold"), plural(tokens, "OAuth token", "OAuth tokens")),
			Evidence:     []string{"users: " + listSample(names), "apps: " + listSample(apps)},
			EvidenceData: EvidenceData{Users: int64(len(r.Leavers)), Tokens: tokens, UserNames: names[:min(len(names), sampleUsers)], Apps: apps},
			Section:      "leavers"}
		f.Command, f.ConfirmCommand = revoke(tokens, "--inactive-users")
		if eca {
			f.Action = "Some of these are External Client App tokens: revoke those in Setup, External Client Apps > OAuth Usage."
		}
		add(f)
	}
	for _, a := range r.NotInstalled {
		if unknown[a.key()] || pseudoApp(a.App) {
			continue
		}
		f := appFinding(KindNotInstalled, SeverityWarning, fmt.Sprintf("%s is not installed, yet %s %s for it.", quoteName(a.App), holders(a.Users), plural(a.Tokens, "token", "tokens")), a)
		f.Evidence = []string{"owner " + cmp.Or(a.Owner, "(none)"), "last used " + fmtSeconds(a.LastUsed), "first authorized " + fmtSeconds(a.FirstAuthorized)}
		f.Action = "Install it to put it under a policy, or revoke its tokens."
		add(f)
	}
	var selfAuth []string
	var selfUsers int64
	for _, a := range r.Inventory {
		if a.AdminApproved != nil && !*a.AdminApproved && a.Tokens > 0 && a.Installed && !unknown[a.key()] {
			selfAuth = append(selfAuth, a.App)
			selfUsers += a.Users
		}
	}
	if len(selfAuth) > 0 {
		slices.Sort(selfAuth)
		add(Finding{Kind: KindSelfAuthorizable, Severity: SeverityInfo,
			Summary:      fmt.Sprintf("%s let users authorize themselves.", plural(int64(len(selfAuth)), "installed app", "installed apps")),
			Evidence:     []string{"apps: " + listSample(selfAuth), fmt.Sprintf("%d users hold tokens for them", selfUsers)},
			EvidenceData: EvidenceData{Users: selfUsers, Apps: selfAuth},
			Action:       "In Setup > Connected Apps > Manage Connected Apps > Edit Policies, set Permitted Users to \"Admin approved users are pre-authorized\" where the app allows it.",
			Section:      "inventory"})
	}
	days := 7.0
	if !r.APIUsageStart.IsZero() && !r.APIUsageEnd.IsZero() {
		days = min(7, r.APIUsageEnd.Sub(r.APIUsageStart).Hours()/24)
	}
	if !r.APIUsageEnd.IsZero() && days >= 2 {
		for _, a := range r.Inventory {
			before := float64(a.Requests7d-a.Requests24h) / (days - 1)
			surge := a.Requests24h >= surgeMinRequests && float64(a.Requests24h) > surgeFactor*before
			errs := a.Requests24h >= errorMinRequests && a.ErrorRate24h > errorRateMax
			if !surge && !errs {
				continue
			}
			var f Finding
			if surge {
				f = appFinding(KindAPISurge, SeverityCritical, fmt.Sprintf("%s made %d API requests in 24 hours, %.1f times its daily average before.", quoteName(a.App), a.Requests24h, float64(a.Requests24h)/max(before, 1)), a)
				f.Action = "Ask the owner (" + cmp.Or(a.Owner, "none on the inventory") + "); if the traffic is not theirs, revoke the tokens and rotate the integration's credentials."
			} else {
				f = appFinding(KindAPIErrors, SeverityWarning, fmt.Sprintf("%s of %s's %d API requests in 24 hours failed.", pct(a.ErrorRate24h), quoteName(a.App), a.Requests24h), a)
				f.Action = "Ask the owner (" + cmp.Or(a.Owner, "none on the inventory") + ") whether the integration is broken; revoke if nobody claims the traffic."
			}
			f.EvidenceData.Requests24h, f.EvidenceData.DailyAverage, f.EvidenceData.ErrorRate24h = a.Requests24h, int64(before), a.ErrorRate24h
			f.Evidence = []string{fmt.Sprintf("%d requests in the 24 hours to %s", a.Requests24h, fmtSeconds(r.APIUsageEnd)),
				fmt.Sprintf("%d a day on average over the %.0f days before", int64(before), days-1),
				fmt.Sprintf("%s of the 24 hours' requests failed", pct(a.ErrorRate24h)),
				fmt.Sprintf("%s, %s", plural(a.Users, "user", "users"), plural(a.Tokens, "token", "tokens"))}
			if pseudoApp(a.App) {
				f.Command, f.ConfirmCommand = "", ""
				f.Action = "These requests came without a connected app (a user's browser session or a direct login): look up the users in the ApiTotalUsage event log."
			}
			add(f)
		}
	}
	if len(r.Stale) > 0 {
		var apps []string
		for _, t := range r.Stale {
			if !slices.Contains(apps, t.App) {
				apps = append(apps, t.App)
			}
		}
		slices.Sort(apps)
		f := Finding{Kind: KindStaleTokens, Severity: SeverityInfo,
			Summary:      fmt.Sprintf("%s unused for more than %d days.", plural(int64(len(r.Stale)), "token is", "tokens are"), r.Thresholds.StaleAfterDays),
			Evidence:     []string{"apps: " + listSample(apps), "the longest unused since " + fmtSeconds(lastActivity(r.Stale[0]))},
			EvidenceData: EvidenceData{Tokens: int64(len(r.Stale)), Apps: apps},
			Section:      "stale"}
		f.Command, f.ConfirmCommand = revoke(int64(len(r.Stale)), "--stale")
		add(f)
	}
	for _, a := range r.HighUsersLowUse {
		// A new app has had no time to be used, and an unknown one has its own finding.
		if pseudoApp(a.App) || unknown[a.key()] || (!a.FirstAuthorized.IsZero() && now.Sub(a.FirstAuthorized) < o.NewWithin) {
			continue
		}
		use := fmt.Sprintf("only %s", plural(a.Requests7d, "API request", "API requests"))
		if a.Requests7d == 0 {
			use = "no API requests"
		}
		f := appFinding(KindAbandonedApp, SeverityInfo, fmt.Sprintf("%s has %s but %s in 7 days.", quoteName(a.App), plural(a.Users, "user", "users"), use), a)
		f.Evidence = []string{"owner " + cmp.Or(a.Owner, "(none)"), "last used " + fmtSeconds(a.LastUsed)}
		f.Action = cmp.Or(f.Action, "Ask the owner whether it is retired; if so, revoke its tokens.")
		add(f)
	}
	for _, e := range o.Extra {
		e.Org = r.Org
		if e.Why == "" {
			e.Why = whyOf(e.Kind)
		}
		if e.Command == "" && e.App != "" && e.AppKind != snapshot.KindExternalClientApp && !pseudoApp(e.App) && e.App != snapshot.InternalApp {
			// The Id picks the one app even when two share its name; an
			// uninstalled app is picked by name and --not-installed.
			row, ok := byKey[AppRow{App: e.App, AppID: e.AppID, Kind: e.AppKind}.key()]
			if !ok && e.AppID == "" {
				// No Id: the one app of that name, if only one has it.
				n := 0
				for _, a := range r.Inventory {
					if a.App == e.App && a.Kind == e.AppKind {
						row, n = a, n+1
					}
				}
				ok = n == 1
			}
			if !ok {
				// Unknown to the report: by Id if it has one, else by name,
				// which revoke refuses to confirm when several apps share it.
				row = AppRow{App: e.App, AppID: e.AppID, Kind: e.AppKind, Installed: true}
			}
			e.Command, e.ConfirmCommand = appRevoke(row, row.Tokens)
		}
		add(e)
	}
	slices.SortStableFunc(fs, compareFindings)
	// Evidence: one section per app with findings, with every authorization.
	done := map[string]bool{}
	for i := range fs {
		f := &fs[i]
		f.Org = r.Org
		f.Why = cmp.Or(f.Why, whyOf(f.Kind))
		f.ID = anchor(r.Org, fmt.Sprintf("f%d", i+1))
		if f.App == "" {
			if f.Section != "" {
				f.Section = anchor(r.Org, f.Section)
			}
			continue
		}
		k := AppRow{App: f.App, AppID: f.AppID, Kind: f.AppKind}.key()
		f.Section = anchor(r.Org, "app", k)
		if done[k] {
			continue
		}
		done[k] = true
		row, ok := byKey[k]
		if !ok {
			row = AppRow{App: f.App, AppID: f.AppID, Kind: f.AppKind}
		}
		auth := append([]TokenRow(nil), byApp[k]...)
		slices.SortFunc(auth, func(x, y TokenRow) int {
			return cmp.Or(x.AuthorizedAt.Compare(y.AuthorizedAt), strings.Compare(x.Username, y.Username))
		})
		d := AppDetail{AppRow: row, Authorizations: auth, Detection: o.detection[k]}
		if o.FullApp == "" || !strings.EqualFold(f.App, o.FullApp) {
			d.Authorizations, d.MoreAuthorizations = auth[:min(len(auth), maxEvidenceRows)], max(0, len(auth)-maxEvidenceRows)
		}
		r.AppEvidence = append(r.AppEvidence, d)
	}
	if o.FullApp != "" {
		// The app asked for gets its section, finding or not.
		for _, a := range r.Inventory {
			if k := a.key(); !done[k] && strings.EqualFold(a.App, o.FullApp) {
				done[k] = true
				auth := append([]TokenRow(nil), byApp[k]...)
				slices.SortFunc(auth, func(x, y TokenRow) int {
					return cmp.Or(x.AuthorizedAt.Compare(y.AuthorizedAt), strings.Compare(x.Username, y.Username))
				})
				r.AppEvidence = append(r.AppEvidence, AppDetail{AppRow: a, Authorizations: auth, Detection: o.detection[k]})
			}
		}
	}
	r.Findings = fs
	if o.Baseline != nil {
		now := map[string]bool{}
		for _, a := range r.Inventory {
			now[a.key()] = true
		}
		old := map[string]AppRow{}
		for _, a := range o.Baseline.Inventory {
			old[a.key()] = a
			if !now[a.key()] && (a.Tokens > 0 || a.Requests7d > 0) {
				r.GoneSinceBaseline = append(r.GoneSinceBaseline, a)
			}
		}
		for _, a := range r.Inventory {
			b, ok := old[a.key()]
			if ok && a.Users-b.Users >= grownMinUsers && float64(a.Users) >= grownFactor*float64(b.Users) {
				r.GrownSinceBaseline = append(r.GrownSinceBaseline, Growth{AppRow: a, BaselineUsers: b.Users, BaselineTokens: b.Tokens})
			}
		}
	}
	r.History = o.History
}

// compareFindings ranks findings: severity first, then the kind's place in
// findingKinds, then an app that is not installed (no policy applies to it:
// the 2025 phishing apps were not), then the most users, the most requests, and the app's name.
func compareFindings(a, b Finding) int {
	return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
		cmp.Compare(b.notInstalled, a.notInstalled), cmp.Compare(b.EvidenceData.Users, a.EvidenceData.Users), cmp.Compare(b.EvidenceData.Requests24h, a.EvidenceData.Requests24h), strings.Compare(a.App, b.App))
}

func whyOf(kind string) string {
	for _, k := range findingKinds {
		if k.Kind == kind {
			return k.Why
		}
	}
	return ""
}

// anchor builds an HTML id from parts: letters and digits kept, the rest hex.
func anchor(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		for _, c := range []byte(p) {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				b.WriteByte(c)
			case c >= 'A' && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			default:
				fmt.Fprintf(&b, "_%02x", c)
			}
		}
	}
	return "o-" + b.String()
}

// humanDuration says d as a person would: "45s", "12m30s", "5h20m", or,
// from two days on, "183 days".
func humanDuration(d time.Duration) string {
	d = max(d, 0)
	pair := func(n, unit int64, big, small string) string {
		if n%unit == 0 {
			return fmt.Sprintf("%d%s", n/unit, big)
		}
		return fmt.Sprintf("%d%s%d%s", n/unit, big, n%unit, small)
	}
	switch s := int64(d.Round(time.Second) / time.Second); {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return pair(s, 60, "m", "s")
	case d < 48*time.Hour:
		return pair(int64(d.Round(time.Minute)/time.Minute), 60, "h", "m")
	}
	return fmt.Sprintf("%d days", int64((d+12*time.Hour)/(24*time.Hour)))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// holders is "1 user holds" or "n users hold".
func holders(n int64) string {
	if n == 1 {
		return "1 user holds"
	}
	return fmt.Sprintf("%d users hold", n)
}

func listSample(names []string) string {
	if len(names) <= sampleUsers {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:sampleUsers], ", ") + fmt.Sprintf(" and %d more", len(names)-sampleUsers)
}

func quoteName(s string) string { return "\"" + s + "\"" }

// fmtSeconds is a full timestamp: the order inside a burst of
// authorizations minutes apart must survive.
func fmtSeconds(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// shellQuote quotes s for a POSIX shell (bash's $'...' when it holds control
// characters, so the command stays one line and copies as it reads).
func shellQuote(s string) string {
	safe := s != ""
	ctrl := false
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r):
			ctrl, safe = true, false
		case !shellSafe(r):
			safe = false
		}
	}
	if safe {
		return s
	}
	if !ctrl {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case (r >= 0x80 && r < 0xa0) || isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// shellSafe reports a character a shell word may hold unquoted.
func shellSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)
}

// isBidi reports Unicode bidirectional controls, which reorder what a
// terminal or page shows ("Trojan Source").
func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
