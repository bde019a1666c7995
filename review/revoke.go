package review

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Selector picks tokens to revoke. A token is picked when it matches every
// criterion given; at least one must be given.
type Selector struct {
	// Apps are app names as the metrics' app label shows them: compared whole
	// (leading and trailing spaces count), case-insensitively.
	Apps []string
	// AppIDs are ConnectedApplication Ids (the metrics' app_id) or
	// AppMenuItem Ids, 15 or 18 characters.
	AppIDs []string
	Users  []string // usernames (case-insensitive) or user Ids (15 or 18 characters)
	// NotInstalled picks only tokens of apps not installed in the org (no
	// AppMenuItem, and not an External Client App's, whose tokens usually
	// have none either): with Apps, the uninstalled app of a name and not an
	// installed one that shares it.
	NotInstalled  bool
	Stale         bool
	InactiveUsers bool
	StaleAfter    time.Duration
}

// Empty reports whether no criterion was given.
func (s Selector) Empty() bool {
	return len(s.Apps) == 0 && len(s.AppIDs) == 0 && len(s.Users) == 0 && !s.NotInstalled && !s.Stale && !s.InactiveUsers
}

// match reports whether sel picks t; appID is the ConnectedApplication Id of
// t's app ("" when it is not installed), and eca is set when t belongs to an
// External Client App (which is installed, menu item or not).
func (s Selector) match(t salesforce.RevocableToken, appID string, eca bool, now time.Time) bool {
	if len(s.Apps) > 0 && !slices.ContainsFunc(s.Apps, func(a string) bool { return nameMatches(a, t.AppName) }) {
		return false
	}
	if len(s.AppIDs) > 0 && !slices.ContainsFunc(s.AppIDs, func(id string) bool {
		id = strings.TrimSpace(id)
		return salesforce.ID(id).Same(salesforce.ID(appID)) || salesforce.ID(id).Same(salesforce.ID(t.AppMenuItemID))
	}) {
		return false
	}
	if len(s.Users) > 0 && !slices.ContainsFunc(s.Users, func(u string) bool {
		u = strings.TrimSpace(u)
		return strings.EqualFold(u, t.Username()) || (len(u) >= salesforce.IDKeyLength && salesforce.ID(u).Same(salesforce.ID(t.UserID)))
	}) {
		return false
	}
	if s.NotInstalled && (t.AppMenuItemID != "" || eca) {
		return false
	}
	if s.InactiveUsers && t.UserActive() {
		return false
	}
	if s.Stale && !salesforce.IsStale(t.LastUsedDate.Time, t.CreatedDate.Time, salesforce.StaleCutoff(now, s.StaleAfter)) {
		return false
	}
	return true
}

// nameMatches reports whether --app=a picks an app named name: whole,
// case-insensitively.
func nameMatches(a, name string) bool { return a == name || strings.EqualFold(a, name) }

// RevokeOptions control a revocation run.
type RevokeOptions struct {
	Org     string
	Confirm bool
	// Rate is the most revocations per second.
	Rate float64
	// Audit receives a JSON line before each revocation and one with its
	// outcome; nil for none. When it has a Sync method (an *os.File), each
	// line is synced before the revocation goes ahead or is reported.
	Audit io.Writer
	Out   io.Writer
	// Concurrency bounds the token fetch.
	Concurrency int
	// MaxClockSkew is how far the org's clock may be from the local one for
	// --stale to run (0: MaxRevokeClockSkew).
	MaxClockSkew time.Duration
	// Expect, when above 0, is the most tokens a confirmed run may
	// revoke: the count its dry run listed. A selection that has grown
	// since (new authorizations, a look-alike app's tokens) is refused
	// whole, and nothing is revoked.
	Expect int
	// AllowSharedName lets a confirmed run by app name revoke the tokens of
	// several apps that share the name; without it the run is refused.
	AllowSharedName bool
}

// RevokeSummary counts outcomes.
type RevokeSummary struct {
	Selected, Revoked, AlreadyGone, Failed int
	// NotAttempted counts the tokens left alone after a failed login.
	NotAttempted int
}

// auditEntry is one line of the audit log. It never holds a token.
type auditEntry struct {
	Time         time.Time `json:"time"`
	Org          string    `json:"org"`
	App          string    `json:"app"`
	User         string    `json:"user"`
	UserID       string    `json:"user_id"`
	AuthorizedAt time.Time `json:"authorized_at"`
	AppID        string    `json:"app_id,omitempty"`
	// TokenID is the OauthToken Id (not a credential), where the org returns it.
	TokenID string `json:"token_id,omitempty"`
	// Outcome is revoking (written before the request), revoked (the
	// endpoint answered as it does when it works and the token is no longer
	// listed), already_revoked, or failed.
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// Revoke lists the tokens sel picks and, with Confirm, revokes each at the
// revoke endpoint with its DeleteToken, at most Rate a second, and appends an
// audit line per token. A token already gone counts as done, so running the
// command again after a partial failure finishes the job without revoking
// anything twice.
//
// Salesforce has no API for Setup's Block button; revoking every token of an
// app is the nearest equivalent, and users can authorize it again.
//
// The steps: read the installed apps (and, for --stale, check the org's
// clock), read the External Client Apps where the selection needs them,
// select the tokens, list them, refuse a selection that grew since the dry
// run or a name that covers several apps, revoke and confirm each, and
// report.
func Revoke(ctx context.Context, c *salesforce.Client, sel Selector, o RevokeOptions) (RevokeSummary, error) {
	var sum RevokeSummary
	if sel.Empty() {
		return sum, errors.New("nothing selected: give --app, --app-id, --user, --not-installed, --stale or --inactive-users (revoking every token of the org is not offered)")
	}
	apps, err := readInstalledApps(ctx, c, sel)
	if err != nil {
		return sum, err
	}
	if sel.Stale {
		if err := checkOrgClock(c, o); err != nil {
			return sum, err
		}
	}
	if err := apps.readECAs(ctx, c, sel); err != nil {
		return sum, err
	}
	picked, same, err := selectTokens(ctx, c, sel, o, apps)
	if err != nil {
		return sum, err
	}
	sum.Selected = len(picked)
	out := o.Out
	mode := "DRY RUN: nothing is revoked; add --confirm to revoke"
	if o.Confirm {
		mode = "REVOKING"
	}
	fmt.Fprintf(out, "%s: %d token(s) in org %s\n\n", mode, len(picked), o.Org)
	if len(picked) == 0 {
		return sum, nil
	}
	printSelection(out, picked, apps)
	shared := sharedNames(sel, picked, apps.appIDOf)
	for _, sh := range shared {
		fmt.Fprintf(out, "\nNote: %s names %d different apps: %s; use --app-id, or --not-installed for one not installed, to pick one.\n", textsafe.Visible(appLabel(sh.name)), len(sh.apps), textsafe.Visible(strings.Join(sh.apps, ", ")))
	}
	if !o.Confirm {
		also := ""
		if len(sel.Apps) > 0 && len(shared) > 0 {
			also = " --allow-shared-name" // refused without it
		}
		fmt.Fprintf(out, "\nTo revoke exactly these %d, run the same command with --confirm --expect=%d%s.\n", len(picked), len(picked), also)
		return sum, nil
	}
	if err := refuseRevoke(sel, o, picked, shared); err != nil {
		return sum, err
	}
	fmt.Fprintln(out)
	r := &revoker{ctx: ctx, c: c, o: o, out: out, apps: apps, same: same, sum: sum}
	attempted, err := r.revokeAll(picked)
	if err != nil {
		return r.sum, err
	}
	return r.report(len(picked) - attempted)
}

// appIndex gives the app Id of a token: AppMenuItem gives each installed
// app's ConnectedApplication Id (the app_id the metrics show, and what
// --app-id matches), and an External Client App's tokens, which usually
// have no menu item, are known by the app's name.
type appIndex struct {
	appIDs map[string]string // by menu item Id
	ecaIDs map[string]string // by lower-case name; nil when not read
}

// readInstalledApps reads the menu items. An org that refuses them leaves
// the index empty, unless the selection is by app Id.
func readInstalledApps(ctx context.Context, c *salesforce.Client, sel Selector) (*appIndex, error) {
	items, err := c.AppMenuItems(ctx)
	if err != nil && (len(sel.AppIDs) > 0 || !errors.Is(err, salesforce.ErrForbidden)) {
		return nil, fmt.Errorf("read installed apps (needs View Setup and Configuration): %w", err)
	}
	appIDs := make(map[string]string, len(items))
	for _, it := range items {
		appIDs[it.ID] = it.ApplicationID
	}
	return &appIndex{appIDs: appIDs}, nil
}

// checkOrgClock refuses --stale when the org's clock is far from the local
// one: a wrong org clock would pick by a wrong age (a Date header in 2099
// once selected every token). The skew is known from the Date header of the
// last response.
func checkOrgClock(c *salesforce.Client, o RevokeOptions) error {
	limit := o.MaxClockSkew
	if limit <= 0 {
		limit = MaxRevokeClockSkew
	}
	if skew := c.ClockSkew(); skew > limit || skew < -limit {
		return fmt.Errorf("the org's clock (its Date header) is %v from the local clock, more than %v: --stale would select by a wrong age; check the local clock (NTP) and any proxy in between", skew.Round(time.Second), limit)
	}
	return nil
}

// readECAs reads the External Client Apps when the selection needs them:
// --app-id with an app's 0xI Id picks its tokens by the app's name, and
// --not-installed leaves them out by it (the review counts them under the
// installed app, never as a not-installed one).
func (x *appIndex) readECAs(ctx context.Context, c *salesforce.Client, sel Selector) error {
	if !sel.NotInstalled && !slices.ContainsFunc(sel.AppIDs, salesforce.IsExternalClientAppID) {
		return nil
	}
	ids, err := ecaIDsByName(ctx, c)
	if err != nil {
		return fmt.Errorf("read External Client Apps (needs View Setup and Configuration): %w", err)
	}
	x.ecaIDs = ids
	return nil
}

// appIDOf is the app Id of t, or "" when unknown.
func (x *appIndex) appIDOf(t salesforce.RevocableToken) string {
	if t.AppMenuItemID == "" {
		return x.ecaIDs[strings.ToLower(t.AppName)]
	}
	if id, ok := x.appIDs[t.AppMenuItemID]; ok {
		return id
	}
	return ""
}

// isECA reports whether t is an External Client App's: a menu item of a 0xI
// app, or none and the name of one (or of several: then whose is unknown,
// but not an uninstalled connected app's).
func (x *appIndex) isECA(t salesforce.RevocableToken) bool {
	if t.AppMenuItemID != "" {
		return salesforce.IsExternalClientAppID(x.appIDs[t.AppMenuItemID])
	}
	_, ok := x.ecaIDs[strings.ToLower(t.AppName)]
	return ok
}

// selectTokens reads every token and returns those sel picks, by app name,
// user and authorization time, with same: every token (picked or not)
// counted by user, app and CreatedDate second, what a COUNT() can tell
// apart after the revoke endpoint says a token is already gone.
func selectTokens(ctx context.Context, c *salesforce.Client, sel Selector, o RevokeOptions, apps *appIndex) ([]salesforce.RevocableToken, map[string]int, error) {
	var picked []salesforce.RevocableToken
	same := map[string]int{}
	now := time.Time{}
	_, err := c.RevocableTokens(ctx, salesforce.TokenQuery{Concurrency: o.Concurrency, Latest: true}, func(t salesforce.RevocableToken) {
		if now.IsZero() {
			now = c.ServerNow()
		}
		same[sameKey(t)]++
		if sel.match(t, apps.appIDOf(t), apps.isECA(t), now) {
			picked = append(picked, t)
		}
	})
	if err != nil && !errors.Is(err, salesforce.ErrCountMismatch) {
		return nil, nil, fmt.Errorf("read tokens: %w", err)
	}
	slices.SortFunc(picked, func(a, b salesforce.RevocableToken) int {
		if c := strings.Compare(a.AppName, b.AppName); c != 0 {
			return c
		}
		if c := strings.Compare(a.Username(), b.Username()); c != 0 {
			return c
		}
		return a.CreatedDate.Compare(b.CreatedDate.Time)
	})
	return picked, same, nil
}

// printSelection lists the picked tokens, then their counts per app and
// per user.
func printSelection(out io.Writer, picked []salesforce.RevocableToken, apps *appIndex) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "App\tApp id\tInstalled\tUser\tAuthorized\tLast used\tUses\tUser active")
	perApp, perUser := map[string]int{}, map[string]int{}
	for _, t := range picked {
		id := apps.appIDOf(t)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", textsafe.Visible(appLabel(t.AppName)), orDash(id), yes(t.AppMenuItemID != ""), textsafe.Visible(t.Username()), fmtSeconds(t.CreatedDate.Time), fmtSeconds(t.LastUsedDate.Time), t.UseCount, yes(t.UserActive()))
		perApp[appLabel(t.AppName)+"  "+orDash(id)]++
		perUser[t.Username()]++
	}
	tw.Flush()
	counts := func(title string, m map[string]int) {
		fmt.Fprintf(out, "\n%s:\n", title)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(out, "  %6d  %s\n", m[k], textsafe.Visible(k))
		}
	}
	counts("Tokens per app (name, app id)", perApp)
	counts("Tokens per user", perUser)
}

// refuseRevoke gives the refusals made before anything is revoked: the run
// acts only on what the dry run listed, and a name picks one app.
func refuseRevoke(sel Selector, o RevokeOptions, picked []salesforce.RevocableToken, shared []sharedName) error {
	if o.Expect > 0 && len(picked) > o.Expect {
		return fmt.Errorf("refusing to revoke: the selection now holds %d tokens, more than --expect=%d (new authorizations, or another app's tokens, since the dry run); nothing was revoked: run the dry run again, check what it lists, and give its count to --expect", len(picked), o.Expect)
	}
	if len(sel.Apps) > 0 && len(shared) > 0 && !o.AllowSharedName {
		var list []string
		for _, sh := range shared {
			list = append(list, fmt.Sprintf("%s: %s", appLabel(sh.name), strings.Join(sh.apps, ", ")))
		}
		return fmt.Errorf("refusing to revoke: --app names several apps (%s); nothing was revoked: pick one with --app-id or --not-installed, or give --allow-shared-name to revoke the tokens of all of them", textsafe.Visible(strings.Join(list, "; ")))
	}
	return nil
}

// loginFailed reports whether err is a failed login (the OAuth token
// request), after which revoke stops.
func loginFailed(err error) bool {
	var authErr *salesforce.AuthError
	return errors.As(err, &authErr)
}

// sharedName is a name that picked several apps.
type sharedName struct {
	name string
	apps []string // each app's name and identity, sorted
}

// sharedNames lists the names under which picked holds tokens of several
// apps: each --app given (it matches names case-insensitively, so an
// approved "Data Loader" and a look-alike "data loader" are both picked),
// or, without --app, each exact app name.
func sharedNames(sel Selector, picked []salesforce.RevocableToken, appIDOf func(salesforce.RevocableToken) string) []sharedName {
	names := sel.Apps
	match := nameMatches
	if len(names) == 0 {
		seen := map[string]bool{}
		for _, t := range picked {
			if !seen[t.AppName] {
				seen[t.AppName] = true
				names = append(names, t.AppName)
			}
		}
		slices.Sort(names)
		match = func(a, name string) bool { return a == name }
	}
	var out []sharedName
	for _, n := range names {
		apps := map[string]bool{}
		for _, t := range picked {
			if match(n, t.AppName) {
				apps[appLabel(t.AppName)+" ("+appIdentity(t, appIDOf(t))+")"] = true
			}
		}
		if len(apps) > 1 {
			out = append(out, sharedName{name: n, apps: slices.Sorted(maps.Keys(apps))})
		}
	}
	return out
}

// appIdentity names the app a token belongs to, for telling same-named
// apps apart: its ConnectedApplication Id, else its AppMenuItem Id, else
// "not installed".
func appIdentity(t salesforce.RevocableToken, appID string) string {
	switch {
	case appID != "":
		return appID
	case t.AppMenuItemID != "":
		return t.AppMenuItemID
	}
	return "not installed"
}

// MaxRevokeClockSkew is how far the org's clock may be from the local one for
// revoke --stale to run.
const MaxRevokeClockSkew = time.Hour

// sameKey groups tokens a COUNT() cannot tell apart: user, app and the
// CreatedDate second.
func sameKey(t salesforce.RevocableToken) string {
	return t.UserID + "\x00" + t.AppName + "\x00" + salesforce.SOQLTime(t.CreatedDate.Time)
}

// appLabel shows an app name on one line, quoted when spaces at its ends or
// inside would otherwise be lost.
func appLabel(name string) string {
	if l := oneLine(name); l != name || name == "" {
		return strconv.Quote(name)
	}
	return name
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
