// SPDX-License-Identifier: MIT
/*
 * The arm64 BPF JIT (arch/arm64/bpf_jit.h), after the design of the
 * kernel's arch/arm64/net/bpf_jit_comp.c: the same register map, a frame
 * record per BPF function, pure encoders from insn.[ch].
 *
 * Passes.  The first pass sizes with no image and every conditional
 * branch short.  Each further pass sizes again with the previous pass's
 * offsets, turning a conditional branch whose target lies beyond b.cond's
 * +-1 MiB into `b.!cond 1f; b target; 1:` (sticky: a branch never gets
 * short again, so the offsets only grow and the passes end).  When a pass
 * reproduces the offsets of the one before, they are final: the last pass
 * writes the image with them, and asserts it emitted what was sized.
 *
 * Static branches (ja with a static flag, jcond) are exactly one word at
 * offset[i]: `nop` or `b target`, so that bpf_jit_poke_add()
 * (bpf_jit_poke.c) can flip them (bpf/sbranch.c).
 *
 * Functions.  The program and each bpf-to-bpf call target is a native
 * function with its own prologue, BPF stack and epilogue; the image is the
 * whole instruction array (program, then the subprograms of .text), cut
 * into functions at those starts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/insn.h"

#ifndef HWCAP_ATOMICS
#define HWCAP_ATOMICS	(1ul << 8)
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX	0x80
#endif

/*
 * BPF to A64 registers (the kernel's map).  R1-R5 are the AAPCS64
 * argument registers, so helper and subprogram calls need no moves; R0 is
 * x7 so that the arguments stay in place until a call returns.  R6-R9 and
 * the frame pointer R10 must survive calls: in a function that calls,
 * they are the callee-saved x19-x22 and x25; in a leaf (no call at all)
 * nothing needs to survive one, so they are the caller-saved x5, x6, x8,
 * x9 and x14 and nothing is saved.  TMP0-TMP3 are scratch within one BPF
 * instruction.
 */
static const enum a64_reg bpf2a64[] = {
	[BPF_REG_0] = A64_R7,
	[BPF_REG_1] = A64_R0,
	[BPF_REG_2] = A64_R1,
	[BPF_REG_3] = A64_R2,
	[BPF_REG_4] = A64_R3,
	[BPF_REG_5] = A64_R4,
	[BPF_REG_6] = A64_R19,
	[BPF_REG_7] = A64_R20,
	[BPF_REG_8] = A64_R21,
	[BPF_REG_9] = A64_R22,
	[BPF_REG_10] = A64_R25,
};
static const enum a64_reg bpf2a64_leaf[] = {
	[BPF_REG_0] = A64_R7,
	[BPF_REG_1] = A64_R0,
	[BPF_REG_2] = A64_R1,
	[BPF_REG_3] = A64_R2,
	[BPF_REG_4] = A64_R3,
	[BPF_REG_5] = A64_R4,
	[BPF_REG_6] = A64_R5,
	[BPF_REG_7] = A64_R6,
	[BPF_REG_8] = A64_R8,
	[BPF_REG_9] = A64_R9,
	[BPF_REG_10] = A64_R14,
};
#define TMP0	A64_R10
#define TMP1	A64_R11
#define TMP2	A64_R12
#define TMP3	A64_R13
#define TCC	A64_R26	/* tail calls so far (FN_TAIL functions) */

/*
 * The frame of one BPF function, only what the function needs (the
 * kernel's find_used_callee_regs(); sizes in bytes):
 *
 *	caller's sp ->	+------------------------+
 *			| x29, x30 (frame record)| <- x29   FN_CALLS
 *			| x19, x20               |  FN_CALLS and R6/R7 used
 *			| x21, x22               |  FN_CALLS and R8/R9 used
 *			| x25, (pad)             |  FN_CALLS and FN_STACK
 *	R10 ->		+------------------------+
 *			| BPF stack              |  STACK_SIZE, FN_STACK
 *	sp ->		+------------------------+
 *
 * A function that calls signs x30 (paciasp) before it saves it and
 * authenticates it after the reload; a leaf never spills x30 and has no
 * frame record, only its BPF stack if it uses R10 (then x14, the bottom
 * of the caller's sp).  Every function starts with `bti c`: a trampoline
 * reaches it by blr, maybe in a PROT_BTI page.
 *
 * Each function gets the interpreter's 512 bytes (BPF_MAX_STACK) when it
 * uses R10 at all: the checker does not yet say how much a function uses.
 *
 * Tail calls (the kernel's arm64 scheme).  The entry function of a
 * program compiled with BPF_JIT_TAIL_FRAME (it makes tail calls, or may
 * be the target of one) gets the full fixed frame (FN_TAIL: every pair
 * above, x25 with x26), so that its frame is any other such program's:
 *
 *	entry:	bti c; paciasp; stp x29, x30; mov x29, sp
 *		stp x19, x20; stp x21, x22; stp x25, x26
 *		mov x25, sp
 *		mov x26, #0		the tail-call counter (TCC)
 *	tail:	bti j			(a br lands here; a b on the next)
 *		sub sp, x25, #STACK_SIZE
 *
 * A tail call leaves x25 (R10, the frame), x26 and R1 (x0, ctx) as they
 * are and branches to the target's tail entry: the target runs in the
 * caller's frame with a fresh BPF stack, and its epilogue returns the
 * caller's caller its R0.  The counter is compared and incremented in
 * the caller's sequence (emit_tail_call()), exactly as the interpreter
 * counts: a tail call that finds no program does not count.  A tail call
 * from a subprogram, or from a program without the tail frame, falls
 * through, as the interpreter's does (from the main frame only).  Every
 * other function keeps its lean frame.
 */
enum {
	FRAME_PAIR	= 16,		/* one stp */
	STACK_SIZE	= 512,
	COND_RANGE	= 1 << 18,	/* b.cond: imm19 words */
};

/* What a function uses (struct jit.fn, at its first instruction). */
enum {
	FN_CALLS	= 1 << 0,	/* a call: x30 saved, frame record */
	FN_STACK	= 1 << 1,	/* R10 read: a BPF stack */
	FN_R67		= 1 << 2,	/* R6 or R7 (x19, x20 saved) */
	FN_R89		= 1 << 3,	/* R8 or R9 (x21, x22 saved) */
	FN_TAIL		= 1 << 4,	/* the full frame, x26, a tail entry */
};

/* Per instruction (struct jit.mark). */
enum {
	MARK_TARGET	= 1 << 0,	/* a jump or call lands here */
	MARK_R0_IN_X0	= 1 << 1,	/* a mov to R0 before the last exit:
					 * it writes x0, the exit no mov */
};

struct jit {
	struct a64_ctx a;
	const struct bpf_jit_desc *d;
	uint32_t *offset;	/* this pass: where each insn's code starts */
	uint32_t *prev;		/* the previous pass's (targets) */
	uint32_t *func;		/* this pass: prologue of a function start */
	uint32_t *prev_func;	/* previous pass's; UINT32_MAX: no function */
	uint32_t *epi;		/* this pass: epilogue, by function start */
	uint32_t *prev_epi;
	uint8_t *long_br;	/* sticky: b.cond i needs the long form */
	uint8_t *fn;		/* FN_* at each function start */
	uint8_t *mark;		/* MARK_* per instruction */
	size_t cur_func;	/* start insn of the function being emitted */
	uint32_t tail;		/* this pass: the tail entry's word */
	int32_t *poke_of;	/* per insn: index in d->pokes, -1: none */
	uint8_t *elide;		/* per insn: no code (a direct call's args) */
	const enum a64_reg *reg;	/* the current function's map */
	uint32_t cap;		/* words of the chunk the image goes to */
	bool pessimistic;	/* the bounding pass: every choice its longest */
	bool adr;		/* callback addresses by adr (image < 1 MiB) */
	bool lse;
	/* The unwind rows of the writing pass (at most cap_uw). */
	struct a64_uw_row uw;
	struct a64_uw_row uw_body;	/* the function's body's rules */
	struct a64_uw_row *uw_v;
	unsigned int nr_uw, cap_uw;
};

/*
 * Unwind rows a function's prologue and shared epilogue make at most,
 * and a leaf's epilogue at an exit.
 */
enum { UW_PER_FUNC = 16, UW_PER_EXIT = 2 };

static void emit(struct jit *j, uint32_t insn)
{
	a64_emit(&j->a, insn);
}

static uint64_t word_pc(const struct jit *j, uint32_t word)
{
	return a64_ctx_pc_at(&j->a, word);
}

static void emit_mov_imm(struct jit *j, enum a64_width w, enum a64_reg rd,
			 uint64_t v)
{
	a64_emit_mov_imm(&j->a, w, rd, w == A64_32 ? (uint32_t)v : v);
}

/* The value of an imm as an operand of width w (RFC 9669 4.1). */
static uint64_t imm_val(enum a64_width w, int32_t imm)
{
	return w == A64_64 ? (uint64_t)(int64_t)imm : (uint32_t)imm;
}

/* ---------------------------------------------------------------------
 * Unwind rows (arch/arm64/eh_frame.h): the rules in j->uw take effect at
 * the next instruction; the writing pass records them for the
 * unwinder's CFI and the debugger's (bpf/jit_debug.c).
 * --------------------------------------------------------------------- */

static void uw_commit(struct jit *j)
{
	struct a64_uw_row r = j->uw;

	if (a64_ctx_sizing(&j->a))
		return;
	r.off = j->a.idx * A64_INSN_SIZE;
	if (j->nr_uw && j->uw_v[j->nr_uw - 1].off == r.off) {
		j->uw_v[j->nr_uw - 1] = r;
		return;
	}
	if (j->nr_uw == j->cap_uw) {
		a64_ctx_error(&j->a, -E2BIG);	/* UW_PER_FUNC too small */
		return;
	}
	j->uw_v[j->nr_uw++] = r;
}

/* A pair of callee-saved registers at CFA + at (first) and at + 8. */
static void uw_saved(struct jit *j, enum a64_reg a, enum a64_reg b,
		     int32_t at)
{
	j->uw.saved_at[A64_UW_SAVED(a)] = at;
	j->uw.saved_at[A64_UW_SAVED(b)] = at ? at + 8 : 0;
}

/* ---------------------------------------------------------------------
 * Prologue and epilogue
 * --------------------------------------------------------------------- */

static bool is_leaf(const struct jit *j)
{
	return !(j->fn[j->cur_func] & FN_CALLS);
}

/* stp a, b, [sp, #-16]!: saved at CFA + *at (the next place down). */
static void push_pair(struct jit *j, enum a64_reg a, enum a64_reg b,
		      int32_t *at)
{
	emit(j, a64_stp_pre(A64_LS_X, a, b, A64_SP, -FRAME_PAIR));
	*at -= FRAME_PAIR;
	uw_saved(j, a, b, *at);
	uw_commit(j);
}

/* ldp a, b, [sp], #16: the pair push_pair() saved is back. */
static void pop_pair(struct jit *j, enum a64_reg a, enum a64_reg b)
{
	emit(j, a64_ldp_post(A64_LS_X, a, b, A64_SP, FRAME_PAIR));
	uw_saved(j, a, b, 0);
	uw_commit(j);
}

static void emit_prologue(struct jit *j)
{
	uint8_t fn = j->fn[j->cur_func];
	int32_t at = -FRAME_PAIR;	/* the next save's place from the CFA */

	/* At entry: CFA = SP, the return address in x30. */
	memset(&j->uw, 0, sizeof(j->uw));
	j->uw.cfa_reg = A64_DW_SP;
	j->uw.ra_reg = A64_DW_LR;
	uw_commit(j);
	/* Reached by blr from a trampoline, maybe in a PROT_BTI page. */
	emit(j, A64_BTI_C);
	if (!(fn & FN_CALLS)) {
		if (fn & FN_STACK) {
			emit(j, a64_mov(A64_64, bpf2a64_leaf[BPF_REG_10],
					A64_SP));
			emit(j, a64_sub_imm(A64_64, A64_SP, A64_SP,
					    STACK_SIZE));
			j->uw.cfa_off = STACK_SIZE;
			uw_commit(j);
		}
		j->uw_body = j->uw;
		return;
	}
	/* Sign x30 before it goes to memory; a hint where no PAC. */
	emit(j, A64_PACIASP);
	j->uw.pac = 1;
	uw_commit(j);
	emit(j, a64_stp_pre(A64_LS_X, A64_FP, A64_LR, A64_SP, -FRAME_PAIR));
	j->uw.cfa_off = FRAME_PAIR;
	j->uw.fp_at = -FRAME_PAIR;
	j->uw.ra_at = -FRAME_PAIR + 8;
	uw_commit(j);
	emit(j, a64_mov(A64_64, A64_FP, A64_SP));
	j->uw.cfa_reg = A64_DW_FP;	/* sp moves from here on */
	uw_commit(j);
	if (fn & FN_R67)
		push_pair(j, A64_R19, A64_R20, &at);
	if (fn & FN_R89)
		push_pair(j, A64_R21, A64_R22, &at);
	if (fn & FN_TAIL) {
		push_pair(j, A64_R25, TCC, &at);
		emit(j, a64_mov(A64_64, A64_R25, A64_SP));
		emit(j, a64_movz(A64_64, TCC, 0, 0));
		j->tail = j->a.idx;
		/* an indirect tail call's br (any register) lands here */
		emit(j, A64_BTI_J);
		emit(j, a64_sub_imm(A64_64, A64_SP, A64_R25, STACK_SIZE));
	} else if (fn & FN_STACK) {
		emit(j, a64_str_pre(A64_LS_X, A64_R25, A64_SP, -FRAME_PAIR));
		at -= FRAME_PAIR;
		j->uw.saved_at[A64_UW_SAVED(A64_R25)] = at;
		uw_commit(j);
		emit(j, a64_mov(A64_64, A64_R25, A64_SP));
		emit(j, a64_sub_imm(A64_64, A64_SP, A64_SP, STACK_SIZE));
	}
	j->uw_body = j->uw;
}

/* After R0 is in x0: restore what the prologue saved, return. */
static void emit_epilogue(struct jit *j)
{
	uint8_t fn = j->fn[j->cur_func];

	if (!(fn & FN_CALLS)) {
		if (fn & FN_STACK) {
			emit(j, a64_add_imm(A64_64, A64_SP, A64_SP,
					    STACK_SIZE));
			j->uw.cfa_off = 0;
			uw_commit(j);
		}
		emit(j, a64_ret());
		/* an exit in place: the body goes on after it */
		j->uw = j->uw_body;
		uw_commit(j);
		return;
	}
	if (fn & FN_TAIL) {
		emit(j, a64_mov(A64_64, A64_SP, A64_R25));
		pop_pair(j, A64_R25, TCC);
	} else if (fn & FN_STACK) {
		emit(j, a64_mov(A64_64, A64_SP, A64_R25));
		emit(j, a64_ldr_post(A64_LS_X, A64_R25, A64_SP, FRAME_PAIR));
		j->uw.saved_at[A64_UW_SAVED(A64_R25)] = 0;
		uw_commit(j);
	}
	if (fn & FN_R89)
		pop_pair(j, A64_R21, A64_R22);
	if (fn & FN_R67)
		pop_pair(j, A64_R19, A64_R20);
	emit(j, a64_ldp_post(A64_LS_X, A64_FP, A64_LR, A64_SP, FRAME_PAIR));
	j->uw.cfa_reg = A64_DW_SP;
	j->uw.cfa_off = 0;
	j->uw.fp_at = 0;
	j->uw.ra_at = 0;
	uw_commit(j);
	emit(j, A64_AUTIASP);
	j->uw.pac = 0;
	uw_commit(j);
	emit(j, a64_ret());
}

/*
 * exit: R0 to x0 (unless the mov before wrote x0 itself), then a leaf's
 * epilogue in place (one or two words), or the function's last exit
 * falls into the shared epilogue, or a branch to it.
 */
static void emit_exit(struct jit *j, size_t i)
{
	if (!(j->mark[i] & MARK_R0_IN_X0))
		emit(j, a64_mov(A64_64, A64_R0, bpf2a64[BPF_REG_0]));
	if (is_leaf(j))
		emit_epilogue(j);
	else if (i + 1 < j->d->n && j->prev_func[i + 1] == UINT32_MAX)
		a64_emit_b(&j->a, word_pc(j, j->prev_epi[j->cur_func]));
}

/* ---------------------------------------------------------------------
 * Branches
 * --------------------------------------------------------------------- */

static enum a64_cond invert(enum a64_cond c)
{
	return (enum a64_cond)(c ^ 1);
}

/* b.cond to BPF instruction t from instruction i (long form if needed). */
static void emit_cond_branch(struct jit *j, size_t i, enum a64_cond cond,
			     size_t t)
{
	uint64_t target = word_pc(j, j->prev[t]);

	if (a64_ctx_sizing(&j->a) && !j->long_br[i]) {
		int64_t dist = (int64_t)j->prev[t] - (int64_t)j->a.idx;

		/* The sizes may still grow by this pass: keep a margin. */
		if (j->d->flags & BPF_JIT_LONG_BRANCHES ||
		    dist <= -(COND_RANGE / 2) || dist >= COND_RANGE / 2)
			j->long_br[i] = 1;
	}
	if (!j->long_br[i] && !j->pessimistic) {
		a64_emit_b_cond(&j->a, cond, target);
		return;
	}
	/* b.!cond 1f; b target; 1: */
	emit(j, a64_ctx_sizing(&j->a) ? A64_NOP :
	     a64_b_cond(a64_ctx_pc(&j->a), a64_ctx_pc(&j->a) + 8,
			invert(cond)));
	a64_emit_b(&j->a, target);
}

static enum a64_cond jmp_cond(uint8_t op)
{
	switch (op) {
	case BPF_JEQ:	return A64_COND_EQ;
	case BPF_JNE:	return A64_COND_NE;
	case BPF_JGT:	return A64_COND_HI;
	case BPF_JGE:	return A64_COND_HS;
	case BPF_JLT:	return A64_COND_LO;
	case BPF_JLE:	return A64_COND_LS;
	case BPF_JSET:	return A64_COND_NE;
	case BPF_JSGT:	return A64_COND_GT;
	case BPF_JSGE:	return A64_COND_GE;
	case BPF_JSLT:	return A64_COND_LT;
	case BPF_JSLE:	return A64_COND_LE;
	}
	return A64_COND_NV;
}

/* Set the flags for a conditional jump against an immediate. */
static void emit_cmp_imm(struct jit *j, enum a64_width w, uint8_t op,
			 enum a64_reg dst, int32_t imm)
{
	uint64_t v = imm_val(w, imm);
	uint32_t insn;

	if (op == BPF_JSET) {
		insn = a64_tst_imm(w, dst, v);
		if (insn != A64_INSN_BAD) {
			emit(j, insn);
			return;
		}
		emit_mov_imm(j, w, TMP0, v);
		emit(j, a64_logic_shifted(A64_ANDS, w, A64_ZR, dst, TMP0,
					  A64_LSL, 0));
		return;
	}
	if (imm >= 0 && imm < 4096) {
		emit(j, a64_cmp_imm(w, dst, (uint64_t)imm));
	} else if (imm < 0 && imm > -4096) {
		/* cmn: the same flags as cmp for any imm but INT_MIN */
		emit(j, a64_cmn_imm(w, dst, (uint64_t)-(int64_t)imm));
	} else {
		emit_mov_imm(j, w, TMP0, v);
		emit(j, a64_cmp(w, dst, TMP0));
	}
}

/* ---------------------------------------------------------------------
 * ALU
 * --------------------------------------------------------------------- */

/*
 * rd = rn <op> rm for the BPF ops that are one A64 instruction: the
 * register ALU and the ldaxr/stlxr body of the atomics.
 */
static void emit_alu_rrr(struct jit *j, uint8_t op, enum a64_width w,
			 enum a64_reg rd, enum a64_reg rn, enum a64_reg rm)
{
	uint32_t insn;

	switch (op) {
	case BPF_ADD:	insn = a64_add(w, rd, rn, rm); break;
	case BPF_SUB:	insn = a64_sub(w, rd, rn, rm); break;
	case BPF_MUL:	insn = a64_mul(w, rd, rn, rm); break;
	case BPF_AND:	insn = a64_and(w, rd, rn, rm); break;
	case BPF_OR:	insn = a64_orr(w, rd, rn, rm); break;
	case BPF_XOR:
		insn = a64_logic_shifted(A64_EOR, w, rd, rn, rm, A64_LSL, 0);
		break;
	default:
		a64_ctx_error(&j->a, -EINVAL);
		return;
	}
	emit(j, insn);
}

static void emit_alu(struct jit *j, size_t i)
{
	const struct bpf_insn *in = &j->d->insns[i];
	enum a64_width w = BPF_CLASS(in->code) == BPF_ALU64 ? A64_64 : A64_32;
	uint8_t op = BPF_OP(in->code);
	enum a64_reg dst = j->reg[in->dst_reg], src = j->reg[in->src_reg];
	bool k = BPF_SRC(in->code) == BPF_K;
	uint64_t v = imm_val(w, in->imm);
	unsigned int mask = w == A64_64 ? 63 : 31;
	uint32_t insn = A64_INSN_BAD;

	switch (op) {
	case BPF_MOV:
		if (j->mark[i] & MARK_R0_IN_X0)
			dst = A64_R0;
		if (k)
			emit_mov_imm(j, w, dst, v);
		else if (in->off == 8)
			emit(j, a64_sxtb(w, dst, src));
		else if (in->off == 16)
			emit(j, a64_sxth(w, dst, src));
		else if (in->off == 32)
			emit(j, a64_sxtw(dst, src));
		else
			emit(j, a64_mov(w, dst, src));
		return;
	case BPF_NEG:
		emit(j, a64_neg(w, dst, dst));
		return;
	case BPF_END:
		/* Little-endian: to_le truncates; to_be and bswap swap. */
		if (w == A64_64 || BPF_SRC(in->code) == BPF_TO_BE) {
			switch (in->imm) {
			case 16:
				emit(j, a64_rev(A64_REV16, A64_32, dst, dst));
				emit(j, a64_uxth(dst, dst));
				break;
			case 32:
				emit(j, a64_rev(A64_REV, A64_32, dst, dst));
				break;
			default:
				emit(j, a64_rev(A64_REV, A64_64, dst, dst));
			}
		} else if (in->imm == 16) {
			emit(j, a64_uxth(dst, dst));
		} else if (in->imm == 32) {
			emit(j, a64_uxtw(dst, dst));
		}
		return;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH:
		if (k) {
			unsigned int sh = (unsigned int)in->imm & mask;

			emit(j, op == BPF_LSH ? a64_lsl_imm(w, dst, dst, sh) :
				op == BPF_RSH ? a64_lsr_imm(w, dst, dst, sh) :
				a64_asr_imm(w, dst, dst, sh));
			return;
		}
		/* LSLV and friends take the count modulo the width */
		emit(j, a64_dp2(op == BPF_LSH ? A64_LSLV : op == BPF_RSH ?
				A64_LSRV : A64_ASRV, w, dst, dst, src));
		return;
	}

	if (k) {
		/* Forms that take the immediate itself. */
		switch (op) {
		case BPF_ADD:
		case BPF_SUB: {
			int64_t s = op == BPF_ADD ? in->imm : -(int64_t)in->imm;

			if (s >= 0 && s < 4096)
				insn = a64_add_imm(w, dst, dst, (uint64_t)s);
			else if (s < 0 && s > -4096)
				insn = a64_sub_imm(w, dst, dst, (uint64_t)-s);
			break;
		}
		case BPF_AND:
			insn = a64_and_imm(w, dst, dst, v);
			break;
		case BPF_OR:
			insn = a64_orr_imm(w, dst, dst, v);
			break;
		case BPF_XOR:
			insn = a64_eor_imm(w, dst, dst, v);
			break;
		}
		if (insn != A64_INSN_BAD) {
			emit(j, insn);
			return;
		}
		emit_mov_imm(j, w, TMP0, v);
		src = TMP0;
	}

	switch (op) {
	case BPF_DIV:
		/*
		 * UDIV/SDIV by zero give 0 and SDIV INT_MIN / -1 gives
		 * INT_MIN (Arm ARM C6.2 SDIV): exactly RFC 9669's rules.
		 */
		emit(j, in->off == 1 ? a64_sdiv(w, dst, dst, src) :
		     a64_udiv(w, dst, dst, src));
		break;
	case BPF_MOD:
		/* dst - (dst / src) * src: dst when src is 0, 0 for -1 */
		emit(j, in->off == 1 ? a64_sdiv(w, TMP1, dst, src) :
		     a64_udiv(w, TMP1, dst, src));
		emit(j, a64_msub(w, dst, TMP1, src, dst));
		break;
	default:
		emit_alu_rrr(j, op, w, dst, dst, src);
	}
}

/* ---------------------------------------------------------------------
 * Loads and stores
 * --------------------------------------------------------------------- */

static enum a64_ldst_size ldst_size(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:	return A64_LS_B;
	case BPF_H:	return A64_LS_H;
	case BPF_W:	return A64_LS_W;
	default:	return A64_LS_X;
	}
}

/* ldr/str rt, [rn, #off] in the shortest form that reaches off. */
static void emit_ldst(struct jit *j, enum a64_ldst_op op,
		      enum a64_ldst_size size, enum a64_reg rt,
		      enum a64_reg rn, int16_t off)
{
	uint32_t insn = a64_ldst_imm(op, size, rt, rn, off, A64_OFFSET);

	if (insn == A64_INSN_BAD)
		insn = a64_ldst_imm(op, size, rt, rn, off, A64_UNSCALED);
	if (insn != A64_INSN_BAD) {
		emit(j, insn);
		return;
	}
	emit_mov_imm(j, A64_64, TMP1, (uint64_t)(int64_t)off);
	emit(j, a64_ldst_reg(op, size, rt, rn, TMP1));
}

/* TMP0 = dst + off: the address of an atomic operation. */
static enum a64_reg emit_addr(struct jit *j, enum a64_reg base, int16_t off)
{
	if (!off)
		return base;
	if (off > 0 && off < 4096)
		emit(j, a64_add_imm(A64_64, TMP0, base, (uint64_t)off));
	else if (off < 0 && off > -4096)
		emit(j, a64_sub_imm(A64_64, TMP0, base, (uint64_t)-off));
	else {
		emit_mov_imm(j, A64_64, TMP0, (uint64_t)(int64_t)off);
		emit(j, a64_add(A64_64, TMP0, TMP0, base));
	}
	return TMP0;
}

/*
 * BPF_ATOMIC, sequentially consistent like the interpreter's __atomic
 * builtins: LSE with acquire+release, or an ldaxr/stlxr loop.  32-bit
 * forms write W registers, so a fetched value is zero-extended as the
 * RFC wants.
 */
static void emit_atomic(struct jit *j, const struct bpf_insn *in)
{
	enum a64_ldst_size sz = ldst_size(in->code);
	enum a64_width w = sz == A64_LS_X ? A64_64 : A64_32;
	enum a64_reg src = j->reg[in->src_reg], r0 = j->reg[BPF_REG_0];
	enum a64_reg addr = emit_addr(j, j->reg[in->dst_reg], in->off);
	bool fetch = in->imm & BPF_FETCH;
	int32_t op = in->imm & ~BPF_FETCH;
	const unsigned int al = A64_ACQ | A64_REL;

	if (in->imm == BPF_CMPXCHG) {
		if (j->lse) {
			emit(j, a64_mov(w, TMP1, r0));
			emit(j, a64_cas(sz, TMP1, src, addr, al));
			emit(j, a64_mov(w, r0, TMP1));
			return;
		}
		/* 1: ldaxr t1, [a]; cmp t1, r0; b.ne 2f; stlxr s, src,
		 *    [a]; cbnz s, 1b; 2: dmb ish; mov r0, t1 */
		uint32_t loop = j->a.idx;

		emit(j, a64_ldxr(sz, TMP1, addr, A64_ACQ));
		emit(j, a64_cmp(w, TMP1, r0));
		emit(j, a64_ctx_sizing(&j->a) ? A64_NOP :
		     a64_b_cond(a64_ctx_pc(&j->a), a64_ctx_pc(&j->a) + 12,
				A64_COND_NE));
		emit(j, a64_stxr(sz, TMP3, src, addr, A64_REL));
		a64_emit_cbnz(&j->a, A64_32, TMP3, word_pc(j, loop));
		emit(j, a64_dmb_ish());
		emit(j, a64_mov(w, r0, TMP1));
		return;
	}

	if (j->lse) {
		enum a64_reg rs = src;
		enum a64_lse_op lop;

		switch (op) {
		case BPF_ADD:	lop = A64_LDADD; break;
		case BPF_OR:	lop = A64_LDSET; break;
		case BPF_XOR:	lop = A64_LDEOR; break;
		case BPF_AND:
			/* ldclr clears the bits set in rs: and with ~src */
			emit(j, a64_mvn(w, TMP2, src));
			rs = TMP2;
			lop = A64_LDCLR;
			break;
		default:	/* BPF_XCHG without its fetch bit */
			lop = A64_SWP;
		}
		emit(j, a64_lse(lop, sz, rs, fetch ? src : A64_ZR, addr, al));
		return;
	}

	/* 1: ldaxr t1, [a]; <op> t2, t1, src; stlxr s, t2, [a];
	 *    cbnz s, 1b; dmb ish; [mov src, t1] */
	uint32_t loop = j->a.idx;
	enum a64_reg val = TMP2;

	emit(j, a64_ldxr(sz, TMP1, addr, A64_ACQ));
	switch (op) {
	case BPF_ADD:
	case BPF_OR:
	case BPF_AND:
	case BPF_XOR:
		emit_alu_rrr(j, op, w, TMP2, TMP1, src);
		break;
	default:	/* xchg */
		val = src;
	}
	emit(j, a64_stxr(sz, TMP3, val, addr, A64_REL));
	a64_emit_cbnz(&j->a, A64_32, TMP3, word_pc(j, loop));
	emit(j, a64_dmb_ish());
	if (fetch)
		emit(j, a64_mov(w, src, TMP1));
}

/* ---------------------------------------------------------------------
 * Calls
 * --------------------------------------------------------------------- */

/*
 * Can every word of the image reach @addr with one bl?  The image's
 * place is known before the passes that decide (bpf_jit_compile()), and
 * the whole chunk is asked, so the answer does not change with sizes.
 */
static bool bl_reaches(const struct jit *j, uint64_t addr)
{
	uint64_t lo = j->a.ro_base, hi = lo + (uint64_t)j->cap * 4;
	uint64_t span = addr >= hi ? addr - lo : addr < lo ? hi - addr : 0;

	return !j->pessimistic && span < FTRAMP_BL_RANGE - 4;
}

/* A native call: bl, or through x16 (IP0, the AAPCS64 scratch). */
static void emit_native_call(struct jit *j, uint64_t addr)
{
	if (bl_reaches(j, addr)) {
		a64_emit_bl(&j->a, addr);
		return;
	}
	emit_mov_imm(j, A64_64, A64_IP0, addr);
	emit(j, a64_blr(A64_IP0));
}

/*
 * *d->inflight += delta (release when it goes down), in TMP0-TMP2: around
 * a native call of a program that a prog array may hold, so that its
 * reclamation knows a thread outside every image will return into it
 * (bpf/tail.c).
 */
static void emit_inflight(struct jit *j, int delta)
{
	emit_mov_imm(j, A64_64, TMP0, (uintptr_t)j->d->inflight);
	if (j->lse) {
		emit_mov_imm(j, A64_64, TMP1, (uint64_t)(int64_t)delta);
		emit(j, a64_stadd(A64_LS_X, TMP1, TMP0,
				  delta < 0 ? A64_REL : 0));
		return;
	}
	emit(j, a64_ldxr(A64_LS_X, TMP1, TMP0, 0));
	emit(j, delta < 0 ? a64_sub_imm(A64_64, TMP1, TMP1, -delta) :
			    a64_add_imm(A64_64, TMP1, TMP1, delta));
	emit(j, a64_stxr(A64_LS_X, TMP2, TMP1, TMP0, delta < 0 ? A64_REL : 0));
	a64_emit_cbnz(&j->a, A64_32, TMP2, word_pc(j, j->a.idx - 3));
}

/* call id: R1-R5 are x0-x4 already; the cookie in x5 if it wants it. */
static void emit_helper_call(struct jit *j, int32_t id)
{
	struct bpf_jit_helper h = { 0 };
	bool count = j->d->inflight && (j->d->flags & BPF_JIT_TAIL_FRAME);

	if (j->d->helper(id, &h) || !h.addr) {
		a64_ctx_error(&j->a, -EOPNOTSUPP);
		return;
	}
	if (count)
		emit_inflight(j, 1);
	if (h.cookie)
		emit_mov_imm(j, A64_64, A64_R5,
			     (uintptr_t)j->d->helper_cookie);
	emit_native_call(j, h.addr);
	if (count)
		emit_inflight(j, -1);
}

/*
 * A callback's address (ld_imm64 of BPF_PSEUDO_FUNC): function t's code.
 * adr reaches +-1 MiB, adrp + add the rest; chosen once for the image
 * (j->adr), so that the size does not depend on the offsets.
 */
static void emit_func_addr(struct jit *j, enum a64_reg rd, size_t t)
{
	uint64_t target = word_pc(j, j->prev_func[t]);
	uint64_t pc = a64_ctx_pc(&j->a);
	bool sizing = a64_ctx_sizing(&j->a);

	if (j->adr && !j->pessimistic) {
		emit(j, sizing ? A64_NOP : a64_adr(pc, target, rd));
		return;
	}
	emit(j, sizing ? A64_NOP : a64_adrp(pc, target & ~0xfffull, rd));
	emit(j, a64_add_imm(A64_64, rd, rd, target & 0xfff));
}

/* ---------------------------------------------------------------------
 * Tail calls
 * --------------------------------------------------------------------- */

/* R0 after a tail call that fell through: the interpreter's -ENOENT. */
static void emit_tail_miss(struct jit *j)
{
	emit(j, a64_movn(A64_64, j->reg[BPF_REG_0], ENOENT - 1, 0));
}

/*
 * bpf_tail_call(ctx = R1, map = R2, index = R3), from an FN_TAIL
 * function.  The direct form, for a call site whose map and key the
 * verifier knew (d->pokes):
 *
 *	cmp x26, #MAX_TAIL_CALLS
 *	b.hs 1f
 *	add x26, x26, #1
 *  slot:	nop			<- b <target's tail body>, poked
 *	sub x26, x26, #1	the slot was empty: not a tail call
 *  1:	mov R0, #-ENOENT
 *
 * The slot is the only word that ever changes (bpf_jit_poke_add()): nop
 * and b are both in the Arm ARM's list of instructions that may be
 * modified while another thread executes them (B2.2.5), so a thread
 * running the sequence meanwhile takes the old word or the new one, and
 * the counter is right either way.  The indirect form reads the array
 * the map points at (struct bpf_jit_tail_array):
 *
 *	ldr t0, [R2, #tail_off]
 *	ldr w1', [t0]			max_entries
 *	cmp w3', w1'			R3 as u32
 *	b.hs 1f
 *	cmp x26, #MAX_TAIL_CALLS
 *	b.hs 1f
 *	mov w2', w3'
 *	add t1, t0, x2', lsl #3
 *	ldr t1, [t1, #8]		entry[index]
 *	cbz t1, 1f
 *	add x26, x26, #1
 *	br t1				lands on the target's bti j
 *  1:	mov R0, #-ENOENT
 */
enum { TAIL_DIRECT_WORDS = 5, TAIL_INDIRECT_WORDS = 12 };

/*
 * A direct slot reads neither R2 nor R3, and a helper call leaves them
 * unreadable (the verifier's rule), so the `r2 = map ll; r3 = key` right
 * before it (either order) are dead when nothing jumps between them and
 * the call: they get no code, which keeps a direct tail call at the
 * 4 words of its sequence.  Marks them in j->elide.
 */
static void elide_direct_args(struct jit *j)
{
	const struct bpf_insn *in = j->d->insns;

	for (size_t k = 0; k < j->d->nr_pokes; k++) {
		size_t i = j->d->pokes[k].insn, ld, mov;

		if (i < 3 || (j->mark[i] & MARK_TARGET) ||
		    (j->mark[i - 1] & MARK_TARGET) ||
		    (j->mark[i - 2] & MARK_TARGET))
			continue;
		if (in[i - 3].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			ld = i - 3;
			mov = i - 1;
		} else {
			mov = i - 3;
			ld = i - 2;
		}
		if (in[ld].code != (BPF_LD | BPF_IMM | BPF_DW) ||
		    in[ld].dst_reg != BPF_REG_2 || in[ld].src_reg ||
		    in[mov].code != (BPF_ALU64 | BPF_MOV | BPF_K) ||
		    in[mov].dst_reg != BPF_REG_3 || in[mov].off ||
		    (ld == i - 3 && (j->mark[ld + 1] & MARK_TARGET)))
			continue;
		j->elide[ld] = j->elide[ld + 1] = j->elide[mov] = 1;
	}
}

static void emit_tail_call(struct jit *j, size_t i)
{
	const struct bpf_jit_desc *d = j->d;
	enum a64_reg map = j->reg[BPF_REG_2], idx = j->reg[BPF_REG_3];
	uint32_t start = j->a.idx;

	if (!(j->fn[j->cur_func] & FN_TAIL)) {	/* a subprogram: never */
		emit_tail_miss(j);
		return;
	}
	if (j->poke_of[i] >= 0) {
		emit(j, a64_cmp_imm(A64_64, TCC, BPF_JIT_MAX_TAIL_CALLS));
		a64_emit_b_cond(&j->a, A64_COND_HS,
				word_pc(j, start + TAIL_DIRECT_WORDS));
		emit(j, a64_add_imm(A64_64, TCC, TCC, 1));
		if (!a64_ctx_sizing(&j->a))
			d->pokes[j->poke_of[i]].slot = j->a.idx;
		emit(j, A64_NOP);
		emit(j, a64_sub_imm(A64_64, TCC, TCC, 1));
		emit_tail_miss(j);
		return;
	}
	emit_ldst(j, A64_LOAD, A64_LS_X, TMP0, map, (int16_t)d->tail_off);
	emit_ldst(j, A64_LOAD, A64_LS_W, TMP1, TMP0, 0);
	emit(j, a64_cmp(A64_32, idx, TMP1));
	a64_emit_b_cond(&j->a, A64_COND_HS,
			word_pc(j, start + TAIL_INDIRECT_WORDS));
	emit(j, a64_cmp_imm(A64_64, TCC, BPF_JIT_MAX_TAIL_CALLS));
	a64_emit_b_cond(&j->a, A64_COND_HS,
			word_pc(j, start + TAIL_INDIRECT_WORDS));
	emit(j, a64_mov(A64_32, TMP2, idx));
	emit(j, a64_addsub_shifted(A64_ADD, A64_64, TMP1, TMP0, TMP2,
				   A64_LSL, 3));
	emit_ldst(j, A64_LOAD, A64_LS_X, TMP1, TMP1,
		  offsetof(struct bpf_jit_tail_array, entry));
	a64_emit_cbz(&j->a, A64_64, TMP1,
		     word_pc(j, start + TAIL_INDIRECT_WORDS));
	emit(j, a64_add_imm(A64_64, TCC, TCC, 1));
	emit(j, a64_br(TMP1));
	emit_tail_miss(j);
}

/* ---------------------------------------------------------------------
 * One instruction
 * --------------------------------------------------------------------- */

/* Returns the number of BPF instructions consumed (2 for ld_imm64). */
static size_t emit_insn(struct jit *j, size_t i)
{
	const struct bpf_insn *in = &j->d->insns[i];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	enum a64_reg dst = j->reg[in->dst_reg], src = j->reg[in->src_reg];

	if (j->elide[i])
		return cls == BPF_LD ? 2 : 1;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		emit_alu(j, i);
		return 1;
	case BPF_LD:	/* ld_imm64, in run form: a plain 64-bit value */
		if (in->src_reg == BPF_PSEUDO_FUNC)
			emit_func_addr(j, dst, i + 1 + in->imm);
		else
			emit_mov_imm(j, A64_64, dst, (uint32_t)in[0].imm |
				     (uint64_t)(uint32_t)in[1].imm << 32);
		return 2;
	case BPF_LDX:
		emit_ldst(j, BPF_MODE(in->code) == BPF_MEMSX ? A64_LOAD_SX :
			  A64_LOAD, ldst_size(in->code), dst, src, in->off);
		return 1;
	case BPF_ST:
		if (in->imm) {
			emit_mov_imm(j, A64_64, TMP0,
				     (uint64_t)(int64_t)in->imm);
			src = TMP0;
		} else {
			src = A64_ZR;
		}
		emit_ldst(j, A64_STORE, ldst_size(in->code), src, dst,
			  in->off);
		return 1;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC)
			emit_atomic(j, in);
		else
			emit_ldst(j, A64_STORE, ldst_size(in->code), src, dst,
				  in->off);
		return 1;
	}

	/* BPF_JMP, BPF_JMP32 */
	enum a64_width w = cls == BPF_JMP ? A64_64 : A64_32;

	switch (op) {
	case BPF_JA: {
		int64_t rel = cls == BPF_JMP32 ? in->imm : in->off;

		/* a static branch that starts off: the nop of nop <-> b */
		if (in->src_reg & FTRAMP_BPF_STATIC_BRANCH_NOP)
			emit(j, A64_NOP);
		else
			a64_emit_b(&j->a, word_pc(j, j->prev[i + 1 + rel]));
		return 1;
	}
	case FTRAMP_BPF_JCOND:	/* may_goto: a static branch, off */
		emit(j, A64_NOP);
		return 1;
	case BPF_EXIT:
		emit_exit(j, i);
		return 1;
	case BPF_CALL:
		if (in->src_reg == BPF_PSEUDO_CALL) {
			size_t t = i + 1 + in->imm;

			a64_emit_bl(&j->a, word_pc(j, j->prev_func[t]));
		} else if (in->imm == BPF_FUNC_tail_call) {
			emit_tail_call(j, i);
			return 1;
		} else {
			emit_helper_call(j, in->imm);
		}
		emit(j, a64_mov(A64_64, j->reg[BPF_REG_0], A64_R0));
		return 1;
	}

	if (BPF_SRC(in->code) == BPF_X) {
		if (op == BPF_JSET)
			emit(j, a64_logic_shifted(A64_ANDS, w, A64_ZR, dst,
						  src, A64_LSL, 0));
		else
			emit(j, a64_cmp(w, dst, src));
	} else {
		emit_cmp_imm(j, w, op, dst, in->imm);
	}
	emit_cond_branch(j, i, jmp_cond(op), i + 1 + in->off);
	return 1;
}

/* The shared epilogue (a leaf has its epilogue at each exit). */
static void close_function(struct jit *j)
{
	j->epi[j->cur_func] = j->a.idx;
	if (!is_leaf(j))
		emit_epilogue(j);
}

/* One pass over the whole array (sizing when j->a.image is NULL). */
static void emit_pass(struct jit *j)
{
	const struct bpf_jit_desc *d = j->d;

	for (size_t i = 0; i < d->n;) {
		if (j->prev_func[i] != UINT32_MAX) {
			/* a new function: close the one before */
			if (i)
				close_function(j);
			j->cur_func = i;
			j->reg = is_leaf(j) ? bpf2a64_leaf : bpf2a64;
			j->func[i] = j->a.idx;
			emit_prologue(j);
		}
		j->offset[i] = j->a.idx;
		size_t used = emit_insn(j, i);

		if (used == 2 && i + 1 < d->n)
			j->offset[i + 1] = j->a.idx;
		i += used;
	}
	close_function(j);
	j->offset[d->n] = j->a.idx;
}

/*
 * The interpreter gives up (-E2BIG) past BPF_MAX_CALL_DEPTH frames at run
 * time; native frames have no such check, so a call graph that could go
 * deeper, or a recursive one, is refused here (the verifier's job, once
 * it exists: the kernel's refuses recursion and bounds the depth).
 * Returns the most frames a call from function f can stack, or > MAX.
 */
enum { MAX_FRAMES = 8 };

static int frames_from(const struct jit *j, size_t f, int *memo,
		       uint8_t *busy)
{
	int most = 1;

	if (memo[f])
		return memo[f];
	if (busy[f])
		return MAX_FRAMES + 1;	/* a cycle */
	busy[f] = 1;
	for (size_t i = f; i < j->d->n; i++) {
		const struct bpf_insn *in = &j->d->insns[i];

		if (i > f && j->prev_func[i] != UINT32_MAX)
			break;
		if (in->code == (BPF_JMP | BPF_CALL) &&
		    in->src_reg == BPF_PSEUDO_CALL) {
			int k = 1 + frames_from(j, i + 1 + in->imm, memo, busy);

			if (k > most)
				most = k;
			if (most > MAX_FRAMES)
				break;
		}
	}
	busy[f] = 0;
	memo[f] = most;
	return most;
}

/*
 * What each function uses (FN_*: its frame) and where jumps land
 * (MARK_*), from the instructions alone, before any pass.  A register
 * counts as used when an instruction names it in either field: more
 * than needed at times (a K form's src_reg is 0), never less.
 */
static void scan(struct jit *j)
{
	const struct bpf_insn *insns = j->d->insns;
	size_t n = j->d->n, f = 0;

	for (size_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &insns[i];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		unsigned int regs = 1u << in->dst_reg | 1u << in->src_reg;

		if (j->prev_func[i] != UINT32_MAX) {
			f = i;
			j->mark[i] |= MARK_TARGET;
		}
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			regs = 1u << in->dst_reg;
			i++;
		} else if ((cls == BPF_JMP || cls == BPF_JMP32) &&
			   op == BPF_CALL) {
			j->fn[f] |= FN_CALLS;
			regs = 0;
		} else if ((cls == BPF_JMP || cls == BPF_JMP32) &&
			   op != BPF_EXIT) {
			int64_t t = (int64_t)i + 1 + (cls == BPF_JMP32 &&
				    op == BPF_JA ? in->imm : in->off);

			if (t >= 0 && t < (int64_t)n)
				j->mark[t] |= MARK_TARGET;
		}
		if (regs & (1u << BPF_REG_10))
			j->fn[f] |= FN_STACK;
		if (regs & (1u << BPF_REG_6 | 1u << BPF_REG_7))
			j->fn[f] |= FN_R67;
		if (regs & (1u << BPF_REG_8 | 1u << BPF_REG_9))
			j->fn[f] |= FN_R89;
	}
	if (j->d->flags & BPF_JIT_TAIL_FRAME)
		j->fn[j->d->entry] |= FN_TAIL | FN_CALLS | FN_STACK | FN_R67 |
				      FN_R89;
	/* mov r0, x; exit (not a jump target): the mov writes x0 */
	for (size_t i = 0; i + 1 < n; i++) {
		const struct bpf_insn *in = &insns[i];
		uint8_t cls = BPF_CLASS(in->code);

		if ((cls == BPF_ALU || cls == BPF_ALU64) &&
		    BPF_OP(in->code) == BPF_MOV && in->dst_reg == BPF_REG_0 &&
		    insns[i + 1].code == (BPF_JMP | BPF_EXIT) &&
		    !(j->mark[i + 1] & MARK_TARGET)) {
			j->mark[i] |= MARK_R0_IN_X0;
			j->mark[i + 1] |= MARK_R0_IN_X0;
		}
	}
}

static bool lse_present(void)
{
#ifdef __aarch64__
	return getauxval(AT_HWCAP) & HWCAP_ATOMICS;
#else
	/* A host build (ftramp prog --jited) shows the ARMv8.1 forms. */
	return true;
#endif
}

void bpf_jit_free(struct bpf_jit_image *img)
{
	if (!img)
		return;
	if (img->text.rx)
		ftramp_text_free(&img->text);
	free(img->offset);
	free(img->funcs);
	free(img->uw);
	memset(img, 0, sizeof(*img));
}

/*
 * The direct tail calls (d->pokes), the arguments they leave dead, and
 * the refusals: an indirect tail call needs d->tail_off, any tail call in
 * the entry function BPF_JIT_TAIL_FRAME.
 */
static int tail_setup(struct jit *j)
{
	const struct bpf_jit_desc *d = j->d;
	size_t n = d->n;

	j->poke_of = malloc(n * sizeof(*j->poke_of));
	j->elide = calloc(n, 1);
	if (!j->poke_of || !j->elide)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		j->poke_of[i] = -1;
	for (size_t k = 0; k < d->nr_pokes; k++) {
		const struct bpf_insn *in = d->pokes[k].insn < n ?
					    &d->insns[d->pokes[k].insn] : NULL;

		if (!in || in->code != (BPF_JMP | BPF_CALL) || in->src_reg ||
		    in->imm != BPF_FUNC_tail_call)
			return -EINVAL;
		j->poke_of[d->pokes[k].insn] = (int32_t)k;
	}
	elide_direct_args(j);
	for (size_t i = 0, f = 0; i < n; i++) {
		const struct bpf_insn *in = &d->insns[i];

		if (j->prev_func[i] != UINT32_MAX)
			f = i;
		if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg ||
		    in->imm != BPF_FUNC_tail_call || !(j->fn[f] & FN_TAIL))
			continue;
		if (j->poke_of[i] < 0 && !d->tail_off)
			return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < n; i++)
		if (d->insns[i].code == (BPF_JMP | BPF_CALL) &&
		    !d->insns[i].src_reg &&
		    d->insns[i].imm == BPF_FUNC_tail_call &&
		    !(d->flags & BPF_JIT_TAIL_FRAME))
			return -EOPNOTSUPP;
	return 0;
}

int bpf_jit_compile(const struct bpf_jit_desc *d, struct bpf_jit_image *img)
{
	struct jit j = { .d = d };
	size_t n = d->n, words = 6 * (n + 1);
	uint32_t *mem;
	int err = 0;

	memset(img, 0, sizeof(*img));
	if (!n || d->entry >= n || !d->helper)
		return -EINVAL;
	mem = calloc(words, sizeof(uint32_t));
	j.long_br = calloc(3 * (n + 1), 1);
	if (!mem || !j.long_br) {
		free(mem);
		free(j.long_br);
		return -ENOMEM;
	}
	j.fn = j.long_br + (n + 1);
	j.mark = j.long_br + 2 * (n + 1);
	j.offset = mem;
	j.prev = mem + (n + 1);
	j.func = mem + 2 * (n + 1);
	j.prev_func = mem + 3 * (n + 1);
	j.epi = mem + 4 * (n + 1);
	j.prev_epi = mem + 5 * (n + 1);
	j.lse = lse_present() && !(d->flags & BPF_JIT_NO_LSE);

	/*
	 * Function starts: 0, the entry, every bpf-to-bpf call target and
	 * every callback (bpf_loop) whose address is taken.
	 */
	for (size_t i = 0; i <= n; i++)
		j.prev_func[i] = j.func[i] = UINT32_MAX;
	j.prev_func[0] = j.prev_func[d->entry] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &d->insns[i];
		int64_t t = (int64_t)i + 1 + in->imm;

		if ((in->code == (BPF_JMP | BPF_CALL) &&
		     in->src_reg == BPF_PSEUDO_CALL) ||
		    (in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
		     in->src_reg == BPF_PSEUDO_FUNC)) {
			if (t < 0 || t >= (int64_t)n) {
				err = -EINVAL;
				goto out;
			}
			j.prev_func[t] = 0;
		}
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
			i++;
	}
	memcpy(j.func, j.prev_func, (n + 1) * sizeof(uint32_t));
	scan(&j);
	err = tail_setup(&j);
	if (err)
		goto out;
	{
		int *memo = calloc(n, sizeof(int));
		uint8_t *busy = calloc(n, 1);

		/* each callback runs from a bpf_loop() with frames anew */
		for (size_t f = 0; !err && f < n; f++) {
			if (j.prev_func[f] == UINT32_MAX)
				continue;
			err = !memo || !busy ? -ENOMEM :
			      frames_from(&j, f, memo, busy) > MAX_FRAMES ?
			      -EOPNOTSUPP : 0;
		}
		free(memo);
		free(busy);
		if (err)
			goto out;
	}

	/*
	 * A bounding pass, every choice at its longest, sizes the chunk;
	 * then the image's place is known to the passes that choose: whether
	 * a helper is within bl, how a callback's address is formed.
	 */
	j.pessimistic = true;
	a64_ctx_init(&j.a, NULL, 0, 0);
	emit_pass(&j);
	j.pessimistic = false;
	if (j.a.err) {
		err = j.a.err;
		goto out;
	}
	j.cap = j.a.idx;
	j.adr = (uint64_t)j.cap * 4 < (1u << 20);
	err = ftramp_text_alloc(&img->text, (size_t)j.cap * 4, d->near,
				(d->flags & BPF_JIT_FAR ? FTRAMP_TEXT_FAR : 0) |
				FTRAMP_TEXT_BTI);
	if (err)
		err = ftramp_text_alloc(&img->text, (size_t)j.cap * 4,
					d->near, d->flags & BPF_JIT_FAR ?
					FTRAMP_TEXT_FAR : 0);
	if (err)
		goto out;

	/* Sizing passes until the offsets are stable. */
	for (img->passes = 1;; img->passes++) {
		a64_ctx_init(&j.a, NULL, (uintptr_t)img->text.rx, 0);
		emit_pass(&j);
		if (j.a.err) {
			err = j.a.err;
			goto out;
		}
		if (!memcmp(j.offset, j.prev, (n + 1) * sizeof(uint32_t)) &&
		    !memcmp(j.func, j.prev_func, (n + 1) * sizeof(uint32_t)) &&
		    !memcmp(j.epi, j.prev_epi, (n + 1) * sizeof(uint32_t)))
			break;
		if (img->passes > 64) {	/* growth is monotonic: never */
			err = -EINVAL;
			goto out;
		}
		memcpy(j.prev, j.offset, (n + 1) * sizeof(uint32_t));
		memcpy(j.prev_func, j.func, (n + 1) * sizeof(uint32_t));
		memcpy(j.prev_epi, j.epi, (n + 1) * sizeof(uint32_t));
	}

	img->len = j.a.idx;
	if (img->len > j.cap) {	/* the bound is a bound: never */
		err = -E2BIG;
		goto out;
	}

	/* The writing pass: with the final offsets, into the rw view. */
	for (size_t i = 0; i < n; i++)
		j.cap_uw += (j.func[i] != UINT32_MAX ? UW_PER_FUNC : 0) +
			    (d->insns[i].code == (BPF_JMP | BPF_EXIT) ?
			     UW_PER_EXIT : 0);
	j.uw_v = calloc(j.cap_uw, sizeof(*j.uw_v));
	if (!j.uw_v) {
		err = -ENOMEM;
		goto out;
	}
	a64_ctx_init(&j.a, img->text.rw, (uintptr_t)img->text.rx, img->len);
	emit_pass(&j);
	if (!j.a.err && (j.a.idx != img->len ||
			 memcmp(j.offset, j.prev, (n + 1) * sizeof(uint32_t))))
		j.a.err = -E2BIG;	/* the last pass must match the sizing */
	err = j.a.err;
	if (!err)
		err = ftramp_text_trim(&img->text, (size_t)img->len * 4);
	if (!err)
		err = ftramp_text_publish(&img->text);
	if (err)
		goto out;
	img->entry = word_pc(&j, j.func[d->entry]);
	if (j.fn[d->entry] & FN_TAIL)
		img->tail = word_pc(&j, j.tail);
	img->n = n;
	img->offset = malloc((n + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		img->nr_funcs += j.func[i] != UINT32_MAX;
	img->funcs = calloc(img->nr_funcs, sizeof(*img->funcs));
	if (!img->offset || !img->funcs) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(img->offset, j.offset, (n + 1) * sizeof(uint32_t));
	img->uw = j.uw_v;
	img->nr_uw = j.nr_uw;
	j.uw_v = NULL;
	for (size_t i = 0, k = 0; i < n; i++) {
		struct bpf_jit_func *f = &img->funcs[k];

		if (j.func[i] == UINT32_MAX)
			continue;
		f->insn = (uint32_t)i;
		f->start = j.func[i];
		f->body = j.offset[i];
		f->epilogue = j.epi[i];
		if (k)
			f[-1].end = f->start;
		f->end = img->len;
		k++;
	}
out:
	free(mem);
	free(j.long_br);
	free(j.uw_v);
	free(j.poke_of);
	free(j.elide);
	if (err)
		bpf_jit_free(img);
	return err;
}
