// SPDX-License-Identifier: MIT
/*
 * Function models: validation, the BPF-style ctx layout of each argument
 * and result, and the AAPCS64 stack argument area.
 *
 * A model says how a function passes its arguments and result under the
 * Procedure Call Standard for the Arm 64-bit Architecture (AAPCS64,
 * IHI 0055).  The trampoline builder places every argument from it
 * (arch/arm64/abi.c); this file only holds what is true of a model
 * whatever the emitter: which shapes are valid, how many u64 ctx slots
 * each argument takes, how a register value is widened into its slot, and
 * how many bytes of stack arguments the caller passes (to enforce the
 * limits).  Pure: no system calls (PURE_SRCS).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>
#include "arch/arm64/abi.h"
#include "trampoline/model.h"
#include "lib/util.h"

#define TYPE_FLAGS_ALL	(FTRAMP_TYPE_SIGNED | FTRAMP_TYPE_POINTER | \
			 FTRAMP_TYPE_STRING | FTRAMP_TYPE_BOOL)

/* One type; @ret: the result (void allowed). */
static int validate_type(const struct ftramp_type *t, bool ret)
{
	int err;

	if (t->flags & ~TYPE_FLAGS_ALL)
		return -EINVAL;
	if (t->cls != FTRAMP_TYPE_HFA && (t->nmemb || t->elem_size))
		return -EINVAL;
	if (t->align && !is_pow2(t->align))
		return -EINVAL;
	/* Only integers (and pointers) carry flags. */
	if (t->cls != FTRAMP_TYPE_INT && t->flags)
		return -EINVAL;
	err = ftramp_type_check_size(t);
	if (err)
		return err;

	switch (t->cls) {
	case FTRAMP_TYPE_VOID:
		if (!ret || t->size || t->align)
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_INT:
		if (t->align && t->align != t->size)
			return -EINVAL;
		if ((t->flags & FTRAMP_TYPE_POINTER) &&
		    (t->size != 8 || (t->flags & (FTRAMP_TYPE_SIGNED |
						  FTRAMP_TYPE_BOOL))))
			return -EINVAL;
		if ((t->flags & FTRAMP_TYPE_STRING) &&
		    !(t->flags & FTRAMP_TYPE_POINTER))
			return -EINVAL;
		if ((t->flags & FTRAMP_TYPE_BOOL) &&
		    (t->size != 1 || (t->flags & FTRAMP_TYPE_SIGNED)))
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_FLOAT:
		if (t->align && t->align != t->size)
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_HFA:
		if (t->align && t->align != t->elem_size)
			return -EINVAL;
		return 0;
	case FTRAMP_TYPE_STRUCT:
		if (t->align > 16 || (t->align && t->size % t->align))
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

FTRAMP_API bool ftramp_type__by_ref(const struct ftramp_type *t)
{
	/* AAPCS64 6.8.2 B.3: a composite > 16 bytes that is not an HFA. */
	return t && t->cls == FTRAMP_TYPE_STRUCT && t->size > 16;
}

FTRAMP_API bool ftramp_model__ret_indirect(const struct ftramp_func_model *m)
{
	/* AAPCS64 6.9: such a result is written to memory at x8. */
	return m && ftramp_type__by_ref(&m->ret);
}

FTRAMP_API int ftramp_type__ctx_slots(const struct ftramp_type *t)
{
	if (!t)
		return -EINVAL;
	return a64_abi_type_slots(t);
}

FTRAMP_API int ftramp_model__arg_ctx_off(const struct ftramp_func_model *m,
					 unsigned int arg)
{
	int off = 0;

	if (!m || arg > m->nr_args || m->nr_args > FTRAMP_MAX_ARGS)
		return -EINVAL;
	for (unsigned int i = 0; i < arg; i++) {
		int n = ftramp_type__ctx_slots(&m->args[i]);

		if (n < 0)
			return n;
		off += n;
	}
	return off;
}

FTRAMP_API int ftramp_model__nr_ctx_args(const struct ftramp_func_model *m)
{
	if (!m)
		return -EINVAL;
	return ftramp_model__arg_ctx_off(m, m->nr_args);
}

FTRAMP_API int ftramp_model__nr_ctx_ret(const struct ftramp_func_model *m)
{
	if (!m)
		return -EINVAL;
	/* A result returned through x8 is exposed as that pointer. */
	return ftramp_type__ctx_slots(&m->ret);
}

FTRAMP_API uint64_t ftramp_type__widen(const struct ftramp_type *t,
				       uint64_t raw)
{
	bool sign;

	if (!t)
		return raw;
	/*
	 * AAPCS64 6.8.2 C.7 and 6.9: the bits of a register beyond the size
	 * of the argument or result are unspecified, so the slot is always
	 * rebuilt from the low bits.
	 */
	if (t->cls == FTRAMP_TYPE_FLOAT && t->size == 4)
		return (uint32_t)raw;
	if (t->cls != FTRAMP_TYPE_INT)
		return raw;
	sign = t->flags & FTRAMP_TYPE_SIGNED;
	switch (t->size) {
	case 1:
		return sign ? (uint64_t)(int64_t)(int8_t)raw : (uint8_t)raw;
	case 2:
		return sign ? (uint64_t)(int64_t)(int16_t)raw : (uint16_t)raw;
	case 4:
		return sign ? (uint64_t)(int64_t)(int32_t)raw : (uint32_t)raw;
	}
	return raw;
}

/*
 * AAPCS64 6.8.2 stage C, the part that decides how many bytes of stack
 * arguments (NSAA) the caller passes.  Registers: NGRN (x0-x7), NSRN
 * (v0-v7).  Stage B has already happened: a composite > 16 bytes is a
 * pointer (B.3), an HFA keeps its shape, other composites are rounded up
 * to a multiple of 8 bytes (B.4).
 *
 * This walk repeats on purpose what place_arg() in arch/arm64/abi.c does:
 * it is the independent oracle that selftests/abi_diff_test.c compares
 * a64_abi_layout() with, argument by argument.  Sharing code with the
 * builder here would make that test compare the code with itself.
 */
void ftramp_model_walk(const struct ftramp_func_model *m,
		       void (*fn)(void *data, unsigned int arg,
				  const struct ftramp_arg_loc *loc),
		       void *data, uint32_t *nsaa_out)
{
	uint32_t ngrn = 0, nsrn = 0, nsaa = 0;

	for (unsigned int i = 0; i < m->nr_args; i++) {
		const struct ftramp_type *t = &m->args[i];
		struct ftramp_arg_loc loc = { 0 };
		uint32_t size = t->size, align = ftramp_type_align(t);

		if (ftramp_type__by_ref(t)) {
			size = 8;
			align = 8;
			loc.by_ref = true;
		}

		switch (t->cls) {
		case FTRAMP_TYPE_FLOAT:
			/* C.1: one v register */
			if (nsrn < 8) {
				loc.kind = FTRAMP_LOC_FP;
				loc.reg = nsrn++;
				loc.nregs = 1;
				break;
			}
			/* C.4-C.6: stack, at least 8 bytes, quad 16-aligned */
			nsaa = round_up(nsaa, size == 16 ? 16 : 8);
			loc.kind = FTRAMP_LOC_STACK;
			loc.stack_off = nsaa;
			nsaa += size < 8 ? 8 : size;
			break;
		case FTRAMP_TYPE_HFA:
			/* C.2: one v register per member, if all fit */
			if (nsrn + t->nmemb <= 8) {
				loc.kind = FTRAMP_LOC_FP;
				loc.reg = nsrn;
				loc.nregs = t->nmemb;
				nsrn += t->nmemb;
				break;
			}
			/* C.3, C.4, C.6: no more FP arguments in registers */
			nsrn = 8;
			nsaa = round_up(nsaa, t->elem_size == 16 ? 16 : 8);
			loc.kind = FTRAMP_LOC_STACK;
			loc.stack_off = nsaa;
			nsaa += round_up(size, 8);
			break;
		case FTRAMP_TYPE_INT:
		case FTRAMP_TYPE_STRUCT: {
			uint32_t dwords = (size + 7) / 8;

			/* C.7: integral or pointer <= 8 bytes */
			if (dwords == 1 && ngrn < 8) {
				loc.kind = FTRAMP_LOC_GP;
				loc.reg = ngrn++;
				loc.nregs = 1;
				break;
			}
			/* C.8: 16-byte alignment takes an even register pair */
			if (align == 16)
				ngrn = round_up(ngrn, 2);
			/* C.9 (__int128), C.10 (composite) */
			if (dwords > 1 && dwords <= 8 - ngrn) {
				loc.kind = FTRAMP_LOC_GP;
				loc.reg = ngrn;
				loc.nregs = dwords;
				ngrn += dwords;
				break;
			}
			/* C.11-C.15: no more GP arguments in registers */
			ngrn = 8;
			nsaa = round_up(nsaa, align > 8 ? align : 8);
			loc.kind = FTRAMP_LOC_STACK;
			loc.stack_off = nsaa;
			nsaa += dwords * 8;
			break;
		}
		}
		if (fn)
			fn(data, i, &loc);
	}
	if (nsaa_out)
		*nsaa_out = nsaa;
}

FTRAMP_API int ftramp_model__stack_size(const struct ftramp_func_model *m)
{
	uint32_t nsaa;
	int err = ftramp_model__validate(m);

	if (err && err != -E2BIG)
		return err;
	if (!m || m->nr_args > FTRAMP_MAX_ARGS)
		return -E2BIG;
	ftramp_model_walk(m, NULL, NULL, &nsaa);
	return nsaa;
}

FTRAMP_API int ftramp_model__validate(const struct ftramp_func_model *m)
{
	uint32_t nsaa;
	int err, slots;

	if (!m)
		return -EINVAL;
	if (m->flags & ~FTRAMP_MODEL_VARIADIC)
		return -EINVAL;
	if (m->nr_args > FTRAMP_MAX_ARGS)
		return -E2BIG;
	err = validate_type(&m->ret, true);
	if (err)
		return err;
	for (unsigned int i = 0; i < m->nr_args; i++) {
		err = validate_type(&m->args[i], false);
		if (err)
			return err;
	}
	/*
	 * A variadic callee finds its anonymous arguments through va_list
	 * (AAPCS64 appendix B), whose register save area the trampoline
	 * would have to reproduce exactly: refused, as the kernel refuses.
	 */
	if (m->flags & FTRAMP_MODEL_VARIADIC)
		return -EOPNOTSUPP;

	ftramp_model_walk(m, NULL, NULL, &nsaa);
	if (nsaa > FTRAMP_MAX_STACK_ARGS * 8)
		return -E2BIG;
	slots = ftramp_model__nr_ctx_args(m);
	if (slots < 0)
		return slots;
	if (slots > FTRAMP_MAX_CTX_ARGS)
		return -E2BIG;
	return 0;
}
