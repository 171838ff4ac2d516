# SPDX-License-Identifier: MIT
#
# make bench: guest-instruction benchmarks (Documentation/bench.rst).
#
# Everything runs under qemu-aarch64 with bench/insn_count.so, a TCG plugin
# built here for the host, which counts the instructions between the marks
# of bench/mark.h.  Counts are exact, so the numbers are reproducible.

BENCH_DIR	:= $(O)/bench
BENCH_QEMU	?= $(if $(QEMU_RUN),$(QEMU_RUN),qemu-aarch64 -cpu max)
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

# run <program> <name>: the program's stdout and the plugin's windows,
# joined into $(BENCH_DIR)/<name>.rec (bench/join.awk).
define bench_run
	$(call quiet,BENCH,$(2))$(BENCH_QEMU) \
		-plugin $(BENCH_PLUGIN),out=$(BENCH_DIR)/$(2).win \
		$(1) > $(BENCH_DIR)/$(2).out && \
	awk -f $(srctree)/bench/join.awk -v prog=$(2) \
		$(BENCH_DIR)/$(2).win $(BENCH_DIR)/$(2).out > $(BENCH_DIR)/$(2).rec
endef

.PHONY: bench bench-calib
bench-calib: $(BENCH_PLUGIN) $(BENCH_DIR)/calib
	$(call bench_run,$(BENCH_DIR)/calib,calib)

bench: bench-calib
