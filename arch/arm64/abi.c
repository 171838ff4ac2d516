// SPDX-License-Identifier: MIT
/*
 * AAPCS64 argument and result placement (pure: no libc beyond string.h).
 *
 * The algorithm is AAPCS64 (Arm IHI 0055) section 6.8.2 "Parameter
 * passing rules": stage A initialises NGRN (next general register), NSRN
 * (next SIMD&FP register) and NSAA (next stacked argument address); stage
 * B rewrites composites larger than 16 bytes as pointers to a copy; stage
 * C allocates each argument in turn.  Comments name the rule by what it
 * says, since the C.n numbering moved between releases of the document.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/arm64/abi.h"
#include "lib/util.h"

#define NR_GP_ARG_REGS	8	/* x0-x7 (AAPCS64 6.1.1) */
#define NR_FP_ARG_REGS	8	/* v0-v7 (AAPCS64 6.1.2) */

uint32_t ftramp_type_align(const struct ftramp_type *t)
{
	if (t->align)
		return t->align;
	switch (t->cls) {
	case FTRAMP_TYPE_INT:
	case FTRAMP_TYPE_FLOAT:
		return t->size;
	case FTRAMP_TYPE_HFA:
		return t->elem_size;
	case FTRAMP_TYPE_STRUCT:
		/* "natural": at most 8, so never an even register pair */
		return 8;
	}
	return 1;
}

int ftramp_type_check_size(const struct ftramp_type *t)
{
	switch (t->cls) {
	case FTRAMP_TYPE_VOID:
		return 0;
	case FTRAMP_TYPE_INT:
		if (t->size != 1 && t->size != 2 && t->size != 4 &&
		    t->size != 8 && t->size != 16)
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_FLOAT:
		if (t->size != 4 && t->size != 8 && t->size != 16)
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_HFA:
		/* AAPCS64 5.9.5: one to four members of one FP type. */
		if (t->nmemb < 1 || t->nmemb > 4)
			return -EINVAL;
		if (t->elem_size != 4 && t->elem_size != 8 &&
		    t->elem_size != 16)
			return -EINVAL;
		if (t->size != (uint32_t)t->nmemb * t->elem_size)
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_STRUCT:
		/* Empty structs (GNU C size 0) have no AAPCS64 mapping. */
		return t->size ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/*
 * Shape checks: what the placement below relies on: the per-class sizes
 * (shared with the model layer's validation), the alignment and the
 * 16-bit size fields of struct a64_arg_loc.
 */
static int check_type(const struct ftramp_type *t, bool is_ret)
{
	if (t->align && (!is_pow2(t->align) || t->align > 16))
		return -EINVAL;
	if (t->cls == FTRAMP_TYPE_VOID && !is_ret)
		return -EINVAL;
	if (t->cls == FTRAMP_TYPE_STRUCT && t->size > 0xffff)
		return -EINVAL;
	return ftramp_type_check_size(t);
}

int a64_abi_type_slots(const struct ftramp_type *t)
{
	switch (t->cls) {
	case FTRAMP_TYPE_VOID:
		return 0;
	case FTRAMP_TYPE_INT:
	case FTRAMP_TYPE_FLOAT:
	case FTRAMP_TYPE_HFA:
		return (t->size + 7) / 8;
	case FTRAMP_TYPE_STRUCT:
		/* B.3: a composite > 16 bytes is its pointer (or x8). */
		return t->size > 16 ? 1 : (t->size + 7) / 8;
	}
	return -EINVAL;
}

struct alloc_state {
	unsigned int ngrn, nsrn, nsaa;
};

/* Place one value on the stack at NSAA aligned to max(8, align). */
static void place_stack(struct alloc_state *s, struct a64_arg_loc *l,
			unsigned int size, unsigned int align)
{
	/*
	 * "The NSAA is rounded up to the larger of 8 or the Natural
	 * Alignment of the argument's type"; sizes below 8 are padded to 8
	 * ("If the size of the argument is less than 8 bytes then the size
	 * of the argument is set to 8 bytes").
	 */
	s->nsaa = round_up(s->nsaa, align > 8 ? align : 8);
	l->kind = A64_LOC_STACK;
	l->stack_off = s->nsaa;
	l->stack_size = round_up(size, 8);
	s->nsaa += l->stack_size;
}

/*
 * ftramp_model_walk() (trampoline/model.c) places arguments by the same
 * rules, written apart on purpose: it is the oracle abi_diff_test holds
 * this function to.
 */
static void place_arg(struct alloc_state *s, const struct ftramp_type *t,
		      struct a64_arg_loc *l)
{
	unsigned int align = ftramp_type_align(t);
	unsigned int size = t->size, n;

	l->size = size;
	switch (t->cls) {
	case FTRAMP_TYPE_FLOAT:
		l->is_float = true;
		l->elem = size;
		/* A floating-point type goes to the next SIMD&FP register. */
		if (s->nsrn < NR_FP_ARG_REGS) {
			l->kind = A64_LOC_FP;
			l->reg = s->nsrn++;
			l->nregs = 1;
			return;
		}
		/* Otherwise NSRN is set to 8 and it is stacked. */
		s->nsrn = NR_FP_ARG_REGS;
		place_stack(s, l, size, align);
		return;
	case FTRAMP_TYPE_HFA:
		l->is_float = true;
		l->elem = t->elem_size;
		/*
		 * An HFA whose members all fit in the remaining SIMD&FP
		 * registers takes one register per member; otherwise NSRN is
		 * set to 8 and the whole aggregate is stacked (no splitting).
		 */
		if (s->nsrn + t->nmemb <= NR_FP_ARG_REGS) {
			l->kind = A64_LOC_FP;
			l->reg = s->nsrn;
			l->nregs = t->nmemb;
			s->nsrn += t->nmemb;
			return;
		}
		s->nsrn = NR_FP_ARG_REGS;
		place_stack(s, l, size, align);
		return;
	case FTRAMP_TYPE_STRUCT:
		if (size > 16) {
			/*
			 * Stage B: a composite larger than 16 bytes is
			 * copied by the caller and replaced by a pointer,
			 * which is then allocated like an integer.
			 */
			l->byref = true;
			l->size = 8;
			if (s->ngrn < NR_GP_ARG_REGS) {
				l->kind = A64_LOC_GP;
				l->reg = s->ngrn++;
				l->nregs = 1;
				return;
			}
			place_stack(s, l, 8, 8);
			return;
		}
		break;
	case FTRAMP_TYPE_INT:
		l->int_size = size;
		l->is_signed = t->flags & FTRAMP_TYPE_SIGNED;
		if (size <= 8) {
			if (s->ngrn < NR_GP_ARG_REGS) {
				l->kind = A64_LOC_GP;
				l->reg = s->ngrn++;
				l->nregs = 1;
				return;
			}
			place_stack(s, l, size, align);
			return;
		}
		break;
	}

	/*
	 * 16-byte integers and composites of at most 16 bytes.  "If the
	 * argument has an alignment of 16 then the NGRN is rounded up to the
	 * next even number"; then the value goes to consecutive general
	 * registers if all its double-words fit, else NGRN is set to 8 and
	 * it is stacked whole (never split between registers and stack).
	 */
	n = round_up(size, 8) / 8;
	if (align == 16)
		s->ngrn = round_up(s->ngrn, 2);
	if (s->ngrn + n <= NR_GP_ARG_REGS) {
		l->kind = A64_LOC_GP;
		l->reg = s->ngrn;
		l->nregs = n;
		s->ngrn += n;
		return;
	}
	s->ngrn = NR_GP_ARG_REGS;
	place_stack(s, l, size, align);
}

/*
 * AAPCS64 6.9: a result goes where it would go as the first argument of
 * a call; otherwise the caller passes its address in x8.
 */
static void place_ret(const struct ftramp_type *t, struct a64_arg_loc *l)
{
	l->size = t->size;
	switch (t->cls) {
	case FTRAMP_TYPE_VOID:
		l->kind = A64_LOC_NONE;
		l->size = 0;
		return;
	case FTRAMP_TYPE_INT:
		l->kind = A64_LOC_GP;
		l->int_size = t->size;
		l->is_signed = t->flags & FTRAMP_TYPE_SIGNED;
		l->nregs = t->size > 8 ? 2 : 1;
		return;
	case FTRAMP_TYPE_FLOAT:
		l->kind = A64_LOC_FP;
		l->is_float = true;
		l->elem = t->size;
		l->nregs = 1;
		return;
	case FTRAMP_TYPE_HFA:
		l->kind = A64_LOC_FP;
		l->is_float = true;
		l->elem = t->elem_size;
		l->nregs = t->nmemb;
		return;
	default:
		if (t->size > 16) {
			l->kind = A64_LOC_X8;
			l->byref = true;
			l->size = 8;
			return;
		}
		l->kind = A64_LOC_GP;
		l->nregs = round_up(t->size, 8) / 8;
		return;
	}
}

static void layout_unknown(struct a64_abi_layout *lay)
{
	unsigned int i;

	lay->unknown = true;
	lay->nr_args = NR_GP_ARG_REGS;
	lay->nr_arg_slots = NR_GP_ARG_REGS;
	lay->nr_ret_slots = 2;		/* x0, then d0's bits */
	lay->ngrn = NR_GP_ARG_REGS;
	lay->nsrn = NR_FP_ARG_REGS;
	for (i = 0; i < NR_GP_ARG_REGS; i++) {
		struct a64_arg_loc *l = &lay->args[i];

		l->kind = A64_LOC_GP;
		l->reg = i;
		l->nregs = 1;
		l->int_size = 8;
		l->size = 8;
		l->slot = i;
		l->nslots = 1;
	}
	lay->ret.kind = A64_LOC_GP;
	lay->ret.nregs = 1;
	lay->ret.int_size = 8;
	lay->ret.size = 8;
	lay->ret.slot = NR_GP_ARG_REGS;
	lay->ret.nslots = 2;
}

int a64_abi_layout(const struct ftramp_func_model *m,
		   struct a64_abi_layout *lay)
{
	struct alloc_state s = { 0, 0, 0 };
	unsigned int i, slot = 0;
	int err;

	memset(lay, 0, sizeof(*lay));
	if (!m) {
		layout_unknown(lay);
		return 0;
	}
	if (m->flags & ~FTRAMP_MODEL_VARIADIC)
		return -EINVAL;
	if (m->flags & FTRAMP_MODEL_VARIADIC)
		return -EOPNOTSUPP;
	if (m->nr_args > FTRAMP_MAX_ARGS)
		return -E2BIG;
	err = check_type(&m->ret, true);
	if (err)
		return err;

	lay->nr_args = m->nr_args;
	for (i = 0; i < m->nr_args; i++) {
		struct a64_arg_loc *l = &lay->args[i];

		err = check_type(&m->args[i], false);
		if (err)
			return err;
		place_arg(&s, &m->args[i], l);
		l->slot = slot;
		l->nslots = a64_abi_type_slots(&m->args[i]);
		slot += l->nslots;
	}
	if (slot > FTRAMP_MAX_CTX_ARGS)
		return -E2BIG;
	if (s.nsaa > FTRAMP_MAX_STACK_ARGS * 8)
		return -E2BIG;

	place_ret(&m->ret, &lay->ret);
	lay->ret.slot = slot;
	lay->ret.nslots = a64_abi_type_slots(&m->ret);
	if (lay->ret.nslots > FTRAMP_MAX_CTX_RET)
		return -E2BIG;

	lay->nr_arg_slots = slot;
	lay->nr_ret_slots = lay->ret.nslots;
	lay->ngrn = s.ngrn;
	lay->nsrn = s.nsrn;
	/* The stack pointer is 16-byte aligned at a call (6.4.5.1). */
	lay->stack_size = round_up(s.nsaa, 16);
	return 0;
}
