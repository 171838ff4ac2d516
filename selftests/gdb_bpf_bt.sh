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
set -u

: "${O:?O must name the build directory}"
TARGET=$O/selftests/bpf_jit_gdb_target
SYSROOT=${SYSROOT:-/usr/aarch64-linux-gnu}
N=4

TMP=$(mktemp -d)
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

tap_n=0 tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n $*"; }
not_ok() {
	tap_n=$((tap_n + 1)) tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n $*"
}
diag() { sed 's/^/# /'; }

echo "TAP version 13"
echo "1..$N"

GDB=$(command -v gdb-multiarch || true)
[ -z "$GDB" ] && [ "$(uname -m)" = aarch64 ] && GDB=$(command -v gdb || true)
if [ -z "$GDB" ]; then
	for i in $(seq $N); do
		echo "ok $i gdb_bpf_bt # SKIP gdb-multiarch not installed"
	done
	exit 0
fi
if [ ! -x "$TARGET" ]; then
	for i in $(seq $N); do
		echo "not ok $i gdb_bpf_bt # missing $TARGET"
	done
	exit 1
fi

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 40000))
}

cat >"$TMP/cmds" <<EOF
set pagination off
set confirm off
set width 0
set sysroot $SYSROOT
set solib-search-path $SYSROOT/lib:/lib/aarch64-linux-gnu
set tcp connect-timeout 10
EOF

run_gdb() {
	local port=$1

	if [ -n "${QEMU_RUN:-}" ]; then
		echo "target remote 127.0.0.1:$port" >>"$TMP/cmds.run"
		timeout 30 $QEMU_RUN -g "$port" "$TARGET" >"$TMP/prog.out" 2>&1 &
		qpid=$!
	fi
	cat >>"$TMP/cmds.run" <<'EOF'
break jbd_marker
commands
silent
printf "=== stop\n"
bt
continue
end
EOF
	if [ -n "${QEMU_RUN:-}" ]; then
		echo continue >>"$TMP/cmds.run"
	else
		echo run >>"$TMP/cmds.run"
	fi
	timeout 25 "$GDB" -nx -batch -x "$TMP/cmds.run" "$TARGET" \
		>"$TMP/gdb.out" 2>&1
	if [ -n "$qpid" ]; then
		wait "$qpid"
		echo "qemu exit $?" >>"$TMP/prog.out"
		qpid=
	fi
}

for attempt in 1 2 3; do
	cp "$TMP/cmds" "$TMP/cmds.run"
	run_gdb "$(free_port)"
	grep -q "^=== stop" "$TMP/gdb.out" && break
	grep -qi "gdbserver\|address already in use" "$TMP/prog.out" || break
done

if grep -q "^result 12" "$TMP/prog.out" 2>/dev/null ||
   grep -q "exited normally" "$TMP/gdb.out"; then
	ok "gdb_bpf_bt: the program ran to the end under gdb"
else
	not_ok "gdb_bpf_bt: the program ran to the end under gdb"
	tail -20 "$TMP/gdb.out" | diag
	tail -5 "$TMP/prog.out" 2>/dev/null | diag
fi

bt=$(awk '$0 == "=== stop" { on = 1; next } /^=== / { on = 0 } on' "$TMP/gdb.out")
# The function of each frame, innermost first.
frames=$(echo "$bt" | sed -nE 's/^#[0-9]+ +(0x[0-9a-f]+ in )?([^ ]+) \(.*/\2/p' |
	 tr '\n' ' ' | sed 's/ $//')

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

[ "$tap_n" -eq "$N" ] && [ "$tap_failed" -eq 0 ]
