# One build for every Vigil binary; each service is a target:
#   docker build --target vigil-ingest -t vigil-ingest .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.work ./
COPY migrations/go.mod migrations/go.sum* migrations/
COPY services/moderation/go.mod services/moderation/go.sum services/moderation/
COPY services/ingest/go.mod services/ingest/go.sum* services/ingest/
COPY services/review/go.mod services/review/go.sum* services/review/
COPY services/vigilctl/go.mod services/vigilctl/go.sum* services/vigilctl/
COPY services/firehose/go.mod services/firehose/go.sum* services/firehose/
RUN go mod download -x 2>/dev/null || true
COPY . .
ENV CGO_ENABLED=0
RUN mkdir -p /out && \
    go build -trimpath -o /out/ ./services/ingest/cmd/vigil-ingest ./services/review/cmd/vigil-review \
        ./services/vigilctl/cmd/vigilctl ./services/firehose/cmd/vigil-firehose

FROM gcr.io/distroless/static-debian12:nonroot AS base
WORKDIR /app
COPY rules /app/rules

FROM base AS vigil-ingest
COPY --from=build /out/vigil-ingest /app/
ENTRYPOINT ["/app/vigil-ingest"]

FROM base AS vigil-review
COPY --from=build /out/vigil-review /app/
ENTRYPOINT ["/app/vigil-review"]

FROM base AS vigilctl
COPY --from=build /out/vigilctl /app/
ENTRYPOINT ["/app/vigilctl"]

FROM base AS vigil-firehose
COPY --from=build /out/vigil-firehose /app/
ENTRYPOINT ["/app/vigil-firehose"]
