#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Mutation check for the A64 instruction tests: break arch/arm64/insn.c in
# one small way at a time (a bit moved, a scale off by one, a range check
# widened), rebuild selftests/insn_test.c for the host against the broken
# copy, and require that the tests fail.  A mutation that survives means
# the tests miss a class of bug.
#
#   scripts/insn-mutate.sh            run every mutation
#   HOSTCC=clang AS=... scripts/insn-mutate.sh
#
# Works on copies in a temporary directory; the tree is never touched.
# Prints TAP.
set -u

srctree=$(cd "$(dirname "$0")/.." && pwd)
HOSTCC=${HOSTCC:-gcc}
export AS=${AS:-aarch64-linux-gnu-as}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name|sed expression applied to insn.c (each must change the file)
mutations=(
	'ldp offset scale|s/field(off >> scale, 7) << 15/field(off >> (scale - 1), 7) << 15/'
	'pre/post index bits swapped|s/(mode == A64_PRE ? 3u : 1u) << 10/(mode == A64_PRE ? 1u : 3u) << 10/'
	'adr immlo/immhi split|s/(imm \& 3) << 29 | (imm >> 2) << 5/(imm \& 3) << 5 | (imm >> 2) << 7/'
	'tbz b5 dropped|s/return (bit >> 5) << 31 | opcode/return opcode/'
	'extend option position|s/(uint32_t)ext << 13/(uint32_t)ext << 12/'
	'cas release bit|s/(uint32_t)!!(ord \& A64_REL) << 15/(uint32_t)!!(ord \& A64_REL) << 14/'
	'bitmask imms element size|s/((~(esize - 1) << 1) \& 0x3f)/((~(esize - 1)) \& 0x3f)/'
	'b range one bit wider|s/pcrel_words(pc, target, 26, \&imm)/pcrel_words(pc, target, 27, \&imm)/'
	'ldr unsigned offset limit|s/(off >> c.scale) > 0xfff/(off >> c.scale) > 0x1fff/'
	'writeback overlap allowed|s/if (size < A64_LS_S \&\& n == t \&\& n != 31)/if (0)/'
	'sp accepted as zr|s/if ((unsigned int)r <= A64_ZR)/if ((unsigned int)r <= A64_SP)/'
	'movk hw field|s/(shift \/ 16) << 21/(shift \/ 16) << 20/'
	'mov_imm movn inverted|s/a64_movn(w, rd, ~hw \& 0xffff, 16 \* i)/a64_movn(w, rd, hw, 16 * i)/'
	'concurrent set grows|s/if (insn == A64_ISB)/if ((insn \& 0xfffff0ffu) == 0xd50330dfu)/'
	'adrp page rounding|s/int64_t off = (int64_t)((target \& page_mask) - (pc \& page_mask));/int64_t off = (int64_t)(target - pc) \& ~0xfffll;/'
	'branch decode width|s/off = sign_extend(insn >> 5, 14) \* 4;/off = sign_extend(insn >> 5, 13) * 4;/'
)

cflags="-O1 -g -std=gnu11 -I$tmp/tree -I$tmp/tree/include -D_GNU_SOURCE -w"
mkdir -p "$tmp/tree/arch/arm64" "$tmp/tree/selftests"
cp -r "$srctree/include" "$tmp/tree/"
cp "$srctree/arch/arm64/insn.h" "$tmp/tree/arch/arm64/"
cp "$srctree/selftests/harness.h" "$srctree/selftests/insn_test.c" \
	"$tmp/tree/selftests/"

echo "TAP version 13"
echo "1..$((${#mutations[@]} + 1))"

# The unmutated tree must pass, or the rest means nothing.
cp "$srctree/arch/arm64/insn.c" "$tmp/tree/arch/arm64/insn.c"
if $HOSTCC $cflags -o "$tmp/t" "$tmp/tree/selftests/insn_test.c" \
	"$tmp/tree/arch/arm64/insn.c" && "$tmp/t" >"$tmp/log" 2>&1; then
	echo "ok 1 unmutated insn.c passes"
else
	echo "not ok 1 unmutated insn.c passes"
	sed 's/^/# /' "$tmp/log" | tail -20
	exit 1
fi

n=1 fail=0
for m in "${mutations[@]}"; do
	n=$((n + 1))
	name=${m%%|*}
	expr=${m#*|}
	sed -e "$expr" "$srctree/arch/arm64/insn.c" >"$tmp/tree/arch/arm64/insn.c"
	if cmp -s "$srctree/arch/arm64/insn.c" "$tmp/tree/arch/arm64/insn.c"; then
		echo "not ok $n $name # mutation did not apply"
		fail=1
		continue
	fi
	if ! $HOSTCC $cflags -o "$tmp/t" "$tmp/tree/selftests/insn_test.c" \
		"$tmp/tree/arch/arm64/insn.c" 2>"$tmp/log"; then
		echo "not ok $n $name # does not compile"
		fail=1
		continue
	fi
	"$tmp/t" >"$tmp/log" 2>&1
	failed=$(grep -cE '^not ok' "$tmp/log")
	if [ "$failed" -gt 0 ]; then
		echo "ok $n $name # caught by: $(grep -E '^not ok' "$tmp/log" |
			sed 's/^not ok [0-9]* //' | tr '\n' ' ')"
	else
		echo "not ok $n $name # survived"
		fail=1
	fi
done
exit $fail
