#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The ftramp process's library search (tools/ftramp/table.c): the
# loader's cache and DF_1_NODEFLIB, a host binary (table_test, ASan and
# UBSan) over the arm64 programs of selftests/freestanding.mk; its TAP
# is ours.
set -u
bin=${O:?O must name the build directory}/tools/ftramp/table_test
if [ ! -x "$bin" ]; then
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 table_test # missing: $bin (make O=$O selftests)"
	exit 1
fi
FTRAMP_TEST_PROGS=$O/selftests/progs exec "$bin"
