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
#    counts and histograms are still printed, exact (--hist alone is a
#    FTRAMP_HIST link, its buckets in the session file, shown in ns);
#  - fork: each process reported under its pid, in one output or, with
#    %p in -o, one each; the child's counts are its own;
#  - exec: untraced, with no LD_PRELOAD or FTRAMP_* left (no loader
#    errors), or followed with -f; an arm64 program exec'd runs under
#    qemu-user too (the agent's exec interposers), traced with -f only;
#    the same for posix_spawn() (a new pid) and fexecve() (the same pid);
#  - 200 children: a slot each, the file's size fixed by the slot count,
#    and the rings of the processes gone given back;
#  - a ring too small for the program: drops counted and reported.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 70

EV=$PROGS/events_prog
need_prog "$EV" 67 "events"

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
	grep -Eq '^ev_work: [1-9][0-9]{3,} calls, min >= ' "$TMP/term.txt"
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

# --- --hist in the session file, the program killed ---------------------
# events_prog idle: 500 ev_work() calls and 3 ev_nap() (2 ms asleep
# each), "ready", then no traced call until SIGKILL.  --hist alone is a
# FTRAMP_HIST link whose buckets are in the session file: exact after
# the kill, in nanoseconds.
rm -f "$TMP/hkill.fifo"
mkfifo "$TMP/hkill.fifo"
"$FTRAMP" run -v --hist ev_work --hist ev_nap --hist ev_jump \
	-o "$TMP/hkill.txt" -- \
	"$EV" idle 500 >"$TMP/hkill.fifo" 2>"$TMP/hkill.err" &
ftpid=$!
line=
read -r -t 600 line <"$TMP/hkill.fifo"
[ -n "$line" ] && kill -KILL "${line#ready }"
wait "$ftpid"
# hist_rows FUNC: "FROM TO COUNT" per bucket row of FUNC's histogram
hist_rows() {
	awk -v f="$1:" '$1 == f { on = 1; next }
		on && /^ *[0-9]+ -> [0-9]+ *:/ { print $1, $3, $5; next }
		on && !/nsecs/ { on = 0 }' "$TMP/hkill.txt"
}
check "--hist, SIGKILL to the program: stderr says so" \
	grep -q 'killed by SIGKILL' "$TMP/hkill.err"
check "--hist alone: a FTRAMP_HIST link, no program" \
	grep -q 'attached ev_work hist: model none (no program)' "$TMP/hkill.err"
check "--hist, SIGKILL: the header counts the 500 calls" \
	grep -Eq '^ev_work: 500 calls, min >= [0-9.]+ [num]?s, max < [0-9.]+ [num]?s$' \
	"$TMP/hkill.txt"
check "--hist, SIGKILL: the buckets add up to 500" \
	[ "$(hist_rows ev_work | awk '{ s += $3 } END { print s + 0 }')" -eq 500 ]
check "--hist, SIGKILL: the 3 naps of 2 ms, in buckets reaching past 2 ms (ticks shown as ns)" \
	[ "$(hist_rows ev_nap | awk '$2 >= 2000000 { s += $3 } END { print s + 0 }')" -eq 3 ]
check "--hist alone: nothing missed" \
	[ "$(missed_of "$TMP/hkill.txt" ev_work)" -eq 0 ]
# The 4 ev_jump() calls left by longjmp(): counted live into the
# session file (ftramp_attach_opts.unwound); they were once copied at
# exit only, lost to SIGKILL and _exit().
check "--hist, SIGKILL: the 4 longjmp()'d calls counted unwound" \
	grep -Eq '^ev_jump: 4 calls, 4 unwound \(not timed, not below\)' \
	"$TMP/hkill.txt"

# --- --hist across fork: each process its own unwound calls ------------
# (ev_work's pushes find the records longjmp() abandoned)
run forkh --hist ev_jump --hist ev_work -o "$TMP/forkh.txt" -- "$EV" fork
check "fork, --hist: exit status 0" [ "$(rc_of forkh)" -eq 0 ]
check "fork, --hist: the parent's 2 unwound calls, the child's 1 (it ends by _exit(): no exit handler)" \
	[ "$(grep -Ec '^ev_jump: 2 calls, 2 unwound ' "$TMP/forkh.txt")" -eq 1 -a \
	  "$(grep -Ec '^ev_jump: 1 calls, 1 unwound ' "$TMP/forkh.txt")" -eq 1 ]

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

# --- posix_spawn and fexecve ---------------------------------------------
# no_agent NAME: the child printed no LD_PRELOAD of the agent and no
# FTRAMP_* (to NAME.out), and nothing complained of the preload
no_agent() {
	! grep -Eq 'libftramp-agent|^FTRAMP_' "$TMP/$1.out" &&
	! grep -Eqi 'ld\.so|preload' "$TMP/$1.err"
}
# procs NAME: how many processes the report shows ("# pid" heads; 0: one)
procs() {
	grep -c '^# pid [0-9]*: ' "$TMP/$1.err"
}
# pid_of NAME N: the pid heading the Nth process's report
pid_of() {
	grep '^# pid ' "$TMP/$1.err" | sed -n "${2}p" | cut -d: -f1
}
# no LD_PRELOAD of the user's, so the child's is ours or none
unset LD_PRELOAD
export EV_MARK=from-the-user

# events_prog spawn: a call, posix_spawn(), wait, a call
run spawnh --count ev_work -- "$EV" spawn "$ENV_BIN"
check "posix_spawn of a host program: it ran, with the user's environment" \
	[ "$(rc_of spawnh) $(grep -cx 'EV_MARK=from-the-user' "$TMP/spawnh.out")" = "0 1" ]
check "posix_spawn without -f: no LD_PRELOAD of the agent, no FTRAMP_*, no loader error" \
	no_agent spawnh
check "posix_spawn without -f: the parent's 2 calls, one process reported" \
	[ "$(count_of "$TMP/spawnh.err" ev_work) $(procs spawnh)" = "2 0" ]
run spawna --count ev_work -- "$EV" spawn "$EV" env
check "posix_spawn of an arm64 program without -f: it ran untraced, LD_PRELOAD unset" \
	[ "$(rc_of spawna) $(grep -c '^LD_PRELOAD=(unset)$' "$TMP/spawna.out")" = "0 1" ]
check "posix_spawn of an arm64 program without -f: no FTRAMP_*, one process reported, 2 calls" \
	[ "$(grep -c '^FTRAMP_' "$TMP/spawna.out") $(procs spawna) $(count_of "$TMP/spawna.err" ev_work)" = "0 0 2" ]
run spawnx --count ev_work -- "$EV" spawn "$EV" exit 3
check "posix_spawn of an arm64 program without -f: its exit status reaches the parent" \
	[ "$(rc_of spawnx)" -eq 3 ]
run spawnf -f --count ev_work -- "$EV" spawn "$EV" env
check "-f, posix_spawn: the child's LD_PRELOAD names the agent" \
	grep -Eq '^LD_PRELOAD=.*/libftramp-agent\.so$' "$TMP/spawnf.out"
check "-f, posix_spawn: two processes reported, 2 calls and 1" \
	[ "$(rc_of spawnf) $(procs spawnf) $(count_of "$TMP/spawnf.err" ev_work 1) $(count_of "$TMP/spawnf.err" ev_work 2)" = "0 2 2 1" ]
check "-f, posix_spawn: the child under a pid of its own" \
	[ "$(pid_of spawnf 1)" != "$(pid_of spawnf 2)" ]
run spawnff -f --count ev_work -- "$EV" spawn "$EV" fork
check "-f, posix_spawn of a program that forks: 3 processes, 2 calls, 4, 2" \
	[ "$(rc_of spawnff) $(procs spawnff) $(count_of "$TMP/spawnff.err" ev_work 1) $(count_of "$TMP/spawnff.err" ev_work 2) $(count_of "$TMP/spawnff.err" ev_work 3)" = "0 3 2 4 2" ]

# events_prog fexec: a call, fexecve() of an open descriptor
run fexech --count ev_work -- "$EV" fexec "$ENV_BIN"
check "fexecve of a host program: it ran, with the user's environment" \
	[ "$(rc_of fexech) $(grep -cx 'EV_MARK=from-the-user' "$TMP/fexech.out")" = "0 1" ]
check "fexecve without -f: no LD_PRELOAD of the agent, no FTRAMP_*, no loader error" \
	no_agent fexech
check "fexecve without -f: the call before it counted, one process reported" \
	[ "$(count_of "$TMP/fexech.err" ev_work) $(procs fexech)" = "1 0" ]
run fexeca --count ev_work -- "$EV" fexec "$EV" env
check "fexecve of an arm64 program without -f: it ran untraced, LD_PRELOAD unset" \
	[ "$(rc_of fexeca) $(grep -c '^LD_PRELOAD=(unset)$' "$TMP/fexeca.out")" = "0 1" ]
check "fexecve of an arm64 program without -f: no FTRAMP_*, one process reported, 1 call" \
	[ "$(grep -c '^FTRAMP_' "$TMP/fexeca.out") $(procs fexeca) $(count_of "$TMP/fexeca.err" ev_work)" = "0 0 1" ]
run fexecx --count ev_work -- "$EV" fexec "$EV" exit 3
check "fexecve of an arm64 program without -f: its exit status passed, untraced" \
	[ "$(rc_of fexecx) $(procs fexecx) $(count_of "$TMP/fexecx.err" ev_work)" = "3 0 1" ]
run fexecf -f --count ev_work -- "$EV" fexec "$EV" env
check "-f, fexecve: the program's LD_PRELOAD names the agent" \
	grep -Eq '^LD_PRELOAD=.*/libftramp-agent\.so$' "$TMP/fexecf.out"
check "-f, fexecve: two images reported under one pid, 1 call each" \
	[ "$(rc_of fexecf) $(procs fexecf) $(count_of "$TMP/fexecf.err" ev_work 1) $(count_of "$TMP/fexecf.err" ev_work 2) $(pid_of fexecf 1)" = \
	  "0 2 1 1 $(pid_of fexecf 2)" ]
run fexecfx -f --count ev_work -- "$EV" fexec "$EV" exit 3
check "-f, fexecve: exit(3) in the exec'd program passed, its 2 calls counted" \
	[ "$(rc_of fexecfx) $(procs fexecfx) $(count_of "$TMP/fexecfx.err" ev_work 2)" = "3 2 2" ]

# --- many children: the session file --------------------------------------
# Each child claims a slot, writes 1000 calls (96 KB of events) into its
# ring and ends; -v prints the file's size and what it holds at the end.
# The size is fixed by the slot count (sparse), and the rings of processes
# that are gone are given back: what 200 children leave is less than one
# 64 KiB session page each (their slot page, counters and names).
# ses_line NAME: "USED SLOTS SIZE ALLOCATED" from -v's line
ses_line() {
	sed -n 's/^ftramp: session file: \([0-9]*\) of \([0-9]*\) slots used, \([0-9]*\) KiB, \([0-9]*\) KiB allocated$/\1 \2 \3 \4/p' \
		"$TMP/$1.err"
}
run grow1 -v -t ev_work -o "$TMP/grow1.trace" -- "$EV" forks 1 1000
run grow200 -v -t ev_work -o "$TMP/grow200.trace" -- "$EV" forks 200 1000
read -r used1 slots1 size1 alloc1 <<<"$(ses_line grow1)"
read -r used200 slots200 size200 alloc200 <<<"$(ses_line grow200)"
echo "1 child: ${alloc1:-?} KiB allocated; 200 children: ${alloc200:-?} KiB; size ${size200:-?} KiB" | diag
check "200 children: exit 0, every call in the trace (200000 lines)" \
	[ "$(rc_of grow200) $(grep -c ' ev_work(' "$TMP/grow200.trace")" = "0 200000" ]
check "200 children: a slot each, 201 of 1024 used" \
	[ "${used200:-x} ${slots200:-x} ${used1:-x}" = "201 1024 2" ]
[ -n "${size1:-}" ] && [ "$size1" = "${size200:-}" ]
result "200 children: the file's size is the one child's (fixed by the slot count)" $?
[ -n "${alloc1:-}" ] && [ -n "${alloc200:-}" ] &&
	[ $((alloc200 - alloc1)) -lt $((199 * 64)) ]
result "200 children: less than 64 KiB each is left allocated (rings given back)" $?

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
