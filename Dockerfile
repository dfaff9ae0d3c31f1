# The production image: one static binary (the web app is embedded in it).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/casebridge ./cmd/casebridge

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 casebridge
COPY --from=build /out/casebridge /usr/local/bin/casebridge
USER casebridge
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/casebridge"]
CMD ["serve"]
