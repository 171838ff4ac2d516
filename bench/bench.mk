# SPDX-License-Identifier: MIT
#
# make bench: guest-instruction benchmarks (Documentation/bench.rst).
#
# Everything runs under qemu-aarch64 with bench/insn_count.so, a TCG plugin
# built here for the host, which counts the instructions between the marks
# of bench/mark.h.  Counts are exact, so the numbers are reproducible.

BENCH_DIR	:= $(O)/bench
# setarch -R: no address randomisation, so that code which depends on
# addresses (near-memory search in /proc/self/maps) repeats exactly too.
BENCH_SETARCH	:= $(if $(shell command -v setarch),setarch -R)
BENCH_QEMU	?= $(BENCH_SETARCH) $(if $(QEMU_RUN),$(QEMU_RUN),qemu-aarch64 -cpu max)
BENCH_PLUGIN	:= $(BENCH_DIR)/insn_count.so
BENCH_RESULTS	?= $(srctree)/bench/results

BENCH_HOST_CFLAGS := -O2 -g -std=gnu11 $(WARN) -fno-strict-aliasing -fPIC \
		     -fvisibility=hidden
BENCH_CFLAGS	:= $(CPPFLAGS) -I$(srctree)/bench -O2 -g -std=gnu11 $(WARN) \
		   -fno-strict-aliasing

$(BENCH_PLUGIN): bench/insn_count.c bench/qemu_plugin.h bench/mark.h
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(BENCH_HOST_CFLAGS) -shared -o $@ $<

$(BENCH_DIR)/calib: bench/calib.c bench/mark.h bench/report.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_CFLAGS) -o $@ $<

# The peer: LLVM XRay, clang + lld, runtime from libclang-rt-14-dev:arm64.
BENCH_CLANG	?= $(shell command -v clang-14 || command -v clang)
BENCH_XRAY	:= -fxray-instrument -fxray-instruction-threshold=1
BENCH_CLANG_CFLAGS := --target=aarch64-linux-gnu $(BENCH_CFLAGS)

$(BENCH_DIR)/xray/%.o: bench/%.c bench/*.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(BENCH_CLANG) $(BENCH_CLANG_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/xray/targets_plain.o: bench/targets.c bench/targets.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(BENCH_CLANG) $(BENCH_CLANG_CFLAGS) -DBENCH_VARIANT=plain -c -o $@ $<

$(BENCH_DIR)/xray/targets_xray.o: bench/targets.c bench/targets.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(BENCH_CLANG) $(BENCH_CLANG_CFLAGS) $(BENCH_XRAY) \
		-DBENCH_VARIANT=xray -c -o $@ $<

BENCH_GEN_FUNCS	?= 10000

$(BENCH_DIR)/gen_funcs.c: bench/gen_funcs.sh
	$(call quiet,GEN,$@)mkdir -p $(dir $@) && \
		$(srctree)/bench/gen_funcs.sh $(BENCH_GEN_FUNCS) > $@.tmp && \
		mv $@.tmp $@

$(BENCH_DIR)/xray/gen_funcs.o: $(BENCH_DIR)/gen_funcs.c
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(BENCH_CLANG) $(BENCH_CLANG_CFLAGS) $(BENCH_XRAY) \
		-c -o $@ $<

BENCH_XRAY_OBJS := $(addprefix $(BENCH_DIR)/xray/,xray_bench.o \
		   targets_plain.o targets_xray.o gen_funcs.o)

$(BENCH_DIR)/xray_bench: $(BENCH_XRAY_OBJS)
	$(call quiet,CCLD,$@)$(BENCH_CLANG) $(CLANG_TARGET) -fxray-instrument \
		-o $@ $^

# ftramp itself: the library as built in $(O), targets with the patchable
# entry of DESIGN.md section 1.
BENCH_GCC_CFLAGS := $(BENCH_CFLAGS) -fno-ipa-icf

$(BENCH_DIR)/gcc/ftramp_bench.o: bench/ftramp_bench.c bench/*.h \
		include/ftramp/ftramp.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_GCC_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/gcc/targets_plain.o: bench/targets.c bench/targets.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_GCC_CFLAGS) -DBENCH_VARIANT=plain -c -o $@ $<

$(BENCH_DIR)/gcc/targets_nop.o: bench/targets.c bench/targets.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_GCC_CFLAGS) $(PATCHABLE) -DBENCH_VARIANT=nop \
		-c -o $@ $<

$(BENCH_DIR)/gcc/gen_funcs.o: $(BENCH_DIR)/gen_funcs.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_GCC_CFLAGS) $(PATCHABLE) -c -o $@ $<

# The BPF rows' C peers built by clang (LLVM) for aarch64.
$(BENCH_DIR)/clang/handlers.o: bench/handlers.c bench/handlers.h
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(BENCH_CLANG) $(BENCH_CLANG_CFLAGS) -c -o $@ $<

BENCH_FTRAMP_OBJS := $(addprefix $(BENCH_DIR)/gcc/,ftramp_bench.o \
		     targets_plain.o targets_nop.o gen_funcs.o) \
		     $(BENCH_DIR)/clang/handlers.o

$(BENCH_DIR)/ftramp_bench: $(BENCH_FTRAMP_OBJS) $(O)/libftramp-internal.a
	$(call quiet,CCLD,$@)$(CC) -o $@ $(BENCH_FTRAMP_OBJS) \
		$(O)/libftramp-internal.a $(LIBS)

# Instruction patching (bench/patch_bench.c): bpf/patch.c alone, from the
# library as built in $(O).
$(BENCH_DIR)/patch_bench: bench/patch_bench.c bench/mark.h bench/report.h \
		bpf/patch.h $(O)/libftramp-internal.a
	$(call quiet,CCLD,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_CFLAGS) -o $@ $< $(O)/libftramp-internal.a $(LIBS)

# The verifier's speed (bench/verify_bench.c): bpf/verifier.c alone.
$(BENCH_DIR)/verify_bench: bench/verify_bench.c bench/mark.h bench/report.h \
		bpf/verifier.h $(O)/libftramp-internal.a
	$(call quiet,CCLD,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_CFLAGS) -o $@ $< $(O)/libftramp-internal.a $(LIBS)

# The agent's start-up (bench/startup.c): N generated functions, for N =
# 1000 and BENCH_GEN_FUNCS; run once with the agent preloaded and nothing
# to do (the reference), once by `ftramp run --count 'bench_gen_*'`, whose
# --qemu is a wrapper that adds the plugin, and for N in
# BENCH_STARTUP_TRACE_NS once by `ftramp run -t 'bench_gen_*'`: every
# function's DWARF model read by the ftramp process (its table) and
# mapped by the agent.
BENCH_STARTUP_NS := 1000 $(BENCH_GEN_FUNCS)
BENCH_STARTUP_TRACE_NS := 1000

$(BENCH_DIR)/gen_funcs_%.c: bench/gen_funcs.sh
	$(call quiet,GEN,$@)mkdir -p $(dir $@) && \
		$(srctree)/bench/gen_funcs.sh $* > $@.tmp && mv $@.tmp $@

$(BENCH_DIR)/gcc/gen_funcs_%.o: $(BENCH_DIR)/gen_funcs_%.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_GCC_CFLAGS) $(PATCHABLE) -c -o $@ $<

$(BENCH_DIR)/gcc/startup.o: bench/startup.c bench/mark.h bench/report.h
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(BENCH_GCC_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/startup_%: $(BENCH_DIR)/gcc/startup.o $(BENCH_DIR)/gcc/gen_funcs_%.o
	$(call quiet,CCLD,$@)$(CC) -o $@ $^

.PRECIOUS: $(BENCH_DIR)/gen_funcs_%.c $(BENCH_DIR)/gcc/gen_funcs_%.o

.PHONY: bench-startup
bench-startup: bench-calib $(FTRAMP_AGENT) $(FTRAMP_CLI) \
		$(addprefix $(BENCH_DIR)/startup_,$(BENCH_STARTUP_NS))
	$(Q)for n in $(BENCH_STARTUP_NS); do \
		$(MAKE) -f $(srctree)/Makefile O=$(O) BENCH_STARTUP_N=$$n \
			bench-startup-run || exit 1; \
	done

BENCH_STARTUP = $(BENCH_DIR)/startup_$(BENCH_STARTUP_N)

# bench_startup_cli <name> <ftramp run options> <mode>: the start-up
# through `ftramp run`, its --qemu a wrapper that adds the plugin;
# <mode> tells bench/startup.c which case it is (FTRAMP_BENCH_MODE).
define bench_startup_cli
	$(Q)printf '#!/bin/sh\nexec %s -plugin %s,out=%s "$$@"\n' \
		"$(BENCH_QEMU)" "$(BENCH_PLUGIN)" "$(BENCH_DIR)/$(1).win" \
		> $(BENCH_DIR)/$(1)_qemu.sh && chmod +x $(BENCH_DIR)/$(1)_qemu.sh
	$(call quiet,BENCH,$(1))rc=0; \
	FTRAMP_BENCH_GLOB='bench_gen_*' FTRAMP_BENCH_MODE=$(3) \
	timeout $(BENCH_TIMEOUT) \
		$(FTRAMP_CLI) run --qemu $(BENCH_DIR)/$(1)_qemu.sh \
		--agent $(FTRAMP_AGENT) $(2) -- \
		$(BENCH_STARTUP) > $(BENCH_DIR)/$(1).out \
		2> $(BENCH_DIR)/$(1).err || rc=$$?; \
	awk -f $(srctree)/bench/join.awk -v prog=$(1) \
		$(BENCH_DIR)/$(1).win $(BENCH_DIR)/$(1).out \
		> $(BENCH_DIR)/$(1).rec || exit 1; \
	if [ $$rc -ne 0 ]; then \
		echo "bench: $(1) exited with status $$rc" >&2; \
		echo "na ftramp.$(subst _$(BENCH_STARTUP_N),,$(1)).$(BENCH_STARTUP_N) - agent start-up -- ftramp run exited with status $$rc" \
			>> $(BENCH_DIR)/$(1).rec; \
	fi
endef

.PHONY: bench-startup-run
bench-startup-run:
	$(call bench_run,-E LD_PRELOAD=$(FTRAMP_AGENT) $(BENCH_STARTUP),startup_load_$(BENCH_STARTUP_N))
	$(call bench_startup_cli,startup_$(BENCH_STARTUP_N),--count 'bench_gen_*',count)
	$(if $(filter $(BENCH_STARTUP_N),$(BENCH_STARTUP_TRACE_NS)),\
		$(call bench_startup_cli,startup_trace_$(BENCH_STARTUP_N),-t 'bench_gen_*',trace))
	$(if $(filter $(BENCH_STARTUP_N),$(BENCH_STARTUP_TRACE_NS)),\
		$(call bench_startup_cli,startup_hist_$(BENCH_STARTUP_N),--hist 'bench_gen_*',hist))

# run <program> <name>: the program's stdout and the plugin's windows,
# joined into $(BENCH_DIR)/<name>.rec (bench/join.awk).  A program that
# dies keeps what it measured so far, and says so in the table.
define bench_run
	$(call quiet,BENCH,$(2))rc=0; timeout $(BENCH_TIMEOUT) $(BENCH_QEMU) \
		-plugin $(BENCH_PLUGIN),out=$(BENCH_DIR)/$(2).win \
		$(1) > $(BENCH_DIR)/$(2).out || rc=$$?; \
	awk -f $(srctree)/bench/join.awk -v prog=$(2) \
		$(BENCH_DIR)/$(2).win $(BENCH_DIR)/$(2).out \
		> $(BENCH_DIR)/$(2).rec || exit 1; \
	if [ $$rc -ne 0 ]; then \
		echo "bench: $(2) exited with status $$rc" >&2; \
		echo "na $(2).rest - remaining $(2) cases -- program exited with status $$rc" \
			>> $(BENCH_DIR)/$(2).rec; \
	fi
endef

BENCH_TIMEOUT	?= 600

.PHONY: bench bench-calib bench-xray bench-ftramp bench-table
bench-calib: $(BENCH_PLUGIN) $(BENCH_DIR)/calib
	$(call bench_run,$(BENCH_DIR)/calib,calib)

bench-xray: bench-calib $(BENCH_DIR)/xray_bench
	$(call bench_run,$(BENCH_DIR)/xray_bench,xray)

# ftramp's cases must never fail `make bench`: when the library or the
# driver does not build (a layer not landed yet), they are n/a.
bench-ftramp: bench-calib $(BENCH_DIR)/gen_funcs.c
	$(Q)if $(MAKE) -f $(srctree)/Makefile O=$(O) \
			$(BENCH_DIR)/ftramp_bench > $(BENCH_DIR)/ftramp.build 2>&1; \
	then \
		$(MAKE) -f $(srctree)/Makefile O=$(O) bench-ftramp-run; \
	else \
		echo "bench: ftramp cases not available (build failed, see $(BENCH_DIR)/ftramp.build)" >&2; \
		echo "na ftramp.f2.all - every ftramp case -- library or driver did not build" \
			> $(BENCH_DIR)/ftramp.rec; \
	fi

.PHONY: bench-ftramp-run
bench-ftramp-run:
	$(call bench_run,$(BENCH_DIR)/ftramp_bench,ftramp)

.PHONY: bench-patch
bench-patch: bench-calib $(BENCH_DIR)/patch_bench
	$(call bench_run,$(BENCH_DIR)/patch_bench,patch)

.PHONY: bench-verify
bench-verify: bench-calib $(BENCH_DIR)/verify_bench
	$(call bench_run,$(BENCH_DIR)/verify_bench,verify)

BENCH_META = qemu-aarch64 $(shell $(or $(QEMU),qemu-aarch64) --version | \
	sed -n '1s/.*version \([^ ]*\).*/\1/p'), \
	$(shell $(CC) -dumpfullversion) ($(CC)), \
	clang $(shell $(BENCH_CLANG) -dumpversion); \
	$(BENCH_GEN_FUNCS) generated functions for attach

bench-table:
	$(Q)mkdir -p $(BENCH_RESULTS)
	$(Q)awk -f $(srctree)/bench/table.awk \
		-v csv=$(BENCH_RESULTS)/bench.csv -v md=$(BENCH_RESULTS)/bench.md \
		-v meta="# ftramp benchmarks\n\nGuest instructions counted by bench/insn_count.so ($(BENCH_META)). Regenerate with \`make bench\`; see Documentation/bench.rst." \
		$(BENCH_DIR)/ftramp.rec \
		$(wildcard $(foreach n,$(BENCH_STARTUP_NS),$(BENCH_DIR)/startup_load_$(n).rec $(BENCH_DIR)/startup_$(n).rec $(BENCH_DIR)/startup_trace_$(n).rec $(BENCH_DIR)/startup_hist_$(n).rec)) \
		$(wildcard $(BENCH_DIR)/patch.rec $(BENCH_DIR)/verify.rec) \
		$(BENCH_DIR)/xray.rec
	@echo "  (written: $(patsubst $(srctree)/%,%,$(BENCH_RESULTS))/bench.csv, bench.md)"

bench: bench-calib bench-xray bench-ftramp bench-startup bench-patch \
	bench-verify
	$(Q)$(MAKE) -f $(srctree)/Makefile O=$(O) bench-table
