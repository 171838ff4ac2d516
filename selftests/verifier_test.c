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
	memset(e, 0, sizeof(*e));
	*pp = ftramp_bpf_prog__load(c->insns, c->n, &lo);
	return *pp ? 0 : -errno;
}

TEST(rules)
{
	static const char *const kinds[] = { "arr", "hash", "rb", "progs" };
	static const uint32_t types[] = { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH,
		BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_PROG_ARRAY };
	static const uint32_t vsize[] = { 16, 8, 0, 4 }, ksize[] = { 4, 4, 0, 4 };
	int accepted = 0, refused = 0;

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
