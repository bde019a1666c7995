package mixin

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The detection metrics (collector/detection.go) and the recording rule over
// them that the dashboards read.
var detectionMetrics = []string{
	"salesforce_connected_app_api_client_networks",
	"salesforce_connected_app_api_requests_from_new_networks",
	"salesforce_connected_app_api_new_objects",
	"salesforce_connected_app_api_object_requests",
	"salesforce_connected_app_api_object_requests_from_new_networks",
	"salesforce_connected_app_api_new_object_requests",
	"salesforce_connected_app_api_requests_matching_ioc",
	"salesforce_connected_app_oauth_logins_from_new_networks",
	"salesforce_connected_app_oauth_logins_matching_ioc",
	"salesforce_connected_app_api_baseline_start_timestamp_seconds",
	"org_app:salesforce_connected_app_api_requests_from_new_networks:ratio",
	"salesforce_connected_app_api_new_network_request_share",
	"salesforce_connected_app_api_new_network_usual_request_share",
}

type testPanel struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Targets     []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Links []struct {
		URL string `json:"url"`
	} `json:"links"`
	FieldConfig struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds struct {
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Options struct {
		SortBy []struct {
			DisplayName string `json:"displayName"`
			Desc        bool   `json:"desc"`
		} `json:"sortBy"`
	} `json:"options"`
}

func dashboardPanels(t *testing.T, r *Rendered, name string) []testPanel {
	t.Helper()
	var d struct {
		Panels []testPanel `json:"panels"`
	}
	if err := json.Unmarshal(r.Dashboards[name], &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d.Panels
}

// selectors returns the vector selectors of expr, by metric name.
func selectors(t *testing.T, expr string) map[string][]*parser.VectorSelector {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q does not parse: %v", expr, err)
	}
	out := map[string][]*parser.VectorSelector{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out[vs.Name] = append(out[vs.Name], vs)
		}
		return nil
	})
	return out
}

func hasMatcher(vs *parser.VectorSelector, typ labels.MatchType, name, value string) bool {
	for _, m := range vs.LabelMatchers {
		if m.Type == typ && m.Name == name && m.Value == value {
			return true
		}
	}
	return false
}

// checkDetectionPanel: a panel over the detection metrics says what it means
// (a description), has a unit, narrows every detection selector by the
// dashboard's variables (app matched exactly on the app dashboard), and its
// runbook links point at sections that exist.
func checkDetectionPanel(t *testing.T, p testPanel, appMatch labels.MatchType, runbooks string) (used map[string]bool) {
	t.Helper()
	used = map[string]bool{}
	for _, tg := range p.Targets {
		for name, vss := range selectors(t, tg.Expr) {
			if !slices.Contains(detectionMetrics, name) {
				continue
			}
			used[name] = true
			for _, vs := range vss {
				if !hasMatcher(vs, labels.MatchRegexp, "org", "$org") || !hasMatcher(vs, labels.MatchRegexp, "job", "$job") || !hasMatcher(vs, appMatch, "app", "$app") {
					t.Errorf("panel %q: %s is not narrowed by the job, org and app variables: %s", p.Title, name, vs)
				}
			}
		}
	}
	if len(used) == 0 {
		return used
	}
	if len(p.Description) < 60 {
		t.Errorf("panel %q: description %q does not say what the panel means and what to do", p.Title, p.Description)
	}
	if p.FieldConfig.Defaults.Unit == "" {
		t.Errorf("panel %q has no unit", p.Title)
	}
	for _, l := range p.Links {
		i := strings.LastIndex(l.URL, "/docs/runbooks.md#")
		if i < 0 {
			t.Errorf("panel %q: link %q is not a runbook section", p.Title, l.URL)
			continue
		}
		anchor := l.URL[i+len("/docs/runbooks.md#"):]
		if !strings.Contains(runbooks, "\n## "+anchor+"\n") {
			t.Errorf("panel %q: runbook section %q does not exist", p.Title, anchor)
		}
	}
	return used
}

// threshold returns the colour of the first threshold step at value v, or "".
func threshold(p testPanel, v float64) string {
	for _, s := range p.FieldConfig.Defaults.Thresholds.Steps {
		if s.Value != nil && *s.Value == v {
			return s.Color
		}
	}
	return ""
}

func findPanel(t *testing.T, panels []testPanel, title string) testPanel {
	t.Helper()
	for _, p := range panels {
		if p.Title == title {
			return p
		}
	}
	t.Fatalf("no panel %q", title)
	return testPanel{}
}

func TestDetectionPanelsOnTheAppDashboard(t *testing.T) {
	t.Parallel()
	r := render(t)
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	panels := dashboardPanels(t, r, "salesforce-oauth-app.json")
	used := map[string]bool{}
	linked := map[string]bool{}
	for _, p := range panels {
		for m := range checkDetectionPanel(t, p, labels.MatchEqual, string(runbooks)) {
			used[m] = true
			for _, l := range p.Links {
				linked[l.URL[strings.LastIndex(l.URL, "#")+1:]] = true
			}
		}
	}
	for _, m := range detectionMetrics {
		// The app dashboard shows the exporter's share, not the recorded one.
		if !used[m] && m != "org_app:salesforce_connected_app_api_requests_from_new_networks:ratio" {
			t.Errorf("no panel of the app dashboard queries %s", m)
		}
	}
	// Every detection alert's runbook is reachable from a panel.
	for _, a := range []string{"salesforceapprequestsfromnewnetworks", "salesforceappnewnetworksreadsensitiveobjects", "salesforceknownappnewsensitiveobject", "salesforceapprequestsfromiocaddress", "salesforceapploginfromiocaddress"} {
		if !linked[a] {
			t.Errorf("no detection panel links the runbook section %s", a)
		}
	}
	// Sensible thresholds: any IOC match is red, any request from a new
	// network orange, and a baseline younger than min_baseline is not green.
	if c := threshold(findPanel(t, panels, "IOC matches 24h"), 1); c != "red" {
		t.Errorf("IOC matches 24h: threshold at 1 is %q, want red", c)
	}
	if c := threshold(findPanel(t, panels, "Requests from new networks 24h"), 1); c != "orange" {
		t.Errorf("Requests from new networks 24h: threshold at 1 is %q, want orange", c)
	}
	age := findPanel(t, panels, "Detection baseline age")
	if c := threshold(age, 7*86400); c != "green" || age.FieldConfig.Defaults.Unit != "s" || age.FieldConfig.Defaults.Thresholds.Steps[0].Color != "yellow" {
		t.Errorf("Detection baseline age: want yellow below 7 days and green from then, in seconds: %+v", age.FieldConfig.Defaults)
	}
	// The share panel draws the level the alerts compare with: the factor
	// times the usual share the exporter keeps, not Prometheus history.
	share := findPanel(t, panels, "Share from new networks, against its usual share")
	if len(share.Targets) != 2 || !strings.Contains(share.Targets[0].Expr, "salesforce_connected_app_api_new_network_request_share{") ||
		!strings.Contains(share.Targets[1].Expr, "2 * max by (app_id) (max without(instance, pod) (salesforce_connected_app_api_new_network_usual_request_share{") ||
		strings.Contains(share.Targets[1].Expr, "offset") {
		t.Errorf("share panel does not draw the alerts' level: %+v", share.Targets)
	}
}

func TestDetectionTableOnTheOverview(t *testing.T) {
	t.Parallel()
	r := render(t)
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	p := findPanel(t, dashboardPanels(t, r, "salesforce-oauth-overview.json"), "Apps with traffic from new networks")
	if p.Type != "table" {
		t.Fatalf("type %q, want table", p.Type)
	}
	used := checkDetectionPanel(t, p, labels.MatchRegexp, string(runbooks))
	for _, m := range []string{
		"salesforce_connected_app_api_requests_from_new_networks",
		"salesforce_connected_app_api_new_objects",
		"salesforce_connected_app_api_requests_matching_ioc",
		"salesforce_connected_app_oauth_logins_matching_ioc",
		"salesforce_connected_app_api_baseline_start_timestamp_seconds",
	} {
		if !used[m] {
			t.Errorf("the table does not show %s", m)
		}
	}
	// Every column lists the same apps: those with a finding.
	for _, tg := range p.Targets {
		if !strings.Contains(tg.Expr, "and on(org, app, app_id) (max by (org, app, app_id) (salesforce_connected_app_api_requests_from_new_networks{") {
			t.Errorf("column %q is not filtered to the apps with a finding", tg.Expr)
		}
	}
	if len(p.Options.SortBy) != 1 || p.Options.SortBy[0].DisplayName != "From new networks" || !p.Options.SortBy[0].Desc {
		t.Errorf("sortBy %+v, want From new networks, descending", p.Options.SortBy)
	}
	sum := md5.Sum([]byte("salesforce-oauth-app.json"))
	appUID := hex.EncodeToString(sum[:])
	found := false
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.Options != "app" {
			continue
		}
		for _, prop := range o.Properties {
			var links []struct {
				URL string `json:"url"`
			}
			if prop.ID != "links" || json.Unmarshal(prop.Value, &links) != nil {
				continue
			}
			for _, l := range links {
				if strings.HasPrefix(l.URL, "/d/"+appUID+"?var-org=${__data.fields.org:percentencode}&var-app=${__data.fields.app:percentencode}&") {
					found = true
				}
			}
		}
	}
	if !found {
		t.Errorf("the app column does not link to the app dashboard (%s) for its org and app", appUID)
	}
}
