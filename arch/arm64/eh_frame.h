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

/*
 * a64_uw_row.ra_reg with ra_at 0: no unwinder can find the return
 * address here (DW_CFA_undefined): unwinding stops, it does not loop.
 */
#define A64_UW_RA_UNDEF	0xff

/* What a frame must give back when unwinding leaves it (a64_uw_row.held). */
enum a64_uw_held {
	A64_UW_INFLIGHT	= 1u << 0,	/* one in-flight unit of the image */
	A64_UW_GUARD	= 1u << 1,	/* this thread's guard byte (BUSY) */
};

/* The callee-saved x19..x28 a row can describe: saved_at[r - 19]. */
#define A64_UW_SAVED_FIRST	19
#define A64_UW_NR_SAVED		10
#define A64_UW_SAVED(r)		((r) - A64_UW_SAVED_FIRST)

/*
 * One row of the unwind table: it holds from byte `off` of the code up to
 * the next row's off.  Saved registers are at CFA + *_at (a negative
 * multiple of 8); *_at == 0 means the register still holds the caller's
 * value.  The return address is in register ra_reg (x9 from a patched
 * site, x30) while ra_at is 0, else saved at CFA + ra_at; `pac` says it
 * is signed (between paciasp and autiasp: the unwinder strips the PAC,
 * DW_CFA_AARCH64_negate_ra_state in the CFI).
 */
struct a64_uw_row {
	uint32_t off;
	uint8_t cfa_reg;	/* A64_DW_SP or A64_DW_FP */
	uint8_t ra_reg;
	uint8_t held;		/* enum a64_uw_held */
	uint8_t pac;		/* the return address is PAC-signed */
	uint32_t cfa_off;	/* CFA = cfa_reg + cfa_off */
	int32_t fp_at;		/* the caller's x29 */
	int32_t ra_at;		/* the return address */
	int32_t saved_at[A64_UW_NR_SAVED];	/* the caller's x19..x28 */
};

/* Rows out of the emitter: cap entries at v; nr > cap means truncated. */
struct a64_uw_rows {
	struct a64_uw_row *v;
	unsigned int cap;
	unsigned int nr;
	/*
	 * A return hook's exit stub, byte offset in the code (0: none): a
	 * return address no row can describe (the real one is in the
	 * thread's shadow stack), so the word before it has the row
	 * A64_UW_RA_UNDEF and trampoline/unwind.c answers for it.
	 */
	uint32_t stub_off;
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

/*
 * The frame of a return hook's exit stub, seen from the hooked body that
 * returns into it (trampoline/unwind.c hands it to the runtime unwinder
 * for that one address): SP as the body left it, and the return address found in the
 * thread's shadow stack by a DWARF expression (DW_CFA_val_expression on
 * x30), from the constants below.  (The CFA is SP + 1, the caller's SP
 * CFA - 1: libgcc identifies a frame by the CFA below it, and the stub's
 * frame and its caller's would otherwise share the body's.)  The
 * expression, with that SP (the one the body was entered with):
 *
 *  - from the record at *top_addr downwards to the sentinel (sp ~0), the
 *    first return-hook record (state & hook_bit) whose sp is the CFA;
 *  - then down while the record below is a hook record with the same sp
 *    (a hooked body that tail-called another hooked function: the chain
 *    of records at one SP stands for one frame): that last record's ra;
 *  - none: if pending_addr[0] is the CFA, pending_addr[1] (the record
 *    the personality has just popped for this frame); else 0, which
 *    ends the unwind.
 */
struct a64_cfi_hook {
	uint64_t top_addr;	/* where the topmost record's address is */
	uint64_t pending_addr;	/* two words: CFA, return address */
	uint64_t personality;	/* 0: none */
	uint32_t slot;		/* bytes between records */
	uint8_t sp_off, state_off, ra_off;	/* in a record's header */
	uint8_t hook_bit;	/* in state: a return hook's record */
};

/*
 * Encode that CIE + FDE (.eh_frame, covering every address) into buf
 * (cap bytes); returns the size needed, as a64_cfi_encode().
 */
long a64_cfi_hook_encode(uint8_t *buf, size_t cap,
			 const struct a64_cfi_hook *h);

/* The row in effect at byte offset off (rows ascending), or NULL. */
const struct a64_uw_row *a64_uw_row_at(const struct a64_uw_row *rows,
				       unsigned int nr, uint32_t off);

#endif /* FTRAMP_ARCH_ARM64_EH_FRAME_H */
