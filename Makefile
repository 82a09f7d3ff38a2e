# castellan — the commands people and CI use. Everything else lives in CMake.
#   make deps   install what is missing (Debian packages, pinned npm packages)
#   make build  Release build; the binary is build/castellan
#   make test   deps + build + every ctest suite (unit, sanitizers, fuzz smoke)
#   make run    deps + build + init ./castellan-data when absent + serve
#   make bench  benchmarks → bench/results/latest.md, latest.png;  make soak  bounded soak → soak.md
#   make test-asan-integration / make test-tsan   the integration tests (real peers) against an
#               ASan+UBSan / a ThreadSanitizer build of castellan (not part of `make test`)
SHELL := /bin/bash
DATA_DIR ?= ./castellan-data
CTEST_ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: deps build build-asan build-fuzz build-tsan test test-fast test-asan test-asan-integration test-tsan test-fuzz run bench soak clean

deps:
	@tools/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

# What the integration tests run: the binary, the broker plugin, the console, the example they
# call, and the gtest programs labelled interop / postgres.
INTEGRATION_TARGETS := castellan castellan_mosquitto castellan_console token_verifier_example \
  castellan_ua_security_interop_test castellan_validator_interop_tests castellan_pg_store_tests

build-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS) --target $(INTEGRATION_TARGETS)

# The fast subset while working: unit tests of the Release build.
test-fast: build
	@ctest --preset release -L unit $(CTEST_ARGS)

test-asan: build-asan
	@ctest --preset asan -L unit $(CTEST_ARGS)

# Integration tests under the sanitizers; a report from any castellan process fails the run
# (tests/sanitizers/run_integration.sh).
test-asan-integration: build-asan
	@tests/sanitizers/run_integration.sh build-asan asan $(CTEST_ARGS)

test-tsan: build-tsan
	@tests/sanitizers/run_integration.sh build-tsan tsan $(CTEST_ARGS)

test-fuzz: build-fuzz
	@ctest --preset fuzz -L fuzz $(CTEST_ARGS)

# Everything: Release suites, then unit tests under ASan+UBSan, then bounded fuzz runs.
test: build
	@ctest --preset release $(CTEST_ARGS)
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-fuzz

run: build
	@if [ ! -f "$(DATA_DIR)/castellan.db" ]; then build/castellan init --data-dir "$(DATA_DIR)"; fi
	@build/castellan serve --data-dir "$(DATA_DIR)"

# Benchmarks side by side with node-opcua, the OpenSSL floor and PostgreSQL (~20 min; BENCH_QUICK=1
# for a smoke run): bench/results/latest.md and latest.png. Not part of `make test`.
bench: build
	@build/bench/castellan_bench_trust
	@bench/run_bench.sh

# Bounded churn of OPC UA sessions and MQTT connections (SOAK_SECONDS, default 600); fails when
# castellan's memory or file descriptors grow or it dies: bench/results/soak.md. Not in CI.
soak: build
	@bench/run_soak.sh

clean:
	rm -rf build build-asan build-fuzz build-tsan
