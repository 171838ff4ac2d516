#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp run counts exactly what the program did, whatever the recursion
# guard skips, and says what it missed (guard_prog, selftests/guard.mk):
#
#  - --hist on a recursion 10000 deep: every call in the histogram (the
#    session cookie pairs each entry with its exit; a per-thread stack of
#    64 frames once reported 64 calls), the same as --count;
#  - a function called from a signal handler while its program runs
#    (-t, --hist): --count equals the program's own count, and the lines
#    (or histogram entries) plus the MISSED report add up to it, also
#    when the program is killed by SIGKILL (the misses are counted into
#    the session file as they happen).
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 13

GPROG=$PROGS/guard_prog
DEEP=10000
ITER=3000

RUN_TIMEOUT=300

rc_of() {
	cat "$TMP/$1.rc"
}

# hist_sum FILE FUNC: the buckets of FUNC's histogram, added up.
hist_sum() {
	awk -v f="$2:" '$1 == f { on = 1; next }
		on && /^ *[0-9]+ -> [0-9]+ *:/ { s += $5; next }
		on && !/nsecs/ { on = 0 }
		END { print s + 0 }' "$1"
}

# count_of FILE FUNC: FUNC's row of the CALLS table.
count_of() {
	awk -v f="$2" '/^ *CALLS/ { on = 1; next } /^ *MISSED/ { on = 0 }
		on && $2 == f { print $1 }' "$1"
}

if [ ! -x "$GPROG" ]; then
	for i in $(seq 13); do not_ok "guard_prog missing: $GPROG"; done
	finish
	exit
fi

# --- deep recursion: --hist and --count ----------------------------------
run deep --hist deep_rec --count deep_rec -- "$GPROG" deep $DEEP
check "deep: exits 0" [ "$(rc_of deep)" -eq 0 ]
check "deep: the program recursed $DEEP levels" \
	grep -qx "deep $DEEP: $DEEP" "$TMP/deep.out"
check "deep: --count says $((DEEP + 1)) calls" \
	[ "$(count_of "$TMP/deep.err" deep_rec)" = $((DEEP + 1)) ]
check "deep: the histogram holds every call, at every depth" \
	[ "$(hist_sum "$TMP/deep.err" deep_rec)" -eq $((DEEP + 1)) ]
if [ "$(hist_sum "$TMP/deep.err" deep_rec)" -ne $((DEEP + 1)) ]; then
	head -20 "$TMP/deep.err" | diag
fi
check "deep: the histogram's header says so" \
	grep -Eq "^deep_rec: $((DEEP + 1)) calls, min >= " "$TMP/deep.err"

# --- signal handlers: -t and --count -----------------------------------
run sig -o "$TMP/sig.trace" -t sigwork --count sigwork -- "$GPROG" sig $ITER
own=$(sed -n 's/^sigwork calls: \([0-9]*\)$/\1/p' "$TMP/sig.out")
check "sig: exits 0" [ "$(rc_of sig)" -eq 0 ]
[ -n "$own" ] && [ "$(count_of "$TMP/sig.trace" sigwork)" = "$own" ]
result "sig: --count equals the program's own count ($own)" $?
lines=$(grep -c ' sigwork(' "$TMP/sig.trace")
missed=$(missed_of "$TMP/sig.trace" sigwork)
echo "sig: $own calls, $lines traced, $missed missed" | diag
check "sig: traced lines + MISSED = every call" \
	[ $((lines + missed)) -eq "${own:-0}" ]

# --- signal handlers: --hist and --count -------------------------------
run sigh --hist sigwork --count sigwork -- "$GPROG" sig $ITER
own=$(sed -n 's/^sigwork calls: \([0-9]*\)$/\1/p' "$TMP/sigh.out")
missed=$(missed_of "$TMP/sigh.err" sigwork)
[ -n "$own" ] && [ "$(count_of "$TMP/sigh.err" sigwork)" = "$own" ]
result "sig --hist: --count equals the program's own count" $?
check "sig --hist: histogram + MISSED = every call" \
	[ $(($(hist_sum "$TMP/sigh.err" sigwork) + missed)) -eq "${own:-0}" ]

# --- misses in the session file: the program killed ---------------------
# The trampoline counts each miss into the session file as it happens: a
# program killed by SIGKILL (after its last call) has them all reported.
rm -f "$TMP/skill.fifo"
mkfifo "$TMP/skill.fifo"
"$FTRAMP" run -o "$TMP/skill.trace" -t sigwork --count sigwork -- \
	"$GPROG" sigidle $ITER >"$TMP/skill.fifo" 2>"$TMP/skill.err" &
ftpid=$!
line=
read -r -t 600 line <"$TMP/skill.fifo"
read -r _ pid own <<<"$line"
[ -n "$pid" ] && kill -KILL "$pid"
wait "$ftpid"
lines=$(grep -c ' sigwork(' "$TMP/skill.trace")
missed=$(missed_of "$TMP/skill.trace" sigwork)
echo "sig, SIGKILL: $own calls, $lines traced, $missed missed" | diag
[ -n "$own" ] && grep -q 'killed by SIGKILL' "$TMP/skill.err" &&
	[ "$(count_of "$TMP/skill.trace" sigwork)" = "$own" ]
result "sig, SIGKILL: killed, and --count equals the program's own count" $?
check "sig, SIGKILL: calls were missed, and reported" [ "$missed" -gt 0 ]
check "sig, SIGKILL: traced lines + MISSED = every call" \
	[ $((lines + missed)) -eq "${own:-0}" ]

finish
