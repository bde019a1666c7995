package mixin

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"go.yaml.in/yaml/v3"
)

// renderDefault renders the default mixin once for the package's tests
// (each rendering takes seconds under -race); they only read it.
var renderDefault = sync.OnceValues(func() (*Rendered, error) { return Render("") })

func render(t *testing.T) *Rendered {
	t.Helper()
	r, err := renderDefault()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRenderedFilesUpToDate fails when mixin/rendered (the one committed
// rendering: alerts, rules, dashboards) drifts from the jsonnet source: run
// go run ./mixin/cmd/generate. The Helm chart's copy is checked against it
// in deploy/ (TestRenderedCopiesInChart).
func TestRenderedFilesUpToDate(t *testing.T) {
	t.Parallel()
	r := render(t)
	want := map[string][]byte{"rendered/alerts.yaml": r.Alerts, "rendered/rules.yaml": r.Rules}
	for name, b := range r.Dashboards {
		want[filepath.Join("rendered", "dashboards", name)] = b
	}
	for p, b := range want {
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s is not what the source renders (%v): run go run ./mixin/cmd/generate", p, err)
		}
	}
	files, _ := filepath.Glob("rendered/dashboards/*.json")
	if len(files) != len(r.Dashboards) {
		t.Errorf("rendered/dashboards/ holds %d files, the mixin renders %d", len(files), len(r.Dashboards))
	}
	// Nothing else is rendered there: one committed copy of each file.
	all, _ := filepath.Glob("rendered/*")
	if len(all) != 3 {
		t.Errorf("rendered/ holds %v; want alerts.yaml, rules.yaml and dashboards/", all)
	}
}

func TestDashboards(t *testing.T) {
	t.Parallel()
	plugins.RegisterDefaultPlugins()
	r := render(t)
	if len(r.Dashboards) != 3 {
		t.Fatalf("%d dashboards, want 3", len(r.Dashboards))
	}
	uids := map[string]string{}
	for _, name := range r.DashboardNames() {
		raw := r.Dashboards[name]
		t.Run(name, func(t *testing.T) {
			var d dashboard.Dashboard //nolint:staticcheck // the dashboards use the classic JSON model, which this type describes
			if err := realError(d.UnmarshalJSONStrict(raw)); err != nil {
				t.Fatalf("strict Grafana schema: %v", err)
			}
			if err := realError(d.Validate()); err != nil {
				t.Fatalf("Grafana schema validation: %v", err)
			}
			var m struct {
				UID        string `json:"uid"`
				Templating struct {
					List []struct {
						Name       string          `json:"name"`
						Type       string          `json:"type"`
						Query      json.RawMessage `json:"query"`
						Datasource json.RawMessage `json:"datasource"`
					} `json:"list"`
				} `json:"templating"`
				Panels []map[string]json.RawMessage `json:"panels"`
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			sum := md5.Sum([]byte(name))
			if m.UID != hex.EncodeToString(sum[:]) {
				t.Errorf("uid %q is not the stable md5 of the file name", m.UID)
			}
			if other, dup := uids[m.UID]; dup {
				t.Errorf("uid shared with %s", other)
			}
			uids[m.UID] = name
			// No hard-coded datasource: every datasource reference is the variable.
			var tree any
			_ = json.Unmarshal(raw, &tree)
			refs := 0
			walkDatasources(tree, func(ds any) {
				refs++
				if m, ok := ds.(map[string]any); !ok || m["uid"] != "${datasource}" {
					t.Errorf("hard-coded datasource: %v", ds)
				}
			})
			if refs == 0 {
				t.Error("no datasource references found")
			}
			// Every panel has a unit; every variable is used.
			var exprs strings.Builder
			for _, p := range m.Panels {
				var fc struct {
					Defaults struct {
						Unit string `json:"unit"`
					} `json:"defaults"`
				}
				_ = json.Unmarshal(p["fieldConfig"], &fc)
				var title string
				_ = json.Unmarshal(p["title"], &title)
				if fc.Defaults.Unit == "" {
					t.Errorf("panel %q has no unit", title)
				}
				exprs.Write(p["targets"])
			}
			for _, v := range m.Templating.List {
				exprs.Write(v.Query)
			}
			all := exprs.String() + string(raw)
			for _, v := range m.Templating.List {
				if v.Name == "datasource" {
					continue
				}
				if !strings.Contains(exprs.String(), "$"+v.Name) {
					t.Errorf("variable %s is not used by any panel or variable query", v.Name)
				}
			}
			_ = all
		})
	}
}

// walkDatasources calls fn with the value of every "datasource" key below v,
// except the datasource variable's own definition (a string query).
func walkDatasources(v any, fn func(any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "datasource" {
				fn(c)
				continue
			}
			walkDatasources(c, fn)
		}
	case []any:
		for _, c := range x {
			walkDatasources(c, fn)
		}
	}
}

// realError unwraps the SDK's habit of returning an empty cog.BuildErrors as
// a non-nil error.
func realError(err error) error {
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

func TestConfigOverride(t *testing.T) {
	t.Parallel()
	r, err := Render(`{ salesforceExporterSelector: 'job="sf-test"', authSurgeWindow: '2m' }`)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(r.Alerts, []byte(`job=\"sf-test\"`)) || !bytes.Contains(r.Alerts, []byte("offset 2m")) || bytes.Contains(r.Alerts, []byte(`job=\"salesforce\"`)) {
		t.Error("_config overrides did not reach the alerts")
	}
}

// TestPromtool checks the rendered rules and runs the alert unit tests with
// the real promtool.
func TestPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH; make test installs it")
		}
		t.Skip("promtool not on PATH")
	}
	// One promtool a file, beside each other: promtool evaluates every rule
	// at every step of a file's tests on one core.
	runs := [][]string{{"check", "rules", "rendered/alerts.yaml", "rendered/rules.yaml"}}
	for _, f := range testFiles(t) {
		runs = append(runs, []string{"test", "rules", f})
	}
	for _, args := range runs {
		t.Run(strings.Join(args[:2], "_")+"_"+filepath.Base(args[len(args)-1]), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(promtool, args...).CombinedOutput()
			if err != nil {
				t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
}

// testFiles are the promtool unit test files: the alert tests and the
// library of operational scenarios.
func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("tests/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("tests/*.yaml: %v %v", files, err)
	}
	return files
}

// TestJsonnetStyle runs jsonnetfmt and jsonnet-lint over the source.
func TestJsonnetStyle(t *testing.T) {
	t.Parallel()
	fmtBin, err1 := exec.LookPath("jsonnetfmt")
	lintBin, err2 := exec.LookPath("jsonnet-lint")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("jsonnetfmt or jsonnet-lint not on PATH; make test installs them")
		}
		t.Skip("jsonnet tools not on PATH")
	}
	var files []string
	_ = filepath.WalkDir(".", func(p string, d os.DirEntry, _ error) error {
		if strings.HasSuffix(p, ".libsonnet") || strings.HasSuffix(p, ".jsonnet") {
			files = append(files, p)
		}
		return nil
	})
	out, err := exec.Command(fmtBin, append([]string{"--test", "-n", "2", "--max-blank-lines", "2", "--string-style", "s", "--comment-style", "s"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("jsonnetfmt would change: %s", out)
	}
	for _, f := range files {
		if out, err := exec.Command(lintBin, "-J", "lib", f).CombinedOutput(); err != nil {
			t.Errorf("jsonnet-lint %s: %s", f, out)
		}
	}
}

// TestPrometheusRuleManifest: the Operator manifest holds exactly the rule
// and alert groups of the plain rule files, recording rules first.
func TestPrometheusRuleManifest(t *testing.T) {
	t.Parallel()
	r := render(t)
	type groups struct {
		Groups []map[string]any `yaml:"groups"`
	}
	var manifest struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec groups `yaml:"spec"`
	}
	if err := yaml.Unmarshal(r.PrometheusRule, &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.APIVersion != "monitoring.coreos.com/v1" || manifest.Kind != "PrometheusRule" || manifest.Metadata.Name == "" {
		t.Errorf("not a PrometheusRule: %s %s %q", manifest.APIVersion, manifest.Kind, manifest.Metadata.Name)
	}
	var rules, alerts groups
	if err := yaml.Unmarshal(r.Rules, &rules); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(r.Alerts, &alerts); err != nil {
		t.Fatal(err)
	}
	want := append(rules.Groups, alerts.Groups...)
	if !reflect.DeepEqual(manifest.Spec.Groups, want) {
		t.Errorf("the manifest's groups differ from rules.yaml + alerts.yaml")
	}
	if len(want) < 5 {
		t.Errorf("only %d groups", len(want))
	}
}

// TestOneConfigOneRunbookHelper: every setting lives in config.libsonnet's
// one _config, and every alert's runbook link is added by
// lib/add-runbook-links.libsonnet through the one URL helper
// (lib/helpers.libsonnet's runbookURL), which the dashboards' runbook
// links use too: no alert group carries settings or runbook links of its
// own. Each alert's link is the configured pattern.
func TestOneConfigOneRunbookHelper(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".libsonnet") && !strings.HasSuffix(p, ".jsonnet") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		if strings.Contains(src, "_config+::") && p != "config.libsonnet" {
			t.Errorf("%s sets _config: settings belong in config.libsonnet", p)
		}
		if strings.Contains(src, "runbook_url") && p != filepath.Join("lib", "add-runbook-links.libsonnet") {
			t.Errorf("%s sets runbook_url: lib/add-runbook-links.libsonnet links every alert", p)
		}
		if strings.Contains(src, "runbookURLPattern") && p != filepath.Join("lib", "helpers.libsonnet") && p != "config.libsonnet" {
			t.Errorf("%s builds a runbook link: use runbookURL of lib/helpers.libsonnet", p)
		}
		if m := regexp.MustCompile(`'for': '[^']*'`).FindString(src); m != "" {
			t.Errorf("%s has a literal window (%s): name it in config.libsonnet's _config", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(`{ runbookURLPattern: 'https://runbooks.example/x#%s', storageWriteFailingFor: '2h' }`)
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				For         string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(r.Alerts, &rf); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rf.Groups {
		for _, rule := range g.Rules {
			n++
			// A window set in _config reaches the alert and its words.
			if rule.Alert == "SalesforceExporterStorageWriteFailing" && (rule.For != "2h" || !strings.Contains(rule.Annotations["description"], " for 2 hours ")) {
				t.Errorf("%s: for %q, description %q; want the configured 2h", rule.Alert, rule.For, rule.Annotations["description"])
			}
			if want := "https://runbooks.example/x#" + strings.ToLower(rule.Alert); rule.Annotations["runbook_url"] != want {
				t.Errorf("group %s, %s: runbook_url %q, want %q", g.Name, rule.Alert, rule.Annotations["runbook_url"], want)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d alerts", n)
	}
}
