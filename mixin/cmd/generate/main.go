// Command generate renders the mixin into mixin/rendered (alert and rule
// files, and both in one PrometheusRule manifest) and dashboards/ (Grafana JSON). Run it from the repository root:
// go run ./mixin/cmd/generate.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/mixin"
)

func main() {
	r, err := mixin.Render("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string][]byte{
		filepath.Join("mixin", "rendered", "alerts.yaml"):         r.Alerts,
		filepath.Join("mixin", "rendered", "rules.yaml"):          r.Rules,
		filepath.Join("mixin", "rendered", "prometheusrule.yaml"): r.PrometheusRule,
	}
	for _, name := range r.DashboardNames() {
		out[filepath.Join("dashboards", name)] = r.Dashboards[name]
	}
	for p, b := range out {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
