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

#include "arch/arm64/text_alloc.h"
#include "ftrace/ftrace.h"
#include "ftrace/sites.h"
#include "trampoline/fault_inject.h"
#include "trampoline/jitdebug.h"
#include "trampoline/trampoline.h"

struct timage {
	struct ftramp_text text;
	struct ftramp_tramp_state state;
	size_t size;
	int jit;		/* debugger/profiler registration, or < 0 */
};

/* One traced function. */
struct tfunc {
	struct ftramp_site *site;
	struct ftramp_ftrace_ops ops;		/* the direct ops */
	struct ftramp_link *links[3];		/* per kind, attach order */
	unsigned int nr[3];
	struct timage *image;
	struct ftramp_func_model model;
	bool has_model;
	struct tfunc *hnext;			/* tfunc_hash chain */
};

struct ftramp_link {
	struct tfunc *tf;
	enum ftramp_attach_kind kind;
	ftramp_prog_t prog;
	uint64_t cookie;
	bool far;
	struct ftramp_link *next;
};

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

	if (img->jit >= 0)
		ftramp_jitdebug__unregister(img->jit);
	ftramp_tramp_state_fini(&img->state);
	ftramp_text_free(&img->text);
	free(img);
}

static uint64_t image_addr(const struct timage *img)
{
	return (uint64_t)(uintptr_t)img->text.rx;
}

static void image_retire(struct timage *img)
{
	uint64_t rx = image_addr(img);

	reclaim_retire(RECLAIM_IMAGE, &img->state.inflight, rx,
		       rx + img->size, image_free, img);
}

/*
 * Allocate the image's memory and write it.  The builder's bound assumes
 * every call far (literal + blr) where near most are one bl: a chunk of
 * the bound, trimmed, would leave a hole that the next bound-sized
 * request cannot use (the image it replaces is freed later, one granule
 * short of the next).  So the request is the size of a layout at the
 * site's own address, where a near chunk lies within reach of the same
 * targets in practice; if the chunk landed where the image is longer
 * (-E2BIG), it is replaced by one of the bound.
 */
static int image_place(struct timage *img, struct ftramp_tramp_args *args,
		       uint64_t near, unsigned int flags, int bound)
{
	int size = bound, ret;
	void *scratch;

	if (!(flags & FTRAMP_TEXT_FAR)) {
		scratch = malloc((size_t)bound);
		if (scratch) {
			ret = ftramp_arch_prepare_trampoline(args, scratch,
							     near & ~7ull,
							     (size_t)bound);
			if (ret > 0)
				size = ret;
			free(scratch);
		}
	}
	for (;;) {
		ret = ftramp_fault("attach_image_alloc");
		if (!ret)
			ret = ftramp_text_alloc(&img->text, (size_t)size, near,
						flags);
		if (ret)
			return ret;
		ret = ftramp_arch_prepare_trampoline(args, img->text.rw,
						     image_addr(img),
						     img->text.size);
		if (ret == -E2BIG && size < bound) {
			ftramp_text_free(&img->text);
			size = bound;
			continue;
		}
		if (ret < 0)
			break;
		img->size = (size_t)ret;
		ret = ftramp_text_trim(&img->text, img->size);
		if (!ret)
			return 0;
		break;
	}
	ftramp_text_free(&img->text);
	return ret;
}

/*
 * Build the image for tf's links, plus @add, minus @skip.  The image is
 * published (cache maintenance done) but not reachable yet.
 */
static int image_build(struct tfunc *tf, struct ftramp_link *add,
		       struct ftramp_link *skip, struct timage **out)
{
	struct ftramp_tramp_link *arr[3] = { 0 };
	struct ftramp_tramp_args args;
	struct timage *img = NULL;
	unsigned int n[3] = { 0 };
	bool far = false;
	int err = -ENOMEM, size;

	memset(&args, 0, sizeof(args));
	for (int k = 0; k < 3; k++) {
		arr[k] = calloc(tf->nr[k] + 1, sizeof(arr[k][0]));
		if (!arr[k])
			goto out;
		for (struct ftramp_link *l = tf->links[k]; l; l = l->next) {
			if (l == skip)
				continue;
			arr[k][n[k]].prog = l->prog;
			arr[k][n[k]++].cookie = l->cookie;
			far |= l->far;
		}
		if (add && add->kind == (enum ftramp_attach_kind)k) {
			arr[k][n[k]].prog = add->prog;
			arr[k][n[k]++].cookie = add->cookie;
			far |= add->far;
		}
		args.progs[kind_map[k]].links = arr[k];
		args.progs[kind_map[k]].nr = n[k];
	}
	args.model = tf->has_model ? &tf->model : NULL;
	if (n[FTRAMP_FEXIT] || n[FTRAMP_FMOD_RET])
		args.flags |= FTRAMP_TRAMP_F_CALL_ORIG;
	if (ftramp_tramp_cpu_has_lse())
		args.flags |= FTRAMP_TRAMP_F_LSE;
	args.func_addr = tf->site->func;
	/* x30 on entry: the body after the entry NOPs (and a `bti c`). */
	args.orig_addr = tf->site->patch + 8;

	img = calloc(1, sizeof(*img));
	if (!img)
		goto out;
	err = ftramp_tramp_state_init(&img->state);
	if (err)
		goto out_img;
	args.state = &img->state;
	size = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (size < 0) {
		err = size;
		goto out_state;
	}
	err = image_place(img, &args, tf->site->patch + 4,
			  far ? FTRAMP_TEXT_FAR : 0, size);
	if (err)
		goto out_state;
	err = ftramp_text_publish(&img->text);
	if (err)
		goto out_text;
	/* gdb unwinds through it, perf names it: ftramp_tramp:<function> */
	img->jit = ftramp_jitdebug__register_image(tf->site->name,
						   img->text.rx, img->size);
	reclaim_count_alloc(RECLAIM_IMAGE);
	*out = img;
	img = NULL;
	err = 0;
	goto out;
out_text:
	ftramp_text_free(&img->text);
out_state:
	ftramp_tramp_state_fini(&img->state);
out_img:
	free(img);
out:
	for (int k = 0; k < 3; k++)
		free(arr[k]);
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

/* Make room for one more before anything is patched: cannot fail later. */
static int tfunc_reserve(void)
{
	size_t nb = tfunc_buckets ? 2 * tfunc_buckets : 64;
	struct tfunc **h;

	if (nr_tfuncs < tfunc_buckets)
		return 0;
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
				 &tf->model, NULL);
	if (!err) {
		tf->has_model = true;
		return 0;
	}
	/* No debug info, or types it cannot describe: the unknown model. */
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

static int opts_check(const struct ftramp_attach_opts *opts)
{
	const char *p;

	if (!opts)
		return 0;
	if (opts->sz < sizeof(size_t))
		return -EINVAL;
	/* Fields beyond what this library knows must be zero. */
	p = (const char *)opts + sizeof(*opts);
	for (size_t i = sizeof(*opts); i < opts->sz; i++)
		if (*p++)
			return -EINVAL;
	return 0;
}

static struct ftramp_link *attach(const char *func,
				  enum ftramp_attach_kind kind,
				  ftramp_prog_t prog,
				  const struct ftramp_attach_opts *opts,
				  int *errp)
{
	struct ftramp_attach_opts o = { 0 };
	struct ftramp_link *link = NULL;
	struct ftramp_site *site;
	struct timage *img = NULL;
	struct tfunc *tf;
	bool new_tf = false;
	int err;

	err = opts_check(opts);
	if (err)
		return *errp = err, NULL;
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!prog || (unsigned int)kind > FTRAMP_FMOD_RET ||
	    (!func == !o.addr))
		return *errp = -EINVAL, NULL;
	err = resolve_site(func, o.addr, &site);
	if (err)
		return *errp = err, NULL;

	link = calloc(1, sizeof(*link));
	if (!link)
		return *errp = -ENOMEM, NULL;
	link->kind = kind;
	link->prog = prog;
	link->cookie = o.cookie;
	link->far = o.force_far;

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
		err = tfunc_reserve();
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
		if (l->prog == prog) {
			err = -EBUSY;
			goto fail;
		}
	}
	if (tf->nr[kind] >= FTRAMP_ATTACH_MAX_LINKS) {
		err = -E2BIG;
		goto fail;
	}

	err = image_build(tf, link, NULL, &img);
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
		/* Never reachable: no thread can be inside. */
		image_free(img);
		goto fail;
	}
	if (tf->image)
		image_retire(tf->image);
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
	free(link);
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

FTRAMP_API int ftramp_link__destroy(struct ftramp_link *link)
{
	struct ftramp_link **pp;
	struct timage *img = NULL;
	struct tfunc *tf;
	int err = 0;

	if (!link)
		return 0;
	pthread_mutex_lock(&ftrace_lock);
	tf = link->tf;
	if (tf->nr[0] + tf->nr[1] + tf->nr[2] == 1) {
		int64_t seq = ftrace_unregister_locked(&tf->ops);

		if (seq < 0) {
			err = (int)seq;
			goto out;
		}
		image_retire(tf->image);
		tfunc_unlink(tf);
		/*
		 * The ops had no handler and its record is retired: nothing
		 * reads tf any more.
		 */
		ftrace_ops_release(&tf->ops);
		free(tf);
		free(link);
		goto out;
	}
	err = image_build(tf, NULL, link, &img);
	if (!err) {
		err = ftrace_modify_locked(&tf->ops, image_addr(img));
		if (err)
			image_free(img);
	}
	if (err)
		goto out;
	image_retire(tf->image);
	tf->image = img;
	for (pp = &tf->links[link->kind]; *pp != link; pp = &(*pp)->next)
		;
	*pp = link->next;
	tf->nr[link->kind]--;
	free(link);
out:
	pthread_mutex_unlock(&ftrace_lock);
	reclaim_poll();
	return err;
}

FTRAMP_API uint64_t ftramp_link__func_addr(const struct ftramp_link *link)
{
	return link ? link->tf->site->func : 0;
}

FTRAMP_API const struct ftramp_func_model *
ftramp_link__model(const struct ftramp_link *link)
{
	if (!link || !link->tf->has_model)
		return NULL;
	return &link->tf->model;
}

/*
 * fork(): the child has only the forking thread; make sure it does not
 * inherit our locks held by another thread.
 */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&ftrace_lock);
	reclaim_atfork(0);
}

static void atfork_parent(void)
{
	reclaim_atfork(1);
	pthread_mutex_unlock(&ftrace_lock);
}

static void atfork_child(void)
{
	reclaim_atfork(2);
	pthread_mutex_unlock(&ftrace_lock);
}

__attribute__((constructor)) static void attach_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
