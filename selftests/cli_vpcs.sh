#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Variant-PCS functions through the CLI (selftests/progs/vpcs_prog.c):
# vp_axpy's symbol carries STO_AARCH64_VARIANT_PCS (aarch64_vector_pcs),
# so its callers keep q8-q23 live across the call, which no trampoline
# here preserves: ftramp refuses it (-EOPNOTSUPP in the API).
#
#  - `ftramp list` shows it unusable, with the reason;
#  - `ftramp run` with -t, --count or --hist naming it stops before
#    main() with status 125 and the reason, the program not run (named
#    without its @LIBNAME, the message gives the full name);
#  - a glob that also matches it traces only the plain function of the
#    same library; vp_axpy's callers still get q8-q23 back whole, and
#    output and exit status are as untraced.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 9

PROG=$PROGS/vpcs_prog
N=4
need_prog "$PROG" 9 "variant PCS"

$QEMU_RUN "$PROG" $N >"$TMP/plain.out" 2>&1
plain_rc=$?
[ $plain_rc -eq 0 ] && grep -qx "q8-q23 kept across $N calls" "$TMP/plain.out"
result "untraced: q8-q23 survive every vp_axpy call" $?

"$FTRAMP" list "$PROGS/libvpcs.so" >"$TMP/list" 2>&1
check "ftramp list: vp_axpy unusable, the variant PCS named as the reason" \
	grep -Eq "unusable +vp_axpy@libvpcs.so +\(variant PCS.*q8-q23" "$TMP/list"

for opt in -t --count --hist; do
	run refused "$opt" 'vp_axpy@libvpcs.so' -- "$PROG" $N
	[ "$(cat "$TMP/refused.rc")" -eq 125 ] &&
	grep -q "vp_axpy@libvpcs.so: variant PCS" "$TMP/refused.err" &&
	[ ! -s "$TMP/refused.out" ]
	result "ftramp run $opt vp_axpy: refused (125) with the reason, the program not run" $?
done

run bare -t vp_axpy -- "$PROG" $N
[ "$(cat "$TMP/bare.rc")" -eq 125 ] && grep -q "'vp_axpy@libvpcs.so'" "$TMP/bare.err"
result "ftramp run -t vp_axpy (no @LIBNAME): 125, naming vp_axpy@libvpcs.so" $?

run glob -o "$TMP/glob.trace" -t 'vp_*' -- "$PROG" $N
[ "$(cat "$TMP/glob.rc")" -eq $plain_rc ] && cmp -s "$TMP/plain.out" "$TMP/glob.out"
result "ftramp run -t 'vp_*': output and exit status as untraced (q8-q23 kept)" $?
[ "$(grep -c ' vp_plain@libvpcs.so(x=[0-9]*) = ' "$TMP/glob.trace")" -eq $N ] &&
! grep -q vp_axpy "$TMP/glob.trace"
result "ftramp run -t 'vp_*': vp_plain traced, vp_axpy left alone" $?
run count --count 'vp_*' -- "$PROG" $N
[ "$(cat "$TMP/count.rc")" -eq $plain_rc ] && cmp -s "$TMP/plain.out" "$TMP/count.out" &&
grep -Eq "^ *$N +vp_plain@libvpcs.so" "$TMP/count.err" &&
! grep -q vp_axpy "$TMP/count.err"
result "ftramp run --count 'vp_*': vp_plain counted, output as untraced" $?

finish
