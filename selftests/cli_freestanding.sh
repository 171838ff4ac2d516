#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The preload agent depends on libc alone (issue 19): the ELF and DWARF
# work is done by the ftramp process, which hands the agent the
# site-and-model table (ftrace/site_table.h) in the session file.
#
#  - the agent's DT_NEEDED lists libc (and the loader's own) only;
#  - a program run against a patchable zlib in LD_LIBRARY_PATH
#    (progs/fakez.c), the case of a user testing their zlib: --count '*'
#    counts the program's own calls and nothing else, and the process
#    maps no libelf, no libdw and no libz but the program's;
#  - --override 'adler32@libz.so=5' changes what the program sees of
#    adler32 and nothing else;
#  - -t shows the arguments by their DWARF names: models reach the agent
#    through the table;
#  - a library dlopen()ed later, which the table lacks: the agent asks
#    the ftramp process for its table (session slot, bounded wait);
#  - and when that table does not arrive (fault point table_request in
#    the agent): symbols only, said once, counted, traced without
#    argument models.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 10

ZPROG=$PROGS/zprog
ZDIR=$PROGS/zlib
need_prog "$ZPROG" 10 "freestanding"

# 1. DT_NEEDED: libc and the loader's own libraries only.
needed=$("${READELF:-readelf}" -d "$AGENT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
bad=$(echo "$needed" | grep -Ev '^(libc\.so\.6|ld-linux-aarch64\.so\.1|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|libm\.so\.6)$')
if [ -n "$needed" ] && [ -z "$bad" ]; then
	ok "the agent needs libc alone: $(echo $needed)"
else
	not_ok "the agent needs libc alone"
	echo "NEEDED: $needed" | diag
fi

export LD_LIBRARY_PATH=$ZDIR

# 2-4. --count '*' with the user's zlib in LD_LIBRARY_PATH
run count --count '*' -- "$ZPROG"
result "--count '*' against a patchable libz: exits 0" "$(cat "$TMP/count.rc")"
# the count table: every function with a non-zero count
counted=$(awk '/CALLS  FUNCTION/ { t = 1; next } t && $1 > 0 { print $1, $2 }' \
	"$TMP/count.out" "$TMP/count.err" | sort -k2)
want=$(printf '%s\n' "3 adler32@libz.so" "2 crc32@libz.so" "1 main" | sort -k2)
if [ "$counted" = "$want" ]; then
	ok "--count '*': only the program's calls (adler32 3, crc32 2, main 1)"
else
	not_ok "--count '*': only the program's calls"
	{ echo "counted:"; echo "$counted"; cat "$TMP/count.err"; } | diag
fi
maps=$(sed -n 's/^maps: //p' "$TMP/count.out")
if [ "$maps" = "$(cd "$ZDIR" && pwd -P)/libz.so.1" ]; then
	ok "the traced process maps no libelf, libdw or other libz"
else
	not_ok "the traced process maps no libelf, libdw or other libz"
	echo "$maps" | diag
fi

# 5-6. --override adler32: the program sees 5, the rest unchanged
run plain --count main -- "$ZPROG"
run over --override 'adler32@libz.so=5' -- "$ZPROG"
result "--override 'adler32@libz.so=5': exits 0" "$(cat "$TMP/over.rc")"
if [ "$(grep -c '^adler32(.*) = 5$' "$TMP/over.out")" -eq 3 ] &&
   [ "$(grep -v '^adler32' "$TMP/over.out")" = \
     "$(grep -v '^adler32' "$TMP/plain.out")" ] &&
   [ "$(grep -c '^crc32' "$TMP/over.out")" -eq 2 ]; then
	ok "--override adler32 changes adler32's results and nothing else"
else
	not_ok "--override adler32 changes adler32's results and nothing else"
	diff "$TMP/plain.out" "$TMP/over.out" | diag
fi

# 7-8. -t: the DWARF model came through the table
run trace -t 'adler32@libz.so' -- "$ZPROG"
result "-t adler32@libz.so: exits 0" "$(cat "$TMP/trace.rc")"
if [ "$(grep -c 'adler32@libz.so(adler=1, buf=0x[0-9a-f]*, len=[0-9]*) = [0-9]*;' \
	"$TMP/trace.err" "$TMP/trace.out" | awk -F: '{ n += $NF } END { print n }')" -eq 3 ]; then
	ok "-t shows adler32's arguments by name (model from the table)"
else
	not_ok "-t shows adler32's arguments by name (model from the table)"
	cat "$TMP/trace.err" | diag
fi

# 9. a library loaded later with dlopen(), which the ftramp process did
# not read ahead: the agent asks it for the library's table through its
# session slot (a bounded wait) and traces with the DWARF model.
run dl -t 'crc32@libzdl.so' --count 'crc32@*' -- "$ZPROG" dl
if [ "$(cat "$TMP/dl.rc")" -eq 0 ] &&
   grep -q '^ *2  crc32@libzdl.so$' "$TMP/dl.err" &&
   [ "$(cat "$TMP/dl.out" "$TMP/dl.err" | grep -c 'crc32@libzdl.so(crc=0, buf=0x[0-9a-f]*, len=[46]) = \(1799923261\|1938324794\);')" -eq 2 ] &&
   ! grep -q 'maps: .*lib\(elf\|dw\)' "$TMP/dl.out"; then
	ok "dlopen()ed later: its table asked of the ftramp process, traced with its model"
else
	not_ok "dlopen()ed later: its table asked of the ftramp process, traced with its model"
	cat "$TMP/dl.out" "$TMP/dl.err" | diag
fi

# 10. the same, but the ftramp process's answer does not arrive (the
# agent's fault point, as a timed-out request): the agent reads the
# library's symbols itself and says so; counts stay exact, -t shows the
# unknown model's raw registers.
FTRAMP_FAULT=table_request:1:1:110 \
	run nodl -t 'crc32@libzdl.so' --count 'crc32@*' -- "$ZPROG" dl
said=$(grep -c "^ftramp: .*libzdl.so: no site-and-model table from the ftramp process (.*timed out.*): symbols only, no argument models$" \
	"$TMP/nodl.err")
if [ "$(cat "$TMP/nodl.rc")" -eq 0 ] && [ "$said" -eq 1 ] &&
   grep -q '^ *2  crc32@libzdl.so$' "$TMP/nodl.err" &&
   [ "$(cat "$TMP/nodl.out" "$TMP/nodl.err" | grep -c 'crc32@libzdl.so(\.\.\.) = ')" -eq 2 ] &&
   ! grep -q 'crc32@libzdl.so(crc=' "$TMP/nodl.out" "$TMP/nodl.err"; then
	ok "dlopen()ed later, no table arrives: symbols only, said once, counted, traced with the unknown model"
else
	not_ok "dlopen()ed later, no table arrives: symbols only, said once, counted, traced with the unknown model"
	cat "$TMP/nodl.out" "$TMP/nodl.err" | diag
fi

finish
