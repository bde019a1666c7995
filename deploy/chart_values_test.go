package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// writeValues writes a values file for one test and returns its path.
func writeValues(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The helm that make tools installs assumes a current Kubernetes, so the
// chart renders with no --kube-version; the chart's kubeVersion still
// refuses a cluster older than it supports.
func TestChartKubeVersion(t *testing.T) {
	out := helm(t, "template", "sfoe", chart, "--show-only", "templates/statefulset.yaml")
	if !bytes.Contains(out, []byte("kind: StatefulSet")) {
		t.Errorf("no StatefulSet rendered with helm's own Kubernetes version:\n%s", out)
	}
	helm(t, "template", "sfoe", chart, "--kube-version", "1.27.0")
	res, err := exec.Command("helm", "template", "sfoe", chart, "--kube-version", "1.26.0").CombinedOutput()
	if err == nil || !strings.Contains(string(res), "kubeVersion") {
		t.Errorf("Kubernetes 1.26 accepted (err %v): %s", err, res)
	}
}

// The dashboards ship as ConfigMaps the kube-prometheus-stack Grafana
// sidecar picks up, byte for byte the files of mixin/rendered/dashboards/.
func TestChartGrafanaDashboards(t *testing.T) {
	want := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("..", "mixin", "rendered", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in ../mixin/rendered/dashboards: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want[filepath.Base(f)] = b
		copied, err := os.ReadFile(filepath.Join(chart, "files", "dashboards", filepath.Base(f)))
		if err != nil || !bytes.Equal(b, copied) {
			t.Errorf("%s/files/dashboards/%s differs from mixin/rendered/dashboards/ (%v): run make mixin", chart, filepath.Base(f), err)
		}
	}
	copies, _ := filepath.Glob(filepath.Join(chart, "files", "dashboards", "*"))
	if len(copies) != len(files) {
		t.Errorf("%d files in the chart's dashboards, %d in mixin/rendered/dashboards/: run make mixin", len(copies), len(files))
	}

	if o := render(t); len(o.configMaps) != 1 {
		t.Errorf("%d ConfigMaps by default: the dashboards are opt-in", len(o.configMaps))
	}
	o := render(t, writeValues(t, `
grafanaDashboards:
  enabled: true
  folder: Security
  annotations: {team: secops}
`))
	got := map[string][]byte{}
	for _, c := range o.configMaps {
		if c.Labels["grafana_dashboard"] == "" {
			continue
		}
		if c.Labels["grafana_dashboard"] != "1" || c.Annotations["grafana_folder"] != "Security" || c.Annotations["team"] != "secops" {
			t.Errorf("ConfigMap %s: labels %v, annotations %v; want grafana_dashboard=1, grafana_folder=Security, team=secops", c.Name, c.Labels, c.Annotations)
		}
		if len(c.Data) != 1 {
			t.Errorf("ConfigMap %s holds %d files, want one dashboard", c.Name, len(c.Data))
		}
		for k, v := range c.Data {
			got[k] = []byte(v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d dashboards rendered, want %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("the rendered %s differs from dashboards/%s", name, name)
		}
	}
}

// An IOC list the config names reaches the pod: inline from the values, or
// from a ConfigMap the user manages.
func TestChartIOCLists(t *testing.T) {
	const ioc = `
config:
  orgs:
    - name: prod
      login_url: https://example.my.salesforce.com
      auth:
        flow: client_credentials
        client_id: key
        client_secret_file: /etc/salesforce_oauth_exporter/secrets/prod-client-secret
  detection:
    ioc_lists:
      - name: campaigns
        file: /etc/salesforce_oauth_exporter/ioc/campaigns.txt
`
	mount := func(t *testing.T, o objects) (corev1.VolumeMount, corev1.Volume) {
		t.Helper()
		c := container(t, o.statefulSets[0])
		var m corev1.VolumeMount
		for _, vm := range c.VolumeMounts {
			if vm.Name == "ioc-lists" {
				m = vm
			}
		}
		var v corev1.Volume
		for _, pv := range o.statefulSets[0].Spec.Template.Spec.Volumes {
			if pv.Name == "ioc-lists" {
				v = pv
			}
		}
		if m.MountPath != "/etc/salesforce_oauth_exporter/ioc" || !m.ReadOnly || v.ConfigMap == nil {
			t.Fatalf("IOC lists mount %+v, volume %+v: want a read-only ConfigMap at /etc/salesforce_oauth_exporter/ioc", m, v)
		}
		return m, v
	}

	t.Run("inline", func(t *testing.T) {
		o := render(t, writeValues(t, ioc+`
iocLists:
  files:
    campaigns.txt: |
      # test list
      203.0.113.0/24
`))
		checkPod(t, o, o.statefulSets[0])
		_, v := mount(t, o)
		cm := o.configMap(t, v.ConfigMap.Name)
		if cm.Data["campaigns.txt"] != "# test list\n203.0.113.0/24\n" {
			t.Errorf("IOC ConfigMap data %q", cm.Data)
		}
		if o.statefulSets[0].Spec.Template.Annotations["checksum/ioc-lists"] == "" {
			t.Error("no checksum of the IOC lists: a change would not roll the pods")
		}
	})
	t.Run("existing ConfigMap", func(t *testing.T) {
		o := render(t, writeValues(t, ioc+`
iocLists:
  existingConfigMap: threat-feed
`))
		_, v := mount(t, o)
		if v.ConfigMap.Name != "threat-feed" {
			t.Errorf("IOC volume names ConfigMap %q, want threat-feed", v.ConfigMap.Name)
		}
		if len(o.configMaps) != 1 {
			t.Errorf("%d ConfigMaps: with existingConfigMap the chart creates none for the lists", len(o.configMaps))
		}
	})
}

// Values are data, never YAML: a value that carries a newline and a field
// stays one string and adds no field to the object.
func TestChartHostileValues(t *testing.T) {
	const evil = "x\nhostNetwork: true\nhostPID: true"
	o := render(t, writeValues(t, `
priorityClassName: "`+strings.ReplaceAll(evil, "\n", `\n`)+`"
image:
  pullPolicy: "IfNotPresent\n          privileged: true"
service:
  type: "ClusterIP\n  externalIPs: [203.0.113.9]"
serviceMonitor:
  interval: "60s\n      honorLabels: true"
  scrapeTimeout: "30s\n      honorTimestamps: false"
  scheme: "http\n      proxyUrl: http://evil.example"
persistence:
  storageClassName: "fast\n        selector: {}"
secrets:
  files:
    "prod-client-secret": s
    "a: b\nc": d
`))
	if len(o.statefulSets) != 1 {
		t.Fatalf("%d StatefulSets", len(o.statefulSets))
	}
	pod := o.statefulSets[0].Spec.Template.Spec
	c := container(t, o.statefulSets[0])
	if pod.HostNetwork || pod.HostPID || pod.PriorityClassName != evil {
		t.Errorf("hostNetwork %v, hostPID %v, priorityClassName %q: the value became YAML", pod.HostNetwork, pod.HostPID, pod.PriorityClassName)
	}
	if c.SecurityContext.Privileged != nil || !strings.HasPrefix(string(c.ImagePullPolicy), "IfNotPresent\n") {
		t.Errorf("imagePullPolicy %q, privileged %v: the value became YAML", c.ImagePullPolicy, c.SecurityContext.Privileged)
	}
	for _, s := range o.services {
		if len(s.Spec.ExternalIPs) > 0 {
			t.Errorf("Service %s externalIPs %v: the type value became YAML", s.Name, s.Spec.ExternalIPs)
		}
	}
	ep := o.serviceMonitors[0].Spec.Endpoints[0]
	if ep.HonorLabels || ep.HonorTimestamps != nil || ep.ProxyURL != nil {
		t.Errorf("ServiceMonitor endpoint %+v: a value became YAML", ep)
	}
	if sc := o.statefulSets[0].Spec.VolumeClaimTemplates[0].Spec; sc.Selector != nil {
		t.Errorf("volume claim selector %v: the storage class value became YAML", sc.Selector)
	}
	var keys []string
	for _, s := range o.secrets {
		for k := range s.Data {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a: b\nc", "prod-client-secret"}) {
		t.Errorf("secret keys %q: a file name became YAML", keys)
	}
}

// What a chart user expects: a service account, a disruption budget, extra
// environment and volumes, extra rule labels, conventional helper names.
func TestChartExtras(t *testing.T) {
	o := render(t, writeValues(t, `
serviceAccount:
  annotations: {eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/x}
podDisruptionBudget:
  enabled: true
extraEnv:
  - name: HTTPS_PROXY
    value: http://proxy.example:3128
extraVolumes:
  - name: ca
    configMap: {name: corporate-ca}
extraVolumeMounts:
  - name: ca
    mountPath: /etc/ssl/certs/corporate-ca.pem
    subPath: ca.pem
    readOnly: true
prometheusRule:
  labels: {release: kube-prometheus-stack}
  additionalLabels: {team: secops}
`))
	sts := o.statefulSets[0]
	checkPod(t, o, sts)
	if len(o.serviceAccounts) != 1 || o.serviceAccounts[0].Annotations["eks.amazonaws.com/role-arn"] == "" {
		t.Errorf("service accounts %+v: want one with the annotation", o.serviceAccounts)
	}
	if len(o.pdbs) != 1 || o.pdbs[0].Spec.MaxUnavailable == nil || o.pdbs[0].Spec.MaxUnavailable.IntValue() != 1 {
		t.Fatalf("PodDisruptionBudgets %+v: want one with maxUnavailable 1", o.pdbs)
	}
	for k, v := range o.pdbs[0].Spec.Selector.MatchLabels {
		if sts.Spec.Selector.MatchLabels[k] != v {
			t.Errorf("the PodDisruptionBudget selects %s=%s, which the StatefulSet's pods lack", k, v)
		}
	}
	c := container(t, sts)
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["HTTPS_PROXY"] != "http://proxy.example:3128" || !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "POD_NAME" }) {
		t.Errorf("env %v: want HTTPS_PROXY beside POD_NAME", c.Env)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "ca" && m.SubPath == "ca.pem" }) ||
		!slices.ContainsFunc(sts.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
			return v.Name == "ca" && v.ConfigMap != nil && v.ConfigMap.Name == "corporate-ca"
		}) {
		t.Errorf("extra volume or mount missing: %v %v", c.VolumeMounts, sts.Spec.Template.Spec.Volumes)
	}
	if l := o.rules[0].Labels; l["release"] != "kube-prometheus-stack" || l["team"] != "secops" {
		t.Errorf("PrometheusRule labels %v: want labels and additionalLabels", l)
	}

	helpers, err := os.ReadFile(filepath.Join(chart, "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"name", "fullname", "labels", "selectorLabels", "serviceAccountName"} {
		if !bytes.Contains(helpers, []byte(`define "salesforce-oauth-exporter.`+name+`"`)) {
			t.Errorf("_helpers.tpl defines no salesforce-oauth-exporter.%s", name)
		}
	}
}

// The service account: the chart's own, or one the user names, and its API
// token mounted only when serviceAccount.automountServiceAccountToken asks.
func TestChartServiceAccount(t *testing.T) {
	// automount is the account's and the pod's setting: "true", "false"
	// or "unset".
	automount := func(o objects) (account, pod string) {
		t.Helper()
		str := func(b *bool) string {
			if b == nil {
				return "unset"
			}
			return strconv.FormatBool(*b)
		}
		account = "no account"
		if len(o.serviceAccounts) > 0 {
			account = str(o.serviceAccounts[0].AutomountServiceAccountToken)
		}
		return account, str(o.statefulSets[0].Spec.Template.Spec.AutomountServiceAccountToken)
	}
	o := render(t)
	if a, p := automount(o); a != "false" || p != "false" {
		t.Errorf("automountServiceAccountToken %s on the account, %s on the pod: want false on both by default", a, p)
	}
	o = render(t, writeValues(t, `
serviceAccount:
  automountServiceAccountToken: true
`))
	if a, p := automount(o); a != "true" || p != "true" {
		t.Errorf("automountServiceAccountToken %s on the account, %s on the pod: want true on both when asked", a, p)
	}
	o = render(t, writeValues(t, `
serviceAccount:
  create: false
  name: monitoring-reader
`))
	if len(o.serviceAccounts) != 0 {
		t.Errorf("%d service accounts with create: false", len(o.serviceAccounts))
	}
	if _, p := automount(o); o.statefulSets[0].Spec.Template.Spec.ServiceAccountName != "monitoring-reader" || p != "false" {
		t.Errorf("pod service account %q, automount %s: want monitoring-reader, false", o.statefulSets[0].Spec.Template.Spec.ServiceAccountName, p)
	}
	o = render(t, writeValues(t, `
serviceAccount:
  create: false
`))
	if pod := o.statefulSets[0].Spec.Template.Spec; pod.ServiceAccountName != "default" {
		t.Errorf("pod service account %q with create: false and no name: want default", pod.ServiceAccountName)
	}
}

// The disruption budget of a sharded StatefulSet: opt-in, a number of shards
// (or a percentage) that may go at once, selecting exactly the pods.
func TestChartPodDisruptionBudget(t *testing.T) {
	if o := render(t); len(o.pdbs) != 0 {
		t.Errorf("%d PodDisruptionBudgets by default: it is opt-in", len(o.pdbs))
	}
	for _, c := range []struct {
		values string
		want   string
	}{
		{"replicas: 3\npodDisruptionBudget: {enabled: true}", "1"},
		{"replicas: 5\npodDisruptionBudget: {enabled: true, maxUnavailable: 2}", "2"},
		{"replicas: 4\npodDisruptionBudget: {enabled: true, maxUnavailable: 25%}", "25%"},
	} {
		o := render(t, writeValues(t, c.values))
		if len(o.pdbs) != 1 || o.pdbs[0].Spec.MaxUnavailable == nil || o.pdbs[0].Spec.MaxUnavailable.String() != c.want || o.pdbs[0].Spec.MinAvailable != nil {
			t.Errorf("%s: PodDisruptionBudgets %+v, want one with maxUnavailable %s only", c.values, o.pdbs, c.want)
			continue
		}
		sts := o.statefulSets[0]
		for k, v := range o.pdbs[0].Spec.Selector.MatchLabels {
			if sts.Spec.Template.Labels[k] != v {
				t.Errorf("%s: the PodDisruptionBudget selects %s=%s, which the pods lack", c.values, k, v)
			}
		}
	}
}

// Every value of values.yaml is in the chart README's values table: by its
// path, as a sibling after a first full path in the same row (`a.b`, `c`),
// under a `a.*` row, or under a documented parent (`config` covers its
// contents).
func TestChartValuesDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(chart, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	tick := regexp.MustCompile("`([^`]+)`")
	for line := range strings.SplitSeq(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| `") {
			continue
		}
		prefix := ""
		for _, m := range tick.FindAllStringSubmatch(cells[1], -1) {
			p := m[1]
			if strings.Contains(p, ".") || prefix == "" {
				if i := strings.LastIndex(p, "."); i >= 0 {
					prefix = p[:i+1]
				}
			} else {
				p = prefix + p
			}
			documented[strings.TrimSuffix(p, ".*")] = true
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		for p := path; p != ""; {
			if documented[p] {
				return
			}
			i := strings.LastIndex(p, ".")
			if i < 0 {
				break
			}
			p = p[:i]
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for k, sub := range m {
				if path != "" {
					k = path + "." + k
				}
				walk(k, sub)
			}
			return
		}
		t.Errorf("value %s is not in the values table of %s/README.md", path, chart)
	}
	walk("", values)
}
