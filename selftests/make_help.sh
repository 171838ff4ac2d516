#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `make help` as a newcomer reads it: every target a user may type (each
# .PHONY of the Makefile and its fragments, but the internal ones) is
# listed, and asking for help builds nothing: the build folder it names
# is not even created.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
plan 3

# Rules the other targets use, not typed by users.
internal=" FORCE build-all deps-ok deps-check bench-ftramp-run bench-startup-run "

out=$TMP/o
help=$(MAKEFLAGS= MFLAGS= make -s -C "$SRC" O="$out" help 2>&1)
result "make help runs" $?

[ ! -e "$out" ]
result "make help writes nothing (O=$out not created)" $?

missing=
for t in $(sed -n 's/^\.PHONY:[[:space:]]*//p' "$SRC/Makefile" "$SRC"/selftests/*.mk \
		"$SRC"/tools/ftramp/*.mk "$SRC"/samples/*.mk "$SRC"/bench/*.mk | tr ' ' '\n' | sort -u); do
	case $internal in *" $t "*) continue ;; esac
	printf '%s\n' "$help" | grep -Eq "^  $t( |$)" || missing="$missing $t"
done
[ -z "$missing" ]
result "make help lists every user target${missing:+ (missing:$missing)}" $?

finish
