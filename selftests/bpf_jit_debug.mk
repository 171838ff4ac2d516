# SPDX-License-Identifier: MIT
#
# bpf/jit_debug.c: JIT'd programs described to gdb, perf and the unwinder.
# bpf_jit_debug_test (arm64) checks the registrations and backtrace()
# through a program; the same source built with -DBPF_JIT_GDB_TARGET is
# the program gdb_bpf_bt.sh runs under qemu-aarch64 -g and gdb-multiarch.

TEST_CFLAGS_bpf_jit_debug := -DBPF_OBJ_DIR='"$(BPF_OBJ_DIR)"'
$(O)/selftests/bpf_jit_debug_test: $(BPF_OBJ_DIR)/jited.bpf.o

BPF_JIT_GDB_TARGET := $(O)/selftests/bpf_jit_gdb_target

$(BPF_JIT_GDB_TARGET): selftests/bpf_jit_debug_test.c $(O)/libftramp-internal.a \
		       $(BPF_OBJ_DIR)/jited.bpf.o
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) -std=gnu11 $(WARN) -g -O1 \
		-fno-omit-frame-pointer -DBPF_JIT_GDB_TARGET \
		-DBPF_OBJ_DIR='"$(BPF_OBJ_DIR)"' -o $@ $< \
		$(O)/libftramp-internal.a $(LIBS)

CHECK_EXTRA += $(BPF_JIT_GDB_TARGET)
CHECK_SCRIPTS += $(srctree)/selftests/gdb_bpf_bt.sh
