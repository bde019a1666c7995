package config

// Sources the exporter can refresh, each with its own cadence.
const (
	SourceOAuthTokens = "oauth_tokens"
	SourceApps        = "apps"
	SourceSessions    = "sessions"
	SourceLogins      = "logins"
	SourceAPIUsage    = "api_usage"
	SourceLimits      = "limits"
	SourceECAs        = "external_client_apps"
	// SourceThreatDetection reads the Threat Detection stores (Shield or
	// Event Monitoring add-on); off unless the org's sources block enables it.
	SourceThreatDetection = "threat_detection"
	SourcePosture         = "posture"
	// SourceStream is the real-time event stream (Pub/Sub API); off unless
	// the org's stream block enables it.
	SourceStream = "stream"
	// SourceAPIEvents reads the stored API events (ApiEvent, Shield or
	// Event Monitoring add-on) by SOQL; off unless the org's sources
	// block enables it, and refused beside a stream of ApiEventStream.
	SourceAPIEvents = "api_events"
	// SourceAppMetadata reads the connected apps' OAuth scopes and IP
	// relaxation through the Metadata API, which needs Modify Metadata
	// Through Metadata API Functions (or Modify All Data); off unless the
	// org's sources block enables it.
	SourceAppMetadata = "app_metadata"
)

// Sources lists every source name.
var Sources = []string{SourceOAuthTokens, SourceApps, SourceSessions, SourceLogins, SourceAPIUsage, SourceLimits, SourceECAs, SourcePosture, SourceAppMetadata, SourceThreatDetection, SourceStream, SourceAPIEvents}

// OptInSources are off unless the org's sources block enables them: they
// need a paid add-on most orgs lack (threat_detection, api_events), or a
// permission far stronger than the rest of the exporter's (app_metadata).
var OptInSources = map[string]bool{SourceThreatDetection: true, SourceAPIEvents: true, SourceAppMetadata: true}
