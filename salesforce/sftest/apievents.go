package sftest

import (
	"fmt"
	"strings"
	"time"
)

// DefaultAPIEventDelay is how long after its EventDate the org stores an
// API event in ApiEvent by default. The documentation gives no figure; the
// storage is written from the event bus, so an event shows a while after
// it happened, and a reader by EventDate must read again behind itself.
const DefaultAPIEventDelay = time.Minute

// APIEventSpec describes one stored API event (ApiEvent).
type APIEventSpec struct {
	User int
	// AppID is ConnectedAppId: "" for null, as when the user already held
	// a valid token. AppName is Application.
	AppID, AppName string
	Time           time.Time // EventDate; default now
	SourceIP       string    // default 192.0.2.1
	Entities       string    // QueriedEntities
	Rows           float64   // RowsProcessed
	// StoredAfter is how long after Time the event shows in ApiEvent. Zero
	// means DefaultAPIEventDelay, or none with Behaviour.APIEventsOnTime.
	StoredAfter time.Duration
}

type apiEvent struct {
	identifier, appID, app, ip, entities string
	user                                 int
	at, stored                           time.Time
	rows                                 float64
}

// AddAPIEvent stores an API event. ApiEvent answers only with
// Behaviour.APIEventStorage; the events are kept either way.
func (o *Org) AddAPIEvent(s APIEventSpec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unknownLocked("AddAPIEvent", "user", s.User, len(o.users)) {
		return
	}
	if s.Time.IsZero() {
		s.Time = o.nowLocked()
	}
	if s.SourceIP == "" {
		s.SourceIP = "192.0.2.1"
	}
	delay := s.StoredAfter
	if delay == 0 && !o.Behavior.APIEventsOnTime {
		delay = DefaultAPIEventDelay
	}
	n := len(o.apiEvents) + 1
	o.apiEvents = append(o.apiEvents, apiEvent{
		identifier: fmt.Sprintf("9d1c3e52-7f0a-4c1e-b2a4-%012d", n),
		appID:      s.AppID, app: s.AppName, ip: s.SourceIP, entities: s.Entities,
		user: s.User, at: s.Time, stored: s.Time.Add(delay), rows: s.Rows,
	})
}

// APIEventCount is the number of API events stored, visible or not.
func (o *Org) APIEventCount() int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return len(o.apiEvents)
}

// apiEventObject is ApiEvent, a big object: readable only with
// Behaviour.APIEventStorage (the add-on and View Real-Time Event Monitoring
// Data; INVALID_TYPE otherwise), and queried by its index only
// (checkBigObject). A row shows from its storage time on.
func apiEventObject() *objectDef {
	return &objectDef{
		name: "ApiEvent", since: "46.0", big: []string{"EventDate", "EventIdentifier"},
		n:       func(o *Org) int { return len(o.apiEvents) },
		access:  func(o *Org) bool { return o.Behavior.APIEventStorage },
		visible: func(o *Org, r int) bool { return !o.apiEvents[r].stored.After(o.nowLocked()) },
		fields: fields(
			// A big object answers Id empty for every row.
			f("Id", false, false, func(*Org, int) value { return strVal("000000000000000AAA") }),
			f("EventIdentifier", true, false, func(o *Org, r int) value { return strVal(o.apiEvents[r].identifier) }),
			f("EventDate", true, false, func(o *Org, r int) value { return tm(o.apiEvents[r].at) }),
			f("ConnectedAppId", false, false, func(o *Org, r int) value { return str(o.apiEvents[r].appID) }),
			f("Application", false, false, func(o *Org, r int) value { return str(o.apiEvents[r].app) }),
			f("SourceIp", false, false, func(o *Org, r int) value { return str(o.apiEvents[r].ip) }),
			f("QueriedEntities", false, false, func(o *Org, r int) value { return str(o.apiEvents[r].entities) }),
			&fieldDef{name: "RowsProcessed", double: true, get: func(o *Org, r int) value { return numVal(o.apiEvents[r].rows) }},
			f("UserId", false, false, func(o *Org, r int) value { return strVal(o.users[o.apiEvents[r].user].ID) }),
			f("Username", false, false, func(o *Org, r int) value { return strVal(o.users[o.apiEvents[r].user].Username) }),
		),
	}
}

// checkBigObject refuses what SOQL on a big object does not take: an
// aggregate function (COUNT() included), OFFSET, a filter off the index or
// with a gap in it, a range on any index field but the last one filtered,
// !=, NOT IN, OR and NOT, and ORDER BY on a field outside the index.
//
// Salesforce docs: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/big_object_querying.htm
// and, for the event storage objects' index (EventDate alone, or EventDate
// with EventIdentifier): https://help.salesforce.com/s/articleView?id=sf.real_time_event_monitoring_storage.htm
func checkBigObject(q *query, d *objectDef) error {
	bad := func(msg string) error {
		return &soqlError{"MALFORMED_QUERY", fmt.Sprintf("\n%s\nERROR at Row:1:Column:1\n%s (%s is a big object)", q.text, msg, d.name)}
	}
	if q.countOnly || len(q.groupBy) > 0 {
		return bad("Aggregate functions are not supported")
	}
	for _, it := range q.items {
		if it.fn != "" {
			return bad("Aggregate functions are not supported")
		}
	}
	if q.offset > 0 {
		return bad("OFFSET is not supported")
	}
	index := map[string]int{}
	for i, name := range d.big {
		index[strings.ToLower(name)] = i
	}
	for _, ob := range q.orderBy {
		if _, ok := index[strings.ToLower(ob.field)]; !ok {
			return bad("ORDER BY takes only the index fields (" + strings.Join(d.big, ", ") + ")")
		}
	}
	ops := map[int][]string{} // by index position
	var walk func(c *cond) error
	walk = func(c *cond) error {
		switch c.op {
		case "AND":
			if err := walk(c.left); err != nil {
				return err
			}
			return walk(c.right)
		case "OR", "NOT", "NOTIN":
			return bad(c.op + " is not supported")
		}
		i, ok := index[strings.ToLower(c.field)]
		if !ok {
			return bad("the filter may use only the index fields (" + strings.Join(d.big, ", ") + "), not " + c.field)
		}
		if c.op == "CMP" && c.cmp == "!=" {
			return bad("!= is not supported")
		}
		op := "="
		if c.op == "CMP" {
			op = c.cmp
		}
		ops[i] = append(ops[i], op)
		return nil
	}
	if q.where != nil {
		if err := walk(q.where); err != nil {
			return err
		}
	}
	last := len(ops) - 1
	for i := range len(ops) {
		got, ok := ops[i]
		if !ok {
			return bad("the filter leaves a gap in the index: " + d.big[i] + " is required")
		}
		for _, op := range got {
			if op != "=" && i != last {
				return bad("a range is allowed only on the last index field filtered, not on " + d.big[i])
			}
		}
	}
	return nil
}
