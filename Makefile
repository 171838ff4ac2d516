# SPDX-License-Identifier: MIT
#
# ftramp: arm64 ftrace-direct trampolines for userspace.
#
# kbuild-style: quiet by default (`make V=1` shows commands), out-of-tree
# builds with `make O=dir`, CROSS_COMPILE selects the target toolchain.
# `make help` lists the targets.

VERSION		:= 0.1.0

# ---------------------------------------------------------------------------
# Verbosity and output directory

ifeq ("$(origin V)", "command line")
  BUILD_VERBOSE := $(V)
endif
ifneq ($(BUILD_VERBOSE),1)
  Q := @
  quiet = @printf '  %-8s %s\n' '$(1)' '$(patsubst $(O)/%,%,$(2))';
else
  Q :=
  quiet =
endif
MAKEFLAGS += --no-print-directory

srctree := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
O ?= $(srctree)/build
override O := $(abspath $(O))
VPATH := $(srctree)

# ---------------------------------------------------------------------------
# Toolchains.  The runtime is always arm64; the CLI and the pure-layer
# host tests are built for the machine we run on.

HOST_ARCH := $(shell uname -m)
ifeq ($(HOST_ARCH),aarch64)
  CROSS_COMPILE ?=
  QEMU_RUN :=
else
  CROSS_COMPILE ?= aarch64-linux-gnu-
  QEMU ?= qemu-aarch64
  SYSROOT ?= /usr/aarch64-linux-gnu
  # Debian's arm64 multiarch libc (pulled in by libelf-dev:arm64) is newer
  # than the cross sysroot's ld.so; mixing the two hangs fork() in the child
  # (rtld_global layouts differ).  Make the sysroot's libc win the search.
  # -cpu max: BTI enforced on PROT_BTI pages, PAC, LSE (DESIGN.md section 7).
  QEMU_RUN := $(QEMU) -cpu max -L $(SYSROOT) -E LD_LIBRARY_PATH=$(SYSROOT)/lib
endif

CC	:= $(CROSS_COMPILE)gcc
AS	:= $(CROSS_COMPILE)as
LD	:= $(CROSS_COMPILE)ld
AR	:= $(CROSS_COMPILE)ar
OBJCOPY	:= $(CROSS_COMPILE)objcopy
READELF	:= $(CROSS_COMPILE)readelf
OBJDUMP	:= $(CROSS_COMPILE)objdump
HOSTCC	?= gcc
CLANG	?= clang
CLANG_TARGET := --target=aarch64-linux-gnu -fuse-ld=lld

WARN	:= -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	   -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wvla
CPPFLAGS := -I$(srctree)/include -I$(srctree) -D_GNU_SOURCE \
	    -DFTRAMP_VERSION='"$(VERSION)"'
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 $(WARN) -fno-strict-aliasing
LIB_CFLAGS := -fPIC -fvisibility=hidden
# Lock-order checking (lib/lockdep.h), for the library's C files: on with
# `make DEBUG_LOCKS=1`; make check also runs some tests against a checked
# copy of the library (selftests/lockdep.mk).
LOCKDEP_CFLAGS := -DFTRAMP_DEBUG_LOCKS -include $(srctree)/lib/lockdep.h
LIB_DEBUG_CFLAGS := $(if $(filter 1,$(DEBUG_LOCKS)),$(LOCKDEP_CFLAGS))
# Programs that ftramp may trace are built like this (DESIGN.md section 1).
PATCHABLE := -fpatchable-function-entry=4,2 -falign-functions=8
LIBS	:= -lelf -ldw -lz -lpthread -ldl -lm
# A program that links libftramp.a exports the library's
# _Unwind_Find_FDE, so that libgcc_s calls it (unwinding through a
# return hook: Documentation/trampoline.rst); libftramp.so exports it
# itself.
STATIC_LDFLAGS := -Wl,-u,_Unwind_Find_FDE \
		  -Wl,--export-dynamic-symbol=_Unwind_Find_FDE

SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
HOST_CFLAGS := -O1 -g -std=gnu11 $(WARN) -fno-strict-aliasing $(SANITIZE)

# ---------------------------------------------------------------------------
# Sources

LIB_DIRS  := lib arch/arm64 trampoline ftrace bpf
LIB_SRCS  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(srctree)/$(d)/*.c \
					$(srctree)/$(d)/*.S)))
LIB_SRCS  := $(patsubst $(srctree)/%,%,$(LIB_SRCS))
LIB_OBJS  := $(patsubst %,$(O)/%.o,$(basename $(LIB_SRCS)))

# Pure layers: no system calls, built for the host as well (ASan+UBSan).
# Area fragments (below) append to PURE_SRCS, HOST_TESTS, CHECK_SCRIPTS,
# CHECK_EXTRA and ALL_TARGETS; the derived lists are computed after them.
PURE_SRCS := arch/arm64/insn.c

# Tests: selftests/<area>_test.c -> arm64 binary; areas in HOST_TESTS are
# also built for the host.  TEST_CFLAGS_<area>, TEST_OBJS_<area> and
# TEST_LIBS_<area> customise one test binary.
TEST_SRCS := $(patsubst $(srctree)/%,%,$(sort $(wildcard $(srctree)/selftests/*_test.c)))
TEST_BINS := $(patsubst %.c,$(O)/%,$(TEST_SRCS))
HOST_TESTS := harness insn
CHECK_SCRIPTS :=
CHECK_EXTRA :=
CHECK_ARM64_EXTRA :=
# libFuzzer binaries (host, clang): `make fuzz` runs each for FUZZ_SECONDS;
# `make check` runs each briefly (FUZZ_SMOKE_SECONDS).
FUZZERS :=
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
# Fuzzers that also take -ftramp_seeds=N: check runs seeds 1..FUZZ_SEEDS,
# a fixed count (no libFuzzer engine, the same programs every time).
FUZZ_SEEDED :=
FUZZ_SEEDS ?= 4000
FUZZ_CFLAGS := -O1 -g -std=gnu11 -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=all $(CPPFLAGS)
ALL_TARGETS   := $(O)/libftramp.a $(O)/libftramp.so

.PHONY: all
all: deps-check build-all

# kbuild's FORCE: a rule that always runs, for files rewritten only when
# their content changes.
.PHONY: FORCE
FORCE:

# Area fragments add programs, tests and targets.
# sites.mk comes first: it builds the shared sample programs and libraries
# (selftests/progs/, PROGS_DIR) that other areas link against.
include $(srctree)/selftests/sites.mk
include $(filter-out $(srctree)/selftests/sites.mk,$(sort $(wildcard $(srctree)/selftests/*.mk)))
include $(srctree)/tools/ftramp/ftramp.mk
include $(srctree)/samples/samples.mk
include $(srctree)/bench/bench.mk

PURE_SRCS := $(sort $(PURE_SRCS))
PURE_OBJS := $(patsubst %.c,$(O)/host/%.o,$(PURE_SRCS))
CHECK_ARM64   := $(TEST_BINS) $(CHECK_ARM64_EXTRA)
CHECK_HOST    := $(patsubst %,$(O)/selftests/%_test.host,$(sort $(HOST_TESTS)))

.PHONY: build-all
build-all: $(ALL_TARGETS) selftests $(FUZZERS)

.PHONY: fuzz
fuzz: deps-ok $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do \
		echo "  FUZZ     $$f ($(FUZZ_SECONDS)s)"; \
		mkdir -p $$f.corpus; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$f.corpus; \
	done

# ---------------------------------------------------------------------------
# Dependencies: install what is missing (root on Debian 12), else say what.

.PHONY: deps deps-ok deps-check
deps:
	$(Q)$(srctree)/scripts/install-deps.sh
# check, demo, fuzz and bench install what is missing; a plain build only
# says what is missing and stops (it never installs packages).
deps-ok:
	$(Q)$(srctree)/scripts/install-deps.sh --check >/dev/null 2>&1 || \
		$(srctree)/scripts/install-deps.sh
deps-check:
	$(Q)$(srctree)/scripts/install-deps.sh --check >/dev/null 2>&1 || { \
		$(srctree)/scripts/install-deps.sh --check >&2; \
		echo "ftramp: run 'make deps' (as root) first" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Library

$(O)/%.o: %.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(CFLAGS) $(LIB_CFLAGS) $(LIB_DEBUG_CFLAGS) \
		-MMD -MP -c -o $@ $<

$(O)/%.o: %.S
	$(call quiet,AS,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(LIB_CFLAGS) -MMD -MP -c -o $@ $<

# The objects as built: what the selftests, the agent and the benchmarks
# link (they call internal functions by name).
$(O)/libftramp-internal.a: $(LIB_OBJS)
	$(call quiet,AR,$@)rm -f $@ && $(AR) rcs $@ $^

# The installed static library: the same objects with every internal
# global (hidden in libftramp.so) renamed __ftramp_<name>, so that none
# collides with a program's own (scripts/static-syms.sh).
$(O)/libftramp.a: $(O)/libftramp-internal.a scripts/static-syms.sh
	$(call quiet,OBJCOPY,$@)READELF=$(READELF) \
		$(srctree)/scripts/static-syms.sh map $< >$@.syms && \
		$(OBJCOPY) --redefine-syms=$@.syms $< $@.tmp && \
		$(AR) s $@.tmp && mv -f $@.tmp $@

$(O)/libftramp.so: $(LIB_OBJS) ftramp.map
	$(call quiet,LD,$@)$(CC) -shared -Wl,--version-script=$(srctree)/ftramp.map \
		-Wl,-soname,libftramp.so.0 -Wl,-z,now -o $@ $(LIB_OBJS) $(LIBS)

# Host builds of the pure layers.
$(O)/host/%.o: %.c
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/host/libftramp-pure.a: $(PURE_OBJS)
	$(call quiet,AR,$@)mkdir -p $(dir $@) && rm -f $@ && ar rcs $@ $^

# ---------------------------------------------------------------------------
# Selftests

.PHONY: selftests
selftests: $(CHECK_ARM64) $(CHECK_HOST) $(CHECK_EXTRA)

$(O)/selftests/%_test: selftests/%_test.c selftests/harness.h $(O)/libftramp-internal.a
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(CFLAGS) $(TEST_CFLAGS_$*) -o $@ $< \
		$(TEST_OBJS_$*) $(O)/libftramp-internal.a $(STATIC_LDFLAGS) $(LIBS) \
		$(TEST_LIBS_$*)

$(O)/selftests/%_test.host: selftests/%_test.c selftests/harness.h $(O)/host/libftramp-pure.a
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) $(HOST_CFLAGS) -DFTRAMP_HOST_TEST -o $@ $< \
		$(O)/host/libftramp-pure.a

.PHONY: check
check: deps-ok
	$(Q)$(MAKE) -f $(srctree)/Makefile O=$(O) all
	$(Q)O=$(O) CC="$(CC)" READELF="$(READELF)" QEMU_RUN="$(QEMU_RUN)" OBJDUMP="$(OBJDUMP)" AS="$(AS)" FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_SEEDS=$(FUZZ_SEEDS) \
		$(srctree)/scripts/run-selftests.sh \
		$(addprefix arm64:,$(CHECK_ARM64)) \
		$(addprefix host:,$(CHECK_HOST)) \
		$(addprefix script:,$(CHECK_SCRIPTS)) \
		$(addprefix fuzz:,$(FUZZERS)) \
		$(addprefix seeds:,$(FUZZ_SEEDED))

# ---------------------------------------------------------------------------
# Install

PREFIX	?= /usr/local
DESTDIR	?=
LIBDIR	?= $(PREFIX)/lib

# ftramp.pc is written by the install itself, with this install's PREFIX
# and LIBDIR: packagers build once, then install with another prefix.
.PHONY: install
install: $(ALL_TARGETS)
	$(Q)install -d $(DESTDIR)$(PREFIX)/include/ftramp $(DESTDIR)$(LIBDIR)/pkgconfig
	$(Q)install -m 644 $(srctree)/include/ftramp/ftramp.h $(DESTDIR)$(PREFIX)/include/ftramp/
	$(Q)install -m 644 $(O)/libftramp.a $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 755 $(O)/libftramp.so $(DESTDIR)$(LIBDIR)/libftramp.so.$(VERSION)
	$(Q)ln -sf libftramp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libftramp.so.0
	$(Q)ln -sf libftramp.so.0 $(DESTDIR)$(LIBDIR)/libftramp.so
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' $(srctree)/scripts/ftramp.pc.in \
		>$(DESTDIR)$(LIBDIR)/pkgconfig/ftramp.pc
	$(Q)$(if $(INSTALL_EXTRA),$(INSTALL_EXTRA))

.PHONY: clean
clean:
	$(Q)rm -rf $(O)

.PHONY: help
help:
	@echo 'ftramp $(VERSION): arm64 ftrace-direct trampolines for userspace'
	@echo
	@echo 'Targets:'
	@echo '  all        - library (libftramp.a/.so), CLI, selftests (default);'
	@echo '               says which packages are missing, never installs them'
	@echo '  check      - build and run every selftest (KTAP), summary line last'
	@echo '  selftests  - build the selftests without running them'
	@echo '  cli        - the ftramp command (built for this machine)'
	@echo '  agent      - libftramp-agent.so, what `ftramp run` preloads (arm64)'
	@echo '  samples    - the sample kvstore program (gcc and clang builds)'
	@echo '  sample-progs - the traced test programs and libraries (selftests/progs)'
	@echo '  demo       - build the sample program and trace it with ftramp'
	@echo '  demo-build - build what the demo runs, without running it'
	@echo '  bench      - instruction-count benchmarks against LLVM XRay'
	@echo '  bench-calib  - the steps of bench, one at a time: the'
	@echo '  bench-xray     calibration, the XRay cases, the ftramp cases,'
	@echo '  bench-ftramp   the agent'"'"'s start-up, BPF instruction'
	@echo '  bench-startup  patching, the verifier and the table of the'
	@echo '  bench-patch    results (bench/results)'
	@echo '  bench-verify'
	@echo '  bench-table'
	@echo '  fuzz       - run the decoder/parser fuzzers for FUZZ_SECONDS each'
	@echo '  docs       - check Documentation/*.rst and render HTML (docutils)'
	@echo '  install    - headers, libraries and ftramp.pc into DESTDIR/PREFIX'
	@echo '  deps       - install the Debian packages ftramp needs (root)'
	@echo '  clean      - remove the build directory'
	@echo '  help       - this text'
	@echo
	@echo 'Variables:'
	@echo '  V=1              show full commands'
	@echo '  O=dir            build out of tree (default: ./build)'
	@echo '  CROSS_COMPILE=   target toolchain prefix (default aarch64-linux-gnu- on x86)'
	@echo '  QEMU=, SYSROOT=  how arm64 programs are run on a non-arm64 host'
	@echo '  PREFIX=, DESTDIR= install locations (LIBDIR= default PREFIX/lib)'
	@echo '  FUZZ_SECONDS=    how long `make fuzz` runs each fuzzer (default 60)'
	@echo '  FUZZ_SEEDS=      fixed seeds `make check` gives fuzz_verifier (default 4000)'
	@echo '  DEBUG_LOCKS=1    check the lock order at run time (lib/lockdep.h)'

-include $(LIB_OBJS:.o=.d) $(PURE_OBJS:.o=.d)
