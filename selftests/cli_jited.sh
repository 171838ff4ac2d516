#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp prog --jited: the JIT's code of selftests/progs/jited.bpf.c,
# instruction by instruction.  Checked line by line where the code is
# fixed: every BPF instruction in order, and the A64 lines of each but
# the helper calls (host addresses) and the prologues and epilogues
# (checked for their place only), with each branch target named by the
# BPF instruction, epilogue or function whose code starts there, so the
# listing stays exact whatever the prologue's length.  The offsets cover
# the image once, in order, with no gap.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 10

OBJ=$O/selftests/progs/bpf/jited.bpf.o

# hex("1f:") = 31, for awks without strtonum
HEX='function hex(s,  i, c, v) {
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1))
		if (!c) break
		v = v * 16 + c - 1
	}
	return v + 0
}
'

"$FTRAMP" prog --jited "$OBJ" jt_count >"$TMP/j" 2>"$TMP/e"
rc=$?
check "jited: jt_count listed, exit 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || diag <"$TMP/e"
check "jited: the header names the program, its size and 3 functions" \
	grep -Eq '^jt_count \(fentry/jt_target\): 34 insns, [0-9]+ bytes of A64 in 3 functions, [0-9]+ passes$' "$TMP/j"

# The functions, each with its prologue before instruction lines and its
# epilogue at the end.
check "jited: one label per function: the program, then .text's by symbol" \
	[ "$(grep '^bpf_prog_' "$TMP/j" | tr '\n' ' ')" = \
	  "bpf_prog_jt_count: bpf_prog_jt_count.jt_say: bpf_prog_jt_count.jt_twice: " ]

# Offsets: "   N:\t..." lines, consecutive words from 0 to the size.
bytes=$(sed -nE 's/^jt_count .*: 34 insns, ([0-9]+) bytes.*/\1/p' "$TMP/j")
awk -v bytes="$bytes" "$HEX"'
	/^ *[0-9a-f]+:\t/ { off = hex($1); if (off != want) bad = 1; want += 4 }
	END { exit bad || want != bytes }' "$TMP/j"
result "jited: the A64 lines cover the image once, in order ($bytes bytes)" $?

# The BPF lines: each instruction once, as the user wrote it (an
# ld_imm64's second half has none), but what the rewrite dropped: insn 6,
# `r1 = map ll` before the inlined lookup (bpf/fixup.c).
cat >"$TMP/bpf.want" <<'W'
; 0: (79) r6 = *(u64 *)(r1 +8)
; 1: (79) r7 = *(u64 *)(r1 +0)
; 2: (b7) r1 = 0
; 3: (63) *(u32 *)(r10 -4) = r1
; 4: (bf) r2 = r10
; 5: (07) r2 += -4
; 8: (85) call map_lookup_elem#1
; 9: (15) if r0 == 0x0 goto pc+2
; 10: (b7) r1 = 1
; 11: (db) lock *(u64 *)(r0 +0) += r1
; 12: (65) if r7 s> 0xffffffff goto pc+2
; 13: (bf) r1 = r7
; 14: (85) call pc+8
; 15: (0f) r6 += r7
; 16: (bf) r1 = r6
; 17: (85) call pc+13
; 18: (bf) r1 = r0
; 19: (b7) r0 = 1
; 20: (65) if r1 s> 0xa goto pc+1
; 21: (b7) r0 = 0
; 22: (95) exit
; 23: (bf) r6 = r1
; 24: (18) r1 = map[id:0][0]+0 ll
; 26: (b7) r2 = 11
; 27: (bf) r3 = r6
; 28: (85) call trace_printk#6
; 29: (bf) r0 = r6
; 30: (95) exit
; 31: (bf) r0 = r1
; 32: (67) r0 <<= 1
; 33: (95) exit
W
grep '^; [0-9]' "$TMP/j" >"$TMP/bpf.got"
check "jited: every BPF instruction once, in order" diff "$TMP/bpf.want" "$TMP/bpf.got"

# Normalise: each branch target becomes the label of the code there
# ("@N" an instruction, "@epilogue", "@name" a function, "@N+k" the
# k-th word of an instruction's code), offsets go.
awk "$HEX"'
	NR == FNR {
		if ($0 ~ /^bpf_prog_/) { lab = $0; sub(/^bpf_prog_[a-z_]*\.?/, "@", lab); sub(/:$/, "", lab); next }
		if ($0 ~ /^; [0-9]+:/) { lab = "@" $2; sub(/:$/, "", lab); next }
		if ($0 ~ /^; epilogue/) { lab = "@epilogue"; next }
		if ($0 ~ /^ *[0-9a-f]+:\t/) {
			if (lab != "") { cur = lab; base = hex($1); lab = "" }
			at[hex($1)] = hex($1) == base ? cur : cur "+" (hex($1) - base) / 4
		}
		next
	}
	/^ *[0-9a-f]+:\t/ {
		sub(/^ *[0-9a-f]+:\t/, "")
		if ($1 ~ /^(b|bl|b\.[a-z]+|cbz|cbnz)$/ && match($0, /#0x[0-9a-f]+$/)) {
			t = hex(substr($0, RSTART + 3))
			$0 = substr($0, 1, RSTART - 1) (t in at ? at[t] : "?")
		}
		print "\t" $0
		next
	}
	{ print }' "$TMP/j" "$TMP/j" >"$TMP/norm"

# The A64 lines of jt_count's instructions and of jt_twice's;
# prologues and epilogues are the JIT's to change.  The lookup into the
# ARRAY hits (insn 8) is inlined as a JIT load inlines it (bpf/fixup.c):
# its values' placeholder, the index checked against max_entries 1, the
# NULL path out of line, the 8-byte stride.
body() {
	awk -v from="$1" -v to="$2" '
		/^; [0-9]+:/ { n = $2 + 0; on = n >= from && n <= to }
		/^; epilogue/ || /^bpf_prog_/ { on = 0 }
		on' "$TMP/norm"
}
cat >"$TMP/count.want" <<'W'
; 0: (79) r6 = *(u64 *)(r1 +8)
	ldr	x19, [x0, #8]
; 1: (79) r7 = *(u64 *)(r1 +0)
	ldr	x20, [x0]
; 2: (b7) r1 = 0
	movz	x0, #0
; 3: (63) *(u32 *)(r10 -4) = r1
	stur	w0, [x25, #-4]
; 4: (bf) r2 = r10
	mov	x1, x25
; 5: (07) r2 += -4
	sub	x1, x1, #4
; 8: (85) call map_lookup_elem#1
	movz	x0, #0x1000
	movk	x0, #0x10, lsl #16
	movk	x0, #0xaaaa, lsl #32
	ldr	w7, [x1]
	cmp	w7, #1
	b.lo	@8+8
	movz	x7, #0
	b	@9
	lsl	x7, x7, #3
	add	x7, x7, x0
; 9: (15) if r0 == 0x0 goto pc+2
	cmp	x7, #0
	b.eq	@12
; 10: (b7) r1 = 1
	movz	x0, #0x1
; 11: (db) lock *(u64 *)(r0 +0) += r1
	ldaddal	x0, xzr, [x7]
; 12: (65) if r7 s> 0xffffffff goto pc+2
	cmn	x20, #1
	b.gt	@15
; 13: (bf) r1 = r7
	mov	x0, x20
; 14: (85) call pc+8
	bl	@jt_say
	mov	x7, x0
; 15: (0f) r6 += r7
	add	x19, x19, x20
; 16: (bf) r1 = r6
	mov	x0, x19
; 17: (85) call pc+13
	bl	@jt_twice
	mov	x7, x0
; 18: (bf) r1 = r0
	mov	x0, x7
; 19: (b7) r0 = 1
	movz	x7, #0x1
; 20: (65) if r1 s> 0xa goto pc+1
	cmp	x0, #0xa
	b.gt	@22
; 21: (b7) r0 = 0
	movz	x7, #0
; 22: (95) exit
	mov	x0, x7
W
body 0 22 >"$TMP/count.got"
check "jited: jt_count's A64 lines, branches to their instructions" \
	diff "$TMP/count.want" "$TMP/count.got"
[ $? -eq 0 ] || diff "$TMP/count.want" "$TMP/count.got" | head -20 | diag

cat >"$TMP/twice.want" <<'W'
; 31: (bf) r0 = r1
	mov	x7, x0
; 32: (67) r0 <<= 1
	lsl	x7, x7, #1
; 33: (95) exit
	mov	x0, x7
	ret
W
body 31 33 >"$TMP/twice.got"
check "jited: jt_twice's A64 lines" diff "$TMP/twice.want" "$TMP/twice.got"

# Every program of an object (a section with two programs, subprograms).
"$FTRAMP" prog --jited "$O/selftests/progs/bpf/bpf_trace.bpf.o" >"$TMP/all" 2>&1
rc=$?
check "jited: every program of bpf_trace.bpf.o, exit 0" \
	[ "$rc" -eq 0 ] && [ "$(grep -Ec '^[a-z_]+ \((fentry|fexit|fmod_ret)/' "$TMP/all")" -eq 3 ]

# A tail call into a constant slot of a prog array is the direct slot a
# JIT load makes (the verifier knew map and key): the counter checked
# and raised, the one-word slot (a nop while the slot is empty), the
# counter dropped again on the fall-through, R0 -ENOENT.
"$FTRAMP" prog --jited "$O/selftests/progs/bpf/bpf_helpers.bpf.o" >"$TMP/h" 2>&1
awk '/^; [0-9]+: \(85\) call tail_call#12$/ { on = 1; next }
     /^;/ { on = 0 }
     on { sub(/^ *[0-9a-f]+:\t/, ""); if ($1 ~ /^b/) sub(/#0x[0-9a-f]+$/, "#"); print }' \
	"$TMP/h" >"$TMP/tail.got"
printf '%s\n' "cmp	x26, #0x21" "b.hs	#" "add	x26, x26, #1" "nop" \
	"sub	x26, x26, #1" "movn	x7, #0x1" >"$TMP/tail.want"
check "jited: a constant-index tail call is listed as its direct slot" \
	diff "$TMP/tail.want" "$TMP/tail.got"

expect_fail "jited: an unknown program exits 1, named" 1 'no program nosuch' \
	"$FTRAMP" prog --jited "$OBJ" nosuch
