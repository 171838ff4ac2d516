// SPDX-License-Identifier: MIT
/*
 * An image's life from sizing to retirement (image_life.h): the one
 * sequence every generated image follows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault_inject.h"
#include "trampoline/image_life.h"
#include "trampoline/jitdebug.h"
#include "trampoline/unwind.h"

/* Unwind rows of one image: about a dozen; more is a bug, not fatal. */
#define IMAGE_UW_ROWS	64

/*
 * Allocate the image's memory and write it.  The sizing pass's bound
 * assumes every call far (literal + blr) where near most are one bl: a
 * chunk of the bound, trimmed, would leave a hole that the next
 * bound-sized request cannot use (the image it replaces is freed later,
 * one granule short of the next).  So a near request is the size of a
 * layout at the target's own address, where a near chunk lies within
 * reach of the same targets in practice; if the chunk landed where the
 * image is longer (-E2BIG), it is replaced by one of the bound.
 */
static int image_place(struct ftramp_image *im, struct ftramp_tramp_args *args,
		       uint64_t near, unsigned int flags)
{
	size_t bound;
	int size, ret;

	/* Passes 1 and 2 of the emitter: the bound and the layout at near. */
	size = ftramp_arch_trampoline_size(args,
					   near && !(flags & FTRAMP_TEXT_FAR) ?
					   near & ~7ull : 0, &bound);
	if (size < 0)
		return size;
	for (;;) {
		ret = ftramp_fault("image_alloc");
		if (!ret)
			ret = ftramp_text_alloc(&im->text, (size_t)size, near,
						flags);
		/* PROT_BTI is a wish: plain pages where it is refused. */
		if (ret && (flags & FTRAMP_TEXT_BTI)) {
			flags &= ~FTRAMP_TEXT_BTI;
			continue;
		}
		if (ret)
			return ret;
		ret = ftramp_arch_prepare_trampoline(args, im->text.rw,
						     ftramp_image__addr(im),
						     im->text.size);
		if (ret == -E2BIG && (size_t)size < bound) {
			ftramp_text_free(&im->text);
			size = (int)bound;
			continue;
		}
		if (ret < 0)
			break;
		im->size = (size_t)ret;
		ret = ftramp_text_trim(&im->text, im->size);
		if (!ret)
			return 0;
		break;
	}
	ftramp_text_free(&im->text);
	return ret;
}

int ftramp_image__build(struct ftramp_image *im,
			struct ftramp_tramp_args *args,
			const struct ftramp_image_place *where)
{
	struct a64_uw_row rows[IMAGE_UW_ROWS];
	struct a64_uw_rows uw = { .v = rows, .cap = IMAGE_UW_ROWS };
	int err;

	memset(im, 0, sizeof(*im));
	im->jit = -1;
	args->unwind = &uw;
	err = image_place(im, args, where->near, where->text_flags);
	if (err)
		goto out;
	err = ftramp_text_publish(&im->text);
	if (err) {
		ftramp_text_free(&im->text);
		goto out;
	}
	/* gdb unwinds through it, perf names it: ftramp_tramp:<name> */
	if (uw.nr > uw.cap)
		uw.nr = 0;	/* symbol only for gdb, no runtime CFI */
	im->jit = ftramp_jitdebug__register(where->name,
					    ftramp_image__addr(im), im->size,
					    uw.nr ? uw.v : NULL, uw.nr);
	/*
	 * Exceptions and cancellation unwind through it (without, they stop
	 * at it: std::terminate; the image then still works).  A return
	 * hook's exit stub is found by unwind.c's FDE lookup
	 * (trampoline.rst, "Unwinding through a return hook").
	 */
	if (uw.nr &&
	    !ftramp_unwind__register(im->text.rx, im->size, uw.v, uw.nr,
				     where->state, &im->uw) && uw.stub_off)
		ftramp_unwind__set_stub(im->uw, (const uint8_t *)im->text.rx +
					uw.stub_off);
out:
	args->unwind = NULL;
	return err;
}

void ftramp_image__free(struct ftramp_image *im)
{
	if (im->jit >= 0)
		ftramp_jitdebug__unregister(im->jit);
	ftramp_unwind__unregister(im->uw);
	ftramp_text_free(&im->text);
	memset(im, 0, sizeof(*im));
	im->jit = -1;
}
