#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ftramp prog: the samples' BPF objects as the library's loader reads
# them (programs, maps, relocations), and a bad object refused with the
# loader's message (exit 1).
#
# ftramp run -e: selftests/progs/cli_run.bpf.c on sample_prog (exact
# counts in a global and a hash, fmod_ret overriding prog_step(2),
# bpf_printk lines and ring buffer records printed by the ftramp
# process, --maps); a refused object stops before the program runs;
# --maps after the program died of SIGSEGV (cli_crash.bpf.c).
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

plan 37

BPF=$O/selftests/progs/bpf

"$FTRAMP" prog "$O/samples/kvevents.bpf.o" >"$TMP/prog.out" 2>&1
check "prog: lists the fexit program on kv_put" \
	grep -Eq '^  put_exit +fexit +kv_put ' "$TMP/prog.out"
check "prog: lists the ring buffer and its relocation" \
	grep -Eq '^  fexit/kv_put insn [0-9]+: map events -> events$' "$TMP/prog.out"
check "prog: ... and the program's engine, the JIT" \
	grep -Eq '^  put_exit +fexit +kv_put .*, JIT$' "$TMP/prog.out"
"$FTRAMP" prog "$BPF/bpf_helpers.bpf.o" >"$TMP/tail.out" 2>&1
check "prog: a program with bpf_tail_call() is JIT'd too" \
	grep -Eq '^  helpers +.*, JIT$' "$TMP/tail.out"

"$FTRAMP" prog "$BPF/bpf_prog_array_init.bpf.o" >"$TMP/slots.out" 2>&1
grep -A2 -E '^  jmp_table +prog_array .* max_entries 3$' "$TMP/slots.out" | \
	tail -n +2 >"$TMP/slots.lines"
check "prog: a prog array's declared slots under it, one line each" \
	[ "$(cat "$TMP/slots.lines")" = "$(printf '    slot 0: target_a\n    slot 2: target_b')" ]
check "prog: ... and no line for the empty slot" \
	[ "$(grep -c '^    slot ' "$TMP/slots.out")" -eq 2 ]

"$FTRAMP" prog "$BPF/refuse_maptype.bpf.o" >"$TMP/bad.out" 2>&1
echo $? >"$TMP/bad.rc"
check "prog: a refused object exits 1" [ "$(cat "$TMP/bad.rc")" -eq 1 ]
check "prog: ... with the section, symbol and reason" \
	grep -q 'section .maps, symbol st: map type 7: unknown' "$TMP/bad.out"

# -v: the verifier's log of each program, its verdict and its counts
"$FTRAMP" prog -v "$BPF/bpf_trace.bpf.o" >"$TMP/log.out" 2>&1
check "prog -v: a log for each of the three programs" \
	[ "$(grep -c '^verifier log of ' "$TMP/log.out")" -eq 3 ]
check "prog -v: ... each verified, with its processed insns" \
	[ "$(grep -Ec '^processed [0-9]+ insns \(limit 1000000\).*: verified$' \
	    "$TMP/log.out")" -eq 3 ]
"$FTRAMP" prog -v "$BPF/refuse_verify.bpf.o" >"$TMP/vbad.out" 2>&1
echo $? >"$TMP/vbad.rc"
check "prog -v: a program the verifier refuses exits 1" \
	[ "$(cat "$TMP/vbad.rc")" -eq 1 ]
check "prog -v: ... the log shows the state and the refusal" \
	grep -Eq "^insn [0-9]+: R[0-9] invalid mem access 'map_value_or_null' \(R[0-9]=map_value_or_null\(map=counts,id=1,off=0\)\)$" \
	"$TMP/vbad.out"

# --- ftramp run -e ----------------------------------------------------------
need_prog "$PROGS/sample_prog" 17 "run -e"

run e -e "$BPF/cli_run.bpf.o" --maps -- "$PROGS/sample_prog" 5
check "run -e: exit status 0" [ "$(cat "$TMP/e.rc")" -eq 0 ]
check "run -e: fmod_ret makes prog_step(2) return 4242" \
	grep -qx 'step 2: 4242 1.0' "$TMP/e.out"
check "run -e: ... and the others run as without it" \
	grep -qx 'step 3: 121 1.5' "$TMP/e.out"
check "run -e: a bpf_printk line per prog_square call, 2 skipped" \
	[ "$(grep -c 'bpf_trace_printk: prog_square([0-9])$' "$TMP/e.err")" -eq 4 ]
check "run -e: bpf_printk of prog_square(3)" \
	grep -q 'bpf_trace_printk: prog_square(3)$' "$TMP/e.err"
check "run -e: a ring buffer record {x = 3, ret = 9}" \
	grep -qx 'ringbuf cli_run.bpf.o/squares: 8 bytes: 03 00 00 00 09 00 00 00' "$TMP/e.err"
check "run -e: 4 records, none for prog_square(2)" \
	[ "$(grep -c '^ringbuf cli_run.bpf.o/squares: 8 bytes:' "$TMP/e.err")" -eq 4 ]
check "--maps: the global counted exactly 4 calls" \
	grep -qx '  {square_calls=4}' "$TMP/e.err"
[ "$(grep -Ec '^  [0134]: 1$' "$TMP/e.err")" -eq 4 ] &&
	grep -qx '  (4 elements)' "$TMP/e.err"
result "--maps: the hash has one call for each of 0, 1, 3, 4" $?
result "--maps: ... and nothing for 2" $(grep -q '^  2: ' "$TMP/e.err"; [ $? -eq 1 ]; echo $?)

# the engine: JIT by default, the interpreter on demand, same results
run ev -e "$BPF/cli_run.bpf.o" -v -- "$PROGS/sample_prog" 5
check "run -e: JIT'd by default (-v says so)" \
	grep -q 'square_enter attached to prog_square (JIT)$' "$TMP/ev.err"
check "run -e: ... and the JIT'd fmod_ret overrides" \
	grep -qx 'step 2: 4242 1.0' "$TMP/ev.out"
run ei -e "$BPF/cli_run.bpf.o" --engine interp -v -- "$PROGS/sample_prog" 5
check "run -e --engine interp: the interpreter (-v says so)" \
	grep -q 'attached to prog_square (interpreter)$' "$TMP/ei.err"
check "run -e --engine interp: ... with the same results" \
	[ "$(grep -c 'bpf_trace_printk: prog_square([0-9])$' "$TMP/ei.err") $(grep -cx 'step 2: 4242 1.0' "$TMP/ei.out")" = "4 1" ]

# BPF programs and the CLI's own tracers on the same functions: --hist
# (FTRAMP_HIST) on the fentry/fexit target, --count on the fmod_ret one
run eh -e "$BPF/cli_run.bpf.o" --maps --hist prog_square --count prog_step \
	-- "$PROGS/sample_prog" 5
check "run -e with --hist and --count on its targets: the programs still run" \
	[ "$(cat "$TMP/eh.rc") $(grep -c 'bpf_trace_printk: prog_square([0-9])$' "$TMP/eh.err")" = "0 4" ]
check "run -e with --hist and --count: fmod_ret still overrides" \
	grep -qx 'step 2: 4242 1.0' "$TMP/eh.out"
check "run -e with --hist and --count: the histogram has the 4 calls" \
	grep -Eq '^prog_square: 4 calls' "$TMP/eh.err"
run ehr -e "$BPF/cli_run.bpf.o" --hist prog_step -- "$PROGS/sample_prog" 5
check "run -e: --hist on an fmod_ret program's target is refused (125), saying why" \
	[ "$(cat "$TMP/ehr.rc") $(grep -c "^ftramp: --hist 'prog_step': an -e object's fmod_ret program overrides it" "$TMP/ehr.err")" = "125 1" ]

run bad -e "$BPF/refuse_maptype.bpf.o" -- "$PROGS/sample_prog" 5
check "run -e: a refused object exits 1" [ "$(cat "$TMP/bad.rc")" -eq 1 ]
check "run -e: ... with the loader's message, and the program never ran" \
	grep -q 'section .maps, symbol st: map type 7: unknown' "$TMP/bad.err"
result "run -e: ... nothing of the program's output" \
	$(grep -q step "$TMP/bad.out"; [ $? -eq 1 ]; echo $?)

# bpf_trace.bpf.o's programs are for bpf_test's functions, not these
run notarget -e "$BPF/bpf_trace.bpf.o" -- "$PROGS/sample_prog" 5
check "run -e: a target the program lacks: status 125 (the agent's)" \
	[ "$(cat "$TMP/notarget.rc")" -eq 125 ]
check "run -e: ... saying which section and why" \
	grep -q 'bpf_trace.bpf.o: cannot attach: section f[a-z_]*/bt_[a-z]*: .*no patchable function of that name' "$TMP/notarget.err"

if [ -x "$PROGS/events_prog" ]; then
	run crash -e "$BPF/cli_crash.bpf.o" --maps -- "$PROGS/events_prog" crash
	check "run -e: the program's SIGSEGV is its exit status" \
		[ "$(cat "$TMP/crash.rc")" -eq 139 ]
	check "--maps after a crash: what the programs counted before it" \
		grep -qx '  {outer_calls=1, crash_calls=1}' "$TMP/crash.err"
else
	not_ok "run -e crash: $PROGS/events_prog not built"
	not_ok "run -e crash: $PROGS/events_prog not built"
fi

finish
