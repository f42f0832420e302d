# fokker — make demo | make test | make bench | make build
#
# Every target installs what is missing first (Debian packages through
# apt-get, as root or with sudo). Go itself is expected at /usr/local/go or on
# PATH.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export CGO_ENABLED := 1

BIN      := bin/fokker
GO       ?= go
# Debian packages the build and the tests need.
DEB_PKGS := libhdf5-dev pkg-config python3-h5py python3-xarray python3-h5netcdf python3-scipy python3-numpy
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build demo test test-short fuzz bench sgd-reference clean

all: build

# deps installs the missing Debian packages (once; a stamp records success).
deps: .deps.stamp
.deps.stamp:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go is not installed (expected /usr/local/go/bin/go)"; exit 1; }
	@touch $@

build: deps
	$(GO) build -o $(BIN) ./cmd/fokker

# demo runs the flagship 2D example end to end: spec -> demo.h5 -> demo.png.
demo: build
	@mkdir -p demo
	$(BIN) examples demo
	$(BIN) run demo/rotation2d.toml -o demo.h5
	$(BIN) plot demo.h5 -o demo.png
	$(BIN) inspect demo.h5
	@echo; echo "wrote demo.h5 and demo.png"

# test runs every test (the Python interop tests need the Debian packages
# above), vets the code, and gives each fuzz target a short run.
test: deps
	$(GO) vet ./...
	$(GO) test -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz

test-short: deps
	$(GO) test -short ./...

# fuzz gives each fuzz target a budget of executions, about 10 s on a
# 2-core runner (FUZZ_<target>, default FUZZEXECS). A count, not a duration:
# a duration budget (-fuzztime 10s) can fail with a spurious "context
# deadline exceeded" when it expires while a worker is busy (Go's fuzzing
# coordinator, go.dev/issue/75804, fixed in Go 1.27). Longer runs:
# make fuzz FUZZEXECS=1000000x FUZZ_FuzzOpen=50000x
FUZZEXECS ?= 40000x
export FUZZ_FuzzCompile ?= 200000x
export FUZZ_FuzzOpen ?= 3000x
fuzz: deps
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    eval "n=\$${FUZZ_$$fz:-$(FUZZEXECS)}"; \
	    echo "fuzz $$pkg $$fz ($$n)"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $$n $$pkg; \
	  done; \
	done

bench: build
	$(BIN) bench

# sgd-reference reproduces the small-eta agreement of the 2D SGD examples
# with real SGD on grids fine enough for it (examples/reference/README.md;
# about 15 minutes on 2 cores): each `fokker sgd` must pass its check, and
# productsde prints the grid-free ensembles' distances beside each run.
REF_OUT := reference-out
sgd-reference: build
	@mkdir -p $(REF_OUT)
	@set -e; for s in examples/reference/*.toml; do \
	  b=$$(basename $$s .toml); \
	  echo "== $$s"; \
	  $(BIN) sgd $$s -o $(REF_OUT)/$$b.h5; \
	  $(GO) run ./examples/reference/productsde -spec $$s -fp $(REF_OUT)/$$b.h5; \
	done

clean:
	rm -rf bin demo demo.h5 demo.png .deps.stamp reference-out
