// SPDX-License-Identifier: MIT
/*
 * The bpf/ side of the JIT: describe a loaded program to
 * arch/arm64/bpf_jit.c (which never sees bpf/'s types): its instructions,
 * where each helper's native entry is (helpers.c's, the ones the
 * interpreter calls too, so the two engines differ in code generation
 * only), and bpf_loop(), whose callbacks are the image's own functions.
 */
#include <errno.h>
#include <stddef.h>
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

static uint64_t span_lo = UINT64_MAX, span_hi;	/* atomics */

void bpf_jit_span(uint64_t *lo, uint64_t *hi)
{
	*lo = __atomic_load_n(&span_lo, __ATOMIC_ACQUIRE);
	*hi = __atomic_load_n(&span_hi, __ATOMIC_ACQUIRE);
}

static void span_add(uint64_t lo, uint64_t hi)
{
	uint64_t v = __atomic_load_n(&span_lo, __ATOMIC_RELAXED);

	while (lo < v && !__atomic_compare_exchange_n(&span_lo, &v, lo, false,
						      __ATOMIC_ACQ_REL,
						      __ATOMIC_RELAXED))
		;
	v = __atomic_load_n(&span_hi, __ATOMIC_RELAXED);
	while (hi > v && !__atomic_compare_exchange_n(&span_hi, &v, hi, false,
						      __ATOMIC_ACQ_REL,
						      __ATOMIC_RELAXED))
		;
}

/*
 * The verifier's key of run insn @i (its index in insns: orig_idx), NULL
 * when it is no tail call.
 */
static const struct bpf_tail_key *run_key(const struct ftramp_bpf_program *p,
					  const struct bpf_tail_key *keys,
					  size_t i)
{
	const struct ftramp_bpf_insn *in = &p->run[i];

	if (!keys || in->code != (BPF_JMP | BPF_CALL) || in->src_reg ||
	    in->imm != BPF_FUNC_tail_call)
		return NULL;
	return &keys[p->orig_idx ? p->orig_idx[i] : i];
}

/* The call sites whose map and key the verifier knew: direct slots. */
static size_t direct_sites(const struct ftramp_bpf_program *p,
			   const struct bpf_tail_key *keys,
			   unsigned int flags, struct bpf_jit_poke *out)
{
	size_t nr = 0;

	for (size_t i = 0; keys && i < p->run_n; i++) {
		const struct bpf_tail_key *k = run_key(p, keys, i);
		const struct ftramp_bpf_map *m = k ? k->map : NULL;

		/* a live slot is tracked in its map's tail state */
		if (!m || k->key < 0 ||
		    m->type != BPF_MAP_TYPE_PROG_ARRAY ||
		    k->key >= m->max_entries ||
		    (!m->ts && !(flags & BPF_JIT_PROG_LISTED)))
			continue;
		if (out)
			out[nr].insn = (uint32_t)i;
		nr++;
	}
	return nr;
}

/*
 * The tail frame (BPF_JIT_TAIL_FRAME) for a program that makes tail
 * calls or may be the target of one: loaded with a prog array among its
 * maps (a raw load's opts.maps, an object's maps).  Every other program
 * keeps the lean frame.
 */
static bool tail_frame(const struct ftramp_bpf_program *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->insns[i].code == (BPF_JMP | BPF_CALL) &&
		    !p->insns[i].src_reg &&
		    p->insns[i].imm == BPF_FUNC_tail_call)
			return true;
	for (size_t i = 0; i < p->nr_maps; i++)
		if (p->maps[i] && p->maps[i]->type == BPF_MAP_TYPE_PROG_ARRAY)
			return true;
	for (size_t i = 0; p->obj && i < p->obj->nr_maps; i++)
		if (p->obj->maps[i].type == BPF_MAP_TYPE_PROG_ARRAY)
			return true;
	return false;
}

int bpf_jit_prog(struct ftramp_bpf_program *p, const struct bpf_tail_key *keys,
		 unsigned int flags)
{
	struct bpf_jit_desc d = {
		.n = p->run_n,
		.entry = p->run_entry,
		.helper = jit_helper,
		.helper_cookie = p,
		.near = (uintptr_t)jit_loop,
		.flags = bpf_jit_test_flags,
		.tail_off = offsetof(struct ftramp_bpf_map, tail),
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
	if (tail_frame(p)) {
		d.flags |= BPF_JIT_TAIL_FRAME;
		d.inflight = &p->helper_inflight;
	}
	d.nr_pokes = direct_sites(p, keys, flags, NULL);
	d.pokes = calloc(d.nr_pokes + 1, sizeof(*d.pokes));
	p->pokes = calloc(d.nr_pokes + 1, sizeof(*p->pokes));
	if (!d.pokes || !p->pokes) {
		err = -ENOMEM;
		goto fail;
	}
	direct_sites(p, keys, flags, d.pokes);
	err = bpf_jit_compile(&d, img);
	if (err)
		goto fail;
	span_add((uintptr_t)img->text.rx,
		 (uintptr_t)img->text.rx + (uint64_t)img->len * 4);
	for (size_t k = 0; k < d.nr_pokes; k++) {
		const struct bpf_tail_key *tk = run_key(p, keys,
							d.pokes[k].insn);

		p->pokes[k].map = (struct ftramp_bpf_map *)tk->map;
		p->pokes[k].key = (uint32_t)tk->key;
		p->pokes[k].word = d.pokes[k].slot;
	}
	p->nr_pokes = d.nr_pokes;
	p->jit = img;
	free(d.pokes);
	free(insns);
	bpf_jit_debug_register(p);
	return 0;
fail:
	free(img);
	free(insns);
	free(d.pokes);
	free(p->pokes);
	p->pokes = NULL;
	return err;
}

void bpf_jit_prog_free(struct ftramp_bpf_program *p)
{
	if (!p->jit)
		return;
	bpf_jit_debug_unregister(p);
	bpf_jit_free(p->jit);
	free(p->jit);
	p->jit = NULL;
	free(p->pokes);
	p->pokes = NULL;
	p->nr_pokes = 0;
}

uint64_t bpf_jit_run(const struct ftramp_bpf_program *p, uint64_t r1,
		     uint64_t r2)
{
	uint64_t (*fn)(uint64_t, uint64_t) =
		(uint64_t (*)(uint64_t, uint64_t))(uintptr_t)p->jit->entry;

	return fn(r1, r2);
}
