# CaseBridge. The two commands a newcomer needs:
#   make run    the whole product at http://127.0.0.1:8080 (private PostgreSQL, dev sign-in, demo data)
#   make test   every test
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
BIN := bin/casebridge
GOFILES := $(shell find . -name '*.go' -not -path './.tools/*' -not -path './frontend/node_modules/*' 2>/dev/null)

.PHONY: run test build lint gosec vet gotest deps-run deps-test deps-bench clean webapp frontend-check e2e bench bench-scale bench-bundles fuzz

# The web app (frontend/): npm ci when the lock file changed, then the Vite
# build into frontend/dist/app, which the binary embeds (frontend/embed.go).
WEB := frontend
WEBAPP := $(WEB)/dist/app/index.html
WEBDEPS := $(WEB)/node_modules/.package-lock.json
WEBSRC := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/package.json

run: deps-run build
	./$(BIN) dev

build: $(BIN)

$(BIN): $(GOFILES) go.mod go.sum $(wildcard migrations/*.sql) api/openapi.yaml $(wildcard configs/*) $(WEBAPP)
	$(GO) build -o $(BIN) ./cmd/casebridge

webapp: $(WEBAPP)

$(WEBDEPS): $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEBAPP): $(WEBDEPS) $(WEBSRC) api/openapi.yaml
	cd $(WEB) && npm run build

# frontend-check runs before the build regenerates anything: the committed
# API types match api/openapi.yaml, Khmer has every key, TypeScript is clean.
frontend-check: $(WEBDEPS)
	cd $(WEB) && npm run check

# e2e: the real binary, PostgreSQL and dev sign-in, driven in Chromium.
e2e: build
	cd $(WEB) && npm run e2e
	set -o pipefail; CB_E2E_RESPONSES=$(CURDIR)/$(WEB)/e2e/out/api-responses.jsonl \
		$(GO) test -count=1 -v -run '^TestE2EResponsesConform$$' ./internal/app/ | grep -E '^(---|ok|FAIL|\s+contract)|responses checked'

test: deps-test lint frontend-check gotest e2e

lint: vet
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	staticcheck ./...
	$(MAKE) --no-print-directory gosec

# gosec: every finding is fixed or justified where it is, with
# `#nosec Gxxx -- reason`. Test files are not scanned (gosec's default), nor
# the packages only tests build: internal/testenv (test servers),
# internal/authztest (the access model) and bench/ (benchmark programs);
# frontend/ holds no Go.
gosec:
	gosec -quiet -fmt=text -exclude-dir=frontend -exclude-dir=.tools \
		-exclude-dir=internal/testenv -exclude-dir=internal/authztest -exclude-dir=bench ./...

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 -timeout 30m ./...

deps-run:
	@.ci/deps run

deps-test:
	@.ci/deps test

deps-bench:
	@.ci/deps bench

clean:
	rm -rf bin .tools $(WEB)/dist/app $(WEB)/node_modules

# Visibility at scale: seed 1,000,000 persons and 200,000 cases into a private
# cluster kept in bench/out/scale-1m (reused by later runs), then EXPLAIN and
# time the lists as the server runs them; fails on a sequential scan of a
# large table. Figures: docs/benchmarks.md. Not part of `make test` (the
# first run takes tens of minutes); `make test` runs the same checks at
# 20,000 persons (bench/visibility_test.go).
bench-scale: deps-run
	$(GO) run ./bench/cmd/scale -persons 1000000 -data-dir bench/out/scale-1m -report bench/out/scale-1m.md

# Court-bundle PDF engine against qpdf: 200 PDFs, 2,000 pages, one run
# (needs qpdf). Figures: docs/benchmarks.md.
bench-bundles:
	$(GO) run ./bench/bundlebench
# The HTTP API at the planning scale against the anchors (not part of
# `make test`): seeds BENCH_SCALE persons (default 1,000,000; the cluster is
# kept in bench/out/scale-N and reused), starts the real server, and runs
# wrk against it interleaved with pgbench running the server's own captured
# statements, at 16 and 64 connections. Report: bench/out/http-N.md (copy
# the figures into docs/benchmarks.md). BENCH_ARGS passes more flags, e.g.
# BENCH_ARGS="-rounds 1 -duration 10s".
BENCH_SCALE ?= 1000000
BENCH_ARGS ?=
bench: deps-bench
	$(GO) run ./bench/cmd/httpbench -persons $(BENCH_SCALE) $(BENCH_ARGS)

# Fuzzing: every parser of outside input, each for FUZZTIME (go test -fuzz
# runs one target at a time). Seeds: testdata/fuzz/<Target> in each
# package; a crasher found is written there and stays as a seed once fixed.
# Figures: docs/operations.md.
FUZZTIME ?= 1m
FUZZ_TARGETS = \
	./internal/httpapi:FuzzQueryValidation \
	./internal/httpapi:FuzzDecodeStrict \
	./internal/httpapi:FuzzUploadMetadata \
	./internal/httpapi:FuzzContentDispositionSanitized \
	./internal/httpapi:FuzzContentDisposition \
	./internal/auth:FuzzClaimMapping \
	./internal/page:FuzzDecode \
	./internal/validate:FuzzLoneSurrogate \
	./internal/audit:FuzzParseCursor \
	./internal/audit:FuzzDecodeLeaf \
	./internal/audit:FuzzParseCheckpoint \
	./internal/documents:FuzzSanitizeFilename \
	./internal/documents:FuzzSniff \
	./internal/documents:FuzzDecodeCursor \
	./internal/bundles/render:FuzzBuildPDFSource \
	./internal/imports:FuzzReadImportFile

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run "^$$name\$$" -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1 $$pkg; \
	done
