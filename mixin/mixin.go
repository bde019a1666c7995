// Package mixin renders the monitoring mixin (Prometheus alerts, recording
// rules and Grafana dashboards, written in jsonnet) with go-jsonnet, so that
// generating and testing it needs no jsonnet binary.
package mixin

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/google/go-jsonnet"
)

//go:embed mixin.libsonnet config.libsonnet alerts rules dashboards lib
var files embed.FS

// Rendered is the mixin's output.
type Rendered struct {
	Alerts []byte // Prometheus rule file (YAML)
	Rules  []byte // Prometheus rule file (YAML)
	// PrometheusRule is the rules and the alerts in one Prometheus Operator
	// PrometheusRule manifest (YAML).
	PrometheusRule []byte
	Dashboards     map[string][]byte // Grafana dashboards by file name (JSON)
}

// DashboardNames returns the dashboard file names, sorted.
func (r *Rendered) DashboardNames() []string {
	names := slices.Sorted(maps.Keys(r.Dashboards))
	return names
}

type fsImporter struct{ cache map[string]jsonnet.Contents }

func (i *fsImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	p := path.Clean(path.Join(path.Dir(importedFrom), importedPath))
	if c, ok := i.cache[p]; ok {
		return c, p, nil
	}
	b, err := files.ReadFile(p)
	if err != nil {
		return jsonnet.Contents{}, "", fmt.Errorf("import %s: %w", importedPath, err)
	}
	c := jsonnet.MakeContents(string(b))
	i.cache[p] = c
	return c, p, nil
}

// Render evaluates the mixin. config, when not empty, is a jsonnet object
// merged into _config, such as `{ authSurgeWindow: '1m' }`.
func Render(config string) (*Rendered, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&fsImporter{cache: map[string]jsonnet.Contents{}})
	if config == "" {
		config = "{}"
	}
	base := "(import 'mixin.libsonnet') + { _config+:: " + config + " }"
	str := func(expr string) ([]byte, error) {
		out, err := vm.EvaluateAnonymousSnippet("render.jsonnet", expr)
		if err != nil {
			return nil, err
		}
		var s string
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	r := &Rendered{Dashboards: map[string][]byte{}}
	var err error
	if r.Alerts, err = str("std.manifestYamlDoc((" + base + ").prometheusAlerts, indent_array_in_object=false, quote_keys=false)"); err != nil {
		return nil, fmt.Errorf("render alerts: %w", err)
	}
	if r.Rules, err = str("std.manifestYamlDoc((" + base + ").prometheusRules, indent_array_in_object=false, quote_keys=false)"); err != nil {
		return nil, fmt.Errorf("render rules: %w", err)
	}
	if r.PrometheusRule, err = str("local m = " + base + "; std.manifestYamlDoc({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', " +
		"metadata: { name: m._config.prometheusRuleName, labels: m._config.prometheusRuleLabels }, " +
		"spec: { groups: m.prometheusRules.groups + m.prometheusAlerts.groups } }, indent_array_in_object=false, quote_keys=false)"); err != nil {
		return nil, fmt.Errorf("render PrometheusRule: %w", err)
	}
	out, err := vm.EvaluateAnonymousSnippet("render.jsonnet", "("+base+").grafanaDashboards")
	if err != nil {
		return nil, fmt.Errorf("render dashboards: %w", err)
	}
	var dashboards map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &dashboards); err != nil {
		return nil, err
	}
	for name, raw := range dashboards {
		var v any
		_ = json.Unmarshal(raw, &v)
		b, _ := json.MarshalIndent(v, "", "  ")
		r.Dashboards[name] = append(b, '\n')
	}
	return r, nil
}

// Config returns the mixin's _config as JSON values, for the tests that tie
// other thresholds (the review's) to the alerts'.
func Config() (map[string]any, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&fsImporter{cache: map[string]jsonnet.Contents{}})
	out, err := vm.EvaluateAnonymousSnippet("config.jsonnet", "(import 'mixin.libsonnet')._config")
	if err != nil {
		return nil, fmt.Errorf("evaluate _config: %w", err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		return nil, err
	}
	return c, nil
}
