#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The agent's async-signal-safe formatter against printf (a host binary,
# built with ASan+UBSan by tools/ftramp/ftramp.mk); its TAP is ours.
set -u
bin=${O:?O must name the build directory}/tools/ftramp/fmt_test
if [ ! -x "$bin" ]; then
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 fmt_test # missing: $bin (make O=$O selftests)"
	exit 1
fi
exec "$bin"
