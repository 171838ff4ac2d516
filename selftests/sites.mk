# SPDX-License-Identifier: MIT
#
# The site table's selftests and the sample objects every area may trace.
#
# $(O)/selftests/progs/ (see selftests/progs/sample.h):
#   libsample-gcc.so      gcc, -fpatchable-function-entry=4,2
#   libsample-clang.so    clang, same flags
#   libsample-bti.so      gcc, same flags + -mbranch-protection=standard
#   libsample-noflags.so  gcc, no patchable entries: no sites
#   libsample-bad.so      hand-written malformed records (bad_sites.S)
#   libsample-many.so     SITES_MANY generated functions (lookup benchmark)
#   sample_prog           an executable with sites, linked to libsample-gcc
#   jump_prog             an executable whose traced functions longjmp
#
# Each library's SONAME is its file name; link with
#   -L$(PROGS_DIR) -lsample-gcc -Wl,-rpath,$(PROGS_DIR)
# and depend on $(PROGS_DIR)/libsample-gcc.so (or $(PROGS_LIBS)).

PROGS_DIR	:= $(O)/selftests/progs
PROGS_SRCS	:= selftests/progs/sample.c selftests/progs/sample2.c
PROGS_HDRS	:= selftests/progs/sample.h
PROGS_CFLAGS	:= -O2 -g -std=gnu11 -fPIC $(WARN)
SITES_MANY	?= 100000

PROGS_LIBS	:= $(addprefix $(PROGS_DIR)/libsample-,\
		     gcc.so clang.so bti.so noflags.so bad.so)
PROGS_ALL	:= $(PROGS_LIBS) $(PROGS_DIR)/libsample-many.so \
		   $(PROGS_DIR)/sample_prog $(PROGS_DIR)/jump_prog

# The objects are kept: sites_test compares the table against `nm` of the
# objects the compiler built with patchable entries.
$(PROGS_DIR)/gcc/%.o: selftests/progs/%.c $(PROGS_HDRS)
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -c -o $@ $<

$(PROGS_DIR)/clang/%.o: selftests/progs/%.c $(PROGS_HDRS)
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) && \
		$(CLANG) --target=aarch64-linux-gnu $(PROGS_CFLAGS) $(PATCHABLE) \
		-c -o $@ $<

$(PROGS_DIR)/bti/%.o: selftests/progs/%.c $(PROGS_HDRS)
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -mbranch-protection=standard \
		-c -o $@ $<

$(PROGS_DIR)/noflags/%.o: selftests/progs/%.c $(PROGS_HDRS)
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) -c -o $@ $<

progs_objs = $(patsubst selftests/progs/%.c,$(PROGS_DIR)/$(1)/%.o,$(PROGS_SRCS))

$(PROGS_DIR)/libsample-gcc.so: $(call progs_objs,gcc)
	$(call quiet,LD,$@)$(CC) -shared -Wl,-soname,$(notdir $@) -o $@ $^

$(PROGS_DIR)/libsample-clang.so: $(call progs_objs,clang)
	$(call quiet,LD,$@)$(CLANG) $(CLANG_TARGET) -shared \
		-Wl,-soname,$(notdir $@) -o $@ $^

$(PROGS_DIR)/libsample-bti.so: $(call progs_objs,bti)
	$(call quiet,LD,$@)$(CC) -shared -Wl,-soname,$(notdir $@) -o $@ $^

$(PROGS_DIR)/libsample-noflags.so: $(call progs_objs,noflags)
	$(call quiet,LD,$@)$(CC) -shared -Wl,-soname,$(notdir $@) -o $@ $^

$(PROGS_DIR)/libsample-bad.so: selftests/progs/bad_sites.S
	$(call quiet,LD,$@)mkdir -p $(dir $@) && \
		$(CC) -shared -nostartfiles -Wl,-soname,$(notdir $@) -o $@ $<

# SITES_MANY functions in the compilers' site shape, generated as assembly
# (compiling that many C functions would dominate the build).
$(PROGS_DIR)/many.S: selftests/sites.mk
	$(call quiet,GEN,$@)mkdir -p $(dir $@) && \
		awk -v n=$(SITES_MANY) 'BEGIN { \
		print "\t.text"; \
		for (i = 0; i < n; i++) { \
			printf "\t.p2align 3\n.Lp%d:\n\tnop\n\tnop\n", i; \
			printf "\t.globl many_%d\n\t.type many_%d, %%function\n", i, i; \
			printf "many_%d:\n\tnop\n\tnop\n\tmov x0, #%d\n\tret\n", i, i % 65536; \
			printf "\t.size many_%d, . - many_%d\n", i, i; \
		} \
		print "\t.section __patchable_function_entries, \"aw\", @progbits"; \
		for (i = 0; i < n; i++) printf "\t.8byte .Lp%d\n", i; \
		print "\t.section .note.GNU-stack, \"\", @progbits"; }' > $@

$(PROGS_DIR)/libsample-many.so: $(PROGS_DIR)/many.S
	$(call quiet,LD,$@)$(CC) -shared -nostartfiles \
		-Wl,-soname,$(notdir $@) -o $@ $<

$(PROGS_DIR)/prog.o: selftests/progs/prog.c $(PROGS_HDRS)
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -c -o $@ $<

$(PROGS_DIR)/sample_prog: $(PROGS_DIR)/prog.o $(PROGS_DIR)/libsample-gcc.so
	$(call quiet,LD,$@)$(CC) -o $@ $< -L$(PROGS_DIR) -lsample-gcc \
		-Wl,-rpath,$(PROGS_DIR)

$(PROGS_DIR)/jump_prog: selftests/progs/jump.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $<

.PHONY: sample-progs
sample-progs: $(PROGS_ALL)

# sites_test: built with patchable entries itself (the executable's own
# sites are named without @object), linked to libsample-gcc.so; the
# others are dlopen()ed by the tests.
TEST_CFLAGS_sites := $(PATCHABLE) -DSAMPLE_DIR='"$(PROGS_DIR)"' \
		     -DSITES_NM='"$(CROSS_COMPILE)nm"' -DSITES_MANY=$(SITES_MANY)
TEST_LIBS_sites := -L$(PROGS_DIR) -lsample-gcc \
		   -Wl,-rpath,$(PROGS_DIR)
$(O)/selftests/sites_test: $(PROGS_ALL)

CHECK_EXTRA += $(PROGS_ALL)

# The file view also runs on the host, under ASan and UBSan, and is fuzzed.
HOST_TESTS += sites
$(O)/selftests/sites_test.host: selftests/sites_test.c selftests/harness.h \
		ftrace/elf_sites.c ftrace/elf_sites_common.c ftrace/elf_sites.h \
		$(PROGS_ALL)
	$(call quiet,HOSTCC,$@)mkdir -p $(dir $@) && \
		$(HOSTCC) $(CPPFLAGS) $(HOST_CFLAGS) -DFTRAMP_HOST_TEST \
		-DSAMPLE_DIR='"$(PROGS_DIR)"' -DSITES_NM='"$(CROSS_COMPILE)nm"' \
		-o $@ $< $(srctree)/ftrace/elf_sites.c \
		$(srctree)/ftrace/elf_sites_common.c

FUZZERS += $(O)/selftests/sites_fuzz
$(O)/selftests/sites_fuzz: selftests/sites_test.c ftrace/elf_sites.c \
		ftrace/elf_sites_common.c ftrace/elf_sites.h $(PROGS_DIR)/libsample-bad.so \
		$(PROGS_DIR)/libsample-gcc.so
	$(call quiet,CLANG,$@)mkdir -p $(dir $@) $@.corpus && \
		cp $(PROGS_DIR)/libsample-bad.so $(PROGS_DIR)/libsample-gcc.so \
		$@.corpus/ && \
		$(CLANG) $(FUZZ_CFLAGS) -DFTRAMP_FUZZ -o $@ $< \
		$(srctree)/ftrace/elf_sites.c \
		$(srctree)/ftrace/elf_sites_common.c
