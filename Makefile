# Parley. `make run` starts the server with a demo site; `make test` runs the
# whole suite (SQLite, and PostgreSQL when PARLEY_TEST_POSTGRES or the local
# default answers).

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GO ?= go
DB ?= ./parley.db
ADDR ?= 127.0.0.1:8080
# More serve flags for make run, such as ARGS=-captcha-test.
ARGS ?=

.PHONY: run build install test test-short bench bench-postgres bench-import lint fuzz clean screenshots

run:
	$(GO) run ./cmd/parley serve -db $(DB) -addr $(ADDR) -demo $(ARGS)

# CGO_ENABLED=0: both database drivers are pure Go, so the binary links
# nothing from the system and runs on any Linux of the same architecture
# (ldd bin/parley says "not a dynamic executable").
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/parley ./cmd/parley

# Puts parley in $$(go env GOBIN), or $$(go env GOPATH)/bin, which should be
# on your PATH.
install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/parley

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

test-short:
	$(GO) test -count=1 ./...

# Starts the real server and a bare net/http ceiling, loads each path with
# wrk and prints the table with its targets. BENCH_DB=postgres://… benchmarks
# PostgreSQL in a fresh database created through that URL and dropped after;
# BENCH_ARGS passes flags (BENCH_ARGS='-d 2s -only counts-token,vote').
BENCH_ARGS ?=
bench:
	@command -v wrk >/dev/null || (echo "installing wrk"; apt-get install -y -qq wrk >/dev/null)
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./moderation/
	$(GO) test -count=1 -run '^TestCorpusPolicy$$' -v ./moderation/
	$(GO) run ./cmd/parley-bench $(BENCH_ARGS)

# make bench on the local PostgreSQL, with the propagation trials between
# two server processes.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
bench-postgres:
	BENCH_DB='$(BENCH_POSTGRES)' $(MAKE) bench

# Imports a generated Remark42 backup of BENCH_IMPORT_N comments (a
# million) with the built binary into a fresh SQLite file and, through
# BENCH_POSTGRES, a fresh PostgreSQL database (dropped after), exports it
# again, and prints comments/s and each process's peak RSS. Not part of
# make test; BENCH_IMPORT_ARGS='-cpuprofile import.prof' profiles the
# SQLite import.
BENCH_IMPORT_N ?= 1000000
BENCH_IMPORT_ARGS ?=
bench-import: build
	BENCH_POSTGRES='$(BENCH_POSTGRES)' $(GO) run ./cmd/parley-bench-import -parley bin/parley -n $(BENCH_IMPORT_N) $(BENCH_IMPORT_ARGS)

# Rewrites docs/demo.png, docs/dashboard.png, docs/dashboard-fr.png,
# docs/widget-fr.png and docs/widget-ar.png from the browser tests, after
# seeding a realistic thread.
screenshots:
	PARLEY_SCREENSHOTS=1 $(GO) test -count=1 -run '^TestBrowser(|Widget|DashboardFrench|Insights)$$' ./cmd/parley/

# fuzz runs each fuzz target for FUZZTIME (plain `go test` runs only their
# seeds, from f.Add and testdata/fuzz).
FUZZTIME ?= 30s
fuzz:
	@for pkg in ./handlers ./schema ./moderation; do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin parley parley.db parley.db-wal parley.db-shm parley.db-serve.lock
