#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Shared by the selftests/*.sh scripts (sourced, not a test itself):
# TAP output, paths, and helpers to check the ftramp command's output.
#
# The runner gives O (the build directory) and QEMU_RUN in the environment.
set -u

: "${O:?O must name the build directory}"
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FTRAMP=$O/tools/ftramp/ftramp
AGENT=$O/tools/ftramp/libftramp-agent.so
KVSTORE=$O/samples/kvstore
PROGS=$O/selftests/progs
HOST_ARCH=$(uname -m)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

tap_n=0
tap_failed=0

plan() {
	planned=$1
	echo "TAP version 13"
	echo "1..$1"
}

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n $*"
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n $1 # SKIP $2"
}

diag() {
	sed 's/^/# /'
}

# result DESC STATUS: ok when STATUS (an exit status) is 0.
result() {
	if [ "$2" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1"
	fi
}

# check DESC CMD...: ok when CMD succeeds.  One command: in
# `check DESC [ a ] && [ b ]` the shell runs `[ b ]` after check, its
# status lost.  For several, run them, then `result DESC $?`.
check() {
	local desc=$1
	shift
	"$@"
	result "$desc" $?
}

# expect_fail DESC STATUS REGEX CMD...: CMD must exit with STATUS and say
# something matching the extended regex REGEX on stderr.
expect_fail() {
	local desc=$1 want=$2 re=$3 rc
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$re" "$TMP/err"; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "exit $rc (want $want), stderr:" | diag
		head -5 "$TMP/err" | diag
	fi
}

# run NAME ARGS...: `ftramp run ARGS...` with its stdout, stderr and exit
# status in $TMP/NAME.{out,err,rc}; RUN_TIMEOUT seconds at most (120).
run() {
	local name=$1
	shift
	timeout "${RUN_TIMEOUT:-120}" "$FTRAMP" run "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
}

# missed_of FILE FUNC: FUNC's row of the MISSED table, 0 without one.
missed_of() {
	awk -v f="$2" '/^ *MISSED/ { on = 1; next }
		on && $2 == f { m = $1 } END { print m + 0 }' "$1"
}

# need_prog PATH N DESC: make check builds every test program, so one that
# is missing is a broken build: report the N tests that needed it as failed
# and end the script.
need_prog() {
	local i
	[ -x "$1" ] && return 0
	for i in $(seq "$2"); do
		not_ok "$3 $i: $1 not built (make O=$O selftests)"
	done
	finish
	exit 1
}

finish() {
	if [ "$tap_n" -ne "$planned" ]; then
		echo "# planned $planned tests, ran $tap_n"
		exit 1
	fi
	[ "$tap_failed" -eq 0 ]
}
