// SPDX-License-Identifier: MIT
/*
 * The site-and-model table: writer and checked reader (the layout is
 * drawn in site_table.h).
 *
 * The writer makes two passes over the same code, as the emitters do:
 * the first only counts (no buffer), the second writes into a buffer of
 * exactly the counted size, and must end where the first did.
 *
 * The reader trusts nothing: the agent maps what another process wrote,
 * so every offset, count and string is checked once in stab_parse(), and
 * the accessors after it rely on that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace/site_table.h"
#include "trampoline/model.h"

_Static_assert(sizeof(struct stab_header) == 64, "stab_header layout");
_Static_assert(sizeof(struct stab_module) == 72, "stab_module layout");
_Static_assert(sizeof(struct stab_segment) == 40, "stab_segment layout");
_Static_assert(sizeof(struct stab_site) == 48, "stab_site layout");
_Static_assert(sizeof(struct stab_type) == 12, "stab_type layout");
_Static_assert(sizeof(struct stab_model) ==
	       16 + 12 * FTRAMP_MAX_ARGS + 4 * FTRAMP_MAX_ARGS,
	       "stab_model layout");

/* ----------------------------------------------------------------------
 * Writing
 */

struct wctx {
	uint8_t *buf;		/* NULL in the sizing pass */
	struct stab_header h;	/* offsets and counts, known after pass 1 */
	uint32_t mod, seg, site, model;	/* next index of each array */
	uint64_t str;		/* next free byte of the string pool */
};

static uint32_t put_str(struct wctx *w, const char *s)
{
	size_t len;
	uint64_t off;

	if (!s)
		return STAB_NONE;
	if (!*s)
		return 0;	/* the pool starts with "" */
	len = strlen(s) + 1;
	off = w->str;
	if (w->buf)
		memcpy(w->buf + w->h.strings_off + off, s, len);
	w->str += len;
	return off > UINT32_MAX ? STAB_NONE : (uint32_t)off;
}

static void *slot(struct wctx *w, uint32_t off, uint32_t idx, size_t size)
{
	return w->buf ? w->buf + off + (size_t)idx * size : NULL;
}

static struct stab_type type_out(const struct ftramp_type *t)
{
	return (struct stab_type){ .cls = t->cls, .flags = t->flags,
				   .size = t->size, .nmemb = t->nmemb,
				   .elem_size = t->elem_size,
				   .align = t->align };
}

static struct ftramp_type type_in(const struct stab_type *t)
{
	return (struct ftramp_type){ .cls = t->cls, .flags = t->flags,
				     .size = t->size, .nmemb = t->nmemb,
				     .elem_size = t->elem_size,
				     .align = t->align };
}

/* A model as stab_parse() accepts it: valid, or valid but variadic. */
static int model_check(const struct ftramp_func_model *m)
{
	struct ftramp_func_model c = *m;

	if (c.flags & ~FTRAMP_MODEL_VARIADIC)
		return -EINVAL;
	c.flags &= ~FTRAMP_MODEL_VARIADIC;
	return ftramp_model__validate(&c);
}

static uint32_t put_model(struct wctx *w, const struct stab_model_in *in)
{
	struct stab_model *sm = slot(w, w->h.models_off, w->model,
				     sizeof(*sm));
	unsigned int i;

	if (sm) {
		memset(sm, 0, sizeof(*sm));
		sm->ret = type_out(&in->model.ret);
		sm->nr_args = in->model.nr_args;
		sm->flags = in->model.flags;
		for (i = 0; i < in->model.nr_args; i++)
			sm->args[i] = type_out(&in->model.args[i]);
	}
	for (i = 0; i < FTRAMP_MAX_ARGS; i++) {
		uint32_t p = 0;

		if (i < in->model.nr_args && memchr(in->names[i], 0,
						     FTRAMP_PARAM_NAME_MAX))
			p = put_str(w, in->names[i]);
		if (sm)
			sm->params[i] = p;
	}
	return w->model++;
}

static int put_module(struct wctx *w, const struct stab_module_in *in)
{
	const struct elf_sites *es = in->es;
	struct stab_module *m = slot(w, w->h.modules_off, w->mod, sizeof(*m));
	struct stab_module mod = {
		.build_id_len = in->build_id_len,
		.type = es->type,
		.flags = (es->executable ? STAB_MOD_EXECUTABLE : 0) |
			 (es->symtab ? STAB_MOD_SYMTAB : 0),
		.path = put_str(w, in->path ? in->path : ""),
		.first_seg = w->seg, .nr_segs = es->nr_segs,
		.first_site = w->site, .nr_sites = es->nr_sites,
		.nr_records = es->nr_records, .nr_null = es->nr_null,
	};
	size_t i;

	if (in->build_id_len > STAB_BUILD_ID_MAX ||
	    (in->build_id_len && !in->build_id) ||
	    es->nr_segs > UINT32_MAX || es->nr_sites > UINT32_MAX)
		return -EINVAL;
	if (in->build_id_len)
		memcpy(mod.build_id, in->build_id, in->build_id_len);
	for (i = 0; i < es->nr_segs; i++) {
		struct stab_segment *sg = slot(w, w->h.segs_off, w->seg++,
					       sizeof(*sg));

		if (sg)
			*sg = (struct stab_segment){
				.vaddr = es->segs[i].vaddr,
				.memsz = es->segs[i].memsz,
				.offset = es->segs[i].offset,
				.filesz = es->segs[i].filesz,
				.flags = es->segs[i].flags,
			};
	}
	for (i = 0; i < es->nr_sites; i++) {
		const struct elf_site *e = &es->sites[i];
		const struct stab_model_in *mi = in->models ? &in->models[i] :
							      NULL;
		struct stab_site s = {
			.func = e->func, .size = e->size,
			.name = put_str(w, e->name),
			.symbol = put_str(w, e->symbol ? e->symbol : ""),
			.file = put_str(w, e->file),
			.flags = e->flags, .status = e->status,
			.model = STAB_NONE, .model_err = -ENODATA,
		};
		struct stab_site *out = slot(w, w->h.sites_off, w->site++,
					     sizeof(*out));

		if (i && e->func < es->sites[i - 1].func)
			return -EINVAL;	/* elf_sites keeps them sorted */
		if (mi && mi->err)
			s.model_err = mi->err < 0 ? mi->err : -EINVAL;
		if (mi && !mi->err) {
			if (model_check(&mi->model))
				return -EINVAL;
			s.model_err = 0;
			s.model = put_model(w, mi);
		}
		if (out)
			*out = s;
	}
	if (m)
		*m = mod;
	w->mod++;
	return 0;
}

static int write_pass(struct wctx *w, const struct stab_module_in *mods,
		      size_t n)
{
	w->mod = w->seg = w->site = w->model = 0;
	w->str = 0;
	if (w->buf)
		w->buf[w->h.strings_off] = 0;	/* "" at offset 0 */
	w->str = 1;
	for (size_t i = 0; i < n; i++) {
		int err = put_module(w, &mods[i]);

		if (err)
			return err;
	}
	return 0;
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

int stab_write(const struct stab_module_in *mods, size_t n, void **out,
	       size_t *size)
{
	struct wctx w = { 0 };
	uint64_t off;
	int err;

	*out = NULL;
	*size = 0;
	if (n > UINT32_MAX || (n && !mods))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!mods[i].es)
			return -EINVAL;
	err = write_pass(&w, mods, n);		/* pass 1: count */
	if (err)
		return err;

	w.h = (struct stab_header){
		.version = STAB_VERSION,
		.hdr_size = sizeof(struct stab_header),
		.nr_modules = w.mod, .nr_segs = w.seg,
		.nr_sites = w.site, .nr_models = w.model,
	};
	memcpy(w.h.magic, STAB_MAGIC, sizeof(w.h.magic));
	off = sizeof(struct stab_header);
	w.h.modules_off = off;
	off = align8(off + (uint64_t)w.mod * sizeof(struct stab_module));
	w.h.segs_off = off;
	off = align8(off + (uint64_t)w.seg * sizeof(struct stab_segment));
	w.h.sites_off = off;
	off = align8(off + (uint64_t)w.site * sizeof(struct stab_site));
	w.h.models_off = off;
	off = align8(off + (uint64_t)w.model * sizeof(struct stab_model));
	w.h.strings_off = off;
	w.h.strings_size = w.str;
	off = align8(off + w.str);
	if (off > STAB_SIZE_MAX || w.str > STAB_SIZE_MAX)
		return -E2BIG;
	w.h.size = off;

	w.buf = calloc(1, off);
	if (!w.buf)
		return -ENOMEM;
	memcpy(w.buf, &w.h, sizeof(w.h));
	{
		struct wctx counted = w;

		err = write_pass(&w, mods, n);	/* pass 2: write */
		/* the same input: the same counts, or the buffer overran */
		if (!err && (w.mod != counted.mod || w.seg != counted.seg ||
			     w.site != counted.site ||
			     w.model != counted.model || w.str != counted.str))
			abort();
	}
	if (err) {
		free(w.buf);
		return err;
	}
	*out = w.buf;
	*size = off;
	return 0;
}

/* ----------------------------------------------------------------------
 * Reading
 */

/* [off, off + n * size) inside the buffer, and aligned for its type. */
static bool array_ok(size_t total, uint32_t off, uint32_t n, size_t size,
		     size_t align)
{
	if (off % align)
		return false;
	return off <= total && (uint64_t)n * size <= total - off;
}

static bool str_ok(const struct stab *t, uint32_t off, bool none_ok)
{
	if (off == STAB_NONE)
		return none_ok;
	return off < t->hdr->strings_size;	/* NUL-terminated pool */
}

static bool model_ok(const struct stab *t, const struct stab_model *sm)
{
	struct ftramp_func_model m = { 0 };
	unsigned int i;

	if (sm->nr_args > FTRAMP_MAX_ARGS)
		return false;
	m.ret = type_in(&sm->ret);
	m.nr_args = sm->nr_args;
	m.flags = sm->flags;
	for (i = 0; i < sm->nr_args; i++)
		m.args[i] = type_in(&sm->args[i]);
	for (i = 0; i < FTRAMP_MAX_ARGS; i++)
		if (!str_ok(t, sm->params[i], false))
			return false;
	return model_check(&m) == 0;
}

int stab_parse(const void *buf, size_t size, struct stab *t)
{
	const struct stab_header *h = buf;
	uint32_t i, j;

	memset(t, 0, sizeof(*t));
	if (!buf || (uintptr_t)buf % 8 || size < sizeof(*h) ||
	    memcmp(h->magic, STAB_MAGIC, sizeof(h->magic)))
		return -EBADMSG;
	if (h->version != STAB_VERSION)
		return -EPROTONOSUPPORT;
	if (h->hdr_size != sizeof(*h) || h->size > size ||
	    h->size > STAB_SIZE_MAX)
		return -EBADMSG;
	size = h->size;
	if (!array_ok(size, h->modules_off, h->nr_modules,
		      sizeof(struct stab_module), 8) ||
	    !array_ok(size, h->segs_off, h->nr_segs,
		      sizeof(struct stab_segment), 8) ||
	    !array_ok(size, h->sites_off, h->nr_sites,
		      sizeof(struct stab_site), 8) ||
	    !array_ok(size, h->models_off, h->nr_models,
		      sizeof(struct stab_model), 4) ||
	    !array_ok(size, h->strings_off, h->strings_size, 1, 1) ||
	    !h->strings_size)
		return -EBADMSG;
	t->base = buf;
	t->size = size;
	t->hdr = h;
	t->mods = (const void *)(t->base + h->modules_off);
	t->segs = (const void *)(t->base + h->segs_off);
	t->sites = (const void *)(t->base + h->sites_off);
	t->models = (const void *)(t->base + h->models_off);
	t->strings = (const char *)t->base + h->strings_off;
	/* Every string ends inside the pool: its last byte is a NUL. */
	if (t->strings[0] || t->strings[h->strings_size - 1])
		goto bad;

	for (i = 0; i < h->nr_models; i++)
		if (!model_ok(t, &t->models[i]))
			goto bad;
	for (i = 0; i < h->nr_modules; i++) {
		const struct stab_module *m = &t->mods[i];

		if (m->build_id_len > STAB_BUILD_ID_MAX ||
		    !str_ok(t, m->path, false) ||
		    m->first_seg > h->nr_segs ||
		    m->nr_segs > h->nr_segs - m->first_seg ||
		    m->first_site > h->nr_sites ||
		    m->nr_sites > h->nr_sites - m->first_site)
			goto bad;
		for (j = 0; j < m->nr_sites; j++) {
			const struct stab_site *s = &t->sites[m->first_site + j];

			if (!str_ok(t, s->name, false) ||
			    !str_ok(t, s->symbol, false) ||
			    !str_ok(t, s->file, true) ||
			    s->status < 0 ||
			    s->status >= FTRAMP_SITE_STATUS_MAX ||
			    (s->model != STAB_NONE &&
			     s->model >= h->nr_models) ||
			    (s->model == STAB_NONE && s->model_err >= 0) ||
			    (j && s->func < s[-1].func))
				goto bad;
		}
	}
	return 0;
bad:
	memset(t, 0, sizeof(*t));
	return -EBADMSG;
}

const char *stab_str(const struct stab *t, uint32_t off)
{
	return off == STAB_NONE ? "" : t->strings + off;
}

const struct stab_module *stab_find(const struct stab *t,
				    const uint8_t *build_id, size_t len,
				    const char *path)
{
	uint32_t i;

	if (!t->hdr)
		return NULL;
	for (i = 0; i < t->hdr->nr_modules; i++) {
		const struct stab_module *m = &t->mods[i];

		if (len && m->build_id_len == len &&
		    !memcmp(m->build_id, build_id, len))
			return m;
	}
	if (len || !path)
		return NULL;	/* a build-id the table lacks: another file */
	for (i = 0; i < t->hdr->nr_modules; i++)
		if (!t->mods[i].build_id_len &&
		    !strcmp(stab_str(t, t->mods[i].path), path))
			return &t->mods[i];
	return NULL;
}

int stab_elf_sites(const struct stab *t, const struct stab_module *m,
		   struct elf_sites **out)
{
	const struct stab_site *s = &t->sites[m->first_site];
	struct elf_sites *es = calloc(1, sizeof(*es));
	size_t len = 1, i;
	char *p;

	*out = NULL;
	if (!es)
		return -ENOMEM;
	for (i = 0; i < m->nr_sites; i++)
		len += strlen(stab_str(t, s[i].name)) +
		       strlen(stab_str(t, s[i].symbol)) +
		       strlen(stab_str(t, s[i].file)) + 3;
	es->sites = calloc(m->nr_sites ? m->nr_sites : 1, sizeof(*es->sites));
	es->segs = calloc(m->nr_segs ? m->nr_segs : 1, sizeof(*es->segs));
	es->strings = malloc(len);
	if (!es->sites || !es->segs || !es->strings) {
		elf_sites__free(es);
		return -ENOMEM;
	}
	p = es->strings;
	*p++ = 0;
	for (i = 0; i < m->nr_sites; i++) {
		struct elf_site *e = &es->sites[i];
		const char *parts[3] = { stab_str(t, s[i].name),
					 stab_str(t, s[i].symbol),
					 stab_str(t, s[i].file) };
		const char **dst[3] = { &e->name, &e->symbol, &e->file };

		for (int k = 0; k < 3; k++) {
			size_t n = strlen(parts[k]) + 1;

			memcpy(p, parts[k], n);
			*dst[k] = p;
			p += n;
		}
		if (s[i].file == STAB_NONE)
			e->file = NULL;
		e->func = s[i].func;
		e->size = s[i].size;
		e->flags = s[i].flags;
		e->status = s[i].status;
	}
	for (i = 0; i < m->nr_segs; i++) {
		const struct stab_segment *sg = &t->segs[m->first_seg + i];

		es->segs[i] = (struct elf_segment){
			.vaddr = sg->vaddr, .memsz = sg->memsz,
			.offset = sg->offset, .filesz = sg->filesz,
			.flags = sg->flags,
		};
	}
	es->nr_sites = m->nr_sites;
	es->nr_segs = m->nr_segs;
	es->type = m->type;
	es->executable = m->flags & STAB_MOD_EXECUTABLE;
	es->symtab = m->flags & STAB_MOD_SYMTAB;
	es->nr_records = m->nr_records;
	es->nr_null = m->nr_null;
	*out = es;
	return 0;
}

int stab_model(const struct stab *t, const struct stab_module *m,
	       uint64_t func, struct ftramp_func_model *model,
	       char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	const struct stab_site *s = &t->sites[m->first_site];
	const struct stab_model *sm;
	size_t lo = 0, hi = m->nr_sites;
	unsigned int i;

	while (lo < hi) {	/* the first site at or above func */
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].func < func)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->nr_sites || s[lo].func != func)
		return -ENOENT;
	s += lo;
	if (s->model == STAB_NONE)
		return s->model_err;
	sm = &t->models[s->model];
	memset(model, 0, sizeof(*model));
	model->ret = type_in(&sm->ret);
	model->nr_args = sm->nr_args;
	model->flags = sm->flags;
	for (i = 0; i < sm->nr_args; i++)
		model->args[i] = type_in(&sm->args[i]);
	if (names) {
		memset(names, 0, FTRAMP_MAX_ARGS * sizeof(*names));
		for (i = 0; i < sm->nr_args; i++) {
			const char *n = stab_str(t, sm->params[i]);
			size_t len = strlen(n);

			if (len >= FTRAMP_PARAM_NAME_MAX)
				len = FTRAMP_PARAM_NAME_MAX - 1;
			memcpy(names[i], n, len);
		}
	}
	return 0;
}

/* ----------------------------------------------------------------------
 * Build-ids
 */

size_t stab_note_build_id(const void *notes, size_t size, size_t align,
			  const uint8_t **id)
{
	const uint8_t *p = notes;
	size_t off = 0;

	if (align != 8)
		align = 4;
	while (size - off >= 12) {
		uint32_t nh[3];		/* namesz, descsz, type */
		size_t name_len, desc_len;
		const uint8_t *name;

		memcpy(nh, p + off, sizeof(nh));
		off += sizeof(nh);
		name_len = ((size_t)nh[0] + align - 1) & ~(align - 1);
		desc_len = ((size_t)nh[1] + align - 1) & ~(align - 1);
		if (name_len > size - off)
			break;
		name = p + off;
		off += name_len;
		if (desc_len > size - off)
			break;
		if (nh[2] == 3 /* NT_GNU_BUILD_ID */ && nh[0] == 4 &&
		    !memcmp(name, "GNU", 4) && nh[1] &&
		    nh[1] <= STAB_BUILD_ID_MAX) {
			*id = p + off;
			return nh[1];
		}
		off += desc_len;
	}
	return 0;
}
