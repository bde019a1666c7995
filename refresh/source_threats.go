package refresh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// threatsPermission is what the Threat Detection stores need.
const threatsPermission = "View Real-Time Event Monitoring Data (Shield or Event Monitoring add-on)"

// Bounds of the threat_detection source.
const (
	// threatRowsPerRead bounds the rows one refresh reads from one store;
	// the next refresh goes on from the newest row read.
	threatRowsPerRead = 2000
	// threatEventsKept bounds the events kept per store over the window
	// (the oldest go first): Threat Detection raises a few events a day
	// in a large org, so either bound being hit is itself news.
	threatEventsKept = 5000
	// threatTextMax bounds the evidence kept of one event (Summary is a
	// 1,000-character textarea, the user name 255).
	threatTextMax = 1000
	// threatsOverlap is how far before its watermark (the newest
	// CreatedDate read) a store is read again: a row is visible a little
	// after its CreatedDate is stamped; rows read twice are told apart by Id.
	threatsOverlap = 5 * time.Minute
)

// threatsSpec declares the threat_detection source.
var threatsSpec = Spec{
	Name:       config.SourceThreatDetection,
	Permission: threatsPermission,
	// View Real-Time Event Monitoring Data is not among the permissions
	// read (its PermissionSet field is not documented where the facts
	// were checked): API Enabled is what can be told, and the probe
	// tells the rest, store by store.
	HasPermission:    func(p salesforce.UserPermissions) bool { return p.APIEnabled },
	PermissionUnread: true,
	Probe:            probeThreats,
	Resources:        threatResources(),
	newSource:        func() source { return &threatsSource{} },
}

func threatResources() []string {
	out := make([]string, len(salesforce.ThreatStores))
	for i, s := range salesforce.ThreatStores {
		out[i] = "query:" + s.Object
	}
	return out
}

// threatUnavailable says why a store's query failed for want of the
// object, or "" for another failure.
func threatUnavailable(s salesforce.ThreatStore, err error) string {
	var apiErr *salesforce.APIError
	if !salesforce.IsObjectRefused(err) || !errors.As(err, &apiErr) {
		return ""
	}
	why := "not available: the org lacks the Shield or Event Monitoring add-on, or the integration user lacks View Real-Time Event Monitoring Data"
	if s.Since > 49 {
		why += fmt.Sprintf(", or api_version is below %d.0", s.Since)
	}
	return why + " (" + apiErr.Code() + ")"
}

// probeThreats counts each store's last day of events, one request per
// store, and says for each whether the org has it. A refresh reads each
// store once (the new rows, in one page).
func probeThreats(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error) {
	var res ProbeResult
	since := salesforce.SOQLTime(c.ServerNow().Add(-snapshot.ThreatWindow))
	total, available := 0, 0
	var firstErr error
	for _, s := range salesforce.ThreatStores {
		n, err := c.Count(ctx, "SELECT COUNT() FROM "+s.Object+" WHERE CreatedDate >= "+since)
		switch {
		case err == nil:
			available++
			total += n
			res.Availability = append(res.Availability, ObjectAvailability{Name: s.Object, State: Available, Why: fmt.Sprintf("%d events in the last 24 hours", n)})
		case threatUnavailable(s, err) != "":
			res.Availability = append(res.Availability, ObjectAvailability{Name: s.Object, State: Unavailable, Why: threatUnavailable(s, err)})
		default:
			// Unsure: say so, and count the source as not working.
			res.Availability = append(res.Availability, ObjectAvailability{Name: s.Object, State: Unknown, Why: in.clean(err)})
			firstErr = cmp.Or(firstErr, err)
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	res.Rows = ptr(total)
	res.Cost = Cost{PerRefresh: float64(len(salesforce.ThreatStores))}
	if firstErr != nil {
		return res, firstErr
	}
	if available == 0 {
		return res, fmt.Errorf("%w %s: no Threat Detection store is readable", errPermission, threatsPermission)
	}
	return res, nil
}

// threatsSource reads the Threat Detection stores, each incrementally by
// CreatedDate, and keeps the events of the last 24 hours by EventDate.
type threatsSource struct {
	stores []threatStoreState // one per salesforce.ThreatStores; nil before the first refresh
	out    *snapshot.Threats  // nil until the first success
}

// threatStoreState is one store's state between refreshes.
type threatStoreState struct {
	events    []snapshot.ThreatEvent // the window's events, in the order read
	wm        time.Time              // newest CreatedDate read
	available bool
	why       string
	capped    bool // the latest read stopped at threatRowsPerRead, or events overflowed
	read      bool // the store has been read once
}

func clip(s string) string {
	if len(s) <= threatTextMax {
		return s
	}
	cut := threatTextMax
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func (s *threatsSource) refresh(ctx context.Context, e *env) error {
	now := e.client.ServerNow()
	windowStart := now.Add(-snapshot.ThreatWindow)
	if s.stores == nil {
		s.stores = make([]threatStoreState, len(salesforce.ThreatStores))
	}
	var failures []string
	var firstErr error
	available := 0
	for i, store := range salesforce.ThreatStores {
		st := &s.stores[i]
		err := st.refresh(ctx, e, store, now, windowStart)
		switch {
		case err == nil:
			available++
		case threatUnavailable(store, err) != "":
			// The store is not there: its events (none) are known.
			st.available, st.why, st.events, st.read = false, threatUnavailable(store, err), nil, true
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failures = append(failures, store.Object)
			firstErr = cmp.Or(firstErr, err)
		}
	}
	if firstErr != nil {
		// Keep the last good figures of every store.
		return fmt.Errorf("threat detection stores %s: %w", strings.Join(failures, ", "), firstErr)
	}
	until := e.org.ThreatEventsReviewedUntil
	if e.settings != nil && e.settings.ThreatsReviewedUntil != nil {
		until = e.settings.ThreatsReviewedUntil(e.org.Name)
	}
	if available == 0 {
		s.out = s.build(until)
		return fmt.Errorf("%w %s: no Threat Detection store is readable (%s)", errPermission, threatsPermission, s.stores[0].why)
	}
	s.out = s.build(until)
	return nil
}

// refresh reads the store's rows stored since its watermark (less the
// overlap), or over the whole window at first.
func (st *threatStoreState) refresh(ctx context.Context, e *env, store salesforce.ThreatStore, now, windowStart time.Time) error {
	since := windowStart
	if st.read && st.available && !st.wm.IsZero() {
		again := st.wm.Add(-threatsOverlap)
		if st.capped {
			// Go on from the newest row read: an overlap could re-read
			// the same bounded page for ever.
			again = st.wm
		}
		if again.After(since) {
			since = again
		}
	}
	since = since.Truncate(time.Second) // a SOQL datetime is whole seconds
	seen := make(map[string]bool, len(st.events))
	for _, ev := range st.events {
		seen[ev.ID] = true
	}
	var fresh []snapshot.ThreatEvent
	newest := st.wm
	capped, err := e.client.ThreatEvents(ctx, store, since, threatRowsPerRead, func(t salesforce.ThreatEvent) {
		if t.CreatedDate.After(newest) && !t.CreatedDate.After(now) {
			newest = t.CreatedDate.Time
		}
		key := t.ID
		if key == "" {
			key = t.EventIdentifier
		}
		if key == "" || seen[key] {
			return
		}
		seen[key] = true
		fresh = append(fresh, snapshot.ThreatEvent{
			Kind: store.Kind, ID: clip(key), EventIdentifier: clip(t.EventIdentifier),
			EventDate: t.EventDate.Time, Created: t.CreatedDate.Time, Score: t.Score,
			UserID: clip(t.UserID), Username: clip(t.Username), Address: clip(t.Address()), Summary: clip(t.Summary),
		})
	})
	if err != nil {
		return err
	}
	kept := st.events[:0]
	for _, ev := range append(st.events, fresh...) {
		if !ev.EventDate.Before(windowStart) {
			kept = append(kept, ev)
		}
	}
	overflow := len(kept) > threatEventsKept
	if overflow {
		slices.SortStableFunc(kept, func(a, b snapshot.ThreatEvent) int { return a.EventDate.Compare(b.EventDate) })
		kept = kept[len(kept)-threatEventsKept:]
	}
	st.events = slices.Clip(kept)
	st.wm = newest
	st.available, st.why, st.read, st.capped = true, "", true, capped || overflow
	if capped || overflow {
		e.logger.Warn("Threat Detection store read bounded: its figures are low", "object", store.Object, "rows_per_read", threatRowsPerRead, "events_kept", threatEventsKept)
	}
	return nil
}

// build turns the stores' state into the snapshot's figures.
func (s *threatsSource) build(reviewedUntil time.Time) *snapshot.Threats {
	out := &snapshot.Threats{}
	for i, store := range salesforce.ThreatStores {
		st := &s.stores[i]
		k := snapshot.ThreatKind{Kind: store.Kind, Object: store.Object, Available: st.available, Why: st.why, Capped: st.capped}
		for _, ev := range st.events {
			ev.Acknowledged = !reviewedUntil.IsZero() && !ev.Created.After(reviewedUntil)
			if ev.Acknowledged {
				k.Acknowledged++
			} else {
				if k.Events == 0 || ev.Score > k.MaxScore {
					k.MaxScore = ev.Score
				}
				k.Events++
			}
			out.Events = append(out.Events, ev)
		}
		out.Kinds = append(out.Kinds, k)
	}
	slices.SortStableFunc(out.Events, func(a, b snapshot.ThreatEvent) int { return b.EventDate.Compare(a.EventDate) })
	return out
}

func (s *threatsSource) contribute(p *snapshot.Parts) { p.Threats = s.out }
