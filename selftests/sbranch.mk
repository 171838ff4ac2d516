# SPDX-License-Identifier: MIT
#
# Static branches (bpf/sbranch.c): sbranch_test opens one of bpf_test's
# objects for the error of a program that is not loaded.

TEST_CFLAGS_sbranch := -DBPF_OBJ_DIR='"$(BPF_OBJ_DIR)"'
$(O)/selftests/sbranch_test: $(BPF_OBJS)
