# The two commands the README starts with: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps test-deps build release demo test lint bench bench-mount clean

deps:
	./scripts/install-deps.sh

test-deps:
	./scripts/install-deps.sh --test

build: deps
	$(SWIFT) build

# The Swift runtime and Foundation linked in: each start of the binary (and a mount starts two,
# the command and its daemon) takes ~13 ms instead of ~20 ms of dynamic loading and set-up.
# lld (shipped with the toolchain) because GNU ld warns about a mktemp inside static Foundation.
RELEASE = -c release --static-swift-stdlib -Xswiftc -use-ld=lld

release: deps
	$(SWIFT) build $(RELEASE) --product sqbackup

demo: release
	./examples/demo.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/sqbackup"

test: test-deps
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) ./scripts/run-tests.sh

lint:
	$(SWIFT) format lint -r Package.swift Sources Tests

# Every benchmark, each side by side with its baseline, on one release build (root: FUSE and
# drop_caches). Takes about 40 minutes; each script can also be run alone (see docs/benchmarks.md).
BIN = $$($(SWIFT) build $(RELEASE) --show-bin-path)/sqbackup
bench: release
	SQBACKUP_BIN="$(BIN)" ./bench/create.sh
	SQBACKUP_BIN="$(BIN)" ./bench/create_upload.sh
	./bench/mount.sh "$(BIN)" 3
	./bench/lazy_mount.sh "$(BIN)" 5
	./bench/lazy_mount.sh "$(BIN)" 5 --only b --link-mbit 2500
	SQBACKUP_BIN="$(BIN)" ./bench/restore.sh

bench-mount: release
	./bench/mount.sh "$(BIN)"

clean:
	rm -rf .build
