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
set -u

: "${O:?O must name the build directory}"
TARGET=$O/selftests/jitdebug_gdb_target
SYSROOT=${SYSROOT:-/usr/aarch64-linux-gnu}

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
echo "1..5"

skip_all() {
	for i in 1 2 3 4 5; do
		echo "ok $i gdb_bt # SKIP $1"
	done
	exit 0
}

GDB=$(command -v gdb-multiarch || true)
[ -z "$GDB" ] && [ "$(uname -m)" = aarch64 ] && GDB=$(command -v gdb || true)
[ -n "$GDB" ] || skip_all "gdb-multiarch not installed (apt-get install gdb-multiarch)"
if [ ! -x "$TARGET" ]; then
	for i in 1 2 3 4 5; do
		echo "not ok $i gdb_bt # missing $TARGET"
	done
	exit 1
fi

# A free TCP port for the gdbstub (a race with other programs is possible:
# qemu then fails to listen and the next port is tried).
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
break jd_marker
commands
silent
printf "=== phase %d\n", jd_phase
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
	grep -q "^=== phase" "$TMP/gdb.out" && break
	grep -qi "gdbserver\|address already in use" "$TMP/prog.out" || break
done

if grep -q "^sum 32" "$TMP/prog.out" 2>/dev/null ||
   grep -q "exited normally" "$TMP/gdb.out"; then
	ok "gdb_bt: the traced program ran to the end under gdb"
else
	not_ok "gdb_bt: the traced program ran to the end under gdb"
	tail -20 "$TMP/gdb.out" | diag
	tail -5 "$TMP/prog.out" 2>/dev/null | diag
fi

# The function names of phase N's backtrace, one line, innermost first.
frames() {
	awk -v p="=== phase $1" '
		$0 == p { on = 1; next }
		/^=== phase/ { on = 0 }
		on' "$TMP/gdb.out" |
	sed -nE 's/^#[0-9]+ +(0x[0-9a-f]+ in )?([^ ]+) \(.*/\2/p' |
	tr '\n' ' ' | sed 's/ $//'
}

bt_of() {
	awk -v p="=== phase $1" '
		$0 == p { on = 1; next }
		/^=== phase/ { on = 0 }
		on' "$TMP/gdb.out"
}

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

[ "$tap_n" -eq 5 ] && [ "$tap_failed" -eq 0 ]
