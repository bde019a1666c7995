package cli

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/mixin"
)

// TestMixinNamesOnlyServedMetrics parses every PromQL expression of every
// alert, recording rule and dashboard panel, and checks that each metric it
// names is served by the real exporter (its demo) or recorded by the rules.
func TestMixinNamesOnlyServedMetrics(t *testing.T) {
	t.Parallel()
	// Shield mode, so the stream's series are served; the posture changes
	// appear once a read after the surge finds them.
	e := startExporter(t, "--demo", "--demo.shield", "--demo.surge-after=1s")
	served := e.waitFor(t, "every source up, a posture change and the stream", func(m map[string]*metricFamily) bool {
		v, _ := value(m, "salesforce_up", "org=demo")
		return v == 1 && m["salesforce_connected_app_posture_change_timestamp_seconds"] != nil &&
			m["salesforce_org_permission_holders_increase_timestamp_seconds"] != nil &&
			m["salesforce_stream_connected"] != nil && m["salesforce_stream_last_replay_gap_timestamp_seconds"] != nil
	})
	// The busiest whole day of rows needs a day the stream saw from start
	// to finish, which a demo never has: the refresh tests serve it
	// (TestAPIEventsRowsLedgerAcrossDaysAndRestart).
	known := map[string]bool{"up": true, "ALERTS": true, "salesforce_connected_app_rows_processed_daily_max": true}
	for name := range served {
		known[name] = true
	}
	r, err := mixin.Render("")
	if err != nil {
		t.Fatal(err)
	}
	type ruleFile struct {
		Groups []struct {
			Rules []struct {
				Record, Alert, Expr string
			}
		}
	}
	var exprs []string
	where := map[string]string{}
	for _, f := range [][]byte{r.Rules, r.Alerts} {
		var rf ruleFile
		if err := yaml.Unmarshal(f, &rf); err != nil {
			t.Fatal(err)
		}
		for _, g := range rf.Groups {
			for _, rule := range g.Rules {
				if rule.Record != "" {
					known[rule.Record] = true
				}
				exprs = append(exprs, rule.Expr)
				where[rule.Expr] = rule.Alert + rule.Record
			}
		}
	}
	for name, raw := range r.Dashboards {
		var d any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		collectExprs(d, func(expr string) {
			exprs = append(exprs, expr)
			where[expr] = name
		})
	}
	if len(exprs) < 60 {
		t.Fatalf("only %d expressions found", len(exprs))
	}
	missing := map[string][]string{}
	for _, expr := range exprs {
		// Dashboard variables stand inside label matchers' strings, except
		// Grafana's range and interval variables: give those a value.
		e, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVars.Replace(expr))
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where[expr], expr, err)
			continue
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" && !known[vs.Name] {
				missing[vs.Name] = append(missing[vs.Name], where[expr])
			}
			return nil
		})
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Errorf("metric %s is used by %s but the exporter does not serve it", n, strings.Join(missing[n], ", "))
	}
}

// grafanaVars stand for Grafana's built-in range variables in expressions.
var grafanaVars = strings.NewReplacer("$__range_s", "604800", "$__rate_interval", "5m", "$__range", "7d", "$__interval", "1m")

// collectExprs finds the "expr" of every panel target and the query of
// every query variable.
func collectExprs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		if e, ok := x["expr"].(string); ok {
			fn(e)
		}
		if x["type"] == "query" {
			if q, ok := x["query"].(map[string]any); ok {
				if s, ok := q["query"].(string); ok && strings.HasPrefix(s, "label_values(") {
					// label_values(metric{...}, label): check the metric part.
					inner := strings.TrimPrefix(s, "label_values(")
					if i := strings.LastIndex(inner, ","); i > 0 {
						fn(inner[:i])
					}
				}
			}
		}
		for _, c := range x {
			collectExprs(c, fn)
		}
	case []any:
		for _, c := range x {
			collectExprs(c, fn)
		}
	}
}
