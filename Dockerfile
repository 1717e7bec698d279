# syntax=docker/dockerfile:1
#
# The evidence container image: a static Go binary on distroless/static
# (CA certificates, tzdata, /etc/passwd with user 65532 "nonroot"; no shell,
# no package manager). Build it with `make image`, or:
#
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse --short HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t evidence:v1.2.3 .
#
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 ...
# (the Go compiler cross-compiles; nothing runs under emulation).
# deploy/dockerfile_test.go checks this file; deploy/k8s-cronjob runs the image.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
WORKDIR /src
# A static binary (distroless/static has no libc); VCS stamping is off
# because .git is not in the build context: the ARGs stamp the version.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/evidence ./cmd/evidence

# Pin by digest in production: gcr.io/distroless/static-debian12:nonroot@sha256:...
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
LABEL org.opencontainers.image.title="evidence" \
      org.opencontainers.image.description="Audit evidence packs (XLSX, PDF, Parquet, SHA-256 manifest) from cloud-security platforms' compliance data" \
      org.opencontainers.image.source="https://github.com/evidence-pack/evidence" \
      org.opencontainers.image.url="https://github.com/evidence-pack/evidence" \
      org.opencontainers.image.documentation="https://github.com/evidence-pack/evidence/tree/main/deploy/k8s-cronjob" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/evidence /evidence
# Numeric, so Kubernetes' runAsNonRoot can check it without reading
# /etc/passwd; 65532 is distroless's "nonroot".
USER 65532:65532
ENTRYPOINT ["/evidence"]
