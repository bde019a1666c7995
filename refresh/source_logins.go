package refresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// loginEvent is one OAuth login kept for the 24-hour window.
type loginEvent struct {
	at  int64 // Unix ms
	id  string
	app string
	ok  bool
	// The address and user feed the detection baseline (and the review), never a metric.
	ip, user string
	flow     salesforce.LoginFlow
	// oauth marks an OAuth login; the others kept are SOAP login() calls,
	// which count only by flow.
	oauth bool
}

// key tells one LoginHistory row from another: its Id, or, for a row
// without one (no real org sends such), its contents, so that two such rows
// alike in every field count once.
func (ev loginEvent) key() string {
	if ev.id != "" {
		return ev.id
	}
	return fmt.Sprintf("%d|%s|%s|%s|%t", ev.at, ev.user, ev.app, ev.ip, ev.ok)
}

// loginsOverlap is how far before its watermark the logins source reads
// again. Salesforce writes a LoginHistory row a little after the login, so
// a row can appear after a read with a LoginTime before the newest row that
// read returned; the rows read twice are told apart by Id. A row written
// more than this long after its login is missed.
const loginsOverlap = 5 * time.Minute

// loginsSource counts OAuth logins (LoginHistory) per app over the last 24
// hours, reading only what is new since its watermark.
type loginsSource struct {
	events []loginEvent
	wm     time.Time
	counts map[string][2]int64 // success, failure; nil until the first success
	flows  *snapshot.LoginFlowParts
	vis    visibilityCheck
	// noSubType is set once LoginSubType answered INVALID_FIELD: the
	// source reads without it, and OAuth logins count under the unknown flow.
	noSubType bool
}

// loginsPermission is what LoginHistory needs to show every user's logins.
const loginsPermission = "Manage Users or Monitor Login History"

// loginsSpec declares the logins source.
var loginsSpec = Spec{
	Name:          config.SourceLogins,
	Permission:    "Manage Users (or Monitor Login History)",
	HasPermission: salesforce.UserPermissions.SeesAllLogins,
	SeesAll:       salesforce.UserPermissions.SeesAllLogins,
	Missing:       loginsPermission,
	Probe:         probeLogins,
	Resources:     []string{"query:LoginHistory"},
	newSource:     func() source { return &loginsSource{} },
}

// probeLogins counts the last 24 hours' logins of the org's clock, as the
// logins source reckons them (the local clock may be skewed). A refresh
// reads what is new, so the day's rows are read once, in pages of 2,000.
func probeLogins(ctx context.Context, c *salesforce.Client, _ ProbeInput) (ProbeResult, error) {
	since := salesforce.SOQLTime(c.ServerNow().Add(-24 * time.Hour))
	n, err := c.Count(ctx, "SELECT COUNT() FROM LoginHistory WHERE LoginTime >= "+since)
	if err != nil {
		return ProbeResult{}, err
	}
	r := ProbeResult{Rows: ptr(n), Cost: Cost{PerRefresh: 1, PerDay: float64(n) / 2000}}
	// The flow of each login needs LoginSubType, which an org or API
	// version may lack: the source then counts OAuth logins as flow unknown.
	sub, err := c.Count(ctx, "SELECT COUNT() FROM LoginHistory WHERE LoginSubType != null AND LoginTime >= "+since)
	switch {
	case errors.Is(err, salesforce.ErrInvalidField):
		r.Notes = append(r.Notes, "LoginHistory.LoginSubType is not readable (INVALID_FIELD) in this org or API version: logins count under flow=\"unknown\", and the review lists only SOAP login() calls as legacy authentication; a newer api_version may have it")
	case err != nil:
		return ProbeResult{}, fmt.Errorf("count LoginHistory rows with a LoginSubType: %w", err)
	default:
		r.Notes = append(r.Notes, fmt.Sprintf("LoginHistory.LoginSubType is readable: %d of the last 24 hours' %d logins carry a flow", sub, n))
	}
	return r, nil
}

func (s *loginsSource) refresh(ctx context.Context, e *env) error {
	now := e.client.ServerNow()
	windowStart := now.Add(-24 * time.Hour)
	since := windowStart
	if again := s.wm.Add(-loginsOverlap); again.After(since) {
		since = again
	}
	// A SOQL datetime is whole seconds: the query reads from since's second.
	since = since.Truncate(time.Second)
	seen := map[string]bool{}
	for _, ev := range s.events {
		if ev.at >= since.UnixMilli() {
			seen[ev.key()] = true
		}
	}
	var fresh []loginEvent
	var newest int64
	read := func(l salesforce.LoginHistory) {
		ms := l.LoginTime.UnixMilli()
		newest = max(newest, ms)
		flow, counted := l.Flow()
		oauth := salesforce.IsOAuthLogin(l.LoginType)
		if !counted || oauth && l.Application == "" {
			return
		}
		ev := loginEvent{at: ms, id: l.ID, app: l.Application, ok: l.Status == "Success", ip: l.SourceIP, user: l.UserID, flow: flow, oauth: oauth}
		if k := ev.key(); !seen[k] {
			seen[k] = true
			fresh = append(fresh, ev)
		}
	}
	err := e.client.Logins(ctx, since, salesforce.LoginsOptions{NoSubType: s.noSubType}, read)
	if err != nil && !s.noSubType && errors.Is(err, salesforce.ErrInvalidField) && len(fresh) == 0 && newest == 0 {
		// An org or API version without LoginSubType: read on without it.
		e.logger.Warn("LoginHistory.LoginSubType is not readable (INVALID_FIELD); OAuth logins count under flow=\"unknown\" until the exporter restarts", "err", err)
		s.noSubType = true
		err = e.client.Logins(ctx, since, salesforce.LoginsOptions{NoSubType: true}, read)
	}
	if err != nil {
		return permissionError(err, loginsPermission)
	}
	s.vis.update(ctx, e, now, &loginsSpec)
	// The overlap re-read rows kept from the last reads: fresh holds only
	// the rows not seen before.
	kept := s.events[:0]
	for _, ev := range s.events {
		if ev.at >= windowStart.UnixMilli() {
			kept = append(kept, ev)
		}
	}
	for _, ev := range fresh {
		if ev.at >= windowStart.UnixMilli() {
			kept = append(kept, ev)
		}
	}
	s.events = kept
	// Never past the org's clock: a row with a skewed LoginTime in the
	// future would otherwise start the next reads after every login to come.
	if newest = min(newest, now.UnixMilli()); newest > s.wm.UnixMilli() {
		s.wm = time.UnixMilli(newest).UTC()
	}
	counts := map[string][2]int64{}
	s.flows = loginFlows(s.events, !s.noSubType)
	for _, ev := range s.events {
		if !ev.oauth {
			continue
		}
		c := counts[ev.app]
		if ev.ok {
			c[0]++
		} else {
			c[1]++
		}
		counts[ev.app] = c
	}
	s.counts = counts
	if e.tracker != nil {
		logins := make([]detect.Login, 0, len(s.events))
		for _, ev := range s.events {
			if ev.oauth {
				logins = append(logins, detect.Login{Time: time.UnixMilli(ev.at).UTC(), App: ev.app, SourceIP: ev.ip, UserID: ev.user})
			}
		}
		e.tracker.Logins(now, logins)
		if len(logins) > 0 {
			e.stateChanged() // their networks joined the baseline
		}
	}
	return nil
}

func (s *loginsSource) contribute(p *snapshot.Parts) {
	p.Logins = s.counts
	p.LoginFlows = s.flows
	s.vis.add(p, &loginsSpec)
}

// loginFlows counts the window's logins by app and flow, and lists the
// integrations on a legacy flow with their users (for the review).
func loginFlows(events []loginEvent, subTypeReadable bool) *snapshot.LoginFlowParts {
	lf := &snapshot.LoginFlowParts{ByApp: map[string]snapshot.FlowCounts{}, SubTypeReadable: subTypeReadable}
	type legacyKey struct {
		app  string
		flow salesforce.LoginFlow
	}
	legacy := map[legacyKey]*snapshot.LegacyLogin{}
	users := map[legacyKey]map[string]bool{}
	for _, ev := range events {
		lf.Org[ev.flow]++
		if ev.app != "" {
			c := lf.ByApp[ev.app]
			c[ev.flow]++
			lf.ByApp[ev.app] = c
		}
		if !ev.flow.Legacy() {
			continue
		}
		k := legacyKey{ev.app, ev.flow}
		l := legacy[k]
		if l == nil {
			l = &snapshot.LegacyLogin{App: ev.app, Flow: ev.flow}
			legacy[k] = l
			users[k] = map[string]bool{}
		}
		l.Logins++
		if !ev.ok {
			l.Failures++
		}
		if at := time.UnixMilli(ev.at).UTC(); at.After(l.LastSeen) {
			l.LastSeen = at
		}
		if ev.user != "" && !users[k][ev.user] {
			users[k][ev.user] = true
			if len(l.Users) < snapshot.MaxLegacyUsers {
				l.Users = append(l.Users, ev.user)
			} else {
				l.MoreUsers++
			}
		}
	}
	for _, l := range legacy {
		lf.Legacy = append(lf.Legacy, *l)
	}
	return lf
}
