# Strom: the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is a convenience around CMake presets (see CMakePresets.json).

SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
CMAKE_CONFIGURE = cmake --preset $(1) -DSTROM_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null

# ccache hits across clones in different folders (CI uses a fresh clone every run).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
export CCACHE_MAXSIZE ?= 5G

.PHONY: all deps build run test test-unit test-fuzz bench bench-peer clean format help

all: build

help:
	@echo "make run    install what is missing, build (release) and start Strom"
	@echo "make test   install what is missing, build, run every test suite"
	@echo "make bench  build (release) and run the micro-benchmarks"
	@echo "make bench-peer  Strom vs the released Apache Fluss 0.9.1 server, side by side (ARGS=...)"

deps:
	@bash scripts/install-deps.sh

build: deps
	@$(call CMAKE_CONFIGURE,release)
	@cmake --build build/release -j$(JOBS)

run: build
	@bash scripts/run.sh

# Unit, integration and interop suites under ASan+UBSan, then every fuzz target for a
# bounded time under libFuzzer + ASan (clang).
test: deps
	@$(call CMAKE_CONFIGURE,asan)
	@cmake --build build/asan -j$(JOBS)
	@ctest --preset asan -L 'unit|integration|interop|bench'
	@$(MAKE) --no-print-directory test-fuzz

test-unit: deps
	@$(call CMAKE_CONFIGURE,asan)
	@cmake --build build/asan -j$(JOBS)
	@ctest --preset asan -L unit

test-fuzz: deps
	@$(call CMAKE_CONFIGURE,fuzz)
	@cmake --build build/fuzz -j$(JOBS) --target fuzz_all
	@ctest --preset fuzz -L fuzz

bench: build
	@bash scripts/bench.sh

# Side by side with the released Apache Fluss 0.9.1 server (bench/peer/README.md); writes
# bench/RESULTS.md (its section) and bench/results.png. ARGS passes options to bench/peer/run.py.
bench-peer: deps
	@BENCH_PEER_COMMAND="make bench-peer$(if $(ARGS), ARGS='$(ARGS)')" bash scripts/bench-peer.sh $(ARGS)

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format-14 -i

clean:
	rm -rf build
