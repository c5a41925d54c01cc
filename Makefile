# dcc: build, test, benchmark. `make test` installs what it needs first.
GO ?= go
# Static binaries: dcc starts once per compile, and a dynamically linked
# binary (cgo through package net) costs it 0.6 ms more at every start.
BUILD_ENV ?= CGO_ENABLED=0
GOFLAGS_BUILD ?= -trimpath

.PHONY: build deps test test-short bench demo fuzz fuzz-long soak clean docs deb

build:
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o bin/dcc ./cmd/dcc
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o bin/dccd ./cmd/dccd
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o bin/dcc-server ./cmd/dcc-server

deps:
	scripts/install-deps.sh
	scripts/fetch-project.sh zlib >/dev/null
	scripts/fetch-project.sh lua5.4 >/dev/null
	scripts/fetch-project.sh hello >/dev/null
	scripts/fetch-project.sh libtomcrypt >/dev/null
	scripts/fetch-project.sh yaml-cpp >/dev/null

# Every test: unit, fuzz seeds, and integration with real gcc, clang, clang-cl
# and zlib from Debian's sources. DCC_REQUIRE_REAL makes a missing compiler or
# source tree a failure instead of a skip. The integration package takes
# 15-24 minutes on a 2-CPU machine; its timeout leaves room for a slower one.
test: deps build
	$(GO) vet ./...
	DCC_REQUIRE_REAL=1 $(GO) test -race -count=1 -timeout 40m ./...

test-short: build
	$(GO) test -short ./...

# Benchmarks with ratios against plain gcc and ccache, from interleaved runs.
# -p 1: no test binary is built while another package's benchmarks measure.
bench: deps build
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 40x -count 1 ./integration/ ./protocol/

# Run every fuzz target briefly (FUZZTIME each): the decoders of untrusted
# bytes (response files, cache values, daemon messages, frames, dependency
# files), the include scanner and the classifier. FUZZPKGS is every package
# with a Fuzz function. An input that fails is kept in the package's
# testdata/fuzz, where it becomes a seed that go test runs every time.
FUZZTIME ?= 30s
FUZZPKGS ?= $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Fuzz' .)))
fuzz:
	for p in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$p || exit 1; done; done

# Every fuzz target for FUZZTIME_LONG each (10 minutes: 13 targets, 2h10).
FUZZTIME_LONG ?= 10m
fuzz-long:
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME_LONG)

# Several clients build zlib through several hosts on loopback addresses for
# SOAK_TIME, with hosts stopped, killed and restarted and daemons killed at
# random; it prints builds, units, wrong objects, failed builds and each
# host's RSS, fds and goroutines. A 30 s version runs in make test.
# DCC_SOAK_SEED=N replays a run's sequence of faults.
SOAK_TIME ?= 20m
SOAK_TIMEOUT ?= 3h
soak: deps build
	DCC_REQUIRE_REAL=1 DCC_SOAK_TIME=$(SOAK_TIME) $(GO) test -count=1 -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$' -v ./integration/

# The Debian packages dcc and dcc-server in .work/deb, reproducibly (the same
# tree gives the same bytes; see docs/packages.md). DEB_VERSION sets the version.
deb:
	GO=$(GO) scripts/build-deb.sh

demo:
	scripts/demo.sh

clean:
	rm -rf bin .work/demo

# docs/configuration.md and the man pages docs/man/dcc.1 and dcc-server.1,
# generated from the tables dcc and dcc-server use (a test fails when stale).
docs:
	$(GO) run ./scripts/gendocs

# The farm simulator (docs/scale.md): real dcc-server hosts and dcc clients
# (and distccd and distcc beside them) on 127.0.10.x with a stand-in
# compiler that sleeps for libtomcrypt's recorded unit times. scale: 1, 10,
# 50 and 200 hosts x 1, 4 and 16 clients; scale-quick: 1 and 50 hosts x 1
# and 4 clients (under 10 minutes). The table is printed, the JSON is in
# .work/scale/. SCALE_FLAGS adds flags (dcc-scale run -h).
.PHONY: scale scale-quick
scale: build
	$(GO) run ./scale/cmd/dcc-scale run -json .work/scale/report.json $(SCALE_FLAGS)
scale-quick: build
	$(GO) run ./scale/cmd/dcc-scale run -quick -json .work/scale/report-quick.json $(SCALE_FLAGS)
