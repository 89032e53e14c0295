# The commands README.md promises. CI calls `make test` through .ci/run.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build test demo fuzz-smoke bench

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/pssession ./cmd/pssession

test:
	$(GO) test -race -count=1 ./...

demo:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/pssession demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
