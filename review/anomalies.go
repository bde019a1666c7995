package review

import (
	"fmt"
	"strconv"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// maxAnomalies bounds the Threat Detection events a report lists, the
// newest first.
const maxAnomalies = 500

// Anomaly is one Threat Detection event of the last 24 hours, with its
// evidence: the user, the address and Salesforce's summary. No store names
// a connected app, so the events are the org's; the apps' evidence (their
// networks and users) is what to match them with.
type Anomaly struct {
	Type            string    `json:"event_type"`
	EventDate       time.Time `json:"event_date"`
	Stored          time.Time `json:"stored"`
	Score           float64   `json:"score"`
	Username        string    `json:"username,omitempty"`
	UserID          string    `json:"user_id,omitempty"`
	Address         string    `json:"address,omitempty"`
	Summary         string    `json:"summary,omitempty"`
	EventIdentifier string    `json:"event_identifier,omitempty"`
	// Acknowledged: stored at or before the org's threat_events_reviewed_until.
	Acknowledged bool `json:"acknowledged"`
}

// anomalies are the report's Threat Detection events, the newest first, at
// most maxAnomalies, and how many more there were.
func anomalies(t *snapshot.Threats) ([]Anomaly, int) {
	if t == nil {
		return nil, 0
	}
	var out []Anomaly
	for _, e := range t.Events {
		if len(out) == maxAnomalies {
			break
		}
		out = append(out, Anomaly{
			Type: e.Kind, EventDate: e.EventDate, Stored: e.Created, Score: e.Score,
			Username: e.Username, UserID: e.UserID, Address: e.Address, Summary: e.Summary,
			EventIdentifier: e.EventIdentifier, Acknowledged: e.Acknowledged,
		})
	}
	return out, len(t.Events) - len(out)
}

// anomalySection is the report's Anomalies table, for text, Markdown and HTML.
func anomalySection(r *Report) section {
	s := section{ID: anchor(r.Org, "anomalies"), Title: "Anomalies (Threat Detection)",
		Header: []string{"Event date", "Stored", "Type", "Score", "User", "Address", "Summary", "Acknowledged"},
		Note:   "Threat Detection events of the last 24 hours, the newest first. No event names a connected app: match the user and address with the apps' evidence. An event stored at or before the org's threat_events_reviewed_until is acknowledged, and no longer counted in the metrics."}
	if !r.ThreatsRead {
		s.Note = "The threat_detection source is off or has not read the org: it needs the Shield or Event Monitoring add-on (see check's tier report)."
	}
	for _, a := range r.Anomalies {
		s.Rows = append(s.Rows, []string{fmtSeconds(a.EventDate), fmtSeconds(a.Stored), a.Type, scoreStr(a.Score), userCell(a.Username, a.UserID), a.Address, a.Summary, yes(a.Acknowledged)})
	}
	if r.MoreAnomalies > 0 {
		s.Note += fmt.Sprintf(" %d more are left out.", r.MoreAnomalies)
	}
	return s
}

func scoreStr(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// anomalyRows are the Anomalies as CSV rows.
func anomalyRows(r *Report, blank func() []string) [][]string {
	var rows [][]string
	for _, a := range r.Anomalies {
		row := blank()
		row[0], row[1], row[4], row[21], row[28] = r.Org, "anomaly", userCell(a.Username, a.UserID), a.Summary, a.Address
		row[csvEventType], row[csvScore], row[csvEventDate], row[csvAcknowledged] = a.Type, scoreStr(a.Score), fmtSeconds(a.EventDate), yes(a.Acknowledged)
		rows = append(rows, row)
	}
	return rows
}
