# The two commands the README starts with: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps test-deps build release demo test lint bench-mount clean

deps:
	./scripts/install-deps.sh

test-deps:
	./scripts/install-deps.sh --test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: release
	./examples/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/sqbackup"

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

lint:
	$(SWIFT) format lint -r Sources Tests

bench-mount: release
	./bench/mount.sh "$$($(SWIFT) build -c release --show-bin-path)/sqbackup"

clean:
	rm -rf .build
