# syntax=docker/dockerfile:1
# A static binary on distroless, running as the nonroot user (UID 65532).
# make docker compiles it here from the source (.dockerignore keeps the build
# context to the Go sources). A tagged release (GoReleaser, .goreleaser.yaml)
# builds this same file with --build-arg BINARY=prebuilt: the binary it
# already built for each platform is in its context, at
# <os>/<arch>/salesforce_oauth_exporter.
ARG BINARY=source

FROM --platform=$BUILDPLATFORM golang:1.26 AS source
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Stamped like the Makefile's build: make docker passes these from git.
# Without them the binary falls back to the module build info.
ARG VERSION=""
ARG REVISION=""
ARG BRANCH=""
ARG BUILD_DATE=""
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w \
      -X github.com/prometheus/common/version.Version=${VERSION} \
      -X github.com/prometheus/common/version.Revision=${REVISION} \
      -X github.com/prometheus/common/version.Branch=${BRANCH} \
      -X github.com/prometheus/common/version.BuildUser=docker \
      -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/salesforce_oauth_exporter .

FROM scratch AS prebuilt
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/salesforce_oauth_exporter /out/salesforce_oauth_exporter

FROM ${BINARY} AS binary

# The state folder, created where a shell exists (distroless has none).
FROM --platform=$BUILDPLATFORM golang:1.26 AS state
RUN mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=""
ARG REVISION=""
ARG BUILD_DATE=""
LABEL org.opencontainers.image.title="salesforce_oauth_exporter" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="https://github.com/salesforce-oauth-exporter/salesforce_oauth_exporter" \
      org.opencontainers.image.description="OAuth access to Salesforce orgs (connected apps, External Client Apps) for Prometheus" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=binary /out/salesforce_oauth_exporter /bin/salesforce_oauth_exporter
COPY --from=state --chown=65532:65532 /out/state /var/lib/salesforce_oauth_exporter
USER 65532:65532
EXPOSE 10157
# Mount the config (and the secret files it names) at /etc/salesforce_oauth_exporter,
# and a volume at /var/lib/salesforce_oauth_exporter for the state. The
# exporter runs as UID 65532 and reads its secret files: make them readable
# by that user or its group (see the README's Docker section).
VOLUME ["/var/lib/salesforce_oauth_exporter"]
ENTRYPOINT ["/bin/salesforce_oauth_exporter"]
CMD ["--config.file=/etc/salesforce_oauth_exporter/config.yml", "--storage.path=/var/lib/salesforce_oauth_exporter"]
