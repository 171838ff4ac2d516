# SPDX-License-Identifier: MIT
#
# The recursion guard and what it must not lose (selftests/guard_test.c),
# and guard_prog, the program selftests/cli_guard.sh traces: exact counts
# with signal handlers, misses reported, histograms of deep recursion.

$(PROGS_DIR)/guard_prog: selftests/progs/guard_prog.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $< -lpthread

CHECK_EXTRA += $(PROGS_DIR)/guard_prog

# shadow_prog: calls whose exit cannot be reported (shadow stack full),
# for selftests/cli_shadow.sh.
$(PROGS_DIR)/shadow_prog: selftests/progs/shadow_prog.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $< -lpthread

CHECK_EXTRA += $(PROGS_DIR)/shadow_prog
