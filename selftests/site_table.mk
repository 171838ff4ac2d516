# SPDX-License-Identifier: MIT
#
# The site-and-model table (ftrace/site_table.[ch]): the ftramp process
# writes it, the preload agent reads it.  Pure: tested on the host under
# ASan+UBSan as well as on arm64, and its parser fuzzed.

PURE_SRCS += ftrace/site_table.c ftrace/elf_sites_common.c
HOST_TESTS += site_table

FUZZERS += $(O)/fuzz/fuzz_site_table

$(O)/fuzz/fuzz_site_table: selftests/fuzz_site_table.c ftrace/site_table.c \
		ftrace/site_table.h ftrace/elf_sites_common.c \
		ftrace/elf_sites.h trampoline/model.c arch/arm64/abi.c \
		include/ftramp/ftramp.h
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) && \
		$(CLANG) $(FUZZ_CFLAGS) -o $@ $(srctree)/selftests/fuzz_site_table.c \
		$(srctree)/ftrace/site_table.c $(srctree)/ftrace/elf_sites_common.c \
		$(srctree)/trampoline/model.c $(srctree)/arch/arm64/abi.c
