# The verbs follow Prometheus's Makefile.common: style, lint, test, build.
# Every target installs the pinned tools it needs first (.ci/tools.sh), so a
# fresh machine needs only Go, git and make.

GO        ?= go
BINARY    := salesforce_oauth_exporter
PKG       := github.com/salesforce-oauth-exporter/salesforce_oauth_exporter
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/prometheus/common/version.Version=$(VERSION) \
             -X github.com/prometheus/common/version.Revision=$(REVISION) \
             -X github.com/prometheus/common/version.Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
             -X github.com/prometheus/common/version.BuildUser=make \
             -X github.com/prometheus/common/version.BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

TOOLS_PATH = $(shell bash .ci/tools.sh | tr '\n' ':')
WITH_TOOLS = PATH="$(TOOLS_PATH)$$PATH"

.PHONY: all build test test-short style lint unused fuzz-smoke mixin mixin-check bench ci tools demo

all: style lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BINARY) .

demo: build
	./$(BINARY) --demo

tools:
	@bash .ci/tools.sh >/dev/null

# The whole test suite: unit, fake-org, end-to-end (binary, real Prometheus,
# promtool, Alertmanager), mixin rules and dashboards, with the race detector.
test:
	$(WITH_TOOLS) CI=$${CI:-1} $(GO) test -race -count=1 -timeout 40m ./...

test-short:
	$(GO) test -short ./...

style:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unused:
	$(GO) mod tidy
	@git diff --exit-code -- go.mod go.sum || (echo "go.mod/go.sum drift: run go mod tidy"; exit 1)

lint:
	$(WITH_TOOLS) golangci-lint run ./...

# Each fuzz target briefly; crashers land in testdata/fuzz and become regression tests.
FUZZ_TIME ?= 10s
fuzz-smoke:
	$(GO) test -run XXX -fuzz '^FuzzParseLimitInfo$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParseErrorBody$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParseTime$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParseAPITotalUsage$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzDecodePage$$' -fuzztime $(FUZZ_TIME) ./salesforce/
	$(GO) test -run XXX -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./config/
	$(GO) test -run XXX -fuzz '^FuzzParseState$$' -fuzztime $(FUZZ_TIME) ./refresh/

mixin:
	$(WITH_TOOLS) $(MAKE) -C mixin generate

mixin-check:
	$(WITH_TOOLS) $(MAKE) -C mixin check
	@git diff --exit-code -- dashboards mixin/rendered || (echo "rendered mixin files drift from the source: run make mixin"; exit 1)

bench:
	$(GO) run ./bench

ci: style unused lint mixin-check fuzz-smoke test
