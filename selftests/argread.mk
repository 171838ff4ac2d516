# SPDX-License-Identifier: MIT
#
# selftests/progs/argread.c: pointer arguments that must not crash a
# trace, for selftests/cli_args.sh (fault-safe argument reads).

$(PROGS_DIR)/argread: selftests/progs/argread.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) -O2 -g -std=gnu11 $(WARN) $(PATCHABLE) -o $@ $<

CHECK_EXTRA += $(PROGS_DIR)/argread
