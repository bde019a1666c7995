package review

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/textsafe"
)

// csvSafe neutralizes a cell a spreadsheet would run as a formula (OWASP's
// list: = + - @, tab and carriage return), and shows control characters.
func csvSafe(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		c = "'" + c
	}
	return textsafe.Visible(c)
}

// The Threat Detection columns (anomalyRows), after the others.
const (
	csvEventType = 34 + iota
	csvScore
	csvEventDate
	csvAcknowledged
)

// writeCSV writes one table: the org and section, then the section's columns.
// Findings come first, one row each.
func writeCSV(w io.Writer, reports []*Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"org", "section", "app", "kind", "user", "authorized_at", "last_used", "use_count", "user_active", "users", "tokens", "requests_24h", "requests_7d", "error_rate_24h", "installed", "known", "owner", "purpose", "deactivated_at",
		"severity", "finding_kind", "summary", "evidence", "why", "command", "confirm_command", "action",
		"network", "address", "ioc_lists", "objects", "requests", "first_seen", "last_seen",
		"event_type", "score", "event_date", "acknowledged", "flow"}); err != nil {
		return err
	}
	const cols = 39
	blank := func() []string { return make([]string, cols) }
	var rows [][]string
	for _, f := range allFindings(reports) {
		row := blank()
		row[0], row[1], row[2], row[3] = f.Org, "finding", f.App, f.AppKind
		row[19], row[20], row[21], row[22], row[23], row[24], row[25], row[26] = f.Severity, f.Kind, f.Summary, strings.Join(f.Evidence, "; "), f.Why, f.Command, f.ConfirmCommand, f.Action
		rows = append(rows, row)
	}
	for _, r := range reports {
		app := func(sec string, a AppRow) []string {
			row := blank()
			copy(row, []string{r.Org, sec, a.App, a.Kind, "", fmtSeconds(a.FirstAuthorized), fmtSeconds(a.LastUsed), "", "", num(a.Users), num(a.Tokens), num(a.Requests24h), num(a.Requests7d), strconv.FormatFloat(a.ErrorRate24h, 'f', 4, 64), yes(a.Installed), yes(a.Known), a.Owner, a.Purpose, ""})
			return row
		}
		tok := func(sec string, t TokenRow, deactivated time.Time) []string {
			d := ""
			if !deactivated.IsZero() {
				d = fmtSeconds(deactivated)
			}
			row := blank()
			copy(row, []string{r.Org, sec, t.App, t.Kind, t.Username, fmtSeconds(t.AuthorizedAt), lastUsedStr(t), num(t.UseCount), yes(t.UserActive), "", "", "", "", "", "", "", "", "", d})
			return row
		}
		for _, a := range r.AppEvidence {
			for _, t := range a.Authorizations {
				rows = append(rows, tok("app_evidence", t, time.Time{}))
			}
			rows = append(rows, detectionRows(r.Org, a, blank)...)
		}
		for _, a := range r.Inventory {
			rows = append(rows, app("inventory", a))
		}
		for _, a := range r.NewSinceBaseline {
			rows = append(rows, app("new_since_baseline", a))
		}
		for _, a := range r.GoneSinceBaseline {
			rows = append(rows, app("gone_since_baseline", a))
		}
		for _, a := range r.GrownSinceBaseline {
			rows = append(rows, app("grown_since_baseline", a.AppRow))
		}
		for _, a := range r.NewRecently {
			rows = append(rows, app("new_recently", a))
		}
		for _, a := range r.Unknown {
			for _, t := range a.Authorizations {
				rows = append(rows, tok("unknown_app", t, time.Time{}))
			}
		}
		for _, a := range r.HighUsersLowUse {
			rows = append(rows, app("high_users_low_use", a))
		}
		for _, a := range r.LowUsersHighUse {
			rows = append(rows, app("low_users_high_use", a))
		}
		for _, l := range r.Leavers {
			for _, t := range l.Tokens {
				rows = append(rows, tok("offboarding_leak", t, l.DeactivatedAt))
			}
		}
		rows = append(rows, anomalyRows(r, blank)...)
		for _, t := range r.Stale {
			rows = append(rows, tok("stale", t, time.Time{}))
		}
		for _, a := range r.NotInstalled {
			rows = append(rows, app("not_installed", a))
		}
		// Posture: the grants in summary, the blast radius in evidence,
		// the missed recommendations in why and their Setup paths in action.
		for _, p := range r.Posture {
			row := blank()
			c := postureCells(p)
			row[0], row[1], row[2], row[3] = r.Org, "posture", p.App, p.Kind
			row[21], row[22], row[23] = "risk "+c[1]+"; permitted users "+c[2]+"; refresh token policy "+c[3]+"; tokens beyond policy "+c[4]+"; oauth scopes "+c[7]+"; ip relaxation "+c[8], "blast radius "+c[5]+"; Modify All Data users: "+orNone(c[6]), c[9]
			var paths []string
			for _, f := range p.Missed {
				paths = append(paths, f.SetupPath)
			}
			row[26] = strings.Join(paths, "; ")
			rows = append(rows, row)
		}
		for _, l := range r.Legacy {
			row := blank()
			row[0], row[1], row[2], row[4], row[26] = r.Org, "legacy_authentication", legacyApp(l.App), legacyUsers(l), l.Fix
			row[31], row[33], row[38] = num(l.Logins), fmtSeconds(l.LastSeen), l.Flow
			rows = append(rows, row)
		}
	}
	for _, row := range rows {
		if err := cw.Write(mapStr(row, csvSafe)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// detectionRows are an app's network evidence as CSV rows: one per new
// network (its users in the user column), IOC run and login.
func detectionRows(org string, a AppDetail, blank func() []string) [][]string {
	d := a.Detection
	if d == nil {
		return nil
	}
	var rows [][]string
	row := func(sec, user string) []string {
		r := blank()
		r[0], r[1], r[2], r[3], r[4] = org, sec, a.App, a.Kind, user
		return r
	}
	for _, n := range d.Networks {
		r := row("new_network", joinUsers(n.Users, n.OtherUsersRequests))
		r[27], r[29], r[30], r[31], r[32], r[33] = n.Network, strings.Join(n.IOCLists, ", "), joinCounts(n.Objects), num(n.Requests), fmtSeconds(n.FirstSeen), fmtSeconds(n.LastSeen)
		rows = append(rows, r)
	}
	for _, h := range d.IOCHits {
		r := row("ioc_request", userCell(h.User, h.UserID))
		r[28], r[29], r[31], r[32], r[33] = h.Address, h.List, num(h.Requests), fmtSeconds(h.First), fmtSeconds(h.Last)
		rows = append(rows, r)
	}
	for _, l := range d.Logins {
		sec := "new_network_login"
		if len(l.IOCLists) > 0 {
			sec = "ioc_login"
		}
		r := row(sec, userCell(l.User, l.UserID))
		r[27], r[29], r[32] = l.Network, strings.Join(l.IOCLists, ", "), fmtSeconds(l.Time)
		rows = append(rows, r)
	}
	return rows
}
