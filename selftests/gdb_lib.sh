#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Shared by gdb_bt.sh and gdb_bpf_bt.sh (sourced after cli_lib.sh, not a
# test itself): run a test program under gdb in batch mode, through
# qemu-aarch64's gdbstub (QEMU_RUN set) or natively on an arm64 host, with
# one breakpoint that prints a header line and a backtrace at every stop.
# Bounded: qemu 30 s, gdb 25 s, three gdbstub ports at most.

SYSROOT=${SYSROOT:-/usr/aarch64-linux-gnu}

qpid=
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$TMP"' EXIT

# gdb_start NAME N TARGET: the plan of N tests; all of them skipped (exit 0)
# without a gdb that reads arm64, failed (exit 1) when TARGET is not built.
gdb_start() {
	plan "$2"
	GDB=$(command -v gdb-multiarch || true)
	[ -z "$GDB" ] && [ "$HOST_ARCH" = aarch64 ] && GDB=$(command -v gdb || true)
	if [ -z "$GDB" ]; then
		for _ in $(seq "$2"); do
			skip "$1" "gdb-multiarch not installed (apt-get install gdb-multiarch)"
		done
		exit 0
	fi
	need_prog "$3" "$2" "$1"
	GDB_TARGET=$3
}

# A free TCP port for the gdbstub (a race with other programs is possible:
# qemu then fails to listen and gdb_run tries the next port).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 40000))
}

# gdb_once FUNC PRINTF PORT: one run, see gdb_run.
gdb_once() {
	local func=$1 print=$2 port=$3

	{
		cat <<EOF
set pagination off
set confirm off
set width 0
set sysroot $SYSROOT
set solib-search-path $SYSROOT/lib:/lib/aarch64-linux-gnu
set tcp connect-timeout 10
EOF
		[ -n "${QEMU_RUN:-}" ] && echo "target remote 127.0.0.1:$port"
		printf 'break %s\ncommands\nsilent\n%s\nbt\ncontinue\nend\n' \
			"$func" "$print"
		if [ -n "${QEMU_RUN:-}" ]; then
			echo continue
		else
			echo run
		fi
	} >"$TMP/cmds"
	if [ -n "${QEMU_RUN:-}" ]; then
		timeout 30 $QEMU_RUN -g "$port" "$GDB_TARGET" >"$TMP/prog.out" 2>&1 &
		qpid=$!
	fi
	timeout 25 "$GDB" -nx -batch -x "$TMP/cmds" "$GDB_TARGET" \
		>"$TMP/gdb.out" 2>&1
	if [ -n "$qpid" ]; then
		wait "$qpid"
		echo "qemu exit $?" >>"$TMP/prog.out"
		qpid=
	fi
}

# gdb_run FUNC PRINTF: run GDB_TARGET under gdb with a breakpoint on FUNC
# whose commands are gdb's PRINTF (a header line beginning "=== "), bt and
# continue; gdb's output in $TMP/gdb.out, the program's (under qemu) in
# $TMP/prog.out.  Another port when qemu could not listen on one.
gdb_run() {
	for _ in 1 2 3; do
		gdb_once "$1" "$2" "$(free_port)"
		grep -q "^=== " "$TMP/gdb.out" && break
		grep -qi "gdbserver\|address already in use" "$TMP/prog.out" ||
			break
	done
}

# gdb_ended DESC LINE: ok when the program printed a line beginning LINE
# (under qemu) or gdb saw it exit normally (natively).
gdb_ended() {
	if grep -q "^$2" "$TMP/prog.out" 2>/dev/null ||
	   grep -q "exited normally" "$TMP/gdb.out"; then
		ok "$1"
	else
		not_ok "$1"
		tail -20 "$TMP/gdb.out" | diag
		tail -5 "$TMP/prog.out" 2>/dev/null | diag
	fi
}

# gdb_bt_of HEADER: the backtrace printed after the header line HEADER.
gdb_bt_of() {
	awk -v p="$1" '$0 == p { on = 1; next } /^=== / { on = 0 } on' \
		"$TMP/gdb.out"
}

# gdb_frames: the function of each frame of the backtrace on stdin,
# innermost first, on one line.
gdb_frames() {
	sed -nE 's/^#[0-9]+ +(0x[0-9a-f]+ in )?([^ ]+) \(.*/\2/p' |
		tr '\n' ' ' | sed 's/ $//'
}
