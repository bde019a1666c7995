package review

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Severities, in words so that the report reads without color.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

var severityRank = map[string]int{SeverityCritical: 0, SeverityWarning: 1, SeverityInfo: 2}

// Finding kinds. The order of findingKinds is the ranking within a severity.
//
// Adding a kind: add its constant, a row in findingKinds at its place in
// the ranking (the row's Why is the finding's "why it matters") and the
// row's detector, a function in detectors.go that returns the kind's
// findings. A kind found elsewhere (the IOC and new-network detection) has
// no detector: its findings come in Options.Extra, and addFindings fills in
// their Why and commands when empty and ranks them with the rest.
// docs/review-json.md lists the kinds for readers of /review.json; a test
// fails when a kind is missing there.
const (
	KindUnknownApp       = "unknown_app"
	KindNewApp           = "new_app"
	KindIOCMatch         = "ioc_match"
	KindNewNetwork       = "new_network"
	KindDeactivatedUsers = "deactivated_user_tokens"
	KindNotInstalled     = "not_installed_app"
	KindSelfAuthorizable = "self_authorizable_apps"
	KindAPISurge         = "api_surge"
	KindAPIErrors        = "api_error_rate"
	KindStaleTokens      = "stale_tokens"
	KindAbandonedApp     = "abandoned_app"
)

type kindInfo struct {
	Kind, Why string
	// detect gives the kind's findings, unranked; nil for a kind whose
	// findings come in Options.Extra.
	detect func(*findingContext) []Finding
}

var findingKinds = []kindInfo{
	{KindUnknownApp, "An app nobody approved holds tokens that read the org's data through the API; in 2025 users were talked into authorizing a look-alike data loader that exported whole orgs.", unknownAppFindings},
	{KindIOCMatch, "Traffic from an address or client known to be used by attackers is a sign the tokens are already in the wrong hands.", nil},
	{KindNewNetwork, "A token used from a network it has never been used from may have been stolen.", nil},
	{KindNewApp, "A new app with many users widens the set of tokens that can read the org's data.", newAppFindings},
	{KindDeactivatedUsers, "Deactivating a user leaves their OAuth tokens in the org (they are still listed here); revoking them at offboarding removes any doubt about whether they can be used again, for example after the account is reactivated.", deactivatedUserFindings},
	{KindNotInstalled, "An app that is not installed is governed by no policy in the org: any user can authorize it and its tokens are easy to miss.", notInstalledFindings},
	{KindSelfAuthorizable, "Users can authorize these apps themselves, so one phishing message is enough to hand out a token; admin approval closes that door.", selfAuthorizableFindings},
	{KindAPISurge, "A sudden rise in an app's API traffic is how a stolen integration token looks while data is being exported.", apiSurgeFindings},
	{KindAPIErrors, "Many failing requests point to a broken integration or to someone probing the API with a token.", apiErrorFindings},
	{KindStaleTokens, "A token nobody uses still grants access; revoking it costs nothing and shrinks what can be stolen.", staleTokenFindings},
	{KindAbandonedApp, "An app many users authorized but nobody uses any more is access without an owner.", abandonedAppFindings},
}

// FindingKinds lists the kinds in ranking order.
func FindingKinds() []string {
	out := make([]string, len(findingKinds))
	for i, k := range findingKinds {
		out[i] = k.Kind
	}
	return out
}

func kindRank(kind string) int {
	for i, k := range findingKinds {
		if k.Kind == kind {
			return i
		}
	}
	return len(findingKinds)
}

// Finding is one thing the reviewer should act on this week.
type Finding struct {
	// ID is unique in the report and is the HTML anchor of the finding.
	ID       string `json:"id"`
	Org      string `json:"org"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// Summary is one sentence of what it is.
	Summary string `json:"summary"`
	// Why says why it matters.
	Why string `json:"why"`
	// App is the app concerned; empty for an org-wide finding.
	App     string `json:"app,omitempty"`
	AppID   string `json:"app_id,omitempty"`
	AppKind string `json:"app_kind,omitempty"`
	// Evidence is the facts behind it, one line each; EvidenceData the same as numbers.
	Evidence     []string     `json:"evidence"`
	EvidenceData EvidenceData `json:"evidence_data"`
	// Command is the revoke dry run that lists what would go; ConfirmCommand applies it.
	Command        string `json:"command,omitempty"`
	ConfirmCommand string `json:"confirm_command,omitempty"`
	// Action is what to do where no command does it (Setup), or in addition.
	Action string `json:"action,omitempty"`
	// Section is the anchor of the evidence section that details it.
	Section string `json:"section,omitempty"`

	notInstalled int // 1 for an app that is not installed, for the ranking
}

// EvidenceData is a finding's evidence as numbers and names.
type EvidenceData struct {
	Users           int64     `json:"users,omitempty"`
	Tokens          int64     `json:"tokens,omitempty"`
	Requests24h     int64     `json:"requests_24h,omitempty"`
	DailyAverage    int64     `json:"daily_average_before,omitempty"`
	ErrorRate24h    float64   `json:"error_rate_24h,omitempty"`
	FirstAuthorized time.Time `json:"first_authorized,omitzero"`
	LastAuthorized  time.Time `json:"last_authorized,omitzero"`
	LastUsed        time.Time `json:"last_used,omitzero"`
	UserNames       []string  `json:"users_sample,omitempty"`
	Apps            []string  `json:"apps,omitempty"`
	Networks        []string  `json:"networks,omitempty"`
}

// Thresholds of the findings that have no flag. Those that mirror an alert
// use its threshold (TestThresholdsMatchTheMixin reads the mixin's _config).
const (
	manyAuthorizations = 3    // SalesforceNewUnknownAppWithUsers: an unknown app this new with this many users is critical
	surgeFactor        = 3.0  // SalesforceAPISurge: 24h over 3x the daily average before
	surgeMinRequests   = 1000 // ...and at least this many
	surgeHighWater     = 3.0  // ...and over 3x its busiest day of the 28 before, when known (apiSurgeHighWaterRatio)
	errorRateMax       = 0.2  // SalesforceAPIErrorRateHigh
	errorMinRequests   = 500
	grownFactor        = 1.5 // the baseline diff: users grew by half...
	grownMinUsers      = 5   // ...and by at least this many
	maxEvidenceRows    = 500 // per-user rows per app section
	sampleUsers        = 10  // user names in a finding's evidence
)

// pseudoApp reports whether name is a label for traffic without an app.
func pseudoApp(name string) bool {
	return name == snapshot.NoConnectedApp || name == snapshot.NoLoginHistory
}

// Growth is an app whose users grew since the baseline.
type Growth struct {
	AppRow
	BaselineUsers  int64 `json:"baseline_users"`
	BaselineTokens int64 `json:"baseline_tokens"`
}

// addFindings derives the ranked findings, the per-app evidence and the
// baseline diff from a built report.
func addFindings(r *Report, byApp map[string][]TokenRow, now time.Time, o Options) {
	c := newFindingContext(r, now, o)
	// The detectors run in ranking order. The sort below is stable, so
	// findings that rank equal (only ever of one kind) keep the order their
	// detector gave them.
	var fs []Finding
	for _, k := range findingKinds {
		if k.detect != nil {
			fs = append(fs, k.detect(c)...)
		}
	}
	for _, e := range o.Extra {
		fs = append(fs, c.extra(e))
	}
	slices.SortStableFunc(fs, compareFindings)
	addAppEvidence(r, fs, byApp, o)
	r.Findings = fs
	if o.Baseline != nil {
		diffBaseline(r, o.Baseline)
	}
	r.History = o.History
}

// addAppEvidence numbers the ranked findings and gives each app with
// findings one evidence section, with every authorization.
func addAppEvidence(r *Report, fs []Finding, byApp map[string][]TokenRow, o Options) {
	byKey := inventoryByKey(r)
	done := map[string]bool{}
	for i := range fs {
		f := &fs[i]
		f.Org = r.Org
		f.Why = cmp.Or(f.Why, whyOf(f.Kind))
		f.ID = anchor(r.Org, fmt.Sprintf("f%d", i+1))
		if f.App == "" {
			if f.Section != "" {
				f.Section = anchor(r.Org, f.Section)
			}
			continue
		}
		k := AppRow{App: f.App, AppID: f.AppID, Kind: f.AppKind}.key()
		f.Section = anchor(r.Org, "app", k)
		if done[k] {
			continue
		}
		done[k] = true
		row, ok := byKey[k]
		if !ok {
			row = AppRow{App: f.App, AppID: f.AppID, Kind: f.AppKind}
		}
		auth := append([]TokenRow(nil), byApp[k]...)
		slices.SortFunc(auth, func(x, y TokenRow) int {
			return cmp.Or(x.AuthorizedAt.Compare(y.AuthorizedAt), strings.Compare(x.Username, y.Username))
		})
		d := AppDetail{AppRow: row, Authorizations: auth, Detection: o.detection[k]}
		if o.FullApp == "" || !strings.EqualFold(f.App, o.FullApp) {
			d.Authorizations, d.MoreAuthorizations = auth[:min(len(auth), maxEvidenceRows)], max(0, len(auth)-maxEvidenceRows)
		}
		r.AppEvidence = append(r.AppEvidence, d)
	}
	if o.FullApp != "" {
		// The app asked for gets its section, finding or not.
		for _, a := range r.Inventory {
			if k := a.key(); !done[k] && strings.EqualFold(a.App, o.FullApp) {
				done[k] = true
				auth := append([]TokenRow(nil), byApp[k]...)
				slices.SortFunc(auth, func(x, y TokenRow) int {
					return cmp.Or(x.AuthorizedAt.Compare(y.AuthorizedAt), strings.Compare(x.Username, y.Username))
				})
				r.AppEvidence = append(r.AppEvidence, AppDetail{AppRow: a, Authorizations: auth, Detection: o.detection[k]})
			}
		}
	}
}

// diffBaseline lists the apps gone, and those whose users grew, since the
// baseline report.
func diffBaseline(r *Report, baseline *Report) {
	now := map[string]bool{}
	for _, a := range r.Inventory {
		now[a.key()] = true
	}
	old := map[string]AppRow{}
	for _, a := range baseline.Inventory {
		old[a.key()] = a
		if !now[a.key()] && (a.Tokens > 0 || a.Requests7d > 0) {
			r.GoneSinceBaseline = append(r.GoneSinceBaseline, a)
		}
	}
	for _, a := range r.Inventory {
		b, ok := old[a.key()]
		if ok && a.Users-b.Users >= grownMinUsers && float64(a.Users) >= grownFactor*float64(b.Users) {
			r.GrownSinceBaseline = append(r.GrownSinceBaseline, Growth{AppRow: a, BaselineUsers: b.Users, BaselineTokens: b.Tokens})
		}
	}
}

// inventoryByKey is the report's inventory by app key.
func inventoryByKey(r *Report) map[string]AppRow {
	byKey := map[string]AppRow{}
	for _, a := range r.Inventory {
		byKey[a.key()] = a
	}
	return byKey
}

// compareFindings ranks findings: severity first, then the kind's place in
// findingKinds, then an app that is not installed (no policy applies to it:
// the 2025 phishing apps were not), then the most users, the most requests, and the app's name.
func compareFindings(a, b Finding) int {
	return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
		cmp.Compare(b.notInstalled, a.notInstalled), cmp.Compare(b.EvidenceData.Users, a.EvidenceData.Users), cmp.Compare(b.EvidenceData.Requests24h, a.EvidenceData.Requests24h), strings.Compare(a.App, b.App))
}

func whyOf(kind string) string {
	for _, k := range findingKinds {
		if k.Kind == kind {
			return k.Why
		}
	}
	return ""
}

// anchor builds an HTML id from parts: letters and digits kept, the rest hex.
func anchor(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		for _, c := range []byte(p) {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				b.WriteByte(c)
			case c >= 'A' && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			default:
				fmt.Fprintf(&b, "_%02x", c)
			}
		}
	}
	return "o-" + b.String()
}

// humanDuration says d as a person would: "45s", "12m30s", "5h20m", or,
// from two days on, "183 days".
func humanDuration(d time.Duration) string {
	d = max(d, 0)
	pair := func(n, unit int64, big, small string) string {
		if n%unit == 0 {
			return fmt.Sprintf("%d%s", n/unit, big)
		}
		return fmt.Sprintf("%d%s%d%s", n/unit, big, n%unit, small)
	}
	switch s := int64(d.Round(time.Second) / time.Second); {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return pair(s, 60, "m", "s")
	case d < 48*time.Hour:
		return pair(int64(d.Round(time.Minute)/time.Minute), 60, "h", "m")
	}
	return fmt.Sprintf("%d days", int64((d+12*time.Hour)/(24*time.Hour)))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// holders is "1 user holds" or "n users hold".
func holders(n int64) string {
	if n == 1 {
		return "1 user holds"
	}
	return fmt.Sprintf("%d users hold", n)
}

func listSample(names []string) string {
	if len(names) <= sampleUsers {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:sampleUsers], ", ") + fmt.Sprintf(" and %d more", len(names)-sampleUsers)
}

func quoteName(s string) string { return "\"" + s + "\"" }

// fmtSeconds is a full timestamp: the order inside a burst of
// authorizations minutes apart must survive.
func fmtSeconds(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
