package snapshot

import (
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

// HighWaterDays is how many UTC days of the org's history an app's
// high-water marks look back over: four weeks, so a weekly job, a team's
// usual day before a holiday of up to three weeks, and the users an app
// had before a mass revocation all fall inside.
const HighWaterDays = 28

// HighWater is an app's recent high-water marks, from the org's daily
// history (Snapshot.History), which the exporter keeps in its state file: a
// surge is judged against the app's own busiest recent day, not the last
// hour or a quiet week. A mark is unknown (Has false) when no day of the
// look-back has the figure: the alerts then judge as they did without it.
type HighWater struct {
	// Requests is the app's busiest UTC day of ApiTotalUsage requests among
	// the HighWaterDays days before the first day the 24h window
	// (Requests24h) touches, so the window's own traffic never raises it.
	HasRequests bool
	Requests    int64
	// Users is the most users the app had at a day's end among the
	// HighWaterDays days before yesterday (UTC): a surge window of up to
	// 24 hours never overlaps them.
	HasUsers bool
	Users    int64
}

// SetHighWater sets every app's high-water marks from the snapshot's
// history. An app matches its history rows by kind and Id (the
// 15-character key), or by kind and name when it has no Id, as
// HistoryDay.Key files them. It is called once the history is in place,
// before the snapshot is published; the (other) row gets none.
func SetHighWater(s *Snapshot) {
	if len(s.History) == 0 {
		return
	}
	today := s.Taken.UTC().Truncate(24 * time.Hour)
	usersFrom, usersTo := today.AddDate(0, 0, -(HighWaterDays+1)), today.AddDate(0, 0, -1)
	var reqFrom, reqTo time.Time
	if !s.APIUsageEnd.IsZero() {
		reqTo = s.APIUsageEnd.Add(-24 * time.Hour).UTC().Truncate(24 * time.Hour)
		reqFrom = reqTo.AddDate(0, 0, -HighWaterDays)
	}
	marks := map[string]*HighWater{}
	for _, h := range s.History {
		k := highWaterKey(h.Kind, h.AppID, h.App)
		m := marks[k]
		if m == nil {
			m = &HighWater{}
			marks[k] = m
		}
		day := h.Day.UTC()
		if h.TokensKnown() && !day.Before(usersFrom) && day.Before(usersTo) {
			m.HasUsers, m.Users = true, max(m.Users, h.Users)
		}
		if !reqTo.IsZero() && h.RequestsKnown() && !day.Before(reqFrom) && day.Before(reqTo) {
			m.HasRequests, m.Requests = true, max(m.Requests, h.Requests)
		}
	}
	for i := range s.Apps {
		a := &s.Apps[i]
		if a.Name == OtherApps {
			continue
		}
		if m := marks[highWaterKey(a.Kind, a.ID, a.Name)]; m != nil {
			a.HighWater = *m
		}
	}
}

// highWaterKey is HistoryDay.Key without the day.
func highWaterKey(kind, id, name string) string {
	k := salesforce.ID(id).Key()
	if k == "" {
		k = "name:" + strings.ToLower(name)
	}
	return kind + "|" + k
}
