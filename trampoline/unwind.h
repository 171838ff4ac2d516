/* SPDX-License-Identifier: MIT */
/*
 * Generated code, described to the process's DWARF unwinder, so that C++
 * exceptions, pthread_cancel() and pthread_exit() unwind through an
 * image exactly as through the function it stands for
 * (Documentation/trampoline.rst, "Exceptions and cancellation").
 *
 * Each registration is one .eh_frame (CIE, FDE, terminator) built from
 * the emitter's unwind rows (arch/arm64/eh_frame.h) and handed to
 * __register_frame(), looked up at run time in the unwinder the process
 * uses (libgcc_s, loaded if nobody has yet: glibc loads the same one for
 * cancellation), so libftramp has no link-time dependency on it.  An
 * image with a state gets ftramp's personality routine: an unwind that
 * leaves the frame in its cleanup phase gives back what the epilogue
 * would have (the guard byte, the in-flight unit).
 *
 * Thread safe; not async-signal safe (malloc, the unwinder's lock).
 */
#ifndef FTRAMP_TRAMPOLINE_UNWIND_H
#define FTRAMP_TRAMPOLINE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/eh_frame.h"

struct ftramp_tramp_state;
struct ftramp_unwind;

/*
 * Register [code, code + size) whose unwind rules are @rows (nr of them,
 * the emitter's).  @st: the image's state, whose counters an unwind
 * through the frame releases (NULL: CFI only, no personality).  The
 * rows are copied.  0 and *out set, or -ENOSYS (no unwinder with
 * __register_frame in reach: the image still works, exceptions through
 * it do not), -EINVAL (rows the encoder refuses), -ENOMEM.
 */
int ftramp_unwind__register(const void *code, size_t size,
			    const struct a64_uw_row *rows, unsigned int nr,
			    struct ftramp_tramp_state *st,
			    struct ftramp_unwind **out);

/*
 * Deregister and free; before the code's memory is freed or reused, and
 * only once no thread can unwind through it (the image's reclamation).
 * NULL is a no-op.
 */
void ftramp_unwind__unregister(struct ftramp_unwind *u);

/*
 * @u registers a return-hook image whose exit stub is at @stub: the
 * unwinder's lookup for a return address into it gets this thread's
 * stub FDE (unwind.c, "Unwinding through a return hook").  Before any
 * thread can return there.
 */
void ftramp_unwind__set_stub(struct ftramp_unwind *u, const void *stub);

/*
 * Does the process's unwinder call our _Unwind_Find_FDE (libgcc_s, with
 * libftramp ahead of it in the symbol search order)?  If not, unwinding
 * stops at a hooked function's exit stub.
 */
bool ftramp_unwind__hooks_ok(void);

/*
 * What libftramp's _Unwind_Find_FDE() does (libgcc's FDE lookup, with
 * the exit stubs answered; @bases is libgcc's struct dwarf_eh_bases).
 * A library that links libftramp.a and hides its symbols exports its
 * own _Unwind_Find_FDE calling this (the CLI's agent).
 */
const void *ftramp_unwind_find_fde(void *pc, void *bases);

/* fork(): the lock around libgcc's calls (the order: ftrace/fork.c). */
void ftramp_unwind_atfork(int stage);

/* For tests: the .eh_frame bytes of a registration. */
const uint8_t *ftramp_unwind__eh_frame(const struct ftramp_unwind *u,
				       size_t *size);

#endif /* FTRAMP_TRAMPOLINE_UNWIND_H */
