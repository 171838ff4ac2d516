// SPDX-License-Identifier: MIT
/*
 * Poking words of a published JIT image (arch/arm64/bpf_jit.h): static
 * branch sites, tail-call slots.  Apart from bpf_jit.c so that the
 * host's `ftramp prog --jited`, which links the JIT, needs no patching.
 */
#include <errno.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/patching.h"

/*
 * A word that threads may be executing changes only between the forms Arm ARM B2.2.5 allows for
 * concurrent modification and execution, here `nop` and `b`, and only
 * through the text poke's compare-then-write, so a thread sees the old
 * word or the new one:
 *
 *	| old target | new target | the word goes       |
 *	|------------|------------|---------------------|
 *	| 0          | T          | nop -> b T          |
 *	| T          | 0          | b T -> nop          |
 *	| T          | T2         | b T -> b T2         |
 *
 * The batch (one sync for all its words) is the caller's.
 */
uint64_t bpf_jit_word_pc(const struct bpf_jit_image *img, uint32_t word)
{
	return (uintptr_t)img->text.rx + 4ull * word;
}

int bpf_jit_poke_add(struct ftramp_poke_batch *b,
		     const struct bpf_jit_image *img, uint32_t word,
		     uint64_t old_target, uint64_t new_target)
{
	if (!b || !img || !img->text.rx || word >= img->len)
		return -EINVAL;
	return ftramp_poke_batch__add(b, (void *)(uintptr_t)
				      bpf_jit_word_pc(img, word),
				      FTRAMP_POKE_JUMP,
				      (void *)(uintptr_t)old_target,
				      (void *)(uintptr_t)new_target);
}
