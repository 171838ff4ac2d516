#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run -t on calls whose exit the runtime cannot report: the shadow
# return stack is full (about 10900 records per thread), so the return
# hook runs the call untraced after its entry went out
# (selftests/progs/shadow_prog.c, variadic: the unknown model).  The
# trace must stay balanced and nested right, and every count exact:
#
#  - deep: a recursion 11000 deep between two 3-deep ones; its innermost
#    exits never come, and it is deeper than the command stores (4096
#    levels): the later calls print at the outermost level again, exactly
#    as the first ones, and the lines past level 100 still name their
#    function;
#  - fill: --hist fill() fills the shadow stack and calls vleaf() at its
#    bottom, whose exit never comes, R times (more than the agent's old 64
#    levels); each such call is closed unwound by the next vleaf() call of
#    the loop, at the outermost level, instead of nesting it one deeper;
#    in Chrome JSON too.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 14

SPROG=$PROGS/shadow_prog
DEEP=11000
STORED=4096	# tools/ftramp/report.c: MAX_DEPTH
ROUNDS=70

RUN_TIMEOUT=300

need_prog "$SPROG" 14 "shadow stack full"

# body FILE: the trace lines' text after the time, tid and duration
# columns (34 characters); the report after the trace is left out.
body() {
	awk '/^#/ { next } /^$/ { exit } { print substr($0, 35) }' "$1"
}

# missed FILE FUNC: FUNC's row of the MISSED table, 0 without one.
missed() {
	awk -v f="$2" '/^ *MISSED/ { on = 1; next }
		on && $2 == f { m = $1 } END { print m + 0 }' "$1"
}

# as_plain NAME PLAIN: exit status 0 and the untraced run's output.
as_plain() {
	[ "$(cat "$TMP/$1.rc")" -eq 0 ] && cmp -s "$TMP/$2" "$TMP/$1.out"
}

# --- deep ---------------------------------------------------------------
# shellcheck disable=SC2086
$QEMU_RUN "$SPROG" deep $DEEP >"$TMP/dplain.out" 2>&1
run deep -o "$TMP/deep.txt" -t vdeep --count vdeep -- "$SPROG" deep $DEEP
check "deep: exit status and output as untraced" \
	as_plain deep dplain.out
m=$(missed "$TMP/deep.txt" vdeep)
echo "deep: $m exits the runtime could not report" | diag
check "deep: the shadow stack was full (its innermost exits not reported)" \
	[ "$m" -gt 0 ]
check "deep: --count says every call ($((4 + DEEP + 1 + 4)))" \
	grep -Eq "^ +$((4 + DEEP + 1 + 4)) +vdeep$" "$TMP/deep.txt"
body "$TMP/deep.txt" >"$TMP/deep.body"
head -7 "$TMP/deep.body" >"$TMP/first"
tail -7 "$TMP/deep.body" >"$TMP/last"
check "deep: the calls after it print as the ones before, outermost" \
	cmp -s "$TMP/first" "$TMP/last"
if ! cmp -s "$TMP/first" "$TMP/last"; then
	diff "$TMP/first" "$TMP/last" | head -8 | diag
fi
check "deep: every line shown is closed (as many '{' as '}')" \
	[ "$(grep -c '{$' "$TMP/deep.body")" -eq \
	  "$(grep -Ec '^ *(\[[0-9]+\] )?\}' "$TMP/deep.body")" ]
check "deep: the calls past $STORED levels are said not shown, exactly" \
	grep -q "^# $((4 + DEEP + 1 + 4 - (STORED + 8))) events not shown" "$TMP/deep.txt"
check "deep: a line $((STORED - 1)) levels deep names its function" \
	grep -Eq "^ {200}\[$((STORED - 1))\] vdeep\(\.\.\.\) = 0x[0-9a-f]+;$" "$TMP/deep.body"

# --- fill ---------------------------------------------------------------
# shellcheck disable=SC2086
$QEMU_RUN "$SPROG" fill $ROUNDS $DEEP >"$TMP/fplain.out" 2>&1
run fill -o "$TMP/fill.txt" -t vleaf --hist fill -- "$SPROG" fill $ROUNDS $DEEP
check "fill: exit status and output as untraced" \
	as_plain fill fplain.out
check "fill: each bottom vleaf() call's exit went unreported ($ROUNDS)" \
	[ "$(missed "$TMP/fill.txt" vleaf)" -eq $ROUNDS ]
body "$TMP/fill.txt" >"$TMP/fill.body"
check "fill: the trace shows every vleaf() call ($((2 * ROUNDS)))" \
	[ "$(grep -c 'vleaf(' "$TMP/fill.body")" -eq $((2 * ROUNDS)) ]
check "fill: the $ROUNDS unreported ones unwound, the others with a result" \
	[ "$(grep -c '^vleaf(\.\.\.) unwound;$' "$TMP/fill.body")" -eq $ROUNDS -a \
	  "$(grep -c '^vleaf(\.\.\.) = 0x[0-9a-f]*;$' "$TMP/fill.body")" -eq $ROUNDS ]
check "fill: every line at the outermost level" \
	[ "$(grep -c '^vleaf(' "$TMP/fill.body")" -eq $((2 * ROUNDS)) ]
check "fill: nothing left unmatched or not shown" \
	[ "$(grep -c 'not shown' "$TMP/fill.txt" "$TMP/fill.err" | awk -F: '{ s += $2 } END { print s }')" -eq 0 ]

run fillc --format chrome -o "$TMP/fill.json" -t vleaf --hist fill -- \
	"$SPROG" fill $ROUNDS $DEEP
check "fill, Chrome JSON: a begin and an end for every call, $ROUNDS unwound" \
	[ "$(grep -c '"ph":"B"' "$TMP/fill.json")" -eq $((2 * ROUNDS)) -a \
	  "$(grep -c '"ph":"E"' "$TMP/fill.json")" -eq $((2 * ROUNDS)) -a \
	  "$(grep -c '"unwound":"1"' "$TMP/fill.json")" -eq $ROUNDS ]

finish
