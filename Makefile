# The two commands the README starts with: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps test-deps build release demo test lint bench-mount clean

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
	$(SWIFT) build $(RELEASE)

demo: release
	./examples/demo.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/sqbackup"

test: test-deps
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) ./scripts/run-tests.sh

lint:
	$(SWIFT) format lint -r Package.swift Sources Tests

bench-mount: release
	./bench/mount.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/sqbackup"

clean:
	rm -rf .build
