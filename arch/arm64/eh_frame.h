/* SPDX-License-Identifier: MIT */
/*
 * DWARF call frame information for generated code (pure: no libc beyond
 * <stdint.h>/<stddef.h>, built for the host under ASan).
 *
 * The emitter records what an unwinder needs as it writes the frame code
 * (struct a64_uw_row, one per change); this file turns the rows into one
 * CIE and one FDE, in either flavour:
 *
 *  - .eh_frame (the runtime unwinder: libgcc's __register_frame(), LLVM
 *    libunwind's alike): CIE id 0, CIE pointer relative, augmentation
 *    "zR" (or "zPLR" with a personality routine and its LSDA), every
 *    pointer absolute (DW_EH_PE_absptr), a zero terminator after the FDE;
 *  - .debug_frame (the GDB JIT object): version 1, CIE id 0xffffffff,
 *    absolute 8-byte addresses, no augmentation.
 *
 * Registers by their AArch64 DWARF numbers (x0-x30 are 0-30, SP 31).
 */
#ifndef FTRAMP_ARCH_ARM64_EH_FRAME_H
#define FTRAMP_ARCH_ARM64_EH_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define A64_DW_FP	29
#define A64_DW_LR	30
#define A64_DW_SP	31

/* What a frame must give back when unwinding leaves it (a64_uw_row.held). */
enum a64_uw_held {
	A64_UW_INFLIGHT	= 1u << 0,	/* one in-flight unit of the image */
	A64_UW_GUARD	= 1u << 1,	/* this thread's guard byte (BUSY) */
};

/*
 * One row of the unwind table: it holds from byte `off` of the code up to
 * the next row's off.  Saved registers are at CFA + *_at (a negative
 * multiple of 8); *_at == 0 means the register still holds the caller's
 * value.  The return address is in register ra_reg (x9 from a patched
 * site, x30) while ra_at is 0, else saved at CFA + ra_at.
 */
struct a64_uw_row {
	uint32_t off;
	uint8_t cfa_reg;	/* A64_DW_SP or A64_DW_FP */
	uint8_t ra_reg;
	uint8_t held;		/* enum a64_uw_held */
	uint8_t pad;
	uint32_t cfa_off;	/* CFA = cfa_reg + cfa_off */
	int32_t fp_at;		/* the caller's x29 */
	int32_t ra_at;		/* the return address */
	int32_t x19_at;		/* the caller's x19 */
};

/* Rows out of the emitter: cap entries at v; nr > cap means truncated. */
struct a64_uw_rows {
	struct a64_uw_row *v;
	unsigned int cap;
	unsigned int nr;
};

enum a64_cfi_flavour {
	A64_CFI_EH_FRAME,
	A64_CFI_DEBUG_FRAME,
};

struct a64_cfi_fde {
	uint64_t pc_begin;		/* execute address of the code */
	uint64_t pc_range;		/* bytes */
	const struct a64_uw_row *rows;	/* ascending off, rows[0].off == 0 */
	unsigned int nr_rows;
	/* .eh_frame only: personality routine and its LSDA (0: none). */
	uint64_t personality;
	uint64_t lsda;
};

/*
 * Encode the CIE and FDE of @f into buf (cap bytes; nothing is written
 * past it).  Returns the size the whole needs (8-byte multiple), which
 * may exceed cap: call again with a buffer that large.  -EINVAL for rows
 * that are not ascending, do not start at 0, leave the range, or hold an
 * offset that is no multiple of 8 or beyond what the encoder writes
 * (|at| < 8 * 64 * 1024, cfa_off < 2^28).
 */
long a64_cfi_encode(uint8_t *buf, size_t cap, const struct a64_cfi_fde *f,
		    enum a64_cfi_flavour flavour);

/* The row in effect at byte offset off (rows ascending), or NULL. */
const struct a64_uw_row *a64_uw_row_at(const struct a64_uw_row *rows,
				       unsigned int nr, uint32_t off);

#endif /* FTRAMP_ARCH_ARM64_EH_FRAME_H */
