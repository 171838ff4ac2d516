/* SPDX-License-Identifier: MIT */
/*
 * Instruction patching in one pass (bpf/patch.c): the rewrites after the
 * verifier replace single instructions by sequences; each shifts every
 * jump, call, callback address and instruction pointer behind it.  The
 * kernel's bpf_patch_insn_data() adjusts everything on each patch
 * (O(n) per patch, O(n * p) in all); here the patches are recorded, then
 * applied together in O(n + p log p).  Pure.
 */
#ifndef FTRAMP_BPF_PATCH_H
#define FTRAMP_BPF_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

/*
 * Replace the instruction at original index @idx (an ld_imm64 whole,
 * both halves) by @n instructions (0: removed), taken verbatim: jumps
 * inside a replacement are relative to it.  A jump to @idx lands on the
 * replacement's first instruction, as with the kernel's patches.
 */
struct bpf_patch {
	uint32_t idx;
	uint32_t n;
	const struct ftramp_bpf_insn *insns;
};

struct bpf_patch_out {
	struct ftramp_bpf_insn *insns;	/* malloc'd */
	uint32_t *orig_idx;		/* malloc'd: each insn's original */
	size_t n;
};

/*
 * Apply @patches (any order, one per index) to @in[0..n-1], whose
 * original indices are @orig (NULL: 0..n-1).  Jumps, bpf-to-bpf calls,
 * BPF_PSEUDO_FUNC addresses and gotol are re-aimed; a ja whose offset
 * outgrows 16 bits becomes a gotol; @ips[0..nr_ips-1] (instruction
 * pointers: line info, static branch sites) are remapped in place.
 * 0, -EINVAL (bad or duplicate index, second half of an ld_imm64),
 * -ERANGE (a conditional jump beyond 16 bits), -ENOMEM.
 */
int bpf_patch_apply(const struct ftramp_bpf_insn *in, size_t n,
		    const uint32_t *orig, struct bpf_patch *patches,
		    size_t nr_patches, uint32_t *ips, size_t nr_ips,
		    struct bpf_patch_out *out);

/* The same result, one patch at a time as the kernel does (tests, bench). */
int bpf_patch_apply_naive(const struct ftramp_bpf_insn *in, size_t n,
			  const uint32_t *orig, const struct bpf_patch *patches,
			  size_t nr_patches, uint32_t *ips, size_t nr_ips,
			  struct bpf_patch_out *out);

void bpf_patch_out_free(struct bpf_patch_out *out);

/*
 * Removals (n = 0) of every instruction of @in[0..n-1] not marked in
 * @keep (an ld_imm64 by its first half, removed whole) into @out (room
 * for n); their number.  @keep NULL keeps everything.
 */
size_t bpf_patch_removals(const struct ftramp_bpf_insn *in, size_t n,
			  const uint8_t *keep, struct bpf_patch *out);

#endif /* FTRAMP_BPF_PATCH_H */
