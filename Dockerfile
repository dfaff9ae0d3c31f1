# The production image: one static binary (the web app is embedded in it).

# The web app: Vite build into frontend/dist/app (Node >= 20.19, npm >= 11).
FROM node:24-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json frontend/.npmrc ./
RUN npm ci --no-audit --no-fund
COPY api/openapi.yaml /src/api/openapi.yaml
COPY frontend/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/frontend/dist/app ./frontend/dist/app
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/casebridge ./cmd/casebridge

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 casebridge
COPY --from=build /out/casebridge /usr/local/bin/casebridge
USER casebridge
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/casebridge"]
CMD ["serve"]
