package refresh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// apiEventsPermission is what ApiEvent needs.
const apiEventsPermission = "View Real-Time Event Monitoring Data (Shield or Event Monitoring add-on, ApiEvent storage on in Event Manager)"

// Bounds of the api_events source.
const (
	// apiEventsRowsPerRead bounds the rows one refresh reads (five pages
	// of 2,000); a capped read goes on from its newest row at the next
	// refresh (salesforce_api_events_capped_reads_total counts them).
	apiEventsRowsPerRead = 10_000
	// apiEventsOverlap is how far behind its position a read starts again:
	// an event is stored a while after its EventDate, so a read by
	// EventDate would miss the late ones. Rows read twice are told apart
	// by EventIdentifier.
	apiEventsOverlap = 5 * time.Minute
	// apiEventsFirstRead is how far back the first read of an org goes.
	apiEventsFirstRead = time.Hour
	// apiEventsCatchUp bounds how far back a stored position is followed
	// after a long stop: older events belong to the log files' days.
	apiEventsCatchUp = 7 * 24 * time.Hour
	// apiEventsSeenMax bounds the EventIdentifiers kept (and stored) to
	// tell re-read rows; past it the next read starts at the position,
	// without overlap.
	apiEventsSeenMax = 50_000
	// apiEventsClockSlack: an EventDate further ahead of the server's clock
	// is taken for a clock error, and counted at the time of the read.
	apiEventsClockSlack = 5 * time.Minute
	// maxEventIdentifier bounds an EventIdentifier (an 80-character field).
	maxEventIdentifier = 80
	// apiEventsPeriodName is the api_events part of its periods' keys.
	apiEventsPeriodName = "ApiEvent"
)

// apiEventsSpec declares the api_events source: the stored API events
// (ApiEvent), read by SOQL every refresh, into the detection baseline's
// live hours. It is the stream's fallback, minutes late instead of seconds.
var apiEventsSpec = Spec{
	Name:       config.SourceAPIEvents,
	Permission: apiEventsPermission,
	// View Real-Time Event Monitoring Data is not among the permissions
	// read: API Enabled is what can be told, and the probe tells the rest.
	HasPermission:    func(p salesforce.UserPermissions) bool { return p.APIEnabled },
	PermissionUnread: true,
	Probe:            probeAPIEvents,
	Resources:        []string{"query:ApiEvent"},
	newSource:        func() source { return &apiEventsSource{periods: livePeriods{name: apiEventsPeriodName}} },
}

// apiEventsUnavailable says why ApiEvent cannot be read, or "" for
// another failure.
func apiEventsUnavailable(err error) string {
	var apiErr *salesforce.APIError
	if !salesforce.IsObjectRefused(err) || !errors.As(err, &apiErr) {
		return ""
	}
	return "ApiEvent is not readable: the org lacks the Shield or Event Monitoring add-on, or the integration user lacks View Real-Time Event Monitoring Data (" + apiErr.Code() + ")"
}

// probeAPIEvents reads one stored event of the last hour (a big object
// takes no COUNT()). A refresh reads the new events: one request per
// 2,000 rows, at most six (10,000 and the row that tells the read capped).
func probeAPIEvents(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error) {
	res := ProbeResult{Cost: Cost{PerRefresh: 1}}
	if !in.Enabled {
		// The tier report says whether the org has ApiEvent storage.
		res.Note = "off: enable sources.api_events to read the stored API events (Shield or Event Monitoring; see the tier report)"
		return res, nil
	}
	n := 0
	_, err := c.APIEvents(ctx, c.ServerNow().Add(-apiEventsFirstRead), 1, func(salesforce.APIEvent) { n++ })
	if why := apiEventsUnavailable(err); why != "" {
		return res, fmt.Errorf("%w %s: %s", errPermission, apiEventsPermission, why)
	}
	if err != nil {
		return res, err
	}
	res.Rows = ptr(n)
	if n == 0 {
		res.Notes = append(res.Notes, "api_events: ApiEvent answers but holds no event of the last hour: is its storage on in Event Manager?")
	} else {
		res.Notes = append(res.Notes, "api_events: ApiEvent readable; stored events arrive in minutes (the source's interval plus Salesforce's storage delay)")
	}
	return res, nil
}

// apiEventsState is the source's position in the state file, saved with
// the detection baseline that holds the events before it.
type apiEventsState struct {
	// Watermark is the newest EventDate read.
	Watermark time.Time `json:"watermark"`
	// Seen are the EventIdentifiers read within apiEventsOverlap of the
	// watermark, with their EventDate (Unix seconds): the rows the next
	// read sees again.
	Seen map[string]int64 `json:"seen,omitempty"`
	// NoOverlap: the last read was capped, or Seen overflowed: the next
	// read starts at the watermark.
	NoOverlap bool `json:"no_overlap,omitempty"`
}

// check drops a stored position that cannot be right; the cost is a first
// read again.
func (s *apiEventsState) check() error {
	if len(s.Seen) > apiEventsSeenMax {
		return fmt.Errorf("api_events: %d event identifiers stored, more than %d", len(s.Seen), apiEventsSeenMax)
	}
	for id := range s.Seen {
		if id == "" || len(id) > maxEventIdentifier {
			return errors.New("api_events: a stored event identifier is empty or too long")
		}
	}
	return nil
}

// apiEventsSource reads ApiEvent incrementally by EventDate.
type apiEventsSource struct {
	periods livePeriods
	out     snapshot.APIEvents
	apps    map[string]*snapshot.StreamApp // by detect.AppKey; at most snapshot.MaxStreamApps
	started bool                           // contributed once the source has run
}

// count adds an event to its app's figures and to the rows ledger.
func (s *apiEventsSource) count(ev *salesforce.APIEvent, l *rowsLedger, at, now time.Time) {
	id, name := clipField(ev.ConnectedAppID), clipField(ev.Application)
	key := detect.AppKey(id, name)
	a := s.apps[key]
	if a == nil {
		if s.apps == nil {
			s.apps = map[string]*snapshot.StreamApp{}
		}
		if len(s.apps) >= snapshot.MaxStreamApps {
			s.out.AppsFolded++
			return
		}
		a = &snapshot.StreamApp{ID: id, Name: name}
		s.apps[key] = a
	}
	a.Requests++
	r := ev.RowsProcessed
	if r < 0 || r != r {
		r = 0
	}
	a.RowsProcessed += r
	l.add(at, now, id, name, r)
}

func (s *apiEventsSource) refresh(ctx context.Context, e *env) error {
	s.started = true
	now := e.client.ServerNow()
	st := e.state.APIEvents
	if st == nil {
		st = &apiEventsState{}
	}
	since := now.Add(-apiEventsFirstRead)
	if !st.Watermark.IsZero() {
		since = st.Watermark
		if !st.NoOverlap {
			since = since.Add(-apiEventsOverlap)
		}
		since = maxTime(since, now.Add(-apiEventsCatchUp))
	}
	since = since.Truncate(time.Second) // a SOQL datetime is whole seconds
	// The rows are kept until the read ends: a read that fails half-way
	// hands nothing to the baseline, and the next one reads them again.
	var rows []salesforce.APIEvent
	capped, err := e.client.APIEvents(ctx, since, apiEventsRowsPerRead, func(ev salesforce.APIEvent) { rows = append(rows, ev) })
	if err != nil {
		if why := apiEventsUnavailable(err); why != "" {
			return fmt.Errorf("%w %s: %s", errPermission, apiEventsPermission, why)
		}
		return fmt.Errorf("read ApiEvent: %w", err)
	}
	seen := maps.Clone(st.Seen)
	if seen == nil {
		seen = map[string]int64{}
	}
	newest := st.Watermark
	touched := map[int64]bool{}
	var read int64
	for i := range rows {
		ev := &rows[i]
		at := ev.EventDate.Time
		if at.IsZero() || at.After(now.Add(apiEventsClockSlack)) {
			at = now
		}
		id := ev.EventIdentifier
		if len(id) > maxEventIdentifier {
			id = id[:maxEventIdentifier]
		}
		switch {
		case id == "" && !at.After(st.Watermark):
			// No identifier to tell it by: only a row past the position
			// can be new.
			continue
		case id != "":
			if _, ok := seen[id]; ok {
				continue
			}
			seen[id] = at.Unix()
		}
		if at.After(newest) {
			newest = at
		}
		read++
		s.count(ev, e.state.rowsLedgerOf(config.SourceAPIEvents), at, now)
		if e.tracker != nil {
			touched[s.periods.add(e.tracker, e.state, at, apiEventRow(ev, at))] = true
		}
	}
	if capped && !newest.After(since) {
		// A whole read of rows stamped in the same second: step past it,
		// or every later read would stop at the same page.
		newest = since.Add(time.Second)
		e.logger.Warn("More stored API events in one second than a read takes; skipping past the second", "rows_per_read", apiEventsRowsPerRead, "second", since)
	}
	if e.tracker != nil {
		s.periods.commit(e.tracker, touched, now)
	}
	// Keep the identifiers the next read can see again.
	cut := newest.Add(-apiEventsOverlap).Unix()
	maps.DeleteFunc(seen, func(_ string, at int64) bool { return at < cut })
	overflow := len(seen) > apiEventsSeenMax
	if overflow {
		ids := slices.SortedFunc(maps.Keys(seen), func(a, b string) int { return cmp.Compare(seen[b], seen[a]) })
		for _, id := range ids[apiEventsSeenMax:] {
			delete(seen, id)
		}
	}
	if capped {
		s.out.CappedReads++
		e.logger.Warn("Stored API events read bounded: the baseline runs behind until later refreshes catch up", "rows_per_read", apiEventsRowsPerRead)
	}
	e.state.APIEvents = &apiEventsState{Watermark: newest, Seen: seen, NoOverlap: capped || overflow}
	e.stateChanged()
	s.out.Read += read
	s.out.LastEvent = newest
	return nil
}

// apiEventRow is what the baseline takes of a stored API event.
func apiEventRow(ev *salesforce.APIEvent, at time.Time) *detect.Row {
	return &detect.Row{Time: at.Unix(), AppID: []byte(clipField(ev.ConnectedAppID)), AppName: []byte(clipField(ev.Application)),
		ClientIP: []byte(clipField(ev.SourceIP)), EntityName: []byte(clipField(ev.QueriedEntities)), UserID: []byte(clipField(ev.UserID)), StatusCode: 200}
}

// clipField bounds the text kept of one event field, as the stream does.
func clipField(s string) string {
	if len(s) > maxStreamField {
		return s[:maxStreamField]
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *apiEventsSource) contribute(p *snapshot.Parts) {
	if !s.started {
		return
	}
	out := s.out
	out.Apps = make([]snapshot.StreamApp, 0, len(s.apps))
	for _, a := range s.apps {
		out.Apps = append(out.Apps, *a)
	}
	sortStreamApps(out.Apps)
	p.APIEvents = &out
}
