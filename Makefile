# pagefl: `make demo` runs the default experiment, `make test` runs every test.
# Both install the dependencies first (scripts/setup.sh is idempotent) and build with CMake.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all setup build demo dashboard test bench fuzz soak clean

all: build

setup:
	./scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

# PAGE's server scores each upload on 500 of the 2,000 server test images for its agent's state (the
# global model is scored on all): scoring on all of them made the demo take 11 minutes on a slower
# 2-core machine (bench/RESULTS.md).
demo: build
	$(BUILD_DIR)/pagefl sweep --config configs/pilot-fmnist.toml --balance 0,0.5,1 --baselines fedavg,ditto,fedper --seeds 1 \
	  page.server_score_samples=500

# The operator dashboard on http://127.0.0.1:8050 (Ctrl-C stops it).
dashboard: build
	$(BUILD_DIR)/pagefl dashboard

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

bench: build
	./bench/run.sh $(BUILD_DIR)

# The long chaotic deployment (tests/soak_test.cpp): 16 sites, 100 rounds; `make test` runs a short one.
soak: build
	cd $(BUILD_DIR) && PAGEFL_SOAK=full ./tests/pagefl_tests --gtest_filter='Soak.*'

# libFuzzer harnesses of every reader of untrusted bytes (fuzz/), built with Debian's clang; each
# runs FUZZ_SECONDS from the seed corpus in fuzz/corpus and stops at the first finding.
fuzz: setup
	cmake -S fuzz -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_DIR) -j$(JOBS)
	./fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
