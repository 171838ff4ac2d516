#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# libftramp.a's globals cannot collide with a program's own: every
# defined global is ftramp_*, __ftramp_* or on scripts/static-syms.sh's
# short list, and a program that defines globals named like our internal
# functions links statically against it and runs.  The in-tree archive
# (libftramp-internal.a, unrenamed, for the selftests) shows that both
# checks can fail.
#
# The runner gives O, CC (the target compiler) and QEMU_RUN; run alone,
# the Makefile's defaults for this host.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
if [ "$(uname -m)" = aarch64 ]; then
	CC=${CC:-gcc}
else
	CC=${CC:-aarch64-linux-gnu-gcc}
	QEMU_RUN=${QEMU_RUN:-qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib}
fi
READELF=${READELF:-${CC%gcc}readelf}
export READELF
SYMS=$SRC/scripts/static-syms.sh
LIBS="-lelf -ldw -lz -lpthread -ldl -lm"

plan 5

"$SYMS" check "$O/libftramp.a" >"$TMP/check.out" 2>&1
result "every global of libftramp.a is prefixed or allowed" $?
diag <"$TMP/check.out"

"$SYMS" check "$O/libftramp-internal.a" >"$TMP/internal.out" 2>&1
[ $? -eq 1 ] && grep -q ' thread_list ' "$TMP/internal.out"
result "the check finds the unprefixed names ($(wc -l <"$TMP/internal.out") in the in-tree archive)" $?

# A program with globals named like internal functions of ours, each in
# an object the attach below pulls in (lib/thread.c, ftrace/reclaim.c,
# arch/arm64/insn.c, ftrace/ops.c).
cat >"$TMP/clash.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <ftramp/ftramp.h>

int thread_list = 1;
int reclaim_poll(void) { return 2; }
int a64_bl(void) { return 3; }
int ftrace_lock = 4;

static uint64_t prog(const uint64_t *ctx) { return 0; }

int main(void)
{
	struct ftramp_link *l = ftramp_attach("no_such_function",
					      FTRAMP_FENTRY, prog, NULL);

	if (l || errno != ENOENT)
		return 1;
	printf("%d %d %d %d\n", thread_list, reclaim_poll(), a64_bl(),
	       ftrace_lock);
	return 0;
}
C
# shellcheck disable=SC2086
$CC -I"$SRC/include" -o "$TMP/clash" "$TMP/clash.c" "$O/libftramp.a" \
	$LIBS >"$TMP/cc.log" 2>&1
result "a program with globals named thread_list, reclaim_poll... links with libftramp.a" $?
diag <"$TMP/cc.log"

# shellcheck disable=SC2086
out=$(${QEMU_RUN:-} "$TMP/clash" 2>&1)
[ $? -eq 0 ] && [ "$out" = "1 2 3 4" ]
result "it runs, its globals its own ($out)" $?

# shellcheck disable=SC2086
$CC -I"$SRC/include" -o "$TMP/clash-internal" "$TMP/clash.c" \
	"$O/libftramp-internal.a" $LIBS >"$TMP/cc2.log" 2>&1
[ $? -ne 0 ] && grep -q 'multiple definition' "$TMP/cc2.log"
result "the same program does not link with the unrenamed archive" $?
finish
