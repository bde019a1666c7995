package review

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/refresh"
)

// DayRow is one app's figures on one UTC day: the row the exporter keeps
// per app per day in its state (a few dozen bytes each), from which the
// review draws its charts.
type DayRow = refresh.HistoryDay

// History is the compact daily history of one org, one row per app per day.
type History []DayRow

// chartDays is how far back the charts look: the last eight weeks.
const chartDays = 56

// chartApps is how many apps get a row of small charts.
const chartApps = 8

// appSeries is one app's daily figures over the chart's days.
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
	idx := map[string]*appSeries{}
	var order []string
	for _, r := range h {
		d := r.Day.UTC().Truncate(24 * time.Hour)
		if d.Before(oldest) {
			continue
		}
		k := r.App + "\x00" + r.AppID
		s := idx[k]
		if s == nil {
			n := len(days)
			s = &appSeries{App: r.App, Users: make([]int64, n), Tokens: make([]int64, n), Requests: make([]int64, n), Errors: make([]int64, n)}
			idx[k] = s
			order = append(order, k)
		}
		i := int(d.Sub(oldest).Hours() / 24)
		s.Users[i], s.Tokens[i], s.Requests[i], s.Errors[i] = r.Users, r.Tokens, r.Requests, r.Errors
	}
	for _, k := range order {
		apps = append(apps, *idx[k])
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
	total, errs := make([]int64, len(days)), make([]int64, len(days))
	for _, a := range apps {
		for i := range days {
			total[i] += a.Requests[i]
			errs[i] += a.Errors[i]
		}
	}
	if len(apps) > chartApps {
		c.More = len(apps) - chartApps
		apps = apps[:chartApps]
	}
	for _, a := range apps {
		var req int64
		for _, n := range a.Requests {
			req += n
		}
		c.Rows = append(c.Rows, chartRow{
			App:      a.App,
			Users:    sparkline(a.Users, fmt.Sprintf("Users of %s per day, %s to %s: %s", a.App, c.From, c.To, describe(a.Users))),
			Tokens:   sparkline(a.Tokens, fmt.Sprintf("Tokens of %s per day, %s to %s: %s", a.App, c.From, c.To, describe(a.Tokens))),
			Requests: bars(a.Requests, nil, 160, 28, fmt.Sprintf("API requests of %s per day, %s to %s: %s", a.App, c.From, c.To, describe(a.Requests))),
			UsersNow: a.Users[len(a.Users)-1], TokensNow: a.Tokens[len(a.Tokens)-1], ReqTotal: req,
		})
	}
	c.Total = bars(total, errs, 640, 120, fmt.Sprintf("API requests per day in the org, %s to %s: %s; failed requests in the darker part", c.From, c.To, describe(total)))
	return c
}

func describe(v []int64) string {
	lo, hi := slices.Min(v), slices.Max(v)
	return fmt.Sprintf("from %d to %d, %d on the last day", lo, hi, v[len(v)-1])
}

// sparkline draws v as a small line with its last value marked.
func sparkline(v []int64, label string) template.HTML {
	const w, h = 160.0, 28.0
	hi := max(slices.Max(v), 1)
	var pts []string
	x := func(i int) float64 {
		if len(v) == 1 {
			return w / 2
		}
		return 2 + float64(i)*(w-4)/float64(len(v)-1)
	}
	y := func(n int64) float64 { return h - 2 - float64(n)*(h-4)/float64(hi) }
	for i, n := range v {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(n)))
	}
	lx, ly := x(len(v)-1), y(v[len(v)-1])
	return template.HTML(fmt.Sprintf(`<svg class="spark" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s"><title>%s</title><polyline points="%s" fill="none" stroke="currentColor" stroke-width="1.5"/><circle cx="%.1f" cy="%.1f" r="2.5" fill="currentColor"/></svg>`,
		w, h, w, h, template.HTMLEscapeString(label), template.HTMLEscapeString(label), strings.Join(pts, " "), lx, ly)) // every value from Salesforce is escaped above
}

// bars draws v as a bar per day; errs, when given, darkens each bar's failed part.
func bars(v, errs []int64, w, h float64, label string) template.HTML {
	hi := max(slices.Max(v), 1)
	var b strings.Builder
	top := 0.0
	if errs != nil {
		top = 14 // room for the scale
	}
	fmt.Fprintf(&b, `<svg class="bars" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s"><title>%s</title>`,
		w, h, w, h, template.HTMLEscapeString(label), template.HTMLEscapeString(label))
	bw := w / float64(len(v))
	for i, n := range v {
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
