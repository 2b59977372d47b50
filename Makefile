# The two commands: `make run` and `make test`. Everything else is a convenience.
PRESET ?= release
BUILD_DIR := build
JOBS ?= $(shell nproc)
DATA_DIR ?= ./var/dev

.PHONY: deps build run test sanitize tsan bench package debian-root fuzz tidy format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	./$(BUILD_DIR)/vendo serve --dev --data-dir $(DATA_DIR)

# Every test, then every test again under AddressSanitizer + UBSan.
test: build debian-root
	ctest --preset $(PRESET) -j $(JOBS)
	$(MAKE) --no-print-directory sanitize

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
	python3 bench/v2_bench.py --vendo ./$(BUILD_DIR)/vendo
	python3 bench/federate_bench.py --vendo ./$(BUILD_DIR)/vendo

# A Debian package of vendo (binary, systemd unit, default config, policies): build/*.deb
package: build
	cd $(BUILD_DIR) && cpack -G DEB

# The Debian 12 root (and its local apt repository) that the deployed-host test replays a
# host's user data on; made once under the build folder, again when the package's
# dependencies change (scripts/debian-root.sh).
debian-root: package
	@bash scripts/debian-root.sh $(BUILD_DIR)/debian-root $(BUILD_DIR)/vendo_0.1.0_amd64.deb

# clang-tidy 16 with .clang-tidy's checks over every source, or over FILES="a.cc b.cc";
# fails on any warning in vendo's files. About 10 minutes for the whole tree on 2 cores.
tidy: build
	@bash scripts/install-deps.sh --tidy
	@bash scripts/tidy.sh $(BUILD_DIR) $(FILES)

# libFuzzer (clang 16) on each fuzz target for FUZZ_SECONDS, from its seed corpus
# (tests/fuzz/corpus). New inputs go to build-fuzz/corpus; a crash stops with its input.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := legacy_query timestamp sts_xml policy_template v2_request
fuzz:
	@bash scripts/install-deps.sh --fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s" && \
	  (cd build-fuzz && ./tests/fuzz/fuzz_$$t corpus/$$t ../tests/fuzz/corpus/$$t \
	     -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 | \
	     grep -E '^Done|ERROR|SUMMARY|stat::new_units_added') || exit 1; \
	  ls build-fuzz/crash-* >/dev/null 2>&1 && { echo "crash: see build-fuzz/crash-*"; exit 1; }; \
	done; true

format:
	find src include tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-*
