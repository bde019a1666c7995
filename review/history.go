package review

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/snapshot"
)

// DayRow is one app's figures on one UTC day: the row the exporter keeps
// per app per day in its state (a few dozen bytes each), from which the
// review draws its charts.
type DayRow = snapshot.HistoryDay

// History is the compact daily history of one org, one row per app per day.
type History []DayRow

// chartDays is how far back the charts look: the last eight weeks.
const chartDays = 56

// chartApps is how many apps get a row of small charts.
const chartApps = 8

// unknown marks a day whose figure the exporter does not have (a day
// before it read the org's tokens, or one no log file covered): it is left
// out of the charts, never drawn as 0.
const unknown = -1

// appSeries is one app's daily figures over the chart's days, unknown
// where the history has no figure.
type appSeries struct {
	App                             string
	Users, Tokens, Requests, Errors []int64
}

// series turns the history into per-app series over its last chartDays days,
// the apps with findings first, then by users.
func (h History) series(first []string) (days []time.Time, apps []appSeries) {
	if len(h) == 0 {
		return nil, nil
	}
	last := h[0].Day
	for _, r := range h {
		if r.Day.After(last) {
			last = r.Day
		}
	}
	last = last.UTC().Truncate(24 * time.Hour)
	start := last.AddDate(0, 0, -(chartDays - 1))
	// Start at the oldest day held, not before.
	oldest := last
	for _, r := range h {
		if d := r.Day.UTC().Truncate(24 * time.Hour); !d.Before(start) && d.Before(oldest) {
			oldest = d
		}
	}
	for d := oldest; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	// A day is known for tokens (or requests) when any app has the figure
	// that day: an app without a row then had none, a true 0. A day no
	// row knows (before the exporter first read the org's tokens, or one
	// no log file covered) stays unknown for every app.
	tokenDay, requestDay := make([]bool, len(days)), make([]bool, len(days))
	idx := map[string]*appSeries{}
	var order []string
	for _, r := range h {
		d := r.Day.UTC().Truncate(24 * time.Hour)
		if d.Before(oldest) {
			continue
		}
		i := int(d.Sub(oldest).Hours() / 24)
		tokenDay[i] = tokenDay[i] || r.TokensKnown()
		requestDay[i] = requestDay[i] || r.RequestsKnown()
		k := r.App + "\x00" + r.AppID
		s := idx[k]
		if s == nil {
			n := len(days)
			s = &appSeries{App: r.App, Users: unknowns(n), Tokens: unknowns(n), Requests: unknowns(n), Errors: unknowns(n)}
			idx[k] = s
			order = append(order, k)
		}
		if r.TokensKnown() {
			s.Users[i], s.Tokens[i] = r.Users, r.Tokens
		}
		if r.RequestsKnown() {
			s.Requests[i], s.Errors[i] = r.Requests, r.Errors
		}
	}
	for _, k := range order {
		a := idx[k]
		for i := range days {
			if tokenDay[i] && a.Users[i] == unknown {
				a.Users[i], a.Tokens[i] = 0, 0
			}
			if requestDay[i] && a.Requests[i] == unknown {
				a.Requests[i], a.Errors[i] = 0, 0
			}
		}
		apps = append(apps, *a)
	}
	rank := func(a appSeries) int {
		if i := slices.Index(first, a.App); i >= 0 {
			return i
		}
		return len(first)
	}
	slices.SortStableFunc(apps, func(a, b appSeries) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(b.Users[len(b.Users)-1], a.Users[len(a.Users)-1]), strings.Compare(a.App, b.App))
	})
	return days, apps
}

// chartRow is one app's row of small charts, ready for the HTML template.
type chartRow struct {
	App                           string
	Users, Tokens, Requests       template.HTML
	UsersNow, TokensNow, ReqTotal int64
}

// orgChart is an org's charts.
type orgChart struct {
	From, To string
	Days     int
	Rows     []chartRow
	Total    template.HTML // API requests per day, all apps
	More     int           // apps left out
}

func (r *Report) charts() *orgChart {
	var first []string
	for _, f := range r.Findings {
		if f.App != "" && !slices.Contains(first, f.App) {
			first = append(first, f.App)
		}
	}
	days, apps := r.History.series(first)
	if len(days) == 0 {
		return nil
	}
	c := &orgChart{From: days[0].Format("2006-01-02"), To: days[len(days)-1].Format("2006-01-02"), Days: len(days)}
	total, errs := unknowns(len(days)), unknowns(len(days))
	for _, a := range apps {
		for i := range days {
			if a.Requests[i] != unknown {
				total[i] = max(total[i], 0) + a.Requests[i]
				errs[i] = max(errs[i], 0) + a.Errors[i]
			}
		}
	}
	if len(apps) > chartApps {
		c.More = len(apps) - chartApps
		apps = apps[:chartApps]
	}
	for _, a := range apps {
		var req int64
		for _, n := range a.Requests {
			req += max(n, 0)
		}
		c.Rows = append(c.Rows, chartRow{
			App:      a.App,
			Users:    sparkline(a.Users, fmt.Sprintf("Users of %s per day, %s to %s: %s", a.App, c.From, c.To, describe(a.Users))),
			Tokens:   sparkline(a.Tokens, fmt.Sprintf("Tokens of %s per day, %s to %s: %s", a.App, c.From, c.To, describe(a.Tokens))),
			Requests: bars(a.Requests, nil, 160, 28, fmt.Sprintf("API requests of %s per day, %s to %s: %s", a.App, c.From, c.To, describe(a.Requests))),
			UsersNow: lastKnown(a.Users), TokensNow: lastKnown(a.Tokens), ReqTotal: req,
		})
	}
	c.Total = bars(total, errs, 640, 120, fmt.Sprintf("API requests per day in the org, %s to %s: %s; failed requests in the darker part", c.From, c.To, describe(total)))
	return c
}

func unknowns(n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = unknown
	}
	return v
}

// known returns v's known values.
func known(v []int64) []int64 {
	return slices.DeleteFunc(slices.Clone(v), func(n int64) bool { return n == unknown })
}

// lastKnown is v's latest known value, 0 when none is.
func lastKnown(v []int64) int64 {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] != unknown {
			return v[i]
		}
	}
	return 0
}

// maxKnown is the largest known value of v, at least 1 (a chart's scale).
func maxKnown(v []int64) int64 {
	return max(slices.Max(append(known(v), 1)), 1)
}

func describe(v []int64) string {
	k := known(v)
	if len(k) == 0 {
		return "no figures yet"
	}
	lo, hi := slices.Min(k), slices.Max(k)
	last := fmt.Sprintf("%d on the last day", v[len(v)-1])
	if v[len(v)-1] == unknown {
		last = "unknown on the last day"
	}
	s := fmt.Sprintf("from %d to %d, %s", lo, hi, last)
	if n := len(v) - len(k); n > 0 {
		s += fmt.Sprintf(" (%s without figures left out)", plural(int64(n), "day", "days"))
	}
	return s
}

// sparkline draws v as a small line with its last value marked.
func sparkline(v []int64, label string) template.HTML {
	const w, h = 160.0, 28.0
	hi := maxKnown(v)
	x := func(i int) float64 {
		if len(v) == 1 {
			return w / 2
		}
		return 2 + float64(i)*(w-4)/float64(len(v)-1)
	}
	y := func(n int64) float64 { return h - 2 - float64(n)*(h-4)/float64(hi) }
	// One line per run of known days: an unknown day is a gap, not a 0.
	var lines, run []string
	end := func() {
		if len(run) == 1 {
			run = append(run, run[0]) // a lone day: a point
		}
		if len(run) > 0 {
			lines = append(lines, fmt.Sprintf(`<polyline points="%s" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/>`, strings.Join(run, " ")))
		}
		run = nil
	}
	last := -1
	for i, n := range v {
		if n == unknown {
			end()
			continue
		}
		run = append(run, fmt.Sprintf("%.1f,%.1f", x(i), y(n)))
		last = i
	}
	end()
	mark := ""
	if last >= 0 {
		mark = fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="currentColor"/>`, x(last), y(v[last]))
	}
	return template.HTML(fmt.Sprintf(`<svg class="spark" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s"><title>%s</title>%s%s</svg>`,
		w, h, w, h, template.HTMLEscapeString(label), template.HTMLEscapeString(label), strings.Join(lines, ""), mark)) // every value from Salesforce is escaped above
}

// bars draws v as a bar per day; errs, when given, darkens each bar's failed part.
func bars(v, errs []int64, w, h float64, label string) template.HTML {
	hi := maxKnown(v)
	var b strings.Builder
	top := 0.0
	if errs != nil {
		top = 14 // room for the scale
	}
	fmt.Fprintf(&b, `<svg class="bars" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s"><title>%s</title>`,
		w, h, w, h, template.HTMLEscapeString(label), template.HTMLEscapeString(label))
	bw := w / float64(len(v))
	for i, n := range v {
		if n == unknown {
			continue // no bar: the day's figure is unknown, not 0
		}
		bh := float64(n) * (h - top - 1) / float64(hi)
		fmt.Fprintf(&b, `<rect class="req" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, float64(i)*bw+0.5, h-bh, max(bw-1, 0.5), bh)
		if errs != nil && errs[i] > 0 {
			eh := float64(errs[i]) * (h - top - 1) / float64(hi)
			fmt.Fprintf(&b, `<rect class="err" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, float64(i)*bw+0.5, h-eh, max(bw-1, 0.5), eh)
		}
	}
	if errs != nil {
		fmt.Fprintf(&b, `<text x="2" y="11" class="scale">max %d a day</text>`, hi)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // the label is escaped; the rest are numbers
}
