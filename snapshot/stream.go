package snapshot

import "time"

// Stream is the org's real-time event stream (the stream source), as of
// the snapshot: one row per subscribed topic, and the live per-app figures
// of the API events it has handled since the exporter started.
type Stream struct {
	Topics []StreamTopic
	// Apps are the live figures of ApiEventStream events, by app, sorted by
	// key; at most MaxStreamApps (the rest are summed in AppsFolded).
	Apps []StreamApp
	// AppsFolded counts the events of apps past MaxStreamApps.
	AppsFolded int64
}

// MaxStreamApps bounds the apps the stream keeps live figures of.
const MaxStreamApps = 5000

// StreamTopic is one topic's subscription.
type StreamTopic struct {
	Topic     string
	Connected bool
	// Events counts the events handled since start; DecodeErrors those
	// that could not be decoded (skipped).
	Events, DecodeErrors int64
	// Reconnects counts the streams that ended and were reopened.
	Reconnects int64
	// ReplayGaps counts stored replay ids the service refused (expired),
	// or the state file held unreadable: each is a stretch of events lost
	// to the exporter.
	ReplayGaps int64
	// LastGap is when the latest of them was; zero for none.
	LastGap time.Time
	// LastEvent is the EventDate of the newest event handled; zero before any.
	LastEvent time.Time
}

// StreamApp is one app's live figures from the stream.
type StreamApp struct {
	ID, Name string
	// Requests counts the API events; RowsProcessed sums their RowsProcessed.
	Requests      int64
	RowsProcessed float64
}
