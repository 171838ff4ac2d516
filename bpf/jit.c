// SPDX-License-Identifier: MIT
/*
 * The bpf/ side of the JIT: describe a loaded program to
 * arch/arm64/bpf_jit.c (which never sees bpf/'s types) and route its
 * helper calls to the same bpf_helper_call() the interpreter uses, so the
 * two engines differ in code generation only.
 */
#include <errno.h>
#include <stdlib.h>

#include "arch/arm64/bpf_jit.h"
#include "bpf/bpf.h"

unsigned int bpf_jit_test_flags;

/* The native side of `call id`: r1..r5 in x0..x4 as the JIT leaves them. */
static uint64_t jit_helper(uint64_t r1, uint64_t r2, uint64_t r3,
			   uint64_t r4, uint64_t r5, const void *prog,
			   int64_t id)
{
	uint64_t r[6] = { 0, r1, r2, r3, r4, r5 };

	return bpf_helper_call(prog, (int32_t)id, r);
}

int bpf_jit_prog(struct ftramp_bpf_program *p)
{
	struct bpf_jit_desc d = {
		.insns = (const struct bpf_insn *)p->run,
		.n = p->n,
		.entry = p->entry,
		.helper_fn = jit_helper,
		.helper_cookie = p,
		.near = (uintptr_t)jit_helper,
		.flags = bpf_jit_test_flags,
	};
	struct bpf_jit_image *img;
	int err;

	_Static_assert(sizeof(struct bpf_insn) == sizeof(*p->run),
		       "one instruction layout");
	/* Callback addresses (bpf_loop) point into the interpreter's form. */
	for (size_t i = 0; i < p->n; i++)
		if (p->insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    p->insns[i].src_reg == BPF_PSEUDO_FUNC)
			return -EOPNOTSUPP;
	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	err = bpf_jit_compile(&d, img);
	if (err) {
		free(img);
		return err;
	}
	p->jit = img;
	return 0;
}

void bpf_jit_prog_free(struct ftramp_bpf_program *p)
{
	if (!p->jit)
		return;
	bpf_jit_free(p->jit);
	free(p->jit);
	p->jit = NULL;
}

uint64_t bpf_jit_run(const struct ftramp_bpf_program *p, uint64_t r1,
		     uint64_t r2)
{
	uint64_t (*fn)(uint64_t, uint64_t) =
		(uint64_t (*)(uint64_t, uint64_t))(uintptr_t)p->jit->entry;

	return fn(r1, r2);
}
