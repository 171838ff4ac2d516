# SPDX-License-Identifier: MIT
#
# Stop-machine selftests: the one-time entry write with every other thread
# parked.  They patch the generated functions of selftests/patching.mk.

TEST_OBJS_stop_machine := $(PATCHING_GEN)/patch_funcs.o
$(O)/selftests/stop_machine_test: $(PATCHING_GEN)/patch_funcs.o
