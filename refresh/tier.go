package refresh

import (
	"context"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// Availability states of a paid feature, as check reports them. Unknown
// is never taken for available: check fails closed.
const (
	Available   = "yes"
	Unavailable = "no"
	Unknown     = "unknown"
)

// Feature is one paid source of security data, whether the org has it,
// and how late its data is.
type Feature struct {
	Name      string `json:"name"`
	Available string `json:"available"` // Available, Unavailable or Unknown
	Why       string `json:"why,omitempty"`
	// Latency is how late the path delivers an API call or an anomaly.
	Latency string `json:"latency"`
	// ReadBy is the source that reads it, or why none does.
	ReadBy string `json:"read_by"`
	// moot: its being unknown leaves the tier known (never probed, or an
	// empty object that proves the add-on either way).
	moot bool
	// proves: the org has the add-on, whatever Available says (ApiEvent
	// answers, but holds nothing).
	proves bool
}

// Tier is what check says the org has: the free tier, the Event
// Monitoring add-on (alone or within Shield: both license the same
// objects, so an org cannot be told apart by them), or unknown.
type Tier struct {
	Tier     string    `json:"tier"`
	Features []Feature `json:"features"`
}

// Tiers check reports.
const (
	TierFree            = "free"
	TierEventMonitoring = "event_monitoring_or_shield"
	TierUnknown         = "unknown"
)

// ProbeTier tells the org's tier from the api_usage and threat_detection
// probes check ran (their results and errors) and one query of ApiEvent.
func ProbeTier(ctx context.Context, c *salesforce.Client, apiUsage ProbeResult, apiUsageErr error, threats ProbeResult) Tier {
	var t Tier
	// Hourly ApiTotalUsage files come with Event Monitoring; the free tier
	// has the Daily ones only. None listed while Daily files are: not
	// licensed; no file at all, or an error: unknown.
	hourly := Feature{Name: "ApiTotalUsage hourly log files", Latency: "hours (an Hourly file lands 3 to 6 hours after its hour; the free Daily file a day or more after its day)", ReadBy: "api_usage"}
	switch {
	case apiUsage.HourlyFiles != nil && *apiUsage.HourlyFiles > 0:
		hourly.Available = Available
	case apiUsageErr == nil && apiUsage.DailyFiles != nil && *apiUsage.DailyFiles > 0:
		hourly.Available, hourly.Why = Unavailable, "only Daily files are listed"
	default:
		hourly.Available, hourly.Why = Unknown, "the ApiTotalUsage files could not be listed"
	}
	t.Features = append(t.Features, hourly)

	stored := Feature{Name: "ApiEvent storage (Real-Time Event Monitoring)", Latency: "minutes (SOQL on the stored events: the api_events interval plus Salesforce's storage delay)", ReadBy: "api_events (opt-in)"}
	// ApiEvent is a big object: it takes no COUNT(), so one row of the
	// last 24 hours tells.
	n := 0
	_, err := c.APIEvents(ctx, c.ServerNow().Add(-24*time.Hour), 1, func(salesforce.APIEvent) { n++ })
	switch {
	case err == nil && n > 0:
		stored.Available, stored.Why = Available, "events stored in the last 24 hours"
	case err == nil:
		// The object is there, but storage may be off in Event Manager.
		stored.Available, stored.Why, stored.moot, stored.proves = Unknown, "the object answers (the add-on is there) but holds no event of the last 24 hours: is its storage on in Event Manager?", true, true
	case salesforce.IsObjectRefused(err):
		stored.Available, stored.Why = Unavailable, "ApiEvent is not readable: no Shield or Event Monitoring add-on, or no View Real-Time Event Monitoring Data"
	default:
		stored.Available, stored.Why = Unknown, "ApiEvent could not be queried"
	}
	t.Features = append(t.Features, stored)

	t.Features = append(t.Features, Feature{Name: "API event stream (Pub/Sub API, ApiEventStream)", Available: Unknown,
		Why: "not probed by check: it comes with the same add-on", Latency: "seconds", ReadBy: "none yet", moot: true})

	for _, a := range threats.Availability {
		t.Features = append(t.Features, Feature{Name: "Threat Detection " + a.Name, Available: a.State, Why: a.Why,
			Latency: "minutes after Salesforce's models score the event, plus the source's interval", ReadBy: "threat_detection (opt-in)"})
	}
	if len(threats.Availability) == 0 {
		t.Features = append(t.Features, Feature{Name: "Threat Detection stores", Available: Unknown, Why: "not probed", ReadBy: "threat_detection (opt-in)"})
	}

	yes, unknown := false, false
	for _, f := range t.Features {
		yes = yes || f.proves
		switch f.Available {
		case Available:
			yes = true
		case Unknown:
			unknown = unknown || !f.moot
		}
	}
	switch {
	case yes:
		t.Tier = TierEventMonitoring
	case unknown:
		t.Tier = TierUnknown
	default:
		t.Tier = TierFree
	}
	return t
}
