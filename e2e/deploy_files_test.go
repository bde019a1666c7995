package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/config"
	"github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/internal/e2eharness"
)

// exampleConfig copies examples/config.yml into a folder with the secret
// files it names, and returns its path.
func exampleConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "examples/config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+\w+_file: (\S+)`).FindAllStringSubmatch(string(b), -1) {
		content := []byte("not-a-real-secret")
		if strings.HasSuffix(m[1], ".pem") {
			content = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		}
		if err := os.WriteFile(filepath.Join(dir, m[1]), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestExampleConfigLoads(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(exampleConfig(t))
	if err != nil {
		t.Fatalf("examples/config.yml: %v", err)
	}
	if len(cfg.Orgs) != 3 || len(cfg.Inventory) != 2 || len(cfg.Warnings) != 0 {
		t.Errorf("examples/config.yml: %d orgs, %d inventory entries, warnings %v; want 3, 2, none", len(cfg.Orgs), len(cfg.Inventory), cfg.Warnings)
	}
	// Every flow but the discouraged password flow is shown.
	var flows []string
	for _, o := range cfg.Orgs {
		flows = append(flows, o.Auth.Flow)
	}
	slices.Sort(flows)
	if want := []string{"client_credentials", "jwt_bearer", "refresh_token"}; !slices.Equal(flows, want) {
		t.Errorf("example flows %v, want %v", flows, want)
	}
}

// The rule files shipped in the Helm chart are the mixin's rendered ones
// (make mixin writes both); examples/prometheus.yml loads mixin/rendered's.
func TestRuleCopiesMatchTheRenderedMixin(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"alerts.yaml", "rules.yaml"} {
		want, err := os.ReadFile(filepath.Join("..", "mixin/rendered", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{"deploy/helm/salesforce-oauth-exporter/files"} {
			got, err := os.ReadFile(filepath.Join("..", dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s differs from mixin/rendered/%s: run make mixin", dir, f, f)
			}
		}
	}
}

func TestExamplePrometheusConfig(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH")
		}
		t.Skip("promtool not on PATH")
	}
	// check config also checks the rule files it names.
	if out, err := exec.Command(promtool, "check", "config", filepath.Join("..", "examples/prometheus.yml")).CombinedOutput(); err != nil {
		t.Errorf("promtool check config examples/prometheus.yml: %v\n%s", err, out)
	}
}

// unitArgs returns the arguments of a unit's Exec line.
func unitArgs(t *testing.T, unit, key string) []string {
	t.Helper()
	joined := strings.ReplaceAll(unit, "\\\n", " ")
	m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(joined)
	if m == nil {
		t.Fatalf("the unit has no %s", key)
	}
	f := strings.Fields(m[1])
	if f[0] != "/usr/local/bin/salesforce_oauth_exporter" {
		t.Errorf("%s runs %s", key, f[0])
	}
	return f[1:]
}

// The systemd unit's flags are the exporter's, its state lands in its
// StateDirectory (not /data/), and it runs unprivileged.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "deploy/systemd/salesforce_oauth_exporter.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"\nUser=salesforce_oauth_exporter\n", "\nStateDirectory=salesforce_oauth_exporter\n", "\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nExecReload=/bin/kill -HUP $MAINPID\n", "\nMemoryMax="} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	// MemoryMax bounds the process above the measured peak of one org of a
	// million tokens (126 MB) with room for a full sync, and below what a
	// small host can spare.
	if m := regexp.MustCompile(`(?m)^MemoryMax=(\d+)M$`).FindStringSubmatch(unit); m == nil {
		t.Error("MemoryMax is not a size in megabytes (NNNM)")
	} else if n, _ := strconv.Atoi(m[1]); n < 256 || n > 2048 {
		t.Errorf("MemoryMax=%sM: want 256M to 2048M", m[1])
	}
	cfg := exampleConfig(t)
	storage := t.TempDir()
	for _, key := range []string{"ExecStartPre", "ExecStart"} {
		args := unitArgs(t, unit, key)
		var run []string
		for _, a := range args {
			switch {
			case strings.HasPrefix(a, "--config.file="):
				if a != "--config.file=/etc/salesforce_oauth_exporter/config.yml" {
					t.Errorf("%s: %s, want the config under /etc/salesforce_oauth_exporter", key, a)
				}
				a = "--config.file=" + cfg
			case strings.HasPrefix(a, "--storage.path="):
				if a != "--storage.path=/var/lib/salesforce_oauth_exporter" {
					t.Errorf("%s: %s is not the StateDirectory", key, a)
				}
				a = "--storage.path=" + storage
			}
			run = append(run, a)
		}
		if !slices.Contains(run, "--config.check") {
			run = append(run, "--config.check")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, buildExporter(t), run...).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("%s's flags with --config.check: %v\n%s", key, err, out)
		}
	}
}

// ldflagNames returns the -X variable names in s.
func ldflagNames(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`-X (github\.com/prometheus/common/version\.\w+)=`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The release config builds static binaries for linux, darwin and windows
// on amd64 and arm64 with checksums, and the Makefile, the Dockerfile and
// GoReleaser stamp the same version variables.
func TestReleaseConfig(t *testing.T) {
	t.Parallel()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var rel struct {
		Version int `yaml:"version"`
		Builds  []struct {
			Main    string   `yaml:"main"`
			Binary  string   `yaml:"binary"`
			Env     []string `yaml:"env"`
			Flags   []string `yaml:"flags"`
			Ldflags []string `yaml:"ldflags"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
		} `yaml:"builds"`
		Checksum struct {
			Algorithm string `yaml:"algorithm"`
		} `yaml:"checksum"`
	}
	if err := yaml.Unmarshal([]byte(read(".goreleaser.yaml")), &rel); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if rel.Version != 2 || len(rel.Builds) != 1 {
		t.Fatalf(".goreleaser.yaml: version %d, %d builds; want 2 and 1", rel.Version, len(rel.Builds))
	}
	b := rel.Builds[0]
	slices.Sort(b.Goos)
	slices.Sort(b.Goarch)
	if !slices.Equal(b.Goos, []string{"darwin", "linux", "windows"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
		t.Errorf("targets %v x %v", b.Goos, b.Goarch)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") || b.Binary != e2eharness.BinaryName || b.Main != "." {
		t.Errorf("build %+v: want a static (CGO_ENABLED=0), -trimpath build of . named %s", b, e2eharness.BinaryName)
	}
	if rel.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum algorithm %q", rel.Checksum.Algorithm)
	}
	mk := ldflagNames(read("Makefile"))
	if len(mk) != 5 {
		t.Fatalf("the Makefile stamps %v", mk)
	}
	for name, s := range map[string]string{".goreleaser.yaml": strings.Join(b.Ldflags, " "), "Dockerfile": read("Dockerfile")} {
		if got := ldflagNames(s); !slices.Equal(got, mk) {
			t.Errorf("%s stamps %v, the Makefile %v", name, got, mk)
		}
	}
}

// A tagged release publishes what the Helm chart pulls by default: the image,
// built from the repository's Dockerfile with the release's binaries, under
// the chart's image.repository and a tag equal to the chart's appVersion,
// which the release stamps into the packaged chart it attaches.
func TestReleaseBuildsTheChartsImage(t *testing.T) {
	t.Parallel()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var rel struct {
		Before struct {
			Hooks []string `yaml:"hooks"`
		} `yaml:"before"`
		Builds []struct {
			ID     string   `yaml:"id"`
			Binary string   `yaml:"binary"`
			Goarch []string `yaml:"goarch"`
		} `yaml:"builds"`
		DockersV2 []struct {
			IDs        []string          `yaml:"ids"`
			Dockerfile string            `yaml:"dockerfile"`
			Images     []string          `yaml:"images"`
			Tags       []string          `yaml:"tags"`
			Platforms  []string          `yaml:"platforms"`
			BuildArgs  map[string]string `yaml:"build_args"`
		} `yaml:"dockers_v2"`
		Release struct {
			ExtraFiles []struct {
				Glob string `yaml:"glob"`
			} `yaml:"extra_files"`
		} `yaml:"release"`
	}
	if err := yaml.Unmarshal([]byte(read(".goreleaser.yaml")), &rel); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	var values struct {
		Image struct {
			Repository string `yaml:"repository"`
			Tag        string `yaml:"tag"`
		} `yaml:"image"`
	}
	if err := yaml.Unmarshal([]byte(read("deploy/helm/salesforce-oauth-exporter/values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	if len(rel.DockersV2) != 1 || len(rel.Builds) != 1 {
		t.Fatalf("%d dockers_v2 images, %d builds: want one image from the one build", len(rel.DockersV2), len(rel.Builds))
	}
	d, b := rel.DockersV2[0], rel.Builds[0]
	if d.Dockerfile != "Dockerfile" || d.BuildArgs["BINARY"] != "prebuilt" || !slices.Contains(d.IDs, b.ID) {
		t.Errorf("image %+v: want the Dockerfile with BINARY=prebuilt and the binaries of build %q", d, b.ID)
	}
	if !slices.Contains(d.Images, values.Image.Repository) {
		t.Errorf("images %v lack the chart's image.repository %s", d.Images, values.Image.Repository)
	}
	// The chart's default tag is its appVersion, which the hook stamps with {{ .Version }}.
	if values.Image.Tag != "" || !slices.Contains(d.Tags, "{{ .Version }}") {
		t.Errorf("image tags %v, chart image.tag %q: want {{ .Version }}, the appVersion the chart defaults to", d.Tags, values.Image.Tag)
	}
	for _, p := range d.Platforms {
		arch, ok := strings.CutPrefix(p, "linux/")
		if !ok || !slices.Contains(b.Goarch, arch) {
			t.Errorf("platform %s is not a linux target of the build (%v)", p, b.Goarch)
		}
	}
	if len(d.Platforms) < 2 {
		t.Errorf("platforms %v: want amd64 and arm64", d.Platforms)
	}
	if !slices.Contains(rel.Before.Hooks, "make chart-package CHART_VERSION={{ .Version }}") {
		t.Errorf("before hooks %v do not package the chart with the release's version", rel.Before.Hooks)
	}
	mk := read("Makefile")
	if !regexp.MustCompile(`(?m)^chart-package:\n(\t.*\n)*\t.*helm package \$\(CHART\) --version \$\(CHART_VERSION\) --app-version \$\(CHART_VERSION\) --destination build/chart`).MatchString(mk) {
		t.Error("the Makefile's chart-package does not stamp version and appVersion into build/chart")
	}
	if len(rel.Release.ExtraFiles) != 1 || rel.Release.ExtraFiles[0].Glob != "./build/chart/*.tgz" {
		t.Errorf("release extra files %+v: want the packaged chart", rel.Release.ExtraFiles)
	}
	// The Dockerfile takes the release's binary from GoReleaser's context
	// (<os>/<arch>/<binary>) when BINARY=prebuilt, and compiles otherwise.
	df := read("Dockerfile")
	for _, want := range []string{
		"ARG BINARY=source\n",
		"AS source\n",
		"FROM scratch AS prebuilt\nARG TARGETPLATFORM\nCOPY ${TARGETPLATFORM}/" + b.Binary + " /out/" + b.Binary + "\n",
		"FROM ${BINARY} AS binary\n",
		"COPY --from=binary /out/" + b.Binary + " /bin/" + b.Binary + "\n",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
}
