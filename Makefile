# The two commands: `make run` and `make test`. Everything else is a convenience.
PRESET ?= release
BUILD_DIR := build
JOBS ?= $(shell nproc)
DATA_DIR ?= ./var/dev

.PHONY: deps build run test sanitize tsan bench package format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	./$(BUILD_DIR)/vendo serve --dev --data-dir $(DATA_DIR)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

# Every test again under AddressSanitizer + UBSan (findings are fatal). CI runs this too.
sanitize: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# Every test under ThreadSanitizer.
tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1" ctest -j $(JOBS) --output-on-failure

bench:
	@bash scripts/install-deps.sh --bench
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)
	python3 bench/run_bench.py --vendo ./$(BUILD_DIR)/vendo
	python3 bench/sts_bench.py --vendo ./$(BUILD_DIR)/vendo
	python3 bench/store_bench.py --vendo ./$(BUILD_DIR)/vendo

# A Debian package of vendo (binary, systemd unit, default config, policies): build/*.deb
package: build
	cd $(BUILD_DIR) && cpack -G DEB

format:
	find src include tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-*
