#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run on a realistic program: a small bytecode interpreter
# (selftests/progs/interp.c) built -O2 -g as users build theirs, so that
# GCC made .isra, .constprop and .part clones and .cold parts of its
# helpers; setjmp/longjmp error recovery out of the variadic
# interp_error() (the unknown model: a return hook), varargs, callbacks
# through tables, recursion 48 deep.  With --count '*', -t on a subset
# and --hist at once, and with --count alone:
#
#  - output bit for bit and exit status as untraced;
#  - counts exact: equal to the program's own counts, and to the trace's
#    lines for every traced function;
#  - each interp_error() call closed unwound, every statement's call at
#    the outermost level after 3 x 8 longjmps;
#  - histograms: every call, the unwound ones apart (their entry time is
#    gone with their frame: an unwound report once read a stale slot and
#    put calls of 2^60 ns in the histogram).
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 12

PROG=$PROGS/interp_prog
ROUNDS=3
need_prog "$PROG" 12 "interpreter"

TRACED=(run_statement interp_error 'call_builtin.constprop.0' 'digest.part.0'
	'offset_of.isra.0' emit op_div expect parse_expr)

# count_of FILE FUNC: FUNC's row of the CALLS table.
count_of() {
	awk -v f="$2" '/^ *CALLS +FUNCTION$/ { on = 1; next }
		on && NF == 2 && $2 == f { print $1 }' "$1"
}

# own COUNTER: the program's own count (its last line).
own() {
	sed -n "s/.*[:,] $1 \([0-9]*\).*/\1/p" "$TMP/plain.out"
}

$QEMU_RUN "$PROG" $ROUNDS >"$TMP/plain.out" 2>&1
plain_rc=$?
[ $plain_rc -eq 0 ] && [ "$(grep -c '^8 errors' "$TMP/plain.out")" -eq $ROUNDS ]
result "untraced: runs its script $ROUNDS times, 8 errors recovered each" $?

"$FTRAMP" list "$PROG" >"$TMP/list" 2>&1
grep -Eq 'usable +[a-z_]+\.isra\.[0-9]+$' "$TMP/list" &&
grep -Eq 'usable +[a-z_]+\.constprop\.[0-9]+$' "$TMP/list" &&
grep -Eq 'usable +[a-z_]+\.part\.[0-9]+$' "$TMP/list"
result "gcc made a usable site of each clone kind (.isra, .constprop, .part)" $?
check "and .cold parts (code of functions, not sites)" \
	bash -c "$READELF -sW '$PROG' | grep -Eq ' [a-z_]+\\.cold\$' &&
		 ! grep -q '\\.cold' '$TMP/list'"

targs=()
for f in "${TRACED[@]}"; do
	targs+=(-t "$f")
done
run all -o "$TMP/all.txt" --count '*' "${targs[@]}" --hist vm_run \
	--hist 'parse_*' -- "$PROG" $ROUNDS
[ "$(cat "$TMP/all.rc")" -eq $plain_rc ] && cmp -s "$TMP/plain.out" "$TMP/all.out"
result "--count '*', -t, --hist: output bit for bit and exit status as untraced" $?
if ! cmp -s "$TMP/plain.out" "$TMP/all.out"; then
	diff "$TMP/plain.out" "$TMP/all.out" | head -5 | diag
	head -5 "$TMP/all.err" | diag
fi
check "--count: the program's own counts (statements, VM runs, errors, builtins)" \
	[ "$(count_of "$TMP/all.txt" run_statement)" = "$(own run_statement)" -a \
	  "$(count_of "$TMP/all.txt" vm_run)" = "$(own vm_run)" -a \
	  "$(count_of "$TMP/all.txt" interp_error)" = "$(own interp_error)" -a \
	  "$(count_of "$TMP/all.txt" call_builtin.constprop.0)" = "$(own builtins)" ]
bad=
for f in "${TRACED[@]}"; do
	n=$(grep -Fc " $f(" "$TMP/all.txt")
	[ "$n" -gt 0 ] && [ "$n" = "$(count_of "$TMP/all.txt" "$f")" ] ||
		bad="$bad $f:$n/$(count_of "$TMP/all.txt" "$f")"
done
check "-t: one call in the trace per call counted, for each traced function" [ -z "$bad" ]
[ -n "$bad" ] && echo "lines/count:$bad" | diag
check "-t: each interp_error() call closed unwound (it longjmp()s)" \
	[ "$(grep -Ec ' interp_error\(\.\.\.\) unwound;$' "$TMP/all.txt")" -eq "$(own interp_error)" ]
check "-t: every statement at the outermost level, after every longjmp" \
	awk '/ run_statement\(/ { match($0, /run_statement/); if (c && RSTART != c) bad = 1
				  c = RSTART; n++ }
	     END { exit bad || n != '"$(own run_statement)"' }' "$TMP/all.txt"

# hist_calls FILE FUNC: "CALLS UNWOUND SUM DIGITS": the header's calls
# and unwound calls, the buckets added up, the digits of the highest
# non-empty bucket's bound.
hist_calls() {
	awk -v f="$2:" '$1 == f { on = 1; c = $2; u = ($5 == "unwound" ? $4 : 0)
				 next }
		on && /^ *[0-9]+ -> [0-9]+ *:/ { s += $5; if ($5 > 0) m = length($3); next }
		on && !/nsecs/ { on = 0 }
		END { print c + 0, u + 0, s + 0, m + 0 }' "$1"
}
read -r c u s m <<<"$(hist_calls "$TMP/all.txt" vm_run)"
[ "$c" = "$(own vm_run)" ] && [ "$u" -gt 0 ] && [ $((s + u)) -eq "$c" ]
result "--hist vm_run: every call ($c, --count's), the unwound ($u) apart" $?
[ "$m" -gt 0 ] && [ "$m" -le 13 ]
result "--hist vm_run: no call in a bucket past 10^13 ns (an unwound one read a stale slot: 2^60)" $?
read -r c u s m <<<"$(hist_calls "$TMP/all.txt" parse_expr)"
[ "$c" = "$(count_of "$TMP/all.txt" parse_expr)" ] && [ "$u" -gt 0 ] &&
[ $((s + u)) -eq "$c" ] && [ "$m" -le 13 ]
result "--hist parse_expr: every call (--count's), the unwound apart" $?

run count --count '*' -- "$PROG" $ROUNDS
[ "$(cat "$TMP/count.rc")" -eq $plain_rc ] && cmp -s "$TMP/plain.out" "$TMP/count.out" &&
[ "$(count_of "$TMP/count.err" vm_run)" = "$(own vm_run)" ] &&
[ "$(count_of "$TMP/count.err" digest.part.0)" = "$(count_of "$TMP/all.txt" digest.part.0)" ]
result "--count '*' alone: output as untraced, the same counts" $?

finish
