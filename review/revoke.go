package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Selector picks tokens to revoke. A token is picked when it matches every
// criterion given; at least one must be given.
type Selector struct {
	Apps          []string // app names (case-insensitive)
	Users         []string // usernames (case-insensitive) or user Ids (15 or 18 characters)
	Stale         bool
	InactiveUsers bool
	StaleAfter    time.Duration
}

// Empty reports whether no criterion was given.
func (s Selector) Empty() bool {
	return len(s.Apps) == 0 && len(s.Users) == 0 && !s.Stale && !s.InactiveUsers
}

func (s Selector) match(t salesforce.RevocableToken, now time.Time) bool {
	if len(s.Apps) > 0 && !slices.ContainsFunc(s.Apps, func(a string) bool { return strings.EqualFold(strings.TrimSpace(a), t.AppName) }) {
		return false
	}
	if len(s.Users) > 0 && !slices.ContainsFunc(s.Users, func(u string) bool {
		u = strings.TrimSpace(u)
		return strings.EqualFold(u, t.Username()) || (len(u) >= 15 && len(t.UserID) >= 15 && u[:15] == t.UserID[:15])
	}) {
		return false
	}
	if s.InactiveUsers && t.UserActive() {
		return false
	}
	if s.Stale {
		ref := t.LastUsedDate.Time
		if ref.IsZero() {
			ref = t.CreatedDate.Time
		}
		if now.Sub(ref) <= s.StaleAfter {
			return false
		}
	}
	return true
}

// RevokeOptions control a revocation run.
type RevokeOptions struct {
	Org     string
	Confirm bool
	// Rate is the most revocations per second.
	Rate float64
	// Audit receives one JSON line per action; nil for none.
	Audit io.Writer
	Out   io.Writer
	// Concurrency bounds the token fetch.
	Concurrency int
}

// RevokeSummary counts outcomes.
type RevokeSummary struct {
	Selected, Revoked, AlreadyGone, Failed int
}

// auditEntry is one line of the audit log. It never holds a token.
type auditEntry struct {
	Time         time.Time `json:"time"`
	Org          string    `json:"org"`
	App          string    `json:"app"`
	User         string    `json:"user"`
	UserID       string    `json:"user_id"`
	AuthorizedAt time.Time `json:"authorized_at"`
	Outcome      string    `json:"outcome"` // revoked, already_revoked, failed
	Error        string    `json:"error,omitempty"`
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
		return sum, errors.New("nothing selected: give --app, --user, --stale or --inactive-users (revoking every token of the org is not offered)")
	}
	var picked []salesforce.RevocableToken
	now := time.Time{}
	_, err := c.RevocableTokens(ctx, salesforce.TokenQuery{Concurrency: o.Concurrency}, func(t salesforce.RevocableToken) {
		if now.IsZero() {
			now = c.ServerNow()
		}
		if sel.match(t, now) {
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
	fmt.Fprintln(tw, "App\tUser\tAuthorized\tLast used\tUses\tUser active")
	perApp, perUser := map[string]int{}, map[string]int{}
	for _, t := range picked {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", visible(oneLine(t.AppName)), visible(t.Username()), fmtSeconds(t.CreatedDate.Time), fmtSeconds(t.LastUsedDate.Time), t.UseCount, yes(t.UserActive()))
		perApp[t.AppName]++
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
	counts("Tokens per app", perApp)
	counts("Tokens per user", perUser)
	if !o.Confirm {
		return sum, nil
	}
	fmt.Fprintln(out)
	rate := o.Rate
	if rate <= 0 {
		rate = 5
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	enc := json.NewEncoder(io.Discard)
	if o.Audit != nil {
		enc = json.NewEncoder(o.Audit)
	}
	for i, t := range picked {
		if i > 0 {
			select {
			case <-ctx.Done():
				return sum, ctx.Err()
			case <-tick.C:
			}
		}
		e := auditEntry{Org: o.Org, App: t.AppName, User: t.Username(), UserID: t.UserID, AuthorizedAt: t.CreatedDate.Time}
		err := c.Revoke(ctx, t.DeleteToken.Reveal())
		var apiErr *salesforce.APIError
		switch {
		case err == nil:
			e.Outcome = "revoked"
			sum.Revoked++
		case errors.As(err, &apiErr) && apiErr.StatusCode == 400 && apiErr.Code() == "invalid_token":
			e.Outcome = "already_revoked"
			sum.AlreadyGone++
		default:
			e.Outcome, e.Error = "failed", err.Error()
			sum.Failed++
		}
		e.Time = time.Now().UTC()
		if err := enc.Encode(e); err != nil {
			return sum, fmt.Errorf("write audit log: %w", err)
		}
		fmt.Fprintf(out, "%-15s %s  %s  authorized %s\n", e.Outcome, visible(t.AppName), visible(t.Username()), fmtSeconds(t.CreatedDate.Time))
	}
	fmt.Fprintf(out, "\nRevoked %d, already gone %d, failed %d of %d.\n", sum.Revoked, sum.AlreadyGone, sum.Failed, sum.Selected)
	if sum.Failed > 0 {
		fmt.Fprintln(out, "Some revocations failed: run the same command again to finish; tokens already revoked are not selected again.")
		return sum, fmt.Errorf("%d of %d revocations failed", sum.Failed, sum.Selected)
	}
	return sum, nil
}
