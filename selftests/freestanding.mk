# SPDX-License-Identifier: MIT
#
# The freestanding agent (issue 19): a patchable stand-in for zlib, put in
# LD_LIBRARY_PATH as a user testing their own zlib would, and a program
# linked against it (selftests/cli_freestanding.sh).  No rpath: the
# library is found through LD_LIBRARY_PATH only.

$(PROGS_DIR)/zlib/libz.so.1: selftests/progs/fakez.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -shared \
		-Wl,-soname,libz.so.1 -o $@ $<

# the same code under another name, dlopen()ed by `zprog dl`
$(PROGS_DIR)/zlib/libzdl.so: selftests/progs/fakez.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -shared \
		-Wl,-soname,libzdl.so -o $@ $<

# the same code again, with a soname no file has: found only by the soname
# the agent reads from memory (selftests/cli_select.sh)
$(PROGS_DIR)/zlib/libzsoname.so: selftests/progs/fakez.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -shared \
		-Wl,-soname,libzother.so.7 -o $@ $<

$(PROGS_DIR)/zprog: selftests/progs/zprog.c $(PROGS_DIR)/zlib/libz.so.1 \
		$(PROGS_DIR)/zlib/libzdl.so
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $< \
		$(PROGS_DIR)/zlib/libz.so.1 -ldl

# the same program linked with -z nodefaultlib (DF_1_NODEFLIB): its
# libraries are searched in neither the loader's cache nor the default
# directories (tools/ftramp/table_test.c)
$(PROGS_DIR)/zprog_nodeflib: selftests/progs/zprog.c $(PROGS_DIR)/zlib/libz.so.1
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -Wl,-z,nodefaultlib -o $@ $< \
		$(PROGS_DIR)/zlib/libz.so.1 -ldl

CHECK_EXTRA += $(PROGS_DIR)/zprog $(PROGS_DIR)/zlib/libzsoname.so \
	       $(PROGS_DIR)/zprog_nodeflib
