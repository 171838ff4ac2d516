// SPDX-License-Identifier: MIT
/*
 * PROG_ARRAY maps and tail calls: the slots, their owner, and what
 * becomes of a program that leaves a slot.
 *
 * A slot is what the interpreter's bpf_tail_call reads (interp.c):
 * ts->progs[key], stored and read with one atomic pointer access, so a
 * call that races an update ends in the old program or the new one:
 *
 *   slot holds	update to	a tail call through it
 *   ----------	---------	----------------------
 *   NULL	prog		falls through -> runs prog
 *   prog	NULL		runs prog -> falls through
 *   prog	prog2		runs prog -> runs prog2
 *   NULL	NULL, or	(nothing changes)
 *   prog	prog
 *
 * Updates are serialised by tail_mutex.
 *
 * Owner.  As the kernel's bpf_prog_map_compatible(): the first program
 * that names a prog array (at load) or is stored in it fixes the type
 * and the engine it takes; any other is refused (-EINVAL).  So engines
 * never mix in a chain.  The JIT does not take tail calls yet
 * (-EOPNOTSUPP at its load), so a JIT'd program is not stored either:
 * no JIT'd caller could reach it.
 *
 * Leaving a slot.  A slot holds a reference (tail_refs).  The program
 * that leaves it is retired to ftrace/reclaim.c and the reference is
 * dropped only once no run that may have read the slot is still going:
 * bpf_interp_tail_inflight counts every interpreter run from before its
 * first slot read to its end (interp.c), with sequentially consistent
 * accesses on both sides and a membarrier between the store and the
 * retire, so a run that read the old program is counted when reclaim
 * reads the counter.  A program its owner freed (ftramp_bpf_prog__free)
 * while a slot or a reclamation still held it is freed at the last
 * release.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "ftrace/reclaim.h"

struct bpf_tail_state {
	struct ftramp_bpf_program **progs;
	bool owned;
	int owner_type, owner_engine;
};

static pthread_mutex_t tail_mutex = PTHREAD_MUTEX_INITIALIZER;

uint64_t bpf_interp_tail_inflight;

int bpf_tail_map_init(struct ftramp_bpf_map *m)
{
	struct bpf_tail_state *ts = calloc(1, sizeof(*ts));

	if (ts)
		ts->progs = calloc(m->max_entries ? m->max_entries : 1,
				   sizeof(*ts->progs));
	if (!ts || !ts->progs) {
		free(ts);
		return -ENOMEM;
	}
	m->ts = ts;
	return 0;
}

/* Drop one reference; under tail_mutex.  True: destroy @p now (unlocked). */
static bool put_locked(struct ftramp_bpf_program *p)
{
	return !--p->tail_refs && p->orphan;
}

void bpf_tail_map_fini(struct ftramp_bpf_map *m)
{
	struct bpf_tail_state *ts = m->ts;
	struct ftramp_bpf_program **dead;
	size_t nr = 0;

	if (!ts)
		return;
	/* No program can run with the map any more (the caller's word). */
	dead = calloc(m->max_entries + 1, sizeof(*dead));
	pthread_mutex_lock(&tail_mutex);
	for (uint32_t i = 0; i < m->max_entries; i++) {
		struct ftramp_bpf_program *p = ts->progs[i];

		if (p && put_locked(p) && dead)
			dead[nr++] = p;
	}
	pthread_mutex_unlock(&tail_mutex);
	for (size_t i = 0; i < nr; i++)
		bpf_prog_destroy(dead[i]);
	free(dead);
	free(ts->progs);
	free(ts);
	m->ts = NULL;
}

struct ftramp_bpf_program *bpf_prog_array_get(struct ftramp_bpf_map *m,
					      uint32_t index)
{
	if (!m || m->type != BPF_MAP_TYPE_PROG_ARRAY || !m->ts ||
	    index >= m->max_entries)
		return NULL;
	return __atomic_load_n(&m->ts->progs[index], __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------------
 * Owners
 */

static int engine_of(const struct ftramp_bpf_program *p)
{
	return p->jit ? FTRAMP_BPF_ENGINE_JIT : FTRAMP_BPF_ENGINE_INTERP;
}

static const char *engine_str(int engine)
{
	return engine == FTRAMP_BPF_ENGINE_JIT ? "jit" : "interpreter";
}

/* Under tail_mutex. */
static int owner_take(struct ftramp_bpf_map *m,
		      const struct ftramp_bpf_program *p,
		      struct ftramp_bpf_error *e)
{
	struct bpf_tail_state *ts = m->ts;
	int engine = engine_of(p);

	if (!ts->owned) {
		ts->owned = true;
		ts->owner_type = p->type;
		ts->owner_engine = engine;
		return 0;
	}
	if (ts->owner_type == p->type && ts->owner_engine == engine)
		return 0;
	if (e)
		bpf_errf(e, FTRAMP_BPF_E_VERIFY, "prog_array %s takes %s "
			 "programs of type %d, %s is %s of type %d", m->name,
			 engine_str(ts->owner_engine), ts->owner_type, p->name,
			 engine_str(engine), p->type);
	return -EINVAL;
}

int bpf_tail_check_owner(struct ftramp_bpf_program *p,
			 struct ftramp_bpf_error *e)
{
	int err = 0;

	pthread_mutex_lock(&tail_mutex);
	for (size_t i = 0; i < p->n && !err; i++) {
		const struct ftramp_bpf_insn *in = &p->insns[i];
		struct ftramp_bpf_map *m;

		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in->src_reg == BPF_PSEUDO_MAP_FD &&
		    (size_t)in->imm < p->nr_maps) {
			m = p->maps[in->imm];
			if (m && m->type == BPF_MAP_TYPE_PROG_ARRAY && m->ts)
				err = owner_take(m, p, e);
		}
		i++;
	}
	pthread_mutex_unlock(&tail_mutex);
	return err;
}

/* ------------------------------------------------------------------------
 * Leaving a slot
 */

static void retired(void *arg)
{
	struct ftramp_bpf_program *p = arg;
	bool dead;

	pthread_mutex_lock(&tail_mutex);
	dead = put_locked(p);
	pthread_mutex_unlock(&tail_mutex);
	if (dead)
		bpf_prog_destroy(p);
}

bool bpf_tail_release(struct ftramp_bpf_program *p)
{
	bool held;

	pthread_mutex_lock(&tail_mutex);
	held = p->tail_refs > 0;
	if (held)
		p->orphan = true;
	pthread_mutex_unlock(&tail_mutex);
	return !held;
}

/* ------------------------------------------------------------------------
 * Updates
 */

static int set_prog(struct ftramp_bpf_map *m, uint32_t key,
		    struct ftramp_bpf_program *p)
{
	struct bpf_tail_state *ts = m->ts;
	struct ftramp_bpf_program *old;
	int err = 0;

	pthread_mutex_lock(&tail_mutex);
	if (p)
		err = owner_take(m, p, NULL);
	old = ts->progs[key];
	if (err || old == p)
		goto out;
	__atomic_store_n(&ts->progs[key], p, __ATOMIC_SEQ_CST);
	if (p)
		p->tail_refs++;
	if (old) {
		/* every thread past the store, then the counter decides */
		(void)ftrace_sync_cores();
		reclaim_retire(RECLAIM_MARK, &bpf_interp_tail_inflight, 0, 0,
			       retired, old);
	}
out:
	pthread_mutex_unlock(&tail_mutex);
	return err;
}

FTRAMP_API int ftramp_bpf_map__set_prog(struct ftramp_bpf_map *m,
					uint32_t key,
					struct ftramp_bpf_program *p)
{
	if (!m || m->type != BPF_MAP_TYPE_PROG_ARRAY || !m->ts ||
	    (p && !p->loaded))
		return -EINVAL;
	if (p && p->jit)
		return -EOPNOTSUPP;	/* no JIT'd caller could reach it */
	if (key >= m->max_entries)
		return -E2BIG;
	return set_prog(m, key, p);
}

int bpf_prog_array_delete(struct ftramp_bpf_map *m, uint32_t key)
{
	if (key >= m->max_entries)
		return -E2BIG;
	if (!bpf_prog_array_get(m, key))
		return -ENOENT;
	return set_prog(m, key, NULL);
}
