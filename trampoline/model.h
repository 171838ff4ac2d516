/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers of the function models (trampoline/model.c), for the
 * trampoline builder and the tests.  The public part is the MODEL-API
 * section of <ftramp/ftramp.h>.
 */
#ifndef FTRAMP_TRAMPOLINE_MODEL_H
#define FTRAMP_TRAMPOLINE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

/* ftramp_type_align(), ftramp_type_check_size(): the per-type rules */
#include "arch/arm64/abi.h"

enum ftramp_loc_kind {
	FTRAMP_LOC_GP = 1,	/* x[reg] .. x[reg + nregs - 1] */
	FTRAMP_LOC_FP,		/* v[reg] .. v[reg + nregs - 1], one per
				 * HFA member */
	FTRAMP_LOC_STACK,	/* [sp at entry + stack_off] */
};

/* Where AAPCS64 stage C puts one argument. */
struct ftramp_arg_loc {
	uint8_t kind;		/* enum ftramp_loc_kind */
	uint8_t reg;		/* first register */
	uint8_t nregs;		/* registers used */
	bool by_ref;		/* the location holds a pointer (B.3) */
	uint32_t stack_off;	/* STACK: offset from the caller's sp */
};

/*
 * Run AAPCS64 6.8.2 stage C over a (valid) model: @fn, if not NULL, gets
 * each argument's location in order; *@nsaa_out the size of the stack
 * argument area.  The reference placement that the builder's own layout
 * (arch/arm64/abi.c) is tested against.
 */
void ftramp_model_walk(const struct ftramp_func_model *m,
		       void (*fn)(void *data, unsigned int arg,
				  const struct ftramp_arg_loc *loc),
		       void *data, uint32_t *nsaa_out);

#endif /* FTRAMP_TRAMPOLINE_MODEL_H */
