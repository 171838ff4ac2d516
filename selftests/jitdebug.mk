# SPDX-License-Identifier: MIT
#
# trampoline/jitdebug.c: GDB JIT interface objects and the perf map.
#
# jitdebug_test (arm64) reads the objects back with libelf/libdw.  The same
# source, built with -DJITDEBUG_GDB_TARGET, is the program gdb_bt.sh runs
# under qemu-aarch64 -g and gdb-multiarch: -g -O1 with frame records, as a
# user would build the program they debug.

JITDEBUG_GDB_TARGET := $(O)/selftests/jitdebug_gdb_target

$(JITDEBUG_GDB_TARGET): selftests/jitdebug_test.c $(O)/libftramp-internal.a
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) -std=gnu11 $(WARN) -g -O1 \
		-fno-omit-frame-pointer -DJITDEBUG_GDB_TARGET -o $@ $< \
		$(O)/libftramp-internal.a $(LIBS)

CHECK_EXTRA += $(JITDEBUG_GDB_TARGET)
CHECK_SCRIPTS += $(srctree)/selftests/gdb_bt.sh
