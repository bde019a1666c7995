package review

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHumanDuration (issue 25): spans read as a person says them.
func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                               "0s",
		45 * time.Second:                "45s",
		12*time.Minute + 30*time.Second: "12m30s",
		12 * time.Minute:                "12m",
		5*time.Hour + 20*time.Minute:    "5h20m",
		5 * time.Hour:                   "5h",
		4391*time.Hour + 54*time.Minute: "183 days",
		47*time.Hour + 59*time.Minute:   "47h59m",
		-time.Second:                    "0s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestReviewTextReadsWell (issue 25): no "only 0 API requests", no span
// in thousands of hours, in any format of the demo's review.
func TestReviewTextReadsWell(t *testing.T) {
	t.Parallel()
	r := demoReport(t)
	// An abandoned app with no requests at all.
	r.HighUsersLowUse = append(r.HighUsersLowUse, AppRow{App: "Idle Tool", Kind: "connected_app", Users: 30, Known: true, AppID: "0H45j00000000ZZCAA"})
	r.Findings = nil
	addFindings(r, nil, r.DataAsOf, DefaultOptions())
	for _, format := range []string{"text", "markdown", "csv", "html", "json"} {
		var b bytes.Buffer
		if err := Write(&b, []*Report{r}, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "only 0 API requests") {
			t.Errorf("%s: says \"only 0 API requests\"", format)
		}
		if m := regexp.MustCompile(`\b\d{3,}h\d+m`).FindString(out); m != "" {
			t.Errorf("%s: a span of %s: want days", format, m)
		}
		if format == "text" && !strings.Contains(out, `"Idle Tool" has 30 users but no API requests in 7 days.`) {
			t.Errorf("text: no finding for the idle app")
		}
	}
}

// TestNoFindingsSaysSo (issue 25): a review without findings says so under
// its heading in text and markdown, rather than leaving it empty.
func TestNoFindingsSaysSo(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "markdown"} {
		var b bytes.Buffer
		if err := Write(&b, []*Report{{Org: "prod"}}, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		i := strings.Index(out, "Findings")
		if i < 0 || !strings.Contains(out[i:], "No findings") || strings.Index(out[i:], "No findings") > 40 {
			t.Errorf("%s: the Findings heading is not followed by \"No findings\":\n%.600s", format, out)
		}
	}
}
