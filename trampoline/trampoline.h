/* SPDX-License-Identifier: MIT */
/*
 * The trampoline layer's internal API: the emitter's interface
 * (arch/arm64/trampoline.h: what a trampoline does, the image state's
 * layout) and the lifecycle of an image's runtime state, for the program
 * helpers (trampoline/helpers.c), the struct_ops thunks
 * (trampoline/thunk.c) and the ftrace layer above.
 */
#ifndef FTRAMP_TRAMPOLINE_TRAMPOLINE_H
#define FTRAMP_TRAMPOLINE_TRAMPOLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/arm64/trampoline.h"

/* trampoline/image.c: the runtime state of one image. */

/*
 * Fill *st: counters zeroed, a guard slot allocated (slots are shared
 * round-robin once FTRAMP_GUARD_SLOTS images exist: a shared slot makes
 * the guard coarser, never wrong).  0 or negative errno.
 */
int ftramp_tramp_state_init(struct ftramp_tramp_state *st);
/* Release the guard slot; no thread may still run the image. */
void ftramp_tramp_state_fini(struct ftramp_tramp_state *st);
/* Atomic reads of the counters. */
uint64_t ftramp_tramp_state_inflight(const struct ftramp_tramp_state *st);
uint64_t ftramp_tramp_state_misses(const struct ftramp_tramp_state *st);
uint64_t ftramp_tramp_state_unwound(const struct ftramp_tramp_state *st);
/*
 * An unwind leaves a frame of the image on this thread that holds @held
 * (enum a64_uw_held, from the emitter's unwind row at the call it left
 * from): give back what the epilogue would have, the guard byte, then
 * the in-flight unit (release).  The state may be freed as soon as this
 * returns.  @cfa is what _Unwind_GetCFA() gives the personality: a
 * shadow record the frame pushed (its SP at or below it) is popped with
 * it, not left for the shadow stack to release a second time.
 */
void ftramp_tramp_state_unwind(struct ftramp_tramp_state *st,
			       unsigned int held, uint64_t cfa);
/*
 * The FDE (in this thread's guard mapping) of the frame of an exit stub
 * on this thread, its return address found in the shadow stack; built
 * on first use, naming @personality.  NULL: the thread has no table.
 */
const void *ftramp_tramp_hook_fde(uint64_t personality);
/*
 * That personality's cleanup phase: the unwind leaves the hooked frame
 * entered with SP = cfa: pop its records and every one above, reported
 * as unwound, in-flight given back.
 */
void ftramp_tramp_hook_unwind(uint64_t cfa);
/*
 * Tests: call hook() inside guard_slow() (a thread's first entry into any
 * image): hook(0) first, with the thread's signals as they were, then
 * hook(1) where the table is mapped, signals blocked.  NULL removes it.
 * It holds a thread where guard_slow()'s mmap() would keep it.
 */
void ftramp_tramp_set_guard_slow_hook(void (*hook)(int blocked));
/* True when this CPU has LSE atomics (sets FTRAMP_TRAMP_F_LSE). */
bool ftramp_tramp_cpu_has_lse(void);

/* fork(): the guard-slot and thunk-list locks (order: ftrace/fork.c). */
void ftramp_tramp_atfork(int stage);
void ftramp_thunk_atfork(int stage);

#endif /* FTRAMP_TRAMPOLINE_TRAMPOLINE_H */
