package review

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Formats lists the output formats.
var Formats = []string{"text", "markdown", "csv", "json", "html"}

// Write renders reports in a format. Every format carries the same findings,
// first; then the summary across orgs and, per org, the evidence.
func Write(w io.Writer, reports []*Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(reports) == 1 {
			return enc.Encode(reports[0])
		}
		return enc.Encode(reports)
	case "csv":
		return writeCSV(w, reports)
	case "html":
		return writeHTML(w, reports)
	case "text", "markdown":
		writeDoc(w, reports, format == "markdown")
		return nil
	case InventoryFormat:
		return writeInventory(w, reports)
	}
	return fmt.Errorf("unknown format %q: want one of %s", format, strings.Join(CommandFormats, ", "))
}

// section is a titled table, the unit of every format.
type section struct {
	ID, Title, Note string
	Header          []string
	Rows            [][]string
	// Sub are tables that belong to this one (an app's network evidence).
	Sub []section
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

func pct(f float64) string {
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// displayApp names the pseudo-apps for what they are, so they don't read
// like unknown connected apps.
func displayApp(name string) string {
	switch name {
	case snapshot.NoConnectedApp:
		return name + " no connected app"
	case snapshot.NoLoginHistory:
		return name + " session without a login record"
	}
	return name
}

// glossary explains each column once.
var glossary = [][2]string{
	{"Users", "distinct users holding at least one OAuth token for the app"},
	{"Tokens", "OAuth tokens (approvals); a user can hold several for one app"},
	{"Sessions", "OAuth sessions valid now whose login was through the app"},
	{"Req 24h, Req 7d", "API requests (ApiTotalUsage event log) in the 24 hours and 7 days before the newest log data"},
	{"Errors 24h", "share of the 24 hours' requests that failed (HTTP status 400 or more)"},
	{"Authorized", "when the token was created (OauthToken.CreatedDate), to the second, UTC"},
	{"Last used", "OauthToken.LastUsedDate; \"not recorded\" when Salesforce counts uses but keeps no date, \"never\" when the token was never used"},
	{"Uses", "OauthToken.UseCount: how often the token was used (refreshes included)"},
	{"Deactivated (last change)", "the deactivated user's last modification (User.LastModifiedDate): Salesforce keeps no deactivation date, so an edit after deactivating moves it"},
	{"(none)", "API requests made without a connected app (browser sessions, direct logins)"},
	{"(unknown)", "OAuth sessions whose login record is gone, so their app is unknown"},
	{"Known", "on the config's inventory of approved apps"},
	{"Admin approved", "only users an admin pre-authorized may use the app; \"no\" means users can authorize it themselves"},
}

var appHeader = []string{"App", "Kind", "Owner", "Purpose", "Users", "Tokens", "Sessions", "Req 24h", "Req 7d", "Errors 24h", "Last used", "First authorized", "Installed", "Known", "Admin approved"}

func approved(b *bool) string {
	if b == nil {
		return "unknown"
	}
	return yes(*b)
}

func appCells(a AppRow) []string {
	return []string{displayApp(a.App), a.Kind, a.Owner, a.Purpose, num(a.Users), num(a.Tokens), num(a.Sessions), num(a.Requests24h), num(a.Requests7d), pct(a.ErrorRate24h), fmtSeconds(a.LastUsed), fmtSeconds(a.FirstAuthorized), yes(a.Installed), yes(a.Known), approved(a.AdminApproved)}
}

func appSection(id, title, note string, apps []AppRow) section {
	s := section{ID: id, Title: title, Note: note, Header: appHeader}
	for _, a := range apps {
		s.Rows = append(s.Rows, appCells(a))
	}
	return s
}

func lastUsedStr(t TokenRow) string {
	if t.LastUsed.IsZero() && t.UseCount > 0 {
		return "not recorded"
	}
	return fmtSeconds(t.LastUsed)
}

var userHeader = []string{"User", "Authorized", "Last used", "Uses", "User active"}

func userCells(t TokenRow) []string {
	return []string{t.Username, fmtSeconds(t.AuthorizedAt), lastUsedStr(t), num(t.UseCount), yes(t.UserActive)}
}

var tokenHeader = []string{"User", "App", "Authorized", "Last used", "Uses", "User active"}

func tokenCells(t TokenRow) []string {
	return []string{t.Username, displayApp(t.App), fmtSeconds(t.AuthorizedAt), lastUsedStr(t), num(t.UseCount), yes(t.UserActive)}
}

// appEvidence is one app's evidence: its line and every authorization.
func appEvidence(r *Report, a AppDetail) section {
	s := section{ID: anchor(r.Org, "app", a.key()), Title: displayApp(a.App), Header: userHeader}
	s.Note = fmt.Sprintf("%s %s, %s, %s; %d requests in 24h, %d in 7 days, %s failed; installed: %s, on the inventory: %s; owner: %s.",
		a.Kind, shortID(a.AppID), plural(a.Users, "user", "users"), plural(a.Tokens, "token", "tokens"), a.Requests24h, a.Requests7d, pct(a.ErrorRate24h), yes(a.Installed), yes(a.Known), orNone(a.Owner))
	for _, t := range a.Authorizations {
		s.Rows = append(s.Rows, userCells(t))
	}
	if a.MoreAuthorizations > 0 {
		s.Note += fmt.Sprintf(" The first %d authorizations are listed; %d more are left out.", len(a.Authorizations), a.MoreAuthorizations)
	}
	if a.Detection != nil {
		s.Sub = detectionSections(s.ID, displayApp(a.App), a.Detection)
	}
	return s
}

// userCell names a user by username when the review knows it, else by Id.
func userCell(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

func joinCounts(objs []NameCount) string {
	parts := make([]string, len(objs))
	for i, o := range objs {
		parts[i] = fmt.Sprintf("%s %d", o.Name, o.Requests)
	}
	return strings.Join(parts, ", ")
}

func joinUsers(users []UserCount, other int64) string {
	parts := make([]string, 0, len(users)+1)
	for _, u := range users {
		parts = append(parts, fmt.Sprintf("%s %d", userCell(u.User, u.UserID), u.Requests))
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("other users %d", other))
	}
	return strings.Join(parts, ", ")
}

var networkHeader = []string{"Network", "First seen", "Last seen", "Requests", "Objects touched (requests)", "Users behind the requests (requests)", "IOC lists"}

func networkCells(n NetworkRow) []string {
	return []string{n.Network, fmtSeconds(n.FirstSeen), fmtSeconds(n.LastSeen), num(n.Requests), joinCounts(n.Objects), joinUsers(n.Users, n.OtherUsersRequests), strings.Join(n.IOCLists, ", ")}
}

var iocHeader = []string{"IOC list", "Address", "User", "Requests", "First", "Last"}

func iocCells(h IOCHitRow) []string {
	return []string{h.List, h.Address, userCell(h.User, h.UserID), num(h.Requests), fmtSeconds(h.First), fmtSeconds(h.Last)}
}

var loginHeader = []string{"Login", "Network", "User", "New network", "IOC lists"}

func loginCells(l LoginRow) []string {
	return []string{fmtSeconds(l.Time), l.Network, userCell(l.User, l.UserID), yes(l.NewNetwork), strings.Join(l.IOCLists, ", ")}
}

// detectionSections are an app's network evidence: its new networks, its
// requests from IOC addresses and its logins from either.
func detectionSections(id, app string, d *AppDetection) []section {
	more := func(s *section, n int) {
		if n > 0 {
			s.Note += fmt.Sprintf(" The first %d are listed; %d more are left out.", len(s.Rows), n)
		}
	}
	nets := section{ID: id + "-networks", Title: app + ": new networks", Header: networkHeader,
		Note: fmt.Sprintf("Networks first seen from %s to %s on days the app's requests from new networks were unusual for it, the busiest first; the app's baseline since %s counts networks as new from %s.",
			fmtSeconds(maxTime(d.From, d.NewFrom)), fmtSeconds(d.To), fmtSeconds(d.BaselineStart), fmtSeconds(d.NewFrom))}
	for _, n := range d.Networks {
		nets.Rows = append(nets.Rows, networkCells(n))
	}
	more(&nets, d.MoreNetworks)
	ioc := section{ID: id + "-ioc", Title: app + ": API requests from IOC addresses", Header: iocHeader, Note: fmt.Sprintf("From %s to %s.", fmtSeconds(d.From), fmtSeconds(d.To))}
	for _, h := range d.IOCHits {
		ioc.Rows = append(ioc.Rows, iocCells(h))
	}
	more(&ioc, d.MoreIOCHits)
	logins := section{ID: id + "-logins", Title: app + ": OAuth logins from new networks or IOC addresses", Header: loginHeader, Note: "The 24 hours the logins source last read, oldest first."}
	for _, l := range d.Logins {
		logins.Rows = append(logins.Rows, loginCells(l))
	}
	more(&logins, d.MoreLogins)
	return []section{nets, ioc, logins}
}

func shortID(id string) string {
	if id == "" {
		return ""
	}
	return id
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// sections are an org's evidence after its findings.
func sections(r *Report) []section {
	var out []section
	for _, a := range r.AppEvidence {
		out = append(out, appEvidence(r, a))
	}
	l := section{ID: anchor(r.Org, "leavers"), Title: "Offboarding leaks", Note: fmt.Sprintf("Deactivated users who still hold tokens; deactivated in the last %d days first.", r.Thresholds.RecentLeaverDay),
		Header: append([]string{"Deactivated (last change)"}, tokenHeader...)}
	for _, lv := range r.Leavers {
		for _, t := range lv.Tokens {
			l.Rows = append(l.Rows, append([]string{fmtSeconds(lv.DeactivatedAt)}, tokenCells(t)...))
		}
	}
	if r.MoreLeavers > 0 {
		l.Note += fmt.Sprintf(" %d more users are left out.", r.MoreLeavers)
	}
	out = append(out, l)
	out = append(out, anomalySection(r))
	out = append(out, postureSection(r))
	s := section{ID: anchor(r.Org, "stale"), Title: "Stale authorizations", Note: fmt.Sprintf("Unused for more than %d days, the longest unused first.", r.Thresholds.StaleAfterDays), Header: tokenHeader}
	for _, t := range r.Stale {
		s.Rows = append(s.Rows, tokenCells(t))
	}
	if r.MoreStale > 0 {
		s.Note += fmt.Sprintf(" %d more are left out.", r.MoreStale)
	}
	out = append(out, s)
	out = append(out, appSection(anchor(r.Org, "inventory"), "Inventory", "Every app seen, the most users first, with its owner and purpose from the inventory.", r.Inventory))
	note := "Apps with tokens or traffic that the baseline report did not list."
	if r.Baseline == nil {
		note = "No baseline: this is the first review, so nothing is compared."
	} else {
		note += " Baseline: " + r.Baseline.File + " of " + fmtTime(r.Baseline.GeneratedAt) + "."
	}
	out = append(out, appSection(anchor(r.Org, "new"), "New since the baseline", note, r.NewSinceBaseline))
	if r.Baseline != nil {
		out = append(out, appSection(anchor(r.Org, "gone"), "Gone since the baseline", "Apps the baseline listed with tokens or traffic that are gone now.", r.GoneSinceBaseline))
		g := section{ID: anchor(r.Org, "grown"), Title: "Grown since the baseline", Note: fmt.Sprintf("Users grew by at least half and by at least %d.", grownMinUsers),
			Header: []string{"App", "Users then", "Users now", "Tokens then", "Tokens now"}}
		for _, a := range r.GrownSinceBaseline {
			g.Rows = append(g.Rows, []string{displayApp(a.App), num(a.BaselineUsers), num(a.Users), num(a.BaselineTokens), num(a.Tokens)})
		}
		out = append(out, g)
	}
	out = append(out, appSection(anchor(r.Org, "recent"), fmt.Sprintf("First authorized in the last %d days", r.Thresholds.NewWithinDays), "", r.NewRecently))
	out = append(out, appSection(anchor(r.Org, "abandoned"), "High user count, low usage (maybe abandoned)",
		fmt.Sprintf("At least %d users and at most %d API requests in 7 days.", r.Thresholds.HighUsers, r.Thresholds.LowUse7d), r.HighUsersLowUse))
	out = append(out, appSection(anchor(r.Org, "service"), "Low user count, high usage (service account with broad access)",
		fmt.Sprintf("At most %d users and at least %d API requests in 7 days.", r.Thresholds.LowUsers, r.Thresholds.HighUse7d), r.LowUsersHighUse))
	out = append(out, appSection(anchor(r.Org, "notinstalled"), "Apps not installed, with tokens", "", r.NotInstalled))
	out = append(out, legacySection(r))
	return out
}

func header(r *Report) []string {
	lines := []string{
		"Generated: " + fmtSeconds(r.GeneratedAt),
		"Data as of: " + fmtSeconds(r.DataAsOf) + " (API usage data ends " + fmtSeconds(r.APIUsageEnd) + ")",
		fmt.Sprintf("API calls spent: %d", r.APICalls),
	}
	if d := r.Detail; d != nil {
		line := "Per-user detail: "
		if d.Taken.IsZero() {
			line += "not read yet"
		} else {
			line += fmt.Sprintf("read %s (%s old)", fmtSeconds(d.Taken), humanDuration(r.GeneratedAt.Sub(d.Taken)))
		}
		if !d.RefreshingSince.IsZero() {
			line += fmt.Sprintf("; refreshing: a new read started %s ago", humanDuration(r.GeneratedAt.Sub(d.RefreshingSince)))
		}
		if d.LastError != "" {
			line += "; the latest read failed (" + d.LastError + "), next attempt after " + fmtSeconds(d.RetryAfter)
		}
		lines = append(lines, line)
	}
	for _, n := range r.Notes {
		lines = append(lines, "Note: "+n)
	}
	return lines
}

// health is an org's state in a word.
func health(r *Report) string {
	var down []string
	for _, name := range slices.Sorted(maps.Keys(r.Sources)) {
		if !r.Sources[name].Up {
			down = append(down, name)
		}
	}
	if len(down) > 0 {
		return "degraded: " + strings.Join(down, ", ") + " failing"
	}
	return "ok"
}

func countSev(r *Report, sev string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// summary is the table across orgs.
func summary(reports []*Report) section {
	s := section{ID: "summary", Title: "Summary", Header: []string{"Org", "Critical", "Warning", "Info", "Apps", "Unknown apps", "Deactivated users with tokens", "Stale tokens", "Data as of", "Health"}}
	for _, r := range reports {
		s.Rows = append(s.Rows, []string{r.Org, strconv.Itoa(countSev(r, SeverityCritical)), strconv.Itoa(countSev(r, SeverityWarning)), strconv.Itoa(countSev(r, SeverityInfo)),
			strconv.Itoa(len(r.Inventory)), strconv.Itoa(len(r.Unknown)), strconv.Itoa(len(r.Leavers)), strconv.Itoa(len(r.Stale)), fmtSeconds(r.DataAsOf), health(r)})
	}
	return s
}

func allFindings(reports []*Report) []Finding {
	var fs []Finding
	for _, r := range reports {
		fs = append(fs, r.Findings...)
	}
	slices.SortStableFunc(fs, compareFindings)
	return fs
}

func findingLines(f Finding) (evidence []string, cmds [][2]string) {
	evidence = f.Evidence
	if f.Command != "" {
		cmds = append(cmds, [2]string{"Dry run", f.Command}, [2]string{"Apply", f.ConfirmCommand})
	}
	return evidence, cmds
}
