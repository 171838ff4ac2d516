// SPDX-License-Identifier: MIT
/*
 * PROG_ARRAY maps and tail calls: the slots, their owner, the direct
 * slots of JIT images that name them, and what becomes of a program
 * that leaves a slot.
 *
 * A slot is read two ways: the interpreter reads ts->progs[] (the
 * program), the JIT's indirect tail call reads map->tail->entry[] (the
 * program's tail entry); a call site whose map and key the verifier knew
 * is a direct slot in the caller's image instead (arch/arm64/bpf_jit.c,
 * emit_tail_call()), one word, nop or `b <target's tail body>`.  An
 * update of slot K of map M changes the three together, under
 * tail_mutex, and each direct slot naming (M, K) moves with one
 * CMODX-safe word write (Arm ARM B2.2.5: B and NOP may be modified
 * while other threads execute them), all of them in one poke batch
 * (compare-then-write, one sync):
 *
 *   slot holds	update to	direct slot word	indirect entry / progs[]
 *   ----------	---------	----------------	------------------------
 *   NULL	prog		nop -> b prog		0 -> prog's tail entry
 *   prog	NULL		b prog -> nop		prog's -> 0
 *   prog	prog2		b prog -> b prog2	prog's -> prog2's
 *   NULL	NULL, or	(nothing)		(nothing)
 *   prog	prog
 *
 * A nop falls through to the sequence's "not a tail call" path, which
 * undoes the counter increment the caller made before the slot, so a
 * thread that runs the slot while it changes takes the old word or the
 * new one and counts exactly as the interpreter does either way: every
 * call ends in the old target or the new one, never elsewhere.  The
 * stores to the two tables come first, then the batch, whose sync (or
 * ftrace_sync_cores() when no direct slot names the entry) is what makes
 * the old program unreachable for every thread.
 *
 * Owner.  As the kernel's bpf_prog_map_compatible(): the first program
 * that names a prog array (at load) or is stored in it fixes the type
 * and the engine it takes; any other is refused (-EINVAL).  So engines
 * never mix in a chain: a JIT'd program tail-calls JIT'd programs only
 * (its frame and x26 counter are what the target's tail entry expects),
 * an interpreted one interpreted ones.
 *
 * Leaving a slot.  A slot holds a reference (tail_refs).  The program
 * that leaves it is retired to ftrace/reclaim.c and the reference is
 * dropped only once no thread can still be running it from a tail call:
 *   - JIT: the window is the span of every JIT image (a thread between
 *     a caller's table load and its br holds the target's address in a
 *     register, inside the caller's image), the counter the program's
 *     helper_inflight (a thread in a native helper it called: the
 *     JIT counts around each call in a program with the tail frame);
 *   - interpreter: bpf_interp_tail_inflight counts every run from before
 *     its first slot read to its end (interp.c), no window.
 * A program its owner freed (ftramp_bpf_prog__free) while a slot or a
 * reclamation still held it is freed at the last release.
 *
 * Range.  b reaches +-128 MiB; JIT images are allocated near jit_loop
 * (the near allocator), so they normally reach each other.  An update
 * whose target a direct slot cannot reach fails with -ERANGE (the poke
 * batch refuses the b) before anything changed, as does a load whose
 * direct slot cannot reach the program its map already holds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/bpf_jit.h"
#include "bpf/bpf.h"
#include "ftrace/reclaim.h"

struct bpf_tail_state {
	struct ftramp_bpf_program **progs;	/* what the interpreter reads */
	bool owned;
	int owner_type, owner_engine;
	/* programs with direct slots on this map */
	struct ftramp_bpf_program **callers;
	size_t nr_callers, cap_callers;
};

static pthread_mutex_t tail_mutex = PTHREAD_MUTEX_INITIALIZER;

uint64_t bpf_interp_tail_inflight;

int bpf_tail_map_init(struct ftramp_bpf_map *m)
{
	struct bpf_tail_state *ts = calloc(1, sizeof(*ts));

	m->tail = calloc(1, sizeof(*m->tail) +
			 (size_t)m->max_entries * sizeof(m->tail->entry[0]));
	if (ts)
		ts->progs = calloc(m->max_entries ? m->max_entries : 1,
				   sizeof(*ts->progs));
	if (!ts || !ts->progs || !m->tail) {
		if (ts)
			free(ts->progs);
		free(ts);
		free(m->tail);
		m->tail = NULL;
		return -ENOMEM;
	}
	m->tail->max_entries = m->max_entries;
	m->ts = ts;
	return 0;
}

static void prog_destroy(struct ftramp_bpf_program *p);

/* Drop one reference; under tail_mutex.  True: free @p now (unlocked). */
static bool put_locked(struct ftramp_bpf_program *p)
{
	return !--p->tail_refs && p->orphan;
}

/* Remove @p from the callers of map @m; under tail_mutex. */
static void untrack_map(struct ftramp_bpf_map *m, struct ftramp_bpf_program *p)
{
	struct bpf_tail_state *ts = m->ts;

	for (size_t i = 0; ts && i < ts->nr_callers; i++)
		if (ts->callers[i] == p) {
			ts->callers[i] = ts->callers[--ts->nr_callers];
			return;
		}
}

/* Under tail_mutex: @p's direct slots stop following their maps. */
static void untrack(struct ftramp_bpf_program *p)
{
	for (size_t k = 0; k < p->nr_pokes; k++)
		if (p->pokes[k].map)
			untrack_map(p->pokes[k].map, p);
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
	for (size_t i = 0; i < ts->nr_callers; i++) {
		struct ftramp_bpf_program *c = ts->callers[i];

		for (size_t k = 0; k < c->nr_pokes; k++)
			if (c->pokes[k].map == m)
				c->pokes[k].map = NULL;
	}
	for (uint32_t i = 0; i < m->max_entries; i++) {
		struct ftramp_bpf_program *p = ts->progs[i];

		if (p && put_locked(p) && dead)
			dead[nr++] = p;
	}
	pthread_mutex_unlock(&tail_mutex);
	for (size_t i = 0; i < nr; i++)
		prog_destroy(dead[i]);
	free(dead);
	free(ts->callers);
	free(ts->progs);
	free(ts);
	free(m->tail);
	m->ts = NULL;
	m->tail = NULL;
}

struct ftramp_bpf_program *bpf_prog_array_get(struct ftramp_bpf_map *m,
					      uint32_t index)
{
	if (!m || m->type != BPF_MAP_TYPE_PROG_ARRAY || !m->ts ||
	    index >= m->max_entries)
		return NULL;
	return __atomic_load_n(&m->ts->progs[index], __ATOMIC_ACQUIRE);
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
 * Direct slots
 */

/* The b a direct slot holds for @p in a slot (0: nop). */
static uint64_t slot_target(const struct ftramp_bpf_program *p)
{
	return p && p->jit ? bpf_jit_tail_body(p->jit) : 0;
}

int bpf_tail_track(struct ftramp_bpf_program *p)
{
	struct ftramp_poke_batch *b;
	int err = 0;

	if (!p->nr_pokes)
		return 0;
	b = ftramp_poke_batch__new();
	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&tail_mutex);
	for (size_t k = 0; k < p->nr_pokes && !err; k++) {
		struct bpf_tail_poke *pk = &p->pokes[k];
		struct bpf_tail_state *ts = pk->map->ts;
		uint64_t t = slot_target(ts->progs[pk->key]);
		bool known = false;

		if (t)
			err = bpf_jit_poke_add(b, p->jit, pk->word, 0, t);
		for (size_t i = 0; i < ts->nr_callers; i++)
			known |= ts->callers[i] == p;
		if (known || err)
			continue;
		if (ts->nr_callers == ts->cap_callers) {
			size_t cap = ts->cap_callers ? 2 * ts->cap_callers : 4;
			struct ftramp_bpf_program **c =
				realloc(ts->callers, cap * sizeof(*c));

			if (!c) {
				err = -ENOMEM;
				break;
			}
			ts->callers = c;
			ts->cap_callers = cap;
		}
		ts->callers[ts->nr_callers++] = p;
	}
	/* Nothing runs the image yet: its slots take the entries now. */
	if (!err && ftramp_poke_batch__size(b))
		err = ftramp_poke_batch__commit(b);
	if (err)
		untrack(p);
	pthread_mutex_unlock(&tail_mutex);
	ftramp_poke_batch__free(b);
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
		prog_destroy(p);
}

/* @p left a slot and every thread was synchronised since. */
static void retire(struct ftramp_bpf_program *p)
{
	uint64_t lo = 0, hi = 0;

	if (p->jit) {
		bpf_jit_span(&lo, &hi);
		reclaim_retire(RECLAIM_MARK, &p->helper_inflight, lo, hi,
			       retired, p);
	} else {
		reclaim_retire(RECLAIM_MARK, &bpf_interp_tail_inflight, 0, 0,
			       retired, p);
	}
}

/* The whole program goes, once nothing holds it (prog.c's free). */
static void prog_destroy(struct ftramp_bpf_program *p)
{
	pthread_mutex_lock(&tail_mutex);
	untrack(p);
	pthread_mutex_unlock(&tail_mutex);
	bpf_prog_destroy(p);
}

bool bpf_tail_release(struct ftramp_bpf_program *p)
{
	bool held;

	pthread_mutex_lock(&tail_mutex);
	held = p->tail_refs > 0;
	if (held)
		p->orphan = true;
	else
		untrack(p);
	pthread_mutex_unlock(&tail_mutex);
	return !held;
}

/* ------------------------------------------------------------------------
 * Updates
 */

static int set_prog(struct ftramp_bpf_map *m, uint32_t key,
		    struct ftramp_bpf_program *p, struct ftramp_bpf_error *e)
{
	struct bpf_tail_state *ts = m->ts;
	struct ftramp_poke_batch *b = NULL;
	struct ftramp_bpf_program *old;
	uint64_t from, to;
	int err = 0;

	pthread_mutex_lock(&tail_mutex);
	if (p)
		err = owner_take(m, p, e);
	old = ts->progs[key];
	if (err || old == p)
		goto out;
	from = slot_target(old);
	to = slot_target(p);
	b = ftramp_poke_batch__new();
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ts->nr_callers && !err; i++) {
		struct ftramp_bpf_program *c = ts->callers[i];

		for (size_t k = 0; k < c->nr_pokes && !err; k++) {
			struct bpf_tail_poke *pk = &c->pokes[k];

			if (pk->map != m || pk->key != key)
				continue;
			err = bpf_jit_poke_add(b, c->jit, pk->word, from, to);
		}
	}
	if (err)
		goto out;
	__atomic_store_n(&m->tail->entry[key], p && p->jit ? p->jit->tail : 0,
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&ts->progs[key], p, __ATOMIC_SEQ_CST);
	if (ftramp_poke_batch__size(b))
		err = ftramp_poke_batch__commit(b);
	else if (old)
		err = ftrace_sync_cores();
	if (err) {
		/* Nothing was written (the batch validates first): back. */
		__atomic_store_n(&m->tail->entry[key], old && old->jit ?
				 old->jit->tail : 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&ts->progs[key], old, __ATOMIC_SEQ_CST);
		goto out;
	}
	if (p)
		p->tail_refs++;
	if (old)
		retire(old);	/* its reference goes with the reclamation */
out:
	pthread_mutex_unlock(&tail_mutex);
	ftramp_poke_batch__free(b);
	return err;
}

/* The kernel's update of a slot with a program fd; e: why, if set. */
static int update(struct ftramp_bpf_map *m, uint32_t key,
		  struct ftramp_bpf_program *p, struct ftramp_bpf_error *e)
{
	if (!m || m->type != BPF_MAP_TYPE_PROG_ARRAY || !m->ts ||
	    (p && !p->loaded))
		return -EINVAL;
	if (p && p->jit && !p->jit->tail)
		return -EOPNOTSUPP;	/* JIT'd without the tail frame */
	if (key >= m->max_entries)
		return -E2BIG;
	return set_prog(m, key, p, e);
}

FTRAMP_API int ftramp_bpf_map__set_prog(struct ftramp_bpf_map *m,
					uint32_t key,
					struct ftramp_bpf_program *p)
{
	return update(m, key, p, NULL);
}

int bpf_prog_array_delete(struct ftramp_bpf_map *m, uint32_t key)
{
	if (key >= m->max_entries)
		return -E2BIG;
	if (!bpf_prog_array_get(m, key))
		return -ENOENT;
	return set_prog(m, key, NULL, NULL);
}

/*
 * Declared slots (libbpf's bpf_object_init_prog_arrays(), after its
 * programs load): each one an update as the user's, so the owner rule
 * holds and direct slots already tracked move.  Every program of the
 * object is loaded, none can run yet: on a refusal the caller unloads
 * the object, whose maps take the slots set so far with them
 * (bpf_tail_map_fini(), no reclamation needed), so none stays set.
 */
int bpf_tail_init_slots(struct ftramp_bpf_object *obj,
			struct ftramp_bpf_error *e)
{
	for (size_t i = 0; i < obj->nr_slots; i++) {
		const struct bpf_slot_init *s = &obj->slots[i];
		struct ftramp_bpf_map *m = &obj->maps[s->map];
		struct ftramp_bpf_program *p = &obj->progs[s->prog];
		struct ftramp_bpf_error why = { 0 };
		int err = update(m, s->key, p, &why);

		if (err) {
			bpf_errf(e, FTRAMP_BPF_E_MAP_CREATE, "map %s, slot %u, "
				 "symbol %s: %s", m->name, s->key, p->name,
				 why.code ? why.msg : strerror(-err));
			return err;
		}
	}
	return 0;
}

void bpf_tail_untrack(struct ftramp_bpf_program *p)
{
	pthread_mutex_lock(&tail_mutex);
	untrack(p);
	pthread_mutex_unlock(&tail_mutex);
}
