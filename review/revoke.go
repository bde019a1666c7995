package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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
func Revoke(ctx context.Context, c *salesforce.Client, sel Selector, o RevokeOptions) (RevokeSummary, error) {
	var sum RevokeSummary
	if sel.Empty() {
		return sum, errors.New("nothing selected: give --app, --app-id, --user, --not-installed, --stale or --inactive-users (revoking every token of the org is not offered)")
	}
	// AppMenuItem gives each installed app's ConnectedApplication Id: the
	// app_id the metrics show, and what --app-id matches.
	items, err := c.AppMenuItems(ctx)
	if err != nil && (len(sel.AppIDs) > 0 || !errors.Is(err, salesforce.ErrForbidden)) {
		return sum, fmt.Errorf("read installed apps (needs View Setup and Configuration): %w", err)
	}
	appIDs := make(map[string]string, len(items))
	for _, it := range items {
		appIDs[it.ID] = it.ApplicationID
	}
	if sel.Stale {
		// A wrong org clock would pick by a wrong age: a Date header in 2099
		// once selected every token.
		limit := o.MaxClockSkew
		if limit <= 0 {
			limit = MaxRevokeClockSkew
		}
		// The skew is known from the Date header of the response above.
		if skew := c.ClockSkew(); skew > limit || skew < -limit {
			return sum, fmt.Errorf("the org's clock (its Date header) is %v from the local clock, more than %v: --stale would select by a wrong age; check the local clock (NTP) and any proxy in between", skew.Round(time.Second), limit)
		}
	}
	// An External Client App's tokens usually have no menu item: --app-id
	// with its 0xI Id picks them by the app's name, and --not-installed
	// leaves them out by it (the review counts them under the installed
	// app, never as a not-installed one).
	var ecaIDs map[string]string
	if sel.NotInstalled || slices.ContainsFunc(sel.AppIDs, salesforce.IsExternalClientAppID) {
		if ecaIDs, err = ecaIDsByName(ctx, c); err != nil {
			return sum, fmt.Errorf("read External Client Apps (needs View Setup and Configuration): %w", err)
		}
	}
	appIDOf := func(t salesforce.RevocableToken) string {
		if t.AppMenuItemID == "" {
			return ecaIDs[strings.ToLower(t.AppName)]
		}
		if id, ok := appIDs[t.AppMenuItemID]; ok {
			return id
		}
		return ""
	}
	// isECA reports whether t is an External Client App's: a menu item of
	// a 0xI app, or none and the name of one (or of several: then whose is
	// unknown, but not an uninstalled connected app's).
	isECA := func(t salesforce.RevocableToken) bool {
		if t.AppMenuItemID != "" {
			return salesforce.IsExternalClientAppID(appIDs[t.AppMenuItemID])
		}
		_, ok := ecaIDs[strings.ToLower(t.AppName)]
		return ok
	}
	var picked []salesforce.RevocableToken
	// same counts every token (picked or not) by user, app and CreatedDate
	// second: what a COUNT() can tell apart after the revoke endpoint says a
	// token is already gone.
	same := map[string]int{}
	now := time.Time{}
	_, err = c.RevocableTokens(ctx, salesforce.TokenQuery{Concurrency: o.Concurrency, Latest: true}, func(t salesforce.RevocableToken) {
		if now.IsZero() {
			now = c.ServerNow()
		}
		same[sameKey(t)]++
		if sel.match(t, appIDOf(t), isECA(t), now) {
			picked = append(picked, t)
		}
	})
	if err != nil && !errors.Is(err, salesforce.ErrCountMismatch) {
		return sum, fmt.Errorf("read tokens: %w", err)
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
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "App\tApp id\tInstalled\tUser\tAuthorized\tLast used\tUses\tUser active")
	perApp, perUser := map[string]int{}, map[string]int{}
	for _, t := range picked {
		id := appIDOf(t)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", visible(appLabel(t.AppName)), orDash(id), yes(t.AppMenuItemID != ""), visible(t.Username()), fmtSeconds(t.CreatedDate.Time), fmtSeconds(t.LastUsedDate.Time), t.UseCount, yes(t.UserActive()))
		perApp[appLabel(t.AppName)+"  "+orDash(id)]++
		perUser[t.Username()]++
	}
	tw.Flush()
	counts := func(title string, m map[string]int) {
		fmt.Fprintf(out, "\n%s:\n", title)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "  %6d  %s\n", m[k], visible(k))
		}
	}
	counts("Tokens per app (name, app id)", perApp)
	counts("Tokens per user", perUser)
	shared := sharedNames(sel, picked, appIDOf)
	for _, sh := range shared {
		fmt.Fprintf(out, "\nNote: %s names %d different apps: %s; use --app-id, or --not-installed for one not installed, to pick one.\n", visible(appLabel(sh.name)), len(sh.apps), visible(strings.Join(sh.apps, ", ")))
	}
	if !o.Confirm {
		also := ""
		if len(sel.Apps) > 0 && len(shared) > 0 {
			also = " --allow-shared-name" // refused without it
		}
		fmt.Fprintf(out, "\nTo revoke exactly these %d, run the same command with --confirm --expect=%d%s.\n", len(picked), len(picked), also)
		return sum, nil
	}
	// Refusals, before anything is revoked: the run acts only on what the
	// dry run listed, and a name picks one app.
	if o.Expect > 0 && len(picked) > o.Expect {
		return sum, fmt.Errorf("refusing to revoke: the selection now holds %d tokens, more than --expect=%d (new authorizations, or another app's tokens, since the dry run); nothing was revoked: run the dry run again, check what it lists, and give its count to --expect", len(picked), o.Expect)
	}
	if len(sel.Apps) > 0 && len(shared) > 0 && !o.AllowSharedName {
		var list []string
		for _, sh := range shared {
			list = append(list, fmt.Sprintf("%s: %s", appLabel(sh.name), strings.Join(sh.apps, ", ")))
		}
		return sum, fmt.Errorf("refusing to revoke: --app names several apps (%s); nothing was revoked: pick one with --app-id or --not-installed, or give --allow-shared-name to revoke the tokens of all of them", visible(strings.Join(list, "; ")))
	}
	fmt.Fprintln(out)
	rate := o.Rate
	if !(rate > 0) || rate > 1000 { // NaN and ±Inf included
		rate = 5
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	audit := func(e auditEntry) error {
		if o.Audit == nil {
			return nil
		}
		e.Time = time.Now().UTC()
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := o.Audit.Write(append(b, '\n')); err != nil {
			return err
		}
		if s, ok := o.Audit.(interface{ Sync() error }); ok {
			return s.Sync()
		}
		return nil
	}
	// A revocation is confirmed by the token missing from OauthToken. Tokens
	// with an Id are confirmed together, up to confirmBatch by one query,
	// not by a COUNT() each: a run over thousands of tokens would otherwise
	// spend as many API requests of the org's daily allocation. A token
	// without an Id is confirmed alone (by its user, app and second), once
	// the tokens before it are.
	type pendingCheck struct {
		t       salesforce.RevocableToken
		e       auditEntry
		token   string
		already bool   // the endpoint answered invalid_token
		answer  string // its error, then
	}
	var batch []pendingCheck
	// finish writes a token's outcome line and prints it.
	finish := func(t salesforce.RevocableToken, e auditEntry, token string) error {
		e.Error = redactToken(e.Error, token)
		if err := audit(e); err != nil {
			return fmt.Errorf("write audit log: %w: stopped after %s of %s (outcome %s), whose outcome line is missing", err, t.Username(), appLabel(t.AppName), e.Outcome)
		}
		fmt.Fprintf(out, "%-15s %s  %s  authorized %s\n", e.Outcome, visible(appLabel(t.AppName)), visible(t.Username()), fmtSeconds(t.CreatedDate.Time))
		return nil
	}
	// settle sets a checked token's outcome: gone, or the check's error.
	settle := func(p *pendingCheck, gone bool, cerr error) {
		what := "the revoke endpoint answered as it does when it works"
		if p.already {
			what = "the revoke endpoint answered invalid_token"
		}
		switch {
		case cerr != nil:
			p.e.Outcome, p.e.Error = "failed", what+", but the check that the token is gone failed: "+cerr.Error()
			sum.Failed++
		case gone && p.already:
			p.e.Outcome = "already_revoked"
			sum.AlreadyGone++
			same[sameKey(p.t)]--
		case gone:
			p.e.Outcome = "revoked"
			sum.Revoked++
			same[sameKey(p.t)]--
		default:
			p.e.Outcome, p.e.Error = "failed", what+", but the token is still there"
			if p.answer != "" {
				p.e.Error += ": " + p.answer
			}
			sum.Failed++
		}
	}
	// flush confirms the batch; it reports a failed login in the check.
	var stopErr string
	flush := func() (stop bool, err error) {
		if len(batch) == 0 {
			return false, nil
		}
		ids := make([]string, len(batch))
		for i, p := range batch {
			ids[i] = p.t.ID
		}
		present, cerr := tokensPresent(ctx, c, ids)
		for i := range batch {
			p := &batch[i]
			if stop {
				// No more logins once one failed.
				settle(p, false, errors.New("not made, as the login to Salesforce failed"))
			} else if errors.Is(cerr, salesforce.ErrQueryRejected) {
				// The org refuses a filter on Id: by user, app and second.
				gone, err := tokenGone(ctx, c, p.t, same[sameKey(p.t)])
				settle(p, gone, err)
				stop = stop || loginFailed(err)
			} else {
				settle(p, cerr == nil && !present[salesforce.ID(p.t.ID).Key()], cerr)
				stop = stop || loginFailed(cerr)
			}
			if stop && stopErr == "" {
				stopErr = redactToken(p.e.Error, p.token)
			}
			if err := finish(p.t, p.e, p.token); err != nil {
				batch = nil
				return stop, err
			}
		}
		batch = batch[:0]
		return stop, nil
	}
	attempted := 0
	for i, t := range picked {
		if i > 0 {
			select {
			case <-ctx.Done():
				// The outcome lines of the revocations made are written,
				// as failures of their check.
				if _, err := flush(); err != nil {
					return sum, err
				}
				return sum, ctx.Err()
			case <-tick.C:
			}
		}
		if t.ID == "" {
			// Confirmed by the counts of its user, app and second: the
			// tokens before it must be settled first.
			stop, err := flush()
			if err != nil {
				return sum, err
			}
			if stop {
				break
			}
		}
		attempted = i + 1
		e := auditEntry{Org: o.Org, App: t.AppName, AppID: appIDOf(t), User: t.Username(), UserID: t.UserID, AuthorizedAt: t.CreatedDate.Time, TokenID: t.ID, Outcome: "revoking"}
		// The intent is on disk before the token can go, so no revocation
		// is ever missing from the audit log.
		if err := audit(e); err != nil {
			if _, ferr := flush(); ferr != nil {
				return sum, ferr
			}
			return sum, fmt.Errorf("write audit log: %w: stopped before revoking %s of %s; nothing more was revoked", err, t.Username(), appLabel(t.AppName))
		}
		token := t.DeleteToken.Reveal()
		err := c.Revoke(ctx, token)
		var apiErr *salesforce.APIError
		p := pendingCheck{t: t, e: e, token: token}
		switch {
		case loginFailed(err):
			// Every further request would log in again and fail again: with
			// the password flow, enough failures lock the account out. The
			// batch's check would log in too: its tokens are left failed.
			p.e.Outcome, p.e.Error = "failed", "the login to Salesforce failed, so the token could not be revoked: "+err.Error()
			sum.Failed++
			for _, q := range batch {
				q.e.Outcome, q.e.Error = "failed", "revoked or not: the check that the token is gone was not made, as the login to Salesforce failed"
				sum.Failed++
				if err := finish(q.t, q.e, q.token); err != nil {
					return sum, err
				}
			}
			batch = nil
			if err := finish(t, p.e, token); err != nil {
				return sum, err
			}
			stopErr = redactToken(p.e.Error, token)
		case err == nil || errors.As(err, &apiErr) && apiErr.Code() == "invalid_token":
			// A 200 with an empty body is what a revocation that worked
			// looks like, and invalid_token also answers a token the
			// endpoint could not parse: only the token missing from
			// OauthToken shows it went.
			if p.already = err != nil; p.already {
				p.answer = err.Error()
			}
			if t.ID == "" {
				gone, cerr := tokenGone(ctx, c, t, same[sameKey(t)])
				settle(&p, gone, cerr)
				if err := finish(t, p.e, token); err != nil {
					return sum, err
				}
				if loginFailed(cerr) {
					stopErr = redactToken(p.e.Error, token)
				}
				break
			}
			batch = append(batch, p)
			if len(batch) < confirmBatch && i < len(picked)-1 {
				continue
			}
			if _, err := flush(); err != nil {
				return sum, err
			}
		default:
			p.e.Outcome, p.e.Error = "failed", err.Error()
			sum.Failed++
			if err := finish(t, p.e, token); err != nil {
				return sum, err
			}
		}
		if stopErr != "" {
			break
		}
	}
	if _, err := flush(); err != nil {
		return sum, err
	}
	if stopErr != "" {
		sum.NotAttempted = len(picked) - attempted
		fmt.Fprintf(out, "\nStopped at the first failed login: %s\n", stopErr)
	}
	fmt.Fprintf(out, "\nRevoked %d, already gone %d, failed %d, not attempted %d of %d.\n", sum.Revoked, sum.AlreadyGone, sum.Failed, sum.NotAttempted, sum.Selected)
	if sum.NotAttempted > 0 {
		fmt.Fprintln(out, "The login failed: fix the org's credentials (check runs the login alone), then run the same command again; tokens already revoked are not selected again.")
		return sum, fmt.Errorf("the login to Salesforce failed: stopped with %d of %d tokens not attempted", sum.NotAttempted, sum.Selected)
	}
	if sum.Failed > 0 {
		fmt.Fprintln(out, "Some revocations failed: run the same command again to finish; tokens already revoked are not selected again.")
		return sum, fmt.Errorf("%d of %d revocations failed", sum.Failed, sum.Selected)
	}
	return sum, nil
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

// confirmBatch is how many revoked tokens one query confirms gone.
const confirmBatch = 100

// tokensPresent reports which of the OauthToken Ids given are still listed
// (by 15-character key).
func tokensPresent(ctx context.Context, c *salesforce.Client, ids []string) (map[string]bool, error) {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = salesforce.Quote(id)
	}
	present := map[string]bool{}
	_, err := salesforce.Stream(ctx, c, "SELECT Id FROM OauthToken WHERE Id IN ("+strings.Join(quoted, ",")+")", func(r struct {
		ID string `json:"Id"`
	}) bool {
		present[salesforce.ID(r.ID).Key()] = true
		return true
	})
	if err != nil {
		return nil, err
	}
	return present, nil
}

// tokenGone reports whether t is no longer listed in OauthToken: by its Id
// where the org returns one, else (and when the org refuses a filter on Id)
// by whether fewer than before tokens now share t's user, app and
// CreatedDate second.
func tokenGone(ctx context.Context, c *salesforce.Client, t salesforce.RevocableToken, before int) (bool, error) {
	if t.ID != "" {
		n, err := c.Count(ctx, "SELECT COUNT() FROM OauthToken WHERE Id = "+salesforce.Quote(t.ID))
		if err == nil {
			return n == 0, nil
		}
		if !errors.Is(err, salesforce.ErrQueryRejected) {
			return false, err
		}
	}
	sec := t.CreatedDate.UTC().Truncate(time.Second)
	soql := "SELECT COUNT() FROM OauthToken WHERE UserId = " + salesforce.Quote(t.UserID) +
		" AND AppName = " + salesforce.Quote(t.AppName) +
		" AND CreatedDate >= " + salesforce.SOQLTime(sec) + " AND CreatedDate < " + salesforce.SOQLTime(sec.Add(time.Second))
	n, err := c.Count(ctx, soql)
	if err != nil {
		return false, err
	}
	return n < before, nil
}

// redactToken removes a token, raw or URL-encoded, from a message: an error
// body can echo the request.
func redactToken(msg, token string) string {
	if token == "" || msg == "" {
		return msg
	}
	for _, v := range []string{token, url.QueryEscape(token), url.PathEscape(token)} {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
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
