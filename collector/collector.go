// Package collector is the Prometheus side of the exporter: the Collector
// that turns the refreshers' snapshots (package refresh) into metrics, the
// request metrics handed to the Salesforce clients as observers, and the
// HTTP handler that serves the exposition. The Collector only ever reads the
// latest snapshots, so a scrape never calls Salesforce and never waits for it.
// It is the only package that registers metrics.
package collector

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

const namespace = "salesforce"

const cached = " Cached from the latest refresh; see salesforce_last_refresh_success_timestamp_seconds."

var (
	appLabels = []string{"org", "app", "app_id"}

	descInfo = prometheus.NewDesc("salesforce_connected_app_info",
		"One series per app seen in any source, with its kind, whether it is installed, whether it is on the approved inventory, its owner there, and whether only admin-approved users may use it (empty when unknown).",
		[]string{"org", "app", "app_id", "kind", "installed", "known", "owner", "admin_approved"}, nil)
	descUsers = prometheus.NewDesc("salesforce_connected_app_authorized_users",
		"Distinct users who hold at least one OAuth token for the app (OauthToken, or the External Client App usage API)."+cached, appLabels, nil)
	descTokens = prometheus.NewDesc("salesforce_connected_app_oauth_tokens",
		"OAuth tokens (approvals) for the app."+cached, appLabels, nil)
	descUses = prometheus.NewDesc("salesforce_connected_app_oauth_token_uses",
		"Sum of UseCount over the app's current tokens; it falls when tokens are revoked, so it is a gauge."+cached, appLabels, nil)
	descLastUsed = prometheus.NewDesc("salesforce_connected_app_last_used_timestamp_seconds",
		"Newest LastUsedDate among the app's tokens, as Unix seconds; absent if never used."+cached, appLabels, nil)
	descFirstAuth = prometheus.NewDesc("salesforce_connected_app_first_authorized_timestamp_seconds",
		"Oldest CreatedDate among the app's current tokens, as Unix seconds."+cached, appLabels, nil)
	descFirstSeen = prometheus.NewDesc("salesforce_connected_app_first_seen_timestamp_seconds",
		"When this exporter first saw the app with tokens or API traffic, as Unix seconds; kept across restarts in the state file.", appLabels, nil)
	descStale = prometheus.NewDesc("salesforce_connected_app_stale_oauth_tokens",
		"Tokens unused for longer than stale_after (LastUsedDate, or CreatedDate if never used)."+cached, appLabels, nil)
	descInactiveTok = prometheus.NewDesc("salesforce_connected_app_inactive_user_oauth_tokens",
		"Tokens held by users whose User.IsActive is false."+cached, appLabels, nil)
	descSessions = prometheus.NewDesc("salesforce_connected_app_oauth_sessions",
		"Active OAuth sessions (AuthSession SessionType Oauth2, LastModifiedDate + NumSecondsValid > now) whose LoginHistory.Application is the app. The join is by app name and approximate: Salesforce overwrites a reused session's LoginHistoryId. Sessions without a login row, or whose app name several apps share, count under app=\"(unknown)\"."+cached, appLabels, nil)
	descAPIRequests = prometheus.NewDesc("salesforce_connected_app_api_requests",
		"ApiTotalUsage events for the app in the window ending at salesforce_api_usage_data_end_timestamp_seconds. Requests without a connected app count under app=\"(none)\"."+cached, []string{"org", "app", "app_id", "window"}, nil)
	descAPIErrors = prometheus.NewDesc("salesforce_connected_app_api_errors",
		"ApiTotalUsage events for the app with STATUS_CODE >= 400, in the window ending at salesforce_api_usage_data_end_timestamp_seconds."+cached, []string{"org", "app", "app_id", "window"}, nil)
	descLogins = prometheus.NewDesc("salesforce_connected_app_oauth_logins",
		"OAuth logins (LoginHistory) whose Application is the app, in the last 24 hours; result is success when Status is Success."+cached, []string{"org", "app", "app_id", "result", "window"}, nil)
	descInactiveUsers = prometheus.NewDesc("salesforce_inactive_users_with_oauth_tokens",
		"Distinct deactivated users in the org who still hold any OAuth token."+cached, []string{"org"}, nil)
	descAPILimit = prometheus.NewDesc("salesforce_org_daily_api_requests_limit",
		"The org's DailyApiRequests allocation (Max) from /limits or Sforce-Limit-Info.", []string{"org"}, nil)
	descAPIRemaining = prometheus.NewDesc("salesforce_org_daily_api_requests_remaining",
		"DailyApiRequests remaining in the org's rolling 24 hours, from /limits or Sforce-Limit-Info.", []string{"org"}, nil)
	descUsageEnd = prometheus.NewDesc("salesforce_api_usage_data_end_timestamp_seconds",
		"End of the newest ApiTotalUsage log period ingested, as Unix seconds: the windows of salesforce_connected_app_api_requests end here.", []string{"org"}, nil)
	descUsageStart = prometheus.NewDesc("salesforce_api_usage_data_start_timestamp_seconds",
		"Start of the oldest ApiTotalUsage data inside the 7d window, as Unix seconds: with salesforce_api_usage_data_end_timestamp_seconds it says how much history the 7d window really holds (less after a fresh start, since free orgs keep log files a day).", []string{"org"}, nil)
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
	descVisibility = prometheus.NewDesc("salesforce_exporter_oauth_tokens_visibility_limited",
		"1 when every OAuth token the integration user can see is its own: it lacks Customize Application, and the token metrics would look like a clean org.", []string{"org"}, nil)
	descImplausible = prometheus.NewDesc("salesforce_exporter_implausible_timestamps_total",
		"Server timestamps the exporter ignored as implausible (a Date header two years off the local clock, an event log file dated in the future or over a year back), since the org's refresher started.", []string{"org"}, nil)
	descAppsFolded = prometheus.NewDesc("salesforce_exporter_apps_over_limit",
		"Apps over max_apps_per_org, summed into the app=\"(other)\" series instead of their own; 0 when every app has its own.", []string{"org"}, nil)
	descStorageWriteFailures = prometheus.NewDesc("salesforce_exporter_storage_write_failures_total",
		"Failed writes of the org's file in --storage.path (file=\"state\": first-seen times, API usage history and detection baseline; file=\"tokens\": the row-mode token store) since the org's refresher started: a full disk, a read-only volume or a permission. The exporter serves from memory meanwhile; a restart loses what was not written.", []string{"org", "file"}, nil)
	descStorageLastWrite = prometheus.NewDesc("salesforce_exporter_storage_last_write_success_timestamp_seconds",
		"When the org's file in --storage.path was last written (Unix seconds); absent before the first write. Files are written when their data changes, so an old time alone means nothing changed.", []string{"org", "file"}, nil)
	descStorageLastFailure = prometheus.NewDesc("salesforce_exporter_storage_last_write_failure_timestamp_seconds",
		"When a write of the org's file in --storage.path last failed (Unix seconds); 0 before the first failure. A failed write is retried at every publish, so a failure newer than the last success is a write still failing, whatever the write cadence.", []string{"org", "file"}, nil)
	descTokenMode = prometheus.NewDesc("salesforce_exporter_oauth_token_mode",
		"How OauthToken is read: mode=\"aggregate\" (GROUP BY, a few requests per refresh) or mode=\"rows\" (incremental row sync, when the org rejects GROUP BY).", []string{"org", "mode"}, nil)
)

// The sources' visibility and input quality (real-org and hostile-input checks).
var (
	descSourceVisibility = prometheus.NewDesc("salesforce_source_visibility_limited",
		"1 when the integration user sees only its own rows of the source's object, for want of a permission (sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application, or View All Users for its deactivated-user figures): the source's numbers would look like a quiet org. Absent when the permissions could not be read (salesforce_source_visibility says unverified)."+cached, []string{"org", "source"}, nil)
	descSourceVisibilityState = prometheus.NewDesc("salesforce_source_visibility",
		"1 for the source's visibility, 0 for the other states: visibility=\"full\" (the integration user sees every user's rows), \"limited\" (it sees only part, for want of a permission: sessions: Manage Users; logins: Manage Users or Monitor Login History; oauth_tokens: Customize Application, or View All Users for the deactivated-user figures) or \"unverified\" (its permissions could not be read from PermissionSetAssignment, which needs View Setup and Configuration, Assign Permission Sets or Manage Users: it may see only part). Absent before the first check."+cached, []string{"org", "source", "visibility"}, nil)
	descUsageRowsSkipped = prometheus.NewDesc("salesforce_api_usage_rows_skipped_total",
		"Malformed ApiTotalUsage rows (short, oversized, or with a bad STATUS_CODE) left out of the API usage counts since the exporter started; the rest of each file counts.", []string{"org"}, nil)
	descUsageRowsFolded = prometheus.NewDesc("salesforce_api_usage_rows_folded_total",
		"ApiTotalUsage rows past a per-file cap since the exporter started, by cap: apps (rows of apps past 1000 a file or the usage state's bound: in no app's request counts), networks and objects (rows of networks or objects past the detection's staging caps: counted as requests, and a folded network's as new, but in neither the baseline nor the evidence). The log names each file and cap.", []string{"org", "cap"}, nil)
	descECAsDegraded = prometheus.NewDesc("salesforce_external_client_apps_degraded",
		"External Client Apps whose users or tokens could not be read at the latest refresh (an error about that app only): their figures are the last good ones, or absent if there were none; the log names them."+cached, []string{"org"}, nil)
)

// Snapshots is what the Collector reads: the latest snapshot of every org
// (*refresh.Manager in production, a stub in tests).
type Snapshots interface {
	Snapshots() []*snapshot.Snapshot
}

// Collector exposes the latest snapshots as Prometheus metrics. It implements prometheus.Collector.
type Collector struct {
	src     Snapshots
	dropped *prometheus.CounterVec
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector over src.
func New(src Snapshots) *Collector {
	return &Collector{src: src, dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "salesforce_exporter_dropped_series_total",
		Help: "Series left out of /metrics because they could not be built from the snapshot (a value Prometheus rejects, or an app whose cleaned name and app_id repeat another's), counted at each collection of the data; the rest of the collection goes on.",
	}, []string{"org"})}
}

// SetOrgs deletes the dropped-series counters of every org not in orgs (an
// org removed from the config); call it once the refreshers of the config
// in force are running.
func (c *Collector) SetOrgs(orgs []string) {
	keep := map[string]bool{}
	for _, o := range orgs {
		keep[o] = true
	}
	deleteOrgsBut(c.dropped, keep)
}

// SelfMetrics returns the collector's own counters, for the self registry:
// they must not sit in the data part, which is encoded once per snapshot.
func (c *Collector) SelfMetrics() prometheus.Collector { return c.dropped }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descUsers, descTokens, descUses, descLastUsed, descFirstAuth, descFirstSeen, descStale, descInactiveTok,
		descSessions, descAPIRequests, descAPIErrors, descLogins, descInactiveUsers, descAPILimit, descAPIRemaining, descUsageEnd, descUsageStart,
		descUp, descSourceUp, descSourceEnabled, descLastSuccess, descDuration, descInterval, descBudget, descSpent, descVisibility, descTokenMode, descImplausible, descAppsFolded, descStorageWriteFailures, descStorageLastWrite, descStorageLastFailure,
		descSourceVisibility, descSourceVisibilityState, descUsageRowsSkipped, descUsageRowsFolded, descECAsDegraded} {
		ch <- d
	}
	for _, d := range detectionDescs {
		ch <- d
	}
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var org string
	// Every label value from Salesforce is cleaned (CleanLabel), and a series
	// that still cannot be built is counted and left out: one bad value never
	// stops the collection, so the orgs after it keep their series.
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		for i, l := range labels {
			labels[i] = snapshot.CleanLabel(l)
		}
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
		if err != nil {
			c.dropped.WithLabelValues(org).Inc()
			return
		}
		ch <- m
	}
	for _, s := range c.src.Snapshots() {
		if s == nil {
			continue
		}
		org = snapshot.CleanLabel(s.Org)
		c.dropped.WithLabelValues(org)
		gauge(descUp, b2f(s.Up()), org)
		for _, name := range config.Sources {
			st, ok := s.Sources[name]
			if !ok {
				continue
			}
			gauge(descSourceEnabled, b2f(st.Enabled), org, name)
			if !st.Enabled {
				continue
			}
			gauge(descSourceUp, b2f(st.Up), org, name)
			gauge(descInterval, st.Interval.Seconds(), org, name)
			if !st.LastSuccess.IsZero() {
				gauge(descLastSuccess, float64(st.LastSuccess.UnixMilli())/1000, org, name)
			}
			if !st.LastAttempt.IsZero() {
				gauge(descDuration, st.Duration.Seconds(), org, name)
			}
		}
		if s.BudgetDaily > 0 {
			gauge(descBudget, s.BudgetDaily, org)
		}
		gauge(descSpent, float64(s.Requests24h), org)
		gauge(descAppsFolded, float64(s.AppsFolded), org)
		if m, err := prometheus.NewConstMetric(descImplausible, prometheus.CounterValue, float64(s.ImplausibleTimes), org); err == nil {
			ch <- m
		} else {
			c.dropped.WithLabelValues(org).Inc()
		}
		for _, file := range []string{snapshot.StorageFileState, snapshot.StorageFileTokens} {
			w, ok := s.StorageWrites[file]
			if !ok {
				continue
			}
			if m, err := prometheus.NewConstMetric(descStorageWriteFailures, prometheus.CounterValue, float64(w.Failures), org, file); err == nil {
				ch <- m
			} else {
				c.dropped.WithLabelValues(org).Inc()
			}
			if !w.LastSuccess.IsZero() {
				gauge(descStorageLastWrite, float64(w.LastSuccess.UnixMilli())/1000, org, file)
			}
			failed := 0.0
			if !w.LastFailure.IsZero() {
				failed = float64(w.LastFailure.UnixMilli()) / 1000
			}
			gauge(descStorageLastFailure, failed, org, file)
		}
		if s.TokenMode != "" {
			gauge(descTokenMode, 1, org, s.TokenMode)
		}
		if s.HasTokenTotals {
			gauge(descInactiveUsers, float64(s.InactiveUsers), org)
			gauge(descVisibility, b2f(len(s.PermissionWarnings) > 0), org)
		}
		for _, name := range config.Sources {
			if v, ok := s.Visibility[name]; ok {
				if !v.Unverified || v.Limited {
					gauge(descSourceVisibility, b2f(v.Limited), org, name)
				}
				state := v.State()
				for _, st := range snapshot.VisibilityStates {
					gauge(descSourceVisibilityState, b2f(st == state), org, name, st)
				}
			}
		}
		if s.HasECAStatus {
			gauge(descECAsDegraded, float64(s.ECAsDegraded), org)
		}
		if s.HasAPIUsageScan {
			ch <- prometheus.MustNewConstMetric(descUsageRowsSkipped, prometheus.CounterValue, float64(s.APIUsageRowsSkipped), org)
			f := s.APIUsageRowsFolded
			for _, c := range []struct {
				name string
				n    int64
			}{{"apps", f.Apps}, {"networks", f.Networks}, {"objects", f.Objects}} {
				ch <- prometheus.MustNewConstMetric(descUsageRowsFolded, prometheus.CounterValue, float64(c.n), org, c.name)
			}
		}
		if s.HasLimits {
			gauge(descAPILimit, float64(s.DailyAPIMax), org)
			gauge(descAPIRemaining, float64(s.DailyAPIRemaining), org)
		}
		if !s.APIUsageEnd.IsZero() {
			gauge(descUsageEnd, float64(s.APIUsageEnd.Unix()), org)
			gauge(descUsageStart, float64(s.APIUsageStart.Unix()), org)
		}
		seen := make(map[[2]string]bool, len(s.Apps))
		for i := range s.Apps {
			a := &s.Apps[i]
			// Two names that differ only in bytes CleanLabel replaces would
			// make two series with one label set, which fails the gather.
			k := [2]string{snapshot.CleanLabel(a.Name), snapshot.CleanLabel(a.ID)}
			if seen[k] {
				c.dropped.WithLabelValues(org).Inc()
				continue
			}
			seen[k] = true
			approved := ""
			if a.AdminApproved != nil {
				approved = boolStr(*a.AdminApproved)
			}
			gauge(descInfo, 1, org, a.Name, a.ID, a.Kind, boolStr(a.Installed), boolStr(a.Known), a.Owner, approved)
			l := []string{org, a.Name, a.ID}
			if a.HasTokens {
				gauge(descUsers, float64(a.Users), l...)
				gauge(descTokens, float64(a.Tokens), l...)
				gauge(descUses, float64(a.Uses), l...)
				gauge(descStale, float64(a.Stale), l...)
				gauge(descInactiveTok, float64(a.InactiveTokens), l...)
				if !a.LastUsed.IsZero() {
					gauge(descLastUsed, float64(a.LastUsed.UnixMilli())/1000, l...)
				}
				if !a.FirstAuthorized.IsZero() {
					gauge(descFirstAuth, float64(a.FirstAuthorized.UnixMilli())/1000, l...)
				}
			}
			if !a.FirstSeen.IsZero() {
				gauge(descFirstSeen, float64(a.FirstSeen.Unix()), l...)
			}
			if a.HasSessions {
				gauge(descSessions, float64(a.Sessions), l...)
			}
			if a.HasAPIUsage {
				gauge(descAPIRequests, float64(a.Requests24h), org, a.Name, a.ID, "24h")
				gauge(descAPIRequests, float64(a.Requests7d), org, a.Name, a.ID, "7d")
				gauge(descAPIErrors, float64(a.Errors24h), org, a.Name, a.ID, "24h")
				gauge(descAPIErrors, float64(a.Errors7d), org, a.Name, a.ID, "7d")
			}
			if a.HasLogins {
				gauge(descLogins, float64(a.LoginSuccess), org, a.Name, a.ID, "success", "24h")
				gauge(descLogins, float64(a.LoginFailure), org, a.Name, a.ID, "failure", "24h")
			}
		}
		collectDetection(ch, s)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// RequestMetrics are the exporter's own counters of the requests it made.
// They reach the Salesforce clients as request observers (ForOrg), so the
// client never learns that Prometheus exists.
type RequestMetrics struct {
	requests *prometheus.CounterVec
	failures *prometheus.CounterVec

	mu sync.RWMutex
	// orgs are the orgs counted; nil until SetOrgs, when every org counts.
	orgs map[string]bool
}

// NewRequestMetrics registers the exporter's request counters on reg.
func NewRequestMetrics(reg prometheus.Registerer) *RequestMetrics {
	m := &RequestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "exporter", Name: "api_requests_total",
			Help: "Salesforce API requests the exporter made, retries and token requests included."}, []string{"org", "resource"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "exporter", Name: "api_request_failures_total",
			Help: "Salesforce API requests that failed: no response, or a status other than 2xx."}, []string{"org", "resource"}),
	}
	reg.MustRegister(m.requests, m.failures)
	return m
}

// ForOrg pre-creates the org's counters at zero for the common resources and
// returns the request observer that counts the org's requests. It is a
// refresh.ObserverFactory.
func (m *RequestMetrics) ForOrg(org string) func(salesforce.RequestInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.orgs != nil {
		m.orgs[org] = true
	}
	for _, r := range []string{"token", "limits", "query:OauthToken", "query:User", "query:ConnectedApplication", "query:AppMenuItem", "query:AuthSession", "query:LoginHistory", "query:EventLogFile", "eventlogfile_download", "apps_oauth_usage"} {
		m.requests.WithLabelValues(org, r)
		m.failures.WithLabelValues(org, r)
	}
	return func(ri salesforce.RequestInfo) { m.observe(org, ri) }
}

// SetOrgs keeps the counters of orgs and deletes every series of any other
// org: an org removed from the config leaves no series behind, and a late
// request of its stopped refresher or of a client built for it counts
// nowhere. An org added later (ForOrg) counts again, from zero.
func (m *RequestMetrics) SetOrgs(orgs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := map[string]bool{}
	for _, o := range orgs {
		keep[o] = true
	}
	m.orgs = keep
	for _, v := range []*prometheus.CounterVec{m.requests, m.failures} {
		deleteOrgsBut(v, keep)
	}
}

// deleteOrgsBut deletes the series of v whose org is not in keep.
func deleteOrgsBut(v *prometheus.CounterVec, keep map[string]bool) {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		v.Collect(ch)
		close(ch)
	}()
	gone := map[string]bool{}
	for mt := range ch {
		var pb dto.Metric
		if err := mt.Write(&pb); err != nil {
			continue
		}
		for _, lp := range pb.GetLabel() {
			if lp.GetName() == "org" && !keep[lp.GetValue()] {
				gone[lp.GetValue()] = true
			}
		}
	}
	for o := range gone {
		v.DeletePartialMatch(prometheus.Labels{"org": o})
	}
}

func (m *RequestMetrics) observe(org string, ri salesforce.RequestInfo) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.orgs != nil && !m.orgs[org] {
		return
	}
	m.requests.WithLabelValues(org, ri.Resource).Inc()
	if ri.Err != nil || ri.StatusCode < 200 || ri.StatusCode > 299 {
		m.failures.WithLabelValues(org, ri.Resource).Inc()
	}
}
