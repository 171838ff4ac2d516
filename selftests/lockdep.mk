# SPDX-License-Identifier: MIT
#
# The lock order (lib/lockdep.h), checked at run time: lockdep_test holds
# the checker to it (a wrong order aborts), and the runtime tests listed
# in LOCKDEP_TESTS run again against a copy of the library built with
# the check, so every lock they take is held to the order.

LOCKDEP_OBJS := $(patsubst $(O)/%,$(O)/lockdep/%,$(LIB_OBJS))
LOCKDEP_TESTS := attach ftrace
CHECK_ARM64_EXTRA += $(patsubst %,$(O)/selftests/%_test.lockdep,$(LOCKDEP_TESTS))

TEST_CFLAGS_lockdep := -DFTRAMP_DEBUG_LOCKS
TEST_OBJS_lockdep := $(O)/lockdep/lib/lockdep.o
$(O)/selftests/lockdep_test: $(O)/lockdep/lib/lockdep.o

$(O)/lockdep/%.o: %.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(CFLAGS) $(LIB_CFLAGS) $(LOCKDEP_CFLAGS) \
		-MMD -MP -c -o $@ $<

$(O)/lockdep/%.o: %.S
	$(call quiet,AS,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(LIB_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/libftramp-lockdep.a: $(LOCKDEP_OBJS)
	$(call quiet,AR,$@)rm -f $@ && $(AR) rcs $@ $^

# Built like selftests/X_test (its flags, objects and libraries), beside
# it: some tests find their libraries next to their executable.
$(O)/selftests/%_test.lockdep: selftests/%_test.c selftests/harness.h \
			       $(O)/libftramp-lockdep.a $(O)/selftests/%_test
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(CPPFLAGS) $(CFLAGS) $(TEST_CFLAGS_$*) -o $@ $< \
		$(TEST_OBJS_$*) $(O)/libftramp-lockdep.a $(LIBS) $(TEST_LIBS_$*)

-include $(LOCKDEP_OBJS:.o=.d)
