package snapshot

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
)

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

// Key tells one app's day from another: the day, the kind and the app's Id
// (by its 15-character key), or its name when it has none.
func (h HistoryDay) Key() string {
	id := salesforce.ID(h.AppID).Key()
	if id == "" {
		id = "name:" + strings.ToLower(h.App)
	}
	return h.Day.UTC().Format("2006-01-02") + "|" + h.Kind + "|" + id
}
