// SPDX-License-Identifier: MIT
/*
 * The attach API: fentry, fexit and fmod_ret programs on a function, the
 * kernel's bpf_trampoline (kernel/bpf/trampoline.c) for this process.
 *
 * One trampoline image per traced function, shared by all its links.
 * Every attach and detach builds a new image from the full list of links
 * and switches the site to it with the direct-call modify path, so the
 * function's other links never miss a call; the old image is retired to
 * the reclamation layer, which frees it once no thread can be inside
 * (Documentation/design.rst, "Reclamation").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "arch/arm64/text_map.h"
#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "ftrace/sites.h"
#include "lib/opts.h"
#include "trampoline/image_life.h"
#include "trampoline/trampoline.h"

struct timage {
	struct ftramp_tramp_link *fexit;	/* state.fexit: unwound exits */
	uint64_t **unwound_to;			/* state.unwound_to */
	unsigned int nr_unwound_to;
	struct ftramp_image im;
	struct ftramp_tramp_state state;
	/* The links whose counters the image adds to: one ref on each. */
	struct ftramp_link **refs;
	size_t nr_refs;
};

#define NR_KINDS	5	/* enum ftramp_attach_kind */

/* One traced function. */
struct tfunc {
	struct ftramp_site *site;
	struct ftramp_ftrace_ops ops;		/* the direct ops */
	struct ftramp_link *links[NR_KINDS];	/* per kind, attach order */
	unsigned int nr[NR_KINDS];
	struct timage *image;
	struct ftramp_func_model model;
	bool has_model;
	uint64_t unwound;			/* of the images retired */
	struct tfunc *hnext;			/* tfunc_hash chain */
};

/*
 * Images hold the addresses of a link's counters (count, missed): a
 * link is freed when its owner destroyed it and the last image that
 * holds a reference is freed (reclaimed, or never published).  refs:
 * one for the owner, one per image; atomic, images are freed by the
 * reclaimer outside ftrace_lock.
 */
struct ftramp_link {
	struct tfunc *tf;
	enum ftramp_attach_kind kind;
	ftramp_prog_t prog;
	uint64_t cookie;
	bool far;
	bool session;		/* opts.session: zero the session cookie */
	bool dying;		/* ftramp_links__destroy() in progress */
	struct ftramp_link *next;
	uint64_t *counter;	/* FTRAMP_COUNT: &count or opts.counter */
	uint64_t count;		/* FTRAMP_COUNT: calls */
	uint64_t *hist;		/* FTRAMP_HIST: own_hist or opts.hist */
	uint64_t *own_hist;
	uint64_t *missed;	/* programs: &own_missed or opts.missed */
	uint64_t own_missed;	/* entries the guard skipped */
	uint64_t *unwound;	/* FTRAMP_HIST: opts.unwound (or NULL) */
	int refs;
};

static struct ftramp_link *link_new(enum ftramp_attach_kind kind,
				    ftramp_prog_t prog,
				    const struct ftramp_attach_opts *o)
{
	struct ftramp_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->kind = kind;
	l->prog = prog;
	l->cookie = o->cookie;
	l->far = o->force_far;
	l->session = o->session;
	l->counter = o->counter ? o->counter : &l->count;
	l->missed = o->missed ? o->missed : &l->own_missed;
	if (kind == FTRAMP_HIST) {
		l->unwound = o->unwound;
		l->hist = o->hist;
		if (!l->hist) {
			l->own_hist = calloc(FTRAMP_HIST_BUCKETS,
					     sizeof(l->own_hist[0]));
			l->hist = l->own_hist;
		}
		if (!l->hist) {
			free(l);
			return NULL;
		}
	}
	l->refs = 1;
	return l;
}

static void link_put(struct ftramp_link *l)
{
	if (l && !__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL)) {
		free(l->own_hist);
		free(l);
	}
}

/*
 * Traced functions by site: an attach or detach must not cost more for
 * every function already traced (thousands, with a glob).  Chained, the
 * table doubles when the load passes one per bucket.  Under ftrace_lock.
 */
static struct tfunc **tfunc_hash;
static size_t tfunc_buckets, nr_tfuncs;

static size_t tfunc_bucket(const struct ftramp_site *site, size_t buckets)
{
	/* Sites are at least 8 bytes apart: mix the address (Fibonacci). */
	uint64_t h = (uint64_t)site->func * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (buckets - 1);
}

static const enum ftramp_tramp_kind kind_map[3] = {
	[FTRAMP_FENTRY] = FTRAMP_TRAMP_FENTRY,
	[FTRAMP_FEXIT] = FTRAMP_TRAMP_FEXIT,
	[FTRAMP_FMOD_RET] = FTRAMP_TRAMP_MODIFY_RETURN,
};

static void image_free(void *p)
{
	struct timage *img = p;

	ftramp_image__free(&img->im);
	ftramp_tramp_state_fini(&img->state);
	free(img->fexit);
	for (size_t i = 0; i < img->nr_refs; i++)
		link_put(img->refs[i]);
	free(img->refs);
	free(img->unwound_to);
	free(img);
}

static uint64_t image_addr(const struct timage *img)
{
	return ftramp_image__addr(&img->im);
}

/*
 * A new image whose change failed: if its commit wrote the branch before
 * rolling back, threads may be inside it (ftrace_commit_exposed()).
 */
static void image_drop(struct timage *img, uint64_t func)
{
	uint64_t rx, seq;

	if (!ftrace_commit_exposed()) {
		image_free(img);	/* never reachable */
		return;
	}
	rx = image_addr(img);
	seq = reclaim_retire(RECLAIM_IMAGE, &img->state.inflight, rx,
			     rx + img->im.size, image_free, img);
	reclaim_describe(seq, func, FTRAMP_INFLIGHT_UNIT);
}

static void image_retire(struct tfunc *tf)
{
	struct timage *img = tf->image;
	uint64_t rx = image_addr(img);
	uint64_t seq;

	/* Records of it found dead later are not counted (api.rst). */
	tf->unwound += ftramp_tramp_state_unwound(&img->state);
	seq = reclaim_retire(RECLAIM_IMAGE, &img->state.inflight, rx,
			     rx + img->im.size, image_free, img);
	reclaim_describe(seq, tf->site->func, FTRAMP_INFLIGHT_UNIT);
}

/*
 * Build the image for tf's links, plus the @nadd links of @add, minus
 * the dying ones.  The image is published (cache maintenance done) but
 * not reachable yet.
 */
/* One more link for the image being built: its program or counter. */
static void image_add_link(struct timage *img, struct ftramp_link *l,
			   struct ftramp_tramp_link **arr, unsigned int *n,
			   uint64_t **counts, uint64_t **missed,
			   uint64_t **hists, struct ftramp_tramp_args *args,
			   bool *far)
{
	unsigned int k = l->kind;

	if (k == FTRAMP_COUNT) {
		counts[args->nr_counts++] = l->counter;
	} else if (k == FTRAMP_HIST) {
		hists[args->nr_hists++] = l->hist;
		if (l->unwound)
			img->unwound_to[img->nr_unwound_to++] = l->unwound;
	} else {
		arr[k][n[k]].prog = l->prog;
		arr[k][n[k]++].cookie = l->cookie;
		missed[args->nr_missed++] = l->missed;
	}
	if (l->session)
		args->flags |= FTRAMP_TRAMP_F_SESSION;
	*far |= l->far;
	img->refs[img->nr_refs++] = l;
}

static int image_build(struct tfunc *tf, struct ftramp_link *const *add,
		       size_t nadd, struct timage **out)
{
	struct ftramp_tramp_link *arr[3] = { 0 };
	uint64_t **counts = NULL, **missed = NULL, **hists = NULL;
	struct ftramp_tramp_args args;
	struct timage *img = NULL;
	unsigned int n[3] = { 0 };
	size_t total = nadd;
	bool far = false;
	int err = -ENOMEM;

	memset(&args, 0, sizeof(args));
	for (int k = 0; k < NR_KINDS; k++)
		total += tf->nr[k];
	img = calloc(1, sizeof(*img));
	counts = calloc(total + 1, sizeof(counts[0]));
	missed = calloc(total + 1, sizeof(missed[0]));
	hists = calloc(total + 1, sizeof(hists[0]));
	if (!img || !counts || !missed || !hists)
		goto out_img;
	img->refs = calloc(total + 1, sizeof(img->refs[0]));
	img->unwound_to = calloc(total + 1, sizeof(img->unwound_to[0]));
	if (!img->refs || !img->unwound_to)
		goto out_img;
	for (int k = 0; k < 3; k++) {
		arr[k] = calloc(total + 1, sizeof(arr[k][0]));
		if (!arr[k])
			goto out_img;
	}
	for (int k = 0; k < NR_KINDS; k++) {
		for (struct ftramp_link *l = tf->links[k]; l; l = l->next)
			if (!l->dying)
				image_add_link(img, l, arr, n, counts, missed,
					       hists, &args, &far);
	}
	for (size_t i = 0; i < nadd; i++)
		image_add_link(img, add[i], arr, n, counts, missed, hists,
			       &args, &far);
	/* The lean histogram image runs no program (ftramp.h: EBUSY). */
	if (args.nr_hists && (n[0] || n[1] || n[2])) {
		err = -EBUSY;
		goto out_img;
	}
	for (int k = 0; k < 3; k++) {
		args.progs[kind_map[k]].links = arr[k];
		args.progs[kind_map[k]].nr = n[k];
	}
	args.counts = counts;
	args.missed = missed;
	args.hists = hists;
	args.model = tf->has_model ? &tf->model : NULL;
	if (n[FTRAMP_FEXIT] || n[FTRAMP_FMOD_RET])
		args.flags |= FTRAMP_TRAMP_F_CALL_ORIG;
	if (ftramp_tramp_cpu_has_lse())
		args.flags |= FTRAMP_TRAMP_F_LSE;
	args.func_addr = tf->site->func;
	/* x30 on entry: the body after the entry NOPs (and a `bti c`). */
	args.orig_addr = sites_body(tf->site);
	/*
	 * Out of BL range (forced far, or near memory exhausted), the body
	 * is called with BLR when no BTI guard can object.
	 */
	if ((args.flags & FTRAMP_TRAMP_F_CALL_ORIG) &&
	    ftramp_text_bti(args.orig_addr) == 0)
		args.flags |= FTRAMP_TRAMP_F_ORIG_UNGUARDED;

	err = ftramp_tramp_state_init(&img->state);
	if (err)
		goto out_img;
	args.state = &img->state;
	/* Unwound calls also counted where the HIST links asked, live. */
	img->state.unwound_to = img->unwound_to;
	img->state.nr_unwound_to = img->nr_unwound_to;
	/* Its fexit programs also hear of frames abandoned by longjmp. */
	if (n[FTRAMP_FEXIT]) {
		img->fexit = malloc(n[FTRAMP_FEXIT] * sizeof(*img->fexit));
		if (!img->fexit) {
			err = -ENOMEM;
			goto out_state;
		}
		memcpy(img->fexit, arr[FTRAMP_FEXIT],
		       n[FTRAMP_FEXIT] * sizeof(*img->fexit));
		img->state.fexit = img->fexit;
		img->state.nr_fexit = n[FTRAMP_FEXIT];
	}
	err = ftramp_image__build(&img->im, &args,
				  &(struct ftramp_image_place){
					.name = tf->site->name,
					.near = sites_bl_ip(tf->site),
					.text_flags = far ? FTRAMP_TEXT_FAR : 0,
					.state = &img->state,
				  });
	if (err)
		goto out_state;
	reclaim_count_alloc(RECLAIM_IMAGE);
	/* Published: the image now holds its links' counters. */
	for (size_t i = 0; i < img->nr_refs; i++)
		__atomic_add_fetch(&img->refs[i]->refs, 1, __ATOMIC_RELAXED);
	*out = img;
	img = NULL;
	err = 0;
	goto out;
out_state:
	ftramp_tramp_state_fini(&img->state);
	free(img->fexit);
out_img:
	if (img) {
		free(img->refs);
		free(img->unwound_to);
	}
	free(img);
out:
	for (int k = 0; k < 3; k++)
		free(arr[k]);
	free(counts);
	free(missed);
	free(hists);
	return err;
}

static struct tfunc *tfunc_find(const struct ftramp_site *site)
{
	struct tfunc *tf;

	if (!tfunc_buckets)
		return NULL;
	tf = tfunc_hash[tfunc_bucket(site, tfunc_buckets)];
	for (; tf; tf = tf->hnext)
		if (tf->site == site)
			return tf;
	return NULL;
}

/* Make room for @n more before anything is patched: cannot fail later. */
static int tfunc_reserve_n(size_t n)
{
	size_t nb = tfunc_buckets ? tfunc_buckets : 64;
	struct tfunc **h;

	if (nr_tfuncs + n <= tfunc_buckets)
		return 0;
	while (nb < nr_tfuncs + n)
		nb *= 2;
	h = calloc(nb, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < tfunc_buckets; i++) {
		struct tfunc *tf, *next;

		for (tf = tfunc_hash[i]; tf; tf = next) {
			size_t b = tfunc_bucket(tf->site, nb);

			next = tf->hnext;
			tf->hnext = h[b];
			h[b] = tf;
		}
	}
	free(tfunc_hash);
	tfunc_hash = h;
	tfunc_buckets = nb;
	return 0;
}

static void tfunc_insert(struct tfunc *tf)
{
	size_t b = tfunc_bucket(tf->site, tfunc_buckets);

	tf->hnext = tfunc_hash[b];
	tfunc_hash[b] = tf;
	nr_tfuncs++;
}

static void tfunc_unlink(struct tfunc *tf)
{
	struct tfunc **pp = &tfunc_hash[tfunc_bucket(tf->site,
						     tfunc_buckets)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == tf) {
			*pp = tf->hnext;
			nr_tfuncs--;
			return;
		}
	}
}

static int resolve_site(const char *func, uint64_t addr,
			struct ftramp_site **out)
{
	struct ftramp_sites *t = ftramp_sites__get();
	const struct ftramp_site *s;

	if (!t)
		return errno ? -errno : -ENOMEM;
	s = func ? ftramp_sites__find_name(t, func) :
		   ftramp_sites__find_addr(t, addr);
	if (!s)
		return -ENOENT;
	/* A site we patched is ours, whatever its pristine check says. */
	if (!sites_usable(s) && !s->owner)
		return -EOPNOTSUPP;
	*out = (struct ftramp_site *)s;
	return 0;
}

static int model_for(struct tfunc *tf, const struct ftramp_attach_opts *o)
{
	const struct ftramp_func_model *m = o ? o->model : NULL;
	bool no_dwarf = o && o->no_dwarf;
	int err;

	if (m) {
		err = ftramp_model__validate(m);
		if (err)
			return err;
		tf->model = *m;
		tf->has_model = true;
		return 0;
	}
	if (no_dwarf)
		return 0;
	err = ftrace_dwarf_model(tf->site->obj->path,
				 tf->site->func - tf->site->obj->bias,
				 tf->site->elf ? tf->site->elf->symbol : NULL,
				 &tf->model, NULL);
	/*
	 * A variadic function's extra arguments are in registers and on the
	 * stack as the caller placed them: only the unknown model (every
	 * argument register, the return hook) carries them exactly.
	 */
	if (!err && !(tf->model.flags & FTRAMP_MODEL_VARIADIC)) {
		tf->has_model = true;
		return 0;
	}
	/*
	 * No debug info, types it cannot describe, more than
	 * FTRAMP_MAX_ARGS arguments, variadic, or DWARF that does not
	 * describe the code (a compiler clone): the unknown model.
	 */
	memset(&tf->model, 0, sizeof(tf->model));
	return 0;
}

static bool same_model(const struct ftramp_func_model *a,
		       const struct ftramp_func_model *b)
{
	if (a->nr_args != b->nr_args || a->flags != b->flags ||
	    memcmp(&a->ret, &b->ret, sizeof(a->ret)))
		return false;
	return !memcmp(a->args, b->args, a->nr_args * sizeof(a->args[0]));
}

/*
 * A kind with what it needs: a program for the program kinds, none for
 * FTRAMP_COUNT; a counter address only for FTRAMP_COUNT, a misses one
 * only for the program kinds, histogram and unwound ones only for
 * FTRAMP_HIST, 8-byte aligned (one single-copy atomic add, Arm ARM
 * B2.2.1).
 */
static int kind_check(enum ftramp_attach_kind kind, ftramp_prog_t prog,
		      const struct ftramp_attach_opts *o)
{
	if ((unsigned int)kind > FTRAMP_HIST)
		return -EINVAL;
	if (o->missed && (kind == FTRAMP_COUNT || kind == FTRAMP_HIST ||
			  ((uintptr_t)o->missed & 7)))
		return -EINVAL;
	if (kind != FTRAMP_HIST && (o->hist || o->unwound))
		return -EINVAL;
	if ((uintptr_t)o->unwound & 7)
		return -EINVAL;
	if (kind == FTRAMP_HIST)
		return prog || o->counter || ((uintptr_t)o->hist & 7) ?
		       -EINVAL : 0;
	if (kind == FTRAMP_COUNT)
		return prog || ((uintptr_t)o->counter & 7) ? -EINVAL : 0;
	return !prog || o->counter ? -EINVAL : 0;
}

static struct ftramp_link *attach(const char *func,
				  enum ftramp_attach_kind kind,
				  ftramp_prog_t prog,
				  const struct ftramp_attach_opts *opts,
				  int *errp)
{
	struct ftramp_attach_opts o;
	struct ftramp_link *link = NULL;
	struct ftramp_site *site;
	struct timage *img = NULL;
	struct tfunc *tf;
	bool new_tf = false;
	int err;

	err = FTRAMP_OPTS_IN(o, opts);
	if (err)
		return *errp = err, NULL;
	if (kind_check(kind, prog, &o) || (!func == !o.addr))
		return *errp = -EINVAL, NULL;
	err = resolve_site(func, o.addr, &site);
	if (err)
		return *errp = err, NULL;

	link = link_new(kind, prog, &o);
	if (!link)
		return *errp = -ENOMEM, NULL;

	pthread_mutex_lock(&ftrace_lock);
	tf = tfunc_find(site);
	if (!tf) {
		struct ftramp_ftrace_ops *other;

		other = ftrace_site_direct_ops(site->func);
		if (other) {
			err = -EBUSY;
			goto fail;
		}
		tf = calloc(1, sizeof(*tf));
		if (!tf) {
			err = -ENOMEM;
			goto fail;
		}
		new_tf = true;
		tf->site = site;
		err = tfunc_reserve_n(1);
		if (!err)
			err = model_for(tf, &o);
		if (err)
			goto fail;
	} else if (o.model) {
		err = ftramp_model__validate(o.model);
		if (err)
			goto fail;
		if (!tf->has_model || !same_model(&tf->model, o.model)) {
			err = -EINVAL;
			goto fail;
		}
	}
	if (tf->has_model && (tf->model.flags & FTRAMP_MODEL_VARIADIC)) {
		err = -EOPNOTSUPP;
		goto fail;
	}
	if (kind == FTRAMP_FMOD_RET && tf->has_model &&
	    tf->model.ret.cls == FTRAMP_TYPE_VOID) {
		err = -EINVAL;
		goto fail;
	}
	for (struct ftramp_link *l = tf->links[kind]; l; l = l->next) {
		if (prog && l->prog == prog) {
			err = -EBUSY;
			goto fail;
		}
	}
	if (tf->nr[kind] >= FTRAMP_ATTACH_MAX_LINKS) {
		err = -E2BIG;
		goto fail;
	}

	err = image_build(tf, &link, 1, &img);
	if (err)
		goto fail;
	if (new_tf) {
		err = ftrace_priv_get(&tf->ops);
		if (!err) {
			struct site_set *f = &tf->ops.priv->filter;

			f->v = malloc(sizeof(f->v[0]));
			if (f->v) {
				f->v[0] = site;
				f->nr = f->cap = 1;
				err = ftrace_register_locked(&tf->ops,
							     image_addr(img));
			} else {
				err = -ENOMEM;
			}
		}
	} else {
		err = ftrace_modify_locked(&tf->ops, image_addr(img));
	}
	if (err) {
		image_drop(img, site->func);
		goto fail;
	}
	if (tf->image)
		image_retire(tf);
	tf->image = img;
	link->tf = tf;
	{
		struct ftramp_link **pp = &tf->links[kind];

		while (*pp)
			pp = &(*pp)->next;
		*pp = link;
	}
	tf->nr[kind]++;
	if (new_tf)
		tfunc_insert(tf);
	pthread_mutex_unlock(&ftrace_lock);
	reclaim_poll();
	return link;
fail:
	if (new_tf && tf) {
		ftrace_ops_release(&tf->ops);
		free(tf);
	}
	pthread_mutex_unlock(&ftrace_lock);
	link_put(link);
	*errp = err;
	return NULL;
}

FTRAMP_API struct ftramp_link *
ftramp_attach(const char *func, enum ftramp_attach_kind kind,
	      ftramp_prog_t prog, const struct ftramp_attach_opts *opts)
{
	struct ftramp_link *link;
	int err = 0;

	link = attach(func, kind, prog, opts, &err);
	if (!link)
		errno = -err;
	return link;
}

/* ------------------------------------------------------------------
 * Batches: many links, one transaction
 * ------------------------------------------------------------------ */

struct batch_ent {
	char *func;			/* or NULL: o.addr */
	struct ftramp_attach_opts o;	/* the caller's, zero-extended */
	struct ftramp_func_model model;	/* o.model, once committing */
	bool has_model;
	enum ftramp_attach_kind kind;
	ftramp_prog_t prog;
	struct ftramp_site *site;
	struct ftramp_link *link;
};

struct ftramp_attach_batch {
	struct batch_ent *ent;
	size_t nr, cap;
	int err;			/* first __add() error: sticky */
	long err_idx;			/* entry in error, -1: none */
	bool committed;
};

/* The links of one function in a batch: entries order[first, first+nr). */
struct bgroup {
	struct tfunc *tf;
	bool new_tf;
	size_t first, nr;
	struct timage *img;
	struct ftramp_link **add;
};

FTRAMP_API struct ftramp_attach_batch *ftramp_attach_batch__new(void)
{
	struct ftramp_attach_batch *b = calloc(1, sizeof(*b));

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->err_idx = -1;
	return b;
}

static int batch_fail(struct ftramp_attach_batch *b, size_t idx, int err)
{
	if (!b->err) {
		b->err = err;
		b->err_idx = (long)idx;
	}
	return err;
}

/*
 * Checked now what can be (arguments, the function exists and can be
 * patched); the rest at the commit, under the lock.  Returns the entry's
 * index, or -errno (and the commit will fail with it).
 */
FTRAMP_API int ftramp_attach_batch__add(struct ftramp_attach_batch *b,
					const char *func,
					enum ftramp_attach_kind kind,
					ftramp_prog_t prog,
					const struct ftramp_attach_opts *opts)
{
	struct batch_ent *e;
	size_t idx;
	int err;

	if (!b)
		return -EINVAL;
	if (b->committed)
		return -EALREADY;
	if (b->nr == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct batch_ent *v = realloc(b->ent, cap * sizeof(*v));

		if (!v)
			return batch_fail(b, b->nr, -ENOMEM);
		b->ent = v;
		b->cap = cap;
	}
	idx = b->nr++;
	e = &b->ent[idx];
	memset(e, 0, sizeof(*e));
	err = FTRAMP_OPTS_IN(e->o, opts);
	if (err)
		return batch_fail(b, idx, err);
	e->o.sz = sizeof(e->o);
	if (e->o.model) {
		/* ent[] moves as it grows: pointed at in the commit */
		e->model = *e->o.model;
		e->has_model = true;
		e->o.model = NULL;
	}
	e->kind = kind;
	e->prog = prog;
	if (kind_check(kind, prog, &e->o) || (!func == !e->o.addr))
		return batch_fail(b, idx, -EINVAL);
	if (func) {
		e->func = strdup(func);
		if (!e->func)
			return batch_fail(b, idx, -ENOMEM);
	}
	err = resolve_site(func, e->o.addr, &e->site);
	if (err)
		return batch_fail(b, idx, err);
	return (int)idx;
}

FTRAMP_API size_t ftramp_attach_batch__size(const struct ftramp_attach_batch *b)
{
	return b ? b->nr : 0;
}

FTRAMP_API long ftramp_attach_batch__failed(const struct ftramp_attach_batch *b)
{
	return b ? b->err_idx : -1;
}

FTRAMP_API struct ftramp_link *
ftramp_attach_batch__link(const struct ftramp_attach_batch *b, size_t i)
{
	if (!b || !b->committed || i >= b->nr)
		return NULL;
	return b->ent[i].link;
}

FTRAMP_API void ftramp_attach_batch__free(struct ftramp_attach_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nr; i++)
		free(b->ent[i].func);
	free(b->ent);
	free(b);
}

static int ent_cmp(const void *x, const void *y, void *arg)
{
	const struct batch_ent *ent = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;

	if (ent[i].site != ent[j].site)
		return (uintptr_t)ent[i].site < (uintptr_t)ent[j].site ? -1 : 1;
	return i < j ? -1 : i > j;
}

/*
 * What ftramp_attach() checks for one link, for entry e joining group g
 * (the function's links, plus those of the group before e).
 */
static int group_check(struct bgroup *g, struct ftramp_attach_batch *b,
		       const size_t *order, size_t k)
{
	struct batch_ent *e = &b->ent[order[k]];
	struct tfunc *tf = g->tf;
	unsigned int nr = tf->nr[e->kind];
	int err;

	if (e->o.model && !(g->new_tf && k == g->first)) {
		err = ftramp_model__validate(e->o.model);
		if (err)
			return err;
		if (!tf->has_model || !same_model(&tf->model, e->o.model))
			return -EINVAL;
	}
	if (tf->has_model && (tf->model.flags & FTRAMP_MODEL_VARIADIC))
		return -EOPNOTSUPP;
	if (e->kind == FTRAMP_FMOD_RET && tf->has_model &&
	    tf->model.ret.cls == FTRAMP_TYPE_VOID)
		return -EINVAL;
	for (struct ftramp_link *l = tf->links[e->kind]; l; l = l->next)
		if (e->prog && l->prog == e->prog)
			return -EBUSY;
	for (size_t j = g->first; j < k; j++) {
		struct batch_ent *o = &b->ent[order[j]];

		if (o->kind == e->kind) {
			if (e->prog && o->prog == e->prog)
				return -EBUSY;
			nr++;
		}
	}
	return nr >= FTRAMP_ATTACH_MAX_LINKS ? -E2BIG : 0;
}

/*
 * All or nothing: every check and every image first (their pages opened
 * once: ftramp_text_hold()), then one patch transaction for every site
 * (ftrace_change_many_locked()), then the bookkeeping, which cannot fail.
 */
static int batch_commit_locked(struct ftramp_attach_batch *b, size_t *order,
			       struct bgroup *grp, size_t *nr_grp,
			       struct ftrace_dchg *dc, size_t *fail)
{
	size_t ng = 0, new_tfs = 0, k, f;
	int err = 0;

	for (k = 0; k < b->nr; k++) {
		struct batch_ent *e = &b->ent[order[k]];
		struct bgroup *g;

		*fail = order[k];
		if (!k || e->site != b->ent[order[k - 1]].site) {
			g = &grp[ng++];
			*nr_grp = ng;
			g->first = k;
			g->tf = tfunc_find(e->site);
			if (!g->tf) {
				if (ftrace_site_direct_ops(e->site->func))
					return -EBUSY;
				g->tf = calloc(1, sizeof(*g->tf));
				if (!g->tf)
					return -ENOMEM;
				g->new_tf = true;
				g->tf->site = e->site;
				new_tfs++;
				err = model_for(g->tf, &e->o);
				if (err)
					return err;
			}
		}
		g = &grp[ng - 1];
		err = group_check(g, b, order, k);
		if (err)
			return err;
		e->link = link_new(e->kind, e->prog, &e->o);
		if (!e->link)
			return -ENOMEM;
		g->nr++;
	}
	*fail = order[0];
	err = tfunc_reserve_n(new_tfs);
	if (err)
		return err;

	/* Every image, with each trampoline page made writable once. */
	ftramp_text_hold();
	for (size_t i = 0; i < ng && !err; i++) {
		struct bgroup *g = &grp[i];

		*fail = order[g->first];
		g->add = calloc(g->nr, sizeof(g->add[0]));
		if (!g->add) {
			err = -ENOMEM;
			break;
		}
		for (k = 0; k < g->nr; k++)
			g->add[k] = b->ent[order[g->first + k]].link;
		err = image_build(g->tf, g->add, g->nr, &g->img);
	}
	/* A page left RWX is still correct: nothing to undo for it. */
	(void)ftramp_text_release();
	if (err)
		return err;

	for (size_t i = 0; i < ng; i++) {
		struct bgroup *g = &grp[i];

		*fail = order[g->first];
		dc[i] = (struct ftrace_dchg){
			.ops = &g->tf->ops,
			.addr = image_addr(g->img),
			.op = g->new_tf ? FTRACE_DOP_REGISTER :
					  FTRACE_DOP_MODIFY,
		};
		if (!g->new_tf)
			continue;
		err = ftrace_priv_get(&g->tf->ops);
		if (err)
			return err;
		g->tf->ops.priv->filter.v = malloc(sizeof(struct ftramp_site *));
		if (!g->tf->ops.priv->filter.v)
			return -ENOMEM;
		g->tf->ops.priv->filter.v[0] = g->tf->site;
		g->tf->ops.priv->filter.nr = g->tf->ops.priv->filter.cap = 1;
	}
	err = ftrace_change_many_locked(dc, ng, &f);
	if (err) {
		*fail = order[grp[f].first];
		return err;
	}

	/* Committed: the bookkeeping follows, and cannot fail. */
	for (size_t i = 0; i < ng; i++) {
		struct bgroup *g = &grp[i];
		struct tfunc *tf = g->tf;

		if (tf->image)
			image_retire(tf);
		tf->image = g->img;
		g->img = NULL;
		for (k = 0; k < g->nr; k++) {
			struct ftramp_link *l = g->add[k];
			struct ftramp_link **pp = &tf->links[l->kind];

			while (*pp)
				pp = &(*pp)->next;
			*pp = l;
			l->tf = tf;
			tf->nr[l->kind]++;
		}
		if (g->new_tf)
			tfunc_insert(tf);
		g->new_tf = false;
	}
	return 0;
}

FTRAMP_API int ftramp_attach_batch__commit(struct ftramp_attach_batch *b)
{
	struct ftrace_dchg *dc = NULL;
	struct bgroup *grp = NULL;
	size_t *order = NULL, ng = 0, fail = 0;
	int err;

	if (!b)
		return -EINVAL;
	if (b->committed)
		return -EALREADY;
	if (b->err)
		return b->err;
	if (!b->nr) {
		b->committed = true;
		return 0;
	}
	order = malloc(b->nr * sizeof(order[0]));
	grp = calloc(b->nr, sizeof(grp[0]));
	dc = calloc(b->nr, sizeof(dc[0]));
	if (!order || !grp || !dc) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b->nr; i++) {
		order[i] = i;
		if (b->ent[i].has_model)
			b->ent[i].o.model = &b->ent[i].model;
	}
	/* Links of one function together, in the order they were added. */
	qsort_r(order, b->nr, sizeof(order[0]), ent_cmp, b->ent);

	pthread_mutex_lock(&ftrace_lock);
	err = batch_commit_locked(b, order, grp, &ng, dc, &fail);
	if (err) {
		for (size_t i = 0; i < ng; i++) {
			struct bgroup *g = &grp[i];

			if (g->img)
				image_drop(g->img, g->tf->site->func);
			if (g->new_tf) {
				ftrace_ops_release(&g->tf->ops);
				free(g->tf);
			}
		}
		for (size_t i = 0; i < b->nr; i++) {
			link_put(b->ent[i].link);
			b->ent[i].link = NULL;
		}
		b->err_idx = (long)fail;
	} else {
		b->committed = true;
	}
	pthread_mutex_unlock(&ftrace_lock);
	reclaim_poll();
out:
	for (size_t i = 0; grp && i < b->nr; i++)
		free(grp[i].add);
	free(dc);
	free(grp);
	free(order);
	return err;
}

static int link_cmp(const void *x, const void *y)
{
	const struct ftramp_link *a = *(struct ftramp_link *const *)x;
	const struct ftramp_link *c = *(struct ftramp_link *const *)y;

	if (a->tf != c->tf)
		return (uintptr_t)a->tf < (uintptr_t)c->tf ? -1 : 1;
	return (uintptr_t)a < (uintptr_t)c ? -1 : (uintptr_t)a > (uintptr_t)c;
}

/*
 * Detach many links in one transaction: per function, the image without
 * them (modify) or, when none is left, the site turned off (unregister);
 * then one ftrace_change_many_locked() for all.
 */
static int links_destroy_locked(struct ftramp_link **v, size_t n,
				struct bgroup *grp, size_t *nr_grp,
				struct ftrace_dchg *dc)
{
	size_t ng = 0, f;
	int err = 0;

	for (size_t k = 0; k < n; k++) {
		if (k && v[k] == v[k - 1])
			return -EINVAL;		/* twice in the array */
		v[k]->dying = true;
		if (!k || v[k]->tf != v[k - 1]->tf) {
			grp[ng].tf = v[k]->tf;
			grp[ng++].first = k;
			*nr_grp = ng;
		}
		grp[ng - 1].nr++;
	}
	ftramp_text_hold();
	for (size_t i = 0; i < ng && !err; i++) {
		struct tfunc *tf = grp[i].tf;

		if (grp[i].nr == tf->nr[0] + tf->nr[1] + tf->nr[2] +
				 tf->nr[3] + tf->nr[4]) {
			dc[i] = (struct ftrace_dchg){
				.ops = &tf->ops, .op = FTRACE_DOP_UNREGISTER };
			continue;
		}
		err = image_build(tf, NULL, 0, &grp[i].img);
		if (!err)
			dc[i] = (struct ftrace_dchg){
				.ops = &tf->ops, .op = FTRACE_DOP_MODIFY,
				.addr = image_addr(grp[i].img) };
	}
	(void)ftramp_text_release();
	if (err)
		return err;
	err = ftrace_change_many_locked(dc, ng, &f);
	if (err)
		return err;

	for (size_t i = 0; i < ng; i++) {
		struct tfunc *tf = grp[i].tf;

		image_retire(tf);
		if (dc[i].op == FTRACE_DOP_UNREGISTER) {
			tfunc_unlink(tf);
			/*
			 * The ops had no handler and its record is retired:
			 * nothing reads tf any more.
			 */
			ftrace_ops_release(&tf->ops);
			free(tf);
		} else {
			tf->image = grp[i].img;
			grp[i].img = NULL;
			for (int kd = 0; kd < NR_KINDS; kd++) {
				struct ftramp_link **pp = &tf->links[kd];

				while (*pp) {
					if ((*pp)->dying) {
						*pp = (*pp)->next;
						tf->nr[kd]--;
					} else {
						pp = &(*pp)->next;
					}
				}
			}
		}
		for (size_t k = grp[i].first; k < grp[i].first + grp[i].nr; k++)
			link_put(v[k]);
	}
	return 0;
}

FTRAMP_API int ftramp_links__destroy(struct ftramp_link **links, size_t n)
{
	struct ftramp_link *one[1];
	struct ftramp_link **v = one;
	struct ftrace_dchg *dc = NULL;
	struct bgroup *grp = NULL;
	size_t nr = 0, ng = 0;
	int err;

	if (!links && n)
		return -EINVAL;
	if (n > 1)
		v = malloc(n * sizeof(v[0]));
	grp = calloc(n + 1, sizeof(grp[0]));
	dc = calloc(n + 1, sizeof(dc[0]));
	if (!v || !grp || !dc) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (links[i])
			v[nr++] = links[i];
	err = 0;
	if (!nr)
		goto out;
	qsort(v, nr, sizeof(v[0]), link_cmp);
	pthread_mutex_lock(&ftrace_lock);
	err = links_destroy_locked(v, nr, grp, &ng, dc);
	if (err) {
		for (size_t i = 0; i < nr; i++)
			v[i]->dying = false;
		for (size_t i = 0; i < ng; i++)
			if (grp[i].img)
				image_drop(grp[i].img,
					   grp[i].tf->site->func);
	}
	pthread_mutex_unlock(&ftrace_lock);
	reclaim_poll();
	if (!err)
		for (size_t i = 0; i < n; i++)
			links[i] = NULL;
out:
	if (v != one)
		free(v);
	free(grp);
	free(dc);
	return err;
}

FTRAMP_API int ftramp_link__destroy(struct ftramp_link *link)
{
	if (!link)
		return 0;
	return ftramp_links__destroy(&link, 1);
}

FTRAMP_API uint64_t ftramp_link__func_addr(const struct ftramp_link *link)
{
	return link ? link->tf->site->func : 0;
}

FTRAMP_API uint64_t ftramp_link__unwound(const struct ftramp_link *link)
{
	struct tfunc *tf;
	uint64_t n;

	if (!link)
		return 0;
	pthread_mutex_lock(&ftrace_lock);
	tf = link->tf;
	n = tf->unwound;
	if (tf->image)
		n += ftramp_tramp_state_unwound(&tf->image->state);
	pthread_mutex_unlock(&ftrace_lock);
	return n;
}

FTRAMP_API uint64_t ftramp_link__count(const struct ftramp_link *link)
{
	if (!link || link->kind != FTRAMP_COUNT)
		return 0;
	return __atomic_load_n(link->counter, __ATOMIC_RELAXED);
}

FTRAMP_API int ftramp_link__hist(const struct ftramp_link *link,
				 uint64_t *out)
{
	if (!link || link->kind != FTRAMP_HIST || !out)
		return -EINVAL;
	for (unsigned int i = 0; i < FTRAMP_HIST_BUCKETS; i++)
		out[i] = __atomic_load_n(&link->hist[i], __ATOMIC_RELAXED);
	return 0;
}

FTRAMP_API uint64_t ftramp_link__missed(const struct ftramp_link *link)
{
	return link ? __atomic_load_n(link->missed, __ATOMIC_RELAXED) : 0;
}

FTRAMP_API const struct ftramp_func_model *
ftramp_link__model(const struct ftramp_link *link)
{
	if (!link || !link->tf->has_model)
		return NULL;
	return &link->tf->model;
}
