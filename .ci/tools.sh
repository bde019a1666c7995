#!/usr/bin/env bash
# Installs the pinned tools, each in its own versioned folder under
# TOOLS_DIR, and skips what is already there. The arguments name the groups
# wanted (default: all):
#
#   test     what the tests run: prometheus and promtool, alertmanager,
#            jsonnet, helm, and Chromium for the browser tests (make test)
#   mixin    jsonnet and promtool (make mixin, make mixin-check)
#   lint     golangci-lint (make lint)
#   release  goreleaser (make release-check, make release-snapshot)
#   proto    protoc-gen-go and protoc-gen-go-grpc, the generators of
#            salesforce/pubsub/pubsubpb (make pubsub-generate; protoc itself
#            comes from the system, e.g. Debian's protobuf-compiler)
#   all      every group (.ci/run, make tools)
#
# Progress goes to stderr; stdout is only the PATH entries of the groups
# wanted, one per line, for the caller: the Makefile puts them on PATH, and
# `make tools` prints the `export PATH=...` line to paste into a shell.
set -euo pipefail

PROMETHEUS_VERSION=v0.316.0   # prometheus and promtool (the Go module's version)
ALERTMANAGER_VERSION=v0.35.0
GOLANGCI_LINT_VERSION=v2.15.0
JSONNET_VERSION=v0.22.0
HELM_VERSION=v3.22.0          # helm lint and helm template of the chart
GORELEASER_VERSION=v2.15.1    # the release build (.goreleaser.yaml)
PROTOC_GEN_GO_VERSION=v1.36.12     # salesforce/pubsub/pubsubpb (generate_test.go pins the same)
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

TOOLS_DIR=${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/salesforce_oauth_exporter/tools}
mkdir -p "$TOOLS_DIR"

helm_ldflags() {
  helm_gomod=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  helm_kube_minor=$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9][0-9]*\)\..*/\1/p' "$helm_gomod")
  if [ -z "$helm_kube_minor" ]; then
    echo "tools: no k8s.io/client-go version in $helm_gomod" >&2
    exit 1
  fi
  helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    helm_ldflags="$helm_ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_kube_minor"
  done
  echo "$helm_ldflags"
}

# "tools.sh helm-ldflags" prints the flags a stamped helm is built with.
if [ "${1:-}" = helm-ldflags ]; then
  helm_ldflags
  exit
fi

# The groups wanted, and the tools they need.
want_prometheus=0 want_alertmanager=0 want_jsonnet=0 want_helm=0 want_chromium=0 want_golangci=0 want_goreleaser=0 want_proto=0
[ $# -gt 0 ] || set -- all
for g in "$@"; do
  case $g in
    test) want_prometheus=1 want_alertmanager=1 want_jsonnet=1 want_helm=1 want_chromium=1 want_proto=1 ;;
    mixin) want_prometheus=1 want_jsonnet=1 ;;
    lint) want_golangci=1 ;;
    release) want_goreleaser=1 want_helm=1 ;;
    helm) want_helm=1 ;;
    proto) want_proto=1 ;;
    all) want_prometheus=1 want_alertmanager=1 want_jsonnet=1 want_helm=1 want_chromium=1 want_golangci=1 want_goreleaser=1 want_proto=1 ;;
    *) echo "tools.sh: unknown group \"$g\": want test, mixin, lint, release, helm, proto or all" >&2; exit 2 ;;
  esac
done

have() { [ -x "$1" ]; }

# building NAME MINUTES and built: the progress lines around one build. The
# minutes are what a fresh 2-core machine takes (Go's module download
# included); a warm Go build cache takes far less.
started=0
building() {
  printf 'tools: building %s (about %s min on 2 cores)... ' "$1" "$2" >&2
  started=$SECONDS
}
built() { echo "done in $((SECONDS - started))s" >&2; }

install_go() { # dir pkg@version...
  local dir=$1; shift
  mkdir -p "$dir"
  GOFLAGS=-mod=mod GOBIN="$dir" go install "$@" >&2
}

d="$TOOLS_DIR/prometheus-$PROMETHEUS_VERSION"
if [ $want_prometheus = 1 ] && { ! have "$d/prometheus" || ! have "$d/promtool"; }; then
  # remove_all_sd leaves out the service discovery plugins (AWS, Azure,
  # GCE, Kubernetes, ...; static, file and http discovery stay): the tests
  # scrape static targets, and the build takes about 40% less time.
  building "prometheus and promtool $PROMETHEUS_VERSION" 7
  install_go "$d" -tags remove_all_sd "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  built
fi

d="$TOOLS_DIR/alertmanager-$ALERTMANAGER_VERSION"
if [ $want_alertmanager = 1 ] && ! have "$d/alertmanager"; then
  # The module lacks the UI's built assets, so 'go install' fails; build from a
  # copy of the module with placeholder pages (the tests use only the API).
  building "alertmanager $ALERTMANAGER_VERSION" 4
  src=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  work=$(mktemp -d)
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  for ui in elm mantine; do
    mkdir -p "$work/ui/app/dist/$ui"
    echo '<!doctype html><title>Alertmanager</title><p>UI not built.' > "$work/ui/app/dist/$ui/index.html"
  done
  mkdir -p "$d"
  (cd "$work" && GOFLAGS=-mod=mod go build -o "$d/alertmanager" ./cmd/alertmanager)
  rm -rf "$work"
  built
fi

d="$TOOLS_DIR/golangci-lint-$GOLANGCI_LINT_VERSION"
if [ $want_golangci = 1 ] && ! have "$d/golangci-lint"; then
  building "golangci-lint $GOLANGCI_LINT_VERSION" 7
  install_go "$d" "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
  built
fi

d="$TOOLS_DIR/jsonnet-$JSONNET_VERSION"
if [ $want_jsonnet = 1 ] && { ! have "$d/jsonnet" || ! have "$d/jsonnetfmt" || ! have "$d/jsonnet-lint"; }; then
  building "jsonnet $JSONNET_VERSION" 1
  install_go "$d" "github.com/google/go-jsonnet/cmd/jsonnet@$JSONNET_VERSION" "github.com/google/go-jsonnet/cmd/jsonnetfmt@$JSONNET_VERSION" "github.com/google/go-jsonnet/cmd/jsonnet-lint@$JSONNET_VERSION"
  built
fi

# Headless Chromium for the browser tests of the review's HTML (Debian's
# package; apt-get update once, only when it is missing).
if [ $want_chromium = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    building "chromium (apt-get install)" 2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2
    built
  else
    echo "tools: chromium is missing and this user cannot install it: the browser tests will skip outside CI" >&2
  fi
fi

# helm as its release build makes it: a plain 'go install' leaves the
# Kubernetes version helm assumes without a cluster (helm template, helm
# lint) at its source default, v1.20, which the chart's kubeVersion refuses.
# Helm's Makefile sets it by -X from the k8s.io/client-go version of its
# go.mod (v0.N.x is Kubernetes 1.N); so do we. ldflags.txt records the flags
# of the binary, so a helm built without them is rebuilt.
d="$TOOLS_DIR/helm-$HELM_VERSION"
if [ $want_helm = 1 ]; then
  helm_ldflags=$(helm_ldflags)
  if ! have "$d/helm" || [ "$(cat "$d/ldflags.txt" 2>/dev/null)" != "$helm_ldflags" ]; then
    building "helm $HELM_VERSION" 5
    install_go "$d" -ldflags "$helm_ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    echo "$helm_ldflags" > "$d/ldflags.txt"
    built
  fi
fi

d="$TOOLS_DIR/goreleaser-$GORELEASER_VERSION"
if [ $want_goreleaser = 1 ] && ! have "$d/goreleaser"; then
  building "goreleaser $GORELEASER_VERSION" 6
  install_go "$d" "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
  built
fi

# protoc comes from the system; without it the generated-code check skips.
if [ $want_proto = 1 ] && ! command -v protoc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    building "protoc (apt-get install protobuf-compiler)" 1
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q protobuf-compiler >&2
    built
  else
    echo "tools: protoc is missing and this user cannot install it: the check of salesforce/pubsub/pubsubpb's generated code will skip" >&2
  fi
fi

d="$TOOLS_DIR/protoc-gen-go-$PROTOC_GEN_GO_VERSION-grpc-$PROTOC_GEN_GO_GRPC_VERSION"
if [ $want_proto = 1 ] && { ! have "$d/protoc-gen-go" || ! have "$d/protoc-gen-go-grpc"; }; then
  building "protoc-gen-go $PROTOC_GEN_GO_VERSION and protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION" 1
  install_go "$d" "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  install_go "$d" "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  built
fi

# The PATH entries of the groups wanted, one per line, for the caller.
[ $want_prometheus = 0 ] || echo "$TOOLS_DIR/prometheus-$PROMETHEUS_VERSION"
[ $want_alertmanager = 0 ] || echo "$TOOLS_DIR/alertmanager-$ALERTMANAGER_VERSION"
[ $want_golangci = 0 ] || echo "$TOOLS_DIR/golangci-lint-$GOLANGCI_LINT_VERSION"
[ $want_jsonnet = 0 ] || echo "$TOOLS_DIR/jsonnet-$JSONNET_VERSION"
[ $want_helm = 0 ] || echo "$TOOLS_DIR/helm-$HELM_VERSION"
[ $want_goreleaser = 0 ] || echo "$TOOLS_DIR/goreleaser-$GORELEASER_VERSION"
[ $want_proto = 0 ] || echo "$TOOLS_DIR/protoc-gen-go-$PROTOC_GEN_GO_VERSION-grpc-$PROTOC_GEN_GO_GRPC_VERSION"
