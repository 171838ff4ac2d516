// SPDX-License-Identifier: MIT
/*
 * ftrace ops: filters, registration, and each change's next state (the
 * kernel's kernel/trace/ftrace.c in miniature, with arm64's
 * DYNAMIC_FTRACE_WITH_CALL_OPS and DIRECT_CALLS; Documentation/
 * design.rst).
 *
 * A change (register, modify, unregister, new filters) sets the `next`
 * state of the ops it changes (struct ftrace_ops_state, ftrace/ftrace.h);
 * commit.c moves every site they touch, in one patch batch (the site
 * state table is at its top); on success `next` becomes `cur`, on
 * failure it is dropped and nothing changed.  The call records the
 * literals hold are record.c's; what no literal holds any more is
 * retired to the reclamation layer, never freed here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "ftrace/sites.h"
#include "lib/lockdep.h"

pthread_mutex_t ftrace_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(ftrace_lock, FTRAMP_LOCK_FTRACE);

/* fork(): every lock of the library, in one order (ftrace/fork.c). */
__attribute__((constructor)) static void ftrace_init(void)
{
	ftrace_fork_init();
}

/* ------------------------------------------------------------------
 * Registered ops
 * ------------------------------------------------------------------ */

/* Registration order: the next ops registered gets ++reg_seq_next. */
static uint64_t reg_seq_next;

/* Every priv allocated (ftrace_lock): their sets pin objects. */
static struct ftramp_ftrace_ops_priv *all_privs;

int ftrace_priv_get(struct ftramp_ftrace_ops *ops)
{
	struct ftramp_ftrace_ops_priv *p;

	if (ops->priv)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->all_next = all_privs;
	if (all_privs)
		all_privs->all_pprev = &p->all_next;
	p->all_pprev = &all_privs;
	all_privs = p;
	ops->priv = p;
	return 0;
}

static void priv_unlink(struct ftramp_ftrace_ops_priv *p)
{
	*p->all_pprev = p->all_next;
	if (p->all_next)
		p->all_next->all_pprev = p->all_pprev;
}

/* ------------------------------------------------------------------
 * Unloading
 *
 * A shared object is pinned (sites_object_pin()) from the moment this
 * layer refers to one of its sites: a filter set names it, or a site
 * gets its state (commit.c's fsite).  The program's dlclose() first
 * tells us (closing()): an object none of whose sites an ops uses, that
 * no set names, and none of whose functions has an image still pending
 * in reclamation is unpinned there, so that dlclose() unloads it.  The
 * site table then reports it removed, and its sites' states (unused)
 * go with it.  A set that names it again pins it again.
 * ------------------------------------------------------------------ */

static bool set_names(const struct site_set *s, const struct sites_object *o)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i]->obj == o)
			return true;
	return false;
}

static bool object_in_use(const struct sites_object *o)
{
	for (size_t i = 0; i < o->nr_sites; i++)
		if (ftrace_site_in_use(&o->sites[i]))
			return true;
	for (const struct ftramp_ftrace_ops_priv *p = all_privs; p;
	     p = p->all_next)
		if (set_names(&p->filter, o) || set_names(&p->notrace, o) ||
		    set_names(&p->cur.sites, o) ||
		    set_names(&p->next.sites, o))
			return true;
	for (size_t i = 0; i < o->nr_text; i++)
		if (reclaim_pending_in(o->text[i].start, o->text[i].end))
			return true;
	return false;
}

static int unpin_unused(struct sites_object *o, void *ctx)
{
	(void)ctx;
	if (o->pin && !object_in_use(o))
		sites_object_unpin(o);
	return 0;
}

/*
 * From the program's dlclose() (ftramp's own loads and unloads call the
 * loader directly, never under ftrace_lock through the hook).
 */
static void objects_closing(struct ftramp_sites *t, void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&ftrace_lock);
	reclaim_poll();
	sites_for_each_object(t, unpin_unused, NULL);
	pthread_mutex_unlock(&ftrace_lock);
}

/*
 * Unloaded (unpinned above, so no ops uses its sites and nothing names
 * them).  Called with scan_lock held, maybe by a thread inside
 * ftrace_lock, so it takes no lock.
 */
static void object_removed(struct ftramp_sites *t, struct sites_object *o,
			   void *ctx)
{
	(void)t;
	(void)ctx;
	for (size_t i = 0; i < o->nr_sites; i++)
		ftrace_site_forget(&o->sites[i]);
}

static struct sites_listener objects_listener = {
	.removed = object_removed,
	.closing = objects_closing,
};

/* Pin the shared objects of @s's sites (see "Unloading"). */
static void set_pin(const struct site_set *s)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!s->v[i]->obj->pin)
			sites_object_pin(s->v[i]->obj);
}

struct ftramp_sites *ftrace_sites(int *err)
{
	static bool listening;	/* ftrace_lock */
	struct ftramp_sites *t = ftramp_sites__get();

	*err = t ? 0 : (errno ? -errno : -ENOMEM);
	if (t && !listening) {
		sites_listen(t, &objects_listener);
		listening = true;
	}
	return t;
}

/* The sites an ops would trace: (filter, or every usable site) - notrace */
static int all_sites_cb(struct sites_object *obj, void *ctx)
{
	struct site_set *out = ctx;

	for (size_t i = 0; i < obj->nr_sites; i++) {
		if (!sites_usable(&obj->sites[i]))
			continue;
		if (site_set_add(out, &obj->sites[i]))
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
			if (site_set_has(notrace, filter->v[i]))
				continue;
			err = site_set_add(out, filter->v[i]);
			if (err)
				goto fail;
		}
	} else {
		t = ftrace_sites(&err);
		if (!t)
			return err;
		err = sites_for_each_object(t, all_sites_cb, out);
		if (err < 0)
			goto fail;
		site_set_normalise(out);
		for (size_t i = 0; i < notrace->nr; i++)
			site_set_remove(out, notrace->v[i]);
	}
	site_set_normalise(out);
	return out->nr ? 0 : -ENOENT;
fail:
	site_set_free(out);
	return err;
}

/* A change begins: next = cur without the sites (the change sets them). */
static void ops_next_begin(struct ftramp_ftrace_ops_priv *p)
{
	p->next = p->cur;
	memset(&p->next.sites, 0, sizeof(p->next.sites));
}

/* The change is in: next becomes cur. */
static void ops_next_take(struct ftramp_ftrace_ops_priv *p)
{
	site_set_free(&p->cur.sites);
	p->cur = p->next;
	memset(&p->next, 0, sizeof(p->next));
}

/* The change did not happen: drop next (cur is what it was). */
static void ops_next_drop(struct ftramp_ftrace_ops_priv *p)
{
	struct ftrace_cops *c = p->next.cops;

	site_set_free(&p->next.sites);
	if (c && c != p->cur.cops) {
		if (ftrace_commit_exposed())	/* a literal led there */
			p->last_seq = ftrace_cops_retire(c);
		else				/* never published */
			ftrace_cops_free(c);
	}
	memset(&p->next, 0, sizeof(p->next));
}

/* The next state of one change; nothing patched.  *noop: nothing to do. */
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
		if (p->cur.registered)
			return -EBUSY;
		ops_next_begin(p);
		err = ftrace_compute_sites(&p->filter, &p->notrace,
					   &p->next.sites);
		if (err) {
			ops_next_drop(p);
			return err;
		}
		for (size_t i = 0; i < p->next.sites.nr; i++) {
			if (!sites_usable(p->next.sites.v[i]) &&
			    !p->next.sites.v[i]->owner) {
				ops_next_drop(p);
				return -EOPNOTSUPP;
			}
		}
		p->next.registered = true;
		p->next.direct = c->addr;
		p->next.cops = ftrace_cops_new_single(ops, c->addr);
		if (!p->next.cops) {
			ops_next_drop(p);
			return -ENOMEM;
		}
		/* After every ops registered so far, on every site. */
		p->reg_seq = ++reg_seq_next;
		return 0;
	case FTRACE_DOP_MODIFY:
		p = ops->priv;
		if (!p || !p->cur.registered || !p->cur.direct)
			return -EINVAL;
		if (c->addr == p->cur.direct) {
			*noop = true;
			return 0;
		}
		ops_next_begin(p);
		err = site_set_copy(&p->next.sites, &p->cur.sites);
		if (err) {
			ops_next_drop(p);
			return err;
		}
		p->next.direct = c->addr;
		return 0;
	case FTRACE_DOP_UNREGISTER:
		p = ops->priv;
		if (!p || !p->cur.registered)
			return -EINVAL;
		ops_next_begin(p);
		p->next.registered = false;
		p->next.direct = 0;
		p->next.cops = NULL;	/* cur.cops is retired once it is in */
		return 0;
	}
	return -EINVAL;
}

/*
 * Several register / modify / unregister changes of ops on disjoint
 * sites, as one transaction: one patch batch for all of them, so the
 * whole set costs one protection change per page and one
 * synchronisation per batch phase (commit.c's table says which phases
 * a change needs).  All or nothing; on failure *fail is the index of the
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

		if (c->op == FTRACE_DOP_MODIFY &&
		    ftrace_ops_exposed(c->ops->priv)) {
			exposed = true;
			err = ftrace_sync_cores();
			if (err) {
				*fail = map[i];
				goto fail;
			}
		}
	}
	exposed = false;
	err = ftrace_commit_locked(ops, nr, &seq, &f);
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
			ops_next_take(p);
			break;
		case FTRACE_DOP_MODIFY:
			/*
			 * Only ftrace_caller reads the record's target.  If
			 * none of the ops' sites ever led there, no thread
			 * can read it: the batch (bl old -> bl new,
			 * synchronised) was the whole switch.
			 */
			exposed |= ftrace_ops_exposed(p);
			break;
		case FTRACE_DOP_UNREGISTER:
			/* After the list records retired by the commit. */
			p->last_seq = ftrace_cops_retire(p->cur.cops);
			c->seq = (int64_t)p->last_seq;
			ops_next_take(p);
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
			__atomic_store_n(&c->ops->priv->cur.cops->direct,
					 c->addr, __ATOMIC_RELEASE);
	}
	for (int tries = 0; exposed && tries < 3; tries++)
		if (!ftrace_sync_cores())
			break;
	for (i = 0; i < nr; i++) {
		struct ftrace_dchg *c = &v[map[i]];

		if (c->op == FTRACE_DOP_MODIFY) {
			ops_next_take(c->ops->priv);
		}
	}
	free(ops);
	free(map);
	return 0;
fail:
	/* Entries [0, prepared) hold a next state: drop it. */
	for (size_t k = 0; k < prepared; k++)
		if (v[k].ops->priv)
			ops_next_drop(v[k].ops->priv);
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
	size_t fail;
	int err;

	ops_next_begin(p);
	err = ftrace_compute_sites(filter, notrace, &p->next.sites);
	if (!err)
		err = ftrace_commit_locked(&ops, 1, &seq, &fail);
	if (err) {
		ops_next_drop(p);
		return err;
	}
	ops_next_take(p);
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
	g->err = site_set_add(g->set, (struct ftramp_site *)site);
	return g->err ? -1 : 0;
}

static int set_by_glob(struct site_set *set, const char *glob)
{
	struct glob_ctx g = { .set = set };
	struct ftramp_sites *t;
	int err, r;

	t = ftrace_sites(&err);
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

	t = ftrace_sites(&err);
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
	struct ftramp_site *site = NULL;
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
	else if ((err = site_set_copy(&n, cur)))
		goto out;
	if (glob) {
		err = set_by_glob(&n, glob);
	} else {
		err = site_by_ip(addr, &site);
		if (!err) {
			site_set_normalise(&n);
			if (remove)
				site_set_remove(&n, site);
			else
				err = site_set_add(&n, site);
		}
	}
	if (err)
		goto fail;
	site_set_normalise(&n);
	if (p->cur.registered) {
		err = ftrace_refilter_locked(ops, notrace ? &p->filter : &n,
					     notrace ? &n : &p->notrace);
		if (err)
			goto fail;
	}
	set_pin(&n);
	site_set_free(cur);
	*cur = n;
	goto out;
fail:
	site_set_free(&n);
out:
	pthread_mutex_unlock(&ftrace_lock);
	if (!err)
		reclaim_poll();
	return err;
}

/*
 * Early preparation: pristine -> prepared (commit.c's table) for every
 * usable site matching @glob not prepared yet, in one batch.
 */
FTRAMP_API int ftramp_sites__prepare(struct ftramp_sites *sites,
				     const char *glob)
{
	struct site_set set = { 0 };
	struct ftramp_sites *t;
	int err;

	/* The process has one table: the one the caller names. */
	t = ftrace_sites(&err);
	if (!t)
		return err;
	if (sites != t)
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	err = set_by_glob(&set, glob ? glob : "*");
	if (!err)
		err = ftrace_prepare_locked(&set);
	pthread_mutex_unlock(&ftrace_lock);
	site_set_free(&set);
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

#define FILTER_FLAGS_ALL	(FTRAMP_FILTER_REMOVE | FTRAMP_FILTER_RESET)

FTRAMP_API int ftramp_ftrace_ops__set_filter_ip(struct ftramp_ftrace_ops *ops,
						uint64_t addr,
						unsigned int flags)
{
	if (!addr || (flags & ~FILTER_FLAGS_ALL))
		return -EINVAL;
	return set_change(ops, false, NULL, addr,
			  flags & FTRAMP_FILTER_REMOVE,
			  !!(flags & FTRAMP_FILTER_RESET));
}

FTRAMP_API int ftramp_ftrace_ops__set_notrace_ip(struct ftramp_ftrace_ops *ops,
						 uint64_t addr,
						 unsigned int flags)
{
	if (!addr || (flags & ~FILTER_FLAGS_ALL))
		return -EINVAL;
	return set_change(ops, true, NULL, addr,
			  flags & FTRAMP_FILTER_REMOVE,
			  !!(flags & FTRAMP_FILTER_RESET));
}

void ftrace_ops_release(struct ftramp_ftrace_ops *ops)
{
	struct ftramp_ftrace_ops_priv *p = ops->priv;

	if (!p)
		return;
	site_set_free(&p->filter);
	site_set_free(&p->notrace);
	site_set_free(&p->cur.sites);
	ops_next_drop(p);
	priv_unlink(p);
	free(p);
	ops->priv = NULL;
}

FTRAMP_API int ftramp_ftrace_ops__free_filter(struct ftramp_ftrace_ops *ops)
{
	int err = 0;

	if (!ops)
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	if (ops->priv && ops->priv->cur.registered)
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
	/*
	 * Failed after threads may have reached its record: the ops is
	 * the caller's to free when we return.  Bounded: a thread that
	 * never leaves the handler leaves the record retired, and the
	 * caller told (ftramp.h).
	 */
	if (seq && reclaim_wait_own(seq))
		return err;
	reclaim_poll();
	return err;
}

FTRAMP_API int ftramp_ftrace_ops__unregister(struct ftramp_ftrace_ops *ops)
{
	int64_t seq;

	if (!ops)
		return -EINVAL;
	pthread_mutex_lock(&ftrace_lock);
	if (ops->priv && ops->priv->cur.registered && ops->priv->cur.direct)
		seq = -EINVAL;		/* ftramp_direct__unregister() */
	else
		seq = ftrace_unregister_locked(ops);
	pthread_mutex_unlock(&ftrace_lock);
	if (seq < 0)
		return (int)seq;
	/* The user may free the ops when we return: wait for its users. */
	return reclaim_wait_own((uint64_t)seq);
}

FTRAMP_API unsigned long
ftramp_ftrace_ops__misses(const struct ftramp_ftrace_ops *ops)
{
	if (!ops || !ops->priv)
		return 0;
	return __atomic_load_n(&ops->priv->misses, __ATOMIC_RELAXED);
}
