package refresh

import (
	"time"
)

// Kinds of app.
const (
	KindConnectedApp      = "connected_app"
	KindExternalClientApp = "external_client_app"
)

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

	// HasTokens is true when the OAuth token figures (TokenStats) are known.
	HasTokens bool
	TokenStats
	FirstSeen time.Time // when the exporter first saw the app (kept across restarts)

	HasSessions bool
	Sessions    int64

	HasAPIUsage             bool
	Requests24h, Requests7d int64
	Errors24h, Errors7d     int64

	HasLogins                  bool
	LoginSuccess, LoginFailure int64
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
	BudgetDaily        float64 // requests per day the exporter may spend
	Requests24h        int64   // requests the exporter made in the last 24 hours
	TokenMode          string  // "aggregate" or "rows"
	PermissionWarnings []string

	// History is the org's daily history per app (history.go), oldest day
	// first; shared between snapshots, so never modified.
	History []HistoryDay
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
