// Package deploy tests the Helm chart: helm lint, and helm template with the
// default values and a three-shard example, every rendered object decoded
// strictly (an unknown or misspelt field is an error) into the Kubernetes and
// Prometheus Operator Go types. It is its own module so that k8s.io/api and
// the operator's types stay out of the exporter's dependencies.
package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chart = "helm/salesforce-oauth-exporter"

func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("helm not on PATH (make tools installs it)")
		}
		t.Skip("helm not on PATH")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// objects is one rendering of the chart, decoded.
type objects struct {
	statefulSets    []appsv1.StatefulSet
	services        []corev1.Service
	configMaps      []corev1.ConfigMap
	secrets         []corev1.Secret
	serviceMonitors []monitoringv1.ServiceMonitor
	rules           []monitoringv1.PrometheusRule
	netpols         []networkingv1.NetworkPolicy
	serviceAccounts []corev1.ServiceAccount
	pdbs            []policyv1.PodDisruptionBudget
}

// configMap returns the rendered ConfigMap named name.
func (o objects) configMap(t *testing.T, name string) corev1.ConfigMap {
	t.Helper()
	for _, c := range o.configMaps {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no ConfigMap %q rendered", name)
	return corev1.ConfigMap{}
}

var sourceRE = regexp.MustCompile(`(?m)^# Source: (\S+)$`)

// render runs helm template with the value files and decodes every document
// strictly into its type. No --kube-version: the chart renders with the
// Kubernetes version the helm of make tools assumes (a current one,
// stamped by .ci/tools.sh as helm's own release build does).
func render(t *testing.T, valueFiles ...string) objects {
	t.Helper()
	args := []string{"template", "sfoe", chart, "--namespace", "monitoring"}
	for _, f := range valueFiles {
		args = append(args, "--values", f)
	}
	return decode(t, helm(t, args...))
}

// decode splits helm template output and decodes each document strictly.
func decode(t *testing.T, out []byte) objects {
	t.Helper()
	var o objects
	for doc := range strings.SplitSeq(string(out), "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.TrimSpace(sourceRE.ReplaceAllString(doc, "")) == "" {
			continue
		}
		src := "?"
		if m := sourceRE.FindStringSubmatch(doc); m != nil {
			src = m[1]
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s: not YAML: %v\n%s", src, err, doc)
		}
		strict := func(v any) {
			if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
				t.Errorf("%s: %s %s does not decode strictly: %v", src, meta.APIVersion, meta.Kind, err)
			}
		}
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 StatefulSet":
			var v appsv1.StatefulSet
			strict(&v)
			o.statefulSets = append(o.statefulSets, v)
		case "v1 Service":
			var v corev1.Service
			strict(&v)
			o.services = append(o.services, v)
		case "v1 ConfigMap":
			var v corev1.ConfigMap
			strict(&v)
			o.configMaps = append(o.configMaps, v)
		case "v1 Secret":
			var v corev1.Secret
			strict(&v)
			o.secrets = append(o.secrets, v)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			var v monitoringv1.ServiceMonitor
			strict(&v)
			o.serviceMonitors = append(o.serviceMonitors, v)
		case "monitoring.coreos.com/v1 PrometheusRule":
			var v monitoringv1.PrometheusRule
			strict(&v)
			o.rules = append(o.rules, v)
		case "networking.k8s.io/v1 NetworkPolicy":
			var v networkingv1.NetworkPolicy
			strict(&v)
			o.netpols = append(o.netpols, v)
		case "v1 ServiceAccount":
			var v corev1.ServiceAccount
			strict(&v)
			o.serviceAccounts = append(o.serviceAccounts, v)
		case "policy/v1 PodDisruptionBudget":
			var v policyv1.PodDisruptionBudget
			strict(&v)
			o.pdbs = append(o.pdbs, v)
		default:
			t.Errorf("%s: unexpected object %s %s: add it to this test", src, meta.APIVersion, meta.Kind)
		}
	}
	return o
}

func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chart)
	helm(t, "lint", "--strict", chart, "--values", filepath.Join(chart, "ci/three-shards-values.yaml"))
}

func TestChartDefaults(t *testing.T) {
	o := render(t)
	if len(o.statefulSets) != 1 || len(o.configMaps) != 1 || len(o.serviceMonitors) != 1 || len(o.rules) != 1 || len(o.services) != 2 {
		t.Fatalf("objects: %d StatefulSets, %d ConfigMaps, %d ServiceMonitors, %d PrometheusRules, %d Services; want 1, 1, 1, 1, 2",
			len(o.statefulSets), len(o.configMaps), len(o.serviceMonitors), len(o.rules), len(o.services))
	}
	if len(o.netpols) != 0 {
		t.Error("a NetworkPolicy by default: it is optional")
	}
	if len(o.serviceAccounts) != 1 || o.serviceAccounts[0].AutomountServiceAccountToken == nil || *o.serviceAccounts[0].AutomountServiceAccountToken {
		t.Errorf("service accounts %+v: want one, with no token mounted", o.serviceAccounts)
	}
	if len(o.pdbs) != 0 {
		t.Error("a PodDisruptionBudget by default: it is optional")
	}
	sts := o.statefulSets[0]
	checkPod(t, o, sts)
	if *sts.Spec.Replicas != 1 || !slices.Contains(container(t, sts).Args, "--orgs.shards=1") {
		t.Errorf("default replicas %d, args %v: want 1 and --orgs.shards=1", *sts.Spec.Replicas, container(t, sts).Args)
	}
	// Requests from the README's measured RSS (126 MB at 1M tokens).
	req := container(t, sts).Resources.Requests
	if m := req.Memory().Value(); m < 126e6 {
		t.Errorf("memory request %d bytes is under the measured peak RSS of 126 MB", m)
	}
	checkRules(t, o.rules[0])
	checkJob(t, o)
}

func TestChartThreeShards(t *testing.T) {
	o := render(t, filepath.Join(chart, "ci/three-shards-values.yaml"))
	if len(o.statefulSets) != 1 || len(o.netpols) != 1 || len(o.rules) != 1 {
		t.Fatalf("objects: %d StatefulSets, %d NetworkPolicies, %d PrometheusRules; want 1 of each", len(o.statefulSets), len(o.netpols), len(o.rules))
	}
	sts := o.statefulSets[0]
	checkPod(t, o, sts)
	c := container(t, sts)
	if *sts.Spec.Replicas != 3 || !slices.Contains(c.Args, "--orgs.shards=3") || !slices.Contains(c.Args, "--orgs.shard=$(POD_NAME)") {
		t.Errorf("replicas %d, args %v: want 3 replicas with --orgs.shards=3 --orgs.shard=$(POD_NAME)", *sts.Spec.Replicas, c.Args)
	}
	podName := false
	for _, e := range c.Env {
		podName = podName || (e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name")
	}
	if !podName {
		t.Error("POD_NAME does not come from metadata.name: the shard would not be the pod's ordinal")
	}
	if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy %q: the shards should start together", sts.Spec.PodManagementPolicy)
	}
	if !slices.Contains(c.Args, "--web.config.file=/etc/salesforce_oauth_exporter/web/web-config.yml") {
		t.Errorf("webConfig set but no --web.config.file: %v", c.Args)
	}
	// Basic auth: the probes run the exporter's probe command with the
	// credentials from a Secret, and no credential is in the pod spec.
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p.Exec == nil || p.HTTPGet != nil || len(p.Exec.Command) < 3 || p.Exec.Command[0] != "/bin/salesforce_oauth_exporter" || p.Exec.Command[1] != "probe" {
			t.Errorf("%s probe %+v: want the exporter's probe command", name, p.ProbeHandler)
		}
	}
	fromSecret := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			fromSecret[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	if fromSecret["SALESFORCE_EXPORTER_PROBE_USERNAME"] != "salesforce-probe-auth/username" || fromSecret["SALESFORCE_EXPORTER_PROBE_PASSWORD"] != "salesforce-probe-auth/password" {
		t.Errorf("env from Secrets %v: want the probe user and password from salesforce-probe-auth", fromSecret)
	}
	spec, _ := json.Marshal(sts)
	if bytes.Contains(bytes.ToLower(spec), []byte("authorization")) || bytes.Contains(spec, []byte("Basic ")) {
		t.Errorf("the StatefulSet holds an Authorization header: a credential in plain text\n%s", spec)
	}
	np := o.netpols[0]
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].NamespaceSelector == nil {
		t.Errorf("NetworkPolicy ingress %+v: want only the monitoring namespace", np.Spec.Ingress)
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) || len(np.Spec.Egress) != 2 {
		t.Errorf("NetworkPolicy egress %+v: want DNS and HTTPS only", np.Spec.Egress)
	}
	sm := o.serviceMonitors[0]
	if sm.Labels["release"] != "kube-prometheus-stack" || sm.Spec.Endpoints[0].BasicAuth == nil {
		t.Errorf("ServiceMonitor labels %v, basicAuth %v: want the values' release label and basic auth", sm.Labels, sm.Spec.Endpoints[0].BasicAuth)
	}
	if o.rules[0].Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PrometheusRule labels %v", o.rules[0].Labels)
	}
	checkRules(t, o.rules[0])
	checkJob(t, o)
}

func container(t *testing.T, sts appsv1.StatefulSet) corev1.Container {
	t.Helper()
	if len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(sts.Spec.Template.Spec.Containers))
	}
	return sts.Spec.Template.Spec.Containers[0]
}

// checkPod: the restricted Pod Security Standard, probes on the endpoints
// that mean something, state on a volume claim, and every *_file of the
// config in the Secret mounted read-only.
func checkPod(t *testing.T, o objects, sts appsv1.StatefulSet) {
	t.Helper()
	pod := sts.Spec.Template.Spec
	c := container(t, sts)
	psc, sc := pod.SecurityContext, c.SecurityContext
	if psc == nil || sc == nil {
		t.Fatal("no securityContext")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod may run as root")
	}
	// The secret files are 0440 and the exporter owns none of them: it reads
	// them through the group, which must be the pod's fsGroup and its own.
	if psc.FSGroup == nil || psc.RunAsGroup == nil || *psc.FSGroup != *psc.RunAsGroup {
		t.Errorf("fsGroup %v, runAsGroup %v: the secret files are readable only through the fsGroup, which must be the exporter's group", psc.FSGroup, psc.RunAsGroup)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("no RuntimeDefault seccomp profile")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("privilege escalation allowed")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("root filesystem writable")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities %+v: want drop ALL, add none", sc.Capabilities)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("privileged")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("a service account token is mounted: the exporter never calls the Kubernetes API")
	}
	if got := probePath(c.LivenessProbe); got != "/-/healthy" {
		t.Errorf("liveness probe %+v on %q: want /-/healthy", c.LivenessProbe, got)
	}
	if got := probePath(c.ReadinessProbe); got != "/-/ready" {
		t.Errorf("readiness probe %+v on %q: want /-/ready", c.ReadinessProbe, got)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Error("no CPU or memory request")
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Fatalf("volume claim templates %+v: the state needs a persistent volume", sts.Spec.VolumeClaimTemplates)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	storage := ""
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--storage.path="); ok {
			storage = v
		}
	}
	if mounts["data"].MountPath != storage || storage == "" {
		t.Errorf("--storage.path=%s but the volume claim is mounted at %s", storage, mounts["data"].MountPath)
	}
	for _, name := range []string{"config", "secrets"} {
		if !mounts[name].ReadOnly {
			t.Errorf("volume %s mounted writable", name)
		}
	}
	var secretName string
	for _, v := range pod.Volumes {
		if v.Name == "secrets" && v.Secret != nil {
			secretName = v.Secret.SecretName
			if m := v.Secret.DefaultMode; m == nil || *m&0o007 != 0 || *m&0o040 == 0 {
				t.Errorf("secret files mode %o: want group-readable (the fsGroup) and nothing for others", *m)
			}
		}
		if v.Name == "data" {
			t.Error("a pod volume named data shadows the volume claim")
		}
	}
	var secret *corev1.Secret
	for i := range o.secrets {
		if o.secrets[i].Name == secretName {
			secret = &o.secrets[i]
		}
	}
	if secret == nil {
		t.Fatalf("the Secret %q the pod mounts is not rendered", secretName)
	}
	// Every *_file of the config lies in the Secret's mount and is one of its keys.
	configName := ""
	for _, v := range pod.Volumes {
		if v.Name == "config" && v.ConfigMap != nil {
			configName = v.ConfigMap.Name
		}
	}
	// The pod runs as the chart's service account when it creates one.
	if len(o.serviceAccounts) > 0 && pod.ServiceAccountName != o.serviceAccounts[0].Name {
		t.Errorf("serviceAccountName %q, but the chart created %q", pod.ServiceAccountName, o.serviceAccounts[0].Name)
	}
	cfgPath := ""
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = v
		}
	}
	if filepath.Dir(cfgPath) != mounts["config"].MountPath {
		t.Errorf("--config.file=%s is not in the ConfigMap's mount %s", cfgPath, mounts["config"].MountPath)
	}
	cfg, ok := o.configMap(t, configName).Data[filepath.Base(cfgPath)]
	if !ok {
		t.Fatalf("the ConfigMap has no %s", filepath.Base(cfgPath))
	}
	var tree any
	if err := yaml.Unmarshal([]byte(cfg), &tree); err != nil {
		t.Fatalf("config.yml is not YAML: %v", err)
	}
	files := fileKeys(tree)
	if len(files) == 0 {
		t.Error("the config names no secret file")
	}
	for _, f := range files {
		if filepath.Dir(f) != mounts["secrets"].MountPath {
			t.Errorf("config file %s is outside the Secret's mount %s", f, mounts["secrets"].MountPath)
		}
		if _, ok := secret.Data[filepath.Base(f)]; !ok && len(secret.Data) > 0 {
			t.Errorf("config names %s but the Secret has no key %s", f, filepath.Base(f))
		}
	}
}

// probePath returns the path a probe checks: its httpGet's, or the --url of
// the exporter's probe command on the container's port.
func probePath(p *corev1.Probe) string {
	switch {
	case p == nil:
		return ""
	case p.HTTPGet != nil:
		return p.HTTPGet.Path
	case p.Exec != nil:
		for _, a := range p.Exec.Command {
			if v, ok := strings.CutPrefix(a, "--url="); ok {
				for _, prefix := range []string{"http://127.0.0.1:10157", "https://127.0.0.1:10157"} {
					if path, ok := strings.CutPrefix(v, prefix); ok {
						return path
					}
				}
			}
		}
	}
	return ""
}

// fileKeys returns the values of every *_file key in a YAML tree.
func fileKeys(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasSuffix(k, "_file") {
				out = append(out, s)
			} else {
				out = append(out, fileKeys(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, fileKeys(x)...)
		}
	}
	return out
}

// checkJob: Prometheus names the job "salesforce", which the mixin's rules select.
func checkJob(t *testing.T, o objects) {
	t.Helper()
	sm := o.serviceMonitors[0]
	for _, s := range o.services {
		if s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		if got := s.Labels[sm.Spec.JobLabel]; got != "salesforce" {
			t.Errorf("Service %s label %s = %q: Prometheus's job label would not be salesforce", s.Name, sm.Spec.JobLabel, got)
		}
		for k, v := range sm.Spec.Selector.MatchLabels {
			if s.Labels[k] != v {
				t.Errorf("the ServiceMonitor selects %s=%s, which Service %s lacks", k, v, s.Name)
			}
		}
	}
}

// checkRules: the PrometheusRule holds exactly the mixin's rendered rules,
// and the chart's copies are the rendered files.
func checkRules(t *testing.T, pr monitoringv1.PrometheusRule) {
	t.Helper()
	var want []monitoringv1.RuleGroup
	for _, f := range []string{"rules.yaml", "alerts.yaml"} {
		rendered, err := os.ReadFile(filepath.Join("..", "mixin", "rendered", f))
		if err != nil {
			t.Fatal(err)
		}
		copied, err := os.ReadFile(filepath.Join(chart, "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rendered, copied) {
			t.Errorf("%s/files/%s differs from mixin/rendered/%s: run make mixin", chart, f, f)
		}
		var spec monitoringv1.PrometheusRuleSpec
		if err := yaml.UnmarshalStrict(rendered, &spec); err != nil {
			t.Fatalf("mixin/rendered/%s: %v", f, err)
		}
		want = append(want, spec.Groups...)
	}
	got, _ := json.Marshal(pr.Spec.Groups)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("the PrometheusRule's groups differ from mixin/rendered:\n got %s\nwant %s", got, exp)
	}
	n := 0
	for _, g := range pr.Spec.Groups {
		n += len(g.Rules)
	}
	if n == 0 {
		t.Error("the PrometheusRule holds no rule")
	}
	t.Logf("%d groups, %d rules", len(pr.Spec.Groups), n)
}

// Values that could only fail in the pod are refused by helm, saying what to fix.
func TestChartRefusesBadValues(t *testing.T) {
	helm(t, "version") // skips without helm
	for _, c := range []struct {
		set  string
		says string
	}{
		{"replicas=0", "replicas must be at least 1"},
		{"fullnameOverride=Bad_Name", `fullnameOverride is "Bad_Name": names of Kubernetes objects take`},
		{"nameOverride=x kind: Secret", `nameOverride is "x kind: Secret"`},
		{"probes.scheme=TCP", `probes.scheme is "TCP": want HTTP or HTTPS`},
		{"probes.basicAuth.existingSecret=s,probes.httpHeaders[0].name=Authorization,probes.httpHeaders[0].value=x", "probes.httpHeaders sets Authorization and probes.basicAuth is set"},
		{"config.orgs[0].auth.client_secret_file=secret", "the secret files are mounted at /etc/salesforce_oauth_exporter/secrets/"},
		{"secrets.files.other=x", "names prod-client-secret, which secrets.files lacks"},
		// An inline secret would sit in the ConfigMap before the exporter refused it.
		{"config.orgs[0].auth.client_secret=s3cr3t", "config.orgs[0].auth.client_secret: a secret in the config would be stored in a ConfigMap"},
		{"config.orgs[0].auth.private_key=k3y", "config.orgs[0].auth.private_key: a secret in the config"},
		// An IOC list the pod could not read would crash-loop the exporter.
		{"config.detection.ioc_lists[0].name=c,config.detection.ioc_lists[0].file=ioc.txt", "the IOC lists are mounted at /etc/salesforce_oauth_exporter/ioc/"},
		{"config.detection.ioc_lists[0].name=c,config.detection.ioc_lists[0].file=/etc/salesforce_oauth_exporter/ioc/c.txt", "iocLists.files and iocLists.existingConfigMap are empty"},
		{"config.detection.ioc_lists[0].name=c,config.detection.ioc_lists[0].file=/etc/salesforce_oauth_exporter/ioc/c.txt,iocLists.files.other=x", "names c.txt, which iocLists.files lacks"},
		// A budget of no disruption would hang every node drain.
		{"podDisruptionBudget.enabled=true,podDisruptionBudget.maxUnavailable=0", `podDisruptionBudget.maxUnavailable is "0": want a number of replicas (shards) of at least 1`},
		{"podDisruptionBudget.enabled=true,podDisruptionBudget.maxUnavailable=0%", `podDisruptionBudget.maxUnavailable is "0%"`},
		{"serviceAccount.automountServiceAccountToken=yes", `serviceAccount.automountServiceAccountToken is "yes": want true or false`},
	} {
		out, err := exec.Command("helm", "template", "sfoe", chart, "--set", c.set).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.says) {
			t.Errorf("--set %s: err %v, output %q; want a failure saying %q", c.set, err, out, c.says)
		}
	}
}
