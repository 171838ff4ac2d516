#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run on compiler clones (Documentation/models.rst, "Compiler
# clones"), as a user would run it: selftests/progs/clones_prog calls
# the .isra, .constprop, .part and .lto_priv clones of libclones*.so and
# clang's argument-dropped dae(), 20 times each, and the same kinds with
# FP, long double, vector, stack and by-reference arguments
# (clones_abi.c) and the DW_CC_nocall function, 20 times each.  Traced with -t or
# --count, the program prints what it prints untraced and exits 0; the
# counts are exact; clones without a proven convention show their
# arguments as (...) (the unknown model), the .lto_priv ones by name.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 12

PROG=$PROGS/clones_prog
need_prog "$PROG" 12 clones


CLONES=(sra.isra.0@libclones.so cp.constprop.0@libclones.so
	part_sum.part.0@libclones.so 'helper.lto_priv.*@libclones-lto.so'
	dae@libclones-clang.so)
# Arguments beyond x0-x7: each gets the unknown model, but fhelper's.
ABI_UNKNOWN=(fsra.isra.0 fcp.constprop.0 many.isra.0 fmany.constprop.0
	     bigref.constprop.0 part_many.part.0 cl_nocall)
for c in "${ABI_UNKNOWN[@]}"; do
	CLONES+=("$c@libclones.so")
done
CLONES+=('fhelper.lto_priv.*@libclones-lto.so')

# same NAME: the run exited 0 and printed what the untraced one did.
same() {
	[ "$(cat "$TMP/plain.rc")" -eq 0 ] && [ "$(cat "$TMP/$1.rc")" -eq 0 ] &&
		cmp -s "$TMP/plain.out" "$TMP/$1.out"
}

run plain --count cl_isra@libclones.so -- "$PROG"
args=()
for c in "${CLONES[@]}"; do
	args+=(--count "$c")
done
run count "${args[@]}" -- "$PROG"
check "--count on every clone: exit 0, output as untraced" \
	same count
count_of() {
	awk -v f="$1" '$2 == f && $1 ~ /^[0-9]+$/ { print $1 }' "$TMP/count.err"
}
check "--count: 20 calls of each clone" \
	[ "$(count_of sra.isra.0@libclones.so) $(count_of cp.constprop.0@libclones.so) $(count_of part_sum.part.0@libclones.so) $(count_of helper.lto_priv.0@libclones-lto.so) $(count_of dae@libclones-clang.so)" = \
	  "20 20 20 20 20" ]
abi_counts() {
	local c
	for c in "${ABI_UNKNOWN[@]}"; do
		printf '%s ' "$(count_of "$c@libclones.so")"
	done
	count_of fhelper.lto_priv.1@libclones-lto.so
}
check "--count: 20 calls of each clone with FP, stack or by-reference arguments" \
	[ "$(abi_counts)" = "20 20 20 20 20 20 20 20" ]
[ "$(cat "$TMP/count.rc")" -eq 0 ] || diag <"$TMP/count.err"

args=()
for c in "${CLONES[@]}"; do
	args+=(-t "$c")
done
run trace -o "$TMP/t" "${args[@]}" -- "$PROG"
check "-t on every clone: exit 0, output as untraced" same trace
check "sra.isra.0: the unknown model, 20 calls" \
	[ "$(grep -Ec ' sra\.isra\.0@libclones\.so\(\.\.\.\) = 0x[0-9a-f]+;$' "$TMP/t")" -eq 20 ]
check "cp.constprop.0: the unknown model, 20 calls" \
	[ "$(grep -Ec ' cp\.constprop\.0@libclones\.so\(\.\.\.\) = 0x[0-9a-f]+;$' "$TMP/t")" -eq 20 ]
check "part_sum.part.0: the unknown model, 20 calls" \
	[ "$(grep -Ec ' part_sum\.part\.0@libclones\.so\(\.\.\.\) = 0x[0-9a-f]+;$' "$TMP/t")" -eq 20 ]
check "dae (clang dropped an argument): the unknown model, 20 calls" \
	[ "$(grep -Ec ' dae@libclones-clang\.so\(\.\.\.\) = 0x[0-9a-f]+;$' "$TMP/t")" -eq 20 ]
unknown_lines() {
	local c n=0
	for c in "${ABI_UNKNOWN[@]}"; do
		grep -Fq " $c@libclones.so(...) = 0x" "$TMP/t" && n=$((n + 1))
		[ "$(grep -Fc " $c@libclones.so(" "$TMP/t")" -eq 20 ] || return 1
	done
	[ $n -eq ${#ABI_UNKNOWN[@]} ]
}
check "FP, stack, by-reference clones and cl_nocall: the unknown model, 20 calls each" \
	unknown_lines
check "fhelper.lto_priv.0: its own model, FP arguments by name" \
	[ "$(grep -Ec ' fhelper\.lto_priv\.0@libclones-lto\.so\(a=[-0-9.e]+, b=[-0-9.e]+, c=[-0-9.e]+\) = [-0-9.e]+;$' "$TMP/t")" -eq 20 ]
check "helper.lto_priv.0: its own model, arguments by name" \
	[ "$(grep -Ec ' helper\.lto_priv\.0@libclones-lto\.so\(a=-?[0-9]+, b=-?[0-9]+\) = -?[0-9]+;$' "$TMP/t")" -eq 20 ]

run far --far "${args[@]}" -o "$TMP/f" -- "$PROG"
check "--far: exit 0, output as untraced" same far

finish
