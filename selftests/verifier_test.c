// SPDX-License-Identifier: MIT
/*
 * The verifier (bpf/verifier.c), one rule at a time in the manner of the
 * kernel's tools/testing/selftests/bpf/verifier/ files: for each rule a
 * program that keeps it (loaded, and run when it is raw) and one that
 * breaks it (refused with FTRAMP_BPF_E_VERIFY or the loader's code, the
 * message naming the insn, the register and its state).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/bpf_insns.h"
#include "selftests/harness.h"

#define MOVX(d, s)		A64X(BPF_MOV, d, s)
#define LDMAP(d, m)		I(BPF_LD | BPF_IMM | BPF_DW, d, \
				  BPF_PSEUDO_MAP_FD, 0, m), I(0, 0, 0, 0, 0)
#define LDFUNC(d, o)		I(BPF_LD | BPF_IMM | BPF_DW, d, \
				  BPF_PSEUDO_FUNC, 0, o), I(0, 0, 0, 0, 0)

/* r2 = fp - 8 with the key 0 written: a map key argument */
#define KEY0()			ST(BPF_W, 10, -8, 0), MOVX(2, 10), \
				A64K(BPF_ADD, 2, -8)
/* r0 = arr[0] (maps[0]: ARRAY, value 16 bytes), maybe NULL */
#define LOOKUP_ARR()		LDMAP(1, 0), KEY0(), \
				CALL(BPF_FUNC_map_lookup_elem)
/* r6 = R1 (data or ctx), r0 = &arr[0], not NULL (a 9-insn prefix) */
#define VAL_ARR()		MOVX(6, 1), LOOKUP_ARR(), \
				JK(BPF_JNE, 0, 0, 1), EXIT()
/* r0 = a ring buffer record of 8 bytes, not NULL (a 7-insn prefix) */
#define RESERVE8()		LDMAP(1, RB), MOV(2, 8), MOV(3, 0), \
				CALL(BPF_FUNC_ringbuf_reserve), \
				JK(BPF_JNE, 0, 0, 1), EXIT()

enum { ARR, HASH, RB, PROGS, NR_MAPS };

struct vcase {
	const char *name;
	const insn_t *insns;
	size_t n;
	int type;		/* enum ftramp_bpf_prog_type */
	const char *model;	/* the attach target's prototype, or NULL */
	const char *refusal;	/* NULL: accepted */
	int code;		/* refusal: FTRAMP_BPF_E_*, 0: E_VERIFY */
};

#define CASE(nm, ty, mdl, why, ...) { nm, (const insn_t[]){ __VA_ARGS__ }, \
	sizeof((const insn_t[]){ __VA_ARGS__ }) / sizeof(insn_t), ty, mdl, \
	why, 0 }
#define OK(nm, ...)		CASE(nm, FTRAMP_BPF_PROG_RAW, NULL, NULL, __VA_ARGS__)
#define BAD(nm, why, ...)	CASE(nm, FTRAMP_BPF_PROG_RAW, NULL, why, __VA_ARGS__)
#define FOK(nm, ty, m, ...)	CASE(nm, ty, m, NULL, __VA_ARGS__)
#define FBAD(nm, ty, m, why, ...) CASE(nm, ty, m, why, __VA_ARGS__)
/* refused by bpf_check() (the load checks) with its own code */
#define I2(nm, cd, why, ...)	{ nm, (const insn_t[]){ __VA_ARGS__ }, \
	sizeof((const insn_t[]){ __VA_ARGS__ }) / sizeof(insn_t), \
	FTRAMP_BPF_PROG_RAW, NULL, why, cd }

#define FENTRY	FTRAMP_BPF_PROG_FENTRY
#define FEXIT	FTRAMP_BPF_PROG_FEXIT

static const struct vcase cases[] = {
	/* registers: read only after a write */
	OK("reg_written", MOV(3, 1), MOVX(0, 3), EXIT()),
	BAD("reg_uninit", "insn 0: R3 !read_ok", MOVX(0, 3), EXIT()),
	BAD("r0_uninit_at_exit", "insn 0: R0 !read_ok", EXIT()),
	OK("r0_scalar_at_exit", MOV(0, 0), EXIT()),
	BAD("r0_pointer_at_exit", "insn 1: R0 at program exit the register "
	    "R0 is not a scalar (R0=fp(frame=0,off=0))", MOVX(0, 10), EXIT()),
	/* R1-R5 are scratched by a call, R0 takes the helper's type */
	OK("r6_kept_over_call", MOV(6, 7), CALL(BPF_FUNC_ktime_get_ns),
	   MOVX(0, 6), EXIT()),
	BAD("r1_scratched_by_call", "insn 1: R1 !read_ok",
	    CALL(BPF_FUNC_ktime_get_ns), MOVX(0, 1), EXIT()),

	/* the control flow graph */
	OK("forward_jump", MOV(0, 0), JK(BPF_JEQ, 0, 0, 1), MOV(0, 1), EXIT()),
	BAD("unreachable", "insn 2: unreachable insn 2", MOV(0, 0), EXIT(),
	    MOV(0, 1), EXIT()),
	BAD("jump_into_function", "jump out of range from insn 1 to 4",
	    CALLREL(3), JK(BPF_JEQ, 0, 0, 2), MOV(0, 0), EXIT(),
	    MOV(0, 1), EXIT()),
	OK("two_functions", CALLREL(3), CALLREL(4), MOV(0, 0), EXIT(),
	   MOV(0, 1), EXIT(), MOV(0, 2), EXIT()),
	BAD("function_falls_off", "falls off the end of the function at insn 3",
	    CALLREL(2), CALLREL(2), EXIT(), MOV(0, 1), MOV(0, 2), EXIT()),

	/* the stack: in bounds, read only what was written */
	OK("stack_write_read", ST(BPF_DW, 10, -8, 1), LDX(BPF_DW, 0, 10, -8),
	   EXIT()),
	BAD("stack_read_unwritten", "insn 0: R10 invalid read from stack off "
	    "-8+0 size 8", LDX(BPF_DW, 0, 10, -8), EXIT()),
	BAD("stack_partly_written", "fp-4 was never written",
	    ST(BPF_W, 10, -8, 1), LDX(BPF_DW, 0, 10, -8), EXIT()),
	OK("stack_bottom", ST(BPF_DW, 10, -512, 1), LDX(BPF_DW, 0, 10, -512),
	   EXIT()),
	BAD("stack_below", "insn 0: R10 invalid write to stack off=-520 size=8",
	    ST(BPF_DW, 10, -520, 1), MOV(0, 0), EXIT()),
	BAD("stack_above_fp", "invalid write to stack off=0 size=8",
	    ST(BPF_DW, 10, 0, 1), MOV(0, 0), EXIT()),
	OK("spill_fill_pointer", STX(BPF_DW, 10, 1, -8), LDX(BPF_DW, 2, 10, -8),
	   LDX(BPF_B, 0, 2, 0), EXIT()),
	BAD("partial_fill_of_pointer", "invalid size of register fill",
	    STX(BPF_DW, 10, 1, -8), LDX(BPF_W, 2, 10, -8), MOV(0, 0), EXIT()),

	/* scalars are not pointers */
	BAD("scalar_deref", "insn 1: R2 invalid mem access 'scalar' (R2=100)",
	    MOV(2, 100), LDX(BPF_DW, 0, 2, 0), EXIT()),
	/*
	 * The longest register a message prints, every bound and a
	 * var_off: once overran its buffer (fuzz_verifier, ASan).
	 */
	BAD("scalar_deref_every_bound", "insn 4: R3 invalid mem access "
	    "'scalar' (R3=scalar(smin=-9163031622968663040,"
	    "smax=-9163031622968662785,umin=9283712450740888576,"
	    "umax=9283712450740888831,var_off=(0x80d65f4967482400; 0xff)))",
	    LDX(BPF_B, 3, 1, 0), LD64(4, 0x80d65f4967482400ull),
	    A64X(BPF_ADD, 3, 4), LDX(BPF_DW, 0, 3, 0), EXIT()),
	OK("pointer_add_const", MOVX(2, 1), A64K(BPF_ADD, 2, 8),
	   LDX(BPF_B, 0, 2, 0), EXIT()),
	BAD("pointer_and", "R1 pointer arithmetic with this operator "
	    "prohibited", A64K(BPF_AND, 1, 0xff), MOV(0, 0), EXIT()),
	BAD("pointer_alu32", "R1 32-bit pointer arithmetic prohibited",
	    A32K(BPF_ADD, 1, 1), MOV(0, 0), EXIT()),
	OK("pointer_minus_pointer", MOVX(2, 1), A64K(BPF_ADD, 2, 4),
	   A64X(BPF_SUB, 2, 1), MOVX(0, 2), EXIT()),
	/* division by a register that may be 0 is defined by the ISA */
	OK("div_by_maybe_zero", LDX(BPF_B, 2, 1, 0), MOV(0, 10),
	   A64X(BPF_DIV, 0, 2), EXIT()),

	/* map values: bounds, the NULL check */
	OK("map_value_in_bounds", LOOKUP_ARR(), JK(BPF_JEQ, 0, 0, 1),
	   LDX(BPF_DW, 0, 0, 8), EXIT()),
	BAD("map_value_beyond", "insn 7: R0 invalid access to map value, "
	    "value_size=16 off=16 size=8 (R0=map_value(map=arr,off=0))",
	    LOOKUP_ARR(), JK(BPF_JEQ, 0, 0, 1), LDX(BPF_DW, 0, 0, 16), EXIT()),
	BAD("map_value_negative", "invalid access to map value, value_size=16 "
	    "off=-1 size=1", LOOKUP_ARR(), JK(BPF_JEQ, 0, 0, 1),
	    LDX(BPF_B, 0, 0, -1), EXIT()),
	BAD("map_value_no_null_check", "insn 6: R0 invalid mem access "
	    "'map_value_or_null' (R0=map_value_or_null(map=arr,id=1,off=0))",
	    LOOKUP_ARR(), LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("map_value_null_arith", "R0 pointer arithmetic on map_value_or_null "
	    "prohibited, null-check it first", LOOKUP_ARR(),
	    A64K(BPF_ADD, 0, 4), MOV(0, 0), EXIT()),
	/* the NULL branch is checked too: the copy in r6 follows the check */
	BAD("map_value_null_branch", "invalid mem access 'scalar'",
	    LOOKUP_ARR(), MOVX(6, 0), JK(BPF_JNE, 0, 0, 1),
	    LDX(BPF_DW, 0, 6, 0), MOV(0, 0), EXIT()),
	OK("map_value_variable_index", MOVX(6, 1), LOOKUP_ARR(),
	   JK(BPF_JEQ, 0, 0, 4), LDX(BPF_B, 2, 6, 0), A64K(BPF_AND, 2, 15),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT()),
	BAD("map_value_variable_too_far", "invalid access to map value, "
	    "value_size=16 off=0 size=1", MOVX(6, 1), LOOKUP_ARR(),
	    JK(BPF_JEQ, 0, 0, 4), LDX(BPF_B, 2, 6, 0), A64K(BPF_AND, 2, 31),
	    A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("map_value_jmp32_bound", MOVX(6, 1), LOOKUP_ARR(),
	   JK(BPF_JEQ, 0, 0, 4), LDX(BPF_W, 2, 6, 0), J32K(BPF_JGT, 2, 15, 3),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT(), MOV(0, 0), EXIT()),
	BAD("map_value_unbounded", "R0 unbounded pointer arithmetic",
	    MOVX(6, 1), LOOKUP_ARR(), JK(BPF_JEQ, 0, 0, 3),
	    LDX(BPF_DW, 2, 6, 0), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	    EXIT()),
	BAD("map_ptr_deref", "insn 2: R1 invalid mem access 'map_ptr'",
	    LDMAP(1, 0), LDX(BPF_DW, 0, 1, 0), EXIT()),

	/* helper arguments, per prototype */
	BAD("helper_map_not_map", "insn 4: R1 type=scalar expected=map_ptr",
	    MOV(1, 12345), KEY0(), CALL(BPF_FUNC_map_lookup_elem), EXIT()),
	BAD("helper_key_unwritten", "R2 invalid indirect read from stack",
	    LDMAP(1, HASH), MOVX(2, 10), A64K(BPF_ADD, 2, -8),
	    CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0), EXIT()),
	OK("helper_update", LDMAP(1, HASH), KEY0(), ST(BPF_DW, 10, -16, 5),
	   MOVX(3, 10), A64K(BPF_ADD, 3, -16), MOV(4, BPF_ANY),
	   CALL(BPF_FUNC_map_update_elem), EXIT()),
	BAD("helper_value_short", "R3 invalid indirect read from stack",
	    LDMAP(1, HASH), KEY0(), ST(BPF_W, 10, -16, 5), MOVX(3, 10),
	    A64K(BPF_ADD, 3, -16), MOV(4, BPF_ANY),
	    CALL(BPF_FUNC_map_update_elem), EXIT()),
	BAD("helper_missing_arg", "R4 !read_ok: map_update_elem() takes an "
	    "argument 4", LDMAP(1, HASH), KEY0(), ST(BPF_DW, 10, -16, 5),
	    MOVX(3, 10), A64K(BPF_ADD, 3, -16),
	    CALL(BPF_FUNC_map_update_elem), EXIT()),
	BAD("helper_map_type", "cannot pass map_type 2 (map arr) into func "
	    "tail_call", LDMAP(2, ARR), MOV(3, 0),
	    CALL(BPF_FUNC_tail_call), MOV(0, 0), EXIT()),
	OK("helper_tail_call", LDMAP(2, PROGS), MOV(3, 0),
	   CALL(BPF_FUNC_tail_call), MOV(0, 0), EXIT()),
	BAD("helper_zero_size", "R2 invalid zero-sized read",
	    ST(BPF_DW, 10, -8, 0), MOVX(1, 10), A64K(BPF_ADD, 1, -8), MOV(2, 0),
	    CALL(BPF_FUNC_trace_printk), EXIT()),
	BAD("helper_unbounded_size", "R2 unbounded memory access",
	    LDX(BPF_W, 2, 1, 0), MOVX(1, 10), A64K(BPF_ADD, 1, -8), MOV(3, 0),
	    CALL(BPF_FUNC_probe_read_user), EXIT()),
	BAD("helper_negative_size", "R2 min value is negative",
	    LDX(BPF_DW, 2, 1, 0), MOVX(1, 10), A64K(BPF_ADD, 1, -8), MOV(3, 0),
	    CALL(BPF_FUNC_probe_read_user), EXIT()),
	OK("helper_bounded_size", LDX(BPF_DW, 2, 1, 0), A64K(BPF_AND, 2, 7),
	   MOVX(1, 10), A64K(BPF_ADD, 1, -8), MOV(3, 0),
	   CALL(BPF_FUNC_probe_read_user), MOV(0, 0), EXIT()),
	BAD("helper_writes_beyond_stack", "R1 invalid indirect access to stack "
	    "off=-8 size=16", MOVX(1, 10), A64K(BPF_ADD, 1, -8), MOV(2, 16),
	    MOV(3, 0), CALL(BPF_FUNC_probe_read_user), MOV(0, 0), EXIT()),
	/* what a helper wrote may be read */
	OK("helper_wrote_stack", MOVX(1, 10), A64K(BPF_ADD, 1, -16), MOV(2, 16),
	   CALL(BPF_FUNC_get_current_comm), LDX(BPF_DW, 0, 10, -16), EXIT()),

	/* ring buffer records: released on every path */
	OK("ringbuf_submit", LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	   CALL(BPF_FUNC_ringbuf_reserve), JK(BPF_JNE, 0, 0, 1), EXIT(),
	   ST(BPF_DW, 0, 0, 7), MOVX(1, 0), MOV(2, 0),
	   CALL(BPF_FUNC_ringbuf_submit), MOV(0, 0), EXIT()),
	BAD("ringbuf_leak", "Unreleased reference id=1 alloc_insn=4",
	    LDMAP(1, RB), MOV(2, 8), MOV(3, 0), CALL(BPF_FUNC_ringbuf_reserve),
	    JK(BPF_JNE, 0, 0, 1), EXIT(), MOV(0, 0), EXIT()),
	BAD("ringbuf_leak_one_path", "Unreleased reference id=1",
	    MOVX(6, 1), LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), JK(BPF_JNE, 0, 0, 1), EXIT(),
	    LDX(BPF_B, 2, 6, 0), JK(BPF_JEQ, 2, 0, 3), MOVX(1, 0), MOV(2, 0),
	    CALL(BPF_FUNC_ringbuf_discard), MOV(0, 0), EXIT()),
	BAD("ringbuf_beyond_record", "R0 invalid access to memory, mem_size=8 "
	    "off=8 size=8", LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), JK(BPF_JNE, 0, 0, 1), EXIT(),
	    ST(BPF_DW, 0, 8, 7), MOVX(1, 0), MOV(2, 0),
	    CALL(BPF_FUNC_ringbuf_submit), MOV(0, 0), EXIT()),
	BAD("ringbuf_use_after_submit", "insn 11: R6 invalid mem access "
	    "'scalar'", LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), JK(BPF_JNE, 0, 0, 1), EXIT(),
	    MOVX(6, 0), MOVX(1, 0), MOV(2, 0), CALL(BPF_FUNC_ringbuf_submit),
	    ST(BPF_DW, 6, 0, 1), MOV(0, 0), EXIT()),
	BAD("ringbuf_submit_maybe_null", "expected=ring buffer record, "
	    "null-check it first", LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), MOVX(1, 0), MOV(2, 0),
	    CALL(BPF_FUNC_ringbuf_submit), MOV(0, 0), EXIT()),
	BAD("ringbuf_variable_size", "R2 a record size must be a known "
	    "constant", LDX(BPF_B, 2, 1, 0), LDMAP(1, RB), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), MOV(0, 0), EXIT()),

	/* ctx: read-only, bounded by the function model */
	FOK("ctx_arg", FENTRY, "int (int, int)", LDX(BPF_DW, 0, 1, 8), EXIT()),
	FBAD("ctx_beyond_args", FENTRY, "int (int, int)", "insn 0: R1 invalid "
	     "bpf_context access off=16 size=8: ctx has 2 u64 slots",
	     LDX(BPF_DW, 0, 1, 16), EXIT()),
	FOK("ctx_fexit_ret", FEXIT, "int (int, int)", LDX(BPF_DW, 0, 1, 16),
	    EXIT()),
	FBAD("ctx_fexit_beyond_ret", FEXIT, "int (int, int)", "invalid "
	     "bpf_context access off=24 size=8: ctx has 3 u64 slots",
	     LDX(BPF_DW, 0, 1, 24), EXIT()),
	FBAD("ctx_write", FENTRY, NULL, "insn 0: R1 cannot write into ctx",
	     ST(BPF_DW, 1, 0, 1), MOV(0, 0), EXIT()),
	FBAD("ctx_straddles_slots", FENTRY, NULL, "invalid bpf_context access "
	     "off=4 size=8", LDX(BPF_DW, 0, 1, 4), EXIT()),
	FOK("ctx_helper", FEXIT, "long (long)", MOVX(6, 1), MOVX(2, 10),
	    A64K(BPF_ADD, 2, -8), CALL(BPF_FUNC_get_func_ret), MOVX(1, 6),
	    CALL(BPF_FUNC_get_func_arg_cnt), EXIT()),
	FBAD("ctx_helper_not_ctx", FEXIT, NULL, "R1 type=fp expected=ctx",
	     MOVX(1, 10), CALL(BPF_FUNC_get_func_arg_cnt), EXIT()),

	/* subprograms: frames of their own, 8 at most, no recursion */
	BAD("recursion", "insn 0: recursive call from insn 0 to 0",
	    CALLREL(-1), EXIT()),
	BAD("return_stack_pointer", "R0 cannot return a stack pointer",
	    CALLREL(1), EXIT(), MOVX(0, 10), EXIT()),
	OK("callee_writes_caller_stack", MOVX(1, 10), A64K(BPF_ADD, 1, -8),
	   CALLREL(2), LDX(BPF_DW, 0, 10, -8), EXIT(), ST(BPF_DW, 1, 0, 3),
	   MOV(0, 0), EXIT()),
	BAD("callee_reads_own_unwritten", "invalid read from stack",
	    ST(BPF_DW, 10, -8, 1), CALLREL(1), EXIT(),
	    LDX(BPF_DW, 0, 10, -8), EXIT()),
	BAD("callee_spills_own_stack_to_caller", "R1 cannot spill pointers to "
	    "stack into stack frame of the caller", MOVX(1, 10),
	    A64K(BPF_ADD, 1, -8), CALLREL(2), MOV(0, 0), EXIT(),
	    STX(BPF_DW, 1, 10, 0), MOV(0, 0), EXIT()),
	BAD("callee_r6_uninit", "insn 3: R6 !read_ok", MOV(6, 1), CALLREL(1),
	    EXIT(), MOVX(0, 6), EXIT()),
	/* bpf_loop: the callback is a function, its result 0 or 1 */
	OK("bpf_loop", ST(BPF_DW, 10, -8, 0), MOV(1, 10), LDFUNC(2, 7),
	   MOVX(3, 10), A64K(BPF_ADD, 3, -8), MOV(4, 0),
	   CALL(BPF_FUNC_loop), LDX(BPF_DW, 0, 10, -8), EXIT(),
	   /* callback(i, ctx): *ctx += i */
	   LDX(BPF_DW, 3, 2, 0), A64X(BPF_ADD, 3, 1), STX(BPF_DW, 2, 3, 0),
	   MOV(0, 0), EXIT()),
	BAD("bpf_loop_callback_ret", "at callback return R0 should be in [0, 1]",
	    MOV(1, 10), LDFUNC(2, 5), MOV(3, 0), MOV(4, 0),
	    CALL(BPF_FUNC_loop), EXIT(), MOV(0, 5), EXIT()),

	/* loops: bounded ones are walked, others refused */
	OK("bounded_loop", MOV(0, 0), MOV(3, 100), A64K(BPF_ADD, 0, 2),
	   A64K(BPF_SUB, 3, 1), JK(BPF_JNE, 3, 0, -3), EXIT()),
	OK("loop_on_unknown_shrinks", LDX(BPF_DW, 2, 1, 0), MOV(0, 0),
	   JK(BPF_JLE, 2, 1, 3), A64K(BPF_RSH, 2, 1), A64K(BPF_ADD, 0, 1),
	   JA(-4), EXIT()),
	BAD("infinite_loop", "infinite loop detected at insn 1", MOV(0, 0),
	    JA(-1)),
	/* r0 != r2 (unknown): each iteration is a new state, 1 M insns */
	BAD("unbounded_loop", "BPF program is too large. Processed 1000000 "
	    "insn",
	    LDX(BPF_DW, 2, 1, 0), MOV(0, 0), A64K(BPF_ADD, 0, 1),
	    JX(BPF_JNE, 0, 2, -2), EXIT()),

	/*
	 * Transcribed from the kernel's selftests (verifier/ and
	 * progs/verifier_*.c): the ideas, in this runtime's terms.
	 */

	/* registers: read after write, R10 read-only (bpf_check) */
	OK("mov32_then_read", A32K(BPF_MOV, 3, -1), MOVX(0, 3), EXIT()),
	BAD("alu_src_uninit", "insn 1: R4 !read_ok", MOV(0, 1),
	    A64X(BPF_ADD, 0, 4), EXIT()),
	BAD("alu_dst_uninit", "insn 0: R5 !read_ok", A64K(BPF_ADD, 5, 1),
	    MOV(0, 0), EXIT()),
	BAD("store_src_uninit", "insn 0: R6 !read_ok", STX(BPF_DW, 10, 6, -8),
	    MOV(0, 0), EXIT()),
	BAD("jump_reg_uninit", "insn 1: R7 !read_ok", MOV(0, 0),
	    JK(BPF_JEQ, 7, 0, 0), EXIT()),
	BAD("load_base_uninit", "insn 0: R8 !read_ok", LDX(BPF_DW, 0, 8, 0),
	    EXIT()),
	I2("r10_mov", FTRAMP_BPF_E_INSN, "r10 is read-only", MOV(10, 0),
	   MOV(0, 0), EXIT()),
	I2("r10_add", FTRAMP_BPF_E_INSN, "r10 is read-only",
	   A64K(BPF_ADD, 10, -8), MOV(0, 0), EXIT()),
	I2("r10_load", FTRAMP_BPF_E_INSN, "r10 is read-only",
	   LDX(BPF_DW, 10, 1, 0), MOV(0, 0), EXIT()),
	OK("r10_copy_is_a_frame_pointer", MOVX(1, 10), A64K(BPF_ADD, 1, -8),
	   ST(BPF_DW, 1, 0, 9), LDX(BPF_DW, 0, 10, -8), EXIT()),
	OK("ld_imm64_value", LD64(2, 0x100000000ull), A64K(BPF_RSH, 2, 32),
	   MOVX(0, 2), EXIT()),
	BAD("exit_with_map_ptr", "at program exit the register R0 is not a "
	    "scalar (R0=map_ptr(map=arr,off=0))", LDMAP(0, ARR), EXIT()),
	BAD("exit_with_map_value_or_null", "R0 is not a scalar",
	    LOOKUP_ARR(), EXIT()),
	OK("exit_with_helper_result", CALL(BPF_FUNC_get_prandom_u32), EXIT()),

	/* the control flow graph (bpf_check, then check_cfg) */
	I2("jump_into_ld_imm64", FTRAMP_BPF_E_INSN, "jump to insn 2, outside "
	   "the program", JA(1), LD64(0, 1), EXIT()),
	I2("jump_beyond_the_end", FTRAMP_BPF_E_INSN, "jump to insn 3, outside "
	   "the program", MOV(0, 0), JK(BPF_JEQ, 0, 0, 1), EXIT()),
	I2("jump_before_the_start", FTRAMP_BPF_E_INSN, "jump to insn -1",
	   MOV(0, 0), JA(-3), EXIT()),
	I2("no_exit_at_the_end", FTRAMP_BPF_E_INSN, "the last instruction is "
	   "not exit or ja", MOV(0, 0)),
	I2("ld_imm64_half", FTRAMP_BPF_E_INSN, "ld_imm64 without its second "
	   "half", I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1), EXIT()),
	I2("legacy_ld_abs", FTRAMP_BPF_E_INSN, "legacy packet load",
	   I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0), EXIT()),
	I2("unknown_helper", FTRAMP_BPF_E_HELPER, "9999", CALL(9999),
	   EXIT()),
	BAD("unreachable_after_ja", "insn 1: unreachable insn 1", JA(1),
	    MOV(0, 1), MOV(0, 0), EXIT()),
	BAD("unreachable_in_subprog", "insn 4: unreachable insn 4", CALLREL(1), EXIT(),
	    MOV(0, 0), JA(1), EXIT(), MOV(0, 1), EXIT()),
	/* both sides of every branch are reachable to the CFG walk */
	OK("branch_never_taken", MOV(0, 0), JK(BPF_JEQ, 0, 1, 1), MOV(0, 1),
	   EXIT()),
	OK("jump_over_ld_imm64", MOV(0, 0), JK(BPF_JEQ, 0, 0, 2), LD64(0, 1),
	   EXIT()),
	OK("gotol", MOV(0, 1), JK(BPF_JEQ, 0, 1, 1), GOTOL(1), MOV(0, 2),
	   EXIT()),

	/* the stack */
	OK("stack_byte", ST(BPF_B, 10, -1, 5), LDX(BPF_B, 0, 10, -1), EXIT()),
	OK("stack_through_derived_pointer", MOVX(2, 10), A64K(BPF_ADD, 2, -16),
	   ST(BPF_DW, 2, 8, 1), LDX(BPF_DW, 0, 10, -8), EXIT()),
	OK("scalar_spill_narrow_fill", MOV(2, 77), STX(BPF_DW, 10, 2, -8),
	   LDX(BPF_W, 0, 10, -8), EXIT()),
	OK("stack_variable_read_written", ST(BPF_DW, 10, -16, 1),
	   ST(BPF_DW, 10, -8, 2), LDX(BPF_B, 2, 1, 0), A64K(BPF_AND, 2, 7),
	   MOVX(3, 10), A64K(BPF_ADD, 3, -16), A64X(BPF_ADD, 3, 2),
	   LDX(BPF_B, 0, 3, 0), EXIT()),
	BAD("stack_variable_read_unwritten", "was never written",
	    ST(BPF_DW, 10, -8, 2), LDX(BPF_B, 2, 1, 0), A64K(BPF_AND, 2, 7),
	    MOVX(3, 10), A64K(BPF_ADD, 3, -16), A64X(BPF_ADD, 3, 2),
	    LDX(BPF_B, 0, 3, 0), EXIT()),
	BAD("stack_variable_above_fp", "invalid write to stack off=-8 size=8",
	    LDX(BPF_B, 2, 1, 0), A64K(BPF_AND, 2, 15), MOVX(3, 10),
	    A64K(BPF_ADD, 3, -8), A64X(BPF_ADD, 3, 2), ST(BPF_DW, 3, 0, 1),
	    MOV(0, 0), EXIT()),
	BAD("stack_straddles_fp", "invalid write to stack off=-2 size=4",
	    ST(BPF_W, 10, -2, 1), MOV(0, 0), EXIT()),
	OK("stack_whole_frame", ST(BPF_DW, 10, -512, 1), ST(BPF_DW, 10, -8, 2),
	   LDX(BPF_DW, 0, 10, -512), LDX(BPF_DW, 3, 10, -8),
	   A64X(BPF_ADD, 0, 3), EXIT()),
	BAD("helper_variable_stack_pointer", "variable stack pointer as a "
	    "helper argument", ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -8, 0),
	    LDX(BPF_B, 2, 1, 0), A64K(BPF_AND, 2, 7), LDMAP(1, HASH),
	    A64X(BPF_ADD, 2, 10), A64K(BPF_ADD, 2, -16),
	    CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0), EXIT()),

	/* pointer arithmetic */
	BAD("pointer_plus_pointer", "R2 pointer arithmetic with add operator "
	    "prohibited", MOVX(2, 10), A64X(BPF_ADD, 2, 1), MOV(0, 0), EXIT()),
	BAD("scalar_minus_pointer", "pointer arithmetic with sub operator "
	    "prohibited", MOV(2, 5), A64X(BPF_SUB, 2, 10), MOV(0, 0), EXIT()),
	BAD("pointer_mul", "R1 pointer arithmetic with this operator "
	    "prohibited", A64K(BPF_MUL, 1, 2), MOV(0, 0), EXIT()),
	BAD("pointer_neg", "R1 negation of a pointer prohibited",
	    A64K(BPF_NEG, 1, 0), MOV(0, 0), EXIT()),
	BAD("pointer_bswap", "R1 byte swap of a pointer prohibited",
	    BSWAP(1, 64), MOV(0, 0), EXIT()),
	BAD("pointer_minus_other_object", "R2 subtraction of pointers of "
	    "different objects", MOVX(2, 10), A64X(BPF_SUB, 2, 1), MOV(0, 0),
	    EXIT()),
	OK("stack_pointer_difference", MOVX(2, 10), A64K(BPF_ADD, 2, -24),
	   MOVX(0, 10), A64X(BPF_SUB, 0, 2), EXIT()),
	/* privileged, as tracing programs are: a pointer's bits may leak */
	OK("pointer_low_half_is_a_scalar", A32X(BPF_MOV, 0, 10), EXIT()),
	BAD("map_value_plus_huge", "value 1073741824 makes map_value pointer "
	    "be out of bounds", VAL_ARR(), A64K(BPF_ADD, 0, 1 << 30),
	    MOV(0, 0), EXIT()),
	OK("map_value_plus_minus", VAL_ARR(), A64K(BPF_ADD, 0, 100),
	   A64K(BPF_SUB, 0, 92), LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("map_ptr_arith", "R1 pointer arithmetic on map_ptr prohibited",
	    LDMAP(1, ARR), A64K(BPF_ADD, 1, 8), MOV(0, 0), EXIT()),
	BAD("data_negative", "invalid access to data off=-8 size=1",
	    A64K(BPF_SUB, 1, 8), LDX(BPF_B, 0, 1, 0), EXIT()),
	BAD("data_beyond_limit", "invalid access to data off=1048576 size=1",
	    A64K(BPF_ADD, 1, 1 << 20), LDX(BPF_B, 0, 1, 0), EXIT()),
	OK("data_variable_offset", LDX(BPF_B, 2, 1, 0), A64K(BPF_AND, 2, 7),
	   A64X(BPF_ADD, 1, 2), LDX(BPF_B, 0, 1, 0), EXIT()),

	/* map values: fixed and variable offsets, bounds from branches */
	OK("map_value_last_byte", VAL_ARR(), LDX(BPF_B, 0, 0, 15), EXIT()),
	OK("map_value_store", VAL_ARR(), ST(BPF_DW, 0, 8, 1), MOV(0, 0),
	   EXIT()),
	BAD("map_value_store_beyond", "invalid access to map value, "
	    "value_size=16 off=14 size=4", VAL_ARR(), ST(BPF_W, 0, 14, 1),
	    MOV(0, 0), EXIT()),
	OK("map_value_direct", I(BPF_LD | BPF_IMM | BPF_DW, 1,
	   BPF_PSEUDO_MAP_VALUE, 0, ARR), I(0, 0, 0, 0, 8),
	   LDX(BPF_DW, 0, 1, 0), EXIT()),
	BAD("map_value_direct_beyond", "invalid access to map value, "
	    "value_size=16 off=12 size=8", I(BPF_LD | BPF_IMM | BPF_DW, 1,
	    BPF_PSEUDO_MAP_VALUE, 0, ARR), I(0, 0, 0, 0, 12),
	    LDX(BPF_DW, 0, 1, 0), EXIT()),
	OK("map_value_jgt_bound", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   JK(BPF_JGT, 2, 12, 3), A64X(BPF_ADD, 0, 2), LDX(BPF_W, 0, 0, 0),
	   EXIT(), MOV(0, 0), EXIT()),
	BAD("map_value_jgt_off_by_one", "invalid access to map value, "
	    "value_size=16 off=0 size=4", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	    JK(BPF_JGT, 2, 13, 2), A64X(BPF_ADD, 0, 2), LDX(BPF_W, 0, 0, 0),
	    EXIT()),
	OK("map_value_jge_bound", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   JK(BPF_JGE, 2, 16, 3), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT(), MOV(0, 0), EXIT()),
	OK("map_value_jlt_bound", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   JK(BPF_JLT, 2, 8, 2), MOV(0, 0), EXIT(), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_DW, 0, 0, 0), EXIT()),
	OK("map_value_signed_both_sides", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   JK(BPF_JSGT, 2, 8, 4), JK(BPF_JSLT, 2, 0, 3), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_DW, 0, 0, 0), EXIT(), MOV(0, 0), EXIT()),
	BAD("map_value_signed_upper_only", "R0 unbounded pointer arithmetic",
	    VAL_ARR(), LDX(BPF_DW, 2, 6, 0), JK(BPF_JSGT, 2, 8, 2),
	    A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("map_value_sign_extended_upper_only", "invalid access to map "
	    "value, value_size=16 off=-128 size=1", VAL_ARR(),
	    LDSX(BPF_B, 2, 6, 0), JK(BPF_JSGT, 2, 15, 2), A64X(BPF_ADD, 0, 2),
	    LDX(BPF_B, 0, 0, 0), EXIT()),
	/* a negative value compares huge unsigned: one check covers both */
	OK("map_value_sign_extended_unsigned_check", VAL_ARR(),
	   LDSX(BPF_B, 2, 6, 0), JK(BPF_JGT, 2, 15, 3), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_B, 0, 0, 0), EXIT(), MOV(0, 0), EXIT()),
	OK("map_value_and_shift", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 3), A64K(BPF_LSH, 2, 2), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_W, 0, 0, 0), EXIT()),
	BAD("map_value_and_shift_too_far", "invalid access to map value, "
	    "value_size=16 off=0 size=4", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	    A64K(BPF_AND, 2, 3), A64K(BPF_LSH, 2, 3), A64X(BPF_ADD, 0, 2),
	    LDX(BPF_W, 0, 0, 0), EXIT()),
	OK("map_value_mod_const", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   A64K(BPF_MOD, 2, 16), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT()),
	OK("map_value_div_const", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_DIV, 2, 16), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT()),
	OK("map_value_rsh", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_RSH, 2, 4), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT()),
	OK("map_value_mul_bounded", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 3), A64K(BPF_MUL, 2, 4), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_W, 0, 0, 0), EXIT()),
	BAD("map_value_mul_too_far", "invalid access to map value, "
	    "value_size=16 off=0 size=4", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	    A64K(BPF_AND, 2, 3), A64K(BPF_MUL, 2, 5), A64X(BPF_ADD, 0, 2),
	    LDX(BPF_W, 0, 0, 0), EXIT()),
	OK("map_value_sub_const", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 7), A64K(BPF_ADD, 2, 8), A64K(BPF_SUB, 2, 8),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("map_value_sub_below", "invalid access to map value, "
	    "value_size=16 off=-4 size=1", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	    A64K(BPF_AND, 2, 7), A64K(BPF_SUB, 2, 4), A64X(BPF_ADD, 0, 2),
	    LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("map_value_jset_clears", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   JK(BPF_JSET, 2, 0xf0, 3), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT(), MOV(0, 0), EXIT()),
	BAD("map_value_jset_taken", "invalid access to map value",
	    VAL_ARR(), LDX(BPF_B, 2, 6, 0), JK(BPF_JSET, 2, 0xf0, 2), MOV(0, 0), EXIT(),
	    A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("map_value_jeq_reg", VAL_ARR(), LDX(BPF_B, 2, 6, 0), MOV(3, 7),
	   JX(BPF_JEQ, 2, 3, 2), MOV(0, 0), EXIT(), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_DW, 0, 0, 0), EXIT()),
	OK("map_value_jgt_reg", VAL_ARR(), LDX(BPF_B, 2, 6, 0), MOV(3, 12),
	   JX(BPF_JGT, 2, 3, 3), A64X(BPF_ADD, 0, 2), LDX(BPF_W, 0, 0, 0),
	   EXIT(), MOV(0, 0), EXIT()),
	OK("map_value_jge_reg_other_side", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   MOV(3, 12), JX(BPF_JGE, 3, 2, 2), MOV(0, 0), EXIT(), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_W, 0, 0, 0), EXIT()),
	OK("map_value_movsx_bounded", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   MOVSX64(3, 2, 8), JK(BPF_JSGT, 3, 15, 4), JK(BPF_JSLT, 3, 0, 3),
	   A64X(BPF_ADD, 0, 3), LDX(BPF_B, 0, 0, 0), EXIT(), MOV(0, 0), EXIT()),

	/* tnums */
	OK("tnum_and_shift", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   A64K(BPF_AND, 2, 0xf0), A64K(BPF_RSH, 2, 4), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("tnum_two_values", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 8), A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0),
	   EXIT()),
	BAD("tnum_two_values_too_far", "invalid access to map value, "
	    "value_size=16 off=0 size=8", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	    A64K(BPF_AND, 2, 9), A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0),
	    EXIT()),
	OK("tnum_xor", VAL_ARR(), LDX(BPF_B, 2, 6, 0), A64K(BPF_AND, 2, 7),
	   A64K(BPF_XOR, 2, 8), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT()),
	OK("tnum_or_within", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 6), A64K(BPF_OR, 2, 1), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_DW, 0, 0, 0), EXIT()),

	/* 32-bit operations: zero-extension, the 32-bit view of a jump */
	OK("alu32_zero_extends", VAL_ARR(), A32K(BPF_MOV, 2, -1),
	   A64K(BPF_RSH, 2, 28), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT()),
	BAD("alu64_sign_extends", "value 68719476735 makes map_value pointer "
	    "be out of bounds", VAL_ARR(), MOV(2, -1), A64K(BPF_RSH, 2, 28),
	    A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("alu32_wraps", VAL_ARR(), A32K(BPF_MOV, 2, -1), A32K(BPF_ADD, 2, 1),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 8), EXIT()),
	OK("alu32_and_of_unknown", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   A32K(BPF_AND, 2, 7), A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0),
	   EXIT()),
	BAD("alu32_signed_check_not_enough", "unbounded pointer arithmetic",
	    VAL_ARR(), LDX(BPF_W, 2, 6, 0), J32K(BPF_JSGT, 2, 7, 2),
	    A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT()),
	BAD("jmp32_on_unknown_upper_half", "unbounded pointer arithmetic",
	    VAL_ARR(), LDX(BPF_DW, 2, 6, 0), J32K(BPF_JGT, 2, 15, 2),
	    A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("jmp32_signed_on_small", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   J32K(BPF_JSGT, 2, 15, 3), A64X(BPF_ADD, 0, 2), LDX(BPF_B, 0, 0, 0),
	   EXIT(), MOV(0, 0), EXIT()),
	OK("ldsx_both_sides", VAL_ARR(), LDSX(BPF_B, 2, 6, 0),
	   JK(BPF_JSLT, 2, 0, 4), JK(BPF_JSGT, 2, 15, 3), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_B, 0, 0, 0), EXIT(), MOV(0, 0), EXIT()),
	/* division: by a maybe-zero register, 32 and 64, signed too */
	OK("mod_by_maybe_zero", LDX(BPF_B, 2, 1, 0), MOV(0, 10),
	   A64X(BPF_MOD, 0, 2), EXIT()),
	OK("div32_by_maybe_zero", LDX(BPF_B, 2, 1, 1), MOV(0, 10),
	   A32X(BPF_DIV, 0, 2), EXIT()),
	OK("sdiv_by_maybe_zero", LDX(BPF_B, 2, 1, 1), MOV(0, -10),
	   S64X(BPF_DIV, 0, 2), S64X(BPF_MOD, 0, 2), EXIT()),
	OK("helper_u32_result_bounded", VAL_ARR(),
	   CALL(BPF_FUNC_get_prandom_u32), A64K(BPF_RSH, 0, 28),
	   A64X(BPF_ADD, 6, 0), MOV(0, 0), EXIT()),
	BAD("helper_u64_result_unbounded", "R7 unbounded pointer arithmetic",
	    VAL_ARR(), MOVX(7, 0), CALL(BPF_FUNC_ktime_get_ns),
	    A64K(BPF_RSH, 0, 28), A64X(BPF_ADD, 7, 0), LDX(BPF_B, 0, 7, 0),
	    EXIT()),

	/* NULL checks */
	OK("null_check_jne", LOOKUP_ARR(), JK(BPF_JNE, 0, 0, 2), MOV(0, 0),
	   EXIT(), LDX(BPF_DW, 0, 0, 0), EXIT()),
	OK("null_check_on_a_copy", LOOKUP_ARR(), MOVX(6, 0),
	   JK(BPF_JEQ, 6, 0, 1), LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("null_check_of_the_other_lookup", "R0 invalid mem access "
	    "'map_value_or_null'", LOOKUP_ARR(), MOVX(7, 0), LOOKUP_ARR(),
	    JK(BPF_JEQ, 7, 0, 1), LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("null_check_by_jgt", "R0 invalid mem access 'map_value_or_null'",
	    LOOKUP_ARR(), JK(BPF_JGT, 0, 0, 2), MOV(0, 0), EXIT(), LDX(BPF_DW, 0, 0, 0),
	    EXIT()),
	BAD("null_check_by_jmp32", "R0 invalid mem access "
	    "'map_value_or_null'", LOOKUP_ARR(), J32K(BPF_JEQ, 0, 0, 1),
	    LDX(BPF_DW, 0, 0, 0), EXIT()),
	BAD("or_null_compared_to_pointer", "comparison of a maybe-NULL "
	    "pointer, null-check it first", LOOKUP_ARR(),
	    JX(BPF_JEQ, 0, 10, 0), MOV(0, 0), EXIT()),
	OK("key_from_map_value", VAL_ARR(), LDMAP(1, HASH), MOVX(2, 0),
	   CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0), EXIT()),
	OK("key_from_data", LDX(BPF_B, 0, 1, 3), MOVX(2, 1), LDMAP(1, HASH),
	   CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0), EXIT()),
	FBAD("key_from_ctx", FENTRY, "int (int)", "R2 type=ctx expected=fp, "
	     "map_value, mem", MOVX(2, 1), LDMAP(1, HASH),
	     CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0), EXIT()),
	BAD("map_arg_is_a_value", "R1 type=map_value expected=map_ptr",
	    VAL_ARR(), MOVX(1, 0), KEY0(), CALL(BPF_FUNC_map_lookup_elem),
	    MOV(0, 0), EXIT()),
	BAD("key_half_written", "R2 invalid indirect read from stack off "
	    "-8+2 size 4", ST(BPF_H, 10, -8, 1), LDMAP(1, HASH), MOVX(2, 10),
	    A64K(BPF_ADD, 2, -8), CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0),
	    EXIT()),
	BAD("lookup_in_ringbuf", "cannot pass map_type 27 (map rb) into func "
	    "map_lookup_elem", LDMAP(1, RB), KEY0(),
	    CALL(BPF_FUNC_map_lookup_elem), MOV(0, 0), EXIT()),
	OK("hash_delete", LDMAP(1, HASH), KEY0(),
	   CALL(BPF_FUNC_map_delete_elem), EXIT()),
	OK("update_value_from_map_value", VAL_ARR(), MOVX(3, 0),
	   LDMAP(1, HASH), KEY0(), MOV(4, BPF_ANY),
	   CALL(BPF_FUNC_map_update_elem), EXIT()),

	/* atomics */
	OK("atomic_add_map_value", LDMAP(1, HASH), KEY0(),
	   CALL(BPF_FUNC_map_lookup_elem), JK(BPF_JEQ, 0, 0, 2), MOV(2, 1),
	   ATOM(BPF_DW, BPF_ADD, 0, 2, 0), MOV(0, 0), EXIT()),
	OK("atomic_fetch_stack", ST(BPF_DW, 10, -8, 1), MOV(2, 3),
	   ATOM(BPF_DW, BPF_ADD | BPF_FETCH, 10, 2, -8), MOVX(0, 2), EXIT()),
	OK("cmpxchg_stack", ST(BPF_W, 10, -4, 1), MOV(0, 1), MOV(2, 5),
	   ATOM(BPF_W, BPF_CMPXCHG, 10, 2, -4), LDX(BPF_W, 0, 10, -4), EXIT()),
	BAD("atomic_on_unwritten_stack", "invalid read from stack",
	    MOV(2, 3), ATOM(BPF_DW, BPF_ADD, 10, 2, -8), MOV(0, 0), EXIT()),
	BAD("atomic_pointer_source", "R10 leaks addr into mem (atomic)",
	    ST(BPF_DW, 10, -8, 1), ATOM(BPF_DW, BPF_ADD, 10, 10, -8),
	    MOV(0, 0), EXIT()),
	BAD("cmpxchg_pointer_r0", "R0 cmpxchg compares a pointer",
	    ST(BPF_DW, 10, -8, 1), MOVX(0, 10), MOV(2, 1),
	    ATOM(BPF_DW, BPF_CMPXCHG, 10, 2, -8), MOV(0, 0), EXIT()),
	FBAD("atomic_on_ctx", FENTRY, "int (int)", "R1 atomic on ctx "
	     "prohibited", MOV(2, 1), ATOM(BPF_DW, BPF_ADD, 1, 2, 0),
	     MOV(0, 0), EXIT()),

	/* helper arguments */
	OK("printk_from_stack", ST(BPF_DW, 10, -8, 0x41), MOVX(1, 10),
	   A64K(BPF_ADD, 1, -8), MOV(2, 8), CALL(BPF_FUNC_trace_printk),
	   EXIT()),
	BAD("printk_from_scalar", "R1 type=scalar expected=fp, map_value, "
	    "mem", MOV(1, 0), MOV(2, 8), CALL(BPF_FUNC_trace_printk), EXIT()),
	OK("probe_read_into_map_value", VAL_ARR(), MOVX(1, 0), MOV(2, 16),
	   MOVX(3, 10), CALL(BPF_FUNC_probe_read_user), MOV(0, 0), EXIT()),
	BAD("probe_read_beyond_map_value", "R1 invalid access to map value, "
	    "value_size=16 off=0 size=17", VAL_ARR(), MOVX(1, 0), MOV(2, 17),
	    MOVX(3, 10), CALL(BPF_FUNC_probe_read_user), MOV(0, 0), EXIT()),
	FBAD("probe_read_into_ctx", FENTRY, "int (int)", "R1 type=ctx "
	     "expected=fp, map_value, mem", MOV(2, 8), MOV(3, 0),
	     CALL(BPF_FUNC_probe_read_user), MOV(0, 0), EXIT()),
	BAD("args_scratched_after_helper", "insn 1: R2 !read_ok",
	    CALL(BPF_FUNC_ktime_get_ns), MOVX(0, 2), EXIT()),
	FOK("tail_call_from_ctx", FENTRY, "int (int)", LDMAP(2, PROGS),
	    MOV(3, 1), CALL(BPF_FUNC_tail_call), MOV(0, 0), EXIT()),
	FBAD("tail_call_not_ctx", FENTRY, "int (int)", "R1 type=fp "
	     "expected=ctx", MOVX(1, 10), LDMAP(2, PROGS), MOV(3, 1),
	     CALL(BPF_FUNC_tail_call), MOV(0, 0), EXIT()),
	I2("func_arg_in_raw", FTRAMP_BPF_E_HELPER, "reads a trampoline's "
	   "ctx: not in a raw program", CALL(BPF_FUNC_get_func_arg_cnt),
	   EXIT()),
	FOK("func_arg", FENTRY, "int (int, int)", MOV(2, 1), MOVX(3, 10),
	    A64K(BPF_ADD, 3, -8), CALL(BPF_FUNC_get_func_arg),
	    LDX(BPF_DW, 0, 10, -8), EXIT()),

	/* ring buffer records */
	OK("ringbuf_discard", RESERVE8(), MOVX(1, 0), MOV(2, 0),
	   CALL(BPF_FUNC_ringbuf_discard), MOV(0, 0), EXIT()),
	OK("ringbuf_submit_or_discard", MOVX(6, 1), RESERVE8(),
	   LDX(BPF_B, 2, 6, 0), MOVX(1, 0), JK(BPF_JEQ, 2, 0, 3), MOV(2, 0),
	   CALL(BPF_FUNC_ringbuf_submit), JA(2), MOV(2, 0),
	   CALL(BPF_FUNC_ringbuf_discard), MOV(0, 0), EXIT()),
	OK("ringbuf_output", ST(BPF_DW, 10, -8, 1), LDMAP(1, RB), MOVX(2, 10),
	   A64K(BPF_ADD, 2, -8), MOV(3, 8), MOV(4, 0),
	   CALL(BPF_FUNC_ringbuf_output), EXIT()),
	BAD("ringbuf_output_beyond_stack", "R2 invalid indirect access to "
	    "stack off=-8 size=16", ST(BPF_DW, 10, -8, 1), LDMAP(1, RB),
	    MOVX(2, 10), A64K(BPF_ADD, 2, -8), MOV(3, 16), MOV(4, 0),
	    CALL(BPF_FUNC_ringbuf_output), EXIT()),
	BAD("ringbuf_double_submit", "R1 type=scalar expected=ring buffer "
	    "record", RESERVE8(), MOVX(6, 0), MOVX(1, 0), MOV(2, 0),
	    CALL(BPF_FUNC_ringbuf_submit), MOVX(1, 6), MOV(2, 0),
	    CALL(BPF_FUNC_ringbuf_submit), MOV(0, 0), EXIT()),
	BAD("ringbuf_submit_offset", "must have zero offset when passed to "
	    "release func", RESERVE8(), MOVX(1, 0), A64K(BPF_ADD, 1, 4),
	    MOV(2, 0), CALL(BPF_FUNC_ringbuf_submit), MOV(0, 0), EXIT()),
	BAD("ringbuf_reserve_zero", "R2 a record size must be a known "
	    "constant > 0", LDMAP(1, RB), MOV(2, 0), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), MOV(0, 0), EXIT()),
	BAD("ringbuf_leak_in_subprog", "Unreleased reference id=1",
	    CALLREL(2), MOV(0, 0), EXIT(), LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	    CALL(BPF_FUNC_ringbuf_reserve), MOV(0, 0), EXIT()),

	/* ctx per model */
	FOK("ctx_fexit_void_args_ret", FEXIT, "int (void)",
	    LDX(BPF_DW, 0, 1, 0), EXIT()),
	FBAD("ctx_fentry_no_args", FENTRY, "int (void)", "invalid "
	     "bpf_context access off=0 size=8: ctx has 0 u64 slots",
	     LDX(BPF_DW, 0, 1, 0), EXIT()),
	FOK("ctx_fmod_ret_ret", FTRAMP_BPF_PROG_FMOD_RET, "int (int)",
	    LDX(BPF_DW, 0, 1, 8), EXIT()),
	FBAD("ctx_negative", FENTRY, "int (int)", "invalid bpf_context "
	     "access off=-8 size=8", LDX(BPF_DW, 0, 1, -8), EXIT()),
	FOK("ctx_copy_plus_const", FENTRY, "int (int, int)", MOVX(6, 1),
	    A64K(BPF_ADD, 6, 8), LDX(BPF_DW, 0, 6, 0), EXIT()),
	FBAD("ctx_plus_const_beyond", FENTRY, "int (int, int)", "invalid "
	     "bpf_context access off=16 size=8", A64K(BPF_ADD, 1, 8),
	     LDX(BPF_DW, 0, 1, 8), EXIT()),
	FOK("ctx_narrow_aligned", FENTRY, "int (int)", LDX(BPF_W, 0, 1, 0),
	    EXIT()),
	FBAD("ctx_narrow_unaligned", FENTRY, "int (int)", "invalid "
	     "bpf_context access off=4 size=4", LDX(BPF_W, 0, 1, 4), EXIT()),
	FBAD("ctx_variable", FENTRY, "int (int, int)", "R1 variable ctx "
	     "offset prohibited", LDX(BPF_DW, 2, 1, 0), A64K(BPF_AND, 2, 8),
	     A64X(BPF_ADD, 1, 2), LDX(BPF_DW, 0, 1, 0), EXIT()),

	/* loops */
	OK("loop_up_to_16", MOV(0, 0), MOV(3, 0), A64K(BPF_ADD, 0, 3),
	   A64K(BPF_ADD, 3, 1), JK(BPF_JLT, 3, 16, -3), EXIT()),
	OK("loop_jmp32_counter", MOV(0, 0), A32K(BPF_MOV, 3, 10),
	   A64K(BPF_ADD, 0, 1), A32K(BPF_SUB, 3, 1), J32K(BPF_JNE, 3, 0, -3),
	   EXIT()),
	OK("loop_over_stack", MOV(3, 0), MOVX(2, 10), A64K(BPF_ADD, 2, -64),
	   STX(BPF_DW, 2, 3, 0), A64K(BPF_ADD, 2, 8), A64K(BPF_ADD, 3, 1),
	   JK(BPF_JLT, 3, 8, -4), LDX(BPF_DW, 0, 10, -8), EXIT()),
	BAD("loop_counter_reset", "infinite loop detected", MOV(0, 0),
	    MOV(3, 5), A64K(BPF_SUB, 3, 1), JK(BPF_JNE, 3, 0, -3), EXIT()),
	BAD("loop_always_taken", "infinite loop detected", MOV(0, 0),
	    JK(BPF_JEQ, 0, 0, -1), EXIT()),
	BAD("loop_reads_unwritten_late", "invalid read from stack",
	    MOV(3, 0), MOVX(2, 10), A64K(BPF_ADD, 2, -64),
	    STX(BPF_DW, 2, 3, 0), A64K(BPF_ADD, 2, 8), A64K(BPF_ADD, 3, 1),
	    JK(BPF_JLT, 3, 7, -4), LDX(BPF_DW, 0, 10, -8), EXIT()),

	/* bpf_loop */
	OK("bpf_loop_null_ctx", MOV(1, 4), LDFUNC(2, 5), MOV(3, 0), MOV(4, 0),
	   CALL(BPF_FUNC_loop), EXIT(), MOV(0, 1), EXIT()),
	BAD("bpf_loop_callback_reads_r3", "R3 !read_ok", MOV(1, 4),
	    LDFUNC(2, 5), MOV(3, 0), MOV(4, 0), CALL(BPF_FUNC_loop), EXIT(),
	    MOVX(0, 3), EXIT()),
	BAD("bpf_loop_not_a_func", "R2 type=scalar expected=func", MOV(1, 4),
	    MOV(2, 5), MOV(3, 0), MOV(4, 0), CALL(BPF_FUNC_loop), EXIT()),
	BAD("bpf_loop_ctx_scalar", "R3 type=scalar expected=fp or NULL",
	    MOV(1, 4), LDFUNC(2, 5), MOV(3, 5), MOV(4, 0),
	    CALL(BPF_FUNC_loop), EXIT(), MOV(0, 0), EXIT()),
	BAD("bpf_loop_ctx_overflow", "invalid write to stack off=0 size=8",
	    ST(BPF_DW, 10, -8, 0), MOV(1, 4), LDFUNC(2, 6), MOVX(3, 10),
	    A64K(BPF_ADD, 3, -8), MOV(4, 0), CALL(BPF_FUNC_loop), EXIT(),
	    ST(BPF_DW, 2, 8, 1), MOV(0, 0), EXIT()),
	BAD("bpf_loop_result_unknown", "unbounded pointer arithmetic",
	    VAL_ARR(), MOVX(7, 0), MOV(1, 4), LDFUNC(2, 6), MOV(3, 0),
	    MOV(4, 0), CALL(BPF_FUNC_loop), A64X(BPF_ADD, 7, 0), EXIT(),
	    MOV(0, 0), EXIT()),

	/* subprograms and frames */
	OK("subprog_scalar_result", MOV(1, 5), CALLREL(1), EXIT(),
	   MOVX(0, 1), A64K(BPF_MUL, 0, 3), EXIT()),
	OK("subprog_keeps_callee_saved", MOV(6, 9), CALLREL(2), MOVX(0, 6),
	   EXIT(), MOV(6, 1), MOV(0, 0), EXIT()),
	BAD("caller_args_scratched", "insn 1: R1 !read_ok", CALLREL(2),
	    MOVX(0, 1), EXIT(), MOV(0, 0), EXIT()),
	FBAD("callee_arg_not_passed", FENTRY, "int (int)", "R2 !read_ok",
	     CALLREL(1), EXIT(), MOVX(0, 2), EXIT()),
	OK("callee_reads_caller_stack", ST(BPF_DW, 10, -8, 4), MOVX(1, 10),
	   A64K(BPF_ADD, 1, -8), CALLREL(1), EXIT(), LDX(BPF_DW, 0, 1, 0),
	   EXIT()),
	BAD("callee_reads_caller_unwritten", "invalid read from stack",
	    ST(BPF_DW, 10, -8, 4), MOVX(1, 10), A64K(BPF_ADD, 1, -16),
	    CALLREL(1), EXIT(), LDX(BPF_DW, 0, 1, 0), EXIT()),
	/*
	 * Each frame has 512 bytes of its own, here as in the interpreter
	 * and the JIT; the kernel bounds the chain's sum by 512 instead
	 * (Documentation/bpf.rst, "What the verifier guarantees").
	 */
	OK("frames_512_each", ST(BPF_DW, 10, -512, 1), CALLREL(2),
	   LDX(BPF_DW, 0, 10, -512), EXIT(), ST(BPF_DW, 10, -512, 2),
	   LDX(BPF_DW, 0, 10, -512), EXIT()),
	BAD("subprog_below_its_frame", "invalid write to stack off=-520",
	    CALLREL(2), MOV(0, 0), EXIT(), ST(BPF_DW, 10, -520, 2), MOV(0, 0),
	    EXIT()),
	BAD("mutual_recursion", "recursive call from insn 3 to 0",
	    CALLREL(2), MOV(0, 0), EXIT(), CALLREL(-4), EXIT()),
	OK("callee_returns_caller_stack", MOVX(1, 10), A64K(BPF_ADD, 1, -8),
	   ST(BPF_DW, 10, -8, 6), CALLREL(2), LDX(BPF_DW, 0, 0, 0), EXIT(),
	   MOVX(0, 1), EXIT()),

	/* spills and fills keep a pointer's type, and its NULL check */
	OK("spill_fill_map_value", VAL_ARR(), STX(BPF_DW, 10, 0, -8),
	   LDX(BPF_DW, 3, 10, -8), LDX(BPF_DW, 0, 3, 8), EXIT()),
	FOK("spill_fill_ctx", FENTRY, "int (int)", STX(BPF_DW, 10, 1, -16),
	    LDX(BPF_DW, 2, 10, -16), LDX(BPF_DW, 0, 2, 0), EXIT()),
	OK("spill_fill_ringbuf_record", RESERVE8(), STX(BPF_DW, 10, 0, -8),
	   LDX(BPF_DW, 1, 10, -8), MOV(2, 0), CALL(BPF_FUNC_ringbuf_submit),
	   MOV(0, 0), EXIT()),
	OK("null_check_marks_the_spill", LOOKUP_ARR(), STX(BPF_DW, 10, 0, -16),
	   JK(BPF_JEQ, 0, 0, 2), LDX(BPF_DW, 3, 10, -16),
	   LDX(BPF_DW, 0, 3, 0), EXIT()),
	OK("two_lookups_both_checked", LOOKUP_ARR(), MOVX(7, 0), LOOKUP_ARR(),
	   JK(BPF_JEQ, 7, 0, 3), JK(BPF_JEQ, 0, 0, 2), LDX(BPF_DW, 0, 7, 0),
	   EXIT(), MOV(0, 0), EXIT()),

	/* more subprograms */
	OK("three_frames", MOV(1, 1), CALLREL(1), EXIT(), A64K(BPF_ADD, 1, 1),
	   CALLREL(1), EXIT(), MOVX(0, 1), EXIT()),
	OK("subprog_reads_map_value_arg", VAL_ARR(), MOVX(1, 0), CALLREL(1),
	   EXIT(), LDX(BPF_DW, 0, 1, 8), EXIT()),
	OK("subprog_returns_maybe_null", CALLREL(3), JK(BPF_JEQ, 0, 0, 1),
	   LDX(BPF_DW, 0, 0, 0), EXIT(), LOOKUP_ARR(), EXIT()),
	FOK("ctx_kept_over_helper", FENTRY, "int (int)", MOVX(6, 1),
	    CALL(BPF_FUNC_ktime_get_ns), LDX(BPF_DW, 0, 6, 0), EXIT()),

	/* ranges through more operators */
	OK("alu32_mov_bounds", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   A32X(BPF_MOV, 2, 2), A64K(BPF_RSH, 2, 28), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("arsh_bounds", VAL_ARR(), LDX(BPF_B, 2, 6, 0), A64K(BPF_LSH, 2, 56),
	   A64K(BPF_ARSH, 2, 60), A64K(BPF_ADD, 2, 8), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("to_le16_bounds", VAL_ARR(), LDX(BPF_DW, 2, 6, 0),
	   END(BPF_TO_LE, 2, 16), A64K(BPF_RSH, 2, 12), A64X(BPF_ADD, 0, 2),
	   LDX(BPF_B, 0, 0, 0), EXIT()),
	OK("neg_const", VAL_ARR(), MOV(2, -8), A64K(BPF_NEG, 2, 0),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0), EXIT()),
	/* (s8)0xff is -1, zero-extended from 32 bits: 0xffffffff */
	OK("movsx32_const", VAL_ARR(), MOV(2, 0x1ff), MOVSX32(3, 2, 8),
	   A32K(BPF_ADD, 3, 9), A64X(BPF_ADD, 0, 3), LDX(BPF_DW, 0, 0, 0),
	   EXIT()),
	OK("mod32_const", VAL_ARR(), LDX(BPF_DW, 2, 6, 0), A32K(BPF_MOD, 2, 9),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_DW, 0, 0, 0), EXIT()),
	OK("jne_excludes_the_bound", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 15), JK(BPF_JNE, 2, 15, 2), MOV(0, 0), EXIT(),
	   A64X(BPF_ADD, 0, 2), LDX(BPF_H, 0, 0, 0), EXIT()),
	OK("pointer_compare", MOVX(2, 10), A64K(BPF_ADD, 2, -8), MOV(0, 0),
	   JX(BPF_JGT, 10, 2, 1), MOV(0, 1), EXIT()),
	/* pruning: 12 diamonds are 4096 paths, a few states */
	OK("diamonds_pruned", LDX(BPF_DW, 2, 1, 0), MOV(0, 0),
	   JK(BPF_JEQ, 2, 1, 1), MOV(3, 1), JK(BPF_JEQ, 2, 2, 1), MOV(3, 2),
	   JK(BPF_JEQ, 2, 3, 1), MOV(3, 3), JK(BPF_JEQ, 2, 4, 1), MOV(3, 4),
	   JK(BPF_JEQ, 2, 5, 1), MOV(3, 5), JK(BPF_JEQ, 2, 6, 1), MOV(3, 6),
	   JK(BPF_JEQ, 2, 7, 1), MOV(3, 7), JK(BPF_JEQ, 2, 8, 1), MOV(3, 8),
	   JK(BPF_JEQ, 2, 9, 1), MOV(3, 9), JK(BPF_JEQ, 2, 10, 1), MOV(3, 10),
	   JK(BPF_JEQ, 2, 11, 1), MOV(3, 11), JK(BPF_JEQ, 2, 12, 1),
	   MOV(3, 12), EXIT()),
	OK("loop_with_break", LDX(BPF_B, 2, 1, 0), MOV(0, 0), MOV(3, 0),
	   JX(BPF_JEQ, 3, 2, 3), A64K(BPF_ADD, 0, 2), A64K(BPF_ADD, 3, 1),
	   JK(BPF_JLT, 3, 100, -4), EXIT()),

	/* more helpers */
	OK("update_flags_unknown", LDX(BPF_DW, 4, 1, 0), LDMAP(1, HASH),
	   KEY0(), ST(BPF_DW, 10, -16, 5), MOVX(3, 10), A64K(BPF_ADD, 3, -16),
	   CALL(BPF_FUNC_map_update_elem), EXIT()),
	OK("atomic_or_hash_value", LDMAP(1, HASH), KEY0(),
	   CALL(BPF_FUNC_map_lookup_elem), JK(BPF_JEQ, 0, 0, 2), MOV(2, 6),
	   ATOM(BPF_DW, BPF_OR | BPF_FETCH, 0, 2, 0), MOV(0, 0), EXIT()),
	OK("atomic32_on_map_value", VAL_ARR(), MOV(2, 1),
	   ATOM(BPF_W, BPF_ADD, 0, 2, 12), MOV(0, 0), EXIT()),
	OK("current_comm", MOVX(1, 10), A64K(BPF_ADD, 1, -16), MOV(2, 16),
	   CALL(BPF_FUNC_get_current_comm), LDX(BPF_B, 0, 10, -16), EXIT()),
	OK("probe_read_str_bounded", LDX(BPF_B, 2, 1, 0), A64K(BPF_AND, 2, 15),
	   MOVX(3, 1), MOVX(1, 10), A64K(BPF_ADD, 1, -16),
	   CALL(BPF_FUNC_probe_read_user_str), EXIT()),
	/* the helpers of bpf_helpers_more.bpf.c, their arguments held */
	OK("probe_read_kernel_bounded", LDX(BPF_B, 2, 1, 0),
	   A64K(BPF_AND, 2, 15), MOVX(3, 1), MOVX(1, 10), A64K(BPF_ADD, 1, -16),
	   CALL(BPF_FUNC_probe_read_kernel), EXIT()),
	BAD("probe_read_kernel_unbounded", "R2 unbounded memory access",
	    LDX(BPF_W, 2, 1, 0), MOVX(3, 1), MOVX(1, 10),
	    A64K(BPF_ADD, 1, -16), CALL(BPF_FUNC_probe_read_kernel), EXIT()),
	BAD("probe_read_kernel_str_past_stack", "R1 invalid indirect access to "
	    "stack off=-16 size=32", MOV(2, 32), MOVX(3, 1), MOVX(1, 10),
	    A64K(BPF_ADD, 1, -16), CALL(BPF_FUNC_probe_read_kernel_str),
	    EXIT()),
	BAD("probe_read_str_into_scalar", "R1 type=scalar expected=fp, "
	    "map_value, mem", MOV(2, 8), MOVX(3, 1), MOV(1, 64),
	    CALL(BPF_FUNC_probe_read_str), EXIT()),
	BAD("probe_read_kernel_negative_size", "R2 min value is negative",
	    MOV(2, -1), MOVX(3, 1), MOVX(1, 10), A64K(BPF_ADD, 1, -16),
	    CALL(BPF_FUNC_probe_read_kernel), EXIT()),
	OK("uid_gid_and_clocks", CALL(BPF_FUNC_get_current_uid_gid),
	   MOVX(6, 0), CALL(BPF_FUNC_ktime_get_coarse_ns), A64X(BPF_ADD, 6, 0),
	   CALL(BPF_FUNC_ktime_get_tai_ns), A64X(BPF_ADD, 0, 6), EXIT()),
	/* bpf_strncmp(s1, size > 0, a string in a .rodata map) */
	BAD("strncmp_size_zero", "R2 invalid zero-sized read", VAL_ARR(),
	    MOVX(1, 0), MOV(2, 0), MOVX(3, 0), CALL(BPF_FUNC_strncmp), EXIT()),
	BAD("strncmp_size_unbounded", "R2 unbounded memory access", VAL_ARR(),
	    LDX(BPF_W, 2, 6, 0), A64K(BPF_ADD, 2, 1), MOVX(1, 0), MOVX(3, 0),
	    CALL(BPF_FUNC_strncmp), EXIT()),
	BAD("strncmp_s1_unwritten", "R1 invalid indirect read from stack",
	    VAL_ARR(), MOVX(3, 0), MOVX(1, 10), A64K(BPF_ADD, 1, -16),
	    MOV(2, 8), CALL(BPF_FUNC_strncmp), EXIT()),
	BAD("strncmp_s2_writable_map", "R3 does not point to a readonly map",
	    VAL_ARR(), MOVX(1, 0), MOV(2, 8), MOVX(3, 0),
	    CALL(BPF_FUNC_strncmp), EXIT()),
	BAD("strncmp_s2_stack", "R3 type=fp expected=map_value", VAL_ARR(),
	    MOVX(1, 0), MOV(2, 8), MOVX(3, 10), A64K(BPF_ADD, 3, -8),
	    CALL(BPF_FUNC_strncmp), EXIT()),
	OK("ringbuf_output_from_map_value", VAL_ARR(), LDMAP(1, RB),
	   MOVX(2, 0), MOV(3, 16), MOV(4, 0), CALL(BPF_FUNC_ringbuf_output),
	   EXIT()),
	OK("ringbuf_two_records", LDMAP(1, RB), MOV(2, 16), MOV(3, 0),
	   CALL(BPF_FUNC_ringbuf_reserve), JK(BPF_JNE, 0, 0, 1), EXIT(),
	   MOVX(6, 0), LDMAP(1, RB), MOV(2, 8), MOV(3, 0),
	   CALL(BPF_FUNC_ringbuf_reserve), JK(BPF_JEQ, 0, 0, 6),
	   ST(BPF_DW, 0, 0, 1), ST(BPF_DW, 6, 8, 2), MOVX(1, 0), MOV(2, 0),
	   CALL(BPF_FUNC_ringbuf_submit), JA(0), MOVX(1, 6), MOV(2, 0),
	   CALL(BPF_FUNC_ringbuf_discard), MOV(0, 0), EXIT()),
	FOK("fexit_arg_and_ret", FEXIT, "long (long, long)",
	    LDX(BPF_DW, 2, 1, 0), LDX(BPF_DW, 0, 1, 16), A64X(BPF_ADD, 0, 2),
	    EXIT()),
	FOK("ctx_byte", FENTRY, "char (char, char)", LDX(BPF_B, 0, 1, 8),
	    EXIT()),
	FOK("func_ip_and_cookie", FENTRY, "void (void)", MOVX(6, 1),
	    CALL(BPF_FUNC_get_func_ip), MOVX(1, 6),
	    CALL(BPF_FUNC_get_attach_cookie), EXIT()),
	FOK("func_ret_into_map_value", FEXIT, "long (void)", MOVX(7, 1),
	   VAL_ARR(), MOVX(1, 7), MOVX(2, 0), CALL(BPF_FUNC_get_func_ret),
	   EXIT()),
	OK("bpf_loop_callback_branches", MOV(1, 8), LDFUNC(2, 5), MOV(3, 0),
	   MOV(4, 0), CALL(BPF_FUNC_loop), EXIT(), MOV(0, 0),
	   JK(BPF_JLT, 1, 3, 1), MOV(0, 1), EXIT()),
	OK("stack_read_after_helper_and_store", MOVX(1, 10),
	   A64K(BPF_ADD, 1, -8), MOV(2, 4), MOV(3, 0),
	   CALL(BPF_FUNC_probe_read_user), ST(BPF_W, 10, -4, 1),
	   LDX(BPF_DW, 0, 10, -8), EXIT()),
	OK("data_size_compare", MOV(0, 0), JK(BPF_JLT, 2, 8, 1),
	   LDX(BPF_DW, 0, 1, 0), EXIT()),

	/* atomics are aligned (LDADD, CAS and LDXR fault otherwise) */
	BAD("atomic_misaligned_stack", "R10 misaligned atomic access off=-12 "
	    "size=8", ST(BPF_DW, 10, -16, 0), ST(BPF_DW, 10, -8, 0), MOV(2, 1),
	    ATOM(BPF_DW, BPF_ADD, 10, 2, -12), MOV(0, 0), EXIT()),
	BAD("atomic_misaligned_variable", "R0 misaligned atomic access",
	    VAL_ARR(), LDX(BPF_B, 2, 6, 0), A64K(BPF_AND, 2, 4),
	    A64X(BPF_ADD, 0, 2), MOV(3, 1), ATOM(BPF_DW, BPF_ADD, 0, 3, 0),
	    MOV(0, 0), EXIT()),
	OK("atomic_aligned_variable", VAL_ARR(), LDX(BPF_B, 2, 6, 0),
	   A64K(BPF_AND, 2, 8), A64X(BPF_ADD, 0, 2), MOV(3, 1),
	   ATOM(BPF_DW, BPF_ADD, 0, 3, 0), MOV(0, 0), EXIT()),
	OK("atomic32_at_4", VAL_ARR(), MOV(3, 1),
	   ATOM(BPF_W, BPF_XOR | BPF_FETCH, 0, 3, 4), MOVX(0, 3), EXIT()),

	/*
	 * r2 s<= 4 and r2 >= 25 (unsigned): negative; "r2 s> 3" cannot be
	 * taken, which only the refined (empty) range shows.  The fuzzer
	 * found the verifier refusing this as its own bug.
	 */
	OK("dead_branch_after_refine", LDX(BPF_DW, 2, 1, 0), MOV(0, 0),
	   JK(BPF_JSGT, 2, 4, 4), JK(BPF_JLT, 2, 25, 3), JK(BPF_JSGT, 2, 3, 1),
	   EXIT(), LDX(BPF_DW, 0, 2, 0), EXIT()),
};

static struct ftramp_bpf_map *maps[NR_MAPS];

static int load_case(struct __test_metadata *_metadata, const struct vcase *c,
		     struct ftramp_bpf_error *e, struct ftramp_bpf_program **pp)
{
	struct ftramp_func_model m;
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .name = c->name, .err = e,
		    .type = c->type, .maps = maps, .nr_maps = NR_MAPS);

	if (c->model) {
		ASSERT_EQ(0, ftramp_model__parse(c->model, &m, NULL));
		lo.model = &m;
	}
	/*
	 * A prog array takes the programs of its first user's type and
	 * engine (bpf/tail.c): each case gets its own, as the kernel's
	 * test_verifier creates each test's maps.
	 */
	ftramp_bpf_map__free(maps[PROGS]);
	maps[PROGS] = ftramp_bpf_map__create(BPF_MAP_TYPE_PROG_ARRAY, "progs",
					     4, 4, 2, NULL);
	ASSERT_NE(NULL, maps[PROGS]);
	memset(e, 0, sizeof(*e));
	*pp = ftramp_bpf_prog__load(c->insns, c->n, &lo);
	return *pp ? 0 : -errno;
}

/* bpf_printk lines of the corpus: not TAP output */
static void quiet(void *ctx, const char *line, size_t len)
{
}

TEST(rules)
{
	static const char *const kinds[] = { "arr", "hash", "rb", "progs" };
	static const uint32_t types[] = { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH,
		BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_PROG_ARRAY };
	static const uint32_t vsize[] = { 16, 8, 0, 4 }, ksize[] = { 4, 4, 0, 4 };
	int accepted = 0, refused = 0;

	ftramp_bpf_set_print(quiet, NULL);
	for (int i = 0; i < NR_MAPS; i++) {
		maps[i] = ftramp_bpf_map__create(types[i], kinds[i], ksize[i],
						 vsize[i], i == RB ? 4096 : 2,
						 NULL);
		ASSERT_NE(NULL, maps[i]);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct ftramp_bpf_error e;
		struct ftramp_bpf_program *p;
		int err = load_case(_metadata, c, &e, &p);

		if (!c->refusal) {
			if (err) {
				fprintf(stderr, "# %s: refused: %s\n", c->name,
					e.msg);
				EXPECT_TRUE(false);
				continue;
			}
			accepted++;
			if (c->type == FTRAMP_BPF_PROG_RAW) {
				uint8_t data[16] = { 3 };
				FTRAMP_OPTS(ftramp_bpf_test_run_opts, o,
					    .data_in = data,
					    .data_size_in = sizeof(data));

				EXPECT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
			}
			ftramp_bpf_prog__free(p);
			continue;
		}
		refused++;
		EXPECT_EQ(-EINVAL, err);
		EXPECT_EQ(c->code ? c->code : FTRAMP_BPF_E_VERIFY, e.code);
		if (!strstr(e.msg, c->refusal)) {
			fprintf(stderr, "# %s: '%s' lacks '%s'\n", c->name,
				e.msg, c->refusal);
			EXPECT_TRUE(false);
		}
		ftramp_bpf_prog__free(p);
	}
	fprintf(stderr, "# %d accepted, %d refused\n", accepted, refused);
	for (int i = 0; i < NR_MAPS; i++)
		ftramp_bpf_map__free(maps[i]);
}

/* Eight frames are allowed, a ninth is not. */
static int load_chain(int frames, struct ftramp_bpf_error *e)
{
	insn_t in[2 * 9];
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .err = e);
	struct ftramp_bpf_program *p;

	for (int f = 0; f < frames; f++) {
		insn_t call = CALLREL(1), mov = MOV(0, 0), ex = EXIT();

		in[2 * f] = f + 1 < frames ? call : mov;
		in[2 * f + 1] = ex;
	}
	p = ftramp_bpf_prog__load(in, 2 * frames, &lo);
	ftramp_bpf_prog__free(p);
	return p ? 0 : -errno;
}

TEST(frames)
{
	struct ftramp_bpf_error e = { 0 };

	EXPECT_EQ(0, load_chain(8, &e));
	EXPECT_EQ(-EINVAL, load_chain(9, &e));
	EXPECT_EQ(FTRAMP_BPF_E_VERIFY, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "insn 14: the call stack of 9 frames is "
			       "too deep"));
}

/* What the verifier saw touched must be there at a test run. */
TEST(test_run_needs)
{
	const insn_t raw[] = { LDX(BPF_DW, 0, 1, 24), EXIT() };
	const insn_t tr[] = { LDX(BPF_DW, 0, 1, 13 * 8), EXIT() };
	uint8_t data[32] = { 0 };
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = data,
		    .data_size_in = 16);
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .type = FENTRY);
	struct ftramp_bpf_program *p = ftramp_bpf_prog__load(raw, 2, NULL);

	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EINVAL, ftramp_bpf_prog__test_run(p, &o));
	o.data_size_in = 32;
	EXPECT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	ftramp_bpf_prog__free(p);

	/* ctx[13]: a model could have it, the test run's ctx does not */
	p = ftramp_bpf_prog__load(tr, 2, &lo);
	ASSERT_NE(NULL, p);
	{
		FTRAMP_OPTS(ftramp_bpf_test_run_opts, t);

		EXPECT_EQ(-EINVAL, ftramp_bpf_prog__test_run(p, &t));
	}
	ftramp_bpf_prog__free(p);
}

TEST_HARNESS_MAIN
