package snapshot

import (
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/detect"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Parts is what the sources last read: the input of Build. Each source
// fills its own fields (the refresher's sources, contribute); the refresher
// adds the request header's usage figure.
type Parts struct {
	// apps
	AppsKnown     bool // the apps source has succeeded once
	ConnectedApps []salesforce.ConnectedApplication
	MenuItems     []salesforce.AppMenuItem
	// oauth_tokens
	TokensKnown       bool // the token source has succeeded once
	TokenMode         string
	Tokens            []AppTokens
	InactiveUsers     int64
	VisibilityLimited bool
	// external_client_apps
	ECAs         []ECAUsage
	ECAsKnown    bool // the source has succeeded once
	ECAsDegraded int  // apps served from their last good figures
	// ECAForeign is the latest ForeignECATokens answer the refresher
	// computed with the per-user ECA read no older than the token read:
	// the tokens of a group named like an ECA that are another app's.
	ECAForeign map[string]salesforce.TokenStats
	// ECAUsersRead is set when the ECA source's latest refresh read its
	// apps' own users (or tokens per user): only then can ForeignECATokens
	// weigh them against a token read that ended before it began.
	ECAUsersRead bool
	// api_usage; nil until the first read
	APIUsage            *UsageTotals
	APIUsageRowsSkipped int64
	APIUsageRowsFolded  UsageFolded
	// Visibility by source (sessions, logins, oauth_tokens), when known
	Visibility map[string]Visibility
	// sessions and logins by app name; nil until the first read
	Sessions map[string]int64
	Logins   map[string][2]int64
	// LoginFlows are the logins by flow; nil until the first read
	LoginFlows *LoginFlowParts
	// limits, then the newer Sforce-Limit-Info header
	HasLimits                      bool
	DailyAPIMax, DailyAPIRemaining int64
	HeaderUsage                    *salesforce.APIUsage
	// threat_detection; nil until the first read
	Threats *Threats
	// posture; nil until the first read
	Posture *PostureParts
	// Stream is the stream source's status and live figures; nil when off.
	Stream *Stream
	// APIEvents is the api_events source's figures; nil when off.
	APIEvents *APIEvents
	// app_metadata; nil until the first read
	AppMetadata *AppMetadataParts
	// the detection baseline (fed by api_usage and logins); nil in tests
	Detection         *detect.Tracker
	DetectionIOCLists []string // the IOC list names, in the tracker's order
}

// InventoryFunc finds an app's inventory entry by org, app name and app Id.
type InventoryFunc func(org, appName, appID string) *config.InventoryEntry

// AppTokens are the token figures of one connected app as OauthToken names
// it: by AppName and AppMenuItemId.
type AppTokens struct {
	Name, MenuItemID string
	salesforce.TokenStats
}

// ECAUsage is one External Client App: its names and, when read from the
// App OAuth Usage resources, its OAuth figures.
type ECAUsage struct {
	ID, Name string
	// DeveloperName and Label are its other names: an OauthToken row of the
	// app without an AppMenuItem carries only its name (AppName).
	DeveloperName, Label string
	// HasTokens is set when the figures were read per user from the App
	// OAuth Usage resources; otherwise OauthToken's rows give them (Build).
	HasTokens bool
	// HasUsers is set when TokenStats.Users is the app's own count of
	// users from the App OAuth Usage resources, without its token figures:
	// the evidence ForeignECATokens compares OauthToken's rows with.
	HasUsers bool
	salesforce.TokenStats
}

// UsageTotals are the ApiTotalUsage counts summed into 24h and 7d windows
// ending at the end of the newest period, by usage key (the api_usage
// source sums them: for each day, a Daily file when there is one, otherwise
// that day's Hourly files, so an event is never counted twice; a period that
// straddles a window's start counts in proportion to the part inside it).
type UsageTotals struct {
	End                      time.Time
	Start                    time.Time // oldest data in the 7d window
	Req24, Req7, Err24, Err7 map[string]int64
	// Family24 and Family7 are the requests by API family (APIFamilyCounts),
	// by usage key, for the apps whose files had one; HasFamily is set when
	// a file in the 24h window had API_FAMILY or API_RESOURCE.
	Family24, Family7 map[string]APIFamilyCounts
	HasFamily         bool
	Names             map[string]string // by usage key
	IDs               map[string]string // by usage key
}

// SetVisibility records a source's visibility.
func (p *Parts) SetVisibility(source string, vis Visibility) {
	if p.Visibility == nil {
		p.Visibility = map[string]Visibility{}
	}
	p.Visibility[source] = vis
}
