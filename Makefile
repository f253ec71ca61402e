# git-merge-crdtmem: a git merge driver that merges AI-assistant memory files
# as a CRDT. "make" builds build/git-merge-crdtmem; "make help" lists targets.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/git-merge-crdtmem
HOOKSDIR ?= $(DATADIR)/git-merge-crdtmem/hooks
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config

BUILD := build
PROG := $(BUILD)/git-merge-crdtmem

WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
CJSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
CJSON_LIBS = $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
CRITERION_CFLAGS = $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
CRITERION_LIBS = $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null || echo -lcriterion)

# Fixed flags come first; the user's CFLAGS and CPPFLAGS are added, not replaced.
ALL_CFLAGS = -std=c17 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -I$(BUILD)/gen \
	$(CJSON_CFLAGS) $(CPPFLAGS) $(CFLAGS)

SRCS := $(wildcard driver/*.c)
HDRS := $(wildcard driver/*.h)
OBJS := $(patsubst driver/%.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_HDRS := $(wildcard tests/unit/*.h)
# The hook scripts; the binary carries them as $(BUILD)/gen/hooks.h.
HOOKS := hooks/pre-commit hooks/post-commit hooks/post-merge hooks/post-rewrite
GEN_HDRS := $(BUILD)/gen/hooks.h

.PHONY: all test unit-test integration-test install uninstall clean asan valgrind \
	bench demo format lint deps help stress fuzz fuzz-build fuzz-harnesses fuzz-smoke

all: $(PROG)

help:
	@echo "make            build $(PROG)"
	@echo "make test       unit, property and integration tests (installs missing test packages when it can)"
	@echo "make demo       two clones back up memory in parallel and merge without a conflict"
	@echo "make install    install the binary, hooks, man page and example to \$$(DESTDIR)\$$(PREFIX) (PREFIX=$(PREFIX))"
	@echo "make asan       the whole suite under AddressSanitizer and UBSan"
	@echo "make bench      speed and memory against reference tools (not part of test)"
	@echo "make stress     10 clones x 20 backups pushing at once (not part of test)"
	@echo "make fuzz       libFuzzer harnesses (clang) for FUZZ_SECONDS=$(FUZZ_SECONDS) each"
	@echo "make format     clang-format the C sources;  make lint: shellcheck and clang-format --dry-run"

$(BUILD)/obj/%.o: driver/%.c $(HDRS) $(GEN_HDRS) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj $(BUILD)/gen:
	mkdir -p $@

$(BUILD)/gen/hooks.h: $(HOOKS) install/hooks-to-c.awk | $(BUILD)/gen
	LC_ALL=C awk -f install/hooks-to-c.awk $(HOOKS) >$@.tmp
	mv $@.tmp $@

$(PROG): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(CJSON_LIBS) -pthread

$(BUILD)/unit-tests: $(UNIT_SRCS) $(UNIT_HDRS) $(LIB_OBJS) $(HDRS) $(GEN_HDRS)
	$(CC) $(ALL_CFLAGS) $(CRITERION_CFLAGS) -Wno-missing-prototypes -Idriver \
		$(LDFLAGS) -o $@ $(UNIT_SRCS) $(LIB_OBJS) $(CRITERION_LIBS) $(CJSON_LIBS) -pthread

deps:
	@sh install/deps.sh build test

test: deps
	@$(MAKE) --no-print-directory unit-test integration-test fuzz-smoke

unit-test: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 2

integration-test: $(PROG)
	CRDTMEM_BIN="$(CURDIR)/$(PROG)" sh tests/run-integration.sh

demo:
	@sh install/deps.sh build test
	@$(MAKE) --no-print-directory $(PROG)
	@CRDTMEM_BIN="$(CURDIR)/$(PROG)" sh tests/demo.sh

bench: $(PROG)
	@CRDTMEM_BIN="$(CURDIR)/$(PROG)" sh tests/bench/run.sh

# The parallel-backup scenario at full size; prints retries and time taken.
STRESS_CLONES ?= 10
STRESS_BACKUPS ?= 20
stress: $(PROG)
	CRDTMEM_BIN="$(CURDIR)/$(PROG)" CRDTMEM_VERBOSE=1 \
	CRDTMEM_PARALLEL_CLONES=$(STRESS_CLONES) CRDTMEM_PARALLEL_BACKUPS=$(STRESS_BACKUPS) \
		sh tests/t1410-backup-parallel.sh
# Fuzzing (tests/fuzz): libFuzzer harnesses for the reader and the
# three-way merge, built with clang and the sanitizers in their own build
# folder, each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZERS := fuzz_read fuzz_merge

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(BUILD)/fuzz

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) \
		CFLAGS="-O1 -g $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link" fuzz-harnesses

fuzz-harnesses: $(patsubst %,$(BUILD)/%,$(FUZZERS))

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz-common.h $(LIB_OBJS) $(HDRS)
	$(CC) $(ALL_CFLAGS) -Wno-unused-function -Idriver -fsanitize=fuzzer \
		$(FUZZ_SANITIZE) -o $@ $< $(LIB_OBJS) $(CJSON_LIBS) -pthread

# A few seconds of each harness, as part of "make test", when clang can
# build a libFuzzer harness here (probed with a tiny one).
fuzz-smoke:
	@mkdir -p $(BUILD)
	@printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>$(BUILD)/fuzz-probe.c
	@if $(FUZZ_CC) -fsanitize=fuzzer,address -o $(BUILD)/fuzz-probe \
		$(BUILD)/fuzz-probe.c >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SMOKE_SECONDS:-5}; \
	else \
		echo "fuzz: skipped ($(FUZZ_CC) with libFuzzer is not available; apt-get install clang)"; \
	fi

# The whole suite again with sanitizers, in its own build folder.
asan: deps
	@ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" \
		unit-test integration-test

install: $(PROG)
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(HOOKSDIR)" \
		"$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(MANDIR)/man1"
	install -m 0755 $(PROG) "$(DESTDIR)$(BINDIR)/git-merge-crdtmem"
	install -m 0755 $(HOOKS) "$(DESTDIR)$(HOOKSDIR)"
	install -m 0644 gitattributes.example "$(DESTDIR)$(DOCDIR)"
	install -m 0644 install/git-merge-crdtmem.1 "$(DESTDIR)$(MANDIR)/man1"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/git-merge-crdtmem"
	rm -f $(patsubst hooks/%,"$(DESTDIR)$(HOOKSDIR)/%",$(HOOKS))
	rm -f "$(DESTDIR)$(DOCDIR)/gitattributes.example"
	rm -f "$(DESTDIR)$(MANDIR)/man1/git-merge-crdtmem.1"
	rmdir "$(DESTDIR)$(HOOKSDIR)" "$(DESTDIR)$(DATADIR)/git-merge-crdtmem" \
		"$(DESTDIR)$(DOCDIR)" 2>/dev/null || :

clean:
	rm -rf $(BUILD)

format:
	clang-format -i driver/*.c driver/*.h tests/unit/*.c tests/unit/*.h

lint:
	shellcheck -s sh install/*.sh tests/*.sh tests/bench/*.sh tests/fuzz/*.sh $(HOOKS)
	shellcheck .ci/run
	clang-format --dry-run --Werror driver/*.c driver/*.h tests/unit/*.c tests/unit/*.h

# The integration scenarios with the driver running under valgrind.
valgrind:
	@sh install/deps.sh build test valgrind
	@$(MAKE) --no-print-directory $(PROG)
	CRDTMEM_BIN="$(CURDIR)/$(PROG)" \
	CRDTMEM_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
		sh tests/run-integration.sh
