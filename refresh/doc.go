// Package refresh reads the orgs in the background: a Manager runs one
// Refresher per configured org, and each Refresher refreshes its sources
// (one Spec and one file each, source_<name>.go) on their own intervals
// within the org's API budget, keeps their state across restarts (the state,
// token and usage files under the storage path), and publishes an immutable
// snapshot.Snapshot that the collector and the review read. It knows no
// Prometheus library: nothing here is called during a scrape.
package refresh
