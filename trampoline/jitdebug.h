/* SPDX-License-Identifier: MIT */
/*
 * Make generated code visible to debuggers and profilers
 * (Documentation/trampoline.rst, "Debuggers and profilers").
 *
 * - GDB's JIT compilation interface (GDB manual, "JIT Compilation
 *   Interface"): every registered range gets an in-memory ELF object
 *   (ELFCLASS64, EM_AARCH64) with a .text header at the execute address,
 *   one FUNC symbol and .debug_frame CFI for the frame, linked into
 *   __jit_debug_descriptor; gdb's breakpoint on __jit_debug_register_code()
 *   reads it.  Backtraces then name the image and unwind through it.
 * - perf's JIT map: with FTRAMP_PERF_MAP=1 in the environment, one line
 *   "START SIZE name" (hex) per registration is appended to
 *   /tmp/perf-<pid>.map.  The format has no removal: a line outlives the
 *   code it names; a later line for the same address wins in perf.
 *
 * Thread safe; not async-signal safe (malloc, a mutex).
 */
#ifndef FTRAMP_TRAMPOLINE_JITDEBUG_H
#define FTRAMP_TRAMPOLINE_JITDEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/eh_frame.h"

/*
 * The frame a range builds, as byte offsets from its start, each just
 * past the instruction that makes the change.  The frame is one AAPCS64 frame record {x29, return address} at
 * SP + rec_off, with SP frame_size below its value at entry:
 *
 *	[0, sp_alloc)		CFA = SP; return address in ra_reg
 *	[sp_alloc, rec_saved)	CFA = SP + frame_size
 *	[rec_saved, fp_set)	x29 and the return address saved in the record
 *	[fp_set, epi_regs)	CFA = x29 + frame_size - rec_off (the body:
 *				programs and the original run here)
 *	[epi_regs, epi_sp)	x29, x30 restored; CFA = SP + frame_size
 *	[epi_sp, epi_end)	CFA = SP, return address in x30
 *	[epi_end, size)		the body's rule again (code after the return,
 *				e.g. a slow path, runs with the frame up)
 *
 * With a pre-indexed `stp x29, x9, [sp, #-F]!` sp_alloc == rec_saved,
 * and with a post-indexed `ldp x29, x30, [sp], #F` epi_regs == epi_sp.
 */
struct ftramp_jit_frame {
	uint32_t sp_alloc;
	uint32_t rec_saved;
	uint32_t fp_set;
	uint32_t frame_size;	/* bytes, multiple of 16 */
	uint32_t rec_off;	/* bytes, multiple of 8, < frame_size */
	uint8_t ra_reg;		/* 9 (from a patched site) or 30 (a call) */
	uint32_t epi_regs;	/* 0: no epilogue described */
	uint32_t epi_sp;
	uint32_t epi_end;
};

/*
 * Read the frame of an image from its code, as arch/arm64/trampoline.c
 * emits it: an optional `bti c`, then `stp x29, xR, [sp, #-F]!; mov x29,
 * sp` or `sub sp, sp, #F; stp x29, xR, [sp, #rec]; add x29, sp, #rec`;
 * the first matching `ldp x29, x30` pop and the `ret` that follows it.
 * Each word is checked against the encoder's, so data is never taken for
 * a prologue.  0, or -ENOEXEC when the code does not start that way.
 */
int ftramp_jitdebug__frame_from_code(const void *code, size_t size,
				     struct ftramp_jit_frame *frame);

/*
 * Register [addr, addr + size) as the function "ftramp_tramp:<name>"
 * (frame NULL: no CFI, the debugger's own prologue analysis).  Returns a
 * handle >= 0 for ftramp_jitdebug__unregister(), or -EINVAL (size 0,
 * a frame outside the range, name NULL), -ENOMEM.
 */
int ftramp_jitdebug__register(const char *name, uint64_t addr, size_t size,
			      const struct ftramp_jit_frame *frame);

/*
 * Register an image with the unwind rows its emitter recorded
 * (arch/arm64/eh_frame.h: the .debug_frame comes from the same rows as
 * the runtime unwinder's .eh_frame); rows NULL: symbol only.  Returns
 * what ftramp_jitdebug__register() does, or -EINVAL for rows the encoder
 * refuses.
 */
int ftramp_jitdebug__register_rows(const char *name, uint64_t addr,
				   size_t size, const struct a64_uw_row *rows,
				   unsigned int nr);

/* Unregister before the range is freed or reused.  0, or -ENOENT. */
int ftramp_jitdebug__unregister(int handle);

/* Introspection for tests. */
struct ftramp_jit_entry_info {
	uint64_t addr;
	size_t size;
	const void *symfile;	/* the in-memory ELF object */
	size_t symfile_size;
};

/* Registered ranges (descriptor list length); -ENOENT for a bad handle. */
size_t ftramp_jitdebug__count(void);
int ftramp_jitdebug__info(int handle, struct ftramp_jit_entry_info *info);
/* The handle whose range contains addr, or -ENOENT. */
int ftramp_jitdebug__find(uint64_t addr);
/*
 * Read FTRAMP_PERF_MAP again (it is read once, at the first
 * registration) and close the map file: for tests that set it later.
 */
void ftramp_jitdebug__perf_map_reset(void);

#endif /* FTRAMP_TRAMPOLINE_JITDEBUG_H */
