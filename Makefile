# eventgate — common tasks. `make help` lists them.
GO      ?= go
PKGS    ?= ./...
BENCH   ?= .
BENCHTIME ?= 2s
BENCHPKGS ?= . ./transport/ ./internal/...

.PHONY: help run build test test-python test-short bench fuzz vet fmt clean ui

help:
	@echo "make run        run eventgate on ./logs/sessions: log sample events, list sessions, show one"
	@echo "make build      build ./bin/eventgate"
	@echo "make test       all tests, with the race detector (what CI runs), then test-python"
	@echo "make test-python the Python package's tests (clients/python) against a freshly built daemon"
	@echo "make test-short the tests without the crash and long-running ones"
	@echo "make bench      benchmarks, printed as a table"
	@echo "make fuzz       run every fuzz target of every package for FUZZTIME (default 30s each)"
	@echo "make ui         rebuild the web UI (web/ui/dist, embedded by the binary) from web/ui/src"

build:
	$(GO) build -o bin/eventgate ./cmd/eventgate

run: build
	@printf '%s\n' \
	  '{"session_id":"demo","type":"user_message","data":{"text":"hello"}}' \
	  '{"event":{"type":"agent_reply","user_session_id":"demo","text":"hi there"},"metadata":{"model":"m1"},"timestamp":1764150000.5}' \
	  '{"type":"tool_call","session_id":"demo","tool":"search"}' \
	  | ./bin/eventgate log
	./bin/eventgate sessions
	./bin/eventgate events demo

test:
	$(GO) test -race -count=1 -timeout 25m $(PKGS)
	$(MAKE) test-python

# The Python package's tests run with the system's Python (Debian's
# python3-pytest, python3-aiohttp, python3-pydantic) against the daemon
# built here into a temporary directory.
PYTHON ?= /usr/bin/python3
test-python:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(GO) build -o "$$tmp/eventgate" ./cmd/eventgate && \
	  cd clients/python && EVENTGATE_BIN="$$tmp/eventgate" $(PYTHON) -m pytest -q -p no:cacheprovider tests

test-short:
	$(GO) test -race -short $(PKGS)

bench:
	$(GO) run ./internal/benchtable -benchtime $(BENCHTIME) -bench '$(BENCH)' $(BENCHPKGS)

FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The built UI is committed, so go build needs no node; run this after
# changing web/ui/src (a test fails when dist is not rebuilt).
ui:
	cd web/ui && npm ci --no-audit --no-fund && npx tsc --noEmit -p . && node build.mjs

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
