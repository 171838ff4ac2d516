# SPDX-License-Identifier: MIT
#
# Exceptions and cancellation through trampolines (trampoline/unwind.c).
#
# unwind_test links a C++ object (g++-aarch64-linux-gnu) that throws and
# catches around traced functions; it is built with the patchable entries
# a traced program has, -O2 and frame records.

CXX	:= $(CROSS_COMPILE)g++

$(O)/selftests/unwind_cxx.o: selftests/unwind_cxx.cc include/ftramp/ftramp.h
	$(call quiet,CXX,$@)mkdir -p $(dir $@) && \
		$(CXX) $(CPPFLAGS) -O2 -g -fno-omit-frame-pointer $(PATCHABLE) \
		-c -o $@ $<

TEST_OBJS_unwind := $(O)/selftests/unwind_cxx.o
TEST_LIBS_unwind := -lstdc++
$(O)/selftests/unwind_test: $(O)/selftests/unwind_cxx.o

# The CLI end to end (selftests/cli_unwind.sh): a C++ program built as a
# user builds one to trace, throwing through the traced functions.
UW_THROW_PROG := $(O)/selftests/progs/uw_throw

$(UW_THROW_PROG): selftests/progs/uw_throw.cc
	$(call quiet,CXX,$@)mkdir -p $(dir $@) && \
		$(CXX) -O2 -g $(PATCHABLE) -o $@ $<

CHECK_EXTRA += $(UW_THROW_PROG)

# pthread_cancel() and pthread_exit() through traced C functions
# (selftests/cli_cancel.sh): with DWARF (modelled and variadic functions),
# and the same source without debug information (the unknown model).
CANCEL_PROGS := $(O)/selftests/progs/cancel_prog $(O)/selftests/progs/cancel_prog_nodebug

$(O)/selftests/progs/cancel_prog: selftests/progs/cancel.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) $(PATCHABLE) -o $@ $< -lpthread

$(O)/selftests/progs/cancel_prog_nodebug: selftests/progs/cancel.c
	$(call quiet,CC,$@)mkdir -p $(dir $@) && \
		$(CC) $(PROGS_CFLAGS) -g0 $(PATCHABLE) -o $@ $< -lpthread

CHECK_EXTRA += $(CANCEL_PROGS)
