package snapshot

import "time"

// ThreatWindow is how far back the Threat Detection figures reach, by
// EventDate.
const ThreatWindow = 24 * time.Hour

// Threats is what the threat_detection source last read: per store, its
// figures over ThreatWindow, and the events themselves as evidence for the
// review. No store names a connected app, so the figures are the org's.
type Threats struct {
	Kinds []ThreatKind // one per salesforce.ThreatStores entry, in its order
	// Events are the window's events, newest EventDate first, for the
	// review only (user, address and summary never become labels).
	Events []ThreatEvent
}

// ThreatKind is one store's figures.
type ThreatKind struct {
	Kind   string // salesforce.ThreatStore.Kind
	Object string // the storage object
	// Available is set when the store answered: the org has the add-on,
	// the user the permission and the API version the object.
	Available bool
	// Why says why it is not available.
	Why string
	// Events counts the window's events not acknowledged; MaxScore is the
	// highest Score among them (meaningless when Events is 0).
	Events   int64
	MaxScore float64
	// Acknowledged counts the window's events stored at or before the
	// org's threat_events_reviewed_until.
	Acknowledged int64
	// Capped is set when the latest read stopped at its row bound, or the
	// window held more events than the source keeps: the figures are low.
	Capped bool
}

// ThreatEvent is one Threat Detection event, for the review.
type ThreatEvent struct {
	Kind                string
	ID, EventIdentifier string
	EventDate, Created  time.Time
	Score               float64
	UserID, Username    string
	Address, Summary    string
	Acknowledged        bool
}
