package review

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHTMLStructure: findings first, a summary and contents for several
// orgs, every internal link lands on an id, semantic tables, print styles.
func TestHTMLStructure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.report(t, DefaultOptions())
	b := f.report(t, DefaultOptions())
	b.Org = "sandbox"
	for i := range b.Findings {
		b.Findings[i].Org = "sandbox"
	}
	// Re-derive b's anchors for its new name.
	addFindingsAgain(b)
	var out bytes.Buffer
	if err := Write(&out, []*Report{a, b}, "html"); err != nil {
		t.Fatal(err)
	}
	h := out.String()
	main := h[strings.Index(h, "<main>"):]
	if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(main, "<main>")), `<section id="findings"`) {
		t.Errorf("the first section is not the findings:\n%.300s", main)
	}
	for _, want := range []string{"Summary across orgs", `<th scope="col">`, `<th scope="row">prod</th>`, `<th scope="row">sandbox</th>`, "@media print", "<details>", "<caption>", "WARNING", "INFO"} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(h, -1) {
		if ids[m[1]] {
			t.Errorf("id %s twice", m[1])
		}
		ids[m[1]] = true
	}
	links := regexp.MustCompile(` href="#([^"]+)"`).FindAllStringSubmatch(h, -1)
	if len(links) < 20 {
		t.Errorf("only %d internal links", len(links))
	}
	for _, m := range links {
		if !ids[m[1]] {
			t.Errorf("link to #%s lands nowhere", m[1])
		}
	}
	// Markdown's links land too.
	out.Reset()
	if err := Write(&out, []*Report{a, b}, "markdown"); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	mdIDs := map[string]bool{}
	for _, m := range regexp.MustCompile(`<a id="([^"]+)"></a>`).FindAllStringSubmatch(md, -1) {
		mdIDs[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(md, -1) {
		if !mdIDs[m[1]] {
			t.Errorf("markdown link to #%s lands nowhere", m[1])
		}
	}
	if !strings.Contains(md, "## Summary") || !strings.Contains(md, "## Contents") {
		t.Error("markdown lacks the summary or contents")
	}
}

// addFindingsAgain rebuilds a report's findings and evidence under its org name.
func addFindingsAgain(r *Report) {
	byApp := map[string][]TokenRow{}
	for _, a := range r.AppEvidence {
		byApp[a.key()] = a.Authorizations
	}
	r.Findings, r.AppEvidence = nil, nil
	addFindings(r, byApp, r.DataAsOf, DefaultOptions())
}

func TestHistoryCharts(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var h History
	for d := range 70 { // more than the eight weeks drawn
		h = append(h, DayRow{Day: day.AddDate(0, 0, d), App: "Big", Users: 100 + int64(d), Tokens: 120, Requests: 1000, Errors: 10})
		if d >= 60 {
			h = append(h, DayRow{Day: day.AddDate(0, 0, d), App: "Phish", Users: int64(d - 59), Tokens: int64(d - 59)})
		}
	}
	days, apps := h.series([]string{"Phish"})
	if len(days) != chartDays || !days[len(days)-1].Equal(day.AddDate(0, 0, 69)) {
		t.Fatalf("days: %d, last %v", len(days), days[len(days)-1])
	}
	if apps[0].App != "Phish" || apps[0].Users[len(days)-1] != 10 || apps[0].Users[0] != 0 || apps[1].Users[0] != 114 {
		t.Errorf("series: %+v", apps[0])
	}
	r := &Report{Org: "prod", History: h, Findings: []Finding{{App: "Phish"}}}
	c := r.charts()
	if c == nil || len(c.Rows) != 2 || c.Rows[0].App != "Phish" || c.Rows[0].UsersNow != 10 || c.Rows[1].ReqTotal != 56*1000 {
		t.Fatalf("charts: %+v", c)
	}
	if n := strings.Count(string(c.Total), "<rect class=\"req\""); n != chartDays {
		t.Errorf("%d bars for %d days", n, chartDays)
	}
	if !strings.Contains(string(c.Rows[0].Users), `aria-label="Users of Phish per day`) {
		t.Error("a chart has no text alternative")
	}
	// An app name in a chart's label is escaped.
	r.History = History{{Day: day, App: `<x onload="y">`, Users: 1}}
	if s := string(r.charts().Rows[0].Users); strings.Contains(s, "<x") || !strings.Contains(s, "&lt;x") {
		t.Errorf("label not escaped: %s", s)
	}
	if (&Report{}).charts() != nil {
		t.Error("charts without history")
	}
}

// TestHistoryDaysBeforeStartAreUnknown (issue 25): the log files cover days
// before the exporter started, when it had not read the org's tokens. Those
// days' users are unknown: left out of the charts (not drawn as 0, so no app
// seems to appear today), absent from review.json; a day no log file
// covered has no request bar.
func TestHistoryDaysBeforeStartAreUnknown(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var h History
	for d := range 7 { // log files for the week before the start
		h = append(h, DayRow{Day: day.AddDate(0, 0, d), App: "ERP", Requests: 1000 + int64(d), HasRequests: true})
	}
	for d := 7; d < 10; d++ { // then the exporter runs; today's log file is not out yet
		r := DayRow{Day: day.AddDate(0, 0, d), App: "ERP", Users: 197, Tokens: 200, HasTokens: true}
		if d < 9 {
			r.Requests, r.HasRequests = 2000, true
		}
		h = append(h, r)
	}
	days, apps := h.series(nil)
	if len(days) != 10 || len(apps) != 1 {
		t.Fatalf("%d days, %d apps", len(days), len(apps))
	}
	a := apps[0]
	for i := range 7 {
		if a.Users[i] != unknown || a.Requests[i] == unknown {
			t.Errorf("day %d: users %d, requests %d; want users unknown, requests known", i, a.Users[i], a.Requests[i])
		}
	}
	if a.Users[9] != 197 || a.Requests[9] != unknown {
		t.Errorf("today: users %d, requests %d; want 197 and unknown", a.Users[9], a.Requests[9])
	}
	r := &Report{Org: "prod", History: h}
	c := r.charts()
	users := string(c.Rows[0].Users)
	if !strings.Contains(users, "from 197 to 197, 197 on the last day (7 days without figures left out)") {
		t.Errorf("the users chart's label: %s", users)
	}
	// Every point drawn is at 197 (the chart's top), none at 0 (its foot).
	for _, pts := range regexp.MustCompile(`points="([^"]*)"`).FindAllStringSubmatch(users, -1) {
		for _, p := range strings.Fields(pts[1]) {
			if !strings.HasSuffix(p, ",2.0") {
				t.Errorf("a users point off the 197 line: %s in %s", p, users)
			}
		}
	}
	if n := strings.Count(string(c.Total), `<rect class="req"`); n != 9 {
		t.Errorf("%d request bars, want 9 (today has no log file yet)", n)
	}
	var b strings.Builder
	if err := Write(&b, []*Report{r}, "json"); err != nil {
		t.Fatal(err)
	}
	var back struct {
		History []map[string]any `json:"history"`
	}
	if err := json.Unmarshal([]byte(b.String()), &back); err != nil {
		t.Fatal(err)
	}
	for i, row := range back.History {
		_, hasUsers := row["users"]
		_, hasRequests := row["requests"]
		if hasUsers != (i >= 7) || hasRequests != (i < 9) {
			t.Errorf("review.json history row %d: %v; want users only from day 7, requests only before day 9", i, row)
		}
	}
}
