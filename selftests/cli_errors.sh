#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Every error the ftramp command reports: the message says what is wrong
# (and what to do), and the exit status is 2 for a usage error, 1 for a
# failure, 125 when the agent in the traced program cannot do its job.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 33

CROSS_CC=${CROSS_COMPILE-aarch64-linux-gnu-}gcc
[ "$HOST_ARCH" = aarch64 ] && CROSS_CC=gcc
printf 'int main(void) { return 0; }\n' >"$TMP/noflags.c"
$CROSS_CC -O2 -o "$TMP/noflags" "$TMP/noflags.c" 2>/dev/null
NOFLAGS=$TMP/noflags
# A static program with sites: no dynamic loader to preload the agent.
printf 'int f(int x) { return x + 1; }\nint main(void) { return f(-1); }\n' >"$TMP/static.c"
$CROSS_CC -O2 -static -fpatchable-function-entry=4,2 -falign-functions=8 \
	-o "$TMP/static" "$TMP/static.c" 2>/dev/null

# Top level
expect_fail "no command: usage" 2 "Usage: ftramp COMMAND" "$FTRAMP"
expect_fail "unknown command" 2 "unknown command 'frobnicate'" \
	"$FTRAMP" frobnicate
check "--version prints the version" \
	bash -c "'$FTRAMP' --version | grep -Eq '^ftramp [0-9]+\.[0-9]+\.[0-9]+$'"
check "--help lists the commands" \
	bash -c "'$FTRAMP' --help | grep -q 'run \[OPTIONS\] -- PROG'"
check "run --help describes every option" \
	bash -c "'$FTRAMP' run --help | grep -q -- '--override FUNC=VALUE'"

# ftramp run: arguments
expect_fail "run: nothing to do" 2 "nothing to do: give -t, --hist, --count, --override or -e" \
	"$FTRAMP" run -- "$KVSTORE"
expect_fail "run: no program" 2 "no program given" "$FTRAMP" run -t kv_put --
expect_fail "run: unknown option" 2 "Usage: ftramp run" \
	"$FTRAMP" run --frobnicate -- "$KVSTORE"
expect_fail "run: --override without =" 2 "expected FUNC=VALUE" \
	"$FTRAMP" run --override kv_put -- "$KVSTORE"
expect_fail "run: --override with 0" 2 "must be non-zero" \
	"$FTRAMP" run --override kv_put=0 -- "$KVSTORE"
expect_fail "run: --override with text" 2 "'many' is not a 64-bit integer or a float" \
	"$FTRAMP" run --override kv_put=many -- "$KVSTORE"
expect_fail "run: bad --format" 2 "--format 'xml': expected text or chrome" \
	"$FTRAMP" run --format=xml -t kv_put -- "$KVSTORE"
expect_fail "run: comma in a glob" 2 "one name per option" \
	"$FTRAMP" run -t kv_put,kv_get -- "$KVSTORE"

# ftramp run: the program
expect_fail "run: program not found in PATH" 1 "nosuchprog: program not found in PATH" \
	"$FTRAMP" run -t main -- nosuchprog
expect_fail "run: program not found by path" 1 "/nonexistent/prog: program not found" \
	"$FTRAMP" run -t main -- /nonexistent/prog
if [ "$HOST_ARCH" != aarch64 ]; then
	expect_fail "run: a host program is not arm64" 1 "an x86-64 program; ftramp works on arm64" \
		"$FTRAMP" run -t main -- /bin/true
else
	skip "run: a host program is not arm64" "host is arm64"
fi
expect_fail "run: program built without the flags" 1 \
	"no patchable function entries: build it with -fpatchable-function-entry=4,2 -falign-functions=8" \
	"$FTRAMP" run -t main -- "$NOFLAGS"
expect_fail "run: agent not found" 1 "agent '/nonexistent/agent.so' not found" \
	"$FTRAMP" run --agent /nonexistent/agent.so -t main -- "$KVSTORE"
if [ "$HOST_ARCH" != aarch64 ]; then
	expect_fail "run: qemu not found" 1 "no-such-qemu not found: install qemu-user" \
		"$FTRAMP" run --qemu no-such-qemu -t main -- "$KVSTORE"
	expect_fail "run: no sysroot" 1 "no arm64 sysroot at /nonexistent" \
		"$FTRAMP" run --sysroot /nonexistent -t main -- "$KVSTORE"
else
	skip "run: qemu not found" "host is arm64"
	skip "run: no sysroot" "host is arm64"
fi

# ftramp run: what only the agent, inside the program, can know
expect_fail "run: a glob that matches nothing" 125 \
	"-t 'no_such_function\*': no patchable function matches" \
	"$FTRAMP" run -t 'no_such_function*' -- "$KVSTORE"
expect_fail "run: --override of a void function" 125 \
	"--override kv_close: the function returns void" \
	"$FTRAMP" run --override kv_close=1 -- "$KVSTORE"
expect_fail "run: --override beyond an int result" 125 \
	"--override kv_put=0x100000000: out of range for the function's result \(int32_t: -2147483648 to 2147483647\)" \
	"$FTRAMP" run --override kv_put=0x100000000 -- "$KVSTORE"
expect_fail "run: --override below an int result" 125 \
	"--override kv_put=-2147483649: out of range .*int32_t" \
	"$FTRAMP" run --override kv_put=-2147483649 -- "$KVSTORE"
expect_fail "run: --override negative for an unsigned result" 125 \
	"--override kv_hash=-1: out of range for the function's result \(uint32_t: 1 to 4294967295\)" \
	"$FTRAMP" run --override kv_hash=-1 -- "$KVSTORE"
expect_fail "run: --override beyond a float result" 125 \
	"--override sensor_sample=1e39: out of range for the function's float result" \
	"$FTRAMP" run --override sensor_sample=1e39 -- "$KVSTORE" -n 1
# The limits themselves are accepted: the program runs (puts fail).
"$FTRAMP" run --override kv_put=-2147483648 -- "$KVSTORE" -j 1 -n 2 \
	>"$TMP/lim.out" 2>"$TMP/lim.err"
check "run: --override at the int32_t limit is accepted" \
	grep -q "2 puts (2 failed" "$TMP/lim.out"
if [ -x "$TMP/static" ]; then
	expect_fail "run: a static program cannot be preloaded" 125 \
		"statically linked: the preloaded agent cannot reach it .* link libftramp.a" \
		"$FTRAMP" run -t f -- "$TMP/static"
else
	skip "run: a static program cannot be preloaded" "no static libc for $CROSS_CC"
fi

# ftramp list
expect_fail "list: a glob that matches nothing" 1 "no function matches 'nomatch\*'" \
	"$FTRAMP" list "$KVSTORE" 'nomatch*'
expect_fail "list: built without the flags" 1 \
	"no patchable function entries: build it with -fpatchable-function-entry=4,2" \
	"$FTRAMP" list "$NOFLAGS"
expect_fail "list: no such file" 1 "no such program or library" \
	"$FTRAMP" list /nonexistent/libfoo.so

# ftramp dump
expect_fail "dump: bad model text" 2 "--model: col [0-9]+:" \
	"$FTRAMP" dump --model 'int (int, frobnicate)'
expect_fail "dump: fmod_ret on a void function" 1 "fmod_ret needs a function that returns a value" \
	"$FTRAMP" dump --model 'void (int)' --fmod-ret 1

finish
