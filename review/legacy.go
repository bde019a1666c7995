package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/salesforce"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// LegacyLogin is an integration still on legacy authentication: one app
// (or SOAP client) and one flow over the last 24 hours of LoginHistory,
// with the users who logged in and how to move it off.
type LegacyLogin struct {
	App       string       `json:"app"`
	AppID     string       `json:"app_id,omitempty"`
	Flow      string       `json:"flow"`
	Logins    int64        `json:"logins_24h"`
	Failures  int64        `json:"failures_24h"`
	LastSeen  time.Time    `json:"last_seen,omitzero"`
	Users     []LegacyUser `json:"users"`
	MoreUsers int          `json:"more_users,omitempty"`
	Fix       string       `json:"fix"`
}

// LegacyUser is a user who logged in with a legacy flow: the Id, and the
// username when the per-user detail knows it.
type LegacyUser struct {
	User   string `json:"user,omitempty"`
	UserID string `json:"user_id"`
}

// legacyFixes say how to move off each legacy flow.
var legacyFixes = map[salesforce.LoginFlow]string{
	salesforce.LoginUsernamePassword: "Move the integration to the OAuth JWT bearer flow (a certificate, no password) or the client credentials flow with a run-as user, then turn off Allow OAuth Username-Password Flows (Setup > OAuth and OpenID Connect Settings).",
	salesforce.LoginSOAP:             "SOAP API login() is retired with Summer '27 (and gone from API 65.0): authenticate through an External Client App with the JWT bearer or client credentials flow, and pass its access token as the SOAP session Id.",
	salesforce.LoginDevice:           "The device flow lets whoever holds a user code log in as the user (the 2025 vishing attacks used it): use the web server flow with PKCE, or turn device flow off for the app.",
}

// legacyLogins lists the snapshot's integrations on legacy flows, the
// users named from the detail's token rows where it knows them.
func legacyLogins(snap *snapshot.Snapshot, d *Detail) (rows []LegacyLogin, notes []string) {
	if !snap.HasLoginFlows {
		return nil, nil
	}
	if !snap.LoginSubTypeReadable {
		notes = append(notes, "LoginHistory.LoginSubType is not readable in this org or API version: OAuth username-password and device logins can't be told from other OAuth logins, so the legacy authentication section lists only SOAP login() calls")
	}
	names := map[string]string{}
	for _, t := range d.Tokens {
		if t.Username != "" {
			names[salesforce.ID(t.UserID).Key()] = t.Username
		}
	}
	for _, l := range snap.LegacyLogins {
		row := LegacyLogin{App: l.App, AppID: l.AppID, Flow: l.Flow.String(), Logins: l.Logins, Failures: l.Failures, LastSeen: l.LastSeen, MoreUsers: l.MoreUsers, Fix: legacyFixes[l.Flow]}
		for _, u := range l.Users {
			row.Users = append(row.Users, LegacyUser{User: names[salesforce.ID(u).Key()], UserID: u})
		}
		rows = append(rows, row)
	}
	return rows, notes
}

// legacyTableUsers is how many users a table row names; the JSON has
// them all (at most snapshot.MaxLegacyUsers).
const legacyTableUsers = 5

func legacyUsers(l LegacyLogin) string {
	parts := make([]string, 0, legacyTableUsers+1)
	for _, u := range l.Users[:min(len(l.Users), legacyTableUsers)] {
		parts = append(parts, userCell(u.User, u.UserID))
	}
	if more := l.MoreUsers + max(0, len(l.Users)-legacyTableUsers); more > 0 {
		parts = append(parts, fmt.Sprintf("%d more", more))
	}
	return strings.Join(parts, ", ")
}

func legacyApp(name string) string {
	if name == "" {
		return "(no application named)"
	}
	return displayApp(name)
}

// legacySection is the text, Markdown and HTML table of the integrations
// still on legacy authentication.
func legacySection(r *Report) section {
	s := section{
		ID: anchor(r.Org, "legacy"), Title: "Integrations still on legacy authentication",
		Note:   "Apps and SOAP clients that logged in with the username-password flow, SOAP API login() (retired with Summer '27) or the device flow in the last 24 hours (LoginHistory), the most logins first.",
		Header: []string{"App", "Flow", "Logins 24h", "Failed", "Last seen", "Users", "Fix"},
	}
	for _, l := range r.Legacy {
		s.Rows = append(s.Rows, []string{legacyApp(l.App), l.Flow, num(l.Logins), num(l.Failures), fmtSeconds(l.LastSeen), legacyUsers(l), l.Fix})
	}
	return s
}
