package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// The exporter's status of each org: its sources' refreshes, API budget,
// storage writes and what each source can see.
var (
	descUp = prometheus.NewDesc("salesforce_up",
		"1 if the latest refresh of every enabled source succeeded.", []string{"org"}, nil)
	descSourceUp = prometheus.NewDesc("salesforce_source_up",
		"1 if the source's latest refresh succeeded; 0 if it failed or has not succeeded yet.", []string{"org", "source"}, nil)
	descSourceEnabled = prometheus.NewDesc("salesforce_source_enabled",
		"1 if the source is enabled in the config.", []string{"org", "source"}, nil)
	descLastSuccess = prometheus.NewDesc("salesforce_last_refresh_success_timestamp_seconds",
		"When the source's latest successful refresh finished, as Unix seconds.", []string{"org", "source"}, nil)
	descDuration = prometheus.NewDesc("salesforce_refresh_duration_seconds",
		"Duration of the source's latest refresh.", []string{"org", "source"}, nil)
	descInterval = prometheus.NewDesc("salesforce_exporter_refresh_interval_seconds",
		"The source's refresh interval in force: the configured one, stretched when the API budget is tight.", []string{"org", "source"}, nil)
	descBudget = prometheus.NewDesc("salesforce_exporter_api_budget_daily_requests",
		"Requests per rolling 24 hours the exporter may spend: api_budget_percent of DailyApiRequests.", []string{"org"}, nil)
	descSpent = prometheus.NewDesc("salesforce_exporter_api_requests_24h",
		"Salesforce API requests the exporter made in the last 24 hours (token requests excluded: they don't count against the allocation).", []string{"org"}, nil)
	descImplausible = prometheus.NewDesc("salesforce_exporter_implausible_timestamps_total",
		"Server timestamps the exporter ignored as implausible (a Date header two years off the local clock, an event log file dated in the future or over a year back), since the org's refresher started.", []string{"org"}, nil)
	descMaxCursors = prometheus.NewDesc("salesforce_exporter_query_cursors_max",
		"Query cursors the org's client holds open at most, so the queries it runs at once: its bound (8), less one for each cursor the org released (INVALID_QUERY_LOCATOR, logged) and not yet taken back (one comes back after each hour without a release). A full OauthToken read slows in proportion.", []string{"org"}, nil)
	descAppsFolded = prometheus.NewDesc("salesforce_exporter_apps_over_limit",
		"Apps over max_apps_per_org, summed into the app=\"(other)\" series instead of their own; 0 when every app has its own.", []string{"org"}, nil)
	descStorageWriteFailures = prometheus.NewDesc("salesforce_exporter_storage_write_failures_total",
		"Failed writes of the org's file in --storage.path (file=\"state\": first-seen times, API usage history and detection baseline; file=\"tokens\": the row-mode token store) since the org's refresher started: a full disk, a read-only volume or a permission. The exporter serves from memory meanwhile; a restart loses what was not written.", []string{"org", "file"}, nil)
	descStorageLastWrite = prometheus.NewDesc("salesforce_exporter_storage_last_write_success_timestamp_seconds",
		"When the org's file in --storage.path was last written (Unix seconds); absent before the first write. Files are written when their data changes, so an old time alone means nothing changed.", []string{"org", "file"}, nil)
	descStorageLastFailure = prometheus.NewDesc("salesforce_exporter_storage_last_write_failure_timestamp_seconds",
		"When a write of the org's file in --storage.path last failed (Unix seconds); 0 before the first failure. A failed write is retried at every publish, so a failure newer than the last success is a write still failing, whatever the write cadence.", []string{"org", "file"}, nil)
	descStorageLeaseHeld = prometheus.NewDesc("salesforce_exporter_storage_lease_held",
		"1 when this replica holds the org's storage lease (<org>.lease in --storage.path) and writes its state; 0 while another replica holds it: this one serves from the state as it read it and writes nothing until the lease is released or expires (--storage.lease-duration). Absent with leases off.", []string{"org"}, nil)
	descSourceVisibility = prometheus.NewDesc("salesforce_source_visibility_limited",
		"1 when the integration user sees only its own rows of the source's object, for want of a permission (sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application, or View All Users for its deactivated-user figures): the source's numbers would look like a quiet org. Absent when the permissions could not be read (salesforce_source_visibility says unverified)."+cached, []string{"org", "source"}, nil)
	descSourceVisibilityState = prometheus.NewDesc("salesforce_source_visibility",
		"1 for the source's visibility, 0 for the other states: visibility=\"full\" (the integration user sees every user's rows), \"limited\" (it sees only part, for want of a permission: sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application, or View All Users for the deactivated-user figures) or \"unverified\" (its permissions could not be read from PermissionSetAssignment, which needs View Setup and Configuration, Assign Permission Sets or Manage Users: it may see only part). Absent before the first check."+cached, []string{"org", "source", "visibility"}, nil)
)

var statusMetrics = metricSet{
	descs: []*prometheus.Desc{descUp, descSourceUp, descSourceEnabled, descLastSuccess, descDuration, descInterval, descBudget, descSpent, descImplausible, descMaxCursors, descAppsFolded,
		descStorageWriteFailures, descStorageLastWrite, descStorageLastFailure, descStorageLeaseHeld, descSourceVisibility, descSourceVisibilityState},
	org: collectStatus,
}

// collectStatus emits the org's status: up, each source's refreshes and
// visibility, the API budget and the storage writes.
func collectStatus(e *emitter, s *snapshot.Snapshot) {
	e.gauge(descUp, b2f(s.Up()), e.org)
	collectSourceStatus(e, s)
	if s.BudgetDaily > 0 {
		e.gauge(descBudget, s.BudgetDaily, e.org)
	}
	e.gauge(descSpent, float64(s.Requests24h), e.org)
	e.gauge(descAppsFolded, float64(s.AppsFolded), e.org)
	e.counter(descImplausible, float64(s.ImplausibleTimes), e.org)
	if s.MaxOpenCursors > 0 {
		e.gauge(descMaxCursors, float64(s.MaxOpenCursors), e.org)
	}
	collectStorageWrites(e, s)
	collectVisibility(e, s)
}

// collectSourceStatus emits each source's refresh status.
func collectSourceStatus(e *emitter, s *snapshot.Snapshot) {
	for _, name := range config.Sources {
		st, ok := s.Sources[name]
		if !ok {
			continue
		}
		e.gauge(descSourceEnabled, b2f(st.Enabled), e.org, name)
		if !st.Enabled {
			continue
		}
		e.gauge(descSourceUp, b2f(st.Up), e.org, name)
		e.gauge(descInterval, st.Interval.Seconds(), e.org, name)
		if !st.LastSuccess.IsZero() {
			e.gauge(descLastSuccess, float64(st.LastSuccess.UnixMilli())/1000, e.org, name)
		}
		if !st.LastAttempt.IsZero() {
			e.gauge(descDuration, st.Duration.Seconds(), e.org, name)
		}
	}
}

// collectStorageWrites emits how the writes of the org's files have gone,
// and whether this replica holds the org's storage lease.
func collectStorageWrites(e *emitter, s *snapshot.Snapshot) {
	if s.StorageLease != "" {
		e.gauge(descStorageLeaseHeld, b2f(s.StorageLease == snapshot.StorageLeaseHeld), e.org)
	}
	for _, file := range []string{snapshot.StorageFileState, snapshot.StorageFileTokens} {
		w, ok := s.StorageWrites[file]
		if !ok {
			continue
		}
		e.counter(descStorageWriteFailures, float64(w.Failures), e.org, file)
		if !w.LastSuccess.IsZero() {
			e.gauge(descStorageLastWrite, float64(w.LastSuccess.UnixMilli())/1000, e.org, file)
		}
		failed := 0.0
		if !w.LastFailure.IsZero() {
			failed = float64(w.LastFailure.UnixMilli()) / 1000
		}
		e.gauge(descStorageLastFailure, failed, e.org, file)
	}
}

// collectVisibility emits what each source that can tell sees of the org.
func collectVisibility(e *emitter, s *snapshot.Snapshot) {
	for _, name := range config.Sources {
		v, ok := s.Visibility[name]
		if !ok {
			continue
		}
		if !v.Unverified || v.Limited {
			e.gauge(descSourceVisibility, b2f(v.Limited), e.org, name)
		}
		state := v.State()
		for _, st := range snapshot.VisibilityStates {
			e.gauge(descSourceVisibilityState, b2f(st == state), e.org, name, st)
		}
	}
}
