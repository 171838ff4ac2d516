#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run on a C program whose threads leave traced functions by
# pthread_cancel() and pthread_exit() (selftests/progs/cancel.c), each
# holding a mutex that a cleanup handler unlocks: with fexit (-t) on
# every function, for a DWARF model, for variadic functions (the unknown
# model: a return hook) and for the same program without debug
# information (every function on the unknown model).  Each time:
#
#  - output (what each thread's cleanup handlers did, the mutex free
#    after each) and exit status as untraced;
#  - the trace holds every call, and closes each one the thread left as
#    unwound, nested as it was called.
#
# A cancel is acted on at the first cancellation point the thread meets;
# before the agent wrote its lines with the raw system call, that could
# be its write() in a program, half-way through a line, before the
# function's own read().
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

N=4
# name|program|its arguments|outer and inner traced function|how the
# trace shows their arguments: named (a DWARF model) or (...) (unknown)
NAMED='\([a-z]+=[^)]*\)'
UNKNOWN='\(\.\.\.\)'
CASES=(
	"cancel|cancel_prog|cancel $N|cx_hold|cx_wait|$NAMED"
	"exit|cancel_prog|exit $N|cx_hold|cx_leave|$NAMED"
	"vcancel|cancel_prog|cancel $N v|cx_vhold|cx_vwait|$UNKNOWN"
	"vexit|cancel_prog|exit $N v|cx_vhold|cx_vleave|$UNKNOWN"
	"nodebug-cancel|cancel_prog_nodebug|cancel $N|cx_hold|cx_wait|$UNKNOWN"
	"nodebug-exit|cancel_prog_nodebug|exit $N|cx_hold|cx_leave|$UNKNOWN"
)
PER_CASE=4

plan $((${#CASES[@]} * PER_CASE))

need_prog "$PROGS/cancel_prog" $((${#CASES[@]} * PER_CASE)) "cancellation"
need_prog "$PROGS/cancel_prog_nodebug" $((${#CASES[@]} * PER_CASE)) "cancellation"

# count FILE REGEX: lines matching REGEX.
count() {
	grep -Ec -- "$2" "$1"
}

for c in "${CASES[@]}"; do
	IFS='|' read -r name prog args outer inner argre <<<"$c"
	# shellcheck disable=SC2086
	$QEMU_RUN "$PROGS/$prog" $args >"$TMP/$name.plain" 2>&1
	plain_rc=$?
	# shellcheck disable=SC2086
	run "$name" -o "$TMP/$name.trace" -t 'cx_*' -- "$PROGS/$prog" $args
	[ $plain_rc -eq 0 ] && grep -qx "$N threads, all as expected" "$TMP/$name.plain"
	result "$name: untraced, every cleanup ran and the mutex is free" $?
	[ "$(cat "$TMP/$name.rc")" -eq $plain_rc ] &&
	cmp -s "$TMP/$name.plain" "$TMP/$name.out"
	result "$name -t: output and exit status as untraced" $?
	if ! cmp -s "$TMP/$name.plain" "$TMP/$name.out"; then
		diff "$TMP/$name.plain" "$TMP/$name.out" | head -5 | diag
		head -5 "$TMP/$name.err" | diag
	fi
	check "$name -t: every $outer and $inner call, each closed as unwound" \
		[ "$(count "$TMP/$name.trace" " $outer$argre \{$")" -eq $N -a \
		  "$(count "$TMP/$name.trace" "\} unwound; // $outer$")" -eq $N -a \
		  "$(count "$TMP/$name.trace" " $inner$argre unwound;$")" -eq $N ]
	# Each thread's lines: its outer call's entry, the inner call one
	# level deeper, the outer call's close at the entry's level.
	check "$name -t: each thread's calls nested as called" \
		awk -v o="$outer" -v i="$inner" '
		/^#/ { next }
		{ tid = $2 }
		$0 ~ " " o "\\(.*\\) \\{$" { oc[tid] = index($0, o "("); n++; next }
		$0 ~ " " i "\\(" { if (index($0, i "(") != oc[tid] + 2) bad = 1; next }
		$0 ~ "\\} unwound; // " o "$" { if (index($0, "}") != oc[tid]) bad = 1; next }
		{ bad = 1 }
		END { exit bad || n != '$N' }' "$TMP/$name.trace"
done

finish
