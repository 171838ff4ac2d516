#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Argument reads never crash the traced program (tools/ftramp/agent/peek.c):
# selftests/progs/argread passes a small integer as a char *, strings that
# end exactly at a page followed by a PROT_NONE page (terminated and not),
# a byte buffer at the very end of a mapping, a long string, the same
# buffer and string at the end of an mmap'd file (the page after it has
# no file behind it: SIGBUS, which qemu's page-protection check did not
# see), and unsigned char *, void * and char * side by side.  Traced with
# -t, the program must print what it prints untraced and exit 0, and the
# arguments must read as documented in Documentation/cli.rst: strings
# only for char * (const or not), "<unreadable>" where memory ends,
# pointers for uint8_t *, unsigned char * and void *, hex bytes with
# --hexdump, --strlen as the bound.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 21

PROG=$PROGS/argread
need_prog "$PROG" 21 argread


# The untraced run, through the same runner (qemu elsewhere).
run plain --count main -- "$PROG"
run traced -o "$TMP/t.trace" -t 'is_null' -t 'first_byte' -t 'crc8' \
	-t 'name_len' -t 'kinds' -- "$PROG"
check "traced: exit status 0, as untraced" \
	[ "$(cat "$TMP/traced.rc")" -eq 0 -a "$(cat "$TMP/plain.rc")" -eq 0 ]
check "traced: the program's output is unchanged" \
	cmp -s "$TMP/plain.out" "$TMP/traced.out"
grep -v '^#' "$TMP/t.trace" >"$TMP/t" 2>/dev/null
check "is_null((char *)16): the pointer, unreadable" \
	grep -Eq ' is_null\(p=0x10 <unreadable>\) = 0;$' "$TMP/t"
check "is_null((char *)0x1000): the pointer, unreadable" \
	grep -Eq ' is_null\(p=0x1000 <unreadable>\) = 0;$' "$TMP/t"
check "a string ending at a PROT_NONE page reads whole" \
	grep -Eq ' is_null\(p="end of page"\) = 0;$' "$TMP/t"
check "an unterminated string running into it stops there" \
	grep -Eq ' first_byte\(p="xyz"<unreadable>\) = 120;$' "$TMP/t"
check "uint8_t * prints as a pointer, not a string" \
	grep -Eq ' crc8\(buf=0x[0-9a-f]+, n=8\) = ' "$TMP/t"
check "unsigned char * and void * print as pointers, char * as a string" \
	grep -Eq ' kinds\(u=0x[0-9a-f]+, v=0x[0-9a-f]+, s="plain"\) = 492;$' "$TMP/t"
check "a string at the end of an mmap'd file stops there (twice: anon, file)" \
	[ "$(grep -Ec ' first_byte\(p="xyz"<unreadable>\) = 120;$' "$TMP/t")" -eq 2 ]
check "a string longer than the default --strlen (32) is cut" \
	grep -Eq ' name_len\(name="a rather long name that --strlen"\.\.\.\) = 43;$' "$TMP/t"
[ -s "$TMP/t" ] || diag <"$TMP/traced.err"

run hex -o "$TMP/h.trace" -t 'crc8' -t 'name_len' -t 'kinds' --hexdump 12 \
	--strlen 8 -- "$PROG"
check "--hexdump, --strlen 8: exit status 0" [ "$(cat "$TMP/hex.rc")" -eq 0 ]
check "--strlen bounds a string" \
	grep -Eq ' name_len\(name="a rather"\.\.\.\) = 43;$' "$TMP/h.trace"
check "--hexdump: the bytes up to the end of the mapping, and of the file" \
	[ "$(grep -Ec ' crc8\(buf=0x[0-9a-f]+ \[01 02 03 04 05 06 07 08 <unreadable>\], n=8\) = 62;$' \
	     "$TMP/h.trace")" -eq 2 ]
check "--hexdump: exit status 0, output as untraced" \
	cmp -s "$TMP/plain.out" "$TMP/hex.out"
check "--hexdump: unsigned char * and void * as bytes, char * a string" \
	grep -Eq ' kinds\(u=0x[0-9a-f]+ \[de ad be ef( [0-9a-f]{2}){8}\], v=0x[0-9a-f]+ \[de ad be ef( [0-9a-f]{2}){8}\], s="plain"\) = 492;$' \
	"$TMP/h.trace"

# Each fallback of tools/ftramp/agent/peek.c forced (qemu-user has no
# process_vm_readv: the default there is "write"; "futex" is what a
# native kernel whose seccomp policy refuses process_vm_readv gets).
for mode in write futex; do
	FTRAMP_PEEK=$mode run "peek_$mode" -o "$TMP/$mode.trace" -t 'is_null' \
		-t 'first_byte' --hexdump 12 -t crc8 -- "$PROG"
	check "FTRAMP_PEEK=$mode: exit 0, output as untraced" \
		bash -c "[ \$(cat '$TMP/peek_$mode.rc') -eq 0 ] &&
			 cmp -s '$TMP/plain.out' '$TMP/peek_$mode.out'"
	check "FTRAMP_PEEK=$mode: unreadable memory is found, readable read" \
		bash -c "grep -Eq ' is_null\(p=0x10 <unreadable>\)' '$TMP/$mode.trace' &&
			 grep -Eq ' is_null\(p=\"end of page\"\)' '$TMP/$mode.trace' &&
			 [ \$(grep -Ec ' first_byte\(p=\"xyz\"<unreadable>\)' '$TMP/$mode.trace') -eq 2 ] &&
			 [ \$(grep -Ec ' \[01 02 03 04 05 06 07 08 <unreadable>\]' '$TMP/$mode.trace') -eq 2 ]"
done

expect_fail "--hexdump out of range is refused" 2 "--hexdump '65': expected 0 to 64" \
	"$FTRAMP" run --hexdump 65 -- "$PROG"
expect_fail "--hexdump needs a number" 2 "--hexdump 'x': expected 0 to 64" \
	"$FTRAMP" run --hexdump x -- "$PROG"

finish
