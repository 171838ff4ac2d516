# SPDX-License-Identifier: MIT
#
# The ftrace layer's selftests: ftrace ops and direct calls (ftrace_test),
# the attach API over the near and the far path (attach_test), and the
# concurrent attach/detach/modify stress (stress_test).  Each defines its
# own patchable functions with __attribute__((patchable_function_entry))
# and links the sample library of selftests/sites.mk for DWARF models.

FTRACE_TEST_LIBS := -L$(O)/selftests/progs -lsample-gcc -Wl,-rpath,$(O)/selftests/progs

TEST_CFLAGS_ftrace := -DSAMPLE_DIR='"$(O)/selftests/progs"'
TEST_LIBS_ftrace := $(FTRACE_TEST_LIBS)
$(O)/selftests/ftrace_test: $(O)/selftests/progs/libsample-gcc.so

TEST_CFLAGS_attach := -DSAMPLE_DIR='"$(O)/selftests/progs"'
TEST_LIBS_attach := $(FTRACE_TEST_LIBS)
$(O)/selftests/attach_test: $(O)/selftests/progs/libsample-gcc.so \
			    $(O)/selftests/progs/libsample-bad.so \
			    $(O)/selftests/libpatch_bti.so

TEST_CFLAGS_stress :=
TEST_LIBS_stress :=

# The unknown model, the return hook and the shadow stack (unknown_test):
# its tracees need frame records and PAC like a hardened program.
TEST_CFLAGS_unknown := -mbranch-protection=standard -fno-omit-frame-pointer
TEST_LIBS_unknown :=
