// SPDX-License-Identifier: MIT
/*
 * The bpf/ side of the JIT: describe a loaded program to
 * arch/arm64/bpf_jit.c (which never sees bpf/'s types): its instructions,
 * where each helper's native entry is (helpers.c's, the ones the
 * interpreter calls too, so the two engines differ in code generation
 * only), and bpf_loop(), whose callbacks are the image's own functions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/bpf_jit.h"
#include "bpf/bpf.h"

unsigned int bpf_jit_test_flags;

typedef uint64_t (*jit_callback_fn)(uint64_t i, uint64_t ctx);

/* Nesting of bpf_loop() callbacks on this thread, as the interpreter's. */
static __thread int loop_depth;

/*
 * bpf_loop(nr, callback, ctx, flags) for JIT'd programs: callback(i, ctx)
 * for i < nr until it returns 1.  @cb is the address of a function of
 * the image: the JIT formed it from the program's BPF_PSEUDO_FUNC, so it
 * needs no check the interpreter makes.  Limits as the interpreter's.
 */
static uint64_t jit_loop(uint64_t nr, uint64_t cb, uint64_t ctx,
			 uint64_t flags, uint64_t r5,
			 const struct ftramp_bpf_program *prog)
{
	jit_callback_fn fn = (jit_callback_fn)(uintptr_t)cb;
	uint64_t i;

	(void)r5;
	(void)prog;
	if (flags || nr > BPF_MAX_LOOPS)
		return (uint64_t)-E2BIG;
	if (loop_depth >= BPF_MAX_CALL_DEPTH)
		return (uint64_t)-E2BIG;
	loop_depth++;
	for (i = 0; i < nr; i++)
		if (fn(i, ctx))
			break;
	loop_depth--;
	return i < nr ? i + 1 : i;
}

static int jit_helper(int32_t id, struct bpf_jit_helper *h)
{
	bpf_helper_native_fn fn;
	bool takes_prog = false;

	if (!bpf_helper_jit(id))
		return -EOPNOTSUPP;
	fn = id == BPF_FUNC_loop ? jit_loop : bpf_helper_native(id, &takes_prog);
	if (!fn)
		return -EOPNOTSUPP;
	h->addr = (uintptr_t)fn;
	h->cookie = takes_prog;
	return 0;
}

int bpf_jit_prog(struct ftramp_bpf_program *p)
{
	struct bpf_jit_desc d = {
		.n = p->run_n,
		.entry = p->run_entry,
		.helper = jit_helper,
		.helper_cookie = p,
		.near = (uintptr_t)jit_loop,
		.flags = bpf_jit_test_flags,
	};
	struct bpf_jit_image *img;
	struct bpf_insn *insns;
	int err;

	_Static_assert(sizeof(struct bpf_insn) == sizeof(*p->run),
		       "one instruction layout");
	/*
	 * The run form, each callback address (an ld_imm64 that was a
	 * BPF_PSEUDO_FUNC, orig_idx says) back to a BPF_PSEUDO_FUNC with
	 * its target's run index, as the JIT takes it.
	 */
	insns = malloc(p->run_n * sizeof(*insns));
	img = calloc(1, sizeof(*img));
	if (!insns || !img) {
		free(insns);
		free(img);
		return -ENOMEM;
	}
	memcpy(insns, p->run, p->run_n * sizeof(*insns));
	for (size_t i = 0; i + 1 < p->run_n; i++) {
		const struct ftramp_bpf_insn *o =
			&p->insns[p->orig_idx ? p->orig_idx[i] : i];
		uint64_t v;

		if (p->run[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		/* resolved (src_reg 0) from a BPF_PSEUDO_FUNC */
		if (!p->run[i].src_reg &&
		    o->code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    o->src_reg == BPF_PSEUDO_FUNC) {
			v = (uint32_t)p->run[i].imm |
			    (uint64_t)(uint32_t)p->run[i + 1].imm << 32;
			memcpy(&insns[i], o, 2 * sizeof(insns[i]));
			insns[i].imm = (int32_t)((v - (uintptr_t)p->run) /
						 sizeof(*p->run) - i - 1);
		}
		i++;
	}
	d.insns = insns;
	err = bpf_jit_compile(&d, img);
	free(insns);
	if (err) {
		free(img);
		return err;
	}
	p->jit = img;
	bpf_jit_debug_register(p);
	return 0;
}

void bpf_jit_prog_free(struct ftramp_bpf_program *p)
{
	if (!p->jit)
		return;
	bpf_jit_debug_unregister(p);
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
