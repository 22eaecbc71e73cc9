# For people: wraps CMake. `make` builds, `make test` runs every test,
# `make demo` runs the demo. Both first install missing Debian packages
# (scripts/deps.sh: apt-get as root, otherwise it prints the sudo line).
#
#   make test SANITIZE=1 WERROR=1   what CI runs (ASan + UBSan, warnings as errors)
#   make BUILD=build-rel            another build directory

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
ifeq ($(SANITIZE),1)
CMAKE_FLAGS += -DCRM_ASAN=ON -DCRM_UBSAN=ON
endif
ifeq ($(WERROR),1)
CMAKE_FLAGS += -DCRM_WERROR=ON
endif

.PHONY: all build deps test demo bench clean

all: build

build:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/deps.sh

test: deps
	$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: deps
	$(MAKE) --no-print-directory build
	@bash scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
