#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gdb backtraces through a trampoline (trampoline/jitdebug.c): run
# jitdebug_gdb_target (selftests/jitdebug_test.c built with
# -DJITDEBUG_GDB_TARGET) under qemu-aarch64's gdbstub and gdb-multiarch,
# stop in jd_marker() from an fentry program, an fexit program and the
# original, and check each backtrace names every frame in order:
#
#   jd_marker <- program <- ftramp_tramp:jd_traced <- jd_middle <- jd_outer
#   <- main
#
# Phase 1 stops before the image is registered with gdb: its backtrace is
# printed (what gdb shows without the JIT interface), not judged.
#
# The runner gives O (the build directory) and QEMU_RUN in the environment.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/gdb_lib.sh"

gdb_start gdb_bt 5 "$O/selftests/jitdebug_gdb_target"
gdb_run jd_marker 'printf "=== phase %d\n", jd_phase'
gdb_ended "gdb_bt: the traced program ran to the end under gdb" "sum 32"

bt_of() { gdb_bt_of "=== phase $1"; }
# The function names of phase N's backtrace, one line, innermost first.
frames() { bt_of "$1" | gdb_frames; }

# Phase 1: not registered yet (unless the library registers images).
if grep -q "registered by the library" "$TMP/prog.out" 2>/dev/null; then
	want="jd_marker jd_fentry ftramp_tramp:jd_traced jd_middle jd_outer main"
	if [ "$(frames 1)" = "$want" ]; then
		ok "gdb_bt: fentry program, image registered by the library"
	else
		not_ok "gdb_bt: fentry program, image registered by the library"
		bt_of 1 | diag
	fi
elif [ -n "$(bt_of 1)" ]; then
	ok "gdb_bt: fentry program, image not registered (gdb's own view below)"
	bt_of 1 | diag
else
	not_ok "gdb_bt: fentry program, image not registered: no stop"
fi

check_phase() {
	local n=$1 desc=$2 want=$3 got

	got=$(frames "$n")
	if [ "$got" = "$want" ] && ! bt_of "$n" | grep -q "Backtrace stopped"; then
		ok "gdb_bt: $desc"
	else
		not_ok "gdb_bt: $desc"
		echo "want: $want" | diag
		bt_of "$n" | diag
	fi
}

check_phase 2 "fentry program: marker <- program <- trampoline <- callers" \
	"jd_marker jd_fentry ftramp_tramp:jd_traced jd_middle jd_outer main"
check_phase 3 "fexit program: marker <- program <- trampoline <- callers" \
	"jd_marker jd_fexit ftramp_tramp:jd_traced jd_middle jd_outer main"
check_phase 4 "the original under fexit: <- trampoline <- callers" \
	"jd_marker jd_traced ftramp_tramp:jd_traced jd_middle jd_outer main"

finish
