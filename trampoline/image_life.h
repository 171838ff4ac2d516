/* SPDX-License-Identifier: MIT */
/*
 * The life of a code image, written once for every kind (a traced
 * function's trampoline, ftrace/attach.c; a struct_ops thunk,
 * trampoline/thunk.c):
 *
 *   size      the emitter's sizing pass bounds the image;
 *   allocate  near the text it must reach (or anywhere, far), in PROT_BTI
 *             pages where asked and the kernel has them;
 *   emit      into the writable view, laid out for the executable one;
 *   publish   cache maintenance done, code executable, not yet reachable;
 *   register  gdb's JIT interface and perf's map (jitdebug.c), the
 *             runtime unwinder (unwind.c), both from the emitter's rows;
 *   retire    ftramp_image__free(), once no thread can be inside: when
 *             that is, is the caller's to know (ftrace/reclaim.c for a
 *             trampoline; a thunk's owner for a thunk).
 *
 * Making the published image reachable (a text poke, a pointer handed
 * out) is the caller's step, between build and free.
 */
#ifndef FTRAMP_TRAMPOLINE_IMAGE_LIFE_H
#define FTRAMP_TRAMPOLINE_IMAGE_LIFE_H

#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/text_alloc.h"
#include "trampoline/trampoline.h"

struct ftramp_unwind;

struct ftramp_image {
	struct ftramp_text text;
	size_t size;			/* bytes the emitter used */
	int jit;			/* jitdebug handle, or < 0 */
	struct ftramp_unwind *uw;	/* runtime unwinder, or NULL */
};

struct ftramp_image_place {
	const char *name;	/* gdb and perf: "ftramp_tramp:<name>" */
	/*
	 * The text the image must reach with one BL (a site's address),
	 * or 0: anywhere.  FTRAMP_TEXT_* flags: FAR never near; BTI is a
	 * wish, plain pages where the kernel refuses PROT_BTI.
	 */
	uint64_t near;
	unsigned int text_flags;
	/* The image's state: an unwind through it releases what it holds. */
	struct ftramp_tramp_state *state;
};

/*
 * Size, allocate, emit, publish and register the image @args describes
 * (args->unwind is the builder's own).  0 and @im filled, or a negative
 * errno with nothing allocated: the emitter's errors, those of
 * ftramp_text_alloc() and ftramp_text_publish() (fault point
 * "image_alloc" before each allocation).  A failed registration with the
 * debugger or the unwinder is no failure: the image runs without it.
 */
int ftramp_image__build(struct ftramp_image *im,
			struct ftramp_tramp_args *args,
			const struct ftramp_image_place *where);

/* The image's execute address. */
static inline uint64_t ftramp_image__addr(const struct ftramp_image *im)
{
	return (uint64_t)(uintptr_t)im->text.rx;
}

/* Unregister and free; only once no thread can execute or unwind it. */
void ftramp_image__free(struct ftramp_image *im);

#endif /* FTRAMP_TRAMPOLINE_IMAGE_LIFE_H */
