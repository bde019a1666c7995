package snapshot

import (
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Kinds of app.
const (
	KindConnectedApp      = "connected_app"
	KindExternalClientApp = "external_client_app"
	// KindSalesforceInternal is a Salesforce-internal app seen only in
	// ApiTotalUsage: a CONNECTED_APP_ID with the 888 prefix, which names no
	// ConnectedApplication and is never an uninstalled third-party app.
	KindSalesforceInternal = "salesforce_internal"
)

// NoLoginHistory is the app label for active OAuth sessions whose
// LoginHistory row is missing, so the app that opened them is unknown.
const NoLoginHistory = "(unknown)"

// NoConnectedApp is the app label for API requests made without a connected app
// (a browser session, say): ApiTotalUsage rows with an empty CONNECTED_APP_ID.
const NoConnectedApp = "(none)"

// InternalApp is the app label of a Salesforce-internal app whose
// ApiTotalUsage rows carry no CONNECTED_APP_NAME.
const InternalApp = "(salesforce internal)"

// Visibility is whether a source sees every user's rows. Salesforce answers
// a user without the permission with its own rows only, and no error.
type Visibility struct {
	Limited bool
	// Unverified is true when the integration user's permissions could not
	// be read and nothing in the data showed the view limited: the source
	// may see everything or only part, and unknown must not pass for full.
	Unverified bool
	// Missing names the permission the integration user lacks, when
	// Limited; when Unverified, what reading the permissions needs.
	Missing string
}

// Visibility states, as the salesforce_source_visibility metric names them.
const (
	VisibilityFull       = "full"
	VisibilityLimited    = "limited"
	VisibilityUnverified = "unverified"
)

// VisibilityStates lists the states in the order the metric emits them.
var VisibilityStates = []string{VisibilityFull, VisibilityLimited, VisibilityUnverified}

// State is VisibilityFull, VisibilityLimited or VisibilityUnverified.
func (v Visibility) State() string {
	switch {
	case v.Limited:
		return VisibilityLimited
	case v.Unverified:
		return VisibilityUnverified
	}
	return VisibilityFull
}

// AppUsage is everything the exporter knows about one app in one org.
type AppUsage struct {
	Name       string
	ID         string // ConnectedApplication or External Client App Id (18 characters when known)
	MenuItemID string
	Kind       string
	Installed  bool
	Known      bool
	Owner      string
	// AdminApproved is nil when unknown.
	AdminApproved *bool
	// LookAlikeOf names the known app this one imitates, and
	// LookAlikeOfID its Id: an app that is not known whose name matches
	// the known app's only loosely (Skeleton), with another Id; "" for
	// none.
	LookAlikeOf, LookAlikeOfID string

	// HasTokens is true when the OAuth token figures (TokenStats) are known.
	HasTokens bool
	salesforce.TokenStats
	// OauthTokenGroups are the OauthToken (AppName, AppMenuItemId) groups
	// of an External Client App: its token rows, which the review and
	// revoke file under its Id.
	OauthTokenGroups []TokenGroup
	// TokensPerUser marks an External Client App whose figures were read
	// per user from the App OAuth Usage resources (OauthToken could not show
	// every user's tokens): its OauthToken rows are not counted again.
	TokensPerUser bool

	FirstSeen time.Time // when the exporter first saw the app (kept across restarts)
	stateKey  string    // its key in the state's first-seen times (firstSeenKey), set by Build

	HasSessions bool
	Sessions    int64

	HasAPIUsage             bool
	Requests24h, Requests7d int64
	Errors24h, Errors7d     int64
	// HasAPIFamilies is set when the app's requests by API family are
	// known (ApiTotalUsage API_FAMILY and API_RESOURCE), in the 24h and
	// 7d windows.
	HasAPIFamilies                          bool
	RequestsByFamily24h, RequestsByFamily7d APIFamilyCounts

	HasLogins                  bool
	LoginSuccess, LoginFailure int64
	// HasLoginFlows is set when LoginsByFlow is known: the app's logins of
	// the 24-hour window by flow (a SOAP login() counts when it names the app).
	HasLoginFlows bool
	LoginsByFlow  FlowCounts

	// Detection is the app's network and object figures over the 24h
	// window; nil when the detection baseline has never seen the app.
	Detection *detect.AppFigures

	// HighWater is the app's recent high-water marks (highwater.go), set by
	// SetHighWater from the history after Build and Cap.
	HighWater HighWater

	// Posture is the app's OAuth policy and blast radius (posture.go); nil
	// when the posture source has nothing on it.
	Posture *AppPosture
}

// TokenGroup names OauthToken rows by what they carry of their app.
type TokenGroup struct {
	AppName, MenuItemID string
}

// DetectionInfo is what the org's detection figures are counted over.
type DetectionInfo struct {
	// SensitiveObjects names AppFigures.ObjectRequests' entries.
	SensitiveObjects []string
	// IOCLists are the configured IOC lists' names.
	IOCLists []string
	// DroppedRows counts rows and logins ignored for the cap on apps.
	DroppedRows int64
	// Tracker is the org's baseline the figures came from, for the review's
	// per-user evidence (Evidence, IOCHits, LoginEvidence). It is safe for
	// concurrent use: each call takes its lock. It keeps ingesting after
	// the snapshot was taken, so its answers may be newer than the figures;
	// MinBaseline is its min_baseline.
	Tracker     *detect.Tracker
	MinBaseline time.Duration
}

// SourceStatus is the state of one source of one org.
type SourceStatus struct {
	Enabled     bool
	Up          bool
	LastSuccess time.Time
	LastAttempt time.Time
	Duration    time.Duration
	Interval    time.Duration // effective, after budget stretching
	LastError   string
}

// Snapshot is what the exporter knows about one org at one instant. It is
// immutable once published; readers must not modify it.
type Snapshot struct {
	Org   string
	Taken time.Time
	Apps  []AppUsage // sorted by Kind then Name

	HasTokenTotals bool
	InactiveUsers  int64

	HasLimits                      bool
	DailyAPIMax, DailyAPIRemaining int64

	APIUsageEnd   time.Time // zero when no log data
	APIUsageStart time.Time // oldest log data inside the 7d window

	Sources map[string]SourceStatus

	// Budget.
	BudgetDaily float64 // requests per day the exporter may spend
	Requests24h int64   // requests the exporter made in the last 24 hours
	TokenMode   string  // "aggregate" or "rows"
	// ImplausibleTimes counts the server timestamps the org's client ignored
	// (salesforce.Client.ImplausibleTimes) since the refresher started.
	ImplausibleTimes int64
	// MaxOpenCursors is how many query cursors the org's client holds open
	// at most (salesforce.Client.MaxOpenCursors): its bound, less the slots
	// shed after the org released a cursor.
	MaxOpenCursors     int
	PermissionWarnings []string
	// AppsFolded is how many apps over max_apps_per_org are summed into the
	// app="(other)" row.
	AppsFolded int
	// StorageWrites is, by StorageFileState and StorageFileTokens, how the
	// writes of the org's files have gone; nil without --storage.path or
	// when read-only.
	StorageWrites map[string]StorageWrite
	// StorageLease is whether this replica holds the org's storage lease
	// (StorageLeaseHeld) or another does (StorageLeaseElsewhere: it writes
	// nothing); "" without leases (refresh/lease.go).
	StorageLease string
	// DetectionReset is set when the org's refresher started its detection
	// baseline from nothing; zero when it restored one from the state.
	DetectionReset DetectionReset

	// Detection is nil when the snapshot has no detection baseline.
	Detection *DetectionInfo
	// Posture is nil until the posture source has read the org.
	Posture *OrgPosture
	// Metadata is nil until the app_metadata source has read the org.
	Metadata *OrgMetadata

	// Threats is the threat_detection source's latest read; nil before
	// its first success. Shared between snapshots, so never modified.
	Threats *Threats

	// Visibility is, by source, whether it sees every user's rows (or
	// unverified, when its permissions could not be read); absent before its
	// first check.
	Visibility map[string]Visibility
	// HasAPIUsageScan is true once the api_usage source has run.
	HasAPIUsageScan bool
	// Stream is the real-time event stream's status; nil when it is off.
	Stream *Stream
	// APIEvents is the api_events source's figures; nil when it is off.
	APIEvents *APIEvents
	// APIUsageRowsSkipped counts the malformed ApiTotalUsage rows left out
	// since the exporter started.
	APIUsageRowsSkipped int64
	// APIUsageRowsFolded counts the ApiTotalUsage rows folded for want of
	// room in a file's staging since the exporter started.
	APIUsageRowsFolded UsageFolded
	// HasECAStatus is true once the external_client_apps source has
	// succeeded; ECAsDegraded is how many apps its latest read served from
	// their last good figures, since their own read failed.
	HasECAStatus bool
	ECAsDegraded int

	// APIFamilyReadable is true when an ApiTotalUsage file in the 24h
	// window had API_FAMILY or API_RESOURCE.
	APIFamilyReadable bool
	// HasLoginFlows is true once the logins source has run: LoginsByFlow
	// counts the org's logins of the 24-hour window by flow, and
	// LegacyLogins the integrations on a legacy flow (most used first).
	// LoginSubTypeReadable is false when LoginSubType is not readable, so
	// OAuth logins count under the unknown flow.
	HasLoginFlows        bool
	LoginSubTypeReadable bool
	LoginsByFlow         FlowCounts
	LegacyLogins         []LegacyLogin

	// History is the org's daily history per app (history.go), oldest day
	// first; shared between snapshots, so never modified.
	History []HistoryDay
	// Rows are the apps' RowsProcessed figures by source of API events
	// (rows.go), sorted by source and app; nil when neither runs.
	Rows []AppRows
}

// Up reports whether every enabled source's latest refresh succeeded.
func (s *Snapshot) Up() bool {
	for _, st := range s.Sources {
		if st.Enabled && !st.Up {
			return false
		}
	}
	return len(s.Sources) > 0
}

// The files of an org that the exporter writes in --storage.path, as the
// file label of the storage metrics names them.
const (
	StorageFileState  = "state"  // <org>.state.json: first-seen times, API usage, history, detection
	StorageFileTokens = "tokens" // <org>.tokens: the row-mode token store
)

// DetectionReset says when and why an org's refresher started its
// detection baseline (and the rest of its state) from nothing.
type DetectionReset struct {
	At     time.Time
	Reason string // DetectionResetSetAside, DetectionResetUnreadable or DetectionResetNoState
}

// The reasons of a DetectionReset.
const (
	// DetectionResetSetAside: the state file could not be read (a damaged
	// file, or one an incompatible version wrote); it was set aside, or left
	// as it is by a replica that does not write it.
	DetectionResetSetAside = "set_aside"
	// DetectionResetUnreadable: the state file was read, but the detection
	// baseline in it was not (an unknown layout version, or damage).
	DetectionResetUnreadable = "unreadable_version"
	// DetectionResetNoState: there was no baseline to restore (no state
	// file, or one without a baseline): a first start, a storage folder
	// lost or not shared, or no --storage.path.
	DetectionResetNoState = "no_state"
)

// The values of Snapshot.StorageLease.
const (
	StorageLeaseHeld      = "held"
	StorageLeaseElsewhere = "elsewhere"
)

// StorageWrite is how writing one of an org's files has gone since the
// refresher started. A full disk or a read-only volume shows here, and in
// the exporter's log, while the exporter goes on serving from memory.
type StorageWrite struct {
	Failures    int64     // failed writes
	LastSuccess time.Time // zero before the first write that succeeded
	LastFailure time.Time // zero before the first write that failed
	LastError   string    // why the latest write failed; "" once one succeeds
}

// UsageFolded counts the ApiTotalUsage rows folded for want of room in a
// file's staging: apps past the usage store's caps, networks and objects
// past the detection's (salesforce_api_usage_rows_folded_total).
type UsageFolded struct {
	Apps, Networks, Objects int64
}
