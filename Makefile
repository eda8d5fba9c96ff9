# pagefl: `make demo` runs the default experiment, `make test` runs every test.
# Both install the dependencies first (scripts/setup.sh is idempotent) and build with CMake.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all setup build demo test bench clean

all: build

setup:
	./scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

demo: build
	$(BUILD_DIR)/pagefl sweep --config configs/pilot-fmnist.toml --balance 0,0.5,1 --baselines fedavg,ditto,fedper --seeds 1

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

bench: build
	./bench/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
