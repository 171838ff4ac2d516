#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run on a C++ program whose exceptions pass through the traced
# functions (selftests/progs/uw_throw.cc): its output and exit status are
# those of the untraced run, for the trace (fentry+fexit), the far path
# and --count; the trace shows the calls that returned, and the unwound
# calls' entries without an exit.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 9

PROG=$PROGS/uw_throw
N=10

need_prog "$PROG" 9 "C++ exceptions"

# shellcheck disable=SC2086
$QEMU_RUN "$PROG" $N >"$TMP/plain.out" 2>"$TMP/plain.err"
plain_rc=$?
check "untraced: the program catches every exception (rc 3)" [ $plain_rc -eq 3 ]


run trace -o "$TMP/trace.txt" -t 'uw_*' -- "$PROG" $N
check "ftramp run -t: exit status as untraced" [ "$(cat "$TMP/trace.rc")" -eq $plain_rc ]
check "ftramp run -t: output as untraced" cmp -s "$TMP/plain.out" "$TMP/trace.out"
if ! cmp -s "$TMP/plain.out" "$TMP/trace.out"; then
	diff "$TMP/plain.out" "$TMP/trace.out" | head -5 | diag
	head -5 "$TMP/trace.err" | diag
fi
# uw_check returns for 7 of 10 values; each of the 10 calls enters it.
check "the trace shows every uw_check call" \
	[ "$(grep -Ec ' uw_check\(' "$TMP/trace.txt")" -eq $N ]
check "only calls that returned show a result" \
	[ "$(grep -Ec 'uw_check\(.*\) = |\} = .*// uw_check' "$TMP/trace.txt")" -eq $((N - N / 3)) ]

run far --far -t 'uw_*' -- "$PROG" $N
check "ftramp run --far -t: exit status as untraced" [ "$(cat "$TMP/far.rc")" -eq $plain_rc ]
check "ftramp run --far -t: output as untraced" cmp -s "$TMP/plain.out" "$TMP/far.out"

run count --count 'uw_*' -- "$PROG" $N
same_as_plain() {
	[ "$(cat "$TMP/$1.rc")" -eq $plain_rc ] && cmp -s "$TMP/plain.out" "$TMP/$1.out"
}
check "ftramp run --count: exit status and output as untraced" same_as_plain count
check "--count counts every entry, thrown or not" \
	grep -Eq "uw_check +$N\b|\b$N +uw_check" "$TMP/count.err" "$TMP/count.out"

[ $tap_failed -eq 0 ]
