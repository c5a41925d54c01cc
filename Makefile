# dcc: build, test, benchmark. `make test` installs what it needs first.
GO ?= go
# Static binaries: dcc starts once per compile, and a dynamically linked
# binary (cgo through package net) costs it 0.6 ms more at every start.
BUILD_ENV ?= CGO_ENABLED=0
GOFLAGS_BUILD ?= -trimpath

.PHONY: build deps test test-short bench demo fuzz clean

build:
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o bin/dcc ./cmd/dcc
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o bin/dccd ./cmd/dccd
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o bin/dcc-server ./cmd/dcc-server

deps:
	scripts/install-deps.sh
	scripts/fetch-project.sh zlib >/dev/null
	scripts/fetch-project.sh lua5.4 >/dev/null
	scripts/fetch-project.sh hello >/dev/null

# Every test: unit, fuzz seeds, and integration with real gcc, clang, clang-cl
# and zlib from Debian's sources. DCC_REQUIRE_REAL makes a missing compiler or
# source tree a failure instead of a skip.
test: deps build
	$(GO) vet ./...
	DCC_REQUIRE_REAL=1 $(GO) test -race -count=1 -timeout 25m ./...

test-short: build
	$(GO) test -short ./...

# Benchmarks with ratios against plain gcc and ccache, from interleaved runs.
# -p 1: no test binary is built while another package's benchmarks measure.
bench: deps build
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 40x -count 1 ./integration/ ./protocol/

# Run every fuzz target briefly (FUZZTIME each): the decoders of untrusted
# bytes (response files, cache values, daemon messages) and the classifier.
FUZZTIME ?= 30s
FUZZPKGS ?= ./toolchain/ ./cache/badgerstore/ ./daemon/ ./compile/ ./protocol/
fuzz:
	for p in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$p || exit 1; done; done

demo:
	scripts/demo.sh

clean:
	rm -rf bin .work/demo
