// SPDX-License-Identifier: MIT
/*
 * The arm64 trampoline emitter (pure: builds for the host under ASan).
 *
 * One image turns a native AAPCS64 call into the BPF-style ctx, runs the
 * fentry, fmod_ret and fexit programs around the original function, and
 * returns to the caller with the original's (or the overriding) result in
 * the registers AAPCS64 6.9 names.  Documentation/trampoline.rst has the
 * whole story; the frame is drawn above compute_frame().
 *
 * Emission is done in passes over the same code (STYLE.md, "Two-pass
 * emission"):
 *
 *  1. sizing: no buffer, no address: every call is assumed far (literal +
 *     BLR), which bounds the image;
 *  2. layout: no buffer, the real execute address: calls that reach
 *     become BL; labels, the literal pool and the run contexts get their
 *     final positions;
 *  3. write: the same as 2 into the buffer, checking every label lands
 *     where pass 2 put it.
 *
 * Registers: x9-x15 are free in the trampoline (AAPCS64 6.1.1:
 * temporaries; x9 is saved in the frame record before anything else),
 * x16/x17 (IP0/IP1) are the far-call and exclusive-monitor scratch.
 * Arguments live in x0-x8 and v0-v7 until saved.  With an image state,
 * x12 holds its address (the in-flight counter and ctx[-1]) around the
 * increment and the decrement.  With a recursion guard, x19 holds this
 * thread's guard table from entry to exit: it is callee-saved (AAPCS64
 * 6.1.1), so it survives the programs and the original, and the caller's
 * x19 waits in ctx[-2].
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/arm64/abi.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/trampoline.h"

#define MAX_LITS	(3 * FTRAMP_TRAMP_MAX_PROGS + 8 + \
			 2 * FTRAMP_TRAMP_MAX_COUNTERS)
#define MAX_RUN_CTX	(3 * FTRAMP_TRAMP_MAX_PROGS)
#define BL_REACH	(128ll << 20)	/* imm26 words (Arm ARM C6.2 BL) */

#define TMP0	A64_R10
#define TMP1	A64_R11
#define TMP2	A64_R12
#define R_STATE	A64_R12		/* &state->inflight == &state->rctx */
#define R_GUARD	A64_R19		/* this thread's guard table (callee-saved) */
#define R_DEC	A64_R14		/* -FTRAMP_INFLIGHT_UNIT */
#define R_INC	A64_R15		/* the guard byte: FTRAMP_GUARD_FREE */

/* cur_rctx values besides an index into rctx[] */
#define RCTX_NONE	(-1)	/* not stored, or unknown at a join */
#define RCTX_STATE	(-2)	/* ctx[-1] = the state's run context */

enum tramp_label {
	L_DO_FEXIT,	/* after the original: fmod_ret skips to here */
	L_OUT,		/* in-flight decrement, restore, return */
	L_MISS,		/* guard byte busy: a table yet? (not counted in) */
	L_COUNT,	/* recursion guard: count in, then as L_MISSED */
	L_MISSED,	/* counted in: a miss, run the original bare */
	L_SLOW,		/* no guard table yet: count in, then guard_slow() */
	L_TAKEN,	/* guard taken and counted in: the programs */
	L_UNCOUNT,	/* return hook: guard_slow() failed, count out */
	L_SKIP,		/* unknown model: fmod_ret skipped the original */
	L_PRUNE,	/* entry: the top shadow record may be dead */
	L_PRUNED,
	L_HOOK_FULL,	/* shadow stack full: count a miss, run bare */
	L_STUB,		/* the exit stub: the hooked body returns here */
	L_STUB_SLOW,	/* its record is not on top */
	L_STUB_HAVE,	/* its record's header in x10 */
	L_SHADOW_ENTER,	/* modelled: top record maybe dead, or no room */
	L_SHADOW_PUSH,	/* modelled: push our record (x10 = top) */
	L_SHADOW_PUSHED,
	L_SHADOW_SLOW,	/* modelled: our record not on top at exit */
	L_SHADOW_POPPED,
	L_HIST_PUSH,	/* histogram entry: room, x10 table, x11 top, x14 SP */
	NR_LABELS,
};

struct tramp {
	struct a64_ctx a;
	const struct ftramp_tramp_args *args;
	struct a64_abi_layout lay;
	bool addr_known;	/* a.ro_base is the real execute address */
	bool site;		/* entered from a patched site (x9, x30) */
	bool to_parent;		/* return to the caller, not into the body */
	bool call_orig;
	bool guard;		/* recursion guard emitted */
	bool counters;		/* in-flight and miss counters emitted */
	bool hook;		/* unknown model: the return hook, no copy */
	bool shadow;		/* modelled fexit: a shadow record per call */
	bool session;		/* zero the session cookie at entry */
	bool count_only;	/* FTRAMP_COUNT counters, no program */
	bool hist;		/* FTRAMP_HIST: the lean return hook */
	bool lse;
	uint64_t orig;		/* what CALL_ORIG calls, or the body */
	uint64_t state_cookie;	/* programs with it use state->rctx */

	/* Frame offsets from SP after the prologue (compute_frame()). */
	unsigned int copy_size;		/* stack arguments for the original */
	unsigned int rec_off;		/* the frame record */
	unsigned int frame_size;	/* SP moves by this much */
	unsigned int runctx_off;	/* ctx[-1] */
	unsigned int ctx_off;		/* ctx[0] */
	unsigned int ret_off;		/* ctx[nr_arg_slots] */
	unsigned int x8_off;		/* unknown model: x8 */
	unsigned int x19_off;		/* the caller's x19, ctx[-2] */
	unsigned int session_off;	/* the session cookie, ctx[-3] */
	unsigned int fpsave_off;	/* unknown model: q0-q7 */
	unsigned int retsave_off;	/* unknown model: x1-x8 result */
	unsigned int entry_sp_off;	/* the caller's SP, from SP */
	unsigned int pop_held;		/* unwind rows' held at the pop */

	uint32_t label[NR_LABELS];	/* word index, from the last pass */
	uint64_t lits[MAX_LITS];
	unsigned int nr_lits;
	uint32_t pool_idx;		/* word index of the literal pool */
	struct ftramp_run_ctx rctx[MAX_RUN_CTX];
	unsigned int nr_rctx;
	uint32_t rctx_idx;		/* word index of the run contexts */
	int cur_rctx;			/* at ctx[-1]: RCTX_* or index */

	struct ftramp_tramp_note *notes;	/* args->notes, write pass */
	unsigned int nr_notes;

	struct a64_uw_row uw;		/* the unwind rules in effect here */
	struct a64_uw_row uw_body;	/* ... once the frame is up */
	struct a64_uw_row uw_stub;	/* the exit stub's, its record unfound */
};

static bool writing(const struct tramp *t)
{
	return t->a.image != NULL;
}

/* Raw data words (literals, run contexts): never checked as code. */
static void emit_word(struct tramp *t, uint32_t w)
{
	if (t->a.image) {
		if (t->a.max_insns && t->a.idx >= t->a.max_insns)
			a64_ctx_error(&t->a, -E2BIG);
		else
			t->a.image[t->a.idx] = w;
	}
	t->a.idx++;
}

static void emit(struct tramp *t, uint32_t insn)
{
	a64_emit(&t->a, insn);
}

/* Record where a part starts (write pass, when asked: args->notes). */
static void note_prog(struct tramp *t, enum ftramp_tramp_part part,
		      unsigned int kind, unsigned int index)
{
	struct ftramp_tramp_notes *n = t->args->notes;

	if (!writing(t) || !n)
		return;
	if (n->nr < n->cap && n->v)
		n->v[n->nr] = (struct ftramp_tramp_note){
			.off = t->a.idx * A64_INSN_SIZE, .part = part,
			.kind = kind, .index = index,
		};
	n->nr++;
}

static void note(struct tramp *t, enum ftramp_tramp_part part)
{
	note_prog(t, part, 0, 0);
}

/*
 * Say what the next instruction does (write pass, args->insns).  A note
 * said twice for one instruction keeps the last; an automatic one
 * (ctx slots, from the offset alone: say_sp()) never replaces one said
 * by the caller.
 */
static void say_insn(struct tramp *t, struct ftramp_tramp_insn n, bool weak)
{
	struct ftramp_tramp_insns *v = t->args->insns;

	if (!writing(t) || !v)
		return;
	n.off = t->a.idx * A64_INSN_SIZE;
	if (v->nr && v->nr <= v->cap && v->v && v->v[v->nr - 1].off == n.off) {
		if (!weak)
			v->v[v->nr - 1] = n;
		return;
	}
	if (v->nr < v->cap && v->v)
		v->v[v->nr] = n;
	v->nr++;
}

static void say_how(struct tramp *t, enum ftramp_insn_what what,
		    enum ftramp_insn_how how)
{
	say_insn(t, (struct ftramp_tramp_insn){ .what = what, .how = how },
		 false);
}

static void say(struct tramp *t, enum ftramp_insn_what what)
{
	say_how(t, what, FTRAMP_INSN_PLAIN);
}

/*
 * A load or store at [sp + off], nslots 8-byte words: what lives there
 * is the frame's, so the emitter names it from the offset (the frame
 * drawn above compute_frame()).
 */
static void say_sp(struct tramp *t, enum a64_ldst_op op, unsigned int off,
		   unsigned int nslots)
{
	struct ftramp_tramp_insn n = {
		.how = op == A64_STORE ? FTRAMP_INSN_SAVE : FTRAMP_INSN_LOAD,
	};
	unsigned int ctx_end = t->ret_off + 8 * t->lay.nr_ret_slots;

	if (t->count_only)
		return;
	if (off >= t->session_off && off < ctx_end) {
		n.what = FTRAMP_INSN_SLOT;
		n.slot = (int16_t)((off - t->session_off) / 8) - 3;
		n.nslots = (uint8_t)nslots;
	} else if (t->lay.unknown && off == t->x8_off) {
		n.what = FTRAMP_INSN_X8;
	} else if (t->lay.unknown && off >= t->fpsave_off &&
		   off < t->fpsave_off + 8 * 16) {
		n.what = FTRAMP_INSN_VREGS;
	} else if (t->lay.unknown && off >= t->retsave_off &&
		   off < t->retsave_off + 8 * 8) {
		n.what = FTRAMP_INSN_RET_REGS;
	} else if (off == t->rec_off + 8) {
		n.what = FTRAMP_INSN_CALLER_RA;
	} else if (off >= t->entry_sp_off) {
		n.what = FTRAMP_INSN_STACK_ARG;
		n.how = FTRAMP_INSN_LOAD;
	} else {
		return;
	}
	say_insn(t, n, true);
}

/* ------------------------------------------------------------------
 * Unwind rows (args->unwind, write pass): each change of what an
 * unwinder needs (where the CFA, the return address, x29 and the
 * caller's x19 are; what the frame holds) is recorded where it takes
 * effect, i.e. at the instruction after the one that makes it.  The
 * frame layout is nobody else's to re-derive: arch/arm64/eh_frame.c
 * encodes these rows, trampoline/unwind.c's personality reads `held`.
 * ------------------------------------------------------------------ */

static void uw_commit(struct tramp *t)
{
	struct a64_uw_rows *u = t->args->unwind;
	struct a64_uw_row r = t->uw;

	if (!writing(t) || !u)
		return;
	r.off = t->a.idx * A64_INSN_SIZE;
	if (u->nr && u->nr <= u->cap && u->v) {
		struct a64_uw_row *last = &u->v[u->nr - 1];

		if (last->off == r.off) {
			*last = r;
			return;
		}
		r.off = last->off;
		if (!memcmp(last, &r, sizeof(r)))
			return;
		r.off = t->a.idx * A64_INSN_SIZE;
	}
	if (u->nr < u->cap && u->v)
		u->v[u->nr] = r;
	u->nr++;
}

/* At entry: CFA = SP, the return address in x9 (a site) or x30. */
static void uw_entry(struct tramp *t)
{
	memset(&t->uw, 0, sizeof(t->uw));
	t->uw.cfa_reg = A64_DW_SP;
	t->uw.ra_reg = t->site ? A64_R9 : A64_LR;
	uw_commit(t);
}

/* SP moved down by the frame: CFA = SP + frame_size. */
static void uw_sp_down(struct tramp *t)
{
	t->uw.cfa_off = t->frame_size;
	uw_commit(t);
}

/* The record holds x29 and the return address. */
static void uw_record_saved(struct tramp *t)
{
	t->uw.fp_at = (int32_t)t->rec_off - (int32_t)t->frame_size;
	t->uw.ra_at = t->uw.fp_at + 8;
	uw_commit(t);
}

/* x29 = the record: CFA = x29 + what lies above it. */
static void uw_fp_set(struct tramp *t)
{
	t->uw.cfa_reg = A64_DW_FP;
	t->uw.cfa_off = t->frame_size - t->rec_off;
	t->uw_body = t->uw;
	uw_commit(t);
}

/* The caller's x19 in ctx[-2] (saved) or back in x19. */
static void uw_x19(struct tramp *t, bool saved)
{
	t->uw.saved_at[A64_UW_SAVED(19)] =
		saved ? (int32_t)t->x19_off - (int32_t)t->frame_size : 0;
	uw_commit(t);
}

static void uw_held(struct tramp *t, unsigned int set, unsigned int clear)
{
	t->uw.held = (uint8_t)((t->uw.held | set) & ~clear);
	uw_commit(t);
}

/* After `ldp x29, x30`: both live again; CFA = SP + what is still up. */
static void uw_frame_popped(struct tramp *t, unsigned int still_up)
{
	t->uw.cfa_reg = A64_DW_SP;
	t->uw.cfa_off = still_up;
	t->uw.fp_at = 0;
	t->uw.ra_at = 0;
	t->uw.ra_reg = A64_LR;
	uw_commit(t);
}

/* The return hook's pop: like uw_frame_popped(), the return address in x17. */
static void uw_hook_popped(struct tramp *t, unsigned int still_up)
{
	t->uw.cfa_reg = A64_DW_SP;
	t->uw.cfa_off = still_up;
	t->uw.fp_at = 0;
	t->uw.ra_at = 0;
	t->uw.ra_reg = A64_IP1;
	uw_commit(t);
}

/*
 * The exit stub before it has the real return address: CFA = SP +
 * cfa_off, x29 saved at fp_at (0: live), the return address out of
 * reach of any row (trampoline/unwind.c answers for the stub itself).
 */
static void uw_stub(struct tramp *t, unsigned int cfa_off, int32_t fp_at)
{
	memset(&t->uw, 0, sizeof(t->uw));
	t->uw.cfa_reg = A64_DW_SP;
	t->uw.cfa_off = cfa_off;
	t->uw.fp_at = fp_at;
	t->uw.ra_reg = A64_UW_RA_UNDEF;
	uw_commit(t);
}

/* Out-of-line code after the return runs in the frame of the body. */
static void uw_body(struct tramp *t, bool x19_saved, unsigned int held)
{
	t->uw = t->uw_body;
	t->uw.held = (uint8_t)held;
	t->uw.saved_at[A64_UW_SAVED(19)] =
		x19_saved ? (int32_t)t->x19_off - (int32_t)t->frame_size : 0;
	uw_commit(t);
}

static uint64_t label_addr(const struct tramp *t, enum tramp_label l)
{
	return a64_ctx_pc_at(&t->a, t->label[l]);
}

static void bind(struct tramp *t, enum tramp_label l)
{
	/* Pass 3 must put every label where pass 2 did. */
	if (writing(t) && t->label[l] != t->a.idx)
		a64_ctx_error(&t->a, -EFAULT);
	t->label[l] = t->a.idx;
}

/* Literal i sits at pool_idx + 2 * i (8-byte aligned: rx is). */
static uint64_t lit_addr(struct tramp *t, uint64_t val)
{
	unsigned int i;

	for (i = 0; i < t->nr_lits; i++)
		if (t->lits[i] == val)
			break;
	if (i == t->nr_lits) {
		if (t->nr_lits == MAX_LITS) {
			a64_ctx_error(&t->a, -E2BIG);
			return 0;
		}
		t->lits[t->nr_lits++] = val;
	}
	return a64_ctx_pc_at(&t->a, t->pool_idx + 2 * i);
}

/* ldr xN, =val (one instruction and a literal). */
static void emit_ldr_lit(struct tramp *t, enum a64_reg rd, uint64_t val)
{
	a64_emit_ldr_lit(&t->a, A64_LS_X, rd, lit_addr(t, val));
}

static bool reaches(const struct tramp *t, uint64_t target)
{
	int64_t d = (int64_t)(target - a64_ctx_pc(&t->a));

	return t->addr_known && !(target & 3) &&
	       d >= -BL_REACH && d < BL_REACH;
}

/*
 * Call a C function (a program, a helper): bl, or ldr x16 + blr x16.
 * @what names it (a program: kind and index in @n).
 */
static void emit_call_n(struct tramp *t, uint64_t target,
			struct ftramp_tramp_insn n)
{
	if (!reaches(t, target)) {
		n.how = FTRAMP_INSN_LIT;
		say_insn(t, n, false);
		emit_ldr_lit(t, A64_IP0, target);
		n.how = FTRAMP_INSN_CALL;
		say_insn(t, n, false);
		emit(t, a64_blr(A64_IP0));
		return;
	}
	n.how = FTRAMP_INSN_CALL;
	say_insn(t, n, false);
	a64_emit_bl(&t->a, target);
}

static void emit_call(struct tramp *t, uint64_t target,
		      enum ftramp_insn_what what)
{
	emit_call_n(t, target, (struct ftramp_tramp_insn){ .what = what });
}

/*
 * Call the original's body at a patched site.  It is not a function
 * entry, so with BTI it is no landing pad: reach it with BL (a direct
 * branch never checks BTYPE), or from afar with RET, which "does not set
 * BTYPE" either (Arm ARM D8.4.1 "PSTATE.BTYPE"), x30 set by hand.  A
 * body the caller knows unguarded (FTRAMP_TRAMP_F_ORIG_UNGUARDED: no
 * PROT_BTI page, so BTYPE is never checked there) takes a plain BLR, one
 * instruction less:
 *
 *	ldr x16, =body			ldr x16, =body
 *	blr x16				adr x30, 1f
 *					ret x16
 *				1:
 */
static void emit_call_body(struct tramp *t, uint64_t target)
{
	if (reaches(t, target) ||
	    (t->args->flags & FTRAMP_TRAMP_F_ORIG_UNGUARDED)) {
		emit_call(t, target, FTRAMP_INSN_ORIG);
		return;
	}
	say_how(t, FTRAMP_INSN_ORIG, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_IP0, target);
	/* adr x30, <after the ret> */
	say(t, FTRAMP_INSN_ORIG_RA);
	a64_emit_adr(&t->a, A64_LR, a64_ctx_pc(&t->a) + 2 * A64_INSN_SIZE);
	say_how(t, FTRAMP_INSN_ORIG, FTRAMP_INSN_JUMP);
	emit(t, a64_ret_reg(A64_IP0));
}

/* add rd, sp, #off (off may exceed 4095 only in theory: frames are small) */
static void emit_add_sp(struct tramp *t, enum a64_reg rd, unsigned int off)
{
	emit(t, a64_add_imm(A64_64, rd, A64_SP, off));
}

/* str/ldr of one 8-byte slot. */
static void emit_ldst_x(struct tramp *t, enum a64_ldst_op op,
			enum a64_reg rt, unsigned int off)
{
	say_sp(t, op, off, 1);
	emit(t, a64_ldst_imm(op, A64_LS_X, rt, A64_SP, off, A64_OFFSET));
}

/*
 * A pair of 8-byte slots when STP/LDP encode the offset (signed 7 bits
 * scaled by 8: up to 504), else two single accesses.
 */
static void emit_ldstp_x(struct tramp *t, enum a64_ldst_op op,
			 enum a64_reg r1, enum a64_reg r2, unsigned int off)
{
	if (off <= 504 && !(op == A64_LOAD && r1 == r2)) {
		say_sp(t, op, off, 2);
		emit(t, a64_ldstp(op, A64_LS_X, r1, r2, A64_SP, off,
				  A64_OFFSET));
		return;
	}
	emit_ldst_x(t, op, r1, off);
	emit_ldst_x(t, op, r2, off + 8);
}

/*
 * One FP/SIMD register of `bytes` (4, 8, 16) at [sp + off].  A Q access
 * scales its offset by 16: an unaligned slot goes through TMP0.
 */
static void emit_ldst_v(struct tramp *t, enum a64_ldst_op op,
			unsigned int vreg, unsigned int bytes, unsigned int off)
{
	enum a64_ldst_size sz = bytes == 4 ? A64_LS_S :
				bytes == 8 ? A64_LS_D : A64_LS_Q;

	say_sp(t, op, off, bytes > 8 ? 2 : 1);
	if (sz == A64_LS_Q && off % 16) {
		emit_add_sp(t, TMP0, off);
		say_sp(t, op, off, 2);
		emit(t, a64_ldst_imm(op, sz, A64_R(vreg), TMP0, 0,
				     A64_OFFSET));
		return;
	}
	emit(t, a64_ldst_imm(op, sz, A64_R(vreg), A64_SP, off, A64_OFFSET));
}

/* Widen an integer of `size` bytes in wN/xN to 64 bits into rd. */
static void emit_widen(struct tramp *t, enum a64_reg rd, enum a64_reg rn,
		       unsigned int size, bool is_signed)
{
	switch (size) {
	case 1:
		emit(t, is_signed ? a64_sxtb(A64_64, rd, rn) :
				    a64_uxtb(rd, rn));
		break;
	case 2:
		emit(t, is_signed ? a64_sxth(A64_64, rd, rn) :
				    a64_uxth(rd, rn));
		break;
	case 4:
		emit(t, is_signed ? a64_sxtw(rd, rn) : a64_uxtw(rd, rn));
		break;
	}
}

static bool is_narrow_int(const struct a64_arg_loc *l)
{
	return !l->byref && l->int_size && l->int_size < 8;
}

/* ------------------------------------------------------------------
 * Frame
 * ------------------------------------------------------------------ */

/*
 * The frame, after the prologue (entered from a patched site: x30 = the
 * body, x9 = the caller's return address):
 *
 *   entry SP + N   | caller's stack arguments  | AAPCS64: [SP + NSAA]
 *   entry SP ----> +---------------------------+ frame_size
 *                  | unknown: x1-x8 result     | retsave_off
 *                  | unknown: q0-q7 (args, or  | fpsave_off
 *                  |   the result after it)    |
 *                  | unknown: x8               | x8_off
 *                  | result slots              | ret_off  (ctx[nr_args])
 *                  | argument slots            | ctx_off  (ctx[0])
 *                  | state->rctx or image rctx | runctx_off (ctx[-1])
 *                  | the caller's x19          | x19_off (ctx[-2])
 *                  | the session cookie        | session_off (ctx[-3])
 *   x29 ---------> +---------------------------+ rec_off
 *                  | x9 (the caller's LR)      | the frame record
 *                  | x29 (the caller's FP)     |
 *                  +---------------------------+
 *                  | stack arguments copy      | 0 (for the original)
 *   SP ----------> +---------------------------+ 16-byte aligned
 *
 * One frame record (AAPCS64 6.2.3): an x29 walk from a program or from
 * the original reads program -> trampoline (the program's saved LR) ->
 * the traced function's caller (x9) -> ...: every caller in order, the
 * trampoline standing for the traced function.  (The kernel pushes a
 * second record with x30 so that the traced function is named too; that
 * costs three instructions per call, and an unwinder that knows the
 * image, like ftramp's, names the function from the trampoline's PC.)
 * With AS_FUNC the record holds x30.  Without stack arguments the record
 * is at SP: one `stp x29, x9, [sp, #-frame_size]!` builds the frame and
 * one `ldp x29, x30, [sp], #frame_size` takes it down.  The copy at SP
 * puts the stack arguments where the original expects them: at its entry
 * SP.  ctx[-2] and ctx[-1] are adjacent so that one STP saves the
 * caller's x19 (which then holds the guard table) and stores the run
 * context, and one LDP restores x19 and reloads the state on the way out.
 * ctx[-3] is the session cookie, one u64 per invocation that the fentry,
 * fmod_ret and fexit programs of one call share (the kernel's
 * bpf_session_cookie()): ftramp_get_session_cookie() is inline in the
 * public header, so every image has it at ctx[-3] (and ctx[-2] too,
 * unused without a guard); it is zeroed at entry with
 * FTRAMP_TRAMP_F_SESSION only, one store.
 */
static int compute_frame(struct tramp *t)
{
	const struct a64_abi_layout *lay = &t->lay;
	unsigned int off;

	/* The return hook calls nothing from this frame: no copy. */
	if (t->call_orig && !t->hook)
		t->copy_size = lay->unknown ? FTRAMP_UNKNOWN_STACK_BYTES :
					      lay->stack_size;
	t->rec_off = t->copy_size;
	off = t->rec_off + 16;
	t->session_off = off;
	off += 8;
	t->x19_off = off;
	off += 8;
	t->runctx_off = off;
	off += 8;
	t->ctx_off = off;
	off += 8 * lay->nr_arg_slots;
	t->ret_off = off;
	off += 8 * lay->nr_ret_slots;
	if (lay->unknown) {
		t->x8_off = off;
		off += 8;
	}
	off = (off + 15) & ~15u;
	if (lay->unknown) {
		t->fpsave_off = off;
		off += 8 * 16;
		t->retsave_off = off;
		off += 8 * 8;
	}
	t->frame_size = off;
	t->entry_sp_off = off;
	/* One `sub sp, sp, #imm12`, imm12-scaled offsets, an STP record. */
	if (t->entry_sp_off + lay->stack_size > 4095 || t->rec_off > 504)
		return -E2BIG;
	return 0;
}

/* The record at SP: pre/post-indexed STP/LDP reach -512 .. 504. */
static bool record_at_sp(const struct tramp *t)
{
	return !t->rec_off && t->frame_size <= 504;
}

static void emit_prologue(struct tramp *t)
{
	enum a64_reg lr = t->site ? A64_R9 : A64_LR;

	if (t->args->flags & FTRAMP_TRAMP_F_BTI) {
		note(t, FTRAMP_PART_BTI);
		say(t, FTRAMP_INSN_BTI);
		emit(t, A64_BTI_C);
	}
	note(t, FTRAMP_PART_FRAME);
	if (record_at_sp(t)) {
		/* stp x29, x9, [sp, #-frame]!; mov x29, sp */
		say(t, t->site ? FTRAMP_INSN_RECORD_X9 : FTRAMP_INSN_RECORD_LR);
		emit(t, a64_stp_pre(A64_LS_X, A64_FP, lr, A64_SP,
				    -(int)t->frame_size));
		uw_sp_down(t);
		uw_record_saved(t);
		say(t, FTRAMP_INSN_FP);
		emit(t, a64_mov_reg(A64_64, A64_FP, A64_SP));
		uw_fp_set(t);
		return;
	}
	say_insn(t, (struct ftramp_tramp_insn){ .what = FTRAMP_INSN_FRAME,
						.imm = t->frame_size }, false);
	emit(t, a64_sub_imm(A64_64, A64_SP, A64_SP, t->frame_size));
	uw_sp_down(t);
	say(t, t->site ? FTRAMP_INSN_RECORD_X9 : FTRAMP_INSN_RECORD_LR);
	emit(t, a64_stp(A64_LS_X, A64_FP, lr, A64_SP, t->rec_off));
	uw_record_saved(t);
	say(t, FTRAMP_INSN_FP);
	emit_add_sp(t, A64_FP, t->rec_off);
	uw_fp_set(t);
}

/* ------------------------------------------------------------------
 * Arguments: registers and stack <-> ctx
 * ------------------------------------------------------------------ */

static void save_gp_arg(struct tramp *t, const struct a64_arg_loc *l,
			enum a64_reg *pend, unsigned int *pend_slot)
{
	unsigned int off = t->ctx_off + 8 * l->slot;
	enum a64_reg r = A64_R(l->reg);

	if (is_narrow_int(l)) {
		/* AAPCS64 leaves the unused upper bits unspecified. */
		enum a64_reg w = l->slot & 1 ? TMP1 : TMP0;

		say(t, FTRAMP_INSN_WIDEN_ARG);
		emit_widen(t, w, r, l->int_size, l->is_signed);
		r = w;
	}
	if (l->nregs == 2) {
		emit_ldstp_x(t, A64_STORE, r, A64_R(l->reg + 1), off);
		return;
	}
	/* Pair with the previous single slot when adjacent. */
	if (*pend != A64_ZR && *pend_slot + 1 == l->slot) {
		emit_ldstp_x(t, A64_STORE, *pend, r, off - 8);
		*pend = A64_ZR;
		return;
	}
	if (*pend != A64_ZR)
		emit_ldst_x(t, A64_STORE, *pend, t->ctx_off + 8 * *pend_slot);
	*pend = r;
	*pend_slot = l->slot;
}

static void save_fp_arg(struct tramp *t, const struct a64_arg_loc *l)
{
	unsigned int off = t->ctx_off + 8 * l->slot, i;

	if (l->elem == 4 && l->nregs == 1) {
		/* A float's bits, zero-extended: fmov w10, s<n>. */
		say(t, FTRAMP_INSN_FLOAT_BITS);
		emit(t, a64_fmov_from_fp(A64_FP_S, TMP0, l->reg));
		emit_ldst_x(t, A64_STORE, TMP0, off);
		return;
	}
	/* An HFA of floats ending in half a slot: no stale upper half. */
	if (l->elem == 4 && (l->nregs & 1))
		emit_ldst_x(t, A64_STORE, A64_ZR, off + 8 * (l->nslots - 1));
	for (i = 0; i < l->nregs; i++)
		emit_ldst_v(t, A64_STORE, l->reg + i, l->elem,
			    off + i * l->elem);
}

/* Copy `size` bytes of the caller's stack (a stack argument) into ctx. */
static void save_stack_arg(struct tramp *t, const struct a64_arg_loc *l)
{
	unsigned int src = t->entry_sp_off + l->stack_off;
	unsigned int dst = t->ctx_off + 8 * l->slot;
	unsigned int done;

	if (is_narrow_int(l)) {
		enum a64_ldst_size sz = l->int_size == 1 ? A64_LS_B :
					l->int_size == 2 ? A64_LS_H :
							   A64_LS_W;

		/* The zero-extending load, then sign-extend if signed. */
		say_sp(t, A64_LOAD, src, 1);
		emit(t, a64_ldr(sz, TMP0, A64_SP, src));
		if (l->is_signed) {
			say(t, FTRAMP_INSN_WIDEN_ARG);
			emit_widen(t, TMP0, TMP0, l->int_size, true);
		}
		emit_ldst_x(t, A64_STORE, TMP0, dst);
		return;
	}
	for (done = 0; done < l->size; done += 8) {
		/* A 4-byte tail (float, HFA of floats): zero-extend it. */
		if (l->size - done == 4) {
			say_sp(t, A64_LOAD, src + done, 1);
			emit(t, a64_ldr(A64_LS_W, TMP0, A64_SP, src + done));
		}
		else
			emit_ldst_x(t, A64_LOAD, TMP0, src + done);
		emit_ldst_x(t, A64_STORE, TMP0, dst + done);
	}
}

static void save_args(struct tramp *t)
{
	const struct a64_abi_layout *lay = &t->lay;
	enum a64_reg pend = A64_ZR;
	unsigned int pend_slot = 0, i;

	if (lay->unknown) {
		for (i = 0; i < 8; i += 2)
			emit_ldstp_x(t, A64_STORE, A64_R(i), A64_R(i + 1),
				     t->ctx_off + 8 * i);
		emit_ldst_x(t, A64_STORE, A64_R8, t->x8_off);
		for (i = 0; i < 8; i += 2) {
			say_sp(t, A64_STORE, t->fpsave_off + 16 * i, 4);
			emit(t, a64_stp(A64_LS_Q, A64_R(i), A64_R(i + 1),
					A64_SP, t->fpsave_off + 16 * i));
		}
		return;
	}
	for (i = 0; i < lay->nr_args; i++) {
		const struct a64_arg_loc *l = &lay->args[i];

		if (l->kind == A64_LOC_GP) {
			save_gp_arg(t, l, &pend, &pend_slot);
			continue;
		}
		/* FP and stack saves use TMP0: store the pending slot. */
		if (pend != A64_ZR)
			emit_ldst_x(t, A64_STORE, pend,
				    t->ctx_off + 8 * pend_slot);
		pend = A64_ZR;
		if (l->kind == A64_LOC_FP)
			save_fp_arg(t, l);
		else
			save_stack_arg(t, l);
	}
	if (pend != A64_ZR)
		emit_ldst_x(t, A64_STORE, pend, t->ctx_off + 8 * pend_slot);
	/* An indirect result: its address is the result slot (x8). */
	if (lay->ret.kind == A64_LOC_X8)
		emit_ldst_x(t, A64_STORE, A64_R8, t->ret_off);
}

/* Argument registers (and x8) from ctx, as the original expects them. */
static void restore_args(struct tramp *t)
{
	const struct a64_abi_layout *lay = &t->lay;
	unsigned int i;

	if (lay->unknown) {
		for (i = 0; i < 8; i += 2)
			emit_ldstp_x(t, A64_LOAD, A64_R(i), A64_R(i + 1),
				     t->ctx_off + 8 * i);
		emit_ldst_x(t, A64_LOAD, A64_R8, t->x8_off);
		for (i = 0; i < 8; i += 2) {
			say_sp(t, A64_LOAD, t->fpsave_off + 16 * i, 4);
			emit(t, a64_ldp(A64_LS_Q, A64_R(i), A64_R(i + 1),
					A64_SP, t->fpsave_off + 16 * i));
		}
		return;
	}
	for (i = 0; i < lay->nr_args; i++) {
		const struct a64_arg_loc *l = &lay->args[i];
		const struct a64_arg_loc *n = i + 1 < lay->nr_args ?
					      &lay->args[i + 1] : NULL;
		unsigned int off = t->ctx_off + 8 * l->slot, k;

		if (l->kind == A64_LOC_GP) {
			if (l->nregs == 2) {
				emit_ldstp_x(t, A64_LOAD, A64_R(l->reg),
					     A64_R(l->reg + 1), off);
			} else if (n && n->kind == A64_LOC_GP &&
				   n->nregs == 1 && n->slot == l->slot + 1) {
				emit_ldstp_x(t, A64_LOAD, A64_R(l->reg),
					     A64_R(n->reg), off);
				i++;
			} else {
				emit_ldst_x(t, A64_LOAD, A64_R(l->reg), off);
			}
		} else if (l->kind == A64_LOC_FP) {
			for (k = 0; k < l->nregs; k++)
				emit_ldst_v(t, A64_LOAD, l->reg + k, l->elem,
					    off + k * l->elem);
		}
		/* Stack arguments are copied raw: copy_stack_args(). */
	}
	if (lay->ret.kind == A64_LOC_X8)
		emit_ldst_x(t, A64_LOAD, A64_R8, t->ret_off);
}

/*
 * The caller's stack arguments, copied to the bottom of our frame so the
 * original finds them at [its entry SP + NSAA], exactly as the caller
 * laid them out.
 */
static void copy_stack_args(struct tramp *t)
{
	unsigned int k;

	if (!t->copy_size)
		return;
	say(t, FTRAMP_INSN_COPY_BASE);
	emit_add_sp(t, TMP0, t->entry_sp_off);
	for (k = 0; k < t->copy_size; k += 16) {
		say(t, FTRAMP_INSN_COPY_STACK);
		emit(t, a64_ldp(A64_LS_X, TMP1, TMP2, TMP0, k));
		say(t, FTRAMP_INSN_COPY_STACK);
		emit(t, a64_stp(A64_LS_X, TMP1, TMP2, A64_SP, k));
	}
}

/* ------------------------------------------------------------------
 * Result: registers <-> result slots
 * ------------------------------------------------------------------ */

static bool ret_is_scalar(const struct tramp *t)
{
	const struct a64_arg_loc *r = &t->lay.ret;

	if (t->lay.unknown)
		return true;
	if (r->kind == A64_LOC_GP)
		return r->int_size && r->int_size <= 8;
	return r->kind == A64_LOC_FP && r->nregs == 1 && r->elem <= 8;
}


/*
 * Unknown model: every register a result may use, in full (AAPCS64 6.9:
 * x0-x7 and v0-v7 as for a first argument, plus x8).  x0 is ctx[n], the
 * bits of d0 ctx[n + 1] (what programs read), x1-x8 and q0-q7 (all 128
 * bits: a float32x4_t, a long double, an HFA of them) are kept aside
 * and put back as they were.  q0-q7 reuse the arguments' save area: the
 * arguments are back in their registers by then.
 */
static void save_ret_unknown(struct tramp *t)
{
	unsigned int i;

	emit_ldst_x(t, A64_STORE, A64_R0, t->ret_off);
	emit_ldst_v(t, A64_STORE, 0, 8, t->ret_off + 8);
	for (i = 1; i < 9; i += 2)
		emit_ldstp_x(t, A64_STORE, A64_R(i), A64_R(i + 1),
			     t->retsave_off + 8 * (i - 1));
	for (i = 0; i < 8; i += 2) {
		say_sp(t, A64_STORE, t->fpsave_off + 16 * i, 4);
		emit(t, a64_stp(A64_LS_Q, A64_R(i), A64_R(i + 1), A64_SP,
				t->fpsave_off + 16 * i));
	}
}

/*
 * x0 from ctx[n] (fmod_ret's value when it skipped the original), the
 * rest as saved.  d0 is not reloaded from ctx[n + 1]: that would clear
 * q0's upper half; a skip copies ctx[n + 1] into q0's slot instead
 * (L_SKIP).
 */
static void restore_ret_unknown(struct tramp *t)
{
	unsigned int i;

	emit_ldst_x(t, A64_LOAD, A64_R0, t->ret_off);
	for (i = 1; i < 9; i += 2)
		emit_ldstp_x(t, A64_LOAD, A64_R(i), A64_R(i + 1),
			     t->retsave_off + 8 * (i - 1));
	for (i = 0; i < 8; i += 2) {
		say_sp(t, A64_LOAD, t->fpsave_off + 16 * i, 4);
		emit(t, a64_ldp(A64_LS_Q, A64_R(i), A64_R(i + 1), A64_SP,
				t->fpsave_off + 16 * i));
	}
}

static void save_ret(struct tramp *t)
{
	const struct a64_arg_loc *r = &t->lay.ret;
	unsigned int i;

	if (t->lay.unknown) {
		save_ret_unknown(t);
		return;
	}
	switch (r->kind) {
	case A64_LOC_GP:
		if (is_narrow_int(r)) {
			say(t, FTRAMP_INSN_WIDEN_RET);
			emit_widen(t, TMP0, A64_R0, r->int_size, r->is_signed);
			emit_ldst_x(t, A64_STORE, TMP0, t->ret_off);
		} else if (r->nregs == 2) {
			emit_ldstp_x(t, A64_STORE, A64_R0, A64_R1, t->ret_off);
		} else {
			emit_ldst_x(t, A64_STORE, A64_R0, t->ret_off);
		}
		break;
	case A64_LOC_FP:
		if (r->elem == 4 && r->nregs == 1) {
			say(t, FTRAMP_INSN_FLOAT_BITS);
			emit(t, a64_fmov_from_fp(A64_FP_S, TMP0, 0));
			emit_ldst_x(t, A64_STORE, TMP0, t->ret_off);
			break;
		}
		if (r->elem == 4 && (r->nregs & 1))
			emit_ldst_x(t, A64_STORE, A64_ZR,
				    t->ret_off + 8 * (r->nslots - 1));
		for (i = 0; i < r->nregs; i++)
			emit_ldst_v(t, A64_STORE, i, r->elem,
				    t->ret_off + i * r->elem);
		break;
	default:
		/* void; x8: the callee wrote the memory ctx[n] points to */
		break;
	}
}

static void restore_ret(struct tramp *t)
{
	const struct a64_arg_loc *r = &t->lay.ret;
	unsigned int i;

	if (t->lay.unknown) {
		restore_ret_unknown(t);
		return;
	}
	switch (r->kind) {
	case A64_LOC_GP:
		if (r->nregs == 2)
			emit_ldstp_x(t, A64_LOAD, A64_R0, A64_R1, t->ret_off);
		else
			emit_ldst_x(t, A64_LOAD, A64_R0, t->ret_off);
		break;
	case A64_LOC_FP:
		for (i = 0; i < r->nregs; i++)
			emit_ldst_v(t, A64_LOAD, i, r->elem,
				    t->ret_off + i * r->elem);
		break;
	default:
		break;
	}
}

/*
 * Zero the result before fmod_ret programs (so fexit reads 0 when none
 * overrides) and when no original will produce one.  An x8 result slot
 * holds the caller's buffer address: it stays.
 */
static void zero_ret(struct tramp *t)
{
	const struct a64_abi_layout *lay = &t->lay;
	unsigned int i;

	if (lay->ret.kind == A64_LOC_X8 || lay->ret.kind == A64_LOC_NONE)
		return;
	for (i = 0; i < lay->nr_ret_slots; i += 2) {
		if (i + 1 < lay->nr_ret_slots)
			emit_ldstp_x(t, A64_STORE, A64_ZR, A64_ZR,
				     t->ret_off + 8 * i);
		else
			emit_ldst_x(t, A64_STORE, A64_ZR, t->ret_off + 8 * i);
	}
	if (lay->unknown)
		for (i = 0; i < 4; i++)
			emit_ldstp_x(t, A64_STORE, A64_ZR, A64_ZR,
				     t->retsave_off + 16 * i);
}

/* ------------------------------------------------------------------
 * Counters and the recursion guard
 * ------------------------------------------------------------------ */

/*
 * [addr] += val, atomically (release if asked).  ARMv8.1 LSE: one STADD
 * (Arm ARM C6.2.313).  ARMv8.0: an exclusive-monitor loop (Arm ARM
 * B2.9.2) in IP0/IP1, which nothing else holds here.
 */
static void emit_atomic_add(struct tramp *t, enum a64_reg addr,
			    enum a64_reg val, bool release)
{
	uint32_t loop;

	if (t->lse) {
		emit(t, a64_stadd(A64_LS_X, val, addr, release ? A64_REL : 0));
		return;
	}
	loop = t->a.idx;
	emit(t, a64_ldxr(A64_LS_X, A64_IP0, addr, 0));
	emit(t, a64_add(A64_64, A64_IP0, A64_IP0, val));
	say(t, FTRAMP_INSN_STXR);
	emit(t, a64_stxr(A64_LS_X, A64_IP1, A64_IP0, addr,
			 release ? A64_REL : 0));
	say(t, FTRAMP_INSN_RETRY);
	a64_emit_cbnz(&t->a, A64_32, A64_IP1, a64_ctx_pc_at(&t->a, loop));
}

static uint64_t state_addr(const struct tramp *t)
{
	return (uint64_t)(uintptr_t)t->args->state;
}

/*
 * Entry: save x19, store ctx[-1], take the guard, count this thread in.
 *
 *	ldr  x12, =state		&state->inflight, &state->rctx
 *	stp  x19, x12, [sp, #ctx-16]	caller's x19; ctx[-1] = state->rctx
 *	mrs  x19, tpidr_el0		Arm ARM D13.2.139: readable at EL0
 *	ldr  x19, [x19, #tls_off]	this thread's table (initial-exec TLS)
 *	ldrb w15, [x19, #slot]		FREE (0x80) or BUSY (0)
 *	cbz  w15, miss			in a program already, or no table yet
 *	strb wzr, [x19, #slot]		BUSY
 *	stadd x15, [x12]		inflight += 0x80 (the byte we loaded)
 * taken:
 *
 * The instructions before the increment are an uncounted window, covered
 * by the reclaimer's scans (a thread seen inside the image keeps it): so
 * they hold no call and no syscall, and every path that leaves them for
 * anything longer counts in first.  A thread that has no table yet
 * points at guard_none, all BUSY: its first entry goes to the miss path,
 * which sees guard_none and goes to emit_guard_slow(), which counts the
 * thread in before it calls guard_slow() (Documentation/design.rst,
 * "Reclamation").
 */
/*
 * rd = this thread's guard table (x19 in images with a guard): mrs, then
 * the initial-exec TLS word; x16 is the scratch of a far offset.
 */
static void emit_table_to(struct tramp *t, enum a64_reg rd, int64_t off)
{
	say(t, FTRAMP_INSN_TLS);
	emit(t, a64_mrs_tpidr_el0(rd));
	if (off >= 0 && off <= 32760 && !(off & 7)) {
		say(t, FTRAMP_INSN_TABLE);
		emit(t, a64_ldst_imm(A64_LOAD, A64_LS_X, rd, rd, off,
				     A64_OFFSET));
	} else {
		say_how(t, FTRAMP_INSN_TLS_OFF, FTRAMP_INSN_LIT);
		emit_ldr_lit(t, A64_IP0, (uint64_t)off);
		emit(t, a64_add(A64_64, rd, rd, A64_IP0));
		say(t, FTRAMP_INSN_TABLE);
		emit(t, a64_ldr(A64_LS_X, rd, rd, 0));
	}
}

static void emit_load_table(struct tramp *t, int64_t off)
{
	emit_table_to(t, R_GUARD, off);
}

/*
 * The guard byte: FREE, then take it; BUSY (a program of this image
 * runs on this thread, or no table yet), to @busy.  w15 keeps the byte
 * (0x80): the in-flight increment.
 */
static void emit_guard_test(struct tramp *t, enum tramp_label busy)
{
	const struct ftramp_tramp_state *st = t->args->state;

	say(t, FTRAMP_INSN_GUARD_LOAD);
	emit(t, a64_ldr(A64_LS_B, R_INC, R_GUARD, st->guard_slot));
	say(t, FTRAMP_INSN_GUARD_BUSY);
	a64_emit_cbz(&t->a, A64_32, R_INC, label_addr(t, busy));
	say(t, FTRAMP_INSN_GUARD_TAKE);
	emit(t, a64_str(A64_LS_B, A64_ZR, R_GUARD, st->guard_slot));
	uw_held(t, A64_UW_GUARD, 0);
}

static void emit_count_in(struct tramp *t);

static void emit_enter(struct tramp *t)
{
	const struct ftramp_tramp_state *st = t->args->state;
	int64_t off = st->guard_tls_off;

	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_STATE, state_addr(t));
	t->cur_rctx = RCTX_STATE;
	if (!t->guard) {
		emit_count_in(t);
		emit_ldst_x(t, A64_STORE, R_STATE, t->runctx_off);
		return;
	}
	say(t, FTRAMP_INSN_ENTER_SAVE);
	emit_ldstp_x(t, A64_STORE, R_GUARD, R_STATE, t->x19_off);
	uw_x19(t, true);
	emit_load_table(t, off);
	if (!st->guard_none) {
		say(t, FTRAMP_INSN_NO_TABLE);
		a64_emit_cbz(&t->a, A64_64, R_GUARD, label_addr(t, L_SLOW));
	}
	emit_guard_test(t, L_MISS);
	say(t, FTRAMP_INSN_INFLIGHT_INC);
	emit_atomic_add(t, R_STATE, R_INC, false);
	uw_held(t, A64_UW_INFLIGHT, 0);
	bind(t, L_TAKEN);
}

static void emit_call_orig(struct tramp *t);
static void emit_enter_body(struct tramp *t);

/*
 * [ctr] += 1 for each counter: FTRAMP_COUNT links at entry, per-link
 * misses on the miss path.  x11 = 1 once, then per counter
 *
 *	ldr   x10, =counter
 *	stadd x11, [x10]		(relaxed: a count, not a publication)
 */
static void emit_counters(struct tramp *t, uint64_t *const *v,
			  unsigned int n, bool have_one)
{
	unsigned int i;

	bool miss = v == t->args->missed;

	if (n && !have_one) {
		say(t, FTRAMP_INSN_ONE);
		emit(t, a64_movw(A64_MOVZ, A64_64, TMP1, 1, 0));
	}
	for (i = 0; i < n; i++) {
		say_how(t, miss ? FTRAMP_INSN_LINK_MISSED : FTRAMP_INSN_COUNTER,
			FTRAMP_INSN_LIT);
		emit_ldr_lit(t, TMP0, (uint64_t)(uintptr_t)v[i]);
		say(t, miss ? FTRAMP_INSN_LINK_MISS : FTRAMP_INSN_COUNT);
		emit_atomic_add(t, TMP0, TMP1, false);
	}
}

/*
 * An image of FTRAMP_COUNT links only: count, then into the body as a
 * fentry-only image does (x30 = the caller's return address, SP as at
 * the site: RET sets no BTYPE, Arm ARM D8.4.1).  No frame, no ctx, no
 * in-flight count: it calls nothing, so every instruction of it is
 * inside the image, where the reclaimer's scans see a thread.
 *
 *	[bti c]
 *	mov   x11, #1
 *	ldr   x10, =counter		(per counter)
 *	stadd x11, [x10]
 *	mov   x10, x30			the body
 *	mov   x30, x9			the caller's return address
 *	ret   x10
 */
static void emit_count_only(struct tramp *t)
{
	if (t->args->flags & FTRAMP_TRAMP_F_BTI) {
		note(t, FTRAMP_PART_BTI);
		say(t, FTRAMP_INSN_BTI);
		emit(t, A64_BTI_C);
	}
	note(t, FTRAMP_PART_COUNT);
	emit_counters(t, t->args->counts, t->args->nr_counts, false);
	note(t, FTRAMP_PART_EPILOGUE);
	say(t, FTRAMP_INSN_BODY_RA);
	emit(t, a64_mov_reg(A64_64, TMP0, A64_LR));
	say(t, FTRAMP_INSN_CALLER_LR);
	emit(t, a64_mov_reg(A64_64, A64_LR, A64_R9));
	say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_JUMP);
	emit(t, a64_ret_reg(TMP0));
}

/* inflight += 0x80: x15 = the unit, x12 = the state. */
static void emit_count_in(struct tramp *t)
{
	say(t, FTRAMP_INSN_UNIT_INC);
	emit(t, a64_movw(A64_MOVZ, A64_64, R_INC, FTRAMP_INFLIGHT_UNIT, 0));
	say(t, FTRAMP_INSN_INFLIGHT_INC);
	emit_atomic_add(t, R_STATE, R_INC, false);
	uw_held(t, A64_UW_INFLIGHT, 0);
}

/* What the decrement needs: x12 = the state, x14 = -0x80. */
static void emit_load_dec(struct tramp *t)
{
	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_STATE, state_addr(t));
	say(t, FTRAMP_INSN_UNIT_DEC);
	emit(t, a64_movw(A64_MOVN, A64_64, R_DEC, FTRAMP_INFLIGHT_UNIT - 1,
			 0));
}

/* inflight -= 0x80, release: the thread leaves the image's count. */
static void emit_count_out(struct tramp *t)
{
	emit_load_dec(t);
	say(t, FTRAMP_INSN_INFLIGHT_DEC);
	emit_atomic_add(t, R_STATE, R_DEC, true);
	uw_held(t, 0, A64_UW_INFLIGHT);
}

/* A miss: state->misses += 1, and each link's (args->missed). */
static void emit_count_miss(struct tramp *t)
{
	say_how(t, FTRAMP_INSN_MISSES, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, TMP0, (uint64_t)(uintptr_t)&t->args->state->misses);
	say(t, FTRAMP_INSN_ONE);
	emit(t, a64_movw(A64_MOVZ, A64_64, TMP1, 1, 0));
	say(t, FTRAMP_INSN_MISS);
	emit_atomic_add(t, TMP0, TMP1, false);
	emit_counters(t, t->args->missed, t->args->nr_missed, true);
}

/*
 * The out-of-line part of the guard (cold): the byte was BUSY.
 *
 * miss:
 *	ldr  x10, =guard_none		no table on this thread yet?
 *	cmp  x19, x10
 *	b.eq slow
 * count:				a program of this image runs here
 *	mov  x15, #0x80
 *	stadd x15, [x12]		count in
 * missed:
 *	ldp  x19, x12, [sp, #ctx-16]	x19 back
 *	misses++, and each link's (args->missed)
 *	...the original, bare (the guard stays BUSY)...
 *	ldr  x12, =state; mov x14, #-0x80; b out
 * slow:
 *	mov  x15, #0x80
 *	stadd x15, [x12]		count in BEFORE the call
 *	bl   guard_slow			maps the table (mmap): takes time
 *	cbz  x0, missed			no table: a miss, already counted
 *	mov  x19, x0
 *	ldrb w15, [x19, #slot]
 *	cbz  w15, missed
 *	strb wzr, [x19, #slot]		BUSY
 *	b    taken
 *
 * guard_slow() calls mmap(): a reclaimer may scan, read the counter and
 * scan again while it runs.  The thread is then outside the image's
 * code, so only the counter can keep the image: it is counted in before
 * the call (issue 13: an uncounted guard_slow() returned into a freed
 * image).  A miss counts in the same way, before it calls the original.
 */
static void emit_guard_slow(struct tramp *t)
{
	const struct ftramp_tramp_state *st = t->args->state;

	bind(t, L_MISS);
	uw_body(t, true, 0);
	note(t, FTRAMP_PART_MISS);
	if (st->guard_none) {
		say_how(t, FTRAMP_INSN_GUARD_NONE, FTRAMP_INSN_LIT);
		emit_ldr_lit(t, TMP0, (uint64_t)(uintptr_t)st->guard_none);
		say(t, FTRAMP_INSN_IS_NONE);
		emit(t, a64_cmp(A64_64, R_GUARD, TMP0));
		say(t, FTRAMP_INSN_TO_SLOW);
		a64_emit_b_cond(&t->a, A64_COND_EQ, label_addr(t, L_SLOW));
	}
	/*
	 * In a program of this image already on this thread: count in,
	 * count the miss, run the original bare, its own calls included
	 * (the guard stays BUSY), counted in: it returns into the image.
	 */
	bind(t, L_COUNT);
	note(t, FTRAMP_PART_MISS_COUNT);
	if (t->hook) {
		/*
		 * Return hook: the body runs bare, returning straight to its
		 * caller: nothing of the image is used again, no count.  x19
		 * is the caller's again (emit_enter_body() reloads the same).
		 */
		say(t, FTRAMP_INSN_X19_STATE_BACK);
		emit_ldstp_x(t, A64_LOAD, R_GUARD, R_STATE, t->x19_off);
		uw_x19(t, false);
		emit_count_miss(t);
		emit_enter_body(t);
	} else {
		emit_count_in(t);
		bind(t, L_MISSED);
		say(t, FTRAMP_INSN_X19_STATE_BACK);
		emit_ldstp_x(t, A64_LOAD, R_GUARD, R_STATE, t->x19_off);
		uw_x19(t, false);
		emit_count_miss(t);
		if (t->call_orig)
			emit_call_orig(t);
		emit_load_dec(t);
		say(t, FTRAMP_INSN_TO_OUT);
		a64_emit_b(&t->a, label_addr(t, L_OUT));
	}

	/* First entry on this thread: count in, then allocate its table. */
	bind(t, L_SLOW);
	uw_body(t, true, 0);
	note(t, FTRAMP_PART_SLOW);
	emit_count_in(t);
	emit_call(t, (uint64_t)(uintptr_t)st->guard_slow,
		  FTRAMP_INSN_GUARD_SLOW);
	say(t, FTRAMP_INSN_SLOW_NONE);
	a64_emit_cbz(&t->a, A64_64, A64_R0,
		     label_addr(t, t->hook ? L_UNCOUNT : L_MISSED));
	say(t, FTRAMP_INSN_NEW_TABLE);
	emit(t, a64_mov_reg(A64_64, R_GUARD, A64_R0));
	emit_guard_test(t, t->hook ? L_UNCOUNT : L_MISSED);
	if (t->shadow) {	/* emit_shadow_enter() pushes x12 */
		say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
		emit_ldr_lit(t, R_STATE, state_addr(t));
	}
	say(t, FTRAMP_INSN_TO_TAKEN);
	a64_emit_b(&t->a, label_addr(t, L_TAKEN));
	if (t->hook) {
		/* A miss of a hooked body leaves uncounted: count out first. */
		bind(t, L_UNCOUNT);
		uw_held(t, 0, A64_UW_GUARD);
		emit_count_out(t);
		say(t, FTRAMP_INSN_BACK);
		a64_emit_b(&t->a, label_addr(t, L_COUNT));
	}
}

/*
 * The guard covers the programs only (the kernel's __bpf_prog_enter /
 * __bpf_prog_exit bump prog->active around each program), so that every
 * level of a recursive traced function runs its programs.  Around the
 * original the byte is FREE:
 *
 *	strb w19, [x19, #slot]		FREE: the table pointer's low byte
 *	...the original...
 *	strb wzr, [x19, #slot]		BUSY again, for the fexit programs
 *
 * x19 survives the call (callee-saved).  A table pointer always has
 * FTRAMP_GUARD_FREE as its low byte (trampoline.h), which saves loading
 * the constant.  The byte is always FREE when the original returns:
 * every entry that took it during the original released it on its way
 * out, and a miss never touches it.
 */
static void emit_guard_release(struct tramp *t)
{
	say(t, FTRAMP_INSN_GUARD_FREE);
	emit(t, a64_str(A64_LS_B, R_GUARD, R_GUARD, t->args->state->guard_slot));
	uw_held(t, 0, A64_UW_GUARD);
}

static void emit_guard_retake(struct tramp *t)
{
	say(t, FTRAMP_INSN_GUARD_TAKE);
	emit(t, a64_str(A64_LS_B, A64_ZR, R_GUARD, t->args->state->guard_slot));
	uw_held(t, A64_UW_GUARD, 0);
}

/*
 * Exit, on the path that took the guard: release it, restore x19 and
 * load what the decrement at L_OUT needs (R_STATE, R_DEC).
 *
 *	strb w19, [x19, #slot]		FREE
 *	ldp  x19, x12, [sp, #ctx-16]	(ldr x12, =state if ctx[-1] moved)
 *	mov  x14, #-0x80
 * out:
 *	staddl x14, [x12]		inflight -= 0x80, release
 */
static void emit_exit(struct tramp *t)
{
	bool state_in_ctx = t->cur_rctx == RCTX_STATE;

	if (t->guard) {
		emit_guard_release(t);
		say(t, state_in_ctx ? FTRAMP_INSN_X19_STATE_BACK :
				      FTRAMP_INSN_X19_BACK);
		if (state_in_ctx)
			emit_ldstp_x(t, A64_LOAD, R_GUARD, R_STATE,
				     t->x19_off);
		else
			emit_ldst_x(t, A64_LOAD, R_GUARD, t->x19_off);
		uw_x19(t, false);
	} else if (state_in_ctx) {
		say(t, FTRAMP_INSN_STATE_BACK);
		emit_ldst_x(t, A64_LOAD, R_STATE, t->runctx_off);
	}
	if (!state_in_ctx) {
		emit_load_dec(t);
	} else {
		say(t, FTRAMP_INSN_UNIT_DEC);
		emit(t, a64_movw(A64_MOVN, A64_64, R_DEC,
				 FTRAMP_INFLIGHT_UNIT - 1, 0));
	}
}


/* ------------------------------------------------------------------
 * The shadow return stack: return hook (unknown model) and the plain
 * records of modelled fexit images (Documentation/trampoline.rst,
 * "Shadow stack"; the runtime side and the liveness argument are in
 * trampoline/image.c).  x19 holds the guard table throughout, whose
 * bias holds the stack's top and limit; x10-x15 are scratch.
 * ------------------------------------------------------------------ */

#define NZCV_C	2		/* ccmp's flags when skipped: C, so HI */
#define R_TOP	A64_R10		/* the topmost record's header */
#define R_LIM	A64_R11
#define R_T3	A64_R13
#define R_T4	A64_R14		/* the caller's SP during the check */
#define R_T5	A64_R15

static void emit_top_load(struct tramp *t)
{
	/* ldp x10, x11, [x19, #-16]: top, limit */
	say(t, FTRAMP_INSN_TOP_LOAD);
	emit(t, a64_ldstp(A64_LOAD, A64_LS_X, R_TOP, R_LIM, R_GUARD,
			  FTRAMP_SHADOW_TOP, A64_OFFSET));
}

static void emit_top_store(struct tramp *t, enum a64_reg r, bool push)
{
	/* stur xN, [x19, #-16] */
	say(t, push ? FTRAMP_INSN_TOP_STORE : FTRAMP_INSN_TOP_POPPED);
	emit(t, a64_ldst_imm(A64_STORE, A64_LS_X, r, R_GUARD,
			     FTRAMP_SHADOW_TOP, A64_UNSCALED));
}

/*
 * At entry, before any program: is the top record dead?  (Its exit is
 * then reported before this call's entry, so a tracer nests right.)
 *
 *	ldp  x10, x11, [x19, #-16]	top, limit
 *	ldr  x13, [x10]			top record's sp
 *	add  x14, sp, #entry		the caller's SP
 *	cmp  x13, x14
 *	b.ls prune			at or below it: maybe dead (rare)
 * pruned:
 *
 * A live record's sp is above every SP of the code it called, or equal
 * only for a tail call from its body: image.c decides.
 */
static void emit_prune_check(struct tramp *t)
{
	note(t, FTRAMP_PART_SHADOW_CHECK);
	emit_top_load(t);
	say(t, FTRAMP_INSN_TOP_SP);
	emit(t, a64_ldr(A64_LS_X, R_T3, R_TOP, 0));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, R_T4, t->entry_sp_off);
	say(t, FTRAMP_INSN_TOP_ALIVE);
	emit(t, a64_cmp(A64_64, R_T3, R_T4));
	say(t, FTRAMP_INSN_TOP_DEAD);
	a64_emit_b_cond(&t->a, A64_COND_LS, label_addr(t, L_PRUNE));
	bind(t, L_PRUNED);
}

/*
 * Out of line: shadow_prune(table, caller's SP, caller's return
 * address) releases the dead records and reports them to their images'
 * fexit programs (counted in flight here: a call is safe; x0-x8 are
 * saved in ctx).  This image's guard is free meanwhile, so that its own
 * dead records are reported too.
 */
static void emit_prune_slow(struct tramp *t)
{
	bind(t, L_PRUNE);
	uw_body(t, true, A64_UW_INFLIGHT | A64_UW_GUARD);
	emit_guard_release(t);
	say(t, FTRAMP_INSN_TABLE_ARG);
	emit(t, a64_mov_reg(A64_64, A64_R0, R_GUARD));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit(t, a64_mov_reg(A64_64, A64_R1, R_T4));
	emit_ldst_x(t, A64_LOAD, A64_R2, t->rec_off + 8);	/* x9 */
	emit_call(t, (uint64_t)(uintptr_t)t->args->state->shadow_prune,
		  FTRAMP_INSN_SHADOW_PRUNE);
	emit_guard_retake(t);
	say(t, FTRAMP_INSN_BACK);
	a64_emit_b(&t->a, label_addr(t, L_PRUNED));
}

/*
 * Before a push: room?  x10 = top after it.
 *
 *	ldp  x10, x11, [x19, #-16]	top, limit
 *	cmp  x10, x11
 *	b.hi full
 */
static void emit_room_check(struct tramp *t, enum tramp_label full)
{
	emit_top_load(t);
	say(t, FTRAMP_INSN_ROOM);
	emit(t, a64_cmp(A64_64, R_TOP, R_LIM));
	a64_emit_b_cond(&t->a, A64_COND_HI, label_addr(t, full));
}

/*
 * Untraced: pop the frame, every argument register and x19 back, and
 * branch into the body with x30 = the caller's return address.  RET sets
 * no BTYPE (Arm ARM D8.4.1): the body needs no pad.
 */
/*
 * Leave for the body (x16) without a frame of ours: x19 the caller's,
 * x29 back, SP as at entry.  Bare: x30 = the record's LR.  Return hook:
 * x30 = the exit stub (x15), the caller's return address to x17.
 */
static void emit_leave_to_body(struct tramp *t, bool hook)
{
	void (*popped)(struct tramp *, unsigned int) =
		hook ? uw_hook_popped : uw_frame_popped;
	enum a64_reg lr = hook ? A64_IP1 : A64_LR;

	say(t, FTRAMP_INSN_X19_BACK);
	emit_ldst_x(t, A64_LOAD, R_GUARD, t->x19_off);
	uw_x19(t, false);
	if (hook) {
		say(t, FTRAMP_INSN_STUB_LR);
		emit(t, a64_mov_reg(A64_64, A64_LR, R_T5));
	}
	say(t, FTRAMP_INSN_POP_RECORD);
	if (record_at_sp(t)) {
		emit(t, a64_ldp_post(A64_LS_X, A64_FP, lr, A64_SP,
				     t->frame_size));
		popped(t, 0);
	} else {
		emit(t, a64_ldp(A64_LS_X, A64_FP, lr, A64_SP, t->rec_off));
		popped(t, t->frame_size);
		say(t, FTRAMP_INSN_POP_FRAME);
		emit(t, a64_add_imm(A64_64, A64_SP, A64_SP, t->frame_size));
		popped(t, 0);
	}
	say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_JUMP);
	emit(t, a64_ret_reg(A64_IP0));
}

static void emit_enter_body(struct tramp *t)
{
	restore_args(t);
	say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_IP0, t->orig);
	emit_leave_to_body(t, false);
}

/*
 * The return hook, entry side (after the fentry and fmod_ret programs,
 * guard taken, counted in flight): push a record of the caller's SP, the
 * stub, the state and the caller's return address, with x0-x7 below
 * it for the fexit ctx; then enter the body on the caller's own stack,
 * every argument register back, x30 = the stub:
 *
 *	strb w19, [x19, #slot]		guard FREE for the body
 *	...  room? (emit_room_check())
 *	add  x10, x10, #96
 *	stur x10, [x19, #-16]		top = our header (reserved first)
 *	...  x0-x8, q0-q7 from the frame
 *	stp  x0, x1, [x10, #-64]	... x6, x7
 *	adr  x15, stub
 *	ldr  x13, [sp, #record + 8]	the caller's return address
 *	stp  x15, x13, [x10, #16]	link, ra
 *	add  x14, sp, #entry		the caller's SP
 *	ldr  x12, =state | 1		a return hook's
 *	stp  x14, x12, [x10]		sp, state: live
 *	ldr  x16, =body
 *	ldr  x19, [sp, #ctx-16]		the caller's x19
 *	mov  x30, x15
 *	ldp  x29, x17, [sp], #frame
 *	ret  x16
 *
 * The in-flight count stays taken: the body returns into the image.
 * The body's paciasp signs x30 = the stub with SP = the caller's SP,
 * and its autiasp checks the same: PAC needs nothing from us.
 */
static void emit_hook_call(struct tramp *t)
{
	unsigned int i;

	note(t, FTRAMP_PART_GUARD_FREE);
	emit_guard_release(t);
	note(t, FTRAMP_PART_HOOK_PUSH);
	emit_room_check(t, L_HOOK_FULL);
	say(t, FTRAMP_INSN_PUSH_TOP);
	emit(t, a64_add_imm(A64_64, R_TOP, R_TOP, FTRAMP_SHADOW_SLOT));
	emit_top_store(t, R_TOP, true);
	restore_args(t);
	for (i = 0; i < 8; i += 2) {
		say(t, FTRAMP_INSN_ARGS_TO_REC);
		emit(t, a64_stp(A64_LS_X, A64_R(i), A64_R(i + 1), R_TOP,
				(int)(8 * i) - (int)FTRAMP_SHADOW_PAYLOAD));
	}
	say(t, FTRAMP_INSN_STUB_ADDR);
	a64_emit_adr(&t->a, R_T5, label_addr(t, L_STUB));
	emit_ldst_x(t, A64_LOAD, R_T3, t->rec_off + 8);
	say(t, FTRAMP_INSN_REC_LINK_RA);
	emit(t, a64_stp(A64_LS_X, R_T5, R_T3, R_TOP, 16));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, R_T4, t->entry_sp_off);
	say_how(t, FTRAMP_INSN_HOOK_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_STATE, state_addr(t) | FTRAMP_SHADOW_HOOK);
	say(t, FTRAMP_INSN_PUSH_REC);
	emit(t, a64_stp(A64_LS_X, R_T4, R_STATE, R_TOP, 0));
	note(t, FTRAMP_PART_HOOK_BODY);
	say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_IP0, t->orig);
	emit_leave_to_body(t, true);
}

/*
 * Out of line, for the return hook: a full shadow stack (count a miss,
 * give the count back, run the body untraced with the caller's x30; the
 * guard is already free).
 */
static void emit_hook_slow(struct tramp *t)
{
	bind(t, L_HOOK_FULL);
	uw_body(t, true, A64_UW_INFLIGHT);
	note(t, FTRAMP_PART_HOOK_FULL);
	emit_count_miss(t);
	emit_count_out(t);
	emit_enter_body(t);
}

/*
 * The exit stub: the hooked body returns here, SP = the caller's SP,
 * the result in x0-x8/q0-q7, x19 and x29 the caller's (callee-saved).
 * Build the same frame as the entry (the record's LR filled in once the
 * record is found), save every result register, find the record
 * (x10), copy its x0-x7 into ctx and pop it, run the fexit programs,
 * and return to the caller's return address with the result intact.
 *
 *	stp  x29, x30, [sp, #-frame]!	x30 (the stub) replaced below
 *	mov  x29, sp
 *	...  x0 -> ctx[n], d0 -> ctx[n+1], x1-x8, q0-q7 saved
 *	str  x19, [sp, #ctx-16]
 *	mrs  x19, tpidr_el0; ldr x19, [x19, #tls]
 *	ldp  x10, x11, [x19, #-16]
 *	ldp  x13, x14, [x10]		sp, state
 *	add  x15, sp, #frame
 *	cmp  x13, x15;  b.ne slow
 *	ldr  x15, =state | 1
 *	cmp  x14, x15;  b.ne slow	(a dead record above ours)
 * have:
 *	ldr  x13, [x10, #24];  str x13, [sp, #record + 8]
 *	...  x0-x7 -> ctx[0..7]
 *	sub  x11, x10, #96
 *	stur x11, [x19, #-16]		popped
 *	str  xzr, [x10, #8]		its state: the slot is free
 *	ldr  x12, =state;  str x12, [sp, #ctx-8]
 *	strb wzr, [x19, #slot]		guard BUSY for the fexit programs
 *
 * BTI: reached by RET, which sets no BTYPE (Arm ARM D8.4.1): no pad.
 */
static void emit_hook_stub(struct tramp *t)
{
	unsigned int i;

	int32_t fp_at = (int32_t)t->rec_off - (int32_t)t->frame_size;

	/*
	 * A word never run, before the stub: an unwinder looks a return
	 * address up minus one, and what it finds here must stop it
	 * rather than describe the code before (trampoline/unwind.c gives
	 * the libgcc unwinder the real answer for it).
	 */
	uw_stub(t, 0, 0);
	say(t, FTRAMP_INSN_NEVER_RUN);
	emit(t, a64_brk(0x3f1));
	if (writing(t) && t->args->unwind)
		t->args->unwind->stub_off = t->a.idx * A64_INSN_SIZE;
	bind(t, L_STUB);
	note(t, FTRAMP_PART_HOOK_STUB);
	uw_stub(t, 0, 0);
	if (record_at_sp(t)) {
		say(t, FTRAMP_INSN_RECORD_LR);
		emit(t, a64_stp_pre(A64_LS_X, A64_FP, A64_LR, A64_SP,
				    -(int)t->frame_size));
		uw_stub(t, t->frame_size, fp_at);
		say(t, FTRAMP_INSN_FP);
		emit(t, a64_mov_reg(A64_64, A64_FP, A64_SP));
	} else {
		say_insn(t, (struct ftramp_tramp_insn){
				.what = FTRAMP_INSN_FRAME,
				.imm = t->frame_size }, false);
		emit(t, a64_sub_imm(A64_64, A64_SP, A64_SP, t->frame_size));
		uw_stub(t, t->frame_size, 0);
		say(t, FTRAMP_INSN_RECORD_LR);
		emit(t, a64_stp(A64_LS_X, A64_FP, A64_LR, A64_SP,
				t->rec_off));
		uw_stub(t, t->frame_size, fp_at);
		say(t, FTRAMP_INSN_FP);
		emit_add_sp(t, A64_FP, t->rec_off);
	}
	save_ret_unknown(t);
	emit_ldst_x(t, A64_STORE, R_GUARD, t->x19_off);
	uw_x19(t, true);
	t->uw_stub = t->uw;
	emit_load_table(t, t->args->state->guard_tls_off);
	emit_top_load(t);
	say(t, FTRAMP_INSN_REC_HEADER);
	emit(t, a64_ldp(A64_LS_X, R_T3, R_T4, R_TOP, 0));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, R_T5, t->entry_sp_off);
	say(t, FTRAMP_INSN_REC_OURS);
	emit(t, a64_cmp(A64_64, R_T3, R_T5));
	say(t, FTRAMP_INSN_NOT_OURS);
	a64_emit_b_cond(&t->a, A64_COND_NE, label_addr(t, L_STUB_SLOW));
	say_how(t, FTRAMP_INSN_HOOK_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_T5, state_addr(t) | FTRAMP_SHADOW_HOOK);
	say(t, FTRAMP_INSN_REC_OURS);
	emit(t, a64_cmp(A64_64, R_T4, R_T5));
	say(t, FTRAMP_INSN_NOT_OURS);
	a64_emit_b_cond(&t->a, A64_COND_NE, label_addr(t, L_STUB_SLOW));

	bind(t, L_STUB_HAVE);
	note(t, FTRAMP_PART_HOOK_POP);
	say(t, FTRAMP_INSN_REC_RA);
	emit(t, a64_ldr(A64_LS_X, R_T3, R_TOP, 24));
	emit_ldst_x(t, A64_STORE, R_T3, t->rec_off + 8);
	/* The frame as the entry's, with the real return address. */
	t->uw = t->uw_body;
	t->uw.saved_at[A64_UW_SAVED(19)] =
		(int32_t)t->x19_off - (int32_t)t->frame_size;
	uw_commit(t);
	for (i = 0; i < 8; i += 2) {
		say(t, FTRAMP_INSN_REC_ARGS);
		emit(t, a64_ldp(A64_LS_X, R_T3, R_T4, R_TOP,
				(int)(8 * i) - (int)FTRAMP_SHADOW_PAYLOAD));
		emit_ldstp_x(t, A64_STORE, R_T3, R_T4, t->ctx_off + 8 * i);
	}
	say(t, FTRAMP_INSN_POP_TOP);
	emit(t, a64_sub_imm(A64_64, R_LIM, R_TOP, FTRAMP_SHADOW_SLOT));
	emit_top_store(t, R_LIM, false);
	say(t, FTRAMP_INSN_REC_FREE);
	emit(t, a64_str(A64_LS_X, A64_ZR, R_TOP, 8));
	/* Popped: from here the frame holds the in-flight unit alone. */
	uw_held(t, A64_UW_INFLIGHT, 0);
	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_STATE, state_addr(t));
	emit_ldst_x(t, A64_STORE, R_STATE, t->runctx_off);
	t->cur_rctx = RCTX_STATE;
	emit_guard_retake(t);
}

/* The stub's record is not on top: shadow_find() releases what is above. */
static void emit_hook_stub_slow(struct tramp *t)
{
	bind(t, L_STUB_SLOW);
	t->uw = t->uw_stub;
	uw_commit(t);
	say(t, FTRAMP_INSN_TABLE_ARG);
	emit(t, a64_mov_reg(A64_64, A64_R0, R_GUARD));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, A64_R1, t->entry_sp_off);
	say_how(t, FTRAMP_INSN_HOOK_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_R2, state_addr(t) | FTRAMP_SHADOW_HOOK);
	emit_call(t, (uint64_t)(uintptr_t)t->args->state->shadow_find,
		  FTRAMP_INSN_SHADOW_FIND);
	emit(t, a64_mov_reg(A64_64, R_TOP, A64_R0));
	say(t, FTRAMP_INSN_BACK);
	a64_emit_b(&t->a, label_addr(t, L_STUB_HAVE));
}

/*
 * Modelled fexit: a plain record (sp, state) from the entry to the pop
 * before the fexit programs, so that a frame abandoned by longjmp (out
 * of the body or a program) is found and its in-flight count released.
 * Its sp is the SP the body and the programs get (ours).  One load of the
 * header serves the dead-record check and the room check, and the state
 * is still in x12 from emit_enter():
 *
 *	ldp  x10, x11, [x19, #-16]	top, limit
 *	ldr  x13, [x10]			top record's sp
 *	add  x14, sp, #entry		the caller's SP
 *	cmp  x13, x14			above it (hi): alive, then
 *	ccmp x10, x11, #C, hi		top > limit?  (else C, !Z: hi)
 *	b.hi enter			maybe dead, or no room (rare)
 * push:
 *	add  x10, x10, #96
 *	stur x10, [x19, #-16]		reserved first (a signal handler
 *					sees state 0 there: being pushed)
 *	stp  x29, x12, [x10]		sp (x29 is SP without stack
 *					arguments), state: live
 * pushed:
 *
 * A live record's sp is above every SP of the code it called, or equal
 * only for a tail call from the image: image.c decides.
 */
static void emit_shadow_enter(struct tramp *t)
{
	note(t, FTRAMP_PART_SHADOW_PUSH);
	emit_top_load(t);
	say(t, FTRAMP_INSN_TOP_SP);
	emit(t, a64_ldr(A64_LS_X, R_T3, R_TOP, 0));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, R_T4, t->entry_sp_off);
	say(t, FTRAMP_INSN_TOP_ALIVE);
	emit(t, a64_cmp(A64_64, R_T3, R_T4));
	say(t, FTRAMP_INSN_ROOM);
	emit(t, a64_ccmp(A64_64, R_TOP, R_LIM, NZCV_C, A64_COND_HI));
	say(t, FTRAMP_INSN_DEAD_OR_FULL);
	a64_emit_b_cond(&t->a, A64_COND_HI, label_addr(t, L_SHADOW_ENTER));
	bind(t, L_SHADOW_PUSH);
	say(t, FTRAMP_INSN_PUSH_TOP);
	emit(t, a64_add_imm(A64_64, R_TOP, R_TOP, FTRAMP_SHADOW_SLOT));
	emit_top_store(t, R_TOP, true);
	if (t->rec_off) {
		say(t, FTRAMP_INSN_OUR_SP);
		emit_add_sp(t, R_T3, 0);
	}
	say(t, FTRAMP_INSN_PUSH_REC);
	emit(t, a64_stp(A64_LS_X, t->rec_off ? R_T3 : A64_FP, R_STATE,
			R_TOP, 0));
	bind(t, L_SHADOW_PUSHED);
}

/* x13 = the SP our record holds: x29 without stack arguments. */
static enum a64_reg shadow_sp(struct tramp *t, enum a64_reg scratch)
{
	if (!t->rec_off)
		return A64_FP;
	say(t, FTRAMP_INSN_OUR_SP);
	emit_add_sp(t, scratch, 0);
	return scratch;
}

/*
 * At L_DO_FEXIT, on the original's path and on an fmod_ret skip: pop
 * our record.  It is the top one exactly when the top's sp is ours:
 * every record pushed after ours (by what this call ran) has a lower
 * sp, and the entry released every dead one at or below ours.
 *
 *	ldur x10, [x19, #-16]		top
 *	ldr  x13, [x10]
 *	cmp  x13, x29
 *	b.ne slow			records above ours, or none (full)
 *	stp  xzr, xzr, [x10], #-96	state 0 first: never released
 *	stur x10, [x19, #-16]		then top down
 * popped:
 */
static void emit_shadow_pop(struct tramp *t)
{
	enum a64_reg sp;

	note(t, FTRAMP_PART_SHADOW_POP);
	t->pop_held = t->uw.held;
	say(t, FTRAMP_INSN_TOP_LOAD);
	emit(t, a64_ldst_imm(A64_LOAD, A64_LS_X, R_TOP, R_GUARD,
			     FTRAMP_SHADOW_TOP, A64_UNSCALED));
	say(t, FTRAMP_INSN_TOP_SP);
	emit(t, a64_ldr(A64_LS_X, R_T3, R_TOP, 0));
	sp = shadow_sp(t, R_T4);
	say(t, FTRAMP_INSN_OUR_REC);
	emit(t, a64_cmp(A64_64, R_T3, sp));
	say(t, FTRAMP_INSN_NOT_OURS);
	a64_emit_b_cond(&t->a, A64_COND_NE, label_addr(t, L_SHADOW_SLOW));
	say(t, FTRAMP_INSN_POP_REC);
	emit(t, a64_ldstp(A64_STORE, A64_LS_X, A64_ZR, A64_ZR, R_TOP,
			  -(int)FTRAMP_SHADOW_SLOT, A64_POST));
	emit_top_store(t, R_TOP, false);
	bind(t, L_SHADOW_POPPED);
}

/*
 * Out of line, both rare:
 *
 * enter: shadow_prune(table, caller's SP, caller's return address)
 * releases the dead records and reports them to their images' fexit
 * programs (counted in flight here: a call is safe; x0-x8 are saved in
 * ctx), this image's guard free meanwhile so that its own dead records
 * are reported too; then push if there is room, else run without a
 * record (a longjmp out of this call would keep the count).
 *
 * slow: shadow_drop(table, our sp, state) releases the records above
 * ours and pops ours if it is there (none when the stack was full).
 */
static void emit_shadow_slow(struct tramp *t)
{
	bind(t, L_SHADOW_ENTER);
	uw_body(t, true, A64_UW_INFLIGHT | A64_UW_GUARD);
	emit_guard_release(t);
	say(t, FTRAMP_INSN_TABLE_ARG);
	emit(t, a64_mov_reg(A64_64, A64_R0, R_GUARD));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit(t, a64_mov_reg(A64_64, A64_R1, R_T4));
	emit_ldst_x(t, A64_LOAD, A64_R2, t->rec_off + 8);	/* x9 */
	emit_call(t, (uint64_t)(uintptr_t)t->args->state->shadow_prune,
		  FTRAMP_INSN_SHADOW_PRUNE);
	emit_guard_retake(t);
	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_STATE, state_addr(t));
	emit_top_load(t);
	say(t, FTRAMP_INSN_ROOM);
	emit(t, a64_cmp(A64_64, R_TOP, R_LIM));
	say(t, FTRAMP_INSN_TO_PUSH);
	a64_emit_b_cond(&t->a, A64_COND_LS, label_addr(t, L_SHADOW_PUSH));
	say(t, FTRAMP_INSN_BACK);
	a64_emit_b(&t->a, label_addr(t, L_SHADOW_PUSHED));

	bind(t, L_SHADOW_SLOW);
	uw_body(t, true, t->pop_held);
	say(t, FTRAMP_INSN_OUR_SP);
	if (t->rec_off)
		emit_add_sp(t, A64_R1, 0);
	else
		emit(t, a64_mov_reg(A64_64, A64_R1, A64_FP));
	say(t, FTRAMP_INSN_TABLE_ARG);
	emit(t, a64_mov_reg(A64_64, A64_R0, R_GUARD));
	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_R2, state_addr(t));
	emit_call(t, (uint64_t)(uintptr_t)t->args->state->shadow_drop,
		  FTRAMP_INSN_SHADOW_DROP);
	say(t, FTRAMP_INSN_BACK);
	a64_emit_b(&t->a, label_addr(t, L_SHADOW_POPPED));
}

/* ------------------------------------------------------------------
 * Histogram images (FTRAMP_HIST links, counters at most, no program):
 * a lean return hook (Documentation/trampoline.rst, "Histogram
 * images").  The call's shadow record is a return hook's (so that
 * image.c releases it, and unwind.c unwinds through the stub, as any
 * other), with the entry time in the last payload word; no frame, no
 * ctx, no guard byte.  x9-x17 are free at both ends: at the entry the
 * site's x9 and x30 are the only live temporaries, and at the stub a
 * function has just returned (AAPCS64 6.1.1).
 * ------------------------------------------------------------------ */

/* The record's entry time: payload word 7 (a hook's x7, unused here). */
/* Registers: the table, the top record, scratch, the caller's SP, state. */
#define H_TBL	A64_R10
#define H_TOP	A64_R11
#define H_X12	A64_R12
#define H_X13	A64_R13
#define H_SP	A64_R14
#define H_ST	A64_R15
#define HIST_TIME_OFF	(-8)
/*
 * The slow paths' frame: the record (x29 and the return address), then
 * x0-x9 and x10, then q0-q7.
 *
 *	SP + 112  q0-q7		(16-byte aligned for STP Q)
 *	SP + 16   x0-x9, x10
 *	SP + 0    x29, x9 (entry) or x30 (stub)
 */
#define HIST_GP_OFF	16u
#define HIST_FP_OFF	112u
#define HIST_FRAME	240u

static void uw_hist_frame(struct tramp *t, unsigned int cfa_off, bool fp,
			  bool saved)
{
	t->uw.cfa_reg = fp ? A64_DW_FP : A64_DW_SP;
	t->uw.cfa_off = cfa_off;
	t->uw.fp_at = saved ? -(int32_t)HIST_FRAME : 0;
	if (t->uw.ra_reg != A64_UW_RA_UNDEF)
		t->uw.ra_at = saved ? -(int32_t)HIST_FRAME + 8 : 0;
	uw_commit(t);
}

/* Build or take down the slow paths' frame, lr the record's second word. */
static void emit_hist_frame(struct tramp *t, enum a64_reg lr, bool up,
			    bool x10)
{
	enum a64_ldst_op op = up ? A64_STORE : A64_LOAD;
	enum ftramp_insn_how how = up ? FTRAMP_INSN_SAVE : FTRAMP_INSN_LOAD;
	unsigned int i;

	if (up) {
		say(t, lr == A64_R9 ? FTRAMP_INSN_RECORD_X9 :
				      FTRAMP_INSN_RECORD_LR);
		emit(t, a64_stp_pre(A64_LS_X, A64_FP, lr, A64_SP,
				    -(int)HIST_FRAME));
		uw_hist_frame(t, HIST_FRAME, false, true);
		say(t, FTRAMP_INSN_FP);
		emit(t, a64_mov_reg(A64_64, A64_FP, A64_SP));
		uw_hist_frame(t, HIST_FRAME, true, true);
	}
	for (i = 0; i < 10; i += 2) {
		say_how(t, FTRAMP_INSN_HIST_REGS, how);
		emit(t, a64_ldstp(op, A64_LS_X, A64_R(i), A64_R(i + 1), A64_SP,
				  HIST_GP_OFF + 8 * i, A64_OFFSET));
	}
	if (x10) {
		say_how(t, FTRAMP_INSN_TABLE_ARG, how);
		emit(t, a64_ldst_imm(op, A64_LS_X, H_TBL, A64_SP,
				     HIST_GP_OFF + 8 * 10, A64_OFFSET));
	}
	for (i = 0; i < 8; i += 2) {
		say_how(t, FTRAMP_INSN_VREGS, how);
		emit(t, a64_ldstp(op, A64_LS_Q, A64_R(i), A64_R(i + 1), A64_SP,
				  HIST_FP_OFF + 16 * i, A64_OFFSET));
	}
	if (!up) {
		say(t, FTRAMP_INSN_POP_FRAME);
		emit(t, a64_ldp_post(A64_LS_X, A64_FP, lr, A64_SP,
				     HIST_FRAME));
		uw_hist_frame(t, 0, false, false);
	}
}

/* Into the body: x30 as set, SP and every argument as at the site. */
static void emit_hist_to_body(struct tramp *t)
{
	if (reaches(t, t->orig)) {
		say(t, FTRAMP_INSN_BODY);
		a64_emit_b(&t->a, t->orig);
		return;
	}
	/* RET sets no BTYPE (Arm ARM D8.4.1): the body needs no pad. */
	say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_IP0, t->orig);
	say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_JUMP);
	emit(t, a64_ret_reg(A64_IP0));
}

/*
 * The entry: push a return hook's record with the entry time, and enter
 * the body with x30 = the exit stub.  The thread counts in flight from
 * the push to the stub's pop: the body returns into the image.
 *
 *	mrs   x10, tpidr_el0
 *	ldr   x10, [x10, #tls]		this thread's table
 *	ldp   x11, x12, [x10, #-16]	top, limit
 *	ldr   x13, [x11]		top record's sp
 *	mov   x14, sp			the caller's SP
 *	cmp   x13, x14			above it (hi): alive, then
 *	ccmp  x11, x12, #C, hi		top > limit?  (else C, !Z: hi)
 *	b.hi  slow			maybe dead, no room, or no table
 * push:
 *	ldr   x15, =state
 *	mov   x13, #0x80
 *	stadd x13, [x15]		in flight
 *	add   x11, x11, #96
 *	stur  x11, [x10, #-16]		top = our header (reserved first)
 *	orr   x12, x15, #1		a return hook's
 *	adr   x30, stub
 *	stp   x30, x9, [x11, #16]	link, ra
 *	mrs   x13, cntvct_el0
 *	stur  x13, [x11, #-8]		the entry time
 *	stp   x14, x12, [x11]		sp, state: live
 *	b     body			(far: ldr x16, =body; ret x16)
 *
 * The liveness check is the modelled entry's (emit_shadow_enter()): a
 * frame abandoned by longjmp must not pin its image beyond the next
 * traced entry at its level.  A thread without a table reads guard_none's
 * header, whose top is a sentinel with sp 0: slow.
 */
static void emit_hist_entry(struct tramp *t)
{
	const struct ftramp_tramp_state *st = t->args->state;

	note(t, FTRAMP_PART_HIST_ENTRY);
	emit_table_to(t, H_TBL, st->guard_tls_off);
	say(t, FTRAMP_INSN_TOP_LOAD);
	emit(t, a64_ldstp(A64_LOAD, A64_LS_X, H_TOP, H_X12, H_TBL,
			  FTRAMP_SHADOW_TOP, A64_OFFSET));
	say(t, FTRAMP_INSN_TOP_SP);
	emit(t, a64_ldr(A64_LS_X, H_X13, H_TOP, 0));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit(t, a64_mov_reg(A64_64, H_SP, A64_SP));
	say(t, FTRAMP_INSN_TOP_ALIVE);
	emit(t, a64_cmp(A64_64, H_X13, H_SP));
	say(t, FTRAMP_INSN_ROOM);
	emit(t, a64_ccmp(A64_64, H_TOP, H_X12, NZCV_C, A64_COND_HI));
	say(t, FTRAMP_INSN_HIST_SLOW);
	a64_emit_b_cond(&t->a, A64_COND_HI, label_addr(t, L_SLOW));
	bind(t, L_HIST_PUSH);
	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, H_ST, state_addr(t));
	say(t, FTRAMP_INSN_UNIT_INC);
	emit(t, a64_movw(A64_MOVZ, A64_64, H_X13, FTRAMP_INFLIGHT_UNIT, 0));
	say(t, FTRAMP_INSN_INFLIGHT_INC);
	emit_atomic_add(t, H_ST, H_X13, false);
	say(t, FTRAMP_INSN_PUSH_TOP);
	emit(t, a64_add_imm(A64_64, H_TOP, H_TOP, FTRAMP_SHADOW_SLOT));
	say(t, FTRAMP_INSN_TOP_STORE);
	emit(t, a64_ldst_imm(A64_STORE, A64_LS_X, H_TOP, H_TBL,
			     FTRAMP_SHADOW_TOP, A64_UNSCALED));
	say(t, FTRAMP_INSN_HOOK_STATE);
	emit(t, a64_orr_imm(A64_64, H_X12, H_ST, FTRAMP_SHADOW_HOOK));
	say(t, FTRAMP_INSN_STUB_LR);
	a64_emit_adr(&t->a, A64_LR, label_addr(t, L_STUB));
	say(t, FTRAMP_INSN_REC_LINK_RA);
	emit(t, a64_stp(A64_LS_X, A64_LR, A64_R9, H_TOP, 16));
	say(t, FTRAMP_INSN_HIST_TIME);
	emit(t, a64_mrs_cntvct_el0(H_X13));
	say(t, FTRAMP_INSN_HIST_TIME_REC);
	emit(t, a64_ldst_imm(A64_STORE, A64_LS_X, H_X13, H_TOP, HIST_TIME_OFF,
			     A64_UNSCALED));
	say(t, FTRAMP_INSN_PUSH_REC);
	emit(t, a64_stp(A64_LS_X, H_SP, H_X12, H_TOP, 0));
	emit_hist_to_body(t);
}

/*
 * Out of line: no table on this thread yet (guard_none), a top record
 * that may be dead, or a full stack.  Counted in, every argument
 * register saved: with no table, guard_slow() maps it; else
 * shadow_prune() releases the dead records on top (frames abandoned by
 * longjmp; a live one at our SP is a tail call's).  Then push if there
 * is room; else a miss, the body untraced.
 *
 * slow:
 *	...   in flight; frame; x0-x10, q0-q7 saved
 *	ldr   x12, =guard_none
 *	cmp   x10, x12
 *	b.ne  prune
 *	bl    guard_slow
 *	mov   x10, x0			the table, or NULL: a miss
 *	b     done
 * prune:
 *	mov   x0, x10
 *	add   x1, sp, #frame		the caller's SP
 *	mov   x2, x9			and return address
 *	bl    shadow_prune
 *	ldr   x10, [sp, #x10]
 * done:
 *	...   restored but x10; frame down; out of flight
 *	cbz   x10, miss
 *	ldp   x11, x12, [x10, #-16]
 *	cmp   x11, x12
 *	b.hi  miss
 *	mov   x14, sp
 *	b     push
 * miss:
 *	...   state->misses += 1
 *	mov   x30, x9
 *	b     body
 */
static void emit_hist_slow(struct tramp *t)
{
	const struct ftramp_tramp_state *st = t->args->state;

	bind(t, L_SLOW);
	note(t, FTRAMP_PART_HIST_SLOW);
	say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, R_STATE, state_addr(t));
	emit_count_in(t);
	emit_hist_frame(t, A64_R9, true, true);
	say_how(t, FTRAMP_INSN_GUARD_NONE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, H_X12, (uint64_t)(uintptr_t)st->guard_none);
	say(t, FTRAMP_INSN_IS_NONE);
	emit(t, a64_cmp(A64_64, H_TBL, H_X12));
	say(t, FTRAMP_INSN_HIST_HAS_TABLE);
	a64_emit_b_cond(&t->a, A64_COND_NE, label_addr(t, L_PRUNE));
	emit_call(t, (uint64_t)(uintptr_t)st->guard_slow,
		  FTRAMP_INSN_GUARD_SLOW);
	say(t, FTRAMP_INSN_HIST_NEW_TABLE);
	emit(t, a64_mov_reg(A64_64, H_TBL, A64_R0));
	say(t, FTRAMP_INSN_BACK);
	a64_emit_b(&t->a, label_addr(t, L_PRUNED));
	bind(t, L_PRUNE);
	say(t, FTRAMP_INSN_TABLE_ARG);
	emit(t, a64_mov_reg(A64_64, A64_R0, H_TBL));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, A64_R1, HIST_FRAME);
	say(t, FTRAMP_INSN_CALLER_LR);
	emit(t, a64_mov_reg(A64_64, A64_R2, A64_R9));
	emit_call(t, (uint64_t)(uintptr_t)st->shadow_prune,
		  FTRAMP_INSN_SHADOW_PRUNE);
	say_how(t, FTRAMP_INSN_TABLE_ARG, FTRAMP_INSN_LOAD);
	emit(t, a64_ldst_imm(A64_LOAD, A64_LS_X, H_TBL, A64_SP,
			     HIST_GP_OFF + 8 * 10, A64_OFFSET));
	bind(t, L_PRUNED);
	emit_hist_frame(t, A64_R9, false, false);
	emit_count_out(t);
	say(t, FTRAMP_INSN_SLOW_NONE);
	a64_emit_cbz(&t->a, A64_64, H_TBL, label_addr(t, L_MISS));
	say(t, FTRAMP_INSN_TOP_LOAD);
	emit(t, a64_ldstp(A64_LOAD, A64_LS_X, H_TOP, H_X12, H_TBL,
			  FTRAMP_SHADOW_TOP, A64_OFFSET));
	say(t, FTRAMP_INSN_ROOM);
	emit(t, a64_cmp(A64_64, H_TOP, H_X12));
	say(t, FTRAMP_INSN_HIST_FULL);
	a64_emit_b_cond(&t->a, A64_COND_HI, label_addr(t, L_MISS));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit(t, a64_mov_reg(A64_64, H_SP, A64_SP));
	say(t, FTRAMP_INSN_TO_PUSH);
	a64_emit_b(&t->a, label_addr(t, L_HIST_PUSH));
	bind(t, L_MISS);
	say_how(t, FTRAMP_INSN_MISSES, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, H_TBL, (uint64_t)(uintptr_t)&st->misses);
	say(t, FTRAMP_INSN_ONE);
	emit(t, a64_movw(A64_MOVZ, A64_64, H_X13, 1, 0));
	say(t, FTRAMP_INSN_MISS);
	emit_atomic_add(t, H_TBL, H_X13, false);
	say(t, FTRAMP_INSN_CALLER_LR);
	emit(t, a64_mov_reg(A64_64, A64_LR, A64_R9));
	emit_hist_to_body(t);
}

/*
 * The exit stub: the body returned here, SP = the caller's SP, the
 * result in x0-x8/q0-q7 untouched throughout.
 *
 *	mrs   x9, cntvct_el0		the exit time, first
 *	mrs   x10, tpidr_el0
 *	ldr   x10, [x10, #tls]
 *	ldur  x11, [x10, #-16]		top
 *	ldp   x12, x13, [x11, #-8]	entry time, sp
 *	cmp   sp, x13
 *	b.ne  stub_slow			a record above ours (rare)
 * have:
 *	ldr   x30, [x11, #24]		the caller's return address
 *	sub   x9, x9, x12
 *	clz   x9, x9
 *	mov   x13, #1
 *	ldr   x12, =hist + 512		per histogram:
 *	sub   x12, x12, x9, lsl #3	  &hist[64 - clz]
 *	stadd x13, [x12]
 *	stp   xzr, xzr, [x11], #-96	sp, state = 0 first: never released
 *	stur  x11, [x10, #-16]		then top down
 *	ldr   x12, =state
 *	mov   x14, #-0x80
 *	stadd x14, [x12]		out of flight (release)
 *	ret
 *
 * The top record is ours exactly when its sp is the caller's SP: every
 * record pushed by what the body ran has a lower sp, or an equal one for
 * a hooked function the body tail-called, which returned through its own
 * stub (popped) before returning here.
 */
static void emit_hist_stub(struct tramp *t)
{
	unsigned int i;

	uw_stub(t, 0, 0);
	say(t, FTRAMP_INSN_NEVER_RUN);
	emit(t, a64_brk(0x3f1));	/* as the hook's: never run */
	if (writing(t) && t->args->unwind)
		t->args->unwind->stub_off = t->a.idx * A64_INSN_SIZE;
	bind(t, L_STUB);
	note(t, FTRAMP_PART_HIST_EXIT);
	uw_stub(t, 0, 0);
	say(t, FTRAMP_INSN_HIST_TIME);
	emit(t, a64_mrs_cntvct_el0(A64_R9));
	emit_table_to(t, H_TBL, t->args->state->guard_tls_off);
	say(t, FTRAMP_INSN_TOP_LOAD);
	emit(t, a64_ldst_imm(A64_LOAD, A64_LS_X, H_TOP, H_TBL,
			     FTRAMP_SHADOW_TOP, A64_UNSCALED));
	say(t, FTRAMP_INSN_HIST_REC_TIME);
	emit(t, a64_ldstp(A64_LOAD, A64_LS_X, H_X12, H_X13, H_TOP,
			  HIST_TIME_OFF, A64_OFFSET));
	/* cmp sp, x13: the extended-register form reads SP */
	say(t, FTRAMP_INSN_OUR_REC);
	emit(t, a64_addsub_ext(A64_SUBS, A64_64, A64_ZR, A64_SP, H_X13,
			       A64_UXTX, 0));
	say(t, FTRAMP_INSN_NOT_OURS);
	a64_emit_b_cond(&t->a, A64_COND_NE, label_addr(t, L_STUB_SLOW));
	bind(t, L_STUB_HAVE);
	say(t, FTRAMP_INSN_REC_RA);
	emit(t, a64_ldr(A64_LS_X, A64_LR, H_TOP, 24));
	uw_frame_popped(t, 0);
	say(t, FTRAMP_INSN_HIST_TICKS);
	emit(t, a64_sub(A64_64, A64_R9, A64_R9, H_X12));
	say(t, FTRAMP_INSN_HIST_CLZ);
	emit(t, a64_clz(A64_64, A64_R9, A64_R9));
	say(t, FTRAMP_INSN_ONE);
	emit(t, a64_movw(A64_MOVZ, A64_64, H_X13, 1, 0));
	for (i = 0; i < t->args->nr_hists; i++) {
		say_how(t, FTRAMP_INSN_HIST_ARRAY, FTRAMP_INSN_LIT);
		emit_ldr_lit(t, H_X12, (uint64_t)(uintptr_t)
			     (t->args->hists[i] + FTRAMP_HIST_BUCKETS - 1));
		say(t, FTRAMP_INSN_HIST_BUCKET);
		emit(t, a64_addsub_shifted(A64_SUB, A64_64, H_X12, H_X12,
					   A64_R9, A64_LSL, 3));
		say(t, FTRAMP_INSN_HIST_ADD);
		emit_atomic_add(t, H_X12, H_X13, false);
	}
	say(t, FTRAMP_INSN_POP_REC);
	emit(t, a64_ldstp(A64_STORE, A64_LS_X, A64_ZR, A64_ZR, H_TOP,
			  -(int)FTRAMP_SHADOW_SLOT, A64_POST));
	say(t, FTRAMP_INSN_TOP_POPPED);
	emit(t, a64_ldst_imm(A64_STORE, A64_LS_X, H_TOP, H_TBL,
			     FTRAMP_SHADOW_TOP, A64_UNSCALED));
	emit_count_out(t);
	say(t, FTRAMP_INSN_RET_CALLER);
	emit(t, a64_ret());
}

/*
 * Out of line: our record is not on top (records above it were
 * abandoned).  shadow_find() releases them and returns ours.
 */
static void emit_hist_stub_slow(struct tramp *t)
{
	bind(t, L_STUB_SLOW);
	uw_stub(t, 0, 0);
	emit_hist_frame(t, A64_LR, true, true);
	say(t, FTRAMP_INSN_TABLE_ARG);
	emit(t, a64_mov_reg(A64_64, A64_R0, H_TBL));
	say(t, FTRAMP_INSN_CALLER_SP);
	emit_add_sp(t, A64_R1, HIST_FRAME);
	say_how(t, FTRAMP_INSN_HOOK_STATE, FTRAMP_INSN_LIT);
	emit_ldr_lit(t, A64_R2, state_addr(t) | FTRAMP_SHADOW_HOOK);
	emit_call(t, (uint64_t)(uintptr_t)t->args->state->shadow_find,
		  FTRAMP_INSN_SHADOW_FIND);
	say(t, FTRAMP_INSN_HIST_FOUND);
	emit(t, a64_mov_reg(A64_64, H_TOP, A64_R0));
	emit_hist_frame(t, A64_LR, false, true);
	uw_stub(t, 0, 0);
	say(t, FTRAMP_INSN_HIST_REC_TIME);
	emit(t, a64_ldst_imm(A64_LOAD, A64_LS_X, H_X12, H_TOP,
			     HIST_TIME_OFF, A64_UNSCALED));
	say(t, FTRAMP_INSN_BACK);
	a64_emit_b(&t->a, label_addr(t, L_STUB_HAVE));
}

static void emit_hist(struct tramp *t)
{
	if (t->args->flags & FTRAMP_TRAMP_F_BTI) {
		note(t, FTRAMP_PART_BTI);
		say(t, FTRAMP_INSN_BTI);
		emit(t, A64_BTI_C);
	}
	if (t->args->nr_counts) {
		note(t, FTRAMP_PART_COUNT);
		emit_counters(t, t->args->counts, t->args->nr_counts, false);
	}
	emit_hist_entry(t);
	emit_hist_slow(t);
	emit_hist_stub(t);
	emit_hist_stub_slow(t);
}

/* ------------------------------------------------------------------
 * Programs
 * ------------------------------------------------------------------ */

static void fill_rctx(const struct tramp *t, struct ftramp_run_ctx *r,
		      unsigned int kind, uint64_t cookie)
{
	const struct a64_abi_layout *lay = &t->lay;
	const struct ftramp_func_model *m = t->args->model;

	r->func_ip = t->args->func_addr;
	r->cookie = cookie;
	r->nr_args = lay->nr_arg_slots;
	r->nr_ret = lay->nr_ret_slots;
	r->kind = kind;
	r->ret_cls = m ? m->ret.cls : FTRAMP_RET_UNKNOWN;
	r->ret_size = m ? (uint8_t)(m->ret.size > 255 ? 255 : m->ret.size) : 8;
	r->ret_indirect = lay->ret.kind == A64_LOC_X8;
	r->pad = 0;
}

static int find_rctx(struct tramp *t, unsigned int kind, uint64_t cookie)
{
	unsigned int i;

	for (i = 0; i < t->nr_rctx; i++)
		if (t->rctx[i].kind == kind && t->rctx[i].cookie == cookie)
			return i;
	if (t->nr_rctx == MAX_RUN_CTX) {
		a64_ctx_error(&t->a, -E2BIG);
		return 0;
	}
	memset(&t->rctx[t->nr_rctx], 0, sizeof(t->rctx[0]));
	fill_rctx(t, &t->rctx[t->nr_rctx], kind, cookie);
	return t->nr_rctx++;
}

/* x0 = ctx; ctx[-1] = this program's run context; call it. */
static void emit_prog(struct tramp *t, unsigned int kind, unsigned int idx,
		      const struct ftramp_tramp_link *l)
{
	int i;

	note_prog(t, FTRAMP_PART_PROG, kind, idx);
	if (t->args->state && l->cookie == t->state_cookie) {
		if (t->cur_rctx != RCTX_STATE) {
			say_how(t, FTRAMP_INSN_STATE, FTRAMP_INSN_LIT);
			emit_ldr_lit(t, TMP0, state_addr(t));
			emit_ldst_x(t, A64_STORE, TMP0, t->runctx_off);
			t->cur_rctx = RCTX_STATE;
		}
	} else {
		i = find_rctx(t, kind, l->cookie);
		if (i != t->cur_rctx) {
			say(t, FTRAMP_INSN_RCTX);
			a64_emit_adr(&t->a, TMP0, a64_ctx_pc_at(&t->a,
				t->rctx_idx + (uint32_t)i *
				(sizeof(struct ftramp_run_ctx) / 4)));
			emit_ldst_x(t, A64_STORE, TMP0, t->runctx_off);
			t->cur_rctx = i;
		}
	}
	say(t, FTRAMP_INSN_CTX_ARG);
	emit_add_sp(t, A64_R0, t->ctx_off);
	emit_call_n(t, (uint64_t)(uintptr_t)l->prog, (struct ftramp_tramp_insn){
		.what = FTRAMP_INSN_PROG, .kind = (uint8_t)kind,
		.index = (uint16_t)idx });
}

static void emit_call_orig(struct tramp *t)
{
	note(t, FTRAMP_PART_CALL_ORIG);
	restore_args(t);
	copy_stack_args(t);
	if (t->site)
		emit_call_body(t, t->orig);
	else
		emit_call(t, t->orig, FTRAMP_INSN_ORIG);
	note(t, FTRAMP_PART_SAVE_RET);
	save_ret(t);
}

/* Take the frame down and return (to the caller, or into the body). */
static void emit_epilogue(struct tramp *t)
{
	unsigned int fs = t->frame_size;

	/*
	 * Into the body: x30 = the caller's return address, SP as at the
	 * site, what the body's paciasp signs with; RET sets no BTYPE (Arm
	 * ARM D8.4.1), so a guarded body needs no landing pad.
	 */
	note(t, FTRAMP_PART_EPILOGUE);
	if (!t->to_parent) {
		say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_LIT);
		emit_ldr_lit(t, TMP0, t->orig);
	}
	say(t, FTRAMP_INSN_POP_RECORD);
	if (record_at_sp(t)) {
		emit(t, a64_ldp_post(A64_LS_X, A64_FP, A64_LR, A64_SP, fs));
		uw_frame_popped(t, 0);
	} else {
		emit(t, a64_ldp(A64_LS_X, A64_FP, A64_LR, A64_SP, t->rec_off));
		uw_frame_popped(t, fs);
		say(t, FTRAMP_INSN_POP_FRAME);
		emit(t, a64_add_imm(A64_64, A64_SP, A64_SP, fs));
		uw_frame_popped(t, 0);
	}
	if (t->to_parent)
		say(t, FTRAMP_INSN_RET_CALLER);
	else
		say_how(t, FTRAMP_INSN_BODY, FTRAMP_INSN_JUMP);
	emit(t, a64_ret_reg(t->to_parent ? A64_LR : TMP0));
}

/*
 * The cookie that uses the state's run context: the first program's, so
 * that the common case (every program of a function attached with one
 * cookie) stores ctx[-1] once, at entry.
 */
static uint64_t pick_state_cookie(const struct ftramp_tramp_args *args)
{
	unsigned int k;

	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		if (args->progs[k].nr)
			return args->progs[k].links[0].cookie;
	return 0;
}

/* One pass over the whole image. */
static void build(struct tramp *t)
{
	const struct ftramp_tramp_args *args = t->args;
	const struct ftramp_tramp_links *fentry =
		&args->progs[FTRAMP_TRAMP_FENTRY];
	const struct ftramp_tramp_links *fmod =
		&args->progs[FTRAMP_TRAMP_MODIFY_RETURN];
	const struct ftramp_tramp_links *fexit =
		&args->progs[FTRAMP_TRAMP_FEXIT];
	struct ftramp_tramp_state *st = args->state;
	unsigned int i;

	t->nr_lits = 0;
	t->nr_rctx = 0;
	t->cur_rctx = RCTX_NONE;
	if (writing(t) && args->notes)
		args->notes->nr = 0;
	if (writing(t) && args->insns)
		args->insns->nr = 0;
	if (writing(t) && args->unwind)
		args->unwind->nr = 0;
	if (writing(t) && args->unwind)
		args->unwind->stub_off = 0;

	uw_entry(t);
	if (t->count_only) {
		emit_count_only(t);
		goto pool;
	}
	if (t->hist) {
		emit_hist(t);
		goto pool;
	}
	emit_prologue(t);
	if (args->nr_counts) {
		note(t, FTRAMP_PART_COUNT);
		emit_counters(t, args->counts, args->nr_counts, false);
	}
	note(t, FTRAMP_PART_SAVE_ARGS);
	save_args(t);
	if (fmod->nr || !t->call_orig) {
		note(t, FTRAMP_PART_ZERO_RET);
		zero_ret(t);
	}
	if (t->session) {
		note(t, FTRAMP_PART_SESSION);
		emit_ldst_x(t, A64_STORE, A64_ZR, t->session_off);
	}
	if (st) {
		note(t, FTRAMP_PART_ENTER);
		emit_enter(t);
	}
	if (t->shadow)
		emit_shadow_enter(t);
	else if (t->hook)
		emit_prune_check(t);

	for (i = 0; i < fentry->nr; i++)
		emit_prog(t, FTRAMP_TRAMP_FENTRY, i, &fentry->links[i]);
	for (i = 0; i < fmod->nr; i++) {
		emit_prog(t, FTRAMP_TRAMP_MODIFY_RETURN, i, &fmod->links[i]);
		note(t, FTRAMP_PART_FMOD_SKIP);
		if (ret_is_scalar(t))
			emit_ldst_x(t, A64_STORE, A64_R0, t->ret_off);
		/* The first non-zero value skips the original. */
		if (t->call_orig) {
			say(t, FTRAMP_INSN_FMOD_SKIP);
			a64_emit_cbnz(&t->a, A64_64, A64_R0,
				      label_addr(t, t->lay.unknown ? L_SKIP :
							     L_DO_FEXIT));
		}
	}
	if (t->hook) {
		emit_hook_call(t);
	} else if (t->call_orig) {
		/*
		 * Free the guard while the original runs (emit_guard_release()),
		 * busy again for fexit programs; without them the exit's
		 * release is a harmless second store of FREE.  A skip from
		 * fmod_ret never frees it.
		 */
		if (t->guard) {
			note(t, FTRAMP_PART_GUARD_FREE);
			emit_guard_release(t);
		}
		emit_call_orig(t);
		if (t->guard && fexit->nr) {
			note(t, FTRAMP_PART_GUARD_TAKE);
			emit_guard_retake(t);
		}
	}
	bind(t, L_DO_FEXIT);
	/*
	 * Both ways in hold the guard when fexit programs follow (an fmod_ret
	 * skip never freed it; the original's path took it back).
	 */
	if (t->guard && fexit->nr)
		uw_held(t, A64_UW_GUARD, 0);
	if (t->shadow)
		emit_shadow_pop(t);
	/* A skip from an earlier fmod_ret program joins here. */
	if (t->call_orig && fmod->nr > 1)
		t->cur_rctx = RCTX_NONE;
	for (i = 0; i < fexit->nr; i++)
		emit_prog(t, FTRAMP_TRAMP_FEXIT, i, &fexit->links[i]);
	if (st) {
		note(t, FTRAMP_PART_EXIT);
		emit_exit(t);
	}

	bind(t, L_OUT);
	if (st) {
		note(t, FTRAMP_PART_DEC);
		say(t, FTRAMP_INSN_INFLIGHT_DEC);
		emit_atomic_add(t, R_STATE, R_DEC, true);
		uw_held(t, 0, A64_UW_INFLIGHT | A64_UW_GUARD);
	}
	if (t->to_parent) {
		note(t, FTRAMP_PART_RESTORE_RET);
		restore_ret(t);
	} else {
		note(t, FTRAMP_PART_RESTORE_ARGS);
		restore_args(t);
	}
	emit_epilogue(t);

	if (t->guard)
		emit_guard_slow(t);

	if (t->lay.unknown && fmod->nr && t->call_orig) {
		/*
		 * fmod_ret skipped the original: the result's q0 is
		 * ctx[n + 1]'s bits (restore_ret_unknown() takes q0 from
		 * the save area, where the arguments' q0 still is).
		 */
		bind(t, L_SKIP);
		uw_body(t, t->guard, A64_UW_INFLIGHT |
			(t->guard ? A64_UW_GUARD : 0));
		emit_ldst_x(t, A64_LOAD, TMP0, t->ret_off + 8);
		say(t, FTRAMP_INSN_SKIP_Q0);
		emit_ldstp_x(t, A64_STORE, TMP0, A64_ZR, t->fpsave_off);
		say(t, FTRAMP_INSN_BACK);
		a64_emit_b(&t->a, label_addr(t, L_DO_FEXIT));
	}
	if (t->hook)
		emit_prune_slow(t);
	if (t->shadow)
		emit_shadow_slow(t);
	if (t->hook) {
		emit_hook_slow(t);
		emit_hook_stub(t);
		for (i = 0; i < fexit->nr; i++)
			emit_prog(t, FTRAMP_TRAMP_FEXIT, i, &fexit->links[i]);
		note(t, FTRAMP_PART_EXIT);
		emit_exit(t);
		note(t, FTRAMP_PART_DEC);
		say(t, FTRAMP_INSN_INFLIGHT_DEC);
		emit_atomic_add(t, R_STATE, R_DEC, true);
		uw_held(t, 0, A64_UW_INFLIGHT | A64_UW_GUARD);
		note(t, FTRAMP_PART_RESTORE_RET);
		restore_ret(t);
		emit_epilogue(t);
		emit_hook_stub_slow(t);
	}

pool:
	/* Literal pool and run contexts, 8-byte aligned. */
	if (t->a.idx & 1) {
		say(t, FTRAMP_INSN_PAD);
		emit(t, A64_NOP);
	}
	if (writing(t) && t->pool_idx != t->a.idx)
		a64_ctx_error(&t->a, -EFAULT);
	t->pool_idx = t->a.idx;
	if (t->nr_lits)
		note(t, FTRAMP_PART_POOL);
	for (i = 0; i < t->nr_lits; i++) {
		emit_word(t, (uint32_t)t->lits[i]);
		emit_word(t, (uint32_t)(t->lits[i] >> 32));
	}
	if (writing(t) && t->rctx_idx != t->a.idx)
		a64_ctx_error(&t->a, -EFAULT);
	t->rctx_idx = t->a.idx;
	if (t->nr_rctx)
		note(t, FTRAMP_PART_RUN_CTX);
	for (i = 0; i < t->nr_rctx; i++) {
		uint32_t w[sizeof(struct ftramp_run_ctx) / 4];
		unsigned int k;

		memcpy(w, &t->rctx[i], sizeof(w));
		for (k = 0; k < sizeof(w) / 4; k++)
			emit_word(t, w[k]);
	}
}

static const char *const part_desc[FTRAMP_NR_PARTS] = {
	[FTRAMP_PART_BTI]	   = "landing pad: the image may sit in a PROT_BTI page",
	[FTRAMP_PART_FRAME]	   = "frame: one record (x29, the caller's lr in x9); x29 = it",
	[FTRAMP_PART_COUNT]	   = "call counters += 1 (FTRAMP_COUNT links): before the guard, exact",
	[FTRAMP_PART_SAVE_ARGS]	   = "arguments -> ctx slots (integers widened to u64)",
	[FTRAMP_PART_ZERO_RET]	   = "result slots = 0 (what fexit reads when nothing sets them)",
	[FTRAMP_PART_SESSION]	   = "session cookie (ctx[-3]) = 0: shared by this call's programs",
	[FTRAMP_PART_ENTER]	   = "entry: save x19, ctx[-1] = state, x19 = guard table (TLS), take the guard, in-flight += 0x80",
	[FTRAMP_PART_PROG]	   = "program: x0 = ctx, call it",
	[FTRAMP_PART_FMOD_SKIP]	   = "fmod_ret: the value is the result; non-zero skips the original",
	[FTRAMP_PART_GUARD_FREE]   = "guard FREE while the original runs: its recursion is traced",
	[FTRAMP_PART_CALL_ORIG]	   = "the original: argument registers (and stack arguments) back, call the body",
	[FTRAMP_PART_SAVE_RET]	   = "the original's result -> ctx result slots",
	[FTRAMP_PART_GUARD_TAKE]   = "guard BUSY again for the fexit programs",
	[FTRAMP_PART_EXIT]	   = "exit: guard FREE, x19 back, x14 = -0x80",
	[FTRAMP_PART_DEC]	   = "in-flight -= 0x80 (release): uncounted from here to the ret",
	[FTRAMP_PART_RESTORE_RET]  = "result registers from ctx",
	[FTRAMP_PART_RESTORE_ARGS] = "argument registers from ctx, for the body",
	[FTRAMP_PART_EPILOGUE]	   = "frame down, return",
	[FTRAMP_PART_MISS]	   = "out of line, guard BUSY: no table yet on this thread?",
	[FTRAMP_PART_MISS_COUNT]   = "miss: in-flight += 0x80, x19 back, misses++, run the original without programs",
	[FTRAMP_PART_SLOW]	   = "first entry on this thread: guard_slow() maps its guard table, counted in first (it calls mmap)",
	[FTRAMP_PART_POOL]	   = "literal pool",
	[FTRAMP_PART_RUN_CTX]	   = "run contexts (struct ftramp_run_ctx) of programs with other cookies",
	[FTRAMP_PART_SHADOW_CHECK] = "shadow stack: top record dead (its SP at or below the caller's)? then release and report it",
	[FTRAMP_PART_HOOK_PUSH]	   = "return hook: room? push a shadow record (x0-x7, SP, state, stub, return address)",
	[FTRAMP_PART_HOOK_BODY]	   = "into the body on the caller's stack, x30 = the exit stub",
	[FTRAMP_PART_HOOK_STUB]	   = "exit stub: the body returned here; save x0-x8, q0-q7; find our shadow record",
	[FTRAMP_PART_HOOK_POP]	   = "record -> ctx and the real return address; pop it; guard BUSY for fexit",
	[FTRAMP_PART_HOOK_FULL]	   = "shadow stack full: count a miss, run the body untraced",
	[FTRAMP_PART_SHADOW_PUSH]  = "shadow stack: top record dead? room? push ours (SP, state): a longjmp out of this call is found later",
	[FTRAMP_PART_SHADOW_POP]   = "pop our shadow record (the top one if its SP is ours)",
	[FTRAMP_PART_HIST_ENTRY]   = "histogram: room? in-flight += 0x80, push a return hook's record with the entry time (CNTVCT_EL0), into the body with x30 = the exit stub",
	[FTRAMP_PART_HIST_SLOW]	   = "out of line: first entry on this thread (guard_slow() maps its table, then retry), or no room: a miss, the body untraced",
	[FTRAMP_PART_HIST_EXIT]	   = "exit stub: ticks since the entry, bucket[64 - clz] += 1 per histogram, pop the record, in-flight -= 0x80, return",
};

const char *ftramp_tramp_part_desc(unsigned int part)
{
	return part < FTRAMP_NR_PARTS && part_desc[part] ? part_desc[part] :
							   "?";
}

static const char *const insn_desc[FTRAMP_NR_INSN_WHAT] = {
	[FTRAMP_INSN_BTI]	     = "bti c: landing pad, the image may sit in a PROT_BTI page",
	[FTRAMP_INSN_RECORD_X9]	     = "the frame record: caller's fp, lr (x9)",
	[FTRAMP_INSN_RECORD_LR]	     = "the frame record: caller's fp, lr (x30)",
	[FTRAMP_INSN_FRAME]	     = "the frame: ctx and saved state",
	[FTRAMP_INSN_FP]	     = "x29 = the record: an x29 walk reads trampoline, caller, ...",
	[FTRAMP_INSN_SLOT]	     = "ctx",
	[FTRAMP_INSN_WIDEN_ARG]	     = "widen the argument to a u64 ctx slot",
	[FTRAMP_INSN_WIDEN_RET]	     = "widen the result to a u64 ctx slot",
	[FTRAMP_INSN_FLOAT_BITS]     = "a float's bits, zero-extended, for its u64 ctx slot",
	[FTRAMP_INSN_STACK_ARG]	     = "a stack argument, from the caller's frame",
	[FTRAMP_INSN_X8]	     = "x8, the indirect result address",
	[FTRAMP_INSN_VREGS]	     = "q0-q7 in full (unknown model: every FP/SIMD register)",
	[FTRAMP_INSN_RET_REGS]	     = "x1-x8 of the result (unknown model: all of them)",
	[FTRAMP_INSN_COPY_BASE]	     = "x10 = the caller's stack arguments",
	[FTRAMP_INSN_COPY_STACK]     = "stack arguments, copied for the original",
	[FTRAMP_INSN_CALLER_RA]	     = "the caller's return address, from the frame record",
	[FTRAMP_INSN_STATE]	     = "&state.inflight (also &state.rctx)",
	[FTRAMP_INSN_HOOK_STATE]     = "&state | 1: a return hook's record",
	[FTRAMP_INSN_TLS]	     = "recursion guard: this thread's TLS block",
	[FTRAMP_INSN_TLS_OFF]	     = "the guard table pointer's TLS offset",
	[FTRAMP_INSN_TABLE]	     = "the guard table pointer (initial-exec TLS)",
	[FTRAMP_INSN_NO_TABLE]	     = "no guard table yet on this thread",
	[FTRAMP_INSN_GUARD_LOAD]     = "the guard byte: FREE (0x80) or BUSY (0)?",
	[FTRAMP_INSN_GUARD_BUSY]     = "BUSY: a program of ours is running on this thread, or no table yet",
	[FTRAMP_INSN_GUARD_TAKE]     = "guard BUSY: programs run",
	[FTRAMP_INSN_GUARD_FREE]     = "guard FREE: the table pointer's low byte is 0x80",
	[FTRAMP_INSN_UNIT_INC]	     = "0x80: the in-flight increment",
	[FTRAMP_INSN_UNIT_DEC]	     = "-0x80: the in-flight decrement",
	[FTRAMP_INSN_INFLIGHT_INC]   = "state.inflight += 0x80",
	[FTRAMP_INSN_INFLIGHT_DEC]   = "state.inflight -= 0x80, release",
	[FTRAMP_INSN_ONE]	     = "one count",
	[FTRAMP_INSN_COUNTER]	     = "a call counter (FTRAMP_COUNT link)",
	[FTRAMP_INSN_COUNT]	     = "the call counter += 1",
	[FTRAMP_INSN_MISSES]	     = "&state.misses",
	[FTRAMP_INSN_MISS]	     = "state.misses += 1",
	[FTRAMP_INSN_LINK_MISSED]    = "a link's miss counter",
	[FTRAMP_INSN_LINK_MISS]	     = "the link's miss counter += 1",
	[FTRAMP_INSN_X19_BACK]	     = "x19 = the caller's, from ctx[-2]",
	[FTRAMP_INSN_X19_STATE_BACK] = "x19 = the caller's; x12 = &state.inflight (ctx[-1])",
	[FTRAMP_INSN_STATE_BACK]     = "x12 = &state.inflight, from ctx[-1]",
	[FTRAMP_INSN_ENTER_SAVE]     = "ctx[-2] = the caller's x19; ctx[-1] = &state.rctx",
	[FTRAMP_INSN_GUARD_NONE]     = "guard_none: the table of a thread without one",
	[FTRAMP_INSN_IS_NONE]	     = "the table of a thread without one?",
	[FTRAMP_INSN_TO_SLOW]	     = "yes: map one",
	[FTRAMP_INSN_GUARD_SLOW]     = "guard_slow(): this thread's guard table",
	[FTRAMP_INSN_SLOW_NONE]	     = "none: count a miss",
	[FTRAMP_INSN_NEW_TABLE]	     = "x19 = the new table",
	[FTRAMP_INSN_TO_OUT]	     = "on to the in-flight decrement",
	[FTRAMP_INSN_TO_TAKEN]	     = "back to the programs, guard taken",
	[FTRAMP_INSN_CTX_ARG]	     = "x0 = ctx, the program's argument",
	[FTRAMP_INSN_RCTX]	     = "this program's run context (below)",
	[FTRAMP_INSN_PROG]	     = "program",
	[FTRAMP_INSN_FMOD_SKIP]	     = "non-zero: skip the original, this is the result",
	[FTRAMP_INSN_SKIP_Q0]	     = "q0 = the result's d0 (ctx[n + 1]), upper half zero",
	[FTRAMP_INSN_ORIG]	     = "the original: the function body",
	[FTRAMP_INSN_ORIG_RA]	     = "return address for the original",
	[FTRAMP_INSN_BODY]	     = "the function body",
	[FTRAMP_INSN_BODY_RA]	     = "x10 = the body (x30 at entry)",
	[FTRAMP_INSN_CALLER_LR]	     = "x30 = the caller's return address (x9)",
	[FTRAMP_INSN_POP_RECORD]     = "x29, x30 = the caller's fp and return address",
	[FTRAMP_INSN_POP_FRAME]	     = "pop the frame",
	[FTRAMP_INSN_RET_CALLER]     = "return to the traced function's caller",
	[FTRAMP_INSN_TOP_LOAD]	     = "the shadow stack's top record (and limit)",
	[FTRAMP_INSN_TOP_SP]	     = "the top record's sp",
	[FTRAMP_INSN_CALLER_SP]	     = "the caller's SP",
	[FTRAMP_INSN_TOP_DEAD]	     = "at or below the caller's SP: maybe dead, release it",
	[FTRAMP_INSN_DEAD_OR_FULL]   = "maybe dead, or no room: out of line (rare)",
	[FTRAMP_INSN_ROOM]	     = "room for one more record?",
	[FTRAMP_INSN_PUSH_TOP]	     = "our record: one slot above the top",
	[FTRAMP_INSN_TOP_STORE]	     = "top = our record (reserved before it is written)",
	[FTRAMP_INSN_TOP_POPPED]     = "top = the record below ours: ours is popped",
	[FTRAMP_INSN_STXR]	     = "store-exclusive: done unless another write came between",
	[FTRAMP_INSN_RETRY]	     = "it did: again",
	[FTRAMP_INSN_PUSH_REC]	     = "shadow record: sp, state: live",
	[FTRAMP_INSN_POP_TOP]	     = "the record below ours",
	[FTRAMP_INSN_OUR_REC]	     = "the top is ours if its sp is",
	[FTRAMP_INSN_POP_REC]	     = "pop it: state 0 first, never released twice",
	[FTRAMP_INSN_ARGS_TO_REC]    = "x0-x7 into the record, for the fexit ctx",
	[FTRAMP_INSN_STUB_ADDR]	     = "the exit stub: the body returns there",
	[FTRAMP_INSN_REC_LINK_RA]    = "record: the stub, the caller's return address",
	[FTRAMP_INSN_STUB_LR]	     = "x30 = the exit stub",
	[FTRAMP_INSN_REC_HEADER]     = "the top record's sp and state",
	[FTRAMP_INSN_REC_OURS]	     = "is it ours?",
	[FTRAMP_INSN_REC_RA]	     = "the caller's return address, from the record",
	[FTRAMP_INSN_REC_ARGS]	     = "x0-x7 at entry, from the record",
	[FTRAMP_INSN_REC_FREE]	     = "its state 0: the slot is free",
	[FTRAMP_INSN_TABLE_ARG]	     = "this thread's guard table and shadow stack",
	[FTRAMP_INSN_OUR_SP]	     = "our record's sp",
	[FTRAMP_INSN_TOP_ALIVE]	     = "alive if above the caller's SP",
	[FTRAMP_INSN_TO_PUSH]	     = "room: push ours",
	[FTRAMP_INSN_NOT_OURS]	     = "no: out of line",
	[FTRAMP_INSN_PAD]	     = "padding: the literal pool is 8-byte aligned",
	[FTRAMP_INSN_SHADOW_PRUNE]   = "shadow_prune(): release dead shadow records",
	[FTRAMP_INSN_SHADOW_FIND]    = "shadow_find(): the stub's shadow record",
	[FTRAMP_INSN_SHADOW_DROP]    = "shadow_drop(): release records above ours",
	[FTRAMP_INSN_NEVER_RUN]	     = "never run: an unwinder looking up the stub's return address stops here",
	[FTRAMP_INSN_BACK]	     = "back in line",
	[FTRAMP_INSN_HIST_REGS]	     = "x0-x9: arguments (or the result) and x9, around the call",
	[FTRAMP_INSN_HIST_SLOW]	     = "no table, maybe dead, or no room: out of line (rare)",
	[FTRAMP_INSN_HIST_HAS_TABLE] = "a table: prune the dead records on top",
	[FTRAMP_INSN_HIST_NEW_TABLE] = "x10 = the new table, or NULL: a miss",
	[FTRAMP_INSN_HIST_FULL]	     = "still full: a miss, the body untraced",
	[FTRAMP_INSN_HIST_TIME]	     = "the generic timer's count (CNTVCT_EL0)",
	[FTRAMP_INSN_HIST_TIME_REC]  = "the entry time, into the record's last payload word",
	[FTRAMP_INSN_HIST_REC_TIME]  = "the record's entry time (and sp)",
	[FTRAMP_INSN_HIST_FOUND]     = "x11 = our record",
	[FTRAMP_INSN_HIST_TICKS]     = "ticks since the entry",
	[FTRAMP_INSN_HIST_CLZ]	     = "leading zero bits: the bucket is 64 - clz",
	[FTRAMP_INSN_HIST_ARRAY]     = "a histogram's last bucket, &hist[64] (FTRAMP_HIST link)",
	[FTRAMP_INSN_HIST_BUCKET]    = "&hist[64 - clz]",
	[FTRAMP_INSN_HIST_ADD]	     = "the bucket += 1",
};

const char *ftramp_tramp_insn_desc(unsigned int what)
{
	return what < FTRAMP_NR_INSN_WHAT && insn_desc[what] ?
	       insn_desc[what] : "?";
}

static int check_links(const struct ftramp_tramp_links *l)
{
	unsigned int i;

	if (l->nr > FTRAMP_TRAMP_MAX_PROGS)
		return -E2BIG;
	if (l->nr && !l->links)
		return -EINVAL;
	for (i = 0; i < l->nr; i++)
		if (!l->links[i].prog)
			return -EINVAL;
	return 0;
}

static int check_counters(uint64_t *const *v, unsigned int n)
{
	unsigned int i;

	if (n > FTRAMP_TRAMP_MAX_COUNTERS)
		return -E2BIG;
	if (n && !v)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!v[i] || ((uintptr_t)v[i] & 7))
			return -EINVAL;
	return 0;
}

static int tramp_init(struct tramp *t, const struct ftramp_tramp_args *args)
{
	unsigned int flags = args->flags, k;
	const struct ftramp_tramp_state *st = args->state;
	int err;

	memset(t, 0, sizeof(*t));
	t->args = args;
	if (flags & ~FTRAMP_TRAMP_F_ALL)
		return -EINVAL;
	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++) {
		err = check_links(&args->progs[k]);
		if (err)
			return err;
	}
	err = check_counters(args->counts, args->nr_counts);
	if (!err)
		err = check_counters(args->missed, args->nr_missed);
	if (!err)
		err = check_counters(args->hists, args->nr_hists);
	if (err)
		return err;
	err = a64_abi_layout(args->model, &t->lay);
	if (err)
		return err;

	t->site = !(flags & FTRAMP_TRAMP_F_AS_FUNC);
	t->call_orig = flags & FTRAMP_TRAMP_F_CALL_ORIG;
	t->to_parent = t->call_orig || !t->site ||
		       (flags & FTRAMP_TRAMP_F_SKIP_FRAME);
	t->lse = flags & FTRAMP_TRAMP_F_LSE;
	t->session = flags & FTRAMP_TRAMP_F_SESSION;
	if (args->progs[FTRAMP_TRAMP_FEXIT].nr && !t->call_orig)
		return -EINVAL;
	if (args->progs[FTRAMP_TRAMP_MODIFY_RETURN].nr) {
		if (!t->to_parent)
			return -EINVAL;
		if (args->model && args->model->ret.cls == FTRAMP_TYPE_VOID)
			return -EINVAL;
	}
	if (t->call_orig || !t->to_parent) {
		/* The body (into it: fentry only), or what CALL_ORIG calls */
		t->orig = args->orig_addr;
		if (!t->orig && args->func_addr)
			t->orig = args->func_addr + (t->site ? 8 : 0);
		if (!t->orig || (t->orig & 3))
			return -EINVAL;
	}
	if (st) {
		if (st->guard_slot >= FTRAMP_GUARD_SLOTS)
			return -EINVAL;
		if (st->guard_slot >= 0 && !st->guard_slow)
			return -EINVAL;
		t->counters = true;
		t->guard = st->guard_slot >= 0;
		t->state_cookie = pick_state_cookie(args);
	}
	/*
	 * A site's original called by a guarded image: the unknown model
	 * takes the return hook, a model gets a plain shadow record.
	 */
	if (t->call_orig && t->site && t->guard && st->shadow_find &&
	    st->shadow_prune && st->shadow_drop) {
		t->hook = t->lay.unknown;
		t->shadow = !t->lay.unknown;
	}
	/* Counters only, entered from a site, back into the body. */
	t->count_only = args->nr_counts && t->site && !t->to_parent;
	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		t->count_only &= !args->progs[k].nr;
	if (args->nr_hists) {
		/*
		 * Histograms: no program, entered from a site, back into the
		 * body, with a state that has the shadow stack.
		 */
		for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
			if (args->progs[k].nr)
				return -EINVAL;
		if (!t->site || t->to_parent || !st || !st->guard_slow ||
		    !st->guard_none || !st->shadow_find || !st->shadow_prune)
			return -EINVAL;
		t->hist = true;
		t->count_only = false;
	}
	return compute_frame(t);
}

/*
 * Passes 1 and 2: the bound (every call far, any address) in *bound and,
 * with @at, the layout at rx, whose size is returned (else the bound's).
 * t keeps pass 2's labels for the write.
 */
static int tramp_layout(struct tramp *t, const struct ftramp_tramp_args *args,
			bool at, uint64_t rx, uint32_t *bound)
{
	int err;

	if (!args)
		return -EINVAL;
	err = tramp_init(t, args);
	if (err)
		return err;

	/* Pass 1: sizing, address unknown, every call far. */
	a64_ctx_init(&t->a, NULL, 0, 0);
	build(t);
	if (t->a.err)
		return t->a.err;
	/* The layout may need one more alignment NOP than sizing did. */
	*bound = (t->a.idx + 1) * A64_INSN_SIZE;
	if (!at)
		return (int)*bound;
	if (rx & 7)
		return -EINVAL;
	/* Pass 2: layout at rx. */
	t->addr_known = true;
	a64_ctx_init(&t->a, NULL, rx, 0);
	build(t);
	if (t->a.err)
		return t->a.err;
	if (t->a.idx * A64_INSN_SIZE > *bound)
		return -EFAULT;
	return (int)(t->a.idx * A64_INSN_SIZE);
}

int ftramp_arch_trampoline_size(const struct ftramp_tramp_args *args,
				uint64_t rx, size_t *bound)
{
	struct tramp t;
	uint32_t b = 0;
	int ret = tramp_layout(&t, args, rx != 0, rx, &b);

	if (ret > 0 && bound)
		*bound = b;
	return ret;
}

int ftramp_arch_prepare_trampoline(const struct ftramp_tramp_args *args,
				   void *rw, uint64_t rx, size_t size)
{
	struct tramp t;
	uint32_t bound;
	int ret;

	ret = tramp_layout(&t, args, rw != NULL, rx, &bound);
	if (!rw || ret < 0)
		return ret;
	if ((size_t)ret > size)
		return -E2BIG;

	/* Pass 3: write, every label where pass 2 put it. */
	a64_ctx_init(&t.a, rw, rx, size / A64_INSN_SIZE);
	build(&t);
	if (t.a.err)
		return t.a.err;
	/*
	 * The state's run context, for every program with state_cookie.
	 * Its kind says whether the image ever has a result to read.  The
	 * counter (rctx.inflight) is not touched.
	 */
	if (args->state) {
		args->state->image_lo = rx;
		args->state->image_hi = rx + t.a.idx * A64_INSN_SIZE;
	}
	if (args->state)
		fill_rctx(&t, &args->state->rctx,
			  args->flags & (FTRAMP_TRAMP_F_CALL_ORIG |
					 FTRAMP_TRAMP_F_SKIP_FRAME |
					 FTRAMP_TRAMP_F_AS_FUNC) ?
			  FTRAMP_RUN_CTX_ANY : FTRAMP_TRAMP_FENTRY,
			  t.state_cookie);
	return t.a.idx * A64_INSN_SIZE;
}
