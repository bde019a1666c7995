// Package snapshot is the exporter's model of an org at one instant
// (Snapshot, AppUsage) and the pure join that makes it from what the
// sources read (Parts → Build, then Cap). It has two readers: the collector,
// which turns snapshots into metrics, and the review. It calls nothing and
// knows no Prometheus library; the refresher (package refresh) fills Parts
// and publishes the snapshots.
//
// Build's steps follow its input: the token join (OauthToken groups,
// installed apps, External Client Apps), the usage join (API usage,
// sessions and logins matched to those apps by Id or name), and the
// detection matching (each app's figures from the detection baseline).
package snapshot
