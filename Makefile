# The two commands: `make run` and `make test`. Everything else is a convenience.
PRESET ?= release
BUILD_DIR := build
JOBS ?= $(shell nproc)
DATA_DIR ?= ./var/dev

.PHONY: deps build run test bench format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	./$(BUILD_DIR)/vendo serve --dev --data-dir $(DATA_DIR)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

bench:
	@bash scripts/install-deps.sh --bench
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)
	python3 bench/run_bench.py --vendo ./$(BUILD_DIR)/vendo

format:
	find src include tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-*
