# CaseBridge. The two commands a newcomer needs:
#   make run    the whole product at http://127.0.0.1:8080 (private PostgreSQL, dev sign-in, demo data)
#   make test   every test
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
BIN := bin/casebridge
GOFILES := $(shell find . -name '*.go' -not -path './.tools/*' -not -path './frontend/node_modules/*' 2>/dev/null)

.PHONY: run test build lint vet gotest deps-run deps-test clean

run: deps-run build
	./$(BIN) dev

build: $(BIN)

$(BIN): $(GOFILES) go.mod go.sum $(wildcard migrations/*.sql) api/openapi.yaml $(wildcard configs/*)
	$(GO) build -o $(BIN) ./cmd/casebridge

test: deps-test lint gotest

lint: vet
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	staticcheck ./...

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 -timeout 30m ./...

deps-run:
	@.ci/deps run

deps-test:
	@.ci/deps test

clean:
	rm -rf bin .tools
