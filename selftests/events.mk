# SPDX-License-Identifier: MIT
#
# Events through the session file (tools/ftramp/agent/session.h): the
# program selftests/cli_events.sh traces, which closes its descriptors,
# crashes, exits deep in traced calls, forks and execs.

$(PROGS_DIR)/events_prog: selftests/progs/events_prog.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $<

CHECK_EXTRA += $(PROGS_DIR)/events_prog
