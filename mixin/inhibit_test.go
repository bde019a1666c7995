package mixin

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"
)

// inhibitRule is one rule of alertmanager/inhibit_rules.yaml, its matchers
// parsed as Alertmanager parses them (anchored regular expressions).
type inhibitRule struct {
	source, target []*labels.Matcher
	equal          []string
}

var matcherRE = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)("(?:[^"\\]|\\.)*")$`)

func loadInhibitRules(t *testing.T) []inhibitRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("alertmanager", "inhibit_rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		InhibitRules []struct {
			Source []string `yaml:"source_matchers"`
			Target []string `yaml:"target_matchers"`
			Equal  []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	parse := func(ms []string) []*labels.Matcher {
		var out []*labels.Matcher
		for _, s := range ms {
			p := matcherRE.FindStringSubmatch(s)
			if p == nil {
				t.Fatalf("matcher %q: not name<op>\"value\"", s)
			}
			v, err := strconv.Unquote(p[3])
			if err != nil {
				t.Fatalf("matcher %q: %v", s, err)
			}
			typ := map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}[p[2]]
			m, err := labels.NewMatcher(typ, p[1], v)
			if err != nil {
				t.Fatalf("matcher %q: %v", s, err)
			}
			out = append(out, m)
		}
		return out
	}
	var rules []inhibitRule
	for _, r := range f.InhibitRules {
		rules = append(rules, inhibitRule{source: parse(r.Source), target: parse(r.Target), equal: r.Equal})
	}
	if len(rules) < 5 {
		t.Fatalf("only %d inhibition rules", len(rules))
	}
	return rules
}

func matchAll(ms []*labels.Matcher, a map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(a[m.Name]) {
			return false
		}
	}
	return true
}

// inhibited is Alertmanager's rule: a firing source alert mutes a target
// alert when both match their sides and agree on every equal label, a label
// missing on both counting as equal (empty).
func inhibited(rules []inhibitRule, firing []map[string]string, target map[string]string) (bool, string) {
	for _, r := range rules {
		if !matchAll(r.target, target) {
			continue
		}
		for _, s := range firing {
			if fmt.Sprint(s) == fmt.Sprint(target) || !matchAll(r.source, s) {
				continue
			}
			same := true
			for _, l := range r.equal {
				if s[l] != target[l] {
					same = false
					break
				}
			}
			if same {
				return true, s["alertname"]
			}
		}
	}
	return false, ""
}

// testedLabels is every label set the promtool tests expect of each alert.
func testedLabels(t *testing.T) map[string][]map[string]string {
	t.Helper()
	out := map[string][]map[string]string{}
	for _, path := range testFiles(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `yaml:"alertname"`
					ExpAlerts []struct {
						ExpLabels map[string]string `yaml:"exp_labels"`
					} `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, tc := range f.Tests {
			for _, a := range tc.AlertRuleTest {
				for _, e := range a.ExpAlerts {
					ls := map[string]string{"alertname": a.Alertname}
					for k, v := range e.ExpLabels {
						ls[k] = v
					}
					out[a.Alertname] = append(out[a.Alertname], ls)
				}
			}
		}
	}
	return out
}

// TestInhibitEqualLabelsCarried: Alertmanager compares a label missing on
// both sides as equal, so an equal label that an alert does not carry makes
// its inhibition match every alert (or none). Every alert an inhibition rule
// selects, on either side, carries each of the rule's equal labels in every
// label set its promtool tests expect (its side's other matchers aside).
func TestInhibitEqualLabelsCarried(t *testing.T) {
	rules := loadInhibitRules(t)
	tested := testedLabels(t)
	var names []string
	for _, g := range render(t).alertGroups(t) {
		names = append(names, g...)
	}
	sort.Strings(names)
	for i, r := range rules {
		for side, ms := range map[string][]*labels.Matcher{"source": r.source, "target": r.target} {
			var byName []*labels.Matcher
			for _, m := range ms {
				if m.Name == "alertname" {
					byName = append(byName, m)
				}
			}
			selected := 0
			for _, name := range names {
				if !matchAll(byName, map[string]string{"alertname": name}) {
					continue
				}
				selected++
				sets := tested[name]
				if len(sets) == 0 {
					t.Errorf("rule %d: %s alert %s has no promtool test giving its labels", i, side, name)
				}
				for _, ls := range sets {
					for _, l := range r.equal {
						// app_id is empty (no label) for an app without an Id
						// on both sides alike: both come from the same app's series.
						if _, ok := ls[l]; !ok && l != "app_id" {
							t.Errorf("rule %d: %s alert %s lacks equal label %q: %v", i, side, name, l, ls)
						}
					}
				}
			}
			if selected == 0 {
				t.Errorf("rule %d: its %s matchers select no alert of the mixin", i, side)
			}
		}
	}
}

// alertGroups lists the alert names of the rendered alerts, per group.
func (r *Rendered) alertGroups(t *testing.T) [][]string {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(r.Alerts, &f); err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, g := range f.Groups {
		var names []string
		for _, rule := range g.Rules {
			names = append(names, rule.Alert)
		}
		out = append(out, names)
	}
	return out
}

// TestInhibitOnlyWhatTheDownTargetCaused: two shards, a and b, and a third
// target c. Shard a is down: its own alerts and its orgs' health alerts are
// held back; an IOC login in shard b's org, and every security finding of
// a's own orgs, are delivered. An exhausted allocation holds back the source
// failures of its org only.
func TestInhibitOnlyWhatTheDownTargetCaused(t *testing.T) {
	rules := loadInhibitRules(t)
	a := func(s string) map[string]string {
		ls := map[string]string{"job": "salesforce"}
		for _, kv := range strings.Fields(s) {
			k, v, _ := strings.Cut(kv, "=")
			ls[k] = v
		}
		return ls
	}
	firing := []map[string]string{
		a("alertname=SalesforceExporterDown severity=critical instance=a:10157"),
		a("alertname=SalesforceExporterDownForOrg severity=none instance=a:10157 org=north"),
		a("alertname=SalesforceAPIAllocationExhausted severity=critical org=east"),
	}
	cases := []struct {
		alert string
		muted bool
	}{
		// What shard a's outage caused.
		{"alertname=SalesforceOrgNotReported severity=critical org=north", true},
		{"alertname=SalesforceSourceFailing severity=warning org=north source=oauth_tokens", true},
		{"alertname=SalesforceDataStale severity=warning org=north source=apps", true},
		{"alertname=SalesforceExporterStorageWriteFailing severity=warning instance=a:10157 org=north file=state", true},
		{"alertname=SalesforceExporterConfigReloadFailed severity=warning instance=a:10157", true},
		// Findings, and other targets' orgs: delivered.
		{"alertname=SalesforceAppLoginFromIOCAddress severity=critical org=south app=Slack app_id=0H4000000000001AAA list=feed", false},
		{"alertname=SalesforceAppLoginFromIOCAddress severity=critical org=north app=Slack app_id=0H4000000000001AAA list=feed", false},
		{"alertname=SalesforceNewUnknownAppWithUsers severity=critical org=north app=X app_id=0H4000000000002AAA", false},
		{"alertname=SalesforceOrgNotReported severity=critical org=south", false},
		{"alertname=SalesforceSourceFailing severity=warning org=south source=oauth_tokens", false},
		{"alertname=SalesforceExporterStorageWriteFailing severity=warning instance=b:10157 org=south file=state", false},
		{"alertname=SalesforceExporterConfigReloadFailed severity=warning instance=c:10157", false},
		{"alertname=SalesforceExporterDown severity=critical instance=a:10157", false},
		// The exhausted allocation of east: its source failures only.
		{"alertname=SalesforceSourceFailing severity=warning org=east source=limits", true},
		{"alertname=SalesforceDataStale severity=warning org=east source=oauth_tokens", true},
		{"alertname=SalesforceAPIUsageDataStale severity=info org=east", true},
		{"alertname=SalesforceAPIAllocationNearlyExhausted severity=warning org=east", true},
		{"alertname=SalesforceAPISurge severity=critical org=east app=ETL app_id=0H4000000000003AAA", false},
		{"alertname=SalesforceDataStale severity=warning org=south source=oauth_tokens", false},
	}
	for _, c := range cases {
		target := a(c.alert)
		if got, by := inhibited(rules, firing, target); got != c.muted {
			t.Errorf("%s: inhibited=%v (by %s), want %v", c.alert, got, by, c.muted)
		}
	}
	// With every target gone (SalesforceExporterAbsent), all alerts of the job wait.
	absent := []map[string]string{a("alertname=SalesforceExporterAbsent severity=critical")}
	if got, _ := inhibited(rules, absent, a("alertname=SalesforceOrgNotReported severity=critical org=south")); !got {
		t.Error("SalesforceExporterAbsent does not hold back the job's alerts")
	}
}

// TestBaselineResetMutesNothing: a reset detection baseline is coverage news,
// not the cause of any other alert: no alert the promtool tests expect, of
// its own org or another, is held back while it fires.
func TestBaselineResetMutesNothing(t *testing.T) {
	rules := loadInhibitRules(t)
	firing := []map[string]string{{"alertname": "SalesforceDetectionBaselineReset", "severity": "warning", "job": "salesforce", "org": "prod"}}
	tested := testedLabels(t)
	if len(tested["SalesforceDetectionBaselineReset"]) == 0 {
		t.Fatal("no promtool test expects SalesforceDetectionBaselineReset")
	}
	n := 0
	for name, sets := range tested {
		for _, ls := range sets {
			for _, org := range []string{"prod", "dev"} {
				target := map[string]string{}
				for k, v := range ls {
					target[k] = v
				}
				target["job"], target["org"] = "salesforce", org
				if got, by := inhibited(rules, firing, target); got {
					t.Errorf("%s of org %s is held back by %s", name, org, by)
				}
				n++
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d label sets checked", n)
	}
}
