#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp prog: the samples' BPF objects as the library's loader reads
# them (programs, maps, relocations), and a bad object refused with the
# loader's message (exit 1).
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 4

BPF=$O/selftests/progs/bpf

"$FTRAMP" prog "$O/samples/kvevents.bpf.o" >"$TMP/prog.out" 2>&1
check "prog: lists the fexit program on kv_put" \
	grep -Eq '^  put_exit +fexit +kv_put ' "$TMP/prog.out"
check "prog: lists the ring buffer and its relocation" \
	grep -Eq '^  fexit/kv_put insn [0-9]+: map events -> events$' "$TMP/prog.out"

"$FTRAMP" prog "$BPF/refuse_maptype.bpf.o" >"$TMP/bad.out" 2>&1
echo $? >"$TMP/bad.rc"
check "prog: a refused object exits 1" [ "$(cat "$TMP/bad.rc")" -eq 1 ]
check "prog: ... with the section, symbol and reason" \
	grep -q 'section .maps, symbol st: map type 7: unknown' "$TMP/bad.out"

finish
