// Package review builds the weekly OAuth review of an org: the inventory,
// what is new, unknown apps and who authorized them, usage outliers,
// offboarding leaks, stale authorizations and apps that aren't installed,
// with per-user detail that metrics never carry. It also revokes tokens.
package review

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/regfile"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// Options are the review's thresholds.
type Options struct {
	StaleAfter time.Duration
	// Many users but little use: at least HighUsers users, at most LowUse requests in 7 days.
	HighUsers int64
	LowUse    int64
	// Few users but heavy use: at most LowUsers users, at least HighUse requests in 7 days.
	LowUsers int64
	HighUse  int64
	// NewWithin is the "first authorized recently" window (30 days).
	NewWithin time.Duration
	// RecentLeaver puts users deactivated within this long first (90 days).
	RecentLeaver time.Duration
	// Baseline is the previous report, or nil.
	Baseline *Report
	// BaselineFile names it in the report.
	BaselineFile string
	// ConfigFile is the config path the findings' revoke commands name.
	ConfigFile string
	// History is the compact daily history per app the charts are drawn from.
	History History
	// Extra are findings from other detectors (IOC matches, new networks),
	// ranked with the review's own; see findings.go.
	Extra []Finding
	// MaxRows, when above 0, cuts each per-user list (an app's
	// authorizations, the stale authorizations, the offboarding leaks) at
	// that many rows, and says how many were left out: the served page
	// stays small for an org with a million tokens. 0 lists every row.
	MaxRows int
	// FullApp names an app (case-insensitive) whose per-user rows are never
	// cut; it gets an evidence section even without a finding.
	FullApp string
	// Shard names the replica's shard in a sharded fleet (nil when not sharded).
	Shard *ShardInfo

	// detection is the traffic detection's evidence by app key (Build).
	detection map[string]*AppDetection
}

// ShardInfo is which shard of a sharded fleet served the report: it covers
// that shard's orgs only.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// DetailStatus says how fresh the per-user detail of a served report is.
type DetailStatus struct {
	// Taken is when the detail was read; zero when there is none yet.
	Taken time.Time `json:"taken,omitzero"`
	// SnapshotTaken is when the snapshot the detail was read against was
	// taken: the identity of the token data the per-user rows match (zero
	// when there is no read yet). Compare it, not Taken, to tell reads apart.
	SnapshotTaken time.Time `json:"snapshot_taken,omitzero"`
	// RefreshingSince is when a new read started, if one is running.
	RefreshingSince time.Time `json:"refreshing_since,omitzero"`
	// LastError is why the latest read failed, and RetryAfter when the next may start.
	LastError  string    `json:"last_error,omitempty"`
	RetryAfter time.Time `json:"retry_after,omitzero"`
}

// HistoryOf returns the snapshot's daily history as the charts' rows.
func HistoryOf(snap *snapshot.Snapshot) History {
	if len(snap.History) == 0 {
		return nil
	}
	return slices.Clone(History(snap.History))
}

// DefaultOptions are the command's defaults.
func DefaultOptions() Options {
	return Options{StaleAfter: config.DefaultStaleAfter, HighUsers: 20, LowUse: 100, LowUsers: 3, HighUse: 10000, NewWithin: 30 * 24 * time.Hour, RecentLeaver: 90 * 24 * time.Hour}
}

// Report is one org's review. Its JSON form is the --baseline of the next one.
type Report struct {
	Org         string    `json:"org"`
	GeneratedAt time.Time `json:"generated_at"`
	// DataAsOf is the oldest last-success time among the sources used.
	DataAsOf    time.Time               `json:"data_as_of"`
	APIUsageEnd time.Time               `json:"api_usage_data_end,omitzero"`
	APICalls    int64                   `json:"api_calls"`
	Sources     map[string]SourceReport `json:"sources"`
	Thresholds  Thresholds              `json:"thresholds"`
	Baseline    *BaselineInfo           `json:"baseline,omitempty"`

	Inventory        []AppRow    `json:"inventory"`
	NewSinceBaseline []AppRow    `json:"new_since_baseline"`
	NewRecently      []AppRow    `json:"new_recently"`
	Unknown          []AppDetail `json:"unknown_apps"`
	HighUsersLowUse  []AppRow    `json:"high_users_low_use"`
	LowUsersHighUse  []AppRow    `json:"low_users_high_use"`
	Leavers          []Leaver    `json:"offboarding_leaks"`
	Stale            []TokenRow  `json:"stale_authorizations"`
	NotInstalled     []AppRow    `json:"not_installed"`
	// Posture is each app's OAuth policy and blast radius, the riskiest
	// first (posture.go); empty without the posture source.
	Posture []PostureRow `json:"posture,omitempty"`
	// PostureScopesKnown: the opt-in app_metadata source read the apps'
	// scopes and IP relaxation.
	PostureScopesKnown bool `json:"posture_scopes_known"`
	// Legacy are the integrations still on legacy authentication (legacy.go).
	Legacy []LegacyLogin `json:"legacy_authentication"`
	Notes  []string      `json:"notes,omitempty"`

	// The findings, ranked; see findings.go and docs/review-json.md.
	Findings           []Finding   `json:"findings"`
	AppEvidence        []AppDetail `json:"app_evidence"`
	GoneSinceBaseline  []AppRow    `json:"gone_since_baseline"`
	GrownSinceBaseline []Growth    `json:"grown_since_baseline"`
	APIUsageStart      time.Time   `json:"api_usage_data_start,omitzero"`
	History            History     `json:"history,omitempty"`

	// Shard is the shard that served the report, when sharded.
	Shard *ShardInfo `json:"shard,omitempty"`
	// Detail says how fresh a served report's per-user detail is.
	Detail *DetailStatus `json:"detail_status,omitempty"`
	// MoreStale and MoreLeavers count the rows Options.MaxRows left out.
	MoreStale   int `json:"more_stale_authorizations,omitempty"`
	MoreLeavers int `json:"more_offboarding_leaks,omitempty"`

	// Anomalies are the Threat Detection events (anomalies.go); ThreatsRead
	// is set once the threat_detection source has read the org.
	Anomalies     []Anomaly `json:"anomalies"`
	MoreAnomalies int       `json:"more_anomalies,omitempty"`
	ThreatsRead   bool      `json:"threat_detection_read"`
}

// SourceReport is one source's state when the report was built.
type SourceReport struct {
	Up          bool      `json:"up"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Error       string    `json:"error,omitempty"`
}

// Thresholds records the options the report used.
type Thresholds struct {
	StaleAfterDays  int   `json:"stale_after_days"`
	HighUsers       int64 `json:"high_users"`
	LowUse7d        int64 `json:"low_use_7d"`
	LowUsers        int64 `json:"low_users"`
	HighUse7d       int64 `json:"high_use_7d"`
	NewWithinDays   int   `json:"new_within_days"`
	RecentLeaverDay int   `json:"recent_leaver_days"`
}

// BaselineInfo names the previous report.
type BaselineInfo struct {
	File        string    `json:"file"`
	GeneratedAt time.Time `json:"generated_at"`
}

// AppRow is one app's line.
type AppRow struct {
	App       string `json:"app"`
	AppID     string `json:"app_id,omitempty"`
	Kind      string `json:"kind"`
	Installed bool   `json:"installed"`
	Known     bool   `json:"known"`
	Owner     string `json:"owner,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
	// LookAlikeOf names the known app whose name this one's imitates
	// (snapshot.AppUsage.LookAlikeOf), and LookAlikeOfID its Id.
	LookAlikeOf   string `json:"look_alike_of,omitempty"`
	LookAlikeOfID string `json:"look_alike_of_id,omitempty"`
	// RequestsDailyMax is the app's busiest day of requests of the 28
	// before the 24h window (snapshot.HighWater), absent when the
	// exporter's history has none.
	RequestsDailyMax *int64    `json:"requests_daily_max,omitempty"`
	Users            int64     `json:"users"`
	Tokens           int64     `json:"tokens"`
	Sessions         int64     `json:"sessions"`
	Requests24h      int64     `json:"requests_24h"`
	Requests7d       int64     `json:"requests_7d"`
	ErrorRate24h     float64   `json:"error_rate_24h"`
	Stale            int64     `json:"stale_tokens"`
	InactiveTokens   int64     `json:"inactive_user_tokens"`
	LastUsed         time.Time `json:"last_used,omitzero"`
	FirstAuthorized  time.Time `json:"first_authorized,omitzero"`
	// AdminApproved is false when users may authorize the app themselves; nil when unknown.
	AdminApproved *bool `json:"admin_approved,omitempty"`
	// Networks are the networks the detection baseline has seen the app
	// call from, the most recent first (at most maxSeenNetworks).
	Networks []string `json:"networks_seen,omitempty"`
	// DeclaredNetworks and DeclaredObjects are what its inventory entry
	// declares (only for an app the inventory approves).
	DeclaredNetworks []string `json:"declared_networks,omitempty"`
	DeclaredObjects  []string `json:"declared_objects,omitempty"`
}

// maxSeenNetworks bounds the networks an inventory row lists.
const maxSeenNetworks = 16

func (a AppRow) key() string { return a.Kind + "|" + strings.ToLower(a.App) + "|" + a.AppID }

// TokenRow is one authorization, with its user.
type TokenRow struct {
	App          string    `json:"app"`
	AppID        string    `json:"app_id,omitempty"`
	Kind         string    `json:"kind"`
	Username     string    `json:"user"`
	UserID       string    `json:"user_id"`
	UserActive   bool      `json:"user_active"`
	AuthorizedAt time.Time `json:"authorized_at,omitzero"`
	LastUsed     time.Time `json:"last_used,omitzero"`
	UseCount     int64     `json:"use_count"`
}

// AppDetail is an app with the authorizations behind it.
type AppDetail struct {
	AppRow
	Authorizations []TokenRow `json:"authorizations"`
	// MoreAuthorizations counts the rows left out (Options.MaxRows).
	MoreAuthorizations int `json:"more_authorizations,omitempty"`
	// Detection is where the app's requests and logins came from, when the
	// traffic detection flagged it (detection.go).
	Detection *AppDetection `json:"detection,omitempty"`
}

// Leaver is a deactivated user who still holds tokens.
type Leaver struct {
	Username      string     `json:"user"`
	UserID        string     `json:"user_id"`
	DeactivatedAt time.Time  `json:"deactivated_at,omitzero"`
	Recent        bool       `json:"recent"`
	Tokens        []TokenRow `json:"tokens"`
}

// MaxBaselineBytes is the largest baseline file accepted: many times the
// JSON report of an org with a million tokens.
const MaxBaselineBytes = 256 << 20

// LoadBaselines reads a previous review's JSON (one report, or an array of
// them for several orgs) and returns the reports by org.
//
// The file must be a regular file (a symbolic link to one is fine) of at
// most MaxBaselineBytes: a FIFO or a device is refused without being read.
func LoadBaselines(path string) (map[string]*Report, error) {
	b, _, err := regfile.ReadFile(path, MaxBaselineBytes)
	var nr *regfile.NotRegularError
	var tl *regfile.TooLargeError
	switch {
	case errors.As(err, &nr):
		return nil, fmt.Errorf("baseline %s is %w: give the JSON report of the previous review (review --format=json)", path, nr)
	case errors.As(err, &tl):
		return nil, fmt.Errorf("baseline %s is %w: is this the JSON report of the previous review (review --format=json)?", path, tl)
	case err != nil:
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	var many []*Report
	if err := json.Unmarshal(b, &many); err != nil {
		var one Report
		if err2 := json.Unmarshal(b, &one); err2 != nil {
			return nil, fmt.Errorf("baseline %s is not a review JSON report: %w", path, err2)
		}
		many = []*Report{&one}
	}
	out := map[string]*Report{}
	for i, r := range many {
		if r == nil || r.Org == "" || r.GeneratedAt.IsZero() {
			return nil, fmt.Errorf("baseline %s: report %d has no org or generated_at: not a review JSON report", path, i)
		}
		out[r.Org] = r
	}
	return out, nil
}

// Build assembles the report from a snapshot and its detail.
func Build(snap *snapshot.Snapshot, d *Detail, inv func(org, app, id string) *config.InventoryEntry, o Options) *Report {
	now := d.Taken
	r := &Report{
		Org: snap.Org, GeneratedAt: time.Now().UTC(), APIUsageEnd: snap.APIUsageEnd, APIUsageStart: snap.APIUsageStart, APICalls: d.APICalls,
		Sources: map[string]SourceReport{},
		Thresholds: Thresholds{StaleAfterDays: int(o.StaleAfter.Hours() / 24), HighUsers: o.HighUsers, LowUse7d: o.LowUse, LowUsers: o.LowUsers, HighUse7d: o.HighUse,
			NewWithinDays: int(o.NewWithin.Hours() / 24), RecentLeaverDay: int(o.RecentLeaver.Hours() / 24)},
	}
	for name, st := range snap.Sources {
		if !st.Enabled {
			continue
		}
		r.Sources[name] = SourceReport{Up: st.Up, LastSuccess: st.LastSuccess, Error: st.LastError}
		if !st.LastSuccess.IsZero() && (r.DataAsOf.IsZero() || st.LastSuccess.Before(r.DataAsOf)) {
			r.DataAsOf = st.LastSuccess
		}
		if !st.Up {
			r.Notes = append(r.Notes, fmt.Sprintf("source %s is failing (%s): its figures are from %s", name, st.LastError, fmtTime(st.LastSuccess)))
		}
	}
	if d.Err != "" {
		r.Notes = append(r.Notes, "per-user detail unavailable, so the per-user sections are empty: "+d.Err)
	}
	if d.Taken.Before(r.DataAsOf) || r.DataAsOf.IsZero() {
		r.DataAsOf = d.Taken
	}
	r.Anomalies, r.MoreAnomalies = anomalies(snap.Threats)
	r.ThreatsRead = snap.Threats != nil
	rows := map[string]*AppRow{}
	for _, a := range snap.Apps {
		row := AppRow{
			App: a.Name, AppID: a.ID, Kind: a.Kind, Installed: a.Installed, Known: a.Known, Owner: a.Owner,
			Users: a.Users, Tokens: a.Tokens, Sessions: a.Sessions, Requests24h: a.Requests24h, Requests7d: a.Requests7d,
			Stale: a.Stale, InactiveTokens: a.InactiveTokens, LastUsed: a.LastUsed, FirstAuthorized: a.FirstAuthorized,
			AdminApproved: a.AdminApproved, LookAlikeOf: a.LookAlikeOf, LookAlikeOfID: a.LookAlikeOfID,
		}
		if a.HighWater.HasRequests {
			row.RequestsDailyMax = &a.HighWater.Requests
		}
		if a.HighWater.HasRequests {
			row.RequestsDailyMax = &a.HighWater.Requests
		}
		if a.Requests24h > 0 {
			row.ErrorRate24h = float64(a.Errors24h) / float64(a.Requests24h)
		}
		// Known decides: a look-alike matches an entry's name loosely, yet
		// is not the approved app and must not show its purpose.
		if e := inv(snap.Org, a.Name, a.ID); e != nil && a.Known {
			row.Purpose = e.Purpose
			row.DeclaredNetworks, row.DeclaredObjects = e.Networks, e.Objects
		}
		if snap.Detection != nil && snap.Detection.Tracker != nil && a.Detection != nil {
			row.Networks = snap.Detection.Tracker.SeenNetworks(a.Detection.Key, maxSeenNetworks)
		}
		r.Inventory = append(r.Inventory, row)
		rows[row.key()] = &r.Inventory[len(r.Inventory)-1]
	}
	slices.SortFunc(r.Inventory, func(a, b AppRow) int { return cmp.Or(cmp.Compare(b.Users, a.Users), strings.Compare(a.App, b.App)) })

	// 2. New since the baseline, and first authorized recently.
	if o.Baseline != nil {
		r.Baseline = &BaselineInfo{File: o.BaselineFile, GeneratedAt: o.Baseline.GeneratedAt}
		seen := map[string]bool{}
		for _, a := range o.Baseline.Inventory {
			seen[a.key()] = true
		}
		for _, a := range r.Inventory {
			if !seen[a.key()] && (a.Tokens > 0 || a.Requests7d > 0) {
				r.NewSinceBaseline = append(r.NewSinceBaseline, a)
			}
		}
	} else {
		r.Notes = append(r.Notes, "no baseline: this is the first review, so nothing is compared (pass --baseline with this report's JSON next time)")
	}
	for _, a := range r.Inventory {
		if !a.FirstAuthorized.IsZero() && now.Sub(a.FirstAuthorized) < o.NewWithin {
			r.NewRecently = append(r.NewRecently, a)
		}
	}
	slices.SortFunc(r.NewRecently, func(a, b AppRow) int { return b.FirstAuthorized.Compare(a.FirstAuthorized) })

	byApp := map[string][]TokenRow{}
	for _, t := range d.Tokens {
		k := t.Kind + "|" + strings.ToLower(t.App) + "|" + t.AppID
		byApp[k] = append(byApp[k], t)
	}
	// 3. Unknown apps, with who authorized them and when.
	for _, a := range r.Inventory {
		if a.Known || a.Tokens == 0 {
			continue
		}
		auth := append([]TokenRow(nil), byApp[a.key()]...)
		slices.SortFunc(auth, func(x, y TokenRow) int {
			return cmp.Or(x.AuthorizedAt.Compare(y.AuthorizedAt), strings.Compare(x.Username, y.Username))
		})
		r.Unknown = append(r.Unknown, AppDetail{AppRow: a, Authorizations: auth})
	}
	// 4. Usage outliers (needs API usage data).
	if _, ok := snap.Sources[config.SourceAPIUsage]; ok && !snap.APIUsageEnd.IsZero() {
		for _, a := range r.Inventory {
			if a.Users >= o.HighUsers && a.Requests7d <= o.LowUse {
				r.HighUsersLowUse = append(r.HighUsersLowUse, a)
			}
			if a.Users > 0 && a.Users <= o.LowUsers && a.Requests7d >= o.HighUse {
				r.LowUsersHighUse = append(r.LowUsersHighUse, a)
			}
		}
		slices.SortFunc(r.LowUsersHighUse, func(a, b AppRow) int { return cmp.Compare(b.Requests7d, a.Requests7d) })
	} else {
		r.Notes = append(r.Notes, "no API usage data: the usage outlier sections are empty")
	}
	// 5. Offboarding leaks: recent leavers first, newest first.
	leavers := map[string]*Leaver{}
	for _, t := range d.Tokens {
		if t.UserActive {
			continue
		}
		l := leavers[t.UserID]
		if l == nil {
			l = &Leaver{Username: t.Username, UserID: t.UserID, DeactivatedAt: d.Inactive[salesforce.ID(t.UserID).Key()]}
			l.Recent = !l.DeactivatedAt.IsZero() && now.Sub(l.DeactivatedAt) <= o.RecentLeaver
			leavers[t.UserID] = l
		}
		l.Tokens = append(l.Tokens, t)
	}
	for _, l := range leavers {
		slices.SortFunc(l.Tokens, func(x, y TokenRow) int {
			return cmp.Or(strings.Compare(x.App, y.App), x.AuthorizedAt.Compare(y.AuthorizedAt))
		})
		r.Leavers = append(r.Leavers, *l)
	}
	slices.SortFunc(r.Leavers, func(a, b Leaver) int {
		if a.Recent != b.Recent {
			if a.Recent {
				return -1
			}
			return 1
		}
		return cmp.Or(b.DeactivatedAt.Compare(a.DeactivatedAt), strings.Compare(a.Username, b.Username))
	})
	// 6. Stale authorizations, the longest unused first.
	for _, t := range d.Tokens {
		if stale(t, now, o.StaleAfter) {
			r.Stale = append(r.Stale, t)
		}
	}
	slices.SortFunc(r.Stale, func(a, b TokenRow) int {
		return cmp.Or(lastActivity(a).Compare(lastActivity(b)), cmp.Compare(a.UseCount, b.UseCount), strings.Compare(a.Username, b.Username))
	})
	// 7. Connected apps that aren't installed but hold tokens.
	for _, a := range r.Inventory {
		if a.Kind == snapshot.KindConnectedApp && !a.Installed && a.Tokens > 0 {
			r.NotInstalled = append(r.NotInstalled, a)
		}
	}
	r.Posture = postureRows(snap, d)
	r.PostureScopesKnown = snap.Metadata != nil
	legacy, lnotes := legacyLogins(snap, d)
	r.Legacy = legacy
	r.Notes = append(r.Notes, lnotes...)
	dfs, dev, dnotes := detection(snap, d)
	o.Extra, o.detection = append(slices.Clone(o.Extra), dfs...), dev
	r.Notes = append(r.Notes, dnotes...)
	addFindings(r, byApp, now, o)
	limitRows(r, o)
	if o.Shard != nil && o.Shard.Count > 1 {
		r.Shard = o.Shard
		r.Notes = append(r.Notes, fmt.Sprintf("served by shard %d of %d: this replica covers only its own orgs", o.Shard.Index, o.Shard.Count))
	}
	return r
}

// limitRows cuts the per-user lists at o.MaxRows rows, except for o.FullApp's rows.
func limitRows(r *Report, o Options) {
	if o.MaxRows <= 0 {
		return
	}
	full := func(app string) bool { return o.FullApp != "" && strings.EqualFold(app, o.FullApp) }
	cut := func(rows []TokenRow) ([]TokenRow, int) {
		var keep []TokenRow
		n := 0
		for _, t := range rows {
			if full(t.App) {
				keep = append(keep, t)
			} else if n < o.MaxRows {
				keep = append(keep, t)
				n++
			}
		}
		return keep, len(rows) - len(keep)
	}
	left := 0
	for _, list := range [][]AppDetail{r.Unknown, r.AppEvidence} {
		for i := range list {
			if full(list[i].App) {
				continue
			}
			var more int
			list[i].Authorizations, more = cut(list[i].Authorizations)
			list[i].MoreAuthorizations += more
			left += more + limitDetection(list[i].Detection, o.MaxRows)
		}
	}
	r.Stale, r.MoreStale = cut(r.Stale)
	left += r.MoreStale
	if len(r.Leavers) > o.MaxRows {
		var keep []Leaver
		for i, l := range r.Leavers {
			if i < o.MaxRows || slices.ContainsFunc(l.Tokens, func(t TokenRow) bool { return full(t.App) }) {
				keep = append(keep, l)
			}
		}
		r.MoreLeavers = len(r.Leavers) - len(keep)
		r.Leavers = keep
		left += r.MoreLeavers
	}
	if left > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d per-user rows are left out: each list shows its first %d (add ?app=NAME for every row of one app)", left, o.MaxRows))
	}
}

func lastActivity(t TokenRow) time.Time {
	if !t.LastUsed.IsZero() {
		return t.LastUsed
	}
	return t.AuthorizedAt
}

func stale(t TokenRow, now time.Time, after time.Duration) bool {
	return salesforce.IsStale(t.LastUsed, t.AuthorizedAt, salesforce.StaleCutoff(now, after))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
