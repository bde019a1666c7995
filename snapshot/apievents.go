package snapshot

import "time"

// APIEvents is the api_events source's reading of the stored API events
// (ApiEvent), as of the snapshot. The events themselves feed the detection
// baseline; these are the source's own figures.
type APIEvents struct {
	// Read counts the events read and handed to the baseline since the
	// exporter started (each once: rows read again are not counted).
	Read int64
	// CappedReads counts the reads cut short at the source's bound of rows
	// per refresh since the exporter started: the next refresh goes on
	// from there, so the baseline runs behind meanwhile.
	CappedReads int64
	// LastEvent is the EventDate of the newest event read (kept across
	// restarts in the state file); zero before any.
	LastEvent time.Time
	// Apps are the figures of the events read since the exporter started,
	// by app, sorted by name and Id; at most MaxStreamApps (the rest are
	// summed in AppsFolded).
	Apps []StreamApp
	// AppsFolded counts the events of apps past MaxStreamApps.
	AppsFolded int64
}
