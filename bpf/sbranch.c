// SPDX-License-Identifier: MIT
/*
 * Static branches: instructions of a loaded program that are flipped at
 * run time between "nop" and "goto target", in both engines
 * (ftramp_bpf_static_branch__update(), Documentation/bpf.rst).
 *
 * The argument.
 *
 *  - A site is one instruction: ja with BPF_STATIC_BRANCH_JA, or jcond
 *    (may_goto's encoding).  The JIT emits it as exactly one A64 word at
 *    offset[insn] (arch/arm64/bpf_jit.c): `nop` when off, `b T` when on,
 *    T = offset[target].  Nothing else is ever written there, and only by
 *    the text poke's compare-then-write: nop <-> b is a change Arm ARM
 *    B2.2.5 (concurrent modification and execution) allows while other
 *    threads may execute the word, so each thread executes either the
 *    old word or the new one.
 *  - Every site of a key is queued in one ftramp_poke_batch: one
 *    protection change per page, one cache maintenance pass, one
 *    synchronisation of every thread for the whole key.  The batch
 *    compares each word with what `on` says is there before it writes
 *    anything, so the update is all sites or none.
 *  - The interpreter reads a flag per site (sb_on[insn], acquire), stored
 *    after the batch committed (release).  A run in flight may see some
 *    sites of a key old and some new, in either engine, as with the
 *    kernel's static keys; a run that starts after the update returned
 *    sees only the new state: the batch made every thread refetch, and
 *    the flags were stored before the return.
 *  - Updates are serialised by one lock, so `on` always says what the
 *    image holds.  The sites live as long as the program: detaching does
 *    not free it, reclamation keeps an image alive while a trampoline may
 *    still call it, and a program must not be freed while an update of
 *    it runs (libbpf's rule for a program's fd).
 *
 * The states of one site (JIT word, interpreter flag):
 *
 *	| state | word   | flag | from                                    |
 *	|-------|--------|------|-----------------------------------------|
 *	| off   | nop    | 0    | load of jcond or a ja with the NOP flag |
 *	| on    | b T    | 1    | load of a plain static ja               |
 *	| off -> on  | nop -> b T written and synced, then flag 1         |
 *	| on -> off  | b T -> nop written and synced, then flag 0         |
 *
 * Keys.  A site's key is its instruction index as written (orig_idx).
 * An instruction-array map among the program's maps groups sites: each
 * of its entries names one (orig_off), and any of them is then the key
 * of all.  The load fills each entry's xlated_off (run index) and
 * jitted_off (byte offset in the image), as the kernel's INSN_ARRAY.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/patching.h"
#include "bpf/bpf.h"

static pthread_mutex_t update_lock = PTHREAD_MUTEX_INITIALIZER;

static int32_t rel_of(const struct ftramp_bpf_insn *in)
{
	return in->code == (BPF_JMP32 | BPF_JA) ? in->imm : in->off;
}

static struct bpf_sbranch *site_by_orig(struct ftramp_bpf_program *p,
					uint32_t orig)
{
	for (size_t k = 0; k < p->nr_sb; k++)
		if (p->sb[k].orig == orig)
			return &p->sb[k];
	return NULL;
}

/* Group the sites an instruction-array map names, fill its values. */
static int bind_insn_array(struct ftramp_bpf_program *p,
			   struct ftramp_bpf_map *m, uint8_t *grouped,
			   struct ftramp_bpf_error *e)
{
	uint32_t group = UINT32_MAX;

	for (uint32_t k = 0; k < m->max_entries; k++) {
		struct ftramp_bpf_insn_array_value v;
		struct bpf_sbranch *s;

		if (ftramp_bpf_map__lookup_elem(m, &k, sizeof(k), &v,
						sizeof(v), 0))
			return -EINVAL;
		s = site_by_orig(p, v.orig_off);
		if (!s)
			return bpf_errf(e, FTRAMP_BPF_E_INSN, "map %s, entry "
					"%u: insn %u is not a static branch",
					m->name, k, v.orig_off);
		if (grouped[s - p->sb])
			return bpf_errf(e, FTRAMP_BPF_E_INSN, "map %s, entry "
					"%u: insn %u is already named by an "
					"instruction array", m->name, k,
					v.orig_off);
		grouped[s - p->sb] = 1;
		if (group == UINT32_MAX)
			group = s->orig;
		s->group = group;
		v.xlated_off = s->insn;
		v.jitted_off = p->jit ? p->jit->offset[s->insn] * 4 : 0;
		if (ftramp_bpf_map__update_elem(m, &k, sizeof(k), &v,
						sizeof(v), BPF_ANY))
			return -EINVAL;
	}
	return 0;
}

int bpf_sbranch_init(struct ftramp_bpf_program *p, struct ftramp_bpf_error *e)
{
	uint8_t *grouped = NULL;
	size_t nr = 0;
	int err = 0;

	for (size_t i = 0; i < p->run_n; i++)
		nr += bpf_is_static_branch(&p->run[i]);
	if (!nr)
		return 0;
	p->sb = calloc(nr, sizeof(*p->sb));
	p->sb_on = calloc(p->run_n, 1);
	grouped = calloc(nr, 1);
	if (!p->sb || !p->sb_on || !grouped) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->run_n; i++) {
		const struct ftramp_bpf_insn *in = &p->run[i];
		struct bpf_sbranch *s = &p->sb[p->nr_sb];

		if (!bpf_is_static_branch(in))
			continue;
		/* run indices after the rewrite pass (fixup.c), keys as written */
		s->insn = (uint32_t)i;
		s->orig = s->group = p->orig_idx[i];
		s->target = (uint32_t)((int64_t)i + 1 + rel_of(in));
		s->on = bpf_static_branch_initially_on(in);
		p->sb_on[i] = s->on;
		p->nr_sb++;
	}
	/* a raw load's maps are its own; an object's are all programs' */
	for (size_t k = 0; !err && !p->obj && k < p->nr_maps; k++)
		if (p->maps[k]->type == BPF_MAP_TYPE_INSN_ARRAY)
			err = bind_insn_array(p, p->maps[k], grouped, e);
out:
	free(grouped);
	if (err)
		bpf_sbranch_free(p);
	return err;
}

void bpf_sbranch_free(struct ftramp_bpf_program *p)
{
	free(p->sb);
	free(p->sb_on);
	p->sb = NULL;
	p->sb_on = NULL;
	p->nr_sb = 0;
}

/* The image word of site @s and the address `b` aims at when on. */
static uint64_t jit_target(const struct ftramp_bpf_program *p,
			   const struct bpf_sbranch *s)
{
	return bpf_jit_word_pc(p->jit, p->jit->offset[s->target]);
}

static int flip(struct ftramp_bpf_program *p, uint32_t group, bool on)
{
	struct ftramp_poke_batch *b = NULL;
	int err = 0;

	if (p->jit) {
		b = ftramp_poke_batch__new();
		if (!b)
			return -ENOMEM;
		for (size_t k = 0; !err && k < p->nr_sb; k++) {
			const struct bpf_sbranch *s = &p->sb[k];
			uint64_t t = jit_target(p, s);

			if (s->group != group || s->on == on)
				continue;
			err = bpf_jit_poke_add(b, p->jit,
					       p->jit->offset[s->insn],
					       s->on ? t : 0, on ? t : 0);
		}
		if (!err && ftramp_poke_batch__size(b))
			err = ftramp_poke_batch__commit(b);
		ftramp_poke_batch__free(b);
		if (err)
			return err;
	}
	for (size_t k = 0; k < p->nr_sb; k++) {
		struct bpf_sbranch *s = &p->sb[k];

		if (s->group != group)
			continue;
		s->on = on;
		__atomic_store_n(&p->sb_on[s->insn], on, __ATOMIC_RELEASE);
	}
	return 0;
}

FTRAMP_API int ftramp_bpf_static_branch__update(struct ftramp_bpf_program *p,
						uint32_t key, int on)
{
	const struct bpf_sbranch *s;
	int err;

	if (!p || (on != 0 && on != 1))
		return -EINVAL;
	if (!p->loaded)
		return -ENOEXEC;
	if (key >= p->n)
		return -ERANGE;
	pthread_mutex_lock(&update_lock);
	s = site_by_orig(p, key);
	err = s ? flip(p, s->group, on) : -ENOENT;
	pthread_mutex_unlock(&update_lock);
	return err;
}
