/* SPDX-License-Identifier: MIT */
/*
 * arch/arm64/ftrace_caller.S and arch/arm64/ftrace.c: the offsets the
 * assembly reads, the symbols it defines, and its copies.
 *
 * The layouts are the ftrace layer's (struct ftramp_ftrace_regs in
 * ftramp.h, struct ftrace_cops in ftrace/ftrace.h); ftrace/record.c checks
 * every offset here against them with static assertions.
 */
#ifndef FTRAMP_ARCH_ARM64_FTRACE_H
#define FTRAMP_ARCH_ARM64_FTRACE_H

/* struct ftramp_ftrace_regs (ftramp.h) */
#define FREGS_X0		0
#define FREGS_X2		16
#define FREGS_X4		32
#define FREGS_X6		48
#define FREGS_X8		64
#define FREGS_DIRECT		72
#define FREGS_FP		80
#define FREGS_LR		88
#define FREGS_SP		96
#define FREGS_PC		104
#define FREGS_Q0		112
#define FREGS_SIZE		240

/*
 * ftrace_caller's frame, from sp up: the ftrace_regs, the call record
 * being run (kept across the handler call), then two frame records so
 * that an unwinder sees handler <- ftrace_caller <- traced function <-
 * its caller.
 */
#define FCALLER_COPS		FREGS_SIZE
#define FCALLER_REC_OURS	(FREGS_SIZE + 16)
#define FCALLER_REC_SITE	(FREGS_SIZE + 32)
#define FCALLER_FRAME		(FREGS_SIZE + 48)

/*
 * The entry of an ftrace_caller copy for sites that start with `bti c`
 * (the literal 20 bytes below x30 rather than 16); plain sites use +0.
 */
#define FCALLER_BTI_ENTRY	12

/* struct ftrace_cops */
#define COPS_DIRECT		0
#define COPS_FUNC		8
#define COPS_INFLIGHT		16

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stdint.h>

struct a64_uw_row;

/* arch/arm64/ftrace_caller.S: the position-independent template. */
extern const char ftrace_caller_tmpl[];
extern const char ftrace_caller_tmpl_end[];
/*
 * ... and the register-saving path it branches to through the `direct`
 * of every record that has no direct trampoline (never copied).
 */
extern const char ftrace_regs_caller[];
extern const char ftrace_regs_caller_end[];

/* arch/arm64/ftrace.c (under the ftrace layer's lock) */

/* Can a `bl` at @pc reach @target? */
bool a64_ftrace_bl_reaches(uint64_t pc, uint64_t target);

/*
 * The entry of the ftrace_caller copy at @caller for a site whose entry
 * NOPs follow a `bti c` (@bti_first) or not.
 */
uint64_t a64_ftrace_caller_entry(uint64_t caller, bool bti_first);

/*
 * A copy of ftrace_caller whose every instruction a `bl` at @bl reaches:
 * an existing one, or a new one placed within range of the whole text
 * segment [text_start, text_end) when given (0, 0: none), else near @bl.
 * A new copy is handed to @first_use (its code [lo, hi)) before anything
 * can branch there; its error drops the copy.  0, -ENOMEM or -ERANGE.
 */
int a64_ftrace_caller_for(uint64_t bl, uint64_t text_start, uint64_t text_end,
			  int (*first_use)(uint64_t lo, uint64_t hi),
			  uint64_t *addr);

/* The unwind row of a whole copy (for the unwinder registration). */
extern const struct a64_uw_row a64_ftrace_caller_uw_row;

#endif /* !__ASSEMBLER__ */

#endif /* FTRAMP_ARCH_ARM64_FTRACE_H */
