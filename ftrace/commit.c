// SPDX-License-Identifier: MIT
/*
 * The ftrace layer's transaction: every change of ops (ops.c) moves each
 * site it touches from its current state to its next one, in ONE patch
 * batch (arch/arm64/patching.c: all or nothing, one synchronisation per
 * phase).  The kernel's ftrace_replace_code() with arm64's
 * DYNAMIC_FTRACE_WITH_CALL_OPS and DIRECT_CALLS, in miniature.
 *
 * THE SITE STATE TABLE.  This is the one table of site states; the
 * documents (design.rst, patching.rst) and the other files point here.
 * The words of a site (ftrace/sites.h): lit, the 64-bit literal at
 * func - 8, which ftrace_caller loads with a plain load; A at patch; B at
 * patch + 4.  NOPS is the two NOPs the compiler put in the literal slot,
 * &stub the stub record (ftrace/record.c: no target, no handler), mov is
 * `mov x9, x30`, fc the site's ftrace_caller copy (arch/arm64/ftrace.c).
 *
 *   state        lit            A     B        enum site_state
 *   pristine     NOPS           nop   nop      SITE_PRISTINE
 *   prepared     NOPS | &stub   mov   nop      SITE_PREPARED
 *   direct(T)    &r(ops)        mov   bl T     SITE_DIRECT
 *   caller(r)    r              mov   bl fc    SITE_CALLER
 *
 *   direct(T): the one ops on the site is a direct ops whose trampoline
 *   T is within BL range; the literal keeps that ops' own record r(ops),
 *   whose target is T, for a thread that took an older `bl fc`.
 *   caller(r): r is the single record of the one ops on the site, or a
 *   list record of several (ftrace/ftrace.h, struct ftrace_cops).
 *
 * Transitions: the words each phase of the batch writes (enum
 * commit_phase; each phase is written, cache-maintained and
 * synchronised on every thread before the next is written):
 *
 *   from -> to               ENTRY            BL                 LATE
 *   pristine -> prepared     A                                       (1)
 *   pristine -> direct(T)    A, lit -> &r     nop -> bl T
 *   pristine -> caller(r)    A, lit -> r      nop -> bl fc
 *   prepared -> direct(T)                     nop -> bl T  [lit -> &r]
 *   prepared -> caller(r)    lit -> r         nop -> bl fc
 *   direct(T) -> direct(T')                   bl T -> bl T'      (2)
 *   direct(T) -> caller(r)   lit -> r         bl T -> bl fc
 *   direct(T) -> prepared                     bl T -> nop  [lit -> &stub]
 *   caller(r) -> caller(r')  lit: r -> r'                        (2)
 *   caller(r) -> direct(T)                    bl fc -> bl T      lit -> &r
 *   caller(r) -> prepared                     bl fc -> nop       lit -> &stub
 *
 *   [lit ...]: in BL when no B of the site ever led to ftrace_caller
 *   (no thread can load its literal, so enabling or disabling direct
 *   sites costs one sync), else in LATE.
 *   (1) ftrace_prepare_locked() (ftramp_sites__prepare()), or kept by
 *   the rollback of a failed commit (below).
 *   (2) what is replaced (T, r) is freed after a grace period
 *   (ftrace/reclaim.c), never here.
 *
 * Never: B = bl while A = nop (x9 would hold garbage and the trampoline
 * would return there); A: mov -> nop (prepared is never undone); lit
 * changed to anything but a valid record of the site's old or new
 * tracers once a B of the site led to ftrace_caller.
 *
 * Why each is safe for a thread running the function meanwhile:
 *
 *  - B changes only between NOP and BL, which the Arm ARM (B2.2.5,
 *    "Concurrent modification and execution of instructions") allows to
 *    be replaced while another PE executes them: it executes the old or
 *    the new instruction, nothing else.  One aligned 32-bit store
 *    (single-copy atomic, B2.2.1).
 *  - A is not such an instruction (mov is ORR).  Both words are harmless
 *    at function entry (x9 is a temporary that AAPCS64 lets any callee
 *    clobber), but B2.2.5 makes fetching a word while it changes
 *    CONSTRAINED UNPREDICTABLE.  So A is added FTRAMP_POKE_UNREACHABLE,
 *    which the commit makes true: one thread in the process, or every
 *    other one parked for the phase (patching.c, stop_machine.c).  Every
 *    site newly enabled by a transaction is in the ENTRY phase: one stop
 *    per transaction at most, none for prepared sites.  Once written it
 *    stays, even through a rollback: going back would be the same
 *    unlisted change, and prepared is a correct state on its own.
 *  - pristine -> direct/caller: ENTRY's sync guarantees every thread
 *    fetches mov before it can fetch the new bl, so x9 holds the return
 *    address whenever T or fc runs.
 *  - lit before B for caller(r): the literal is written, cleaned and
 *    synchronised in an earlier phase, globally observed before the bl
 *    that leads to the load is even written: whoever runs the new bl
 *    loads the new lit.  A thread in caller(r0) meanwhile loads r0 or r,
 *    one atomic 64-bit store between two valid records (B2.2.1).
 *  - B before lit when leaving caller(): a thread that took the old
 *    `bl fc` just before BL's sync may load the literal arbitrarily
 *    later, and must find a record of the old or the new tracers, both
 *    valid (&stub only when the site is being turned off).  Records
 *    outlive every such thread: they are retired, never freed here.
 *
 * Memory state here changes only after the commit succeeded.  A failed
 * commit that wrote words before it was undone may have let threads reach
 * what it built: that is retired too (ftrace_commit_exposed()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "ftrace/sites.h"
#include "trampoline/unwind.h"

#define LIT_NOPS	0xd503201fd503201full

/* The table above. */
enum site_state {
	SITE_PRISTINE,		/* 0: what a new fsite is */
	SITE_PREPARED,
	SITE_DIRECT,
	SITE_CALLER,
};

/* The phases of a transaction's batch, separated by barriers. */
enum commit_phase {
	PHASE_ENTRY,		/* A of sites leaving pristine; lit -> r */
	PHASE_BL,		/* every B; literals nobody can load */
	PHASE_LATE,		/* lit of sites that left caller() */
	NR_PHASES,
};

/* One site's words and tracers: its current state, or its next. */
struct fsite_state {
	enum site_state state;
	uint64_t target;		/* B: bl target, 0 for nop */
	uint64_t lit;			/* the literal's value */
	struct ftrace_cops *list;	/* our list record in lit, or NULL */
	struct ftramp_ftrace_ops **ops;	/* on this site, registration order */
	unsigned int nr_ops;
};

/* The ftrace layer's state of one site (site->owner). */
struct fsite {
	struct ftramp_site *site;
	struct fsite_state cur;
	struct fsite_state next;	/* during a transaction */
	/*
	 * B has led to ftrace_caller at some time: a thread that took it
	 * then may still load the literal, and so read a record, any time.
	 */
	bool ever_caller;
	bool created;			/* not yet site->owner */
};

static void *u2p(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

static struct fsite *fsite_new(struct ftramp_site *site)
{
	struct fsite *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->site = site;
	f->cur.lit = LIT_NOPS;
	f->created = true;
	return f;
}

/* The fsite is the site's from now on (its words are ftramp's). */
static void fsite_own(struct fsite *f)
{
	if (!f->created)
		return;
	sites_set_owner(f->site, f);
	/*
	 * Keep a shared object mapped while ftramp owns one of its sites:
	 * a dlclose() must not unmap text that threads may return into
	 * (-EINVAL: the executable).
	 */
	sites_object_pin(f->site->obj);
	f->created = false;
}

/* Does an ops use @site (ops on it, or its B branching)? */
bool ftrace_site_in_use(const struct ftramp_site *site)
{
	const struct fsite *f = site->owner;

	return f && (f->cur.nr_ops || f->cur.state == SITE_DIRECT ||
		     f->cur.state == SITE_CALLER || f->cur.list);
}

/*
 * Its object unloaded (ops.c, "Unloading"): the site's state goes with
 * it.  No lock: nothing else refers to an unused site of an unpinned
 * object.
 */
void ftrace_site_forget(struct ftramp_site *site)
{
	struct fsite *f = site->owner;

	if (!f)
		return;
	sites_set_owner(site, NULL);
	free(f->next.ops);
	free(f->cur.ops);
	free(f);
}

/* ------------------------------------------------------------------
 * ftrace_caller copies (arch/arm64/ftrace.c) as the ftrace layer sees
 * them: reclamation windows with an unwind row
 * ------------------------------------------------------------------ */

static bool regs_window;	/* ftrace_regs_caller is a reclaim window */

static int caller_first_use(uint64_t lo, uint64_t hi)
{
	struct ftramp_unwind *u;
	int err = reclaim_add_window(lo, hi);

	if (err)
		return err;
	/* Never freed, like the copy. */
	ftramp_unwind__register(u2p(lo), hi - lo, &a64_ftrace_caller_uw_row,
				1, NULL, &u);
	return 0;
}

/* What B branches to for the site to be in caller(). */
static int caller_target(const struct ftramp_site *site, uint64_t *target)
{
	uint64_t addr;
	int err;

	/* Every copy branches there: a window from the first one on. */
	if (!regs_window) {
		if (reclaim_add_window((uintptr_t)ftrace_regs_caller,
				       (uintptr_t)ftrace_regs_caller_end))
			return -ENOMEM;
		regs_window = true;
	}
	err = a64_ftrace_caller_for(sites_bl_ip(site),
				    site->text ? site->text->start : 0,
				    site->text ? site->text->end : 0,
				    caller_first_use, &addr);
	if (err)
		return err;
	*target = a64_ftrace_caller_entry(addr, sites_bti_first(site));
	return 0;
}

/* ------------------------------------------------------------------
 * The plan: each site's next state
 * ------------------------------------------------------------------ */

/*
 * The next ops list of one site: the registered ops in order, with @chg
 * taking its next state.
 */
static int site_next_ops(struct fsite *fs, struct ftramp_ftrace_ops *chg)
{
	const struct ftrace_ops_state *cn = &chg->priv->next;
	bool want = cn->registered && site_set_has(&cn->sites, fs->site);
	struct fsite_state *n = &fs->next;
	unsigned int directs = 0;

	/*
	 * From the site's own list (registration order), not from every
	 * registered ops: the cost of a change must not grow with the
	 * number of ops elsewhere (one per function with ftramp_attach()).
	 */
	n->nr_ops = 0;
	n->ops = calloc(fs->cur.nr_ops + 1, sizeof(n->ops[0]));
	if (!n->ops)
		return -ENOMEM;
	for (unsigned int i = 0; i <= fs->cur.nr_ops; i++) {
		struct ftramp_ftrace_ops *o = i < fs->cur.nr_ops ?
					      fs->cur.ops[i] : NULL;

		if (want && (!o || o->priv->reg_seq > chg->priv->reg_seq)) {
			n->ops[n->nr_ops++] = chg;
			want = false;
			if (cn->direct)
				directs++;
		}
		if (!o || o == chg)
			continue;
		n->ops[n->nr_ops++] = o;
		if (o->priv->cur.direct)
			directs++;
	}
	/* One direct trampoline per function, as in the kernel. */
	return directs > 1 ? -EBUSY : 0;
}

/* Decide the next state, B and lit of a site from its next ops list. */
static int site_plan(struct fsite *fs, struct ftramp_ftrace_ops *chg)
{
	const struct fsite_state *c = &fs->cur;
	struct fsite_state *n = &fs->next;
	struct ftramp_ftrace_ops *o;
	uint64_t addr;
	int err;

	n->list = NULL;
	if (!n->nr_ops) {
		n->state = c->state == SITE_PRISTINE ? SITE_PRISTINE :
						       SITE_PREPARED;
		n->target = 0;
		n->lit = c->state == SITE_PRISTINE ? c->lit : ftrace_stub_lit();
		return 0;
	}
	o = n->ops[0];
	addr = ftrace_ops_view(o, chg)->direct;
	if (n->nr_ops == 1 && addr &&
	    !(o->flags & FTRAMP_FTRACE_OPS_FL_NO_DIRECT_BL) &&
	    a64_ftrace_bl_reaches(sites_bl_ip(fs->site), addr)) {
		n->state = SITE_DIRECT;
		n->target = addr;
		n->lit = (uint64_t)(uintptr_t)ftrace_ops_record(o, chg);
		return 0;
	}
	err = caller_target(fs->site, &n->target);
	if (err)
		return err;
	n->state = SITE_CALLER;
	if (n->nr_ops == 1) {
		n->lit = (uint64_t)(uintptr_t)ftrace_ops_record(o, chg);
		return 0;
	}
	/* Same list as now, and no new record in it: keep the record. */
	if (c->list && c->nr_ops == n->nr_ops &&
	    !memcmp(c->ops, n->ops, n->nr_ops * sizeof(n->ops[0])) &&
	    !(chg->priv->next.cops != chg->priv->cur.cops &&
	      site_set_has(&chg->priv->next.sites, fs->site))) {
		n->list = c->list;
		n->lit = c->lit;
		return 0;
	}
	n->list = ftrace_cops_new_list(n->ops, n->nr_ops, chg);
	if (!n->list)
		return -ENOMEM;
	n->lit = (uint64_t)(uintptr_t)n->list;
	return 0;
}

/* A list record the plan made: not what the current literal holds. */
static struct ftrace_cops *site_new_list(const struct fsite *fs)
{
	return fs->next.list != fs->cur.list ? fs->next.list : NULL;
}

/* ------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------ */

/*
 * Did the last failed commit write something before it was undone?
 * Then other threads may have run its words during the failed sync: a
 * new trampoline, list or single record they could reach is retired
 * through reclamation like any replaced one, never freed at once.
 * Under ftrace_lock.
 */
static bool commit_exposed;

bool ftrace_commit_exposed(void)
{
	return commit_exposed;
}

/* A rolled-back commit leaves mov x9, x30 written (patching.c). */
static bool entry_prepared(const struct fsite *fs)
{
	return __atomic_load_n((const uint32_t *)u2p(sites_mov_ip(fs->site)),
			       __ATOMIC_RELAXED) == A64_MOV_X9_X30;
}

/* The words of one site in one phase: the table at the top. */
static int batch_site(struct ftramp_poke_batch *b, const struct fsite *fs,
		      enum commit_phase phase)
{
	const struct fsite_state *c = &fs->cur, *n = &fs->next;
	void *lit = u2p(sites_literal(fs->site));
	bool lit_changes = n->lit != c->lit;
	bool entered = c->state != SITE_PRISTINE;
	bool to_caller = n->state == SITE_CALLER;
	int err = 0;

	switch (phase) {
	case PHASE_ENTRY:
		if (!entered && n->state != SITE_PRISTINE) {
			err = ftramp_poke_batch__add_insn(b,
					u2p(sites_mov_ip(fs->site)), A64_NOP,
					A64_MOV_X9_X30,
					FTRAMP_POKE_UNREACHABLE);
			if (!err)
				err = ftramp_poke_batch__add_u64(b, lit, c->lit,
								 n->lit);
		} else if (entered && to_caller && lit_changes) {
			err = ftramp_poke_batch__add_u64(b, lit, c->lit,
							 n->lit);
		}
		break;
	case PHASE_BL:
		if (n->target != c->target)
			err = ftramp_poke_batch__add(b,
					u2p(sites_bl_ip(fs->site)),
					FTRAMP_POKE_CALL, u2p(c->target),
					u2p(n->target));
		if (!err && entered && !to_caller && !fs->ever_caller &&
		    lit_changes)
			err = ftramp_poke_batch__add_u64(b, lit, c->lit,
							 n->lit);
		break;
	case PHASE_LATE:
		if (entered && !to_caller && fs->ever_caller && lit_changes)
			err = ftramp_poke_batch__add_u64(b, lit, c->lit,
							 n->lit);
		break;
	case NR_PHASES:
		break;
	}
	return err;
}

/* Drop the plan (never committed); retire what threads may have reached. */
static void site_next_drop(struct fsite *fs)
{
	struct ftrace_cops *list = site_new_list(fs);

	if (list && commit_exposed)	/* its literal may have been loaded */
		ftrace_cops_retire(list);
	else if (list)
		ftrace_cops_free(list);		/* never published */
	free(fs->next.ops);
	memset(&fs->next, 0, sizeof(fs->next));
}

/* The plan is in: it becomes the current state. */
static uint64_t site_next_take(struct fsite *fs)
{
	uint64_t seq = 0;

	fsite_own(fs);
	if (fs->next.state == SITE_CALLER)
		fs->ever_caller = true;
	if (fs->cur.list && fs->cur.list != fs->next.list)
		seq = ftrace_cops_retire(fs->cur.list);
	free(fs->cur.ops);
	fs->cur = fs->next;
	memset(&fs->next, 0, sizeof(fs->next));
	return seq;
}

/* One site of a transaction, with the index of the ops changing it. */
struct touch {
	struct ftramp_site *site;
	size_t idx;
};

static int touch_cmp(const void *a, const void *b)
{
	const struct touch *x = a, *y = b;

	if (x->site != y->site)
		return (uintptr_t)x->site < (uintptr_t)y->site ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The union of the current and the next sites of one ops, appended. */
static size_t touch_ops(struct touch *t, size_t nr,
			const struct ftramp_ftrace_ops_priv *p, size_t idx)
{
	static const struct site_set empty_set;
	const struct site_set *x = p->cur.registered ? &p->cur.sites :
						       &empty_set;
	const struct site_set *y = p->next.registered ? &p->next.sites :
							&empty_set;
	size_t a = 0, c = 0;

	while (a < x->nr || c < y->nr) {
		struct ftramp_site *s;

		if (c >= y->nr ||
		    (a < x->nr && (uintptr_t)x->v[a] < (uintptr_t)y->v[c])) {
			s = x->v[a++];
		} else if (a >= x->nr ||
			   (uintptr_t)y->v[c] < (uintptr_t)x->v[a]) {
			s = y->v[c++];
		} else {
			s = x->v[a++];
			c++;
		}
		t[nr++] = (struct touch){ .site = s, .idx = idx };
	}
	return nr;
}

/*
 * The kernel's register_ftrace_direct() of a multi-site ops, generalised
 * to several ops: one plan per site (one changing ops per site: its plan
 * reads that ops' next state), one batch for all.
 */
int ftrace_commit_locked(struct ftramp_ftrace_ops *const *ops, size_t nr_ops,
			 uint64_t *seq, size_t *fail)
{
	struct ftramp_poke_batch *b = NULL;
	struct touch *touched = NULL;
	struct fsite **fs = NULL;
	size_t *owner = NULL;		/* poke entry -> index in ops[] */
	size_t nr = 0, cap = 1, i, nent = 0;
	uint64_t last = 0;
	ssize_t bad;
	int err;

	*seq = 0;
	*fail = 0;
	commit_exposed = false;
	for (i = 0; i < nr_ops; i++) {
		const struct ftramp_ftrace_ops_priv *p = ops[i]->priv;

		cap += p->cur.sites.nr + p->next.sites.nr;
	}
	touched = malloc(cap * sizeof(touched[0]));
	fs = calloc(cap, sizeof(fs[0]));
	if (!touched || !fs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr_ops; i++)
		nr = touch_ops(touched, nr, ops[i]->priv, i);
	/* Sorted by site: the batch is built in address order. */
	qsort(touched, nr, sizeof(touched[0]), touch_cmp);
	for (i = 1; i < nr; i++) {
		if (touched[i].site == touched[i - 1].site) {
			*fail = touched[i].idx;
			err = -EINVAL;
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		struct ftramp_site *site = touched[i].site;
		struct ftramp_ftrace_ops *chg = ops[touched[i].idx];

		*fail = touched[i].idx;
		if (!sites_usable(site) && !site->owner) {
			err = -EOPNOTSUPP;
			goto fail;
		}
		fs[i] = site->owner ? site->owner : fsite_new(site);
		if (!fs[i]) {
			err = -ENOMEM;
			goto fail;
		}
		err = site_next_ops(fs[i], chg);
		if (err)
			goto fail;
		err = site_plan(fs[i], chg);
		if (err)
			goto fail;
	}

	b = ftramp_poke_batch__new();
	/* At most three words per site: mov, literal, bl. */
	owner = malloc((3 * nr + 1) * sizeof(owner[0]));
	if (!b || !owner) {
		err = -ENOMEM;
		goto fail;
	}
	for (enum commit_phase ph = 0; ph < NR_PHASES; ph++) {
		for (i = 0; i < nr; i++) {
			*fail = touched[i].idx;
			err = batch_site(b, fs[i], ph);
			if (err)
				goto fail;
			while (nent < ftramp_poke_batch__size(b))
				owner[nent++] = touched[i].idx;
		}
		if (ph + 1 < NR_PHASES) {
			err = ftramp_poke_batch__barrier(b);
			if (err)
				goto fail;
		}
	}
	if (nent) {
		err = ftramp_poke_batch__commit(b);
		if (err) {
			struct ftramp_patch_stats pst;

			ftramp_poke_batch__stats(b, &pst);
			commit_exposed = pst.phases > 0;
			/* The first entry in error: whose site it is. */
			bad = ftramp_poke_batch__err_index(b);
			*fail = bad >= 0 && (size_t)bad < nent ? owner[bad] : 0;
			goto fail;
		}
	}

	/* Committed: memory state follows. */
	for (i = 0; i < nr; i++) {
		uint64_t s = site_next_take(fs[i]);

		if (s)
			last = s;
	}
	err = 0;
	*seq = last;
	goto out;
fail:
	for (i = 0; i < nr; i++) {
		if (!fs[i])
			continue;
		site_next_drop(fs[i]);
		if (fs[i]->cur.state == SITE_PRISTINE &&
		    entry_prepared(fs[i])) {
			/* Kept by the rollback: the site is prepared. */
			fsite_own(fs[i]);
			fs[i]->cur.state = SITE_PREPARED;
			continue;
		}
		if (fs[i]->created)
			free(fs[i]);
	}
out:
	ftramp_poke_batch__free(b);
	free(owner);
	free(fs);
	free(touched);
	return err;
}

bool ftrace_ops_exposed(const struct ftramp_ftrace_ops_priv *p)
{
	for (size_t i = 0; i < p->cur.sites.nr; i++) {
		struct fsite *f = p->cur.sites.v[i]->owner;

		if (f && f->ever_caller)
			return true;
	}
	return false;
}

/*
 * pristine -> prepared alone (A: nop -> mov x9, x30), in one batch.  That
 * word is not concurrently modifiable: the commit writes it at once when
 * this is the only thread (a constructor before main, as the preload
 * agent does), else with the other threads stopped, once for the batch.
 * Prepared sites then enable later without any stop; untraced, they run
 * the same number of instructions as before (mov for nop).
 */
int ftrace_prepare_locked(const struct site_set *set)
{
	struct ftramp_poke_batch *b = NULL;
	struct fsite **fs = NULL;
	size_t nr = 0, i;
	int err;

	fs = calloc(set->nr + 1, sizeof(fs[0]));
	b = ftramp_poke_batch__new();
	if (!fs || !b) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < set->nr; i++) {
		struct ftramp_site *site = set->v[i];
		struct fsite *f = site->owner;

		if (f && f->cur.state != SITE_PRISTINE)
			continue;
		if (!f && !(f = fsite_new(site))) {
			err = -ENOMEM;
			goto fail;
		}
		fs[nr++] = f;
		err = ftramp_poke_batch__add_insn(b, u2p(sites_mov_ip(site)),
						  A64_NOP, A64_MOV_X9_X30,
						  FTRAMP_POKE_UNREACHABLE);
		if (err)
			goto fail;
	}
	if (nr) {
		err = ftramp_poke_batch__commit(b);
		if (err)
			goto fail;
	}
	for (i = 0; i < nr; i++) {
		fsite_own(fs[i]);
		fs[i]->cur.state = SITE_PREPARED;
	}
	err = (int)nr;
	goto out;
fail:
	for (i = 0; i < nr; i++)
		if (fs[i]->created)
			free(fs[i]);
out:
	ftramp_poke_batch__free(b);
	free(fs);
	return err;
}

struct ftramp_ftrace_ops *ftrace_site_direct_ops(uint64_t func)
{
	struct ftramp_sites *t;
	struct ftramp_site *s;
	struct fsite *fs;
	int err;

	t = ftrace_sites(&err);
	if (!t)
		return NULL;
	s = sites_lookup_ip(t, func);
	if (!s || !(fs = s->owner))
		return NULL;
	for (unsigned int i = 0; i < fs->cur.nr_ops; i++)
		if (fs->cur.ops[i]->priv->cur.direct)
			return fs->cur.ops[i];
	return NULL;
}
