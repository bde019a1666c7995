package refresh

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// HistoryDays is how many UTC days of history an org keeps: the review's
// charts show the last eight weeks.
const HistoryDays = 56

// HistoryApps caps the apps recorded per day, the busiest kept, so an org
// with thousands of apps cannot grow its state file without bound.
const HistoryApps = 200

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
func recordHistory(old []snapshot.HistoryDay, snap *snapshot.Snapshot, usage *usageState, now time.Time) ([]snapshot.HistoryDay, bool) {
	rows := map[string]*snapshot.HistoryDay{}
	var order []string
	for i := range old {
		r := old[i]
		k := r.Key()
		if rows[k] == nil {
			order = append(order, k)
		}
		rows[k] = &r
	}
	upsert := func(r snapshot.HistoryDay) *snapshot.HistoryDay {
		k := r.Key()
		if cur := rows[k]; cur != nil {
			return cur
		}
		rows[k], order = &r, append(order, k)
		return rows[k]
	}
	today := now.UTC().Truncate(24 * time.Hour)
	byID, byName := map[string]*snapshot.AppUsage{}, map[string]*snapshot.AppUsage{}
	for i := range snap.Apps {
		a := &snap.Apps[i]
		if k := salesforce.ID(a.ID).Key(); k != "" {
			byID[k] = a
		}
		if a.Kind == snapshot.KindConnectedApp {
			if _, ok := byName[strings.ToLower(a.Name)]; !ok {
				byName[strings.ToLower(a.Name)] = a
			}
		}
		if !a.HasTokens {
			continue
		}
		r := upsert(snapshot.HistoryDay{Day: today, App: a.Name, AppID: a.ID, Kind: a.Kind})
		r.Users, r.Tokens, r.HasTokens = a.Users, a.Tokens, true
	}
	if usage != nil {
		for day, apps := range usage.dayUsage() {
			for _, c := range apps {
				row := snapshot.HistoryDay{Day: day, App: c.Name, AppID: c.ID, Kind: snapshot.KindConnectedApp}
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
	perDay := map[time.Time][]snapshot.HistoryDay{}
	for _, k := range order {
		r := *rows[k]
		if r.Day.Before(oldest) || r.Day.After(today) {
			continue
		}
		perDay[r.Day] = append(perDay[r.Day], r)
	}
	out := make([]snapshot.HistoryDay, 0, len(old)+len(snap.Apps))
	for _, day := range slices.SortedFunc(maps.Keys(perDay), func(a, b time.Time) int { return a.Compare(b) }) {
		rs := perDay[day]
		slices.SortFunc(rs, func(a, b snapshot.HistoryDay) int {
			return cmp.Or(cmp.Compare(b.Users, a.Users), cmp.Compare(b.Requests, a.Requests), strings.Compare(a.App, b.App), strings.Compare(a.AppID, b.AppID))
		})
		if len(rs) > HistoryApps {
			rs = rs[:HistoryApps]
		}
		out = append(out, rs...)
	}
	return out, !slices.EqualFunc(out, old, func(a, b snapshot.HistoryDay) bool {
		a.Day, b.Day = a.Day.UTC(), b.Day.UTC()
		return a == b
	})
}
