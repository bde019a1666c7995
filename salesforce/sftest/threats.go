package sftest

import (
	"fmt"
	"time"
)

// Threat Detection store names, as ThreatSpec.Store takes them.
const (
	ThreatAPIAnomaly         = "ApiAnomalyEventStore"
	ThreatCredentialStuffing = "CredentialStuffingEventStore"
	ThreatSessionHijacking   = "SessionHijackingEventStore"
	ThreatReportAnomaly      = "ReportAnomalyEventStore"
	ThreatLoginAnomaly       = "LoginAnomalyEventStore"
)

// threatStores are the stores the fake has, with the API version each
// appeared in and the prefix of its Ids.
var threatStores = []struct{ name, since, prefix string }{
	{ThreatAPIAnomaly, "50.0", "0Xa"},
	{ThreatCredentialStuffing, "49.0", "0Xb"},
	{ThreatSessionHijacking, "49.0", "0Xc"},
	{ThreatReportAnomaly, "49.0", "0Xd"},
	{ThreatLoginAnomaly, "64.0", "0Xe"},
}

// DefaultThreatDelay is how long after its EventDate the org stores a
// Threat Detection event by default: the documentation warns of "an
// expected time difference between the Event Detection Date and the Event
// Creation Date" while the models score it, without a figure.
const DefaultThreatDelay = 20 * time.Minute

// ThreatSpec describes one stored Threat Detection event.
type ThreatSpec struct {
	Store   string // a Threat* name
	User    int
	Time    time.Time // EventDate; default now
	Score   float64
	Summary string
	// SourceIP is SourceIp (CurrentIp for session hijacking); default an
	// address outside every usual network.
	SourceIP string
	// WrittenAfter is how long after Time the org stores the event (its
	// CreatedDate): until then no query sees it. Zero means
	// DefaultThreatDelay, or none with Behaviour.ThreatEventsOnTime.
	WrittenAfter time.Duration
}

// threat is one stored Threat Detection event.
type threat struct {
	store          int // index in threatStores
	id, identifier string
	user           int
	at, written    time.Time
	score          float64
	summary, ip    string
}

// AddThreat stores a Threat Detection event. The stores answer only with
// Behaviour.ThreatDetection; the events are kept either way.
func (o *Org) AddThreat(s ThreatSpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("AddThreat", "user", s.User, len(o.users)) {
		return
	}
	store := -1
	for i, t := range threatStores {
		if t.name == s.Store {
			store = i
		}
	}
	if store < 0 {
		o.misuse = append(o.misuse, fmt.Sprintf("AddThreat: no store %q", s.Store))
		return
	}
	if s.Time.IsZero() {
		s.Time = o.nowLocked()
	}
	if s.SourceIP == "" {
		s.SourceIP = fmt.Sprintf("203.0.113.%d", len(o.threats)%250+1)
	}
	delay := s.WrittenAfter
	if delay == 0 && !o.Behavior.ThreatEventsOnTime {
		delay = DefaultThreatDelay
	}
	n := len(o.threats) + 1
	o.threats = append(o.threats, threat{
		store: store, id: makeID(threatStores[store].prefix, n),
		identifier: fmt.Sprintf("0a4779b0-0da1-4619-a373-%012d", n),
		user:       s.User, at: s.Time, written: s.Time.Add(delay), score: s.Score, summary: s.Summary, ip: s.SourceIP,
	})
}

// threatObjects are the Threat Detection stores. Each is readable only with
// Behaviour.ThreatDetection (the licence and the permission): otherwise
// INVALID_TYPE, as in an org without the add-on. A row shows from its
// CreatedDate (written) on; the rows are sorted by nothing, so a query
// filters them all.
func threatObjects() []*objectDef {
	var out []*objectDef
	for i, st := range threatStores {
		ipField := "SourceIp"
		if st.name == ThreatSessionHijacking {
			ipField = "CurrentIp"
		}
		out = append(out, &objectDef{
			name: st.name, idPrefix: st.prefix, since: st.since,
			n:      func(o *Org) int { return len(o.threats) },
			access: func(o *Org) bool { return o.Behavior.ThreatDetection },
			visible: func(o *Org, r int) bool {
				t := &o.threats[r]
				return t.store == i && !t.written.After(o.nowLocked())
			},
			id: func(o *Org, r int) string { return o.threats[r].id },
			fields: fields(
				f("Id", true, true, func(o *Org, r int) value { return strVal(o.threats[r].id) }),
				f("EventIdentifier", true, true, func(o *Org, r int) value { return strVal(o.threats[r].identifier) }),
				f("EventDate", true, false, func(o *Org, r int) value { return tm(o.threats[r].at) }),
				f("CreatedDate", true, false, func(o *Org, r int) value { return tm(o.threats[r].written) }),
				&fieldDef{name: "Score", filter: true, double: true, get: func(o *Org, r int) value { return numVal(o.threats[r].score) }},
				f("UserId", true, true, func(o *Org, r int) value { return strVal(o.users[o.threats[r].user].ID) }),
				f("Username", true, true, func(o *Org, r int) value { return strVal(o.users[o.threats[r].user].Username) }),
				f("Summary", false, false, func(o *Org, r int) value { return str(o.threats[r].summary) }),
				f(ipField, true, true, func(o *Org, r int) value { return str(o.threats[r].ip) }),
			),
		})
	}
	return out
}
