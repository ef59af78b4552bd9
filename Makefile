# Parley. `make run` starts the server with a demo site; `make test` runs the
# whole suite (SQLite, and PostgreSQL when PARLEY_TEST_POSTGRES or the local
# default answers).

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO ?= go
DB ?= ./parley.db
ADDR ?= 127.0.0.1:8080

.PHONY: run build test test-short bench lint fuzz clean

run:
	$(GO) run ./cmd/parley serve -db $(DB) -addr $(ADDR) -demo

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/parley ./cmd/parley

# The race detector slows the pure-Go SQLite tenfold, so the queue-page
# latency test measures only in the second, plain run.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run TestQueuePagesAtScale ./schema/

test-short:
	$(GO) test -count=1 ./...

bench:
	$(GO) run ./cmd/parley-bench

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin parley.db parley.db-wal parley.db-shm
