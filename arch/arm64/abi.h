/* SPDX-License-Identifier: MIT */
/*
 * AAPCS64 placement of a function model's arguments and result (pure).
 *
 * Where each argument arrives (general or FP/SIMD registers, or the
 * caller's outgoing stack area), whether it is passed by reference, and
 * which ctx slots it takes in the BPF-style context a trampoline builds.
 * The rules are those of the "Procedure Call Standard for the Arm 64-bit
 * Architecture" (AAPCS64, Arm IHI 0055), section 6.8 "Parameter passing"
 * and 6.9 "Result return", for Linux (not Apple's variant).
 */
#ifndef FTRAMP_ARCH_ARM64_ABI_H
#define FTRAMP_ARCH_ARM64_ABI_H

#include <stdbool.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

enum a64_loc_kind {
	A64_LOC_NONE,	/* a void result */
	A64_LOC_GP,	/* x<reg> .. x<reg + nregs - 1> */
	A64_LOC_FP,	/* v<reg> .. v<reg + nregs - 1>, elem bytes each */
	A64_LOC_STACK,	/* [entry SP + stack_off], stack_size bytes */
	A64_LOC_X8,	/* a result in memory at the address x8 held */
};

struct a64_arg_loc {
	uint8_t kind;		/* enum a64_loc_kind */
	uint8_t reg;		/* first register */
	uint8_t nregs;		/* registers used (GP 1-2, FP 1-4) */
	uint8_t elem;		/* FP: bytes per register (4, 8 or 16) */
	uint8_t int_size;	/* INT (not by reference): 1, 2, 4, 8, 16 */
	bool is_signed;		/* INT: sign-extend into the ctx slot */
	bool byref;		/* the value is a pointer to the caller's copy */
	bool is_float;		/* FLOAT or HFA (on the stack: C.5 padding) */
	uint16_t size;		/* bytes of the value as ctx holds it */
	uint16_t stack_off;	/* STACK: offset from the entry SP */
	uint16_t stack_size;	/* STACK: bytes the argument takes there */
	uint16_t slot;		/* first ctx slot */
	uint8_t nslots;		/* ctx slots (u64) */
};

struct a64_abi_layout {
	bool unknown;		/* no model: x0-x7, q0-q7, x8 all saved */
	uint8_t nr_args;
	uint16_t nr_arg_slots;	/* ctx[0 .. nr_arg_slots - 1] */
	uint8_t nr_ret_slots;	/* ctx[nr_arg_slots ..] */
	uint8_t ngrn;		/* general registers used by arguments */
	uint8_t nsrn;		/* FP/SIMD registers used by arguments */
	uint16_t stack_size;	/* incoming stack argument bytes (NSAA),
				 * rounded up to 16 (AAPCS64 6.4.5.1) */
	struct a64_arg_loc args[FTRAMP_MAX_ARGS];
	struct a64_arg_loc ret;
};

/*
 * Lay out m (NULL: the unknown model: 8 GP slots, 2 result slots).
 * 0, or -EINVAL (malformed model), -E2BIG (beyond FTRAMP_MAX_ARGS,
 * FTRAMP_MAX_STACK_ARGS stack slots, FTRAMP_MAX_CTX_ARGS ctx slots or
 * FTRAMP_MAX_CTX_RET result slots), -EOPNOTSUPP (variadic).
 */
int a64_abi_layout(const struct ftramp_func_model *m,
		   struct a64_abi_layout *lay);

/*
 * ctx slots of one value of type t (0 for void; -EINVAL for an unknown
 * class): ftramp_type__ctx_slots() without the NULL check.
 */
int a64_abi_type_slots(const struct ftramp_type *t);

/*
 * The per-type rules every layer shares (the model layer validates with
 * them, this file places with them).
 *
 * Alignment of a type, resolving align == 0 ("natural").
 */
uint32_t ftramp_type_align(const struct ftramp_type *t);

/*
 * The sizes each class may have (INT 1-16, FLOAT 4/8/16, HFA 1-4 members
 * of 4/8/16 bytes, STRUCT non-empty; VOID any): 0 or -EINVAL.  Flags and
 * alignment are not looked at; ftramp_model__validate() checks those.
 */
int ftramp_type_check_size(const struct ftramp_type *t);

#endif /* FTRAMP_ARCH_ARM64_ABI_H */
