package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// revoker is a confirmed run's revocations: its summary so far, the
// revocations waiting for their check, and the error of a failed login,
// after which it stops.
type revoker struct {
	ctx  context.Context
	c    *salesforce.Client
	o    RevokeOptions
	out  io.Writer
	apps *appIndex
	same map[string]int // see selectTokens
	sum  RevokeSummary

	batch   []pendingCheck
	stopErr string
}

// A revocation is confirmed by the token missing from OauthToken. Tokens
// with an Id are confirmed together, up to confirmBatch by one query, not
// by a COUNT() each: a run over thousands of tokens would otherwise spend
// as many API requests of the org's daily allocation. A token without an
// Id is confirmed alone (by its user, app and second), once the tokens
// before it are.
type pendingCheck struct {
	t       salesforce.RevocableToken
	e       auditEntry
	token   string
	already bool   // the endpoint answered invalid_token
	answer  string // its error, then
}

// audit writes one audit line, synced when the writer can sync.
func (r *revoker) audit(e auditEntry) error {
	if r.o.Audit == nil {
		return nil
	}
	e.Time = time.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := r.o.Audit.Write(append(b, '\n')); err != nil {
		return err
	}
	if s, ok := r.o.Audit.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

// finish writes a token's outcome line and prints it.
func (r *revoker) finish(t salesforce.RevocableToken, e auditEntry, token string) error {
	e.Error = redactToken(e.Error, token)
	if err := r.audit(e); err != nil {
		return fmt.Errorf("write audit log: %w: stopped after %s of %s (outcome %s), whose outcome line is missing", err, t.Username(), appLabel(t.AppName), e.Outcome)
	}
	fmt.Fprintf(r.out, "%-15s %s  %s  authorized %s\n", e.Outcome, textsafe.Visible(appLabel(t.AppName)), textsafe.Visible(t.Username()), fmtSeconds(t.CreatedDate.Time))
	return nil
}

// settle sets a checked token's outcome: gone, or the check's error.
func (r *revoker) settle(p *pendingCheck, gone bool, cerr error) {
	what := "the revoke endpoint answered as it does when it works"
	if p.already {
		what = "the revoke endpoint answered invalid_token"
	}
	switch {
	case cerr != nil:
		p.e.Outcome, p.e.Error = "failed", what+", but the check that the token is gone failed: "+cerr.Error()
		r.sum.Failed++
	case gone && p.already:
		p.e.Outcome = "already_revoked"
		r.sum.AlreadyGone++
		r.same[sameKey(p.t)]--
	case gone:
		p.e.Outcome = "revoked"
		r.sum.Revoked++
		r.same[sameKey(p.t)]--
	default:
		p.e.Outcome, p.e.Error = "failed", what+", but the token is still there"
		if p.answer != "" {
			p.e.Error += ": " + p.answer
		}
		r.sum.Failed++
	}
}

// flush confirms the batch; it reports a failed login in the check.
func (r *revoker) flush() (stop bool, err error) {
	if len(r.batch) == 0 {
		return false, nil
	}
	ids := make([]string, len(r.batch))
	for i, p := range r.batch {
		ids[i] = p.t.ID
	}
	present, cerr := tokensPresent(r.ctx, r.c, ids)
	for i := range r.batch {
		p := &r.batch[i]
		if stop {
			// No more logins once one failed.
			r.settle(p, false, errors.New("not made, as the login to Salesforce failed"))
		} else if errors.Is(cerr, salesforce.ErrQueryRejected) {
			// The org refuses a filter on Id: by user, app and second.
			gone, err := tokenGone(r.ctx, r.c, p.t, r.same[sameKey(p.t)])
			r.settle(p, gone, err)
			stop = stop || loginFailed(err)
		} else {
			r.settle(p, cerr == nil && !present[salesforce.ID(p.t.ID).Key()], cerr)
			stop = stop || loginFailed(cerr)
		}
		if stop && r.stopErr == "" {
			r.stopErr = redactToken(p.e.Error, p.token)
		}
		if err := r.finish(p.t, p.e, p.token); err != nil {
			r.batch = nil
			return stop, err
		}
	}
	r.batch = r.batch[:0]
	return stop, nil
}

// revokeAll revokes the picked tokens at the run's rate until the first
// failed login, and returns how many it attempted.
func (r *revoker) revokeAll(picked []salesforce.RevocableToken) (attempted int, err error) {
	rate := r.o.Rate
	if !(rate > 0) || rate > 1000 { // NaN and ±Inf included
		rate = 5
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i, t := range picked {
		if i > 0 {
			select {
			case <-r.ctx.Done():
				// The outcome lines of the revocations made are written,
				// as failures of their check.
				if _, err := r.flush(); err != nil {
					return attempted, err
				}
				return attempted, r.ctx.Err()
			case <-tick.C:
			}
		}
		if t.ID == "" {
			// Confirmed by the counts of its user, app and second: the
			// tokens before it must be settled first.
			stop, err := r.flush()
			if err != nil {
				return attempted, err
			}
			if stop {
				break
			}
		}
		attempted = i + 1
		if err := r.revokeOne(t, i == len(picked)-1); err != nil {
			return attempted, err
		}
		if r.stopErr != "" {
			break
		}
	}
	if _, err := r.flush(); err != nil {
		return attempted, err
	}
	return attempted, nil
}

// revokeOne writes a token's intent line, revokes it, and settles its
// outcome, or adds it to the batch to be checked (checked at once when the
// batch is full or t is the last token).
func (r *revoker) revokeOne(t salesforce.RevocableToken, last bool) error {
	e := auditEntry{Org: r.o.Org, App: t.AppName, AppID: r.apps.appIDOf(t), User: t.Username(), UserID: t.UserID, AuthorizedAt: t.CreatedDate.Time, TokenID: t.ID, Outcome: "revoking"}
	// The intent is on disk before the token can go, so no revocation
	// is ever missing from the audit log.
	if err := r.audit(e); err != nil {
		if _, ferr := r.flush(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("write audit log: %w: stopped before revoking %s of %s; nothing more was revoked", err, t.Username(), appLabel(t.AppName))
	}
	token := t.DeleteToken.Reveal()
	err := r.c.Revoke(r.ctx, token)
	var apiErr *salesforce.APIError
	p := pendingCheck{t: t, e: e, token: token}
	switch {
	case loginFailed(err):
		// Every further request would log in again and fail again: with
		// the password flow, enough failures lock the account out. The
		// batch's check would log in too: its tokens are left failed.
		p.e.Outcome, p.e.Error = "failed", "the login to Salesforce failed, so the token could not be revoked: "+err.Error()
		r.sum.Failed++
		for _, q := range r.batch {
			q.e.Outcome, q.e.Error = "failed", "revoked or not: the check that the token is gone was not made, as the login to Salesforce failed"
			r.sum.Failed++
			if err := r.finish(q.t, q.e, q.token); err != nil {
				return err
			}
		}
		r.batch = nil
		if err := r.finish(t, p.e, token); err != nil {
			return err
		}
		r.stopErr = redactToken(p.e.Error, token)
	case err == nil || errors.As(err, &apiErr) && apiErr.Code() == "invalid_token":
		// A 200 with an empty body is what a revocation that worked
		// looks like, and invalid_token also answers a token the
		// endpoint could not parse: only the token missing from
		// OauthToken shows it went.
		if p.already = err != nil; p.already {
			p.answer = err.Error()
		}
		if t.ID == "" {
			gone, cerr := tokenGone(r.ctx, r.c, t, r.same[sameKey(t)])
			r.settle(&p, gone, cerr)
			if err := r.finish(t, p.e, token); err != nil {
				return err
			}
			if loginFailed(cerr) {
				r.stopErr = redactToken(p.e.Error, token)
			}
			return nil
		}
		r.batch = append(r.batch, p)
		if len(r.batch) < confirmBatch && !last {
			return nil
		}
		if _, err := r.flush(); err != nil {
			return err
		}
	default:
		p.e.Outcome, p.e.Error = "failed", err.Error()
		r.sum.Failed++
		if err := r.finish(t, p.e, token); err != nil {
			return err
		}
	}
	return nil
}

// report prints the run's outcome and returns its summary, with an error
// when a login failed (notAttempted tokens were left alone) or a
// revocation failed.
func (r *revoker) report(notAttempted int) (RevokeSummary, error) {
	sum, out := r.sum, r.out
	if r.stopErr != "" {
		sum.NotAttempted = notAttempted
		fmt.Fprintf(out, "\nStopped at the first failed login: %s\n", r.stopErr)
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
