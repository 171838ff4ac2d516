#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/check-includes.sh: the tree has no upward include, and the
# check does find one (in a scratch tree) in each form it knows.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
CHECK=$SRC/scripts/check-includes.sh

plan 5

"$CHECK" "$SRC" >"$TMP/tree.out" 2>&1
check "no file includes a higher layer's header" [ $? -eq 0 ]
diag <"$TMP/tree.out"

# A scratch tree: every layer includes the ones below it.
t=$TMP/t
mkdir -p "$t/lib" "$t/arch/arm64" "$t/trampoline" "$t/ftrace" \
	"$t/tools/ftramp" "$t/include/ftramp"
echo '#include <stdint.h>' >"$t/lib/a.h"
echo '#include "lib/a.h"' >"$t/arch/arm64/b.h"
printf '#include "arch/arm64/b.h"\n#include "c.h"\n' >"$t/trampoline/c.c"
printf '#include <ftramp/ftramp.h>\n#include "trampoline/c.h"\n' >"$t/ftrace/d.c"
echo '#include "ftrace/ftrace.h"' >"$t/tools/ftramp/e.c"
echo '#include <stdint.h>' >"$t/include/ftramp/ftramp.h"
check "a tree that includes only downward passes" "$CHECK" "$t"

# upward FILE LINE: the check must fail and name FILE:LINE.
upward() {
	local desc=$1 file=$2 text=$3
	cp "$t/$file" "$TMP/saved"
	printf '%s\n' "$text" >>"$t/$file"
	"$CHECK" "$t" >"$TMP/up.out" 2>&1
	local rc=$? line
	line=$(wc -l <"$t/$file")
	cp "$TMP/saved" "$t/$file"
	if [ $rc -eq 1 ] && grep -q "^$file:$line: " "$TMP/up.out"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc)"
		diag <"$TMP/up.out"
	fi
}
upward "arch including trampoline/ is refused" arch/arm64/b.h \
	'#include "trampoline/trampoline.h"'
upward "lib including <ftrace/...> (angle brackets) is refused" lib/a.h \
	'# include <ftrace/ftrace.h>'
upward "the public header including lib/ is refused" \
	include/ftramp/ftramp.h '#include "lib/thread.h"'
finish
