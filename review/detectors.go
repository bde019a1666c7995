package review

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
)

// findingContext is what every detector reads: the built report, the
// options, and the revoke commands a finding offers.
type findingContext struct {
	r   *Report
	now time.Time
	o   Options
	cfg string // the config path the revoke commands name
	// byKey is the inventory by app key.
	byKey map[string]AppRow
	// unknown holds the keys of the unknown apps (not the pseudo-apps):
	// they have their own finding, which others do not repeat.
	unknown map[string]bool
}

func newFindingContext(r *Report, now time.Time, o Options) *findingContext {
	c := &findingContext{r: r, now: now, o: o, cfg: cmp.Or(o.ConfigFile, "config.yml"), byKey: inventoryByKey(r), unknown: map[string]bool{}}
	for _, u := range r.Unknown {
		if !pseudoApp(u.App) {
			c.unknown[u.key()] = true
		}
	}
	return c
}

// revoke gives the dry run and the confirmed run of a selection that the
// review counted expect tokens in: the confirmed run revokes nothing if the
// selection has grown since (--expect), so it acts only on what the finding
// showed.
func (c *findingContext) revoke(expect int64, args ...string) (string, string) {
	base := "salesforce_oauth_exporter revoke --config.file=" + textsafe.ShellQuote(c.cfg) + " --org=" + textsafe.ShellQuote(c.r.Org) + " " + strings.Join(args, " ")
	confirm := base + " --confirm"
	if expect > 0 {
		confirm += fmt.Sprintf(" --expect=%d", expect)
	}
	return base, confirm + " --audit-log=revocations.jsonl"
}

// appRevoke is revoke for one app's tokens alone, never those of an app
// that shares its name: an app with an Id by its Id (an installed one, or
// one whose menu item is left without a ConnectedApplication: its tokens
// carry the menu item, which --not-installed never picks); an uninstalled
// one without an Id by name and --not-installed (its tokens carry no menu
// item). Only an installed app whose Id is unknown is picked by name alone,
// and then revoke refuses to act if the name covers several apps.
func (c *findingContext) appRevoke(a AppRow, expect int64) (string, string) {
	switch {
	case a.AppID != "":
		return c.revoke(expect, "--app-id="+textsafe.ShellQuote(a.AppID))
	case !a.Installed:
		return c.revoke(expect, "--app="+textsafe.ShellQuote(a.App), "--not-installed")
	}
	return c.revoke(expect, "--app="+textsafe.ShellQuote(a.App))
}

// appFinding starts a finding about one app, with its figures and the
// command (or, for an External Client App, the Setup page) that revokes its
// tokens.
func (c *findingContext) appFinding(kind, sev, summary string, a AppRow) Finding {
	f := Finding{Kind: kind, Severity: sev, Summary: summary, App: a.App, AppID: a.AppID, AppKind: a.Kind,
		EvidenceData: EvidenceData{Users: a.Users, Tokens: a.Tokens, LastUsed: a.LastUsed, FirstAuthorized: a.FirstAuthorized}}
	switch {
	case a.Kind != snapshot.KindExternalClientApp:
		f.Command, f.ConfirmCommand = c.appRevoke(a, a.Tokens)
	case a.AppID != "":
		// Its Id picks its tokens alone (revoke files the OauthToken rows
		// without a menu item under the ECA by its name, and --expect
		// refuses a selection that holds more than the review counted).
		f.Command, f.ConfirmCommand = c.appRevoke(a, a.Tokens)
		f.Action = "Revoke its tokens with the command below, or in Setup: External Client Apps > OAuth Usage."
	default:
		f.Action = "External Client App tokens are revoked in Setup: External Client Apps > OAuth Usage."
	}
	return f
}

// extra completes a finding of another detector (Options.Extra): its org,
// its Why, and the command that revokes its app's tokens.
func (c *findingContext) extra(e Finding) Finding {
	r := c.r
	e.Org = r.Org
	if e.Why == "" {
		e.Why = whyOf(e.Kind)
	}
	if e.Command == "" && e.App != "" && (e.AppKind != snapshot.KindExternalClientApp || e.AppID != "") && !pseudoApp(e.App) && e.App != snapshot.InternalApp {
		// The Id picks the one app even when two share its name; an
		// uninstalled app is picked by name and --not-installed.
		row, ok := c.byKey[AppRow{App: e.App, AppID: e.AppID, Kind: e.AppKind}.key()]
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
		e.Command, e.ConfirmCommand = c.appRevoke(row, row.Tokens)
	}
	return e
}

// unknownAppFindings: apps not on the inventory.
func unknownAppFindings(c *findingContext) []Finding {
	var fs []Finding
	for _, u := range c.r.Unknown {
		if pseudoApp(u.App) {
			continue
		}
		isNew := !u.FirstAuthorized.IsZero() && c.now.Sub(u.FirstAuthorized) < c.o.NewWithin
		sev := SeverityWarning
		age := "first authorized " + fmtSeconds(u.FirstAuthorized)
		if isNew && u.Users >= manyAuthorizations {
			sev = SeverityCritical
		}
		f := c.appFinding(KindUnknownApp, sev, fmt.Sprintf("%s is not on the inventory and %s %s for it.", quoteName(u.App), holders(u.Users), plural(u.Tokens, "token", "tokens")), u.AppRow)
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
				f.Command, f.ConfirmCommand = c.appRevoke(u.AppRow, int64(n))
			}
		}
		if u.LookAlikeOf != "" {
			// Its own Id (or --not-installed) picks it: never the approved app's tokens.
			ev = append(ev, fmt.Sprintf("its name imitates the approved %s (%s): a look-alike, not that app", quoteName(u.LookAlikeOf), cmp.Or(u.LookAlikeOfID, "no Id")))
		}
		if !u.Installed && u.Kind == snapshot.KindConnectedApp {
			f.notInstalled = 1
			ev = append(ev, "not installed in the org: no policy applies to it")
		}
		ev = append(ev, "last used "+fmtSeconds(u.LastUsed))
		f.Evidence = ev
		f.Action = cmp.Or(f.Action, "Ask the users; if nobody can vouch for the app, revoke its tokens and block it in Setup > Connected Apps OAuth Usage (users can otherwise authorize it again).")
		fs = append(fs, f)
	}
	return fs
}

// newAppFindings: known apps first authorized recently that already have
// many users.
func newAppFindings(c *findingContext) []Finding {
	var fs []Finding
	for _, a := range c.r.NewRecently {
		if !a.Known || a.Users < 2*manyAuthorizations {
			continue
		}
		f := c.appFinding(KindNewApp, SeverityInfo, fmt.Sprintf("%s was first authorized %s and already has %s.", quoteName(a.App), fmtSeconds(a.FirstAuthorized), plural(a.Users, "user", "users")), a)
		f.Evidence = []string{"owner " + cmp.Or(a.Owner, "(none)"), fmt.Sprintf("%d tokens", a.Tokens)}
		f.Command, f.ConfirmCommand = "", ""
		f.Action = "Check with its owner that the rollout is expected."
		fs = append(fs, f)
	}
	return fs
}

// deactivatedUserFindings: one finding for all the deactivated users who
// still hold tokens.
func deactivatedUserFindings(c *findingContext) []Finding {
	r := c.r
	if len(r.Leavers) == 0 {
		return nil
	}
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
	f.Command, f.ConfirmCommand = c.revoke(tokens, "--inactive-users")
	if eca {
		f.Action = "Some of these are External Client App tokens: revoke those in Setup, External Client Apps > OAuth Usage."
	}
	return []Finding{f}
}

// notInstalledFindings: apps with tokens that are not installed (and not
// already unknown).
func notInstalledFindings(c *findingContext) []Finding {
	var fs []Finding
	for _, a := range c.r.NotInstalled {
		if c.unknown[a.key()] || pseudoApp(a.App) {
			continue
		}
		f := c.appFinding(KindNotInstalled, SeverityWarning, fmt.Sprintf("%s is not installed, yet %s %s for it.", quoteName(a.App), holders(a.Users), plural(a.Tokens, "token", "tokens")), a)
		f.Evidence = []string{"owner " + cmp.Or(a.Owner, "(none)"), "last used " + fmtSeconds(a.LastUsed), "first authorized " + fmtSeconds(a.FirstAuthorized)}
		f.Action = "Install it to put it under a policy, or revoke its tokens."
		fs = append(fs, f)
	}
	return fs
}

// selfAuthorizableFindings: one finding for the installed apps that users
// may authorize without an admin's approval.
func selfAuthorizableFindings(c *findingContext) []Finding {
	var selfAuth []string
	var selfUsers int64
	for _, a := range c.r.Inventory {
		if a.AdminApproved != nil && !*a.AdminApproved && a.Tokens > 0 && a.Installed && !c.unknown[a.key()] {
			selfAuth = append(selfAuth, a.App)
			selfUsers += a.Users
		}
	}
	if len(selfAuth) == 0 {
		return nil
	}
	slices.Sort(selfAuth)
	return []Finding{{Kind: KindSelfAuthorizable, Severity: SeverityInfo,
		Summary:      fmt.Sprintf("%s let users authorize themselves.", plural(int64(len(selfAuth)), "installed app", "installed apps")),
		Evidence:     []string{"apps: " + listSample(selfAuth), fmt.Sprintf("%d users hold tokens for them", selfUsers)},
		EvidenceData: EvidenceData{Users: selfUsers, Apps: selfAuth},
		Action:       "In Setup > Connected Apps > Manage Connected Apps > Edit Policies, set Permitted Users to \"Admin approved users are pre-authorized\" where the app allows it.",
		Section:      "inventory"}}
}

// apiSurgeFindings: apps whose last 24 hours of API requests were many
// times their daily average before.
func apiSurgeFindings(c *findingContext) []Finding {
	return c.apiTrafficFindings(KindAPISurge)
}

// apiErrorFindings: apps with many failing API requests in the last 24
// hours (and no surge, which is the finding then).
func apiErrorFindings(c *findingContext) []Finding {
	return c.apiTrafficFindings(KindAPIErrors)
}

// apiTrafficFindings gives the findings of one kind, KindAPISurge or
// KindAPIErrors, from the API usage of the last 7 days. An app that both
// surged and failed gets the surge finding.
func (c *findingContext) apiTrafficFindings(kind string) []Finding {
	r := c.r
	days := 7.0
	if !r.APIUsageStart.IsZero() && !r.APIUsageEnd.IsZero() {
		days = min(7, r.APIUsageEnd.Sub(r.APIUsageStart).Hours()/24)
	}
	if r.APIUsageEnd.IsZero() || days < 2 {
		return nil
	}
	var fs []Finding
	for _, a := range r.Inventory {
		before := float64(a.Requests7d-a.Requests24h) / (days - 1)
		surge := a.Requests24h >= surgeMinRequests && float64(a.Requests24h) > surgeFactor*before &&
			(a.RequestsDailyMax == nil || float64(a.Requests24h) > surgeHighWater*float64(*a.RequestsDailyMax))
		errs := a.Requests24h >= errorMinRequests && a.ErrorRate24h > errorRateMax
		var f Finding
		switch {
		case surge && kind == KindAPISurge:
			f = c.appFinding(KindAPISurge, SeverityCritical, fmt.Sprintf("%s made %d API requests in 24 hours, %.1f times its daily average before.", quoteName(a.App), a.Requests24h, float64(a.Requests24h)/max(before, 1)), a)
			f.Action = "Ask the owner (" + cmp.Or(a.Owner, "none on the inventory") + "); if the traffic is not theirs, revoke the tokens and rotate the integration's credentials."
		case !surge && errs && kind == KindAPIErrors:
			f = c.appFinding(KindAPIErrors, SeverityWarning, fmt.Sprintf("%s of %s's %d API requests in 24 hours failed.", pct(a.ErrorRate24h), quoteName(a.App), a.Requests24h), a)
			f.Action = "Ask the owner (" + cmp.Or(a.Owner, "none on the inventory") + ") whether the integration is broken; revoke if nobody claims the traffic."
		default:
			continue
		}
		f.EvidenceData.Requests24h, f.EvidenceData.DailyAverage, f.EvidenceData.ErrorRate24h = a.Requests24h, int64(before), a.ErrorRate24h
		f.Evidence = []string{fmt.Sprintf("%d requests in the 24 hours to %s", a.Requests24h, fmtSeconds(r.APIUsageEnd)),
			fmt.Sprintf("%d a day on average over the %.0f days before", int64(before), days-1),
			fmt.Sprintf("%s of the 24 hours' requests failed", pct(a.ErrorRate24h)),
			busiestDay(a.RequestsDailyMax),
			fmt.Sprintf("%s, %s", plural(a.Users, "user", "users"), plural(a.Tokens, "token", "tokens"))}
		if pseudoApp(a.App) {
			f.Command, f.ConfirmCommand = "", ""
			f.Action = "These requests came without a connected app (a user's browser session or a direct login): look up the users in the ApiTotalUsage event log."
		}
		fs = append(fs, f)
	}
	return fs
}

// staleTokenFindings: one finding for the tokens unused past the stale
// threshold.
func staleTokenFindings(c *findingContext) []Finding {
	r := c.r
	if len(r.Stale) == 0 {
		return nil
	}
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
	f.Command, f.ConfirmCommand = c.revoke(int64(len(r.Stale)), "--stale")
	return []Finding{f}
}

// abandonedAppFindings: apps many users authorized that are hardly used.
func abandonedAppFindings(c *findingContext) []Finding {
	var fs []Finding
	for _, a := range c.r.HighUsersLowUse {
		// A new app has had no time to be used, and an unknown one has its own finding.
		if pseudoApp(a.App) || c.unknown[a.key()] || (!a.FirstAuthorized.IsZero() && c.now.Sub(a.FirstAuthorized) < c.o.NewWithin) {
			continue
		}
		use := fmt.Sprintf("only %s", plural(a.Requests7d, "API request", "API requests"))
		if a.Requests7d == 0 {
			use = "no API requests"
		}
		f := c.appFinding(KindAbandonedApp, SeverityInfo, fmt.Sprintf("%s has %s but %s in 7 days.", quoteName(a.App), plural(a.Users, "user", "users"), use), a)
		f.Evidence = []string{"owner " + cmp.Or(a.Owner, "(none)"), "last used " + fmtSeconds(a.LastUsed)}
		f.Action = cmp.Or(f.Action, "Ask the owner whether it is retired; if so, revoke its tokens.")
		fs = append(fs, f)
	}
	return fs
}

// busiestDay states an app's high-water mark of requests, or that the
// exporter's history has none yet.
func busiestDay(n *int64) string {
	if n == nil {
		return "no busiest day of the 4 weeks before in the exporter's history yet"
	}
	return fmt.Sprintf("%d on its busiest day of the 4 weeks before", *n)
}
