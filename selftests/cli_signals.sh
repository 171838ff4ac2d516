#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run on a program that is hard on a tracer's signals
# (selftests/progs/sigdl.c): two threads spin through a traced function,
# a third waits inside a SIGTERM handler, and the program loads the
# sample library with dlopen() and calls it.  Its functions, named by a
# FUNC@LIB glob that matches nothing at start, are attached before
# dlopen() returns, which stops the spinning threads:
#
#  - the agent exports the interposers (dlopen, dlclose, sigaction,
#    signal, sigprocmask, pthread_sigmask) at glibc's versions, and none
#    of libftramp's API;
#  - with every signal blocked (mask) or every real-time one reset to
#    SIG_DFL (dfl), the program runs as untraced, and the library's calls
#    are in the trace.
#
# Without the exported interposers, the library was never seen loaded,
# and the blocked mask made every stop time out.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 10

PROG=$PROGS/sigdl
LIB=$PROGS/libsample-gcc.so
NM=${NM:-$(command -v aarch64-linux-gnu-nm || echo nm)}
[ "$HOST_ARCH" = aarch64 ] && NM=nm

need_prog "$PROG" 10 "signals and dlopen"

exports() {
	"$NM" -D --defined-only "$AGENT" | awk '$2 == "T" { print $3 }' |
		sort | tr '\n' ' '
}
want="_Unwind_Find_FDE@@GCC_3.0 dlclose@@GLIBC_2.34 dlopen@@GLIBC_2.34 execl@@GLIBC_2.17 execle@@GLIBC_2.17 execlp@@GLIBC_2.17 execv@@GLIBC_2.17 execve@@GLIBC_2.17 execvp@@GLIBC_2.17 execvpe@@GLIBC_2.17 fexecve@@GLIBC_2.17 posix_spawn@@GLIBC_2.17 posix_spawnp@@GLIBC_2.17 pthread_sigmask@@GLIBC_2.32 sigaction@@GLIBC_2.17 signal@@GLIBC_2.17 sigprocmask@@GLIBC_2.17 "
got=$(exports)
check "the agent exports the interposers at glibc's versions, nothing else" \
	[ "$got" = "$want" ]
[ "$got" = "$want" ] || echo "exports: $got" | diag

for mode in mask dfl; do
	# shellcheck disable=SC2086
	$QEMU_RUN "$PROG" "$LIB" $mode >"$TMP/plain-$mode.out" 2>&1
	[ $? -eq 0 ] && grep -qx done "$TMP/plain-$mode.out"
	result "untraced, $mode: the program runs to the end" $?

	run $mode -t 'sample_*@libsample-gcc.so' --count sigdl_spin -- \
		"$PROG" "$LIB" $mode
	[ "$(cat "$TMP/$mode.rc")" -eq 0 ] &&
	cmp -s "$TMP/plain-$mode.out" "$TMP/$mode.out"
	result "ftramp run, $mode: exit status and output as untraced" $?
	if ! cmp -s "$TMP/plain-$mode.out" "$TMP/$mode.out"; then
		head -5 "$TMP/$mode.out" | diag
		head -5 "$TMP/$mode.err" | diag
	fi
	check "ftramp run, $mode: the library loaded later is traced" \
		[ "$(grep -Ec 'sample_add@libsample-gcc.so\(a=2, b=3\) = 5;|sample_sum@libsample-gcc.so\(.*\) = 42;' "$TMP/$mode.err")" -eq 4 ]
	grep -q 'cannot attach' "$TMP/$mode.err" &&
		grep 'cannot attach' "$TMP/$mode.err" | diag
	check "ftramp run, $mode: the spinning threads were traced throughout" \
		grep -Eq '^ +[1-9][0-9]* +sigdl_spin$' "$TMP/$mode.err"
done

# A library that never comes is an error at exit, naming the glob: status
# 125 for a program that exited 0; the counts are still reported.
run never -t 'nothing*@libnothing.so' --count sigdl_spin -- "$PROG" "$LIB" dfl
[ "$(cat "$TMP/never.rc")" -eq 125 ] &&
grep -q "'nothing\*@libnothing.so': the program loaded no library" "$TMP/never.err" &&
grep -Eq '^ +[1-9][0-9]* +sigdl_spin$' "$TMP/never.err"
result "a FUNC@LIB glob whose library never loads: error at exit (125), counts kept" $?

finish
