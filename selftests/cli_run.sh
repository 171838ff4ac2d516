#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run end to end: the sample (built by gcc and by clang) and the
# selftest program run under the agent (through qemu on other hosts), and
# what the agent prints is checked against what the program did:
#
#  - trace lines: well-formed, never mixed between threads; one call per
#    kv_put; callees nested under callers; arguments formatted from DWARF
#    (strings, doubles, floats, an HFA) and results that agree with them;
#  - histograms whose counts equal the call counts, and the counts;
#  - an override that makes kv_put fail without running;
#  - a Chrome JSON file that parses, with begin and end events matched;
#  - the far path (--far) tracing the same calls;
#  - a traced function called from a signal handler (no deadlock);
#  - functions of a shared library; PROG's exit status passed through;
#  - traced functions left by longjmp / siglongjmp: each closed later as
#    "unwound", the nesting intact, the program's output unchanged.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 43

KVCLANG=$O/samples/kvstore-clang
THREADS=3
ITER=20
CALLS=$((THREADS * ITER))

# run NAME ARGS...: ftramp run with a time limit; output in $TMP/NAME.*

rc_of() {
	cat "$TMP/$1.rc"
}

# A trace line: time, tid, optional duration, then an entry ("f(...) {"),
# a leaf ("f(...) = v;" or "f(...);") or a close ("} = v; // f").  A call
# the process never returned from is closed with how it ended ("} exit(0);
# // f": a signal handler's call cut short by exit(), say).
ENDED='( exit\([0-9]+\)| killed by [A-Z0-9 ]+| exec| exited)'
LINE_RE='^ +[0-9]+\.[0-9]{6} +[0-9]+ +([0-9]+(\.[0-9]{3})? (ns|us|ms|s))?  +([A-Za-z_][A-Za-z0-9_.:@-]*\(.*\)( \{| = .*;| unwound;|'"$ENDED"';|;)|\}( = .*| unwound|'"$ENDED"')?; // [A-Za-z_][A-Za-z0-9_.:@-]*)$'

# well_formed FILE: the trace lines match LINE_RE ("#" notes aside), and
# what follows the trace (from its first empty line) is the report: notes
# and the MISSED table.
well_formed() {
	sed '/^$/,$d' "$1" | grep -v '^#' | grep -Evq "$LINE_RE"
	[ $? -eq 1 ] || return 1
	sed -n '/^$/,$p' "$1" |
		grep -Evq '^$|^#|^ +MISSED  FUNCTION |^ +[0-9]+  [A-Za-z_][A-Za-z0-9_.:@-]*$'
	[ $? -eq 1 ]
}

# --- the trace, gcc-built sample ---------------------------------------
run gcc -o "$TMP/gcc.trace" -t 'kv_*' -t 'sensor_*' -- \
	"$KVSTORE" -j $THREADS -n $ITER
check "gcc sample: ftramp run -t exits 0" [ "$(rc_of gcc)" -eq 0 ]
check "gcc sample: the program ran to its summary" \
	grep -q "^kvstore: $THREADS threads, $CALLS puts (0 failed)" "$TMP/gcc.out"
check "gcc sample: every line is well-formed (no interleaving)" \
	well_formed "$TMP/gcc.trace"
if ! well_formed "$TMP/gcc.trace"; then
	grep -v '^#' "$TMP/gcc.trace" | grep -Ev "$LINE_RE" | head -3 | diag
fi
check "gcc sample: one kv_put call per put" \
	[ "$(grep -Ec ' kv_put\(.*\)( \{| = )' "$TMP/gcc.trace")" -eq $CALLS ]
check "gcc sample: arguments from DWARF (key string, value double)" \
	grep -Eq ' kv_put\(kv=0x[0-9a-f]+, key="sensor[0-9]+\.[0-3]", value=-?[0-9.e+-]+\) \{' \
	"$TMP/gcc.trace"

# --- the trace, clang-built sample: values checked ----------------------
run clang -o "$TMP/clang.trace" -t 'kv_*' -t 'sensor_*' -- \
	"$KVCLANG" -j $THREADS -n $ITER
check "clang sample: ftramp run -t exits 0" [ "$(rc_of clang)" -eq 0 ]
check "clang sample: every line is well-formed" well_formed "$TMP/clang.trace"
check "clang sample: one kv_put call per put" \
	[ "$(grep -Ec ' kv_put\(.*\)( \{| = )' "$TMP/clang.trace")" -eq $CALLS ]

# sensor_calibrate(raw, gain, offset) = raw * gain + offset * 0.5, and
# sensor_sample(sensor, t) = sin(t + sensor) * (1 + sensor / 4): the
# printed arguments and results must agree (6 significant digits).
python3 - "$TMP/clang.trace" >"$TMP/values" 2>&1 <<'EOF'
import math, re, sys
cal = re.compile(r' sensor_calibrate\(raw=(\S+), gain=(\S+), offset=(-?\d+)\) = (\S+);')
smp = re.compile(r' sensor_sample\(sensor=(-?\d+), t=(\S+)\) = (\S+);')
n = bad = 0
for line in open(sys.argv[1]):
    m = cal.search(line)
    if m:
        raw, gain, off, ret = float(m[1]), float(m[2]), int(m[3]), float(m[4])
        want = raw * gain + off * 0.5
    else:
        m = smp.search(line)
        if not m:
            continue
        s, t, ret = int(m[1]), float(m[2]), float(m[3])
        want = math.sin(t + s) * (1 + 0.25 * s)
    n += 1
    if abs(ret - want) > 1e-5 * max(1, abs(want)):
        bad += 1
        print("mismatch:", line.strip())
print("checked", n, "bad", bad)
sys.exit(0 if n >= 2 * 60 and bad == 0 else 1)
EOF
check "clang sample: float/double arguments agree with the results" \
	grep -q "bad 0" "$TMP/values"
grep -q "bad 0" "$TMP/values" || diag <"$TMP/values"
check "clang sample: a missing key: kv_get(...\"sensorN.missing\"...) = -2" \
	grep -Eq ' kv_get\(kv=0x[0-9a-f]+, key="sensor[0-9]+\.missing", value=0x[0-9a-f]+\) \{' \
	"$TMP/clang.trace"
check "clang sample: kv_get returns -2 (-ENOENT) once per missing key" \
	[ "$(grep -Ec '\} = -2; // kv_get$' "$TMP/clang.trace")" -eq $((CALLS / 5)) ]
check "clang sample: callees nest under their callers" \
	awk '/ kv_put\(.*\{$/ { match($0, /kv_put/); p = RSTART }
	     / kv_hash\(/ && p { match($0, /kv_hash/); if (RSTART != p + 4) bad = 1; p = 0 }
	     END { exit bad }' "$TMP/clang.trace"
check "clang sample: entry and closing lines balance per thread" \
	awk '/ \{$/ { open[$2]++ } /\}.*; \/\/ / { open[$2]-- }
	     END { for (t in open) if (open[t]) bad = 1; exit bad }' "$TMP/clang.trace"
check "clang sample: unsigned results in decimal (kv_hash)" \
	grep -Eq ' kv_hash\(key="sensor[0-9]+\.[0-3]"\) = [0-9]+;$' "$TMP/clang.trace"

run hfa -t kv_count_range -- "$KVCLANG" -j 1 -n 4
check "clang sample: an HFA argument: range={-1, 1}" \
	grep -Eq ' kv_count_range\(kv=0x[0-9a-f]+, range=\{-1, 1\}\) = [0-9]+;$' \
	"$TMP/hfa.err"

# --- histograms and counts ----------------------------------------------
# (--count hides the functions never called unless -v: issue 14)
run hist --hist kv_get --hist sensor_sample --count '*' -- \
	"$KVSTORE" -j $THREADS -n $ITER
check "--hist/--count: exits 0" [ "$(rc_of hist)" -eq 0 ]
hist_sum() {
	awk -v f="$1:" '$1 == f { on = 1; next }
		on && /^ *[0-9]+ -> [0-9]+ *:/ { s += $5; next }
		on && !/nsecs/ { on = 0 }
		END { print s + 0 }' "$TMP/hist.err"
}
count_of() {
	awk -v f="$1" '$2 == f && $1 ~ /^[0-9]+$/ { print $1 }' "$TMP/hist.err"
}
check "--hist kv_get: the buckets add up to the calls" \
	[ "$(hist_sum kv_get)" -eq $CALLS ]
check "--hist: the header counts the calls" \
	grep -Eq "^kv_get: $CALLS calls, min >= [0-9.]+ [num]?s, max < [0-9.]+ [num]?s$" "$TMP/hist.err"
check "--hist sensor_sample: counts equal --count's" \
	[ "$(hist_sum sensor_sample)" -eq "$(count_of sensor_sample)" ]
check "--count: kv_put $CALLS, kv_hash $((2 * CALLS)), worker_main $THREADS, main 1" \
	[ "$(count_of kv_put) $(count_of kv_hash) $(count_of worker_main) $(count_of main)" = \
	  "$CALLS $((2 * CALLS)) $THREADS 1" ]
check "--count: sorted by count" \
	bash -c "awk '\$1 ~ /^[0-9]+\$/ && NF == 2 { print \$1 }' '$TMP/hist.err' | sort -c -rn"
check "--count '*': functions never called (sensor_tick without -s) are not listed" \
	[ -z "$(count_of sensor_tick)" ]
check "--count '*': ... but said to exist, -v lists them" \
	grep -Eq '^ +\([0-9]+ more never called: -v lists them\)$' "$TMP/hist.err"
run zero -v --count 'sensor_*' -- "$KVSTORE" -j 1 -n 4
check "--count -v: a function never called is listed with 0" \
	grep -Eq '^ +0  sensor_tick$' "$TMP/zero.err"

# --- override -------------------------------------------------------------
run ovr --override kv_put=-28 -t kv_put --count kv_slot -- \
	"$KVCLANG" -j 1 -n 4
check "--override kv_put=-28: every put fails with ENOSPC" \
	grep -q "^kvstore: 1 threads, 4 puts (4 failed: No space left on device)" \
	"$TMP/ovr.out"
check "--override: the trace shows the forced result" \
	[ "$(grep -Ec ' kv_put\(.*\) = -28;$' "$TMP/ovr.err")" -eq 4 ]
check "--override: the original did not run (kv_slot only from kv_get)" \
	[ "$(awk '$2 == "kv_slot" { print $1 }' "$TMP/ovr.err")" -eq 4 ]

# --- Chrome trace -----------------------------------------------------------
run chrome --format=chrome -o "$TMP/trace.json" -t '*' -- \
	"$KVSTORE" -j $THREADS -n $ITER
check "--format=chrome: exits 0 and says where the file is" \
	bash -c "[ $(rc_of chrome) -eq 0 ] &&
		 grep -q 'Chrome trace written to $TMP/trace.json' '$TMP/chrome.err'"
python3 - "$TMP/trace.json" "$CALLS" >"$TMP/json" 2>&1 <<'EOF'
import collections, json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
stacks = collections.defaultdict(list)
begins = collections.Counter()
bad = 0
for e in ev:
    if e["ph"] == "B":
        stacks[e["tid"]].append(e["name"])
        begins[e["name"]] += 1
    elif e["ph"] == "E":
        if not stacks[e["tid"]] or stacks[e["tid"]].pop() != e["name"]:
            bad += 1
left = sum(len(s) for s in stacks.values())
print("events", len(ev), "unmatched", bad, "open", left, "kv_put", begins["kv_put"])
sys.exit(0 if bad == 0 and left == 0 and begins["kv_put"] == int(sys.argv[2]) else 1)
EOF
check "--format=chrome: the JSON parses, B/E events match per thread" \
	grep -q "unmatched 0 open 0 kv_put $CALLS$" "$TMP/json"
grep -q "unmatched 0 open 0" "$TMP/json" || diag <"$TMP/json"

# --- the far path -----------------------------------------------------------
run far --far --count 'kv_*' -t sensor_calibrate -- "$KVCLANG" -j $THREADS -n $ITER
check "--far: the same calls are seen through ftrace_caller" \
	bash -c "[ $(rc_of far) -eq 0 ] &&
		 [ \"\$(awk '\$2 == \"kv_put\" { print \$1 }' '$TMP/far.err')\" -eq $CALLS ] &&
		 [ \"\$(grep -c ' sensor_calibrate(' '$TMP/far.err')\" -eq $CALLS ]"

# --- signals ------------------------------------------------------------------
run sig -o "$TMP/sig.trace" -t '*' -- "$KVSTORE" -s -j 2 -n 100
check "a traced function in a signal handler: no deadlock, exit 0" \
	[ "$(rc_of sig)" -eq 0 ]
# A tick that interrupts one of the agent's programs on its thread runs
# sensor_tick() untraced (the recursion guard) and is counted MISSED; at
# high load a preempted program is interrupted often enough.  The ring
# (8M) holds the whole run's events ten times over: nothing is dropped.
ticks=$(sed -n 's/^kvstore: \([0-9]*\) timer ticks$/\1/p' "$TMP/sig.out")
lines=$(grep -c ' sensor_tick(' "$TMP/sig.trace")
missed=$(missed_of "$TMP/sig.trace" sensor_tick)
echo "sig: $ticks ticks, $lines traced, $missed missed" | diag
check "signal handler calls: each tick traced or MISSED" \
	[ $((lines + missed)) -eq "${ticks:--1}" ]
check "with signals, no event dropped" \
	bash -c "! grep -q 'events not shown' '$TMP/sig.err' '$TMP/sig.trace'"
check "with signals, every line is still well-formed" well_formed "$TMP/sig.trace"

# --- a shared library, exit status ----------------------------------------------
if [ -e "$PROGS/sample_prog" ]; then
	run lib -t 'sample_add@libsample-gcc.so' -t 'prog_*' -- "$PROGS/sample_prog" 3
	check "library functions are traced by FUNC@LIB" \
		[ "$(grep -c ' sample_add@libsample-gcc.so(' "$TMP/lib.err")" -eq 3 ]
	check "callers in the program, callees in the library, nested" \
		awk '/ prog_step\(.*\{$/ { match($0, /prog_step/); p = RSTART }
		     / sample_add@libsample-gcc.so\(/ { match($0, /sample_add/)
			if (!p || RSTART != p + 2) bad = 1; n++ }
		     /\} = .*; \/\/ prog_step$/ { p = 0 }
		     END { exit bad || n != 3 }' "$TMP/lib.err"
else
	# make check builds them: their absence is a broken build, not a skip
	not_ok "library functions are traced: selftests/progs not built"
	not_ok "library callees nested: selftests/progs not built"
fi
# --- longjmp and siglongjmp out of traced functions -----------------------
if [ -e "$PROGS/jump_prog" ]; then
	${QEMU_RUN:-} "$PROGS/jump_prog" 100 >"$TMP/jump.plain" 2>&1 ||
		true
	run jump -t 'jump_*' -- "$PROGS/jump_prog" 100
	check "longjmp: the program's output is the same traced" \
		cmp -s "$TMP/jump.plain" "$TMP/jump.out"
	check "longjmp: every line is well-formed" well_formed "$TMP/jump.err"
	check "longjmp: 100 + 100 frames closed as unwound" \
		[ "$(grep -c 'unwound; // jump_leave$' "$TMP/jump.err")" -eq 100 -a \
		  "$(grep -c ' jump_raise(.*) unwound;$' "$TMP/jump.err")" -eq 100 ]
	check "longjmp: nesting intact after 200 abandoned frames" \
		awk '/ jump_leave\(x=0\) \{$/ { match($0, /jump_leave/); c = RSTART }
		     / jump_done\(x=20\) \{$/ { match($0, /jump_done/); d = RSTART }
		     END { exit !(c && c == d) }' "$TMP/jump.err"
	run jumpc --count 'jump_*' -- "$PROGS/jump_prog" 100
	cmp -s "$TMP/jump.plain" "$TMP/jumpc.out" &&
	awk '/^ *CALLS +FUNCTION$/ { on = 1; next }
	     on && NF == 2 { c[$2] = $1 }
	     END { exit !(c["jump_leave"] == 100 && c["jump_raise"] == 100 &&
			  c["jump_inner"] == 101 && c["jump_done"] == 1) }' \
		"$TMP/jumpc.err"
	result "longjmp: --count exact for the abandoned calls and the rest" $?
else
	for i in 1 2 3 4 5; do
		not_ok "longjmp out of traced functions: selftests/progs not built"
	done
fi

run status -t main -- "$KVSTORE" -j 99
check "the program's exit status is ftramp run's" [ "$(rc_of status)" -eq 2 ]
check "-o: the trace goes to the file, the program's output is untouched" \
	bash -c "head -1 '$TMP/gcc.trace' | grep -q '^#   TIME' &&
		 ! grep -q 'TIME' '$TMP/gcc.out' '$TMP/gcc.err'"

finish
