package refresh

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// HistoryDays is how many UTC days of history an org keeps: the review's
// charts show the last eight weeks.
const HistoryDays = 56

// HistoryApps caps the apps recorded per day, the busiest kept, so an org
// with thousands of apps cannot grow its state file without bound.
const HistoryApps = 200

// HistoryDay is one app's figures on one UTC day, kept in the org's state
// file (a few dozen bytes each) for the review's charts.
type HistoryDay struct {
	// Day is the day's midnight, UTC.
	Day   time.Time `json:"day"`
	App   string    `json:"app"`
	AppID string    `json:"app_id,omitempty"`
	Kind  string    `json:"kind,omitempty"`
	// Users and Tokens are the app's figures at the day's last publish with
	// token data; HasTokens says there was one. A day before the exporter
	// read the org's tokens (a log file's day before it started) has none:
	// its users are unknown, not zero.
	Users     int64 `json:"users"`
	Tokens    int64 `json:"tokens"`
	HasTokens bool  `json:"-"`
	// Requests and Errors are the day's ApiTotalUsage events, from the
	// ingested log files (late files update the days they cover);
	// HasRequests says a log file covered the day.
	Requests    int64 `json:"requests"`
	Errors      int64 `json:"errors"`
	HasRequests bool  `json:"-"`
}

// TokensKnown reports whether the day's users and tokens are known: a
// publish with token data set them, or they are not zero.
func (h HistoryDay) TokensKnown() bool { return h.HasTokens || h.Users != 0 || h.Tokens != 0 }

// RequestsKnown reports whether the day's requests are known: a log file
// covered the day, or they are not zero.
func (h HistoryDay) RequestsKnown() bool { return h.HasRequests || h.Requests != 0 || h.Errors != 0 }

// historyDayJSON is HistoryDay's form in the state file and review.json:
// an unknown figure is absent, never 0.
type historyDayJSON struct {
	Day      time.Time `json:"day"`
	App      string    `json:"app"`
	AppID    string    `json:"app_id,omitempty"`
	Kind     string    `json:"kind,omitempty"`
	Users    *int64    `json:"users,omitempty"`
	Tokens   *int64    `json:"tokens,omitempty"`
	Requests *int64    `json:"requests,omitempty"`
	Errors   *int64    `json:"errors,omitempty"`
}

// MarshalJSON implements json.Marshaler: unknown figures are left out.
func (h HistoryDay) MarshalJSON() ([]byte, error) {
	j := historyDayJSON{Day: h.Day, App: h.App, AppID: h.AppID, Kind: h.Kind}
	if h.TokensKnown() {
		j.Users, j.Tokens = &h.Users, &h.Tokens
	}
	if h.RequestsKnown() {
		j.Requests, j.Errors = &h.Requests, &h.Errors
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler: a figure present is known.
func (h *HistoryDay) UnmarshalJSON(b []byte) error {
	var j historyDayJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = HistoryDay{Day: j.Day, App: j.App, AppID: j.AppID, Kind: j.Kind}
	if j.Users != nil || j.Tokens != nil {
		h.HasTokens = true
		h.Users, h.Tokens = deref(j.Users), deref(j.Tokens)
	}
	if j.Requests != nil || j.Errors != nil {
		h.HasRequests = true
		h.Requests, h.Errors = deref(j.Requests), deref(j.Errors)
	}
	return nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (h HistoryDay) key() string {
	id := salesforce.ID(h.AppID).Key()
	if id == "" {
		id = "name:" + strings.ToLower(h.App)
	}
	return h.Day.UTC().Format("2006-01-02") + "|" + h.Kind + "|" + id
}

// dayUsage sums the ingested ApiTotalUsage periods per UTC day and app
// (usage key): a day's Daily file when there is one, otherwise its Hourly
// files, so no event counts twice.
func (u *usageState) dayUsage() map[time.Time]map[string]*appCount {
	daily := map[string]bool{}
	for _, p := range u.Periods {
		if p.Interval == "Daily" {
			daily[p.Start.UTC().Format("2006-01-02")] = true
		}
	}
	out := map[time.Time]map[string]*appCount{}
	for _, p := range u.Periods {
		if p.Interval == "Hourly" && daily[p.Start.UTC().Format("2006-01-02")] {
			continue
		}
		day := p.Start.UTC().Truncate(24 * time.Hour)
		m := out[day]
		if m == nil {
			m = map[string]*appCount{}
			out[day] = m
		}
		for k, a := range p.Apps {
			c := m[k]
			if c == nil {
				c = &appCount{Name: a.Name, ID: a.ID}
				m[k] = c
			}
			c.Requests += a.Requests
			c.Errors += a.Errors
		}
	}
	return out
}

// recordHistory updates the history with the snapshot's figures for today
// and the usage store's counts for the days it holds, then drops days past
// HistoryDays and apps past HistoryApps per day. It returns the new history
// and whether anything changed.
func recordHistory(old []HistoryDay, snap *Snapshot, usage *usageState, now time.Time) ([]HistoryDay, bool) {
	rows := map[string]*HistoryDay{}
	var order []string
	for i := range old {
		r := old[i]
		k := r.key()
		if rows[k] == nil {
			order = append(order, k)
		}
		rows[k] = &r
	}
	upsert := func(r HistoryDay) *HistoryDay {
		k := r.key()
		if cur := rows[k]; cur != nil {
			return cur
		}
		rows[k], order = &r, append(order, k)
		return rows[k]
	}
	today := now.UTC().Truncate(24 * time.Hour)
	byID, byName := map[string]*AppUsage{}, map[string]*AppUsage{}
	for i := range snap.Apps {
		a := &snap.Apps[i]
		if k := salesforce.ID(a.ID).Key(); k != "" {
			byID[k] = a
		}
		if a.Kind == KindConnectedApp {
			if _, ok := byName[strings.ToLower(a.Name)]; !ok {
				byName[strings.ToLower(a.Name)] = a
			}
		}
		if !a.HasTokens {
			continue
		}
		r := upsert(HistoryDay{Day: today, App: a.Name, AppID: a.ID, Kind: a.Kind})
		r.Users, r.Tokens, r.HasTokens = a.Users, a.Tokens, true
	}
	if usage != nil {
		for day, apps := range usage.dayUsage() {
			for _, c := range apps {
				row := HistoryDay{Day: day, App: c.Name, AppID: c.ID, Kind: KindConnectedApp}
				// Name the row as the snapshot names the app, so its token
				// figures and its requests share a row.
				if a := byID[c.ID]; a != nil && c.ID != "" {
					row.App, row.AppID, row.Kind = a.Name, a.ID, a.Kind
				} else if a := byName[strings.ToLower(c.Name)]; a != nil && c.ID == "" {
					row.App, row.AppID, row.Kind = a.Name, a.ID, a.Kind
				}
				r := upsert(row)
				r.Requests, r.Errors, r.HasRequests = c.Requests, c.Errors, true
			}
		}
	}
	oldest := today.AddDate(0, 0, -(HistoryDays - 1))
	perDay := map[time.Time][]HistoryDay{}
	for _, k := range order {
		r := *rows[k]
		if r.Day.Before(oldest) || r.Day.After(today) {
			continue
		}
		perDay[r.Day] = append(perDay[r.Day], r)
	}
	out := make([]HistoryDay, 0, len(old)+len(snap.Apps))
	for _, day := range slices.SortedFunc(maps.Keys(perDay), func(a, b time.Time) int { return a.Compare(b) }) {
		rs := perDay[day]
		slices.SortFunc(rs, func(a, b HistoryDay) int {
			return cmp.Or(cmp.Compare(b.Users, a.Users), cmp.Compare(b.Requests, a.Requests), strings.Compare(a.App, b.App), strings.Compare(a.AppID, b.AppID))
		})
		if len(rs) > HistoryApps {
			rs = rs[:HistoryApps]
		}
		out = append(out, rs...)
	}
	return out, !slices.EqualFunc(out, old, func(a, b HistoryDay) bool {
		a.Day, b.Day = a.Day.UTC(), b.Day.UTC()
		return a == b
	})
}
