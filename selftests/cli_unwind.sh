#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run on a C++ program whose exceptions pass through the traced
# functions (selftests/progs/uw_throw.cc): its output and exit status are
# those of the untraced run, for the trace (fentry+fexit), the far path
# and --count; the trace shows the calls that returned with their result,
# and closes each call the exception left as unwound.  The same through variadic functions
# (the unknown model: a return hook): output and exit status as untraced,
# and each unwound call's exit printed `unwound`.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 18

PROG=$PROGS/uw_throw
N=10

need_prog "$PROG" 18 "C++ exceptions"

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
# The calls the exception left (uw_check, uw_parse, uw_step for each
# multiple of 3) are closed as unwound, reported by the images' unwind
# personality; before, their exits were silent and each later call
# nested one level deeper than the last.
check "ftramp run -t: each call an exception left is closed as unwound" \
	[ "$(grep -Ec ' uw_check\(v=[0-9]+\) unwound;$' "$TMP/trace.txt")" -eq $((N / 3)) -a \
	  "$(grep -Ec '\} unwound; // uw_(parse|step)$' "$TMP/trace.txt")" -eq $((2 * (N / 3))) ]
check "ftramp run -t: every uw_step call at the outermost level" \
	awk '/ uw_step\(/ { match($0, /uw_step/); if (c && RSTART != c) bad = 1
			    c = RSTART; n++ }
	     END { exit bad || n != '$N' }' "$TMP/trace.txt"

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

# Through return hooks: uw_vstep -> uw_vparse -> uw_check.
# shellcheck disable=SC2086
$QEMU_RUN "$PROG" $N v >"$TMP/vplain.out" 2>"$TMP/vplain.err"
vplain_rc=$?
[ $vplain_rc -eq 3 ] && cmp -s "$TMP/plain.out" "$TMP/vplain.out"
result "untraced, variadic: as the plain run (rc 3, same output)" $?

run vtrace -o "$TMP/vtrace.txt" -t 'uw_*' -- "$PROG" $N v
check "ftramp run -t through return hooks: exit status as untraced" \
	[ "$(cat "$TMP/vtrace.rc")" -eq $vplain_rc ]
check "ftramp run -t through return hooks: output as untraced" \
	cmp -s "$TMP/vplain.out" "$TMP/vtrace.out"
if ! cmp -s "$TMP/vplain.out" "$TMP/vtrace.out"; then
	diff "$TMP/vplain.out" "$TMP/vtrace.out" | head -5 | diag
	head -5 "$TMP/vtrace.err" | diag
fi
# uw_check, a leaf (its only line printed at its exit), throws for N/3
# values: those calls are shown unwound, not lost (a formatter that
# dropped the frames above the one exiting lost their entry lines).
check "through return hooks: the trace shows every uw_check call" \
	[ "$(grep -Ec ' uw_check\(' "$TMP/vtrace.txt")" -eq $N ]
check "through return hooks: each throwing uw_check call shows unwound" \
	[ "$(grep -Ec ' uw_check\(v=[0-9]+\) unwound;$' "$TMP/vtrace.txt")" -eq $((N / 3)) ]
# N/3 calls throw through both hooked frames: each exit is unwound.
check "each thrown-through hooked call's exit shows unwound" \
	[ "$(grep -Ec '(uw_vstep|uw_vparse)\(.*\) unwound;|\} unwound; // uw_v(step|parse)' "$TMP/vtrace.txt")" -eq $((2 * (N / 3))) ]
run vfar --far -t 'uw_*' -- "$PROG" $N v
[ "$(cat "$TMP/vfar.rc")" -eq $vplain_rc ] && cmp -s "$TMP/vplain.out" "$TMP/vfar.out"
result "ftramp run --far -t through return hooks: as untraced" $?

[ $tap_failed -eq 0 ]
