package salesforce

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// APIEvent is one stored API event (ApiEvent, the big object in which
// Real-Time Event Monitoring stores ApiEventStream's events). User and
// address are evidence for the detection baseline, never a metric label.
//
// ConnectedAppId is set only when the call started an OAuth flow; a call
// by a user who already held a valid token has it null, and Application
// (the app's name) is then what names the app.
type APIEvent struct {
	EventIdentifier string  `json:"EventIdentifier"`
	EventDate       Time    `json:"EventDate"`
	ConnectedAppID  string  `json:"ConnectedAppId"`
	Application     string  `json:"Application"`
	SourceIP        string  `json:"SourceIp"`
	QueriedEntities string  `json:"QueriedEntities"`
	RowsProcessed   float64 `json:"RowsProcessed"`
	UserID          string  `json:"UserId"`
}

// apiEventFields are the fields APIEvents selects. Id is left out: a big
// object answers it empty (000000000000000AAA) for every row.
const apiEventFields = "EventIdentifier, EventDate, ConnectedAppId, Application, SourceIp, QueriedEntities, RowsProcessed, UserId"

// APIEventsQuery is the SOQL of one read of ApiEvent from since on, at most
// limit rows. A big object filters on its index only (EventDate alone, or
// EventDate with EventIdentifier), takes no aggregate function (no COUNT())
// and no Id, so the read is a range on EventDate in its order.
func APIEventsQuery(since time.Time, limit int) string {
	return "SELECT " + apiEventFields + " FROM ApiEvent WHERE EventDate >= " + SOQLTime(since) +
		" ORDER BY EventDate ASC LIMIT " + strconv.Itoa(limit)
}

// APIEvents streams the API events stored with an EventDate at or after
// since, oldest first, at most limit rows. It reports whether the limit cut
// the read short. An org without the Shield or Event Monitoring add-on, or
// a user without View Real-Time Event Monitoring Data, answers
// INVALID_TYPE (IsObjectRefused).
//
// Salesforce API docs: https://developer.salesforce.com/docs/atlas.en-us.platform_events.meta/platform_events/sforce_api_objects_apievent.htm
func (c *Client) APIEvents(ctx context.Context, since time.Time, limit int, fn func(APIEvent)) (capped bool, err error) {
	n := 0
	_, err = Stream(ctx, c, APIEventsQuery(since, limit+1), func(e APIEvent) bool {
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
