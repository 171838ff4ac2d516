// SPDX-License-Identifier: MIT
/*
 * ftrace ops: filters, registration, and the transaction that moves every
 * affected site from its old state to its new one (Documentation/
 * design.rst).  The kernel's kernel/trace/ftrace.c in miniature, with
 * arm64's DYNAMIC_FTRACE_WITH_CALL_OPS and DIRECT_CALLS.
 *
 * Site states (the same table as arch/arm64/patching.c, from the side
 * that drives it; lit is the 64-bit literal at func - 8, A the word at
 * patch, B the word at patch + 4):
 *
 *   state        lit              A      B
 *   pristine     two NOPs         nop    nop
 *   off          &stub            mov    nop       (A is never undone)
 *   direct(T)    &stub            mov    bl T      T = the one direct ops'
 *                                                  trampoline, in range
 *   caller(r)    r                mov    bl ftrace_caller
 *                r = the single record of the one ops, or a list record
 *
 * One transaction, three phases separated by batch barriers (each phase
 * written, cache-maintained and synchronised on every thread before the
 * next is written):
 *
 *   1. pristine sites: A nop -> mov (and lit -> &stub); every site that
 *      will be caller(r): lit -> r.  A is not concurrently modifiable:
 *      in a multi-threaded process patching.c writes this phase with the
 *      other threads parked (one stop for the batch; none for sites
 *      prepared early, ftramp_sites__prepare()).  No B changed yet, so
 *      nothing reads a literal that changes here except through
 *      ftrace_caller of a site already in caller(r0), for which r0 -> r
 *      is itself one atomic store between two valid records.
 *   2. every B: nop/bl X -> nop/bl Y.  NOP and BL only: concurrently
 *      modifiable (Arm ARM B2.2.5); each thread runs the old or the new.
 *   3. sites no longer in caller(): lit -> &stub, now that no thread can
 *      newly reach ftrace_caller from them.
 *
 * The whole batch is all or nothing (patching.c); memory state here is
 * changed only after the commit succeeded.  Records that no literal holds
 * any more are retired to the reclamation layer, never freed here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "ftrace/sites.h"
#include "lib/fault_inject.h"
#include "lib/lockdep.h"
#include "trampoline/unwind.h"

_Static_assert(offsetof(struct ftramp_ftrace_regs, regs[2]) == FREGS_X2, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, regs[8]) == FREGS_X8, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, direct) == FREGS_DIRECT,
	       "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, fp) == FREGS_FP, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, lr) == FREGS_LR, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, sp) == FREGS_SP, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, pc) == FREGS_PC, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, vregs) == FREGS_Q0, "");
_Static_assert(sizeof(struct ftramp_ftrace_regs) == FREGS_SIZE, "");
_Static_assert(FCALLER_FRAME % 16 == 0, "sp stays 16-byte aligned");
_Static_assert(offsetof(struct ftrace_cops, direct) == COPS_DIRECT, "");
_Static_assert(offsetof(struct ftrace_cops, func) == COPS_FUNC, "");
_Static_assert(offsetof(struct ftrace_cops, inflight) == COPS_INFLIGHT, "");

#define LIT_NOPS	0xd503201fd503201full

pthread_mutex_t ftrace_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(ftrace_lock, FTRAMP_LOCK_FTRACE);

/* fork(): every lock of the library, in one order (ftrace/fork.c). */
__attribute__((constructor)) static void ftrace_init(void)
{
	ftrace_fork_init();
}

/* ------------------------------------------------------------------
 * Call records and the functions ftrace_caller calls
 * ------------------------------------------------------------------ */

/*
 * Per-thread guard for handlers without FTRAMP_FTRACE_OPS_FL_RECURSION
 * (the kernel's ftrace_ops_assist_func()).  initial-exec: no allocation
 * on first use, which could recurse into a traced allocator.
 */
static __thread unsigned int ftrace_depth
	__attribute__((tls_model("initial-exec")));

static void call_one(struct ftramp_ftrace_ops *ops, unsigned long ip,
		     unsigned long parent_ip, struct ftramp_ftrace_regs *fregs)
{
	if (ops->flags & FTRAMP_FTRACE_OPS_FL_RECURSION) {
		ops->func(ip, parent_ip, ops, fregs);
		return;
	}
	if (ftrace_depth) {
		__atomic_add_fetch(&ops->priv->misses, 1, __ATOMIC_RELAXED);
		return;
	}
	ftrace_depth++;
	ops->func(ip, parent_ip, ops, fregs);
	ftrace_depth--;
}

static void stub_func(unsigned long ip, unsigned long parent_ip,
		      struct ftrace_cops *cops,
		      struct ftramp_ftrace_regs *fregs)
{
}

static void single_func(unsigned long ip, unsigned long parent_ip,
			struct ftrace_cops *cops,
			struct ftramp_ftrace_regs *fregs)
{
	call_one(cops->ops, ip, parent_ip, fregs);
}

/*
 * Several ops on one site: each handler in registration order, then the
 * direct ops' trampoline, if any: ftrace_caller reads its record's
 * current target from fregs->direct after the handlers (the kernel's
 * call_direct_funcs() + ftrace_caller_direct_late).
 */
static void list_func(unsigned long ip, unsigned long parent_ip,
		      struct ftrace_cops *cops,
		      struct ftramp_ftrace_regs *fregs)
{
	for (unsigned int i = 0; i < cops->nr; i++) {
		struct ftrace_cops *rec = cops->list[i];

		if (rec->flags & COPS_F_DIRECT)
			fregs->direct = (uint64_t)(uintptr_t)rec;
		else
			call_one(rec->ops, ip, parent_ip, fregs);
	}
}

/* What a site's literal holds while the site is off. */
static struct ftrace_cops stub_cops = {
	.direct = (uint64_t)(uintptr_t)ftrace_regs_caller,
	.func = stub_func,
	.flags = COPS_F_STUB,
};

static uint64_t stub_lit(void)
{
	return (uint64_t)(uintptr_t)&stub_cops;
}

static void cops_free(void *p)
{
	struct ftrace_cops *c = p;

	/* A list record lets go of the single records it pointed at. */
	if (c && (c->flags & COPS_F_LIST))
		for (unsigned int i = 0; i < c->nr; i++)
			__atomic_sub_fetch(&c->list[i]->lists, 1,
					   __ATOMIC_RELEASE);
	free(c);
}

static struct ftrace_cops *cops_new_single(struct ftramp_ftrace_ops *ops,
					   uint64_t direct)
{
	struct ftrace_cops *c;

	if (ftramp_fault("ftrace_cops_alloc"))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ops = ops;
	/* ftrace_caller branches to direct without a test. */
	c->direct = direct ? direct : (uint64_t)(uintptr_t)ftrace_regs_caller;
	c->func = single_func;
	c->flags = direct ? COPS_F_DIRECT : 0;
	reclaim_count_alloc(RECLAIM_COPS);
	return c;
}

static struct ftrace_cops *cops_new_list(struct ftramp_ftrace_ops **ops,
					 unsigned int nr)
{
	struct ftrace_cops *c;

	if (ftramp_fault("ftrace_cops_alloc"))
		return NULL;
	c = calloc(1, sizeof(*c) + nr * sizeof(c->list[0]));
	if (!c)
		return NULL;
	c->direct = (uint64_t)(uintptr_t)ftrace_regs_caller;
	c->func = list_func;
	c->flags = COPS_F_LIST;
	c->nr = nr;
	for (unsigned int i = 0; i < nr; i++) {
		c->list[i] = ops[i]->priv->pend_cops ? ops[i]->priv->pend_cops :
						       ops[i]->priv->cops;
		__atomic_add_fetch(&c->list[i]->lists, 1, __ATOMIC_RELAXED);
	}
	reclaim_count_alloc(RECLAIM_COPS);
	return c;
}

static uint64_t cops_retire(struct ftrace_cops *c)
{
	/* A single record waits for the list records that hold it. */
	return reclaim_retire_held(RECLAIM_COPS, &c->inflight,
				   (c->flags & COPS_F_LIST) ? NULL : &c->lists,
				   0, 0, cops_free, c);
}

/* ------------------------------------------------------------------
 * ftrace_caller instances
 * ------------------------------------------------------------------ */

struct fcaller {
	struct ftramp_text text;
	uint64_t addr;
	struct fcaller *next;
};

static struct fcaller *callers;
static bool regs_window;	/* ftrace_regs_caller is a reclaim window */

static bool bl_reaches(uint64_t pc, uint64_t target)
{
	return a64_bl(pc, target) != A64_INSN_BAD;
}

/*
 * One unwind row for a whole copy: it moves no SP and saves nothing, the
 * return address is in x9 throughout (ftrace_caller.S).  An unwinder
 * lands here only asynchronously (a signal on its three instructions);
 * never freed, like the copy.
 */
static void caller_unwind(const void *code, size_t size)
{
	static const struct a64_uw_row row = {
		.cfa_reg = A64_DW_SP, .ra_reg = 9,
	};
	struct ftramp_unwind *u;

	ftramp_unwind__register(code, size, &row, 1, NULL, &u);
}

/*
 * An ftrace_caller within BL range of @patch + 4: an existing one, or a
 * new copy placed within range of the whole text segment (so one serves
 * every site of a region), else near this site.  They are never freed:
 * a few hundred bytes per text region.
 */
static int caller_for(const struct ftramp_site *site, uint64_t *addr)
{
	size_t size = ftrace_caller_tmpl_end - ftrace_caller_tmpl;
	uint64_t bl = sites_bl_ip(site);
	struct fcaller *c;
	int err = -ERANGE;

	for (c = callers; c; c = c->next) {
		if (bl_reaches(bl, c->addr) &&
		    bl_reaches(bl, c->addr + c->text.size - 4)) {
			*addr = c->addr;
			return 0;
		}
	}
	/* Every copy branches there: a window from the first one on. */
	if (!regs_window) {
		if (reclaim_add_window((uintptr_t)ftrace_regs_caller,
				       (uintptr_t)ftrace_regs_caller_end))
			return -ENOMEM;
		regs_window = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (site->text) {
		uint64_t start = site->text->start, end = site->text->end;
		uint64_t lo = end > FTRAMP_BL_RANGE ? end - FTRAMP_BL_RANGE + 4 : 0;
		uint64_t hi = start + FTRAMP_BL_RANGE - 4;

		err = ftramp_text_alloc_range(&c->text, size, lo, hi, 0);
		if (!err && c->text.far) {
			ftramp_text_free(&c->text);
			err = -ERANGE;
		}
	}
	if (err) {
		err = ftramp_text_alloc(&c->text, size, bl, 0);
		if (!err && (c->text.far ||
			     !bl_reaches(bl, (uint64_t)(uintptr_t)c->text.rx) ||
			     !bl_reaches(bl, (uint64_t)(uintptr_t)c->text.rx +
					 size))) {
			ftramp_text_free(&c->text);
			err = -ERANGE;
		}
	}
	if (err)
		goto fail;
	memcpy(c->text.rw, ftrace_caller_tmpl, size);
	err = ftramp_text_publish(&c->text);
	if (err)
		goto fail_free;
	c->addr = (uint64_t)(uintptr_t)c->text.rx;
	err = reclaim_add_window(c->addr, c->addr + size);
	if (err)
		goto fail_free;
	caller_unwind(c->text.rx, size);
	c->next = callers;
	callers = c;
	*addr = c->addr;
	return 0;
fail_free:
	ftramp_text_free(&c->text);
fail:
	free(c);
	return err == -ENOMEM || err == -ERANGE ? err : -ERANGE;
}

/* ------------------------------------------------------------------
 * Site sets: sorted arrays of site pointers
 * ------------------------------------------------------------------ */

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static bool set_has(const struct site_set *s, const struct ftramp_site *site)
{
	return s->nr && bsearch(&site, s->v, s->nr, sizeof(s->v[0]), ptr_cmp);
}

static int set_add(struct site_set *s, struct ftramp_site *site)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct ftramp_site **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->nr++] = site;
	return 0;
}

/* Sort and drop duplicates. */
static void set_normalise(struct site_set *s)
{
	size_t j = 0;

	if (!s->nr)
		return;
	qsort(s->v, s->nr, sizeof(s->v[0]), ptr_cmp);
	for (size_t i = 1; i < s->nr; i++)
		if (s->v[i] != s->v[j])
			s->v[++j] = s->v[i];
	s->nr = j + 1;
}

static void set_remove(struct site_set *s, const struct ftramp_site *site)
{
	struct ftramp_site **p;

	if (!s->nr)
		return;
	p = bsearch(&site, s->v, s->nr, sizeof(s->v[0]), ptr_cmp);
	if (!p)
		return;
	memmove(p, p + 1, (s->v + s->nr - (p + 1)) * sizeof(*p));
	s->nr--;
}

static int set_copy(struct site_set *dst, const struct site_set *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->nr)
		return 0;
	dst->v = malloc(src->nr * sizeof(dst->v[0]));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->nr * sizeof(dst->v[0]));
	dst->nr = dst->cap = src->nr;
	return 0;
}

static void set_free(struct site_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------
 * Registered ops and per-site state
 * ------------------------------------------------------------------ */

/* Registration order: the next ops registered gets ++reg_seq_next. */
static uint64_t reg_seq_next;

/* The ftrace layer's state of one site (site->owner). */
struct fsite {
	struct ftramp_site *site;
	bool inited;			/* A is mov x9, x30 */
	uint64_t target;		/* B: bl target, 0 for nop */
	uint64_t lit;			/* the literal's value */
	struct ftrace_cops *list;	/* our list record in lit, or NULL */
	struct ftramp_ftrace_ops **ops;	/* on this site, registration order */
	unsigned int nr_ops;
	/* transaction scratch */
	struct ftramp_ftrace_ops **n_ops;
	unsigned int n_nr;
	uint64_t n_target, n_lit;
	struct ftrace_cops *n_list;
	bool n_caller;			/* B will be bl ftrace_caller */
	/*
	 * B has led to ftrace_caller at some time: a thread that took it
	 * then may still load the literal, and so read a record, any time.
	 */
	bool ever_caller;
	bool created;
};

int ftrace_priv_get(struct ftramp_ftrace_ops *ops)
{
	if (ops->priv)
		return 0;
	ops->priv = calloc(1, sizeof(*ops->priv));
	return ops->priv ? 0 : -ENOMEM;
}

static struct ftramp_sites *the_sites(int *err)
{
	struct ftramp_sites *t = ftramp_sites__get();

	*err = t ? 0 : (errno ? -errno : -ENOMEM);
	return t;
}

/* The sites an ops would trace: (filter, or every usable site) - notrace */
static int all_sites_cb(struct sites_object *obj, void *ctx)
{
	struct site_set *out = ctx;

	for (size_t i = 0; i < obj->nr_sites; i++) {
		if (!sites_usable(&obj->sites[i]))
			continue;
		if (set_add(out, &obj->sites[i]))
			return -ENOMEM;
	}
	return 0;
}

static int ftrace_compute_sites(const struct site_set *filter,
				const struct site_set *notrace,
				struct site_set *out)
{
	struct ftramp_sites *t;
	int err;

	memset(out, 0, sizeof(*out));
	if (filter->nr) {
		for (size_t i = 0; i < filter->nr; i++) {
			if (set_has(notrace, filter->v[i]))
				continue;
			err = set_add(out, filter->v[i]);
			if (err)
				goto fail;
		}
	} else {
		t = the_sites(&err);
		if (!t)
			return err;
		err = sites_for_each_object(t, all_sites_cb, out);
		if (err < 0)
			goto fail;
		set_normalise(out);
		for (size_t i = 0; i < notrace->nr; i++)
			set_remove(out, notrace->v[i]);
	}
	set_normalise(out);
	return out->nr ? 0 : -ENOENT;
fail:
	set_free(out);
	return err;
}

/*
 * The new ops list of one site: the registered ops in order, with @chg
 * taking its pending state (pend_registered, pend_sites).
 */
static int site_new_ops(struct fsite *fs, struct ftramp_ftrace_ops *chg)
{
	struct ftramp_ftrace_ops_priv *cp = chg->priv;
	bool want = cp->pend_registered && set_has(&cp->pend_sites, fs->site);
	unsigned int n = 0, directs = 0;

	/*
	 * From the site's own list (registration order), not from every
	 * registered ops: the cost of a change must not grow with the
	 * number of ops elsewhere (one per function with ftramp_attach()).
	 */
	fs->n_ops = calloc(fs->nr_ops + 1, sizeof(fs->n_ops[0]));
	if (!fs->n_ops)
		return -ENOMEM;
	for (unsigned int i = 0; i <= fs->nr_ops; i++) {
		struct ftramp_ftrace_ops *o = i < fs->nr_ops ? fs->ops[i] : NULL;

		if (want && (!o || o->priv->reg_seq > cp->reg_seq)) {
			fs->n_ops[n++] = chg;
			want = false;
			if (cp->pend_direct)
				directs++;
		}
		if (!o || o == chg)
			continue;
		fs->n_ops[n++] = o;
		if (o->priv->direct)
			directs++;
	}
	fs->n_nr = n;
	/* One direct trampoline per function, as in the kernel. */
	return directs > 1 ? -EBUSY : 0;
}

static uint64_t ops_direct_addr(struct ftramp_ftrace_ops *o,
				struct ftramp_ftrace_ops *chg)
{
	if (o == chg)
		return o->priv->pend_direct;
	return o->priv->direct;
}

static struct ftrace_cops *ops_cops(struct ftramp_ftrace_ops *o)
{
	return o->priv->pend_cops ? o->priv->pend_cops : o->priv->cops;
}

/* Decide B and lit for a site from its new ops list. */
static int site_plan(struct fsite *fs, struct ftramp_ftrace_ops *chg)
{
	struct ftramp_ftrace_ops *o;
	uint64_t bl = sites_bl_ip(fs->site), addr;
	int err;

	fs->n_list = NULL;
	fs->n_caller = false;
	if (!fs->n_nr) {
		fs->n_target = 0;
		fs->n_lit = fs->inited ? stub_lit() : fs->lit;
		return 0;
	}
	o = fs->n_ops[0];
	addr = ops_direct_addr(o, chg);
	if (fs->n_nr == 1 && addr &&
	    !(o->flags & FTRAMP_FTRACE_OPS_FL_NO_DIRECT_BL) &&
	    bl_reaches(bl, addr)) {
		/*
		 * The literal keeps a valid record of this site's tracers
		 * even though `bl tramp` does not read it: a thread that
		 * entered ftrace_caller before B changed may load it late.
		 */
		fs->n_target = addr;
		fs->n_lit = (uint64_t)(uintptr_t)ops_cops(o);
		return 0;
	}
	err = caller_for(fs->site, &fs->n_target);
	if (err)
		return err;
	/* After a `bti c` the literal is 4 bytes further from x30. */
	if (sites_bti_first(fs->site))
		fs->n_target += FCALLER_BTI_ENTRY;
	fs->n_caller = true;
	if (fs->n_nr == 1) {
		fs->n_lit = (uint64_t)(uintptr_t)ops_cops(o);
		return 0;
	}
	/* Same list as now: keep the record. */
	if (fs->list && fs->nr_ops == fs->n_nr &&
	    !memcmp(fs->ops, fs->n_ops, fs->n_nr * sizeof(fs->ops[0])) &&
	    !(chg->priv->pend_cops && set_has(&chg->priv->pend_sites,
					      fs->site))) {
		fs->n_lit = fs->lit;
		return 0;
	}
	fs->n_list = cops_new_list(fs->n_ops, fs->n_nr);
	if (!fs->n_list)
		return -ENOMEM;
	fs->n_lit = (uint64_t)(uintptr_t)fs->n_list;
	return 0;
}

static void *u2p(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

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

static int batch_site(struct ftramp_poke_batch *b, struct fsite *fs,
		      int phase)
{
	void *lit = u2p(sites_literal(fs->site));
	void *pa = u2p(sites_mov_ip(fs->site));
	void *pb = u2p(sites_bl_ip(fs->site));
	int err = 0;

	/*
	 * The literal changes before B when B will lead to ftrace_caller
	 * (phase 1), after it otherwise (phase 3): a thread that took the
	 * old `bl ftrace_caller` just before phase 2's synchronisation may
	 * load the literal at any time after, and must find a record of
	 * either the old or the new tracers of this site, never the stub
	 * unless the site is being turned off.
	 */
	switch (phase) {
	case 1:
		if (!fs->inited && fs->n_nr) {
			/*
			 * nop -> mov x9, x30 at the entry: not a concurrently
			 * modifiable pair, so the commit stops the other
			 * threads for this phase (patching.c, stop_machine.c;
			 * design.rst, "The first patch").
			 */
			err = ftramp_poke_batch__add_insn(b, pa, A64_NOP,
							  A64_MOV_X9_X30,
							  FTRAMP_POKE_UNREACHABLE);
			if (!err)
				err = ftramp_poke_batch__add_u64(b, lit,
								 fs->lit,
								 fs->n_lit);
		} else if (fs->inited && fs->n_caller &&
			   fs->n_lit != fs->lit) {
			err = ftramp_poke_batch__add_u64(b, lit, fs->lit,
							 fs->n_lit);
		}
		break;
	case 2:
		if (fs->n_target != fs->target)
			err = ftramp_poke_batch__add(b, pb, FTRAMP_POKE_CALL,
						     u2p(fs->target),
						     u2p(fs->n_target));
		/*
		 * A site that never led to ftrace_caller and does not now:
		 * no thread can load its literal, which may then change in
		 * any phase.  Here, with B, rather than in a phase of its
		 * own: enabling or disabling direct sites costs one sync.
		 */
		if (!err && fs->inited && !fs->n_caller && !fs->ever_caller &&
		    fs->n_lit != fs->lit)
			err = ftramp_poke_batch__add_u64(b, lit, fs->lit,
							 fs->n_lit);
		break;
	case 3:
		if (fs->inited && !fs->n_caller && fs->ever_caller &&
		    fs->n_lit != fs->lit)
			err = ftramp_poke_batch__add_u64(b, lit, fs->lit,
							 fs->n_lit);
		break;
	}
	return err;
}

static void fsite_scratch_free(struct fsite *fs)
{
	free(fs->n_ops);
	fs->n_ops = NULL;
	if (fs->n_list)
		cops_free(fs->n_list);	/* never published */
	fs->n_list = NULL;
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

/* The union of the old and the new sites of one ops, appended to @t. */
static size_t touch_ops(struct touch *t, size_t nr,
			const struct ftramp_ftrace_ops_priv *p, size_t idx)
{
	static const struct site_set empty_set;
	const struct site_set *x = p->registered ? &p->sites : &empty_set;
	const struct site_set *y = p->pend_registered ? &p->pend_sites :
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
 * Apply the pending state (priv->pend_*) of every ops in @ops to every
 * site each was or will be on, in ONE patch batch: one commit, one
 * synchronisation per phase for all of them (the kernel's
 * register_ftrace_direct() of a multi-site ops, generalised to several
 * ops).  The ops must not share a site (one changing ops per site: its
 * plan reads that ops' pending state): -EINVAL otherwise.  On success the
 * pending states become the current ones as far as sites are concerned
 * and what no site holds any more is retired (*seq: the last
 * retirement's sequence number, or 0).  On failure nothing changed
 * anywhere, *fail is the index of the ops the error belongs to, and the
 * pending states are left for the caller to discard.
 */
static int ftrace_apply_many_locked(struct ftramp_ftrace_ops *const *ops,
				    size_t nr_ops, uint64_t *seq, size_t *fail)
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

		cap += p->sites.nr + p->pend_sites.nr;
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
		fs[i] = site->owner;
		if (!fs[i]) {
			fs[i] = calloc(1, sizeof(*fs[i]));
			if (!fs[i]) {
				err = -ENOMEM;
				goto fail;
			}
			fs[i]->site = site;
			fs[i]->lit = LIT_NOPS;
			fs[i]->created = true;
		}
		err = site_new_ops(fs[i], chg);
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
	for (int phase = 1; phase <= 3; phase++) {
		for (i = 0; i < nr; i++) {
			*fail = touched[i].idx;
			err = batch_site(b, fs[i], phase);
			if (err)
				goto fail;
			while (nent < ftramp_poke_batch__size(b))
				owner[nent++] = touched[i].idx;
		}
		if (phase < 3) {
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
		struct fsite *f = fs[i];

		if (f->created) {
			sites_set_owner(f->site, f);
			/*
			 * Keep a shared object mapped while ftramp owns one
			 * of its sites: a dlclose() must not unmap text that
			 * threads may return into (-EINVAL: the executable).
			 */
			sites_object_pin(f->site->obj);
		}
		f->created = false;
		if (f->n_nr)
			f->inited = true;
		if (f->n_caller)
			f->ever_caller = true;
		f->target = f->n_target;
		f->lit = f->n_lit;
		if (f->list && f->list != u2p(f->lit))
			last = cops_retire(f->list);
		if (f->n_list)
			f->list = f->n_list;
		else if (f->list && f->list != u2p(f->lit))
			f->list = NULL;
		f->n_list = NULL;
		free(f->ops);
		f->ops = f->n_ops;
		f->nr_ops = f->n_nr;
		f->n_ops = NULL;
	}
	err = 0;
	*seq = last;
	goto out;
fail:
	for (i = 0; i < nr; i++) {
		if (!fs[i])
			continue;
		if (commit_exposed && fs[i]->n_list) {
			/* Its literal may have been loaded meanwhile. */
			cops_retire(fs[i]->n_list);
			fs[i]->n_list = NULL;
		}
		fsite_scratch_free(fs[i]);
		if (!fs[i]->inited && entry_prepared(fs[i])) {
			/* Kept by the rollback: the site is prepared (R). */
			if (fs[i]->created) {
				sites_set_owner(fs[i]->site, fs[i]);
				sites_object_pin(fs[i]->site->obj);
				fs[i]->created = false;
			}
			fs[i]->inited = true;
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

static int ftrace_apply_locked(struct ftramp_ftrace_ops *ops, uint64_t *seq)
{
	size_t fail;

	return ftrace_apply_many_locked(&ops, 1, seq, &fail);
}

static void pend_clear(struct ftramp_ftrace_ops_priv *p)
{
	set_free(&p->pend_sites);
	p->pend_registered = p->registered;
	p->pend_direct = p->direct;
	if (p->pend_cops && commit_exposed)	/* a literal led there */
		p->last_seq = cops_retire(p->pend_cops);
	else if (p->pend_cops)
		free(p->pend_cops);	/* never published */
	p->pend_cops = NULL;
}

/* Pending state of one change; nothing patched.  *noop: nothing to do. */
static int change_prepare(struct ftrace_dchg *c, bool *noop)
{
	struct ftramp_ftrace_ops *ops = c->ops;
	struct ftramp_ftrace_ops_priv *p;
	int err;

	*noop = false;
	switch (c->op) {
	case FTRACE_DOP_REGISTER:
		err = ftrace_priv_get(ops);
		if (err)
			return err;
		p = ops->priv;
		if (p->registered)
			return -EBUSY;
		err = ftrace_compute_sites(&p->filter, &p->notrace,
					   &p->pend_sites);
		if (err)
			return err;
		for (size_t i = 0; i < p->pend_sites.nr; i++) {
			if (!sites_usable(p->pend_sites.v[i]) &&
			    !p->pend_sites.v[i]->owner) {
				pend_clear(p);
				return -EOPNOTSUPP;
			}
		}
		p->pend_registered = true;
		p->pend_direct = c->addr;
		p->pend_cops = cops_new_single(ops, c->addr);
		if (!p->pend_cops) {
			pend_clear(p);
			return -ENOMEM;
		}
		/* After every ops registered so far, on every site. */
		p->reg_seq = ++reg_seq_next;
		return 0;
	case FTRACE_DOP_MODIFY:
		p = ops->priv;
		if (!p || !p->registered || !p->direct)
			return -EINVAL;
		if (c->addr == p->direct) {
			*noop = true;
			return 0;
		}
		err = set_copy(&p->pend_sites, &p->sites);
		if (err)
			return err;
		p->pend_registered = true;
		p->pend_direct = c->addr;
		return 0;
	case FTRACE_DOP_UNREGISTER:
		p = ops->priv;
		if (!p || !p->registered)
			return -EINVAL;
		p->pend_registered = false;
		p->pend_direct = 0;
		memset(&p->pend_sites, 0, sizeof(p->pend_sites));
		return 0;
	}
	return -EINVAL;
}

/* Whether a thread may read the ops' record: a site led to ftrace_caller. */
static bool ops_exposed(const struct ftramp_ftrace_ops_priv *p)
{
	for (size_t i = 0; i < p->sites.nr; i++) {
		struct fsite *f = p->sites.v[i]->owner;

		if (f && f->ever_caller)
			return true;
	}
	return false;
}

/*
 * Several register / modify / unregister changes of ops on disjoint
 * sites, as one transaction: one patch batch for all of them, so the
 * whole set costs one protection change per page and one
 * synchronisation per batch phase (see batch_site() for which phases a
 * change needs).  All or nothing; on failure *fail is the index of the
 * change the error belongs to.
 *
 * A modify whose ops was ever reached through ftrace_caller also stores
 * the new target into the ops' record, bracketed by two syncs: those two
 * are shared by every such modify of the transaction.
 */
int ftrace_change_many_locked(struct ftrace_dchg *v, size_t n, size_t *fail)
{
	struct ftramp_ftrace_ops **ops;
	size_t *map, nr = 0, i, f = 0, prepared = 0;
	bool exposed = false;
	uint64_t seq;
	int err = 0;

	reclaim_take_signals();

	*fail = 0;
	ops = calloc(n + 1, sizeof(ops[0]));
	map = calloc(n + 1, sizeof(map[0]));
	if (!ops || !map) {
		free(ops);
		free(map);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		bool noop;

		err = change_prepare(&v[i], &noop);
		if (err) {
			*fail = i;
			goto fail;
		}
		prepared = i + 1;
		v[i].seq = 0;
		if (noop)
			continue;
		map[nr] = i;
		ops[nr++] = v[i].ops;
	}
	/*
	 * The first of the two syncs of an exposed modify (below): before
	 * anything changes, so that a failure leaves everything as it was.
	 * The new trampolines were published (cache maintenance) by their
	 * owners; after it no thread holds stale instructions for their
	 * addresses (reused memory) when ftrace_caller branches there.  A
	 * modify exposed only by this apply (its sites switched to
	 * ftrace_caller) had the batch's own syncs, after that
	 * publication: they serve as this one.
	 */
	for (i = 0; i < nr && !exposed; i++) {
		struct ftrace_dchg *c = &v[map[i]];

		if (c->op == FTRACE_DOP_MODIFY && ops_exposed(c->ops->priv)) {
			exposed = true;
			err = ftrace_sync_cores();
			if (err) {
				*fail = map[i];
				goto fail;
			}
		}
	}
	exposed = false;
	err = ftrace_apply_many_locked(ops, nr, &seq, &f);
	if (err) {
		*fail = nr ? map[f] : 0;
		goto fail;
	}
	(void)seq;	/* each unregister returns its own below */

	for (i = 0; i < nr; i++) {
		struct ftrace_dchg *c = &v[map[i]];
		struct ftramp_ftrace_ops_priv *p = c->ops->priv;

		switch (c->op) {
		case FTRACE_DOP_REGISTER:
			p->registered = true;
			p->direct = c->addr;
			p->cops = p->pend_cops;
			p->pend_cops = NULL;
			set_free(&p->sites);
			p->sites = p->pend_sites;
			memset(&p->pend_sites, 0, sizeof(p->pend_sites));
			break;
		case FTRACE_DOP_MODIFY:
			/*
			 * Only ftrace_caller reads the record's target.  If
			 * none of the ops' sites ever led there, no thread
			 * can read it: the batch (bl old -> bl new,
			 * synchronised) was the whole switch.
			 */
			exposed |= ops_exposed(p);
			break;
		case FTRACE_DOP_UNREGISTER:
			p->registered = false;
			p->direct = 0;
			set_free(&p->sites);
			/* After the list records retired by the apply. */
			p->last_seq = cops_retire(p->cops);
			p->cops = NULL;
			c->seq = (int64_t)p->last_seq;
			pend_clear(p);
			break;
		}
	}
	/*
	 * The second sync: no thread reads an old target afterwards.  It
	 * is what lets the old target be retired (ftrace/reclaim.c, step
	 * 1).  Should it fail (no membarrier, and a thread the fallback's
	 * scan cannot observe), it is retried a few times; if it still
	 * fails the change stands (nothing here can be undone more safely
	 * than it was done) and reclamation orders the threads instead:
	 * its first scan observes every thread after this store -- a
	 * signalled one through the kernel's signal delivery, which
	 * follows our send, a sleeping one after the scan's membarrier --
	 * and frees nothing until it has.
	 */
	for (i = 0; i < nr; i++) {
		struct ftrace_dchg *c = &v[map[i]];

		if (c->op == FTRACE_DOP_MODIFY)
			__atomic_store_n(&c->ops->priv->cops->direct, c->addr,
					 __ATOMIC_RELEASE);
	}
	for (int tries = 0; exposed && tries < 3; tries++)
		if (!ftrace_sync_cores())
			break;
	for (i = 0; i < nr; i++) {
		struct ftrace_dchg *c = &v[map[i]];

		if (c->op == FTRACE_DOP_MODIFY) {
			c->ops->priv->direct = c->addr;
			pend_clear(c->ops->priv);
		}
	}
	free(ops);
	free(map);
	return 0;
fail:
	/* Entries [0, prepared) hold pending state: discard it. */
	for (size_t k = 0; k < prepared; k++)
		if (v[k].ops->priv)
			pend_clear(v[k].ops->priv);
	free(ops);
	free(map);
	return err;
}

static int change_one(struct ftramp_ftrace_ops *ops, uint64_t addr,
		      enum ftrace_dop op, int64_t *seq)
{
	struct ftrace_dchg c = { .ops = ops, .addr = addr, .op = op };
	size_t fail;
	int err;

	err = ftrace_change_many_locked(&c, 1, &fail);
	if (seq)
		*seq = c.seq;
	return err;
}

/*
 * Register (direct = 0 for handler ops), with the sites from the filters.
 */
int ftrace_register_locked(struct ftramp_ftrace_ops *ops, uint64_t direct)
{
	reclaim_take_signals();
	return change_one(ops, direct, FTRACE_DOP_REGISTER, NULL);
}

int64_t ftrace_unregister_locked(struct ftramp_ftrace_ops *ops)
{
	int64_t seq;
	int err = change_one(ops, 0, FTRACE_DOP_UNREGISTER, &seq);

	return err ? err : seq;
}

/* Re-apply new filter sets to a registered ops. */
static int ftrace_refilter_locked(struct ftramp_ftrace_ops *ops,
				  const struct site_set *filter,
				  const struct site_set *notrace)
{
	struct ftramp_ftrace_ops_priv *p = ops->priv;
	uint64_t seq;
	int err;

	err = ftrace_compute_sites(filter, notrace, &p->pend_sites);
	if (err)
		return err;
	p->pend_registered = true;
	p->pend_direct = p->direct;
	err = ftrace_apply_locked(ops, &seq);
	if (err) {
		pend_clear(p);
		return err;
	}
	set_free(&p->sites);
	p->sites = p->pend_sites;
	memset(&p->pend_sites, 0, sizeof(p->pend_sites));
	if (seq)
		p->last_seq = seq;
	return 0;
}

/*
 * Switch a registered direct ops to @addr: bl sites by the batch, literal
 * sites by one store to the ops' record once the batch is in.
 */
int ftrace_modify_locked(struct ftramp_ftrace_ops *ops, uint64_t addr)
{
	return change_one(ops, addr, FTRACE_DOP_MODIFY, NULL);
}

/* ------------------------------------------------------------------
 * Filters
 * ------------------------------------------------------------------ */

struct glob_ctx {
	struct site_set *set;
	size_t matched, usable;
	int err;
};

static int glob_cb(const struct ftramp_site *site, void *data)
{
	struct glob_ctx *g = data;

	g->matched++;
	/* A site we patched is ours, whatever its file verdict says now. */
	if (!sites_usable(site) && !site->owner)
		return 0;
	g->usable++;
	g->err = set_add(g->set, (struct ftramp_site *)site);
	return g->err ? -1 : 0;
}

static int set_by_glob(struct site_set *set, const char *glob)
{
	struct glob_ctx g = { .set = set };
	struct ftramp_sites *t;
	int err, r;

	t = the_sites(&err);
	if (!t)
		return err;
	r = ftramp_sites__find(t, glob, glob_cb, &g);
	if (g.err)
		return g.err;
	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	if (!g.matched)
		return -ENOENT;
	if (!g.usable)
		return -EOPNOTSUPP;
	return 0;
}

static int site_by_ip(uint64_t addr, struct ftramp_site **out)
{
	const struct ftramp_site *s;
	struct ftramp_sites *t;
	int err;

	t = the_sites(&err);
	if (!t)
		return err;
	s = ftramp_sites__find_addr(t, addr);
	if (!s)
		return -ENOENT;
	if (!sites_usable(s) && !s->owner)
		return -EOPNOTSUPP;
	*out = (struct ftramp_site *)s;
	return 0;
}

/*
 * Build the new set (a copy, possibly reset, plus or minus the sites),
 * apply it if the ops is registered, and only then replace the old one.
 */
static int set_change(struct ftramp_ftrace_ops *ops, bool notrace,
		      const char *glob, uint64_t addr, bool remove, bool reset)
{
	struct ftramp_ftrace_ops_priv *p;
	struct site_set n, *cur;
	struct ftramp_site *site;
	int err;

	if (!ops || (glob == NULL && !addr))
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	err = ftrace_priv_get(ops);
	if (err)
		goto out;
	p = ops->priv;
	cur = notrace ? &p->notrace : &p->filter;
	if (reset)
		memset(&n, 0, sizeof(n));
	else if ((err = set_copy(&n, cur)))
		goto out;
	if (glob) {
		err = set_by_glob(&n, glob);
	} else {
		err = site_by_ip(addr, &site);
		if (!err) {
			set_normalise(&n);
			if (remove)
				set_remove(&n, site);
			else
				err = set_add(&n, site);
		}
	}
	if (err)
		goto fail;
	set_normalise(&n);
	if (p->registered) {
		err = ftrace_refilter_locked(ops, notrace ? &p->filter : &n,
					     notrace ? &n : &p->notrace);
		if (err)
			goto fail;
	}
	set_free(cur);
	*cur = n;
	goto out;
fail:
	set_free(&n);
out:
	pthread_mutex_unlock(&ftrace_lock);
	if (!err)
		reclaim_poll();
	return err;
}

/*
 * Early preparation: P -> R (A: nop -> mov x9, x30) for every usable
 * site matching @glob not prepared yet, in one batch.  That word is not
 * concurrently modifiable (patching.c): the commit writes it at once
 * when this is the only thread (a constructor before main, as the preload
 * agent does), else with the other threads stopped, once for the batch.
 * Prepared sites then enable later without any stop; untraced, they run
 * the same number of instructions as before (mov for nop).
 */
FTRAMP_API int ftramp_sites__prepare(const char *glob)
{
	struct ftramp_poke_batch *b = NULL;
	struct site_set set = { 0 };
	struct fsite **fs = NULL;
	size_t nr = 0, i;
	int err;

	pthread_mutex_lock(&ftrace_lock);
	err = set_by_glob(&set, glob ? glob : "*");
	if (err)
		goto out;
	fs = calloc(set.nr + 1, sizeof(fs[0]));
	b = ftramp_poke_batch__new();
	if (!fs || !b) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < set.nr; i++) {
		struct ftramp_site *site = set.v[i];
		struct fsite *f = site->owner;

		if (f && f->inited)
			continue;
		if (!f) {
			f = calloc(1, sizeof(*f));
			if (!f) {
				err = -ENOMEM;
				goto fail;
			}
			f->site = site;
			f->lit = LIT_NOPS;
			f->created = true;
		}
		fs[nr++] = f;
		err = ftramp_poke_batch__add_insn(b, u2p(sites_mov_ip(site)), A64_NOP,
						  A64_MOV_X9_X30,
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
		if (fs[i]->created) {
			sites_set_owner(fs[i]->site, fs[i]);
			sites_object_pin(fs[i]->site->obj);
		}
		fs[i]->created = false;
		fs[i]->inited = true;
	}
	err = (int)nr;
	goto out;
fail:
	for (i = 0; i < nr; i++)
		if (fs[i]->created)
			free(fs[i]);
out:
	pthread_mutex_unlock(&ftrace_lock);
	ftramp_poke_batch__free(b);
	free(fs);
	set_free(&set);
	return err;
}

FTRAMP_API int ftramp_ftrace_ops__set_filter(struct ftramp_ftrace_ops *ops,
					     const char *glob, int reset)
{
	if (!glob)
		return -EINVAL;
	return set_change(ops, false, glob, 0, false, reset);
}

FTRAMP_API int ftramp_ftrace_ops__set_notrace(struct ftramp_ftrace_ops *ops,
					      const char *glob, int reset)
{
	if (!glob)
		return -EINVAL;
	return set_change(ops, true, glob, 0, false, reset);
}

FTRAMP_API int ftramp_ftrace_ops__set_filter_ip(struct ftramp_ftrace_ops *ops,
						uint64_t addr, int remove,
						int reset)
{
	if (!addr)
		return -EINVAL;
	return set_change(ops, false, NULL, addr, remove, reset);
}

FTRAMP_API int ftramp_ftrace_ops__set_notrace_ip(struct ftramp_ftrace_ops *ops,
						 uint64_t addr, int remove,
						 int reset)
{
	if (!addr)
		return -EINVAL;
	return set_change(ops, true, NULL, addr, remove, reset);
}

void ftrace_ops_release(struct ftramp_ftrace_ops *ops)
{
	struct ftramp_ftrace_ops_priv *p = ops->priv;

	if (!p)
		return;
	set_free(&p->filter);
	set_free(&p->notrace);
	set_free(&p->sites);
	pend_clear(p);
	free(p);
	ops->priv = NULL;
}

FTRAMP_API int ftramp_ftrace_ops__free_filter(struct ftramp_ftrace_ops *ops)
{
	int err = 0;

	if (!ops)
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	if (ops->priv && ops->priv->registered)
		err = -EBUSY;
	else
		ftrace_ops_release(ops);
	pthread_mutex_unlock(&ftrace_lock);
	return err;
}

/* ------------------------------------------------------------------
 * Register / unregister
 * ------------------------------------------------------------------ */

FTRAMP_API int ftramp_ftrace_ops__register(struct ftramp_ftrace_ops *ops)
{
	uint64_t seq;
	int err;

	if (!ops || !ops->func || (ops->flags & ~FTRAMP_FTRACE_OPS_FL_ALL))
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	err = ftrace_register_locked(ops, 0);
	seq = err && ftrace_commit_exposed() && ops->priv ?
	      ops->priv->last_seq : 0;
	pthread_mutex_unlock(&ftrace_lock);
	/* Failed after threads may have reached its record: the ops is
	 * the caller's to free when we return. */
	if (seq)
		reclaim_wait_seq(seq, -1);
	reclaim_poll();
	return err;
}

FTRAMP_API int ftramp_ftrace_ops__unregister(struct ftramp_ftrace_ops *ops)
{
	int64_t seq;

	if (!ops)
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	if (ops->priv && ops->priv->registered && ops->priv->direct)
		seq = -EINVAL;		/* ftramp_direct__unregister() */
	else
		seq = ftrace_unregister_locked(ops);
	pthread_mutex_unlock(&ftrace_lock);
	if (seq < 0)
		return (int)seq;
	/* The user may free the ops when we return: wait for its users. */
	return reclaim_wait_seq((uint64_t)seq, -1);
}

FTRAMP_API unsigned long
ftramp_ftrace_ops__misses(const struct ftramp_ftrace_ops *ops)
{
	if (!ops || !ops->priv)
		return 0;
	return __atomic_load_n(&ops->priv->misses, __ATOMIC_RELAXED);
}

struct ftramp_ftrace_ops *ftrace_site_direct_ops(uint64_t func)
{
	struct ftramp_sites *t;
	struct ftramp_site *s;
	struct fsite *fs;
	int err;

	t = the_sites(&err);
	if (!t)
		return NULL;
	s = sites_lookup_ip(t, func);
	if (!s || !(fs = s->owner))
		return NULL;
	for (unsigned int i = 0; i < fs->nr_ops; i++)
		if (fs->ops[i]->priv->direct)
			return fs->ops[i];
	return NULL;
}
