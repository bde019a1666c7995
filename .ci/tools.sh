#!/usr/bin/env bash
# Installs the pinned tools the tests and linters need, each in its own
# versioned folder under TOOLS_DIR, and skips what is already there. Prints
# nothing but progress; source .ci/env.sh (or use the Makefile) to get them
# on PATH.
set -euo pipefail

PROMETHEUS_VERSION=v0.316.0   # prometheus and promtool (the Go module's version)
ALERTMANAGER_VERSION=v0.35.0
GOLANGCI_LINT_VERSION=v2.15.0
JSONNET_VERSION=v0.22.0
HELM_VERSION=v3.22.0          # helm lint and helm template of the chart
GORELEASER_VERSION=v2.15.1    # the release build (.goreleaser.yaml)

TOOLS_DIR=${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/salesforce_oauth_exporter/tools}
mkdir -p "$TOOLS_DIR"

have() { [ -x "$1" ]; }

install_go() { # dir pkg@version...
  local dir=$1; shift
  mkdir -p "$dir"
  echo "tools: go install $*" >&2
  GOBIN="$dir" GOFLAGS=-mod=mod go install "$@"
}

d="$TOOLS_DIR/prometheus-$PROMETHEUS_VERSION"
if ! have "$d/prometheus" || ! have "$d/promtool"; then
  install_go "$d" "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
fi

d="$TOOLS_DIR/alertmanager-$ALERTMANAGER_VERSION"
if ! have "$d/alertmanager"; then
  # The module lacks the UI's built assets, so 'go install' fails; build from a
  # copy of the module with placeholder pages (the tests use only the API).
  echo "tools: build alertmanager $ALERTMANAGER_VERSION" >&2
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
fi

d="$TOOLS_DIR/golangci-lint-$GOLANGCI_LINT_VERSION"
if ! have "$d/golangci-lint"; then
  install_go "$d" "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi

d="$TOOLS_DIR/jsonnet-$JSONNET_VERSION"
if ! have "$d/jsonnet" || ! have "$d/jsonnetfmt" || ! have "$d/jsonnet-lint"; then
  install_go "$d" "github.com/google/go-jsonnet/cmd/jsonnet@$JSONNET_VERSION" "github.com/google/go-jsonnet/cmd/jsonnetfmt@$JSONNET_VERSION" "github.com/google/go-jsonnet/cmd/jsonnet-lint@$JSONNET_VERSION"
fi

# Headless Chromium for the browser tests of the review's HTML (Debian's
# package; apt-get update once, only when it is missing).
if ! command -v chromium >/dev/null 2>&1; then
  echo "tools: apt-get install chromium" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2
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
if ! have "$d/helm" || [ "$(cat "$d/ldflags.txt" 2>/dev/null)" != "$helm_ldflags" ]; then
  install_go "$d" -ldflags "$helm_ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$helm_ldflags" > "$d/ldflags.txt"
fi

d="$TOOLS_DIR/goreleaser-$GORELEASER_VERSION"
if ! have "$d/goreleaser"; then
  install_go "$d" "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi

# The PATH entries, one per line, for the caller.
for d in "prometheus-$PROMETHEUS_VERSION" "alertmanager-$ALERTMANAGER_VERSION" "golangci-lint-$GOLANGCI_LINT_VERSION" "jsonnet-$JSONNET_VERSION" "helm-$HELM_VERSION" "goreleaser-$GORELEASER_VERSION"; do
  echo "$TOOLS_DIR/$d"
done
