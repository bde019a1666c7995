package refresh

import (
	"context"
	"math"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce/pubsub"
)

// Spec declares one source: everything the refresher, the check command and
// the collector need to know about it, in one place. Each source file
// declares its spec beside the source; Specs is the registry. The config
// keeps only the source's name (config.Sources) and its default interval
// (config.DefaultSourceIntervals), which it applies when it loads the file;
// TestSpecsCoverConfigSources ties the names to the specs.
type Spec struct {
	// Name is the source's config name: one of config.Sources.
	Name string
	// Permission is what the source needs, as check names it.
	Permission string
	// HasPermission reports whether the integration user's permissions
	// grant what the source needs.
	HasPermission func(salesforce.UserPermissions) bool
	// PermissionUnread is set when the permission the source needs is not
	// among those read (salesforce.UserPermissions): HasPermission tells
	// only what it needs besides, and check leaves "has it" unknown; the
	// probe tells.
	PermissionUnread bool
	// SeesAll is set for a source whose object silently shows only the
	// integration user's own rows for want of a permission, rather than
	// fail: it reports whether the permissions show every user's rows. Only
	// the permissions tell whether such a source sees everything.
	SeesAll func(salesforce.UserPermissions) bool
	// Missing names, in the logs and the visibility, the permission that a
	// limited view lacks (when SeesAll is set).
	Missing string
	// Probe makes the cheapest calls that prove the source works, for
	// check, and prices one refresh. Its result counts even with an error.
	Probe func(ctx context.Context, c *salesforce.Client, in ProbeInput) (ProbeResult, error)
	// Resources are the API resources its refreshes request, as
	// salesforce.RequestInfo names them: the exporter's request counters of
	// each org start at zero for these.
	Resources []string
	// newSource returns the source, with no state yet.
	newSource func() source
}

// Shrinks reports whether the source's object silently shows only the
// integration user's own rows for want of a permission, rather than fail
// (SeesAll is set).
func (s *Spec) Shrinks() bool { return s.SeesAll != nil }

// Specs is the registry: every source's spec, in the order a cycle
// refreshes them. Limits come first (they set the API budget), apps before
// the token sources whose rows are joined to them. A new source is its spec
// here, its file, its metrics in collector/ and its name in config.
func Specs() []*Spec {
	return []*Spec{
		&limitsSpec,
		&appsSpec,
		&tokensSpec,
		&postureSpec,
		&appMetadataSpec,
		&ecaSpec,
		&sessionsSpec,
		&loginsSpec,
		&apiUsageSpec,
		&threatsSpec,
		&streamSpec,
		&apiEventsSpec,
	}
}

// SpecOf returns the spec of the source of that config name, or nil.
func SpecOf(name string) *Spec {
	for _, s := range Specs() {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ProbeInput is what a probe may use besides the client.
type ProbeInput struct {
	Org config.Org
	// Enabled is whether the org's config enables the source.
	Enabled bool
	// Perms are the integration user's permissions; nil when they could
	// not be read.
	Perms *salesforce.UserPermissions
	// TokensComplete is set when the oauth_tokens source works and sees
	// every user's tokens, External Client Apps' included (check probes it
	// before external_client_apps).
	TokensComplete bool
	// StreamOptions are Pub/Sub client options for the stream's probe (a
	// loopback transport); nil for none.
	StreamOptions []pubsub.Option
	// Clean makes an error's text fit for the report (check redacts the
	// ids a SOQL error may quote); nil keeps it as it is.
	Clean func(error) string
}

// clean is Clean, or the error's text without one.
func (in ProbeInput) clean(err error) string {
	if in.Clean == nil {
		return err.Error()
	}
	return in.Clean(err)
}

// ProbeResult is what a probe found, for check's report.
type ProbeResult struct {
	// Cost prices the source's refreshes.
	Cost Cost
	// Per-source detail; nil or "" when the source has none.
	OauthTokenMode                    string
	Rows                              *int
	DailyFiles, HourlyFiles, DaysKept *int
	Apps                              *int
	Limits                            salesforce.Limits
	// Note says why a working source has nothing to report.
	Note string
	// Limited says why the source works with only part of what it was
	// asked for (a stream topic the user may not subscribe to); "" when
	// it has all of it.
	Limited string
	// UsersHidden: fewer User records are readable than users hold tokens,
	// so the source's view is limited for want of View All Users.
	UsersHidden bool
	// TokensComplete: the source sees every user's tokens (see ProbeInput).
	TokensComplete bool
	// Notes are worth knowing but stop nothing.
	Notes []string
	// Availability is, for a source of paid objects (threat_detection),
	// whether the org has each: check's tier report.
	Availability []ObjectAvailability
}

// ObjectAvailability is whether the org has one object a source reads.
type ObjectAvailability struct {
	Name  string // the object
	State string // Available, Unavailable or Unknown
	Why   string
}

// Cost prices a source in API requests: PerRefresh for each refresh, and
// PerDay more whatever the interval (a daily full read, say).
type Cost struct {
	PerRefresh float64
	PerDay     float64
}

// ptr returns a pointer to n, for ProbeResult's optional counts.
func ptr(n int) *int { return &n }

// Daily is the cost of a day at refreshesPerDay refreshes, each part
// rounded up.
func (c Cost) Daily(refreshesPerDay float64) int64 {
	return int64(math.Ceil(c.PerRefresh*refreshesPerDay)) + int64(math.Ceil(c.PerDay))
}
