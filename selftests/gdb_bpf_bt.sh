#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gdb backtraces through a JIT'd BPF program (bpf/jit_debug.c): run
# bpf_jit_gdb_target (selftests/bpf_jit_debug_test.c built with
# -DBPF_JIT_GDB_TARGET) under qemu-aarch64's gdbstub and gdb-multiarch,
# stop in jbd_marker(), called from the program's bpf_printk sink, and
# check that the backtrace names the program's functions and goes on
# through the trampoline to the traced function's callers:
#
#   jbd_marker <- (the helper's frames) <- bpf_prog_jt_print.jt_say
#   <- bpf_prog_jt_print <- ftramp_tramp:jt_traced <- jt_middle
#   <- jt_outer <- main
#
# The runner gives O (the build directory) and QEMU_RUN in the environment.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/gdb_lib.sh"

gdb_start gdb_bpf_bt 4 "$O/selftests/bpf_jit_gdb_target"
gdb_run jbd_marker 'printf "=== stop\n"'
gdb_ended "gdb_bpf_bt: the program ran to the end under gdb" "result 12"

bt=$(gdb_bt_of "=== stop")
# The function of each frame, innermost first.
frames=$(echo "$bt" | gdb_frames)

if [ "${frames%% *}" = jbd_marker ]; then
	ok "gdb_bpf_bt: stopped in the marker, under the program's sink"
else
	not_ok "gdb_bpf_bt: stopped in the marker, under the program's sink"
	echo "$bt" | diag
fi

# From the program's innermost function on, every frame in order.
want="bpf_prog_jt_print.jt_say bpf_prog_jt_print ftramp_tramp:jt_traced jt_middle jt_outer main"
case " $frames" in
*" $want") ok "gdb_bpf_bt: the program's frames by name, then the traced function's callers" ;;
*)	not_ok "gdb_bpf_bt: the program's frames by name, then the traced function's callers"
	echo "want ... $want" | diag
	echo "$bt" | diag ;;
esac

if [ -n "$bt" ] && ! echo "$bt" | grep -q "Backtrace stopped"; then
	ok "gdb_bpf_bt: the unwind reaches main without stopping"
else
	not_ok "gdb_bpf_bt: the unwind reaches main without stopping"
	echo "$bt" | diag
fi

finish
