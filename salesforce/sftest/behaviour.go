package sftest

import "time"

// Behaviour selects among undocumented Salesforce behaviours.
type Behaviour struct {
	// OauthTokenAggregates lets OauthToken accept GROUP BY and aggregate
	// functions. Undocumented; off by default, so clients must cope without.
	OauthTokenAggregates bool
	// AggregateQuirk, when OauthTokenAggregates is on, makes the accepted
	// aggregates misbehave as an org might (see AggregateQuirk).
	AggregateQuirk AggregateQuirk
	// NullOauthTokenIDs answers null for OauthToken.Id, as the object
	// reference says it always is. Off by default: real orgs return an Id
	// (0CQ...) for every row (troystaylor/SharingIsCaring#2).
	NullOauthTokenIDs bool
	// CappedTotalSize makes a cursor cut at 2,500 rows report totalSize 2500
	// instead of the full count.
	CappedTotalSize bool
	// RelationshipFilters lets WHERE use relationship fields such as User.IsActive.
	// On by default in NewOrg.
	RelationshipFilters bool
	// FutureLogFiles lists (and serves) EventLogFile rows whose CreatedDate
	// or period end lies after the org's clock, as an org with corrupt dates
	// might. Off by default: a real org publishes a file only after the hour
	// or day it covers has ended, and lists it from its CreatedDate on.
	FutureLogFiles bool
	// LateLoginHistory makes the org write each LoginHistory row up to this
	// long after its LoginTime (each row its own delay, below the bound):
	// until then no query sees it, so a row can appear after a read with a
	// LoginTime before the newest row that read returned. A real org writes
	// its rows a little after the login. Off (zero) by default;
	// LoginSpec.WrittenAfter sets one row's delay.
	LateLoginHistory time.Duration
	// FutureLoginHistory shows a LoginHistory row whose LoginTime lies
	// after the org's clock from the moment it is added, as an org whose
	// rows carry a skewed time might. Off by default: no row is seen before
	// its LoginTime.
	FutureLoginHistory bool
	// NoLoginSubType answers a query selecting LoginHistory.LoginSubType
	// with INVALID_FIELD, as an org or API version without the field
	// might. Off by default: the object reference lists the field.
	NoLoginSubType bool
	// ECATokensHidden leaves External Client App tokens out of OauthToken,
	// as the exporter once assumed. Off by default: a real org lists them
	// there too (sfdx-hardis 7.5.0 reads them from OauthToken).
	ECATokensHidden bool
	// ECAMenuItems gives External Client App tokens an AppMenuItem, whose
	// ApplicationId is the app's 0xI Id and whose Type is
	// ExternalClientApplication. Off by default: a real org's ECA tokens
	// usually have AppMenuItemId null.
	ECAMenuItems bool
	// NoExternalClientApplication answers SOQL on ExternalClientApplication
	// with INVALID_TYPE, as an org or API version without the object would.
	// Off by default: the object is queryable (sfdx-hardis queries it).
	NoExternalClientApplication bool
	// PublicUserSharing makes every User record readable, as an org whose
	// org-wide default for users is Public Read Only. Off by default: with
	// a Private default, a user without View All Users sees only its own
	// User record, and OauthToken.User of others' tokens comes back null.
	PublicUserSharing bool
	// UserAccessPolicies gives PermissionSetAssignment its IsRevoked field
	// (API 57.0+), which exists only in orgs with user access policies on.
	// Off by default: selecting it is INVALID_FIELD.
	UserAccessPolicies bool
	// ThreatDetection makes the Threat Detection stores (ApiAnomalyEventStore
	// and the others, AddThreat) readable, as in an org with the Salesforce
	// Shield or Event Monitoring add-on whose integration user has View
	// Real-Time Event Monitoring Data. Off by default: most orgs have
	// neither, and a store then answers INVALID_TYPE.
	ThreatDetection bool
	// ThreatEventsOnTime stores each Threat Detection event at its
	// EventDate. Off by default: a real org stores it after its models have
	// scored it (DefaultThreatDelay), so CreatedDate comes later.
	ThreatEventsOnTime bool
	// APIEventStorage makes ApiEvent (AddAPIEvent) readable, as in an org
	// with the Shield or Event Monitoring add-on, ApiEvent storage on in
	// Event Manager, and an integration user with View Real-Time Event
	// Monitoring Data. Off by default: most orgs have none of them, and
	// ApiEvent then answers INVALID_TYPE.
	APIEventStorage bool
	// APIEventsOnTime stores each API event at its EventDate. Off by
	// default: a real org writes the storage from the event bus, a while
	// after the event (DefaultAPIEventDelay).
	APIEventsOnTime bool
	// APIAccessControl turns API Access Control on: PermissionSet gets its
	// PermissionsUseAnyApiClient field, which public audit tools find only
	// then. Off by default: selecting or filtering on it is INVALID_FIELD.
	APIAccessControl bool
	// ApproveUninstalledAppsField gives PermissionSet its
	// PermissionsCanApproveUninstalledApps field ("Approve Uninstalled
	// Connected Apps"), which not every org has. Off by default.
	ApproveUninstalledAppsField bool
	// UseAnyAPIAuthField gives PermissionSet PermissionsUseAnyApiAuth,
	// which the documentation does not list. Off by default.
	UseAnyAPIAuthField bool
	// NoECAPolicyObject answers SOQL on ExtlClntAppOauthPlcyCnfg (an
	// External Client App's OAuth policy) with INVALID_TYPE, as an org or
	// user without it might. Off by default: public audit tools query its
	// ExternalClientApplicationId and PermittedUsersPolicyType.
	NoECAPolicyObject bool
	// MetadataOwnIDs makes listMetadata give each ConnectedApp an Id of
	// its own rather than its ConnectedApplication Id, which the
	// documentation does not promise: the exporter then matches the apps
	// by API name.
	MetadataOwnIDs bool
}
