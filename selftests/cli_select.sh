#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Naming and selection (issue 14, "The CLI's naming and selection"),
# against the patchable stand-in for zlib (progs/fakez.c) put in
# LD_LIBRARY_PATH under a release's file name, libz.so.1.3.1.1-motley,
# with the soname's link beside it, as an installed zlib is:
#
#  - `ftramp list libz.so.1` finds the library as the loader would and
#    names its functions by the soname (adler32@libz.so), whatever the
#    file is called; FUNC@LIB and -N select in list as in run;
#  - `run` takes FUNC@LIB with LIB any of the library's names: soname,
#    report name, file name, path (a glob too), and a soname no file has
#    (read by the agent from the loaded object);
#  - -N/--notrace GLOB takes functions out of every selection; a
#    selection it empties is an error that says so;
#  - with -o, the agent's and ftramp's warnings go to stderr: the file
#    holds the report alone (text), or parses (Chrome).
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 25

ZPROG=$PROGS/zprog
EV=$PROGS/events_prog
need_prog "$ZPROG" 24 "select"
need_prog "$PROGS/zlib/libzsoname.so" 24 "select"
need_prog "$EV" 24 "select"

LIBS=$TMP/lib
mkdir -p "$LIBS"
cp "$PROGS/zlib/libz.so.1" "$LIBS/libz.so.1.3.1.1-motley"
ln -s libz.so.1.3.1.1-motley "$LIBS/libz.so.1"
# dlopen("libzdl.so") by `zprog dl` finds a file whose soname is libzother.so.7
cp "$PROGS/zlib/libzsoname.so" "$LIBS/libzsoname.so"
ln -s libzsoname.so "$LIBS/libzdl.so"
export LD_LIBRARY_PATH=$LIBS

# names FILE: the FUNCTION column of a list, one line
names() {
	awk 'NR > 1 && $1 ~ /^0x/ { print $NF }' "$1" | sort | tr '\n' ' '
}

# count_of FILE FUNC: FUNC's CALLS in a --count table, empty when absent
count_of() {
	awk -v f="$2" '/CALLS  FUNCTION/ { t = 1; next } t && $2 == f { print $1 }' "$1"
}

# rows FILE: the functions with a row in the --count table
rows() {
	awk '/CALLS  FUNCTION/ { t = 1; next } t && $1 ~ /^[0-9]+$/ { print $2 }' \
		"$1" | sort | tr '\n' ' '
}

# --- list ---------------------------------------------------------------
"$FTRAMP" list libz.so.1 >"$TMP/l1" 2>"$TMP/l1.err"
rc=$?
check "list libz.so.1 (no ./): found in LD_LIBRARY_PATH, exit 0" [ $rc -eq 0 ]
check "list libz.so.1: its 3 functions, named by the soname" \
	[ "$(names "$TMP/l1")" = "adler32@libz.so crc32@libz.so zlibVersion@libz.so " ]
"$FTRAMP" list "$LIBS/libz.so.1.3.1.1-motley" >"$TMP/l2" 2>&1
check "list of the file libz.so.1.3.1.1-motley: the same names (its soname's)" \
	[ "$(names "$TMP/l2")" = "adler32@libz.so crc32@libz.so zlibVersion@libz.so " ]
"$FTRAMP" list libz.so.1 'adler*@libz.so.1' >"$TMP/l3" 2>&1
check "list with FUNC@soname: 1 site" \
	grep -qx '1 sites, 1 usable matching adler\*@libz\.so\.1' "$TMP/l3"
"$FTRAMP" list -N 'crc*' libz.so.1 >"$TMP/l4" 2>&1
check "list -N 'crc*': 2 sites, crc32 left out" \
	[ "$(names "$TMP/l4")" = "adler32@libz.so zlibVersion@libz.so " ]
expect_fail "list of a library the loader cannot find: exit 1, says where it looked" \
	1 'libnothere\.so\.9: no such program or library \(in PATH, or where the loader looks' \
	"$FTRAMP" list libnothere.so.9
"$FTRAMP" list libzdl.so >"$TMP/l5" 2>&1
check "list libzdl.so (its soname libzother.so.7): named libzother.so" \
	[ "$(names "$TMP/l5")" = "adler32@libzother.so crc32@libzother.so zlibVersion@libzother.so " ]

# --- run: FUNC@LIB by each name -------------------------------------------
# zprog calls adler32 3 times (cli_freestanding.sh)
i=0
for lib in libz.so.1 libz.so libz.so.1.3.1.1-motley "$LIBS/libz.so.1" \
	   '*/libz.so.1.3.1.1-*'; do
	i=$((i + 1))
	run sel$i --count "adler*@$lib" -- "$ZPROG"
	check "run --count 'adler*@${lib/#"$LIBS"/DIR}': exit 0, adler32 counted 3 times, nothing else" \
		[ "$(cat "$TMP/sel$i.rc") $(rows "$TMP/sel$i.err")$(count_of "$TMP/sel$i.err" adler32@libz.so)" = \
		  "0 adler32@libz.so 3" ]
done
run soname --count 'crc32@libzother.so.7' -- "$ZPROG" dl
check "a soname no file has (libzother.so.7, dlopen()ed as libzdl.so): crc32 counted 2 times" \
	[ "$(cat "$TMP/soname.rc") $(rows "$TMP/soname.err")$(count_of "$TMP/soname.err" crc32@libzdl.so)" = \
	  "0 crc32@libzdl.so 2" ]

# --- -N -------------------------------------------------------------------
run n1 --count '*' -N 'crc32*' -- "$ZPROG"
check "--count '*' -N 'crc32*': adler32 3, main 1, no crc32 row" \
	[ "$(cat "$TMP/n1.rc") $(rows "$TMP/n1.err")" = "0 adler32@libz.so main " -a \
	  "$(count_of "$TMP/n1.err" adler32@libz.so) $(count_of "$TMP/n1.err" main)" = "3 1" ]
run n2 --count '*' --notrace '*@libz.so.1' -- "$ZPROG"
check "--notrace '*@libz.so.1' (by soname): the library's functions left out, main counted once" \
	[ "$(cat "$TMP/n2.rc") $(rows "$TMP/n2.err")$(count_of "$TMP/n2.err" main)" = "0 main 1" ]
# exit 3: ev_outer > ev_work, ev_exit_deep > ev_work, exit(3)
run n3 -t 'ev_*' -N ev_work -- "$EV" exit 3
check "-t 'ev_*' -N ev_work: ev_outer and ev_exit_deep traced, no ev_work line" \
	[ "$(cat "$TMP/n3.rc") $(grep -c ' ev_outer(' "$TMP/n3.err") $(grep -c ' ev_exit_deep(' "$TMP/n3.err") $(grep -c 'ev_work' "$TMP/n3.err")" = "3 1 1 0" ]
run n4 -t 'adler32@libz.so' -N 'adler*' -- "$ZPROG"
check "a selection -N empties: exit 125, said" \
	[ "$(cat "$TMP/n4.rc")" -eq 125 ]
check "a selection -N empties: the message names the glob and -N" \
	grep -qx "ftramp: -t 'adler32@libz.so': every function it matches (1) is excluded by -N" \
	"$TMP/n4.err"
run n5 --count adler32@libz.so -N 'nothing_like_this*' -- "$ZPROG"
check "-N matching nothing: no error, adler32 counted 3 times" \
	[ "$(cat "$TMP/n5.rc") $(count_of "$TMP/n5.err" adler32@libz.so)" = "0 3" ]

# --- warnings go to stderr, not into -o -----------------------------------
# a FUNC@LIB no library ever matched is a warning at exit (the agent), -v
# says what attached (agent and ftramp)
run w1 -v --count 'adler*@libz.so.1' --count 'x@libnothere.so' \
	-o "$TMP/w1.txt" -- "$ZPROG"
check "an unmatched FUNC@LIB at exit is an error: status 125" \
	[ "$(cat "$TMP/w1.rc")" = 125 ]
check "-o: the warning is on stderr" \
	grep -qx "ftramp: --count 'x@libnothere.so': the program loaded no library with a matching function" \
	"$TMP/w1.err"
check "-o: the file holds the count table alone" \
	[ "$(grep -v '^$' "$TMP/w1.txt" | tr -s ' ' | tr '\n' '|')" = \
	  " CALLS FUNCTION| 3 adler32@libz.so|" ]
check "-o: no line of stderr's in the file" \
	eval '! grep -q "^ftramp:" "$TMP/w1.txt"'
run w2 -v --format chrome -t 'adler*@libz.so.1' --count 'x@libnothere.so' \
	-o "$TMP/w2.json" -- "$ZPROG"
check "-o with Chrome JSON and warnings: the file parses, 3 adler32 begins" \
	[ "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for e in d["traceEvents"] if e["ph"] == "B" and e["name"] == "adler32@libz.so"))
' "$TMP/w2.json" 2>&1)" = 3 ]
check "-o with Chrome JSON: the warning on stderr" \
	grep -q "the program loaded no library with a matching function" "$TMP/w2.err"

finish
