#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Events leave the traced process through the session file only, and the
# ftramp process makes every output, whatever becomes of the program
# (selftests/progs/events_prog.c):
#
#  - a program that closes every descriptor and opens a file gets no
#    trace line in its data;
#  - a crash inside a traced leaf: the leaf is in the trace, the Chrome
#    file parses with every B closed, stderr says "killed by SIGSEGV" and
#    what each thread had entered;
#  - exit() deep in traced calls: the frames are closed, status passed;
#  - SIGINT and SIGTERM to ftramp (passed on), SIGKILL to the program:
#    counts and histograms are still printed;
#  - fork: each process reported under its pid, in one output or, with
#    %p in -o, one each; the child's counts are its own;
#  - exec: untraced, with no LD_PRELOAD or FTRAMP_* left (no loader
#    errors), or followed with -f; an arm64 program exec'd runs under
#    qemu-user too (the agent's exec interposers), traced with -f only;
#  - a ring too small for the program: drops counted and reported.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 38

EV=$PROGS/events_prog
need_prog "$EV" 38 "events"

rc_of() {
	cat "$TMP/$1.rc"
}

# chrome_ok FILE: parses, and every B has its E on the same pid and tid.
chrome_ok() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
stacks = {}
for e in d["traceEvents"]:
    k = (e.get("pid"), e.get("tid"))
    if e["ph"] == "B":
        stacks.setdefault(k, []).append(e["name"])
    elif e["ph"] == "E":
        if not stacks.get(k) or stacks[k].pop() != e["name"]:
            sys.exit("unbalanced E for %s" % e["name"])
if any(stacks.values()):
    sys.exit("open B events: %s" % stacks)
PY
}

# count_of FILE FUNC [NTH]: the CALLS column of FUNC's NTH row (1).
count_of() {
	awk -v f="$2" '$2 == f { print $1 }' "$1" | sed -n "${3:-1}p"
}

# --- descriptors --------------------------------------------------------
run fds -o "$TMP/fds.trace" -t 'ev_*' -- "$EV" fds "$TMP/fds.data"
check "closes every fd: exit status 0" [ "$(rc_of fds)" -eq 0 ]
check "closes every fd: its file holds its data only" \
	[ "$(grep -c '^data [0-9]*$' "$TMP/fds.data")" -eq 20 -a \
	  "$(wc -l <"$TMP/fds.data")" -eq 20 ]
check "closes every fd: the trace has every call" \
	[ "$(grep -c ' ev_work(i=[0-9]*) = ' "$TMP/fds.trace")" -eq 20 ]

# --- a crash in a traced leaf -------------------------------------------
run crash -o "$TMP/crash.trace" -t 'ev_*' -- "$EV" crash
check "crash: exit status 128 + SIGSEGV" [ "$(rc_of crash)" -eq 139 ]
check "crash: stderr says killed by SIGSEGV" \
	grep -q 'killed by SIGSEGV' "$TMP/crash.err"
check "crash: stderr lists the thread's open calls" \
	grep -Eq 'thread [0-9]+, entered and not returned: ev_outer > ev_leaf_crash$' \
	"$TMP/crash.err"
check "crash: the leaf is in the trace" \
	grep -Eq ' ev_leaf_crash\(p=(NULL|0x0)\) killed by SIGSEGV;$' \
	"$TMP/crash.trace"
check "crash: its caller is closed" \
	grep -q '} killed by SIGSEGV; // ev_outer$' "$TMP/crash.trace"
run crashj --format chrome -o "$TMP/crash.json" -t 'ev_*' -- "$EV" crash
check "crash: the Chrome file parses, every B closed" \
	chrome_ok "$TMP/crash.json"
check "crash: the Chrome file ends with ]}" \
	[ "$(tail -n 1 "$TMP/crash.json")" = "]}" ]

# --- exit() deep in traced calls ----------------------------------------
run exitj --format chrome -o "$TMP/exit.json" -t 'ev_*' -- "$EV" exit 3
check "exit(3) inside: status 3" [ "$(rc_of exitj)" -eq 3 ]
check "exit(3) inside: the Chrome file parses, every B closed" \
	chrome_ok "$TMP/exit.json"
run exitt -o "$TMP/exit.trace" -t 'ev_*' -- "$EV" exit 3
check "exit(3) inside: text frames closed" \
	grep -q '} exit(3); // ev_outer$' "$TMP/exit.trace"

# --- signals ------------------------------------------------------------
# spin NAME SIG WHO ARGS...: start the spinning program, wait for its
# "ready PID" line, send SIG to ftramp (WHO=ftramp) or to the program.
spin() {
	local name=$1 sig=$2 who=$3 pid line
	shift 3
	rm -f "$TMP/$name.fifo"
	mkfifo "$TMP/$name.fifo"
	# a background job of a script ignores SIGINT: not this one
	env --default-signal=INT "$FTRAMP" run "$@" -- "$EV" spin \
		>"$TMP/$name.fifo" 2>"$TMP/$name.err" &
	pid=$!
	read -r line <"$TMP/$name.fifo"
	if [ "$who" = ftramp ]; then
		kill -"$sig" "$pid"
	else
		kill -"$sig" "${line#ready }"
	fi
	wait "$pid"
	echo $? >"$TMP/$name.rc"
}
spin int INT ftramp --count ev_work -o "$TMP/int.txt"
check "SIGINT to ftramp: passed on, status 130" [ "$(rc_of int)" -eq 130 ]
check "SIGINT to ftramp: the counts are printed" \
	[ "$(count_of "$TMP/int.txt" ev_work)" -ge 1000 ]
spin term TERM ftramp --hist ev_work -o "$TMP/term.txt"
check "SIGTERM to ftramp: status 143" [ "$(rc_of term)" -eq 143 ]
check "SIGTERM to ftramp: the histogram is printed" \
	grep -Eq '^ev_work: [1-9][0-9]{3,} calls, avg' "$TMP/term.txt"
spin kill KILL program --count ev_work -o "$TMP/kill.txt"
check "SIGKILL to the program: the counts are printed" \
	[ "$(count_of "$TMP/kill.txt" ev_work)" -ge 1000 ]
check "SIGKILL to the program: stderr says so" \
	grep -q 'killed by SIGKILL' "$TMP/kill.err"

# ftramp itself killed: its session file (a memfd) goes with it
rm -f "$TMP/orphan.fifo"
mkfifo "$TMP/orphan.fifo"
"$FTRAMP" run --count ev_work -- "$EV" spin >"$TMP/orphan.fifo" \
	2>"$TMP/orphan.err" &
ftpid=$!
read -r line <"$TMP/orphan.fifo"
kill -KILL "$ftpid"
wait "$ftpid"
# the program is told (SIGTERM, its parent-death signal): wait for it
pid=${line#ready }
check "ftramp killed: the program ends too" \
	timeout 60 tail --pid="$pid" -f /dev/null
check "ftramp killed: no session file left behind" \
	[ -z "$(ls /dev/shm/ftramp-"$ftpid"-* "${TMPDIR:-/tmp}"/ftramp-"$ftpid"-* 2>/dev/null)" ]

# --- fork ---------------------------------------------------------------
run fork --count ev_work -o "$TMP/fork.txt" -- "$EV" fork
check "fork: exit status 0" [ "$(rc_of fork)" -eq 0 ]
check "fork: one report per process" \
	[ "$(grep -c '^# pid [0-9]*: ' "$TMP/fork.txt")" -eq 2 ]
check "fork: the parent counts its own 4 calls, the child its 2" \
	[ "$(count_of "$TMP/fork.txt" ev_work 1)" -eq 4 -a \
	  "$(count_of "$TMP/fork.txt" ev_work 2)" -eq 2 ]
run forkj --format chrome -o "$TMP/fork.json" -t ev_work -- "$EV" fork
check "two processes, one Chrome file: it parses, every B closed" \
	chrome_ok "$TMP/fork.json"
check "two processes, one Chrome file: both pids in it" \
	[ "$(grep -o '"ph":"B","ts":[0-9.]*,"pid":[0-9]*' "$TMP/fork.json" |
	     sed 's/.*"pid"://' | sort -u | wc -l)" -eq 2 ]
run forkp -o "$TMP/fork.%p.txt" -t ev_work -- "$EV" fork
n4=0 n2=0
for f in "$TMP"/fork.[0-9]*.txt; do
	case $(grep -c ' ev_work(' "$f") in
	4) n4=$((n4 + 1)) ;;
	2) n2=$((n2 + 1)) ;;
	esac
done
check "-o with %p: a file per process, each with its own calls" \
	[ $n4 -eq 1 -a $n2 -eq 1 ]

run forks --count ev_work -o "$TMP/forks.txt" -- "$EV" forks 100
check "100 children: exit status 0, each reported" \
	[ "$(rc_of forks)" -eq 0 -a \
	  "$(grep -c '^# pid [0-9]*: ' "$TMP/forks.txt")" -eq 101 ]
check "100 children: each counted its one call, the parent none" \
	[ "$(awk '$2 == "ev_work" && $1 == 1' "$TMP/forks.txt" | wc -l)" -eq 100 -a \
	  -z "$(awk '$2 == "ev_work" && $1 > 1' "$TMP/forks.txt")" ]

# --- exec ---------------------------------------------------------------
ENV_BIN=$(command -v env)
run exec --count ev_work -- "$EV" exec "$ENV_BIN"
check "exec: the program ran, its count reported" \
	[ "$(rc_of exec)" -eq 0 -a "$(count_of "$TMP/exec.err" ev_work)" -eq 1 ]
check "exec without -f: no LD_PRELOAD of the agent, no FTRAMP_*, no loader error" \
	eval '! grep -Eq "libftramp-agent|^FTRAMP_" "$TMP/exec.out" &&
	      ! grep -Eqi "ld\.so|preload" "$TMP/exec.err"'
# An arm64 program exec'd: under qemu-user (no binfmt_misc) the agent runs
# it through the same qemu (agent/exec.c), traced with -f only.
run execa --count ev_work -- "$EV" exec "$EV" exit 3
check "exec of an arm64 program without -f: it ran, its exit status passed" \
	[ "$(rc_of execa)" -eq 3 ]
check "exec of an arm64 program without -f: untraced, one process reported" \
	[ "$(count_of "$TMP/execa.err" ev_work)" -eq 1 -a \
	  "$(grep -c '^# pid ' "$TMP/execa.err")" -eq 0 ]
run follow -f --count ev_work -- "$EV" exec "$EV" fork
check "-f: exit status 0, the exec'd program and its child reported too" \
	[ "$(rc_of follow)" -eq 0 -a \
	  "$(grep -c '^# pid [0-9]*: ' "$TMP/follow.err")" -eq 3 ]
check "-f: 1 call before the exec, 4 after it, 2 in the child" \
	[ "$(count_of "$TMP/follow.err" ev_work 1)" -eq 1 -a \
	  "$(count_of "$TMP/follow.err" ev_work 2)" -eq 4 -a \
	  "$(count_of "$TMP/follow.err" ev_work 3)" -eq 2 ]
check "-f: the exec'd program is reported under the pid that exec'd" \
	[ "$(grep '^# pid ' "$TMP/follow.err" | sed -n 1p | cut -d: -f1)" = \
	  "$(grep '^# pid ' "$TMP/follow.err" | sed -n 2p | cut -d: -f1)" ]
run followx -f --count ev_work -- "$EV" exec "$EV" exit 3
check "-f: the exec'd program's exit status passed" [ "$(rc_of followx)" -eq 3 ]

# --- drops ----------------------------------------------------------------
run drops --buffer-size 64K -o "$TMP/drops.trace" -t ev_work \
	--count ev_work -- "$EV" fds "$TMP/drops.data"
lines=$(grep -c ' ev_work(' "$TMP/drops.trace")
calls=$(count_of "$TMP/drops.trace" ev_work)
if grep -Eq 'events not shown' "$TMP/drops.err"; then
	check "a small ring: lines missing, drops reported" [ "$lines" -lt "$calls" ]
else
	check "a small ring: nothing dropped, nothing missing" [ "$lines" -eq "$calls" ]
fi

finish
