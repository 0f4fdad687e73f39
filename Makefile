# The two commands the README starts with: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps test-deps build release demo test lint bench bench-mount clean install uninstall

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

# `make install`: the release binary, mount(8)'s helper, the systemd units, shell completions
# and man pages (generated from the argument parser). PREFIX and DESTDIR as usual; BIN=PATH
# installs that binary instead of building the release one, GENERATE_MANUAL=PATH uses that
# swift-argument-parser generate-manual tool instead of building it (the tests pass both).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# mount(8) runs /sbin/mount.fuse.sqbackup: it looks for helpers in /sbin (and /sbin/fs.d,
# /sbin/fs) only, never under PREFIX. See mount-helpers/README.md.
SBINDIR ?= /sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/sqbackup
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
UNITS = sqbackup-prune.service sqbackup-prune.timer sqbackup-mount@.service
UNIT_EXAMPLES = srv-snap.mount srv-snap.automount
# Installed files name the binary where it is installed (mount(8) runs helpers with no PATH).
AT_BINDIR = sed 's|/usr/local/bin/sqbackup|$(BINDIR)/sqbackup|g'

install: $(if $(filter command line,$(origin BIN)),,release)
	@set -e; bin="$(BIN)"; \
	manual="$(GENERATE_MANUAL)"; \
	if [ -z "$$manual" ]; then \
	  $(SWIFT) build $(RELEASE) --product generate-manual; \
	  manual="$$($(SWIFT) build $(RELEASE) --show-bin-path)/generate-manual"; \
	fi; \
	pages=$$(mktemp -d); trap 'rm -rf "$$pages"' EXIT; \
	"$$manual" "$$bin" --multi-page --output-directory "$$pages"; \
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(DOCDIR)/examples" \
	  "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)" "$(DESTDIR)$(FISHCOMPDIR)"; \
	install -m 755 "$$bin" "$(DESTDIR)$(BINDIR)/sqbackup"; \
	$(AT_BINDIR) mount-helpers/mount.fuse.sqbackup > "$(DESTDIR)$(SBINDIR)/mount.fuse.sqbackup"; \
	chmod 755 "$(DESTDIR)$(SBINDIR)/mount.fuse.sqbackup"; \
	for unit in $(UNITS); do \
	  $(AT_BINDIR) "mount-helpers/systemd/$$unit" > "$(DESTDIR)$(UNITDIR)/$$unit"; \
	  chmod 644 "$(DESTDIR)$(UNITDIR)/$$unit"; \
	done; \
	for unit in $(UNIT_EXAMPLES); do install -m 644 "mount-helpers/systemd/$$unit" "$(DESTDIR)$(DOCDIR)/examples/"; done; \
	install -m 644 "$$pages"/*.1 "$(DESTDIR)$(MANDIR)/man1/"; \
	"$$bin" --generate-completion-script bash > "$(DESTDIR)$(BASHCOMPDIR)/sqbackup"; \
	"$$bin" --generate-completion-script zsh > "$(DESTDIR)$(ZSHCOMPDIR)/_sqbackup"; \
	"$$bin" --generate-completion-script fish > "$(DESTDIR)$(FISHCOMPDIR)/sqbackup.fish"; \
	echo "installed sqbackup into $(DESTDIR)$(PREFIX) and mount.fuse.sqbackup into $(DESTDIR)$(SBINDIR)"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/sqbackup" "$(DESTDIR)$(SBINDIR)/mount.fuse.sqbackup"
	rm -f $(foreach unit,$(UNITS),"$(DESTDIR)$(UNITDIR)/$(unit)")
	rm -f "$(DESTDIR)$(MANDIR)/man1/sqbackup.1" "$(DESTDIR)$(MANDIR)"/man1/sqbackup.*.1
	rm -f "$(DESTDIR)$(BASHCOMPDIR)/sqbackup" "$(DESTDIR)$(ZSHCOMPDIR)/_sqbackup" "$(DESTDIR)$(FISHCOMPDIR)/sqbackup.fish"
	rm -rf "$(DESTDIR)$(DOCDIR)"
