// SPDX-License-Identifier: MIT
/*
 * The BPF API (<ftramp/ftramp.h>, "BPF programs as handlers"): objects
 * opened, loaded (maps created, programs checked and given a native
 * entry), attached through ftramp_attach(); raw programs; test runs.
 *
 * Lifetimes.  A program's native entry, its run image and its maps are
 * reachable from trampolines for as long as an image that calls it may
 * run: after a detach, older images may still be executing (the
 * reclamation of ftrace/reclaim.c), so closing an object that was
 * attached first waits for ftramp_sync() before it frees anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/trampoline.h"
#include "bpf/bpf.h"
#include "bpf/fixup.h"
#include "bpf/verifier.h"
#include "lib/fault_inject.h"
#include "lib/opts.h"
#include "lib/thread.h"

struct ftramp_bpf_link {
	struct ftramp_link *link;
	struct ftramp_bpf_program *prog;
};

/* Every refusal of open/load/prog_load: errno, and the detail for
 * ftramp_error_detail(). */
static void fail(const struct ftramp_bpf_error *e, int err)
{
	if (e && e->code)
		thread_error_set("%s", e->msg);
	errno = -err;
}

/* ------------------------------------------------------------------------
 * Load: verified, then rewritten into the run form (bpf/fixup.c)
 */

/*
 * The ctx slots a trampoline gives a program of @type for model @m (NULL:
 * the unknown model, Documentation/models.rst: x0-x7, then x0 and d0 of
 * the result): fentry the arguments, fexit and fmod_ret the result too.
 */
static uint32_t model_ctx_slots(const struct ftramp_func_model *m, int type)
{
	bool ret = type == FTRAMP_BPF_PROG_FEXIT ||
		   type == FTRAMP_BPF_PROG_FMOD_RET;
	int n;

	if (!m)
		return ret ? 10 : 8;
	n = ftramp_model__nr_ctx_args(m);
	if (n >= 0 && ret)
		n += ftramp_model__nr_ctx_ret(m);
	return n > 0 ? (uint32_t)n : 0;
}

/*
 * A link's model must cover the ctx slots the verifier saw the program
 * read (checked once the link exists: the model may come from DWARF).
 */
static int check_link_ctx(const struct ftramp_bpf_program *p,
			  const struct ftramp_link *l)
{
	uint32_t have = model_ctx_slots(ftramp_link__model(l), p->type);

	if (p->ctx_slots <= have)
		return 0;
	thread_error_set("program %s reads ctx[%u], beyond the %u ctx slots "
			 "of %s's model", p->name, p->ctx_slots - 1, have,
			 p->target && p->target[0] ? p->target : "the target");
	return -EINVAL;
}

static int prog_prepare(struct ftramp_bpf_program *p,
			const struct ftramp_func_model *m,
			struct ftramp_bpf_error *e)
{
	struct bpf_verdict vd = { 0 };
	struct bpf_tail_key *keys = NULL;
	int err = bpf_check(p, e);

	if (!err && p->engine != FTRAMP_BPF_ENGINE_INTERP) {
		keys = bpf_tail_keys_new(p->n);
		if (!keys)
			return -ENOMEM;
		vd.tail_keys = keys;
	}
	if (!err)
		err = bpf_verify(p, m ? model_ctx_slots(m, p->type) :
				 BPF_CTX_UNKNOWN, e, NULL, &vd);
	if (err) {
		bpf_verdict_free(&vd);
		free(keys);
		return err;
	}
	p->ctx_slots = vd.ctx_slots;
	p->data_need = vd.data_need;
	/* _AUTO: rewritten for the JIT, which takes almost every program */
	err = bpf_fixup(p, &vd, &bpf_map_addrs_live,
			p->engine == FTRAMP_BPF_ENGINE_INTERP ?
			FTRAMP_BPF_ENGINE_INTERP : FTRAMP_BPF_ENGINE_JIT);
	if (err) {
		bpf_verdict_free(&vd);
		free(keys);
		return err;
	}
	err = bpf_stub_create(p);
	if (!err && p->engine != FTRAMP_BPF_ENGINE_INTERP) {
		err = ftramp_fault("bpf_jit");
		if (!err)
			err = bpf_jit_prog(p, keys, 0);
		/*
		 * _AUTO: what the JIT cannot take runs in the interpreter,
		 * its helper calls kept (they cost it less than inlined)
		 */
		if (err && p->engine == FTRAMP_BPF_ENGINE_AUTO) {
			bpf_fixup_free(p);
			err = bpf_fixup(p, &vd, &bpf_map_addrs_live,
					FTRAMP_BPF_ENGINE_INTERP);
		}
		if (err)
			bpf_stub_free(p);
		else if (p->jit)   /* a trampoline calls the image directly */
			p->handler = (ftramp_prog_t)(uintptr_t)p->jit->entry;
	}
	bpf_verdict_free(&vd);
	if (!err) {
		err = bpf_sbranch_init(p, e);
		/* the engine is known: the prog arrays it names must take it */
		if (!err) {
			err = bpf_tail_check_owner(p, e);
			/* its direct slots take what their maps hold */
			if (!err)
				err = bpf_tail_track(p);
			if (err)
				bpf_sbranch_free(p);
		}
		if (err) {
			bpf_tail_untrack(p);
			bpf_jit_prog_free(p);
			bpf_stub_free(p);
		}
	}
	free(keys);
	if (err) {
		bpf_fixup_free(p);
		return err;
	}
	p->loaded = true;
	return 0;
}

static void prog_unprepare(struct ftramp_bpf_program *p)
{
	bpf_sbranch_free(p);
	bpf_tail_untrack(p);
	bpf_jit_prog_free(p);
	bpf_stub_free(p);
	bpf_fixup_free(p);
	p->loaded = false;
}

/* ------------------------------------------------------------------------
 * Objects
 */

static bool engine_ok(int engine)
{
	return engine == FTRAMP_BPF_ENGINE_INTERP ||
	       engine == FTRAMP_BPF_ENGINE_JIT ||
	       engine == FTRAMP_BPF_ENGINE_AUTO;
}

FTRAMP_API struct ftramp_bpf_object *
ftramp_bpf_object__open_mem(const void *buf, size_t size,
			    const struct ftramp_bpf_open_opts *opts)
{
	struct ftramp_bpf_open_opts o;
	struct ftramp_bpf_object *obj;
	int err;

	thread_error_set(NULL);
	if (FTRAMP_OPTS_IN(o, opts) || (!buf && size) ||
	    !engine_ok(o.engine)) {
		errno = EINVAL;
		return NULL;
	}
	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		errno = ENOMEM;
		return NULL;
	}
	if (o.err)
		memset(o.err, 0, sizeof(*o.err));
	obj->err = o.err;
	obj->engine = o.engine;
	snprintf(obj->name, sizeof(obj->name), "%s", o.name ? o.name : "");
	err = bpf_object_parse(obj, buf, size);
	if (err) {
		fail(o.err, err);
		free(obj);
		return NULL;
	}
	return obj;
}

FTRAMP_API struct ftramp_bpf_object *
ftramp_bpf_object__open_file(const char *path,
			     const struct ftramp_bpf_open_opts *opts)
{
	struct ftramp_bpf_open_opts o;
	struct ftramp_bpf_object *obj;
	const char *base;
	size_t size = 0, cap = 1 << 16;
	uint8_t *buf;
	FILE *f;

	if (!path || FTRAMP_OPTS_IN(o, opts)) {
		errno = EINVAL;
		return NULL;
	}
	o.sz = sizeof(o);	/* handed on to __open_mem(), opts or not */
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + size, 1, cap - size, f);

		size += got;
		if (size < cap)
			break;
		if (cap >= (1u << 30)) {
			free(buf);
			buf = NULL;
			break;
		}
		cap *= 2;
		{
			uint8_t *nb = realloc(buf, cap);

			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	base = strrchr(path, '/');
	if (!o.name)
		o.name = base ? base + 1 : path;
	obj = ftramp_bpf_object__open_mem(buf, size, &o);
	free(buf);
	return obj;
}

static void unload(struct ftramp_bpf_object *obj)
{
	for (size_t i = 0; i < obj->nr_progs; i++)
		prog_unprepare(&obj->progs[i]);
	for (size_t i = 0; i < obj->nr_maps; i++)
		bpf_map_fini(&obj->maps[i]);
	obj->loaded = false;
}

FTRAMP_API int ftramp_bpf_object__load(struct ftramp_bpf_object *obj)
{
	struct ftramp_bpf_error local = { 0 }, *e;
	int err = 0;

	if (!obj)
		return -EINVAL;
	if (obj->loaded)
		return -EALREADY;
	thread_error_set(NULL);
	e = obj->err ? obj->err : &local;
	for (size_t i = 0; i < obj->nr_maps && !err; i++) {
		err = bpf_map_init(&obj->maps[i]);
		if (err)
			bpf_errf(e, FTRAMP_BPF_E_MAP_CREATE, "map %s: %s",
				 obj->maps[i].name, strerror(-err));
	}
	for (size_t i = 0; i < obj->nr_progs && !err; i++) {
		obj->progs[i].engine = obj->engine;
		err = prog_prepare(&obj->progs[i], NULL, e);
	}
	/* the prog array slots it declares, once every program is loaded */
	if (!err)
		err = bpf_tail_init_slots(obj, e);
	if (err) {
		unload(obj);
		fail(e, err);
		return err;
	}
	obj->loaded = true;
	return 0;
}

static int attach_kind(int type)
{
	switch (type) {
	case FTRAMP_BPF_PROG_FENTRY:	return FTRAMP_FENTRY;
	case FTRAMP_BPF_PROG_FEXIT:	return FTRAMP_FEXIT;
	case FTRAMP_BPF_PROG_FMOD_RET:	return FTRAMP_FMOD_RET;
	}
	return -1;
}

FTRAMP_API int ftramp_bpf_object__attach(struct ftramp_bpf_object *obj)
{
	struct ftramp_attach_batch *b;
	struct ftramp_bpf_link **links;
	int err = 0;

	if (!obj || !obj->loaded || obj->attached)
		return -EINVAL;
	links = calloc(obj->nr_progs, sizeof(*links));
	b = ftramp_attach_batch__new();
	if (!links || !b) {
		free(links);
		ftramp_attach_batch__free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < obj->nr_progs && !err; i++) {
		struct ftramp_bpf_program *p = &obj->progs[i];
		int kind = attach_kind(p->type), r;

		if (kind < 0)
			continue;
		links[i] = calloc(1, sizeof(*links[i]));
		if (!links[i]) {
			err = -ENOMEM;
			break;
		}
		r = ftramp_attach_batch__add(b, p->target, kind, p->handler, NULL);
		if (r < 0)
			err = r;
	}
	if (!err)
		err = ftramp_attach_batch__commit(b);
	if (!err) {
		size_t nl = 0;
		struct ftramp_link **ls = calloc(obj->nr_progs, sizeof(*ls));

		/* a model narrower than the ctx a program reads: undo all */
		for (size_t i = 0; ls && i < obj->nr_progs; i++) {
			if (!links[i])
				continue;
			ls[nl] = ftramp_attach_batch__link(b, nl);
			if (!err)
				err = check_link_ctx(&obj->progs[i], ls[nl]);
			nl++;
		}
		if (!ls) {
			err = -ENOMEM;
		} else if (err) {
			if (obj->err)
				bpf_errf(obj->err, FTRAMP_BPF_E_VERIFY, "%s",
					 ftramp_error_detail());
			ftramp_links__destroy(ls, nl);
		}
		free(ls);
	}
	if (!err) {
		size_t k = 0;

		for (size_t i = 0; i < obj->nr_progs; i++) {
			if (!links[i])
				continue;
			links[i]->link = ftramp_attach_batch__link(b, k++);
			links[i]->prog = &obj->progs[i];
			obj->progs[i].link = links[i];
			links[i] = NULL;
		}
		obj->attached = true;
	} else if (obj->err) {
		long bad = ftramp_attach_batch__failed(b);
		const char *target = "?";
		size_t k = 0;

		for (size_t i = 0; i < obj->nr_progs; i++)
			if (links[i] && (long)k++ == bad)
				target = obj->progs[i].sec;
		bpf_errf(obj->err, FTRAMP_BPF_E_ATTACH, "section %s: %s",
			 target, strerror(-err));
	}
	for (size_t i = 0; i < obj->nr_progs; i++)
		free(links[i]);
	free(links);
	ftramp_attach_batch__free(b);
	return err;
}

FTRAMP_API int ftramp_bpf_object__detach(struct ftramp_bpf_object *obj)
{
	struct ftramp_link **links;
	size_t n = 0;
	int err;

	if (!obj)
		return -EINVAL;
	if (!obj->attached)
		return 0;
	links = calloc(obj->nr_progs, sizeof(*links));
	if (!links)
		return -ENOMEM;
	for (size_t i = 0; i < obj->nr_progs; i++)
		if (obj->progs[i].link)
			links[n++] = obj->progs[i].link->link;
	err = ftramp_links__destroy(links, n);
	free(links);
	if (err)
		return err;
	for (size_t i = 0; i < obj->nr_progs; i++) {
		free(obj->progs[i].link);
		obj->progs[i].link = NULL;
	}
	obj->attached = false;
	return 0;
}

FTRAMP_API void ftramp_bpf_object__close(struct ftramp_bpf_object *obj)
{
	if (!obj)
		return;
	if (obj->attached)
		ftramp_bpf_object__detach(obj);
	/* trampolines replaced by the detach may still be calling in */
	if (obj->loaded)
		ftramp_sync(-1);
	unload(obj);
	bpf_object_free(obj);
	free(obj);
}

FTRAMP_API const char *
ftramp_bpf_object__name(const struct ftramp_bpf_object *obj)
{
	return obj ? obj->name : NULL;
}

FTRAMP_API const char *
ftramp_bpf_object__license(const struct ftramp_bpf_object *obj)
{
	return obj ? obj->license : NULL;
}

FTRAMP_API struct ftramp_bpf_program *
ftramp_bpf_object__next_program(const struct ftramp_bpf_object *obj,
				const struct ftramp_bpf_program *prev)
{
	size_t i = prev ? (size_t)(prev - obj->progs) + 1 : 0;

	return obj && i < obj->nr_progs ? &obj->progs[i] : NULL;
}

FTRAMP_API struct ftramp_bpf_program *
ftramp_bpf_object__find_program_by_name(const struct ftramp_bpf_object *obj,
					const char *name)
{
	for (size_t i = 0; obj && name && i < obj->nr_progs; i++)
		if (!strcmp(obj->progs[i].name, name))
			return &obj->progs[i];
	return NULL;
}

FTRAMP_API struct ftramp_bpf_map *
ftramp_bpf_object__next_map(const struct ftramp_bpf_object *obj,
			    const struct ftramp_bpf_map *prev)
{
	size_t i = prev ? (size_t)(prev - obj->maps) + 1 : 0;

	return obj && i < obj->nr_maps ? &obj->maps[i] : NULL;
}

FTRAMP_API struct ftramp_bpf_map *
ftramp_bpf_object__find_map_by_name(const struct ftramp_bpf_object *obj,
				    const char *name)
{
	for (size_t i = 0; obj && name && i < obj->nr_maps; i++)
		if (!strcmp(obj->maps[i].name, name))
			return &obj->maps[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Programs
 */

FTRAMP_API const char *
ftramp_bpf_program__name(const struct ftramp_bpf_program *p)
{
	return p ? p->name : NULL;
}

FTRAMP_API const char *
ftramp_bpf_program__section_name(const struct ftramp_bpf_program *p)
{
	return p ? (p->sec ? p->sec : "") : NULL;
}

FTRAMP_API const char *
ftramp_bpf_program__attach_target(const struct ftramp_bpf_program *p)
{
	return p ? (p->target ? p->target : "") : NULL;
}

FTRAMP_API enum ftramp_bpf_prog_type
ftramp_bpf_program__type(const struct ftramp_bpf_program *p)
{
	return p ? p->type : FTRAMP_BPF_PROG_RAW;
}

FTRAMP_API size_t ftramp_bpf_program__insn_cnt(const struct ftramp_bpf_program *p)
{
	return p ? (p->run ? p->run_n : p->n) : 0;
}

FTRAMP_API const struct ftramp_bpf_insn *
ftramp_bpf_program__insns(const struct ftramp_bpf_program *p)
{
	return p ? (p->run ? p->run : p->insns) : NULL;
}

FTRAMP_API ftramp_prog_t
ftramp_bpf_program__handler(const struct ftramp_bpf_program *p)
{
	return p ? p->handler : NULL;
}

FTRAMP_API int ftramp_bpf_program__engine(const struct ftramp_bpf_program *p)
{
	if (!p || !p->loaded)
		return -EINVAL;
	return p->jit ? FTRAMP_BPF_ENGINE_JIT : FTRAMP_BPF_ENGINE_INTERP;
}

FTRAMP_API struct ftramp_bpf_link *
ftramp_bpf_program__attach(struct ftramp_bpf_program *p,
			   const struct ftramp_bpf_attach_opts *opts)
{
	struct ftramp_bpf_attach_opts o;
	struct ftramp_attach_opts ao = { .sz = sizeof(ao) };
	struct ftramp_bpf_link *l;
	int kind;

	if (!p || FTRAMP_OPTS_IN(o, opts) || !p->loaded ||
	    (kind = attach_kind(p->type)) < 0) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	ao.cookie = o.cookie;
	ao.model = o.model;
	ao.force_far = o.force_far;
	l->prog = p;
	l->link = ftramp_attach(o.func ? o.func : p->target, kind, p->handler,
				&ao);
	if (!l->link) {
		int err = errno;

		free(l);
		errno = err;
		return NULL;
	}
	if (check_link_ctx(p, l->link)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ftramp_error_detail());
		ftramp_link__destroy(l->link);
		free(l);
		thread_error_set("%s", why);
		errno = EINVAL;
		return NULL;
	}
	return l;
}

FTRAMP_API int ftramp_bpf_link__destroy(struct ftramp_bpf_link *l)
{
	int err;

	if (!l)
		return 0;
	err = ftramp_link__destroy(l->link);
	if (!err)
		free(l);
	return err;
}

FTRAMP_API struct ftramp_link *
ftramp_bpf_link__link(const struct ftramp_bpf_link *l)
{
	return l ? l->link : NULL;
}

FTRAMP_API void *ftramp_bpf_program__thunk(struct ftramp_bpf_program *p,
					   const struct ftramp_func_model *m,
					   uint64_t cookie)
{
	if (!p || !p->loaded) {
		errno = EINVAL;
		return NULL;
	}
	if (p->ctx_slots > model_ctx_slots(m, p->type)) {
		thread_error_set("program %s reads ctx[%u], beyond the %u ctx "
				 "slots of the model", p->name, p->ctx_slots - 1,
				 model_ctx_slots(m, p->type));
		errno = EINVAL;
		return NULL;
	}
	return ftramp_thunk__create(m, p->handler, cookie);
}

FTRAMP_API struct ftramp_bpf_program *
ftramp_bpf_prog__load(const struct ftramp_bpf_insn *insns, size_t n,
		      const struct ftramp_bpf_prog_load_opts *opts)
{
	struct ftramp_bpf_prog_load_opts o;
	struct ftramp_bpf_error local = { 0 }, *e;
	struct ftramp_bpf_program *p;
	int err;

	thread_error_set(NULL);
	if (FTRAMP_OPTS_IN(o, opts) || !insns || !n || n > (1u << 20) ||
	    o.type < FTRAMP_BPF_PROG_RAW || o.type > FTRAMP_BPF_PROG_STRUCT_OPS ||
	    (o.nr_maps && !o.maps)) {
		errno = EINVAL;
		return NULL;
	}
	if (!engine_ok(o.engine)) {
		errno = EINVAL;
		return NULL;
	}
	e = o.err ? o.err : &local;
	memset(e, 0, sizeof(*e));
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", o.name ? o.name : "");
	p->type = o.type;
	p->engine = o.engine;
	p->n = p->sec_n = n;
	p->insns = malloc(n * sizeof(*insns));
	p->maps = calloc(o.nr_maps ? o.nr_maps : 1, sizeof(*p->maps));
	err = p->insns && p->maps ? 0 : -ENOMEM;
	for (size_t i = 0; !err && i < o.nr_maps; i++) {
		if (!o.maps[i] || !o.maps[i]->impl)
			err = bpf_errf(e, FTRAMP_BPF_E_MAP_CREATE, "maps[%zu] is "
				       "not a created map", i);
		p->maps[i] = o.maps[i];
	}
	if (!err) {
		memcpy(p->insns, insns, n * sizeof(*insns));
		p->nr_maps = o.nr_maps;
		err = prog_prepare(p, o.model, e);
	}
	if (!err)
		return p;
	free(p->insns);
	free(p->maps);
	free(p);
	fail(e, err);
	return NULL;
}

void bpf_prog_destroy(struct ftramp_bpf_program *p)
{
	prog_unprepare(p);
	free(p->insns);
	free(p->maps);
	free(p);
}

FTRAMP_API void ftramp_bpf_prog__free(struct ftramp_bpf_program *p)
{
	if (!p || p->obj)
		return;
	/* a prog array may still hold it: then it goes with the last */
	if (bpf_tail_release(p))
		bpf_prog_destroy(p);
}

/* ------------------------------------------------------------------------
 * BPF_PROG_TEST_RUN
 */

#define TEST_CTX_SLOTS	13

FTRAMP_API int ftramp_bpf_prog__test_run(struct ftramp_bpf_program *p,
					 struct ftramp_bpf_test_run_opts *opts)
{
	struct ftramp_bpf_test_run_opts o;
	/* frame[0]: the run context pointer the helpers read below ctx */
	uint64_t frame[1 + TEST_CTX_SLOTS] = { 0 };
	struct ftramp_run_ctx rc = { 0 };
	const struct ftramp_run_ctx *rcp = &rc;
	uint64_t r1, r2 = 0, ret = 0;
	struct timespec t0, t1;
	uint8_t *data = NULL;
	int repeat;

	if (!p || !opts || !p->loaded || FTRAMP_OPTS_IN(o, opts))
		return -EINVAL;
	/* what the verifier saw the program touch must be there */
	if (p->type == FTRAMP_BPF_PROG_RAW ? p->data_need > o.data_size_in :
	    p->ctx_slots > TEST_CTX_SLOTS)
		return -EINVAL;
	repeat = o.repeat > 0 ? o.repeat : 1;
	if (p->type == FTRAMP_BPF_PROG_RAW) {
		if (o.ctx_in || o.ctx_size_in || (o.data_size_in && !o.data_in))
			return -EINVAL;
		data = calloc(1, o.data_size_in ? o.data_size_in : 1);
		if (!data)
			return -ENOMEM;
		if (o.data_size_in)
			memcpy(data, o.data_in, o.data_size_in);
		r1 = (uintptr_t)data;
		r2 = o.data_size_in;
	} else {
		uint32_t slots = o.ctx_size_in / 8;

		if (o.data_in || o.data_size_in || o.ctx_size_in % 8 ||
		    slots > TEST_CTX_SLOTS || (slots && !o.ctx_in))
			return -EINVAL;
		memcpy(&frame[0], &rcp, sizeof(rcp));
		if (slots)
			memcpy(&frame[1], o.ctx_in, o.ctx_size_in);
		/* fexit: the last slot is the result, as the trampoline lays it */
		rc.kind = FTRAMP_RUN_CTX_ANY;
		rc.ret_cls = FTRAMP_RET_UNKNOWN;
		if (p->type == FTRAMP_BPF_PROG_FEXIT && slots) {
			rc.nr_args = slots - 1;
			rc.nr_ret = 1;
			rc.ret_size = 8;
		} else {
			rc.nr_args = slots;
		}
		r1 = (uintptr_t)&frame[1];
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < repeat; i++)
		ret = p->jit ? bpf_jit_run(p, r1, r2) :
		      bpf_interp_run(p, r1, r2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	opts->retval = ret;
	opts->duration = (uint32_t)(((t1.tv_sec - t0.tv_sec) * 1000000000ll +
				     (t1.tv_nsec - t0.tv_nsec)) / repeat);
	if (data) {
		if (o.data_out) {
			uint32_t n = o.data_size_out < o.data_size_in ?
				     o.data_size_out : o.data_size_in;

			memcpy(o.data_out, data, n);
			opts->data_size_out = n;
		}
		free(data);
	}
	return 0;
}
