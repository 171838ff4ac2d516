/* SPDX-License-Identifier: MIT */
/*
 * ftrace_caller: the common entry of the per-callsite ops path
 * (Documentation/design.rst, "Reaching the tracers").
 *
 * Two parts:
 *
 *  - ftrace_caller_tmpl: a position-independent template that
 *    arch/arm64/ftrace.c copies into executable memory within BL range
 *    of each text region that has traced sites (no literal pools, no
 *    ADRP, no branch out of it).  It is never run where it is linked.  It loads the site's
 *    record from the literal and branches to the record's `direct`: the
 *    trampoline of a lone direct ops, else ftrace_regs_caller below.  So
 *    the direct path is ldur; ldr; br, with no test (the kernel's
 *    CALL_OPS + DIRECT_CALLS path, whose ops->direct_call likewise
 *    defaults to ftrace_caller's register-saving path).
 *  - ftrace_regs_caller: linked normally in the library's text (br x17
 *    reaches it from anywhere), saves a struct ftramp_ftrace_regs and
 *    calls the record's function.
 *
 * Entered from a patched site
 *
 *	func-8:	.quad	<struct ftrace_cops *>	the per-site literal
 *	func:	mov	x9, x30
 *	func+4:	bl	ftrace_caller
 *	func+8:	<body>
 *
 * (with a `bti c` at func, everything from the mov shifts by 4) with
 * x30 = the body, x9 = the caller's return address, and x0-x8, q0-q7, the
 * stack as the caller left them.  x10-x17 are free: corruptible across a
 * call (AAPCS64 6.1.1: x9-x15 temporaries, x16/x17 intra-procedure-call
 * scratch, which veneers may clobber between any caller and callee).  The
 * direct path clobbers x16 and x17 only.
 *
 * The literal is 16 bytes below the body, or 20 after a `bti c` (x30 is
 * func+8, or func+12).  The template has one entry for each shape, and
 * the ftrace layer picks the entry when it writes the site's BL
 * (a64_ftrace_caller_entry()), which saves the kernel's
 * `and x16, x30, #~7` on every call.
 *
 * Reclamation (design.rst): everything between loading the literal and
 * the final branch is either inside this code (every copy of the template
 * and ftrace_regs_caller are windows: a thread found there holds some
 * reference), or counted in cops->inflight.  The increment uses plain
 * exclusives (ARMv8.0; LSE is not assumed); the decrement is a release so
 * that every access to the record and to what it points at happens before
 * the count drops.
 */
#include "arch/arm64/ftrace.h"

	.text
	.p2align 6
	.globl	ftrace_caller_tmpl
	.hidden	ftrace_caller_tmpl
	.type	ftrace_caller_tmpl, %function
ftrace_caller_tmpl:
	/* Only BL reaches this, so no BTI landing pad is needed. */
	ldur	x16, [x30, #-16]		// cops = the site's literal
	ldr	x17, [x16, #COPS_DIRECT]
	/*
	 * br x17 lands on a `bti c` of a guarded trampoline page (BTYPE 01,
	 * Arm ARM D8.4.2) and leaves the return stack balanced.
	 */
	br	x17
	/* FCALLER_BTI_ENTRY: the same for sites that start with `bti c`. */
	ldur	x16, [x30, #-20]
	ldr	x17, [x16, #COPS_DIRECT]
	br	x17
	.globl	ftrace_caller_tmpl_end
	.hidden	ftrace_caller_tmpl_end
ftrace_caller_tmpl_end:
	.size	ftrace_caller_tmpl, . - ftrace_caller_tmpl

/*
 * x16 = the record, x17 = this address, x30 = the body, x9 = the caller's
 * return address, the arguments untouched.
 *
 * CFI (in the library's own .eh_frame): the return address is in x9
 * until the frame saves it at fregs->lr, where it stays (a handler may
 * change it) until it is reloaded into x30, or into x9 for the late
 * direct path; the CFA is SP-based throughout.  So an unwinder (gdb, a
 * profiler, or an exception a handler throws) finds the caller at every
 * instruction.
 */
	.p2align 6
	.globl	ftrace_regs_caller
	.hidden	ftrace_regs_caller
	.type	ftrace_regs_caller, %function
ftrace_regs_caller:
	.cfi_startproc
	.cfi_register x30, x9
	hint	#34				// bti c: br x17 may land here
	mov	x10, sp
	sub	sp, sp, #FCALLER_FRAME
	.cfi_def_cfa_offset FCALLER_FRAME
	stp	x0, x1, [sp, #FREGS_X0]
	stp	x2, x3, [sp, #FREGS_X2]
	stp	x4, x5, [sp, #FREGS_X4]
	stp	x6, x7, [sp, #FREGS_X6]
	stp	x8, xzr, [sp, #FREGS_X8]	// x8, and no direct target yet
	stp	x29, x9, [sp, #FREGS_FP]	// fp, lr
	.cfi_offset x29, FREGS_FP - FCALLER_FRAME
	.cfi_offset x30, FREGS_LR - FCALLER_FRAME
	stp	x10, x30, [sp, #FREGS_SP]	// sp, pc
	stp	q0, q1, [sp, #FREGS_Q0]
	stp	q2, q3, [sp, #FREGS_Q0 + 32]
	stp	q4, q5, [sp, #FREGS_Q0 + 64]
	stp	q6, q7, [sp, #FREGS_Q0 + 96]
	str	x16, [sp, #FCALLER_COPS]

	/* The traced function's frame record, then ours pointing at it. */
	stp	x29, x9, [sp, #FCALLER_REC_SITE]
	add	x29, sp, #FCALLER_REC_SITE
	stp	x29, x30, [sp, #FCALLER_REC_OURS]
	add	x29, sp, #FCALLER_REC_OURS

	add	x11, x16, #COPS_INFLIGHT
1:	ldxr	x12, [x11]
	add	x12, x12, #1
	stxr	w13, x12, [x11]
	cbnz	w13, 1b

	/* cops->func(ip = the function's symbol, parent_ip, cops, fregs) */
	and	x0, x30, #~7
	sub	x0, x0, #8
	mov	x1, x9
	mov	x2, x16
	mov	x3, sp
	ldr	x4, [x16, #COPS_FUNC]
	blr	x4

	ldp	x0, x1, [sp, #FREGS_X0]
	ldp	x2, x3, [sp, #FREGS_X2]
	ldp	x4, x5, [sp, #FREGS_X4]
	ldp	x6, x7, [sp, #FREGS_X6]
	ldp	x8, x17, [sp, #FREGS_X8]	// x8, the direct ops' record
	ldp	q0, q1, [sp, #FREGS_Q0]
	ldp	q2, q3, [sp, #FREGS_Q0 + 32]
	ldp	q4, q5, [sp, #FREGS_Q0 + 64]
	ldp	q6, q7, [sp, #FREGS_Q0 + 96]
	ldr	x29, [sp, #FREGS_FP]
	.cfi_same_value x29

	/*
	 * A list handler left the direct ops' record: read its current
	 * target while this thread still counts in the list record (which
	 * keeps that record alive).
	 */
	cbz	x17, 2f
	ldr	x17, [x17, #COPS_DIRECT]
2:	ldr	x16, [sp, #FCALLER_COPS]
	add	x11, x16, #COPS_INFLIGHT
3:	ldxr	x12, [x11]
	sub	x12, x12, #1
	stlxr	w13, x12, [x11]
	cbnz	w13, 3b

	cbnz	x17, .Llate
	.cfi_remember_state
	/* Resume at fregs->pc as if called from the caller: x30 = its lr. */
	ldr	x30, [sp, #FREGS_LR]
	.cfi_same_value x30
	ldr	x9, [sp, #FREGS_PC]
	add	sp, sp, #FCALLER_FRAME
	.cfi_def_cfa_offset 0
	ret	x9

.Llate:
	.cfi_restore_state
	/* The trampoline's entry convention: x9 = lr, x30 = the body. */
	ldr	x9, [sp, #FREGS_LR]
	.cfi_register x30, x9
	ldr	x30, [sp, #FREGS_PC]
	add	sp, sp, #FCALLER_FRAME
	.cfi_def_cfa_offset 0
	br	x17
	.cfi_endproc
	.globl	ftrace_regs_caller_end
	.hidden	ftrace_regs_caller_end
ftrace_regs_caller_end:
	.size	ftrace_regs_caller, . - ftrace_regs_caller

	.section .note.GNU-stack, "", %progbits
