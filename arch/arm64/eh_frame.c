// SPDX-License-Identifier: MIT
/*
 * CIE and FDE from unwind rows (eh_frame.h).  DWARF 5 section 6.4 for the
 * call frame instructions; the .eh_frame layout and its augmentation
 * strings are the LSB's ("Exception Frames", Linux Standard Base Core
 * Specification), which libgcc's unwind-dw2-fde.c and LLVM libunwind
 * read.
 *
 * The FDE program is a plain diff of consecutive rows: each row emits an
 * advance and only the rules that changed (no remember/restore state), so
 * any row order the emitter produces, out-of-line paths after the
 * epilogue included, encodes the same way.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/arm64/eh_frame.h"

/* DWARF 5 table 7.29, the call frame instruction encodings. */
#define DW_CFA_advance_loc	0x40
#define DW_CFA_offset		0x80
#define DW_CFA_nop		0x00
#define DW_CFA_advance_loc1	0x02
#define DW_CFA_advance_loc2	0x03
#define DW_CFA_advance_loc4	0x04
#define DW_CFA_undefined	0x07
#define DW_CFA_same_value	0x08
#define DW_CFA_register		0x09
#define DW_CFA_def_cfa		0x0c
#define DW_CFA_def_cfa_register	0x0d
#define DW_CFA_def_cfa_offset	0x0e
#define DW_CFA_val_expression	0x16
/* AArch64 DWARF ABI (aadwarf64) 4.1: toggles the return address's PAC state. */
#define DW_CFA_AARCH64_negate_ra_state	0x2d
#define DW_EH_PE_absptr		0x00

/* DWARF 5 table 7.9, the expression operations the hook FDE uses. */
#define DW_OP_deref		0x06
#define DW_OP_const1u		0x08
#define DW_OP_const1s		0x09
#define DW_OP_constu		0x10
#define DW_OP_const8u		0x0e
#define DW_OP_dup		0x12
#define DW_OP_drop		0x13
#define DW_OP_over		0x14
#define DW_OP_swap		0x16
#define DW_OP_and		0x1a
#define DW_OP_minus		0x1c
#define DW_OP_plus_uconst	0x23
#define DW_OP_bra		0x28
#define DW_OP_eq		0x29
#define DW_OP_ne		0x2e
#define DW_OP_skip		0x2f
#define DW_OP_lit0		0x30
#define DW_OP_lit1		0x31
#define DW_OP_breg0		0x70

#define CODE_ALIGN	4
#define DATA_ALIGN	(-8)

struct cfi_out {
	uint8_t *b;
	size_t cap;
	size_t n;		/* bytes produced, written or not */
	uint32_t loc;		/* FDE: byte offset the rules describe */
};

static void put8(struct cfi_out *o, uint8_t v)
{
	if (o->n < o->cap)
		o->b[o->n] = v;
	o->n++;
}

static void put32(struct cfi_out *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put8(o, (uint8_t)(v >> (8 * i)));
}

static void put64(struct cfi_out *o, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put8(o, (uint8_t)(v >> (8 * i)));
}

static void put_uleb(struct cfi_out *o, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		put8(o, byte | (v ? 0x80 : 0));
	} while (v);
}

static void put_sleb(struct cfi_out *o, int64_t v)
{
	for (;;) {
		uint8_t byte = v & 0x7f;

		v >>= 7;	/* arithmetic: gcc and clang define it so */
		if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
			put8(o, byte);
			return;
		}
		put8(o, byte | 0x80);
	}
}

/* Rewrite the 4-byte length at start: the bytes after the length word. */
static void close_entry(struct cfi_out *o, size_t start)
{
	uint32_t len = (uint32_t)(o->n - start - 4);

	for (int i = 0; i < 4; i++)
		if (start + i < o->cap)
			o->b[start + i] = (uint8_t)(len >> (8 * i));
}

/* DW_CFA_nop up to a multiple of 8 bytes from start (length included). */
static void pad_entry(struct cfi_out *o, size_t start)
{
	while ((o->n - start) % 8)
		put8(o, DW_CFA_nop);
}

static void advance(struct cfi_out *o, uint32_t to)
{
	uint32_t delta = (to - o->loc) / CODE_ALIGN;

	if (!delta)
		return;
	if (delta < 0x40) {
		put8(o, DW_CFA_advance_loc | delta);
	} else if (delta <= 0xff) {
		put8(o, DW_CFA_advance_loc1);
		put8(o, (uint8_t)delta);
	} else if (delta <= 0xffff) {
		put8(o, DW_CFA_advance_loc2);
		put8(o, (uint8_t)delta);
		put8(o, (uint8_t)(delta >> 8));
	} else {
		put8(o, DW_CFA_advance_loc4);
		put32(o, delta);
	}
	o->loc = to;
}

/* The rule of one callee-saved register: saved at CFA + at, or live. */
static void reg_rule(struct cfi_out *o, unsigned int reg, int32_t at)
{
	if (at) {
		put8(o, DW_CFA_offset | reg);
		put_uleb(o, (uint32_t)(at / DATA_ALIGN));
	} else {
		put8(o, DW_CFA_same_value);
		put_uleb(o, reg);
	}
}

/* Where the return address is: a register (ra_at 0) or a stack slot. */
static void ra_rule(struct cfi_out *o, const struct a64_uw_row *r)
{
	if (r->ra_at) {
		reg_rule(o, A64_DW_LR, r->ra_at);
	} else if (r->ra_reg == A64_UW_RA_UNDEF) {
		put8(o, DW_CFA_undefined);
		put_uleb(o, A64_DW_LR);
	} else if (r->ra_reg == A64_DW_LR) {
		put8(o, DW_CFA_same_value);
		put_uleb(o, A64_DW_LR);
	} else {
		put8(o, DW_CFA_register);
		put_uleb(o, A64_DW_LR);
		put_uleb(o, r->ra_reg);
	}
}

/*
 * .debug_frame, a signed return address: its value with the PAC bits
 * cleared, computed by the expression itself.  gdb strips a PAC only with
 * the target's PAC masks (the "pauth" feature), which a gdbstub may not
 * give (qemu-user's before 8.0): it would unwind to a signed address.
 * User space addresses are 48-bit (a process gets higher ones only by
 * asking mmap for them; ftramp's text never does), so bits 63:48 are
 * the PAC.  A gdb that also strips with the masks finds nothing left.
 */
#define A64_VA_MASK	0x0000ffffffffffffull

static void ra_rule_stripped(struct cfi_out *o, const struct a64_uw_row *r)
{
	size_t len_at;

	put8(o, DW_CFA_val_expression);
	put_uleb(o, A64_DW_LR);
	len_at = o->n;
	put8(o, 0);			/* block length, below */
	if (r->ra_at) {
		/* the CFA is on the stack: *(CFA + ra_at) */
		put8(o, DW_OP_constu);
		put_uleb(o, (uint32_t)-r->ra_at);
		put8(o, DW_OP_minus);
		put8(o, DW_OP_deref);
	} else {
		put8(o, DW_OP_drop);
		put8(o, DW_OP_breg0 + r->ra_reg);
		put_sleb(o, 0);
	}
	put8(o, DW_OP_const8u);
	put64(o, A64_VA_MASK);
	put8(o, DW_OP_and);
	if (len_at < o->cap)
		o->b[len_at] = (uint8_t)(o->n - len_at - 1);
}

static bool same_ra(const struct a64_uw_row *a, const struct a64_uw_row *b)
{
	if (a->ra_at || b->ra_at)
		return a->ra_at == b->ra_at;
	return a->ra_reg == b->ra_reg;
}

/* The instructions that take the rules of `cur` to those of `r`. */
static void row_diff(struct cfi_out *o, struct a64_uw_row *cur,
		     const struct a64_uw_row *r, bool eh)
{
	bool moved = false;
	bool strip = !eh && r->pac;	/* ra_rule_stripped() */

#define AT(x)	do { if (!moved) { advance(o, r->off); moved = true; } } while (0)
	if (r->cfa_reg != cur->cfa_reg && r->cfa_off != cur->cfa_off) {
		AT();
		put8(o, DW_CFA_def_cfa);
		put_uleb(o, r->cfa_reg);
		put_uleb(o, r->cfa_off);
	} else if (r->cfa_reg != cur->cfa_reg) {
		AT();
		put8(o, DW_CFA_def_cfa_register);
		put_uleb(o, r->cfa_reg);
	} else if (r->cfa_off != cur->cfa_off) {
		AT();
		put8(o, DW_CFA_def_cfa_offset);
		put_uleb(o, r->cfa_off);
	}
	if (r->fp_at != cur->fp_at) {
		AT();
		reg_rule(o, A64_DW_FP, r->fp_at);
	}
	if (!same_ra(r, cur) || (!eh && !r->pac != !cur->pac)) {
		AT();
		if (strip)
			ra_rule_stripped(o, r);
		else
			ra_rule(o, r);
	}
	if (!r->pac != !cur->pac) {
		AT();
		put8(o, DW_CFA_AARCH64_negate_ra_state);
	}
	/* (most rows change none of x19-x28: one compare for them all) */
	if (memcmp(r->saved_at, cur->saved_at, sizeof(r->saved_at)))
		for (unsigned int k = 0; k < A64_UW_NR_SAVED; k++)
			if (r->saved_at[k] != cur->saved_at[k]) {
				AT();
				reg_rule(o, A64_UW_SAVED_FIRST + k,
					 r->saved_at[k]);
			}
#undef AT
	*cur = *r;
}

static bool at_ok(int32_t at)
{
	return at <= 0 && !(at % 8) && at > -8 * 64 * 1024;
}

static bool rows_ok(const struct a64_cfi_fde *f)
{
	static const int32_t none[A64_UW_NR_SAVED];

	if (!f->rows || !f->nr_rows || f->rows[0].off || !f->pc_range ||
	    f->pc_begin + f->pc_range < f->pc_begin)
		return false;
	for (unsigned int i = 0; i < f->nr_rows; i++) {
		const struct a64_uw_row *r = &f->rows[i];

		if (r->off % CODE_ALIGN || r->off >= f->pc_range ||
		    (i && r->off < f->rows[i - 1].off))
			return false;
		if ((r->cfa_reg != A64_DW_SP && r->cfa_reg != A64_DW_FP) ||
		    r->cfa_off >= (1u << 28) ||
		    (r->ra_reg > A64_DW_LR && r->ra_reg != A64_UW_RA_UNDEF))
			return false;
		if (!at_ok(r->fp_at) || !at_ok(r->ra_at))
			return false;
		if (!memcmp(r->saved_at, none, sizeof(none)))
			continue;
		for (unsigned int k = 0; k < A64_UW_NR_SAVED; k++)
			if (!at_ok(r->saved_at[k]))
				return false;
	}
	return true;
}

long a64_cfi_encode(uint8_t *buf, size_t cap, const struct a64_cfi_fde *f,
		    enum a64_cfi_flavour flavour)
{
	bool eh = flavour == A64_CFI_EH_FRAME;
	bool pers = eh && f && f->personality;
	struct cfi_out o = { .b = buf, .cap = buf ? cap : 0 };
	struct a64_uw_row cur = {
		.cfa_reg = A64_DW_SP, .ra_reg = A64_DW_LR,
	};
	size_t fde;

	if (!f || (flavour != A64_CFI_EH_FRAME &&
		   flavour != A64_CFI_DEBUG_FRAME) || !rows_ok(f))
		return -EINVAL;

	/* CIE */
	put32(&o, 0);
	put32(&o, eh ? 0 : 0xffffffffu);	/* CIE id */
	put8(&o, 1);				/* version */
	if (eh) {
		const char *aug = pers ? "zPLR" : "zR";

		while (*aug)
			put8(&o, (uint8_t)*aug++);
	}
	put8(&o, 0);
	put_uleb(&o, CODE_ALIGN);
	put_sleb(&o, DATA_ALIGN);
	put8(&o, A64_DW_LR);			/* return address column */
	if (eh) {
		put_uleb(&o, pers ? 1 + 8 + 1 + 1 : 1);
		if (pers) {
			put8(&o, DW_EH_PE_absptr);
			put64(&o, f->personality);
			put8(&o, DW_EH_PE_absptr);	/* the LSDA's */
		}
		put8(&o, DW_EH_PE_absptr);		/* the FDE's */
	}
	put8(&o, DW_CFA_def_cfa);		/* at entry: CFA = SP */
	put_uleb(&o, A64_DW_SP);
	put_uleb(&o, 0);
	pad_entry(&o, 0);
	close_entry(&o, 0);

	/* FDE */
	fde = o.n;
	put32(&o, 0);
	/* .eh_frame: back to the CIE from here; .debug_frame: its offset */
	put32(&o, eh ? (uint32_t)(fde + 4) : 0);
	put64(&o, f->pc_begin);
	put64(&o, f->pc_range);
	if (eh) {
		put_uleb(&o, pers ? 8 : 0);
		if (pers)
			put64(&o, f->lsda);
	}
	for (unsigned int i = 0; i < f->nr_rows; i++)
		row_diff(&o, &cur, &f->rows[i], eh);
	pad_entry(&o, fde);
	close_entry(&o, fde);

	/* .eh_frame ends with a zero length (8 bytes keep the size aligned) */
	if (eh)
		put64(&o, 0);
	return (long)o.n;
}

/* ------------------------------------------------------------------
 * The exit stub's frame (eh_frame.h, struct a64_cfi_hook)
 * ------------------------------------------------------------------ */

enum hook_label {
	HL_LOOP, HL_STATE, HL_HOOK, HL_NEXT, HL_CHAIN, HL_DONE, HL_QHOOK,
	HL_PENDING, HL_USE, HL_END, HL_NR,
};

struct expr {
	struct cfi_out *o;
	size_t start;			/* o->n where the expression starts */
	long label[HL_NR];		/* offsets in the expression, -1 unset */
	/* Branches to patch: where their 2-byte operand is, and to what. */
	struct { size_t at; enum hook_label to; } fix[16];
	unsigned int nr_fix;
};

static void op(struct expr *e, uint8_t v)
{
	put8(e->o, v);
}

static void bind_label(struct expr *e, enum hook_label l)
{
	e->label[l] = (long)(e->o->n - e->start);
}

/* DW_OP_bra / DW_OP_skip to l: a signed 2-byte offset from after it. */
static void branch(struct expr *e, uint8_t kind, enum hook_label l)
{
	put8(e->o, kind);
	if (e->nr_fix < sizeof(e->fix) / sizeof(e->fix[0])) {
		e->fix[e->nr_fix].at = e->o->n;
		e->fix[e->nr_fix].to = l;
	}
	e->nr_fix++;
	put8(e->o, 0);
	put8(e->o, 0);
}

static bool patch_branches(struct expr *e)
{
	if (e->nr_fix > sizeof(e->fix) / sizeof(e->fix[0]))
		return false;
	for (unsigned int i = 0; i < e->nr_fix; i++) {
		size_t at = e->fix[i].at;
		long from = (long)(at + 2 - e->start), to = e->label[e->fix[i].to];
		int16_t d;

		if (to < 0)
			return false;
		d = (int16_t)(to - from);
		if (at + 1 < e->o->cap) {
			e->o->b[at] = (uint8_t)d;
			e->o->b[at + 1] = (uint8_t)((uint16_t)d >> 8);
		}
	}
	return true;
}

static void plus(struct expr *e, uint8_t off)
{
	if (off) {
		op(e, DW_OP_plus_uconst);
		put_uleb(e->o, off);
	}
}

/* The expression of struct a64_cfi_hook's comment; CFA on the stack. */
static bool hook_expr(struct expr *e, const struct a64_cfi_hook *h)
{
	struct cfi_out *o = e->o;

	op(e, DW_OP_lit1);			/* [sp]: the CFA is sp + 1 */
	op(e, DW_OP_minus);
	op(e, DW_OP_const8u);			/* [sp, &top] */
	put64(o, h->top_addr);
	op(e, DW_OP_deref);			/* [cfa, p] */
	bind_label(e, HL_LOOP);
	op(e, DW_OP_dup);			/* sentinel: sp == ~0 */
	plus(e, h->sp_off);
	op(e, DW_OP_deref);
	op(e, DW_OP_const1s);
	put8(o, 0xff);
	op(e, DW_OP_eq);
	branch(e, DW_OP_bra, HL_STATE);		/* sentinel -> not found */
	op(e, DW_OP_dup);			/* [cfa, p, state] */
	plus(e, h->state_off);
	op(e, DW_OP_deref);
	op(e, DW_OP_const1u);
	put8(o, h->hook_bit);
	op(e, DW_OP_and);
	branch(e, DW_OP_bra, HL_HOOK);		/* [cfa, p] */
	bind_label(e, HL_NEXT);
	op(e, DW_OP_const1u);			/* p -= slot */
	put8(o, (uint8_t)h->slot);
	op(e, DW_OP_minus);
	branch(e, DW_OP_skip, HL_LOOP);
	bind_label(e, HL_HOOK);			/* [cfa, p]: its sp == cfa? */
	op(e, DW_OP_over);
	op(e, DW_OP_over);
	plus(e, h->sp_off);
	op(e, DW_OP_deref);
	op(e, DW_OP_ne);
	branch(e, DW_OP_bra, HL_NEXT);
	bind_label(e, HL_CHAIN);		/* [cfa, p]: q = p - slot */
	op(e, DW_OP_over);
	op(e, DW_OP_over);
	op(e, DW_OP_const1u);
	put8(o, (uint8_t)h->slot);
	op(e, DW_OP_minus);			/* [cfa, p, cfa, q] */
	op(e, DW_OP_dup);
	plus(e, h->state_off);
	op(e, DW_OP_deref);
	op(e, DW_OP_const1u);
	put8(o, h->hook_bit);
	op(e, DW_OP_and);
	branch(e, DW_OP_bra, HL_QHOOK);
	op(e, DW_OP_drop);			/* q is no hook record */
	op(e, DW_OP_drop);
	bind_label(e, HL_DONE);			/* [cfa, p]: p's ra */
	plus(e, h->ra_off);
	op(e, DW_OP_deref);
	op(e, DW_OP_swap);
	op(e, DW_OP_drop);
	branch(e, DW_OP_skip, HL_END);
	/*
	 * q's sp == cfa?  Then q joins.  (libgcc's DW_OP_pick reaches one
	 * element less deep than DWARF allows: cfa is kept copied instead.)
	 */
	bind_label(e, HL_QHOOK);		/* [cfa, p, cfa, q] */
	plus(e, h->sp_off);
	op(e, DW_OP_deref);
	op(e, DW_OP_ne);
	branch(e, DW_OP_bra, HL_DONE);
	op(e, DW_OP_const1u);			/* [cfa, q] */
	put8(o, (uint8_t)h->slot);
	op(e, DW_OP_minus);
	branch(e, DW_OP_skip, HL_CHAIN);
	bind_label(e, HL_STATE);		/* [cfa, p]: not found */
	op(e, DW_OP_drop);
	bind_label(e, HL_PENDING);		/* [cfa] */
	op(e, DW_OP_const8u);
	put64(o, h->pending_addr);
	op(e, DW_OP_deref);
	op(e, DW_OP_eq);
	branch(e, DW_OP_bra, HL_USE);
	op(e, DW_OP_lit0);
	branch(e, DW_OP_skip, HL_END);
	bind_label(e, HL_USE);
	op(e, DW_OP_const8u);
	put64(o, h->pending_addr + 8);
	op(e, DW_OP_deref);
	bind_label(e, HL_END);
	return patch_branches(e);
}

long a64_cfi_hook_encode(uint8_t *buf, size_t cap,
			 const struct a64_cfi_hook *h)
{
	struct cfi_out o = { .b = buf, .cap = buf ? cap : 0 };
	struct expr e = { .o = &o };
	size_t fde, len_at;
	long len;

	if (!h || !h->top_addr || !h->pending_addr || !h->hook_bit ||
	    !h->slot || h->slot > 0xff || h->sp_off > 0x7f ||
	    h->state_off > 0x7f || h->ra_off > 0x7f)
		return -EINVAL;

	/* CIE: "zPR" with a personality, "zR" without. */
	put32(&o, 0);
	put32(&o, 0);
	put8(&o, 1);
	put8(&o, 'z');
	if (h->personality)
		put8(&o, 'P');
	put8(&o, 'R');
	put8(&o, 0);
	put_uleb(&o, CODE_ALIGN);
	put_sleb(&o, DATA_ALIGN);
	put8(&o, A64_DW_LR);
	put_uleb(&o, h->personality ? 1 + 8 + 1 : 1);
	if (h->personality) {
		put8(&o, DW_EH_PE_absptr);
		put64(&o, h->personality);
	}
	put8(&o, DW_EH_PE_absptr);
	/*
	 * CFA = SP + 1, and the caller's SP = CFA - 1: the SP is the
	 * body's CFA, and libgcc tells frames apart by CFA (the search
	 * phase's handler frame is found again in the cleanup phase by
	 * it): the stub's frame and its caller's must not share one.
	 */
	put8(&o, DW_CFA_def_cfa);
	put_uleb(&o, A64_DW_SP);
	put_uleb(&o, 1);
	pad_entry(&o, 0);
	close_entry(&o, 0);

	/* FDE: every address (the finder hands it out for stubs only). */
	fde = o.n;
	put32(&o, 0);
	put32(&o, (uint32_t)(fde + 4));
	put64(&o, 0);
	put64(&o, UINT64_MAX >> 1);
	put_uleb(&o, 0);
	put8(&o, DW_CFA_val_expression);	/* SP = CFA - 1 */
	put_uleb(&o, A64_DW_SP);
	put_uleb(&o, 2);
	put8(&o, DW_OP_lit1);
	put8(&o, DW_OP_minus);
	put8(&o, DW_CFA_val_expression);
	put_uleb(&o, A64_DW_LR);
	/* The expression's length, one ULEB byte (checked below). */
	len_at = o.n;
	put8(&o, 0);
	e.start = o.n;
	for (int i = 0; i < HL_NR; i++)
		e.label[i] = -1;
	if (!hook_expr(&e, h))
		return -EINVAL;
	len = (long)(o.n - e.start);
	if (len > 0x7f)
		return -EINVAL;
	if (len_at < o.cap)
		o.b[len_at] = (uint8_t)len;
	pad_entry(&o, fde);
	close_entry(&o, fde);
	put64(&o, 0);
	return (long)o.n;
}

const struct a64_uw_row *a64_uw_row_at(const struct a64_uw_row *rows,
				       unsigned int nr, uint32_t off)
{
	unsigned int lo = 0, hi = nr;

	if (!rows || !nr || off < rows[0].off)
		return NULL;
	/* The last row with row.off <= off. */
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (rows[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &rows[lo];
}
