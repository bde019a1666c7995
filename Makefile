# The verbs follow Prometheus's Makefile.common: style, lint, test, build.
# Every target installs the pinned tools it needs first (.ci/tools.sh, only
# the groups it uses), so a fresh machine needs only Go, git and make.

GO        ?= go
BINARY    := salesforce_oauth_exporter
PKG       := github.com/salesforce-oauth-exporter/salesforce_oauth_exporter
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/prometheus/common/version.Version=$(VERSION) \
             -X github.com/prometheus/common/version.Revision=$(REVISION) \
             -X github.com/prometheus/common/version.Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
             -X github.com/prometheus/common/version.BuildUser=make \
             -X github.com/prometheus/common/version.BuildDate=$(BUILD_DATE)

BUILD_DATE := $(shell date -u +%Y%m%d-%H:%M:%S)
CHART     := deploy/helm/salesforce-oauth-exporter
DOCKER    ?= docker
IMAGE     ?= salesforce_oauth_exporter

# $(call with_tools,GROUP...): a PATH with the pinned tools of those groups
# (.ci/tools.sh: test, mixin, lint, release, all), installed first if
# missing. Each target installs only what it uses: make test builds no linter.
with_tools = PATH="$(shell bash .ci/tools.sh $(1) | tr '\n' ':')$$PATH"

.PHONY: all build test pubsub-generate test-short test-chart style lint unused fuzz-smoke mixin mixin-check bench ci tools demo docker release-check release-snapshot chart-package

all: style lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BINARY) .

# The Pub/Sub API's Go code, from the vendored proto (salesforce/pubsub/pubsubpb):
# protoc from the system (Debian: protobuf-compiler), the generators pinned in
# .ci/tools.sh. TestGeneratedCodeMatchesProto checks the committed result.
pubsub-generate:
	@command -v protoc >/dev/null || { echo "pubsub-generate: protoc is missing: install protobuf-compiler (apt-get install -y protobuf-compiler)" >&2; exit 1; }
	cd salesforce/pubsub/pubsubpb && $(call with_tools,proto) $(GO) generate .

# The image, stamped like the binary.
docker:
	$(DOCKER) build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
	  --build-arg BRANCH=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) --build-arg BUILD_DATE=$(BUILD_DATE) \
	  -t $(IMAGE):$(VERSION) .

# CI's release check: the GoReleaser config, and a snapshot build of the
# host's target only (the six targets of a release add minutes and prove
# little more: every one is CGO_ENABLED=0 pure Go).
release-check:
	$(call with_tools,release) goreleaser check
	$(call with_tools,release) goreleaser build --snapshot --clean --single-target

# The Helm chart as a release asset: version and appVersion stamped with
# CHART_VERSION (the release's version without the v; the chart's default
# image tag is its appVersion), packaged into build/chart/.
CHART_VERSION ?= $(patsubst v%,%,$(VERSION))
chart-package:
	rm -rf build/chart && mkdir -p build/chart
	$(call with_tools,helm) helm package $(CHART) --version $(CHART_VERSION) --app-version $(CHART_VERSION) --destination build/chart

# Every target, archives and checksums in dist/, and the packaged chart in
# build/chart/, nothing published. The image needs docker buildx: add it with
# make release-snapshot SKIP=publish.
SKIP ?= publish,docker
release-snapshot:
	$(call with_tools,release) goreleaser release --snapshot --clean --skip=$(SKIP)

demo: build
	./$(BINARY) --demo

# Installs every pinned tool and prints the line that puts them on a
# shell's PATH: eval "$(make -s tools)".
tools:
	@echo "export PATH=$$(bash .ci/tools.sh all | tr '\n' ':')\$$PATH"

# The whole test suite: unit, fake-org, end-to-end (binary, real Prometheus,
# promtool, Alertmanager), mixin rules and dashboards, with the race detector.
# On a fresh machine the tools take most of the time: the packages the tests
# import are compiled alongside (into Go's build cache, nothing linked), so
# the tests start as soon as the tools are there.
#
# NORACE_PKGS run without the race detector, beside the rest: their tests
# run the exporter as its binary (built without it), Prometheus,
# Alertmanager and promtool, and evaluate jsonnet; in-process they import
# no exporter code but the fake org and the config parser, which the other
# packages test under -race. Under it go-jsonnet alone took three minutes
# of a fresh run.
#
# go test runs two packages at a time, starting them in the order given:
# internal/cli, the longest (about 8 minutes of a fresh run), goes first so
# the others fill in beside it.
NORACE_PKGS := $(addprefix $(PKG)/,e2e mixin)
SLOW_PKGS   := $(PKG)/internal/cli
test:
	@echo "test: compiling the tests' packages while the tools build" >&2; \
	race="$(SLOW_PKGS) $$($(GO) list ./... | grep -vxF $(addprefix -e ,$(NORACE_PKGS) $(SLOW_PKGS)))"; \
	deps() { $(GO) list -deps -test -f '{{if and (ne .Name "main") .GoFiles}}{{.ImportPath}}{{end}}' "$$@" | grep -v ' '; }; \
	{ { $(GO) build -race $$(deps $$race) && $(GO) build $$(deps $(NORACE_PKGS)); } >/dev/null 2>&1 || \
	  echo "test: the early compile failed; go test reports why below" >&2; } & warm=$$!; \
	tools=$$(bash .ci/tools.sh test | tr '\n' ':') || { kill $$warm 2>/dev/null; exit 1; }; \
	wait $$warm; \
	echo "PATH=$$tools\$$PATH CI=$${CI:-1} $(GO) test -race -count=1 -timeout 40m (every package but $(NORACE_PKGS)), and $(GO) test -count=1 $(NORACE_PKGS)" >&2; \
	export PATH="$$tools$$PATH" CI=$${CI:-1}; \
	out=$$(mktemp); trap 'rm -f "$$out"' EXIT; \
	$(GO) test -count=1 -timeout 40m $(NORACE_PKGS) >"$$out" 2>&1 & norace=$$!; \
	$(GO) test -race -count=1 -timeout 40m $$race; rc=$$?; \
	wait $$norace; nrc=$$?; cat "$$out"; \
	[ $$rc -eq 0 ] && [ $$nrc -eq 0 ]
	$(MAKE) test-chart

# The Helm chart: helm lint, helm template decoded strictly into the
# Kubernetes and Prometheus Operator types. deploy/ is its own Go module, so
# k8s.io/api stays out of the exporter's go.mod.
test-chart:
	cd deploy && $(call with_tools,test) CI=$${CI:-1} $(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

style:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unused:
	$(GO) mod tidy
	cd deploy && $(GO) mod tidy
	@git diff --exit-code -- go.mod go.sum deploy/go.mod deploy/go.sum || (echo "go.mod/go.sum drift: run go mod tidy (here and in deploy/)"; exit 1)

lint:
	$(call with_tools,lint) golangci-lint run ./...
	cd deploy && $(call with_tools,lint) golangci-lint run ./...

# Each fuzz target briefly; crashers land in testdata/fuzz and become regression tests.
# A count, not a duration: a wall-clock -fuzztime races the fuzz coordinator's
# own deadline on a loaded machine and fails with a bare "context deadline
# exceeded" and no input (golang/go#51484). A count has no deadline to race.
FUZZ_TIME ?= 100000x
fuzz-smoke:
	$(GO) test -run XXX -fuzz '^FuzzParseLimitInfo$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParseErrorBody$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParseTime$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParseAPITotalUsage$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzDecodePage$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./config/
	$(GO) test -run XXX -fuzz '^FuzzParseState$$' -fuzztime $(FUZZ_TIME) ./refresh/
	$(GO) test -run XXX -fuzz '^FuzzAddressFastPaths$$' -fuzztime $(FUZZ_TIME) ./detect/

# The mixin rendered into mixin/rendered (alerts, rules, dashboards),
# committed once, and the Helm chart's copy of it ($(CHART)/files, which its
# PrometheusRule and dashboard ConfigMaps read at template time); a test
# checks the copy.
mixin:
	$(call with_tools,mixin) $(MAKE) -C mixin generate

mixin-check:
	$(call with_tools,mixin) $(MAKE) -C mixin check
	@test -z "$$(git status --porcelain -- mixin/rendered $(CHART)/files)" || (git status --short -- mixin/rendered $(CHART)/files; echo "rendered mixin files drift from the source: run make mixin"; exit 1)

bench:
	$(GO) run ./bench

ci: style unused lint mixin-check release-check fuzz-smoke test
