// Command generate renders the mixin into mixin/rendered (the alert and rule
// files, and the Grafana dashboards in mixin/rendered/dashboards) and writes
// the Helm chart's copy of them (deploy/helm/salesforce-oauth-exporter/files,
// which the chart reads at template time; a test checks the two are equal).
// Run it from the repository root: go run ./mixin/cmd/generate.
//
// With -prometheusrule=FILE it also writes the rules and alerts as one
// Prometheus Operator PrometheusRule manifest (not committed: the chart
// makes its own).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/mixin"
)

func main() {
	prometheusRule := flag.String("prometheusrule", "", "Also write the rules and alerts as one PrometheusRule manifest to this file.")
	flag.Parse()
	if err := run(*prometheusRule); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(prometheusRule string) error {
	r, err := mixin.Render("")
	if err != nil {
		return err
	}
	rendered := filepath.Join("mixin", "rendered")
	chart := filepath.Join("deploy", "helm", "salesforce-oauth-exporter", "files")
	out := map[string][]byte{}
	for _, dir := range []string{rendered, chart} {
		out[filepath.Join(dir, "alerts.yaml")] = r.Alerts
		out[filepath.Join(dir, "rules.yaml")] = r.Rules
		// Stale dashboards (one renamed or dropped) go.
		old, _ := filepath.Glob(filepath.Join(dir, "dashboards", "*.json"))
		for _, p := range old {
			if _, ok := r.Dashboards[filepath.Base(p)]; !ok {
				if err := os.Remove(p); err != nil {
					return err
				}
			}
		}
		for _, name := range r.DashboardNames() {
			out[filepath.Join(dir, "dashboards", name)] = r.Dashboards[name]
		}
	}
	if prometheusRule != "" {
		out[prometheusRule] = r.PrometheusRule
	}
	for p, b := range out {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
