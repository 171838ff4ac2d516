# SPDX-License-Identifier: MIT
#
# selftests/progs/sigdl.c: a program that blocks every signal or resets
# the real-time ones, with a SIGTERM handler that waits, while it loads a
# library to trace: selftests/cli_signals.sh runs it under `ftramp run`.

$(PROGS_DIR)/sigdl: selftests/progs/sigdl.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $< -lpthread -ldl

CHECK_EXTRA += $(PROGS_DIR)/sigdl $(PROGS_DIR)/libsample-gcc.so
