package review

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats lists the output formats.
var Formats = []string{"text", "markdown", "csv", "json", "html"}

// Write renders reports in a format.
func Write(w io.Writer, reports []*Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(reports) == 1 {
			return enc.Encode(reports[0])
		}
		return enc.Encode(reports)
	case "csv":
		return writeCSV(w, reports)
	case "html":
		return htmlTmpl.Execute(w, reports)
	case "text", "markdown":
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(w)
			}
			writeDoc(w, r, format == "markdown")
		}
		return nil
	}
	return fmt.Errorf("unknown format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// section is a titled table, the unit of every format.
type section struct {
	Title, Note string
	Header      []string
	Rows        [][]string
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

func pct(f float64) string {
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

func dayStr(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02")
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

var appHeader = []string{"App", "Kind", "Owner", "Purpose", "Users", "Tokens", "Sessions", "Req 24h", "Req 7d", "Errors 24h", "Last used", "Installed", "Known"}

func appCells(a AppRow) []string {
	return []string{a.App, a.Kind, a.Owner, a.Purpose, num(a.Users), num(a.Tokens), num(a.Sessions), num(a.Requests24h), num(a.Requests7d), pct(a.ErrorRate24h), dayStr(a.LastUsed), yes(a.Installed), yes(a.Known)}
}

func appSection(title, note string, apps []AppRow) section {
	s := section{Title: title, Note: note, Header: appHeader}
	for _, a := range apps {
		s.Rows = append(s.Rows, appCells(a))
	}
	return s
}

var tokenHeader = []string{"User", "App", "Authorized", "Last used", "Uses", "User active"}

func tokenCells(t TokenRow) []string {
	return []string{t.Username, t.App, dayStr(t.AuthorizedAt), dayStr(t.LastUsed), num(t.UseCount), yes(t.UserActive)}
}

func sections(r *Report) []section {
	var out []section
	out = append(out, appSection("1. Inventory", "Every app seen, with its owner and purpose from the inventory.", r.Inventory))
	note := "Apps with tokens or traffic that the baseline report did not list."
	if r.Baseline == nil {
		note = "No baseline: this is the first review."
	} else {
		note += " Baseline: " + r.Baseline.File + " of " + fmtTime(r.Baseline.GeneratedAt) + "."
	}
	out = append(out, appSection("2a. New since the baseline", note, r.NewSinceBaseline))
	out = append(out, appSection(fmt.Sprintf("2b. First authorized in the last %d days", r.Thresholds.NewWithinDays), "", r.NewRecently))
	u := section{Title: "3. Unknown apps (not on the inventory)", Note: "Who authorized each, and when.", Header: append([]string{"App", "Tokens"}, tokenHeader...)}
	for _, a := range r.Unknown {
		if len(a.Authorizations) == 0 {
			u.Rows = append(u.Rows, []string{a.App, num(a.Tokens), "", "", "", "", "", ""})
		}
		for _, t := range a.Authorizations {
			u.Rows = append(u.Rows, append([]string{a.App, num(a.Tokens)}, tokenCells(t)...))
		}
	}
	out = append(out, u)
	out = append(out, appSection("4a. High user count, low usage (maybe abandoned)",
		fmt.Sprintf("At least %d users and at most %d API requests in 7 days.", r.Thresholds.HighUsers, r.Thresholds.LowUse7d), r.HighUsersLowUse))
	out = append(out, appSection("4b. Low user count, high usage (service account with broad access)",
		fmt.Sprintf("At most %d users and at least %d API requests in 7 days.", r.Thresholds.LowUsers, r.Thresholds.HighUse7d), r.LowUsersHighUse))
	l := section{Title: "5. Offboarding leaks", Note: fmt.Sprintf("Deactivated users who still hold tokens; deactivated in the last %d days first.", r.Thresholds.RecentLeaverDay),
		Header: append([]string{"Deactivated"}, tokenHeader...)}
	for _, lv := range r.Leavers {
		for _, t := range lv.Tokens {
			l.Rows = append(l.Rows, append([]string{dayStr(lv.DeactivatedAt)}, tokenCells(t)...))
		}
	}
	out = append(out, l)
	s := section{Title: "6. Stale authorizations", Note: fmt.Sprintf("Unused for more than %d days, the longest unused first.", r.Thresholds.StaleAfterDays), Header: tokenHeader}
	for _, t := range r.Stale {
		s.Rows = append(s.Rows, tokenCells(t))
	}
	out = append(out, s)
	out = append(out, appSection("7. Apps not installed, with tokens", "", r.NotInstalled))
	return out
}

func header(r *Report) []string {
	lines := []string{
		"Org: " + r.Org,
		"Generated: " + fmtTime(r.GeneratedAt),
		"Data as of: " + fmtTime(r.DataAsOf) + " (API usage data ends " + fmtTime(r.APIUsageEnd) + ")",
		fmt.Sprintf("API calls spent: %d", r.APICalls),
	}
	for _, n := range r.Notes {
		lines = append(lines, "Note: "+n)
	}
	return lines
}

func writeDoc(w io.Writer, r *Report, md bool) {
	if md {
		fmt.Fprintf(w, "# OAuth review: %s\n\n", mdEscape(r.Org))
		for _, l := range header(r) {
			fmt.Fprintf(w, "- %s\n", mdEscape(l))
		}
	} else {
		fmt.Fprintf(w, "OAUTH REVIEW: %s\n", r.Org)
		for _, l := range header(r) {
			fmt.Fprintln(w, l)
		}
	}
	for _, s := range sections(r) {
		if md {
			fmt.Fprintf(w, "\n## %s\n\n", mdEscape(s.Title))
			if s.Note != "" {
				fmt.Fprintf(w, "%s\n\n", mdEscape(s.Note))
			}
			if len(s.Rows) == 0 {
				fmt.Fprintf(w, "None.\n")
				continue
			}
			fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(mapStr(s.Header, mdEscape), " | "), strings.Repeat("---|", len(s.Header)))
			for _, row := range s.Rows {
				fmt.Fprintf(w, "| %s |\n", strings.Join(mapStr(row, mdEscape), " | "))
			}
			continue
		}
		fmt.Fprintf(w, "\n%s\n%s\n", s.Title, strings.Repeat("=", len(s.Title)))
		if s.Note != "" {
			fmt.Fprintln(w, s.Note)
		}
		if len(s.Rows) == 0 {
			fmt.Fprintln(w, "None.")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(s.Header, "\t"))
		for _, row := range s.Rows {
			fmt.Fprintln(tw, strings.Join(mapStr(row, oneLine), "\t"))
		}
		tw.Flush()
	}
}

func mapStr(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "\\`")
	return r.Replace(s)
}

// writeCSV writes one table: a section column, then the section's columns.
func writeCSV(w io.Writer, reports []*Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"org", "section", "app", "kind", "user", "authorized_at", "last_used", "use_count", "user_active", "users", "tokens", "requests_24h", "requests_7d", "error_rate_24h", "installed", "known", "owner", "purpose", "deactivated_at"}); err != nil {
		return err
	}
	for _, r := range reports {
		app := func(sec string, a AppRow) []string {
			return []string{r.Org, sec, a.App, a.Kind, "", dayStr(a.FirstAuthorized), dayStr(a.LastUsed), "", "", num(a.Users), num(a.Tokens), num(a.Requests24h), num(a.Requests7d), strconv.FormatFloat(a.ErrorRate24h, 'f', 4, 64), yes(a.Installed), yes(a.Known), a.Owner, a.Purpose, ""}
		}
		tok := func(sec string, t TokenRow, deactivated time.Time) []string {
			d := ""
			if !deactivated.IsZero() {
				d = dayStr(deactivated)
			}
			return []string{r.Org, sec, t.App, t.Kind, t.Username, dayStr(t.AuthorizedAt), dayStr(t.LastUsed), num(t.UseCount), yes(t.UserActive), "", "", "", "", "", "", "", "", "", d}
		}
		var rows [][]string
		for _, a := range r.Inventory {
			rows = append(rows, app("inventory", a))
		}
		for _, a := range r.NewSinceBaseline {
			rows = append(rows, app("new_since_baseline", a))
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
		for _, t := range r.Stale {
			rows = append(rows, tok("stale", t, time.Time{}))
		}
		for _, a := range r.NotInstalled {
			rows = append(rows, app("not_installed", a))
		}
		for _, row := range rows {
			// Cells starting with = + - @ are neutralised against formula injection in spreadsheets.
			for i, c := range row {
				if c != "" && strings.ContainsRune("=+-@", rune(c[0])) && i != 5 && i != 6 {
					row[i] = "'" + c
				}
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

var htmlTmpl = template.Must(template.New("review").Funcs(template.FuncMap{
	"sections": sections,
	"header":   header,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OAuth review{{range .}} · {{.Org}}{{end}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:.2em 0}h2{font-size:17px;margin:1.6em 0 .3em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f5f7}tr:nth-child(even) td{background:#fafbfc}.note{color:#555}.none{color:#777;font-style:italic}
ul.meta{list-style:none;padding:0;color:#333}.org{margin-bottom:3em}
</style></head><body>
{{range .}}<div class="org">
<h1>OAuth review: {{.Org}}</h1>
<ul class="meta">{{range header .}}<li>{{.}}</li>{{end}}</ul>
{{range sections .}}<h2>{{.Title}}</h2>{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{if .Rows}}<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>{{else}}<p class="none">None.</p>{{end}}
{{end}}</div>
{{end}}</body></html>
`))
