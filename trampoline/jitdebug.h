/* SPDX-License-Identifier: MIT */
/*
 * Make generated code visible to debuggers and profilers
 * (Documentation/trampoline.rst, "Debuggers and profilers").
 *
 * - GDB's JIT compilation interface (GDB manual, "JIT Compilation
 *   Interface"): every registered range gets an in-memory ELF object
 *   (ELFCLASS64, EM_AARCH64) with a .text header at the execute address,
 *   one FUNC symbol and .debug_frame CFI from the emitter's unwind rows,
 *   linked into __jit_debug_descriptor; gdb's breakpoint on
 *   __jit_debug_register_code() reads it.  Backtraces then name the image and unwind through it.
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
 * Register [addr, addr + size) as the function "ftramp_tramp:<name>",
 * its .debug_frame encoded from the unwind rows its emitter recorded
 * (arch/arm64/eh_frame.h: the same rows as the runtime unwinder's
 * .eh_frame); rows NULL: no CFI, the debugger's own prologue analysis.
 * Returns a handle >= 0 for ftramp_jitdebug__unregister(), or -EINVAL
 * (size 0, the range wraps, name NULL, rows the encoder refuses),
 * -ENOMEM.
 */
int ftramp_jitdebug__register(const char *name, uint64_t addr, size_t size,
			      const struct a64_uw_row *rows, unsigned int nr);

/* As ftramp_jitdebug__register(), the symbol @sym as it is (BPF images). */
int ftramp_jitdebug__register_sym(const char *sym, uint64_t addr,
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

/* fork(): the registration lock (the order is in ftrace/fork.c). */
void ftramp_jitdebug_atfork(int stage);

#endif /* FTRAMP_TRAMPOLINE_JITDEBUG_H */
