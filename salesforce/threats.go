package salesforce

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// ThreatStore is one Threat Detection storage object: the anomaly events
// Salesforce's models score, kept for querying by SOQL. Each needs the
// Salesforce Shield or Event Monitoring add-on and the View Real-Time Event
// Monitoring Data permission; an org without them answers INVALID_TYPE.
// None of the stores names a connected app.
//
// Salesforce API docs: https://developer.salesforce.com/docs/platform/platform-events/guide/sforce-api-objects-apianomalyeventstore.html
type ThreatStore struct {
	// Object is the storage object's API name.
	Object string
	// Kind is its short name: the event_type label's value.
	Kind string
	// Since is the API version the object appeared in.
	Since int
	// IPField is the field that holds the client's address: SourceIp, or
	// CurrentIp for session hijacking (which has no SourceIp).
	IPField string
}

// ThreatStores lists the stores read, in a fixed order: the only values
// of ThreatEvent.Kind.
var ThreatStores = []ThreatStore{
	{Object: "ApiAnomalyEventStore", Kind: "api_anomaly", Since: 50, IPField: "SourceIp"},
	{Object: "CredentialStuffingEventStore", Kind: "credential_stuffing", Since: 49, IPField: "SourceIp"},
	{Object: "SessionHijackingEventStore", Kind: "session_hijacking", Since: 49, IPField: "CurrentIp"},
	{Object: "ReportAnomalyEventStore", Kind: "report_anomaly", Since: 49, IPField: "SourceIp"},
	{Object: "LoginAnomalyEventStore", Kind: "login_anomaly", Since: 64, IPField: "SourceIp"},
}

// ThreatEvent is one stored Threat Detection event. User, address and
// summary are evidence for the review, never a metric label.
type ThreatEvent struct {
	ID              string  `json:"Id"`
	EventIdentifier string  `json:"EventIdentifier"`
	EventDate       Time    `json:"EventDate"`
	CreatedDate     Time    `json:"CreatedDate"`
	Score           float64 `json:"Score"`
	UserID          string  `json:"UserId"`
	Username        string  `json:"Username"`
	Summary         string  `json:"Summary"`
	// SourceIP is read from the store's IPField.
	SourceIP  string `json:"SourceIp"`
	CurrentIP string `json:"CurrentIp"`
}

// Address is the event's client address, whichever field its store uses.
func (e ThreatEvent) Address() string {
	if e.SourceIP != "" {
		return e.SourceIP
	}
	return e.CurrentIP
}

// ThreatEvents streams a store's events created at or after since, oldest
// CreatedDate first, at most limit rows. It reports whether the limit cut
// the read short. The read goes by CreatedDate because Salesforce writes a
// stored event after its models have scored it, a while after its
// EventDate: a read by EventDate would miss the late rows.
func (c *Client) ThreatEvents(ctx context.Context, s ThreatStore, since time.Time, limit int, fn func(ThreatEvent)) (capped bool, err error) {
	soql := "SELECT Id, EventIdentifier, EventDate, CreatedDate, Score, UserId, Username, Summary, " + s.IPField +
		" FROM " + s.Object + " WHERE CreatedDate >= " + SOQLTime(since) + " ORDER BY CreatedDate ASC LIMIT " + strconv.Itoa(limit+1)
	n := 0
	_, err = Stream(ctx, c, soql, func(e ThreatEvent) bool {
		if n == limit {
			capped = true
			return false
		}
		n++
		fn(e)
		return true
	})
	if capped && errors.Is(err, errStopped) {
		err = nil
	}
	return capped, err
}
