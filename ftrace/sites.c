// SPDX-License-Identifier: MIT
/*
 * The site table of the running process (Documentation/sites.rst).
 *
 * Objects come from dl_iterate_phdr(); each is read from its file once
 * (elf_sites.c), relocated by its load bias, and its usable sites are
 * checked once more against the live bytes.  An object keeps its sites,
 * and their owner state, until it is unloaded: a rescan reads only new
 * objects, so sites ftramp has patched are never re-judged by the
 * pristine-shape check.
 *
 * Noticing dlopen()/dlclose().  Two mechanisms, because neither alone is
 * both prompt and complete:
 *
 *  - dlopen() and dlclose() are interposed here (dlsym(RTLD_NEXT)): the
 *    table is updated, and listeners told, before dlopen() returns to the
 *    program, so the layer above can apply active filters to a library
 *    before any of its functions runs.  Hooking _dl_debug_state() (the
 *    r_debug breakpoint debuggers use) would see every load, but it means
 *    patching code in ld.so that is not built to be patched, which this
 *    library refuses to do for anyone else's code either.
 *  - Interposition misses loads it does not see: dlopen() calls made
 *    inside libc (NSS, iconv), dlmopen(), and programs where another
 *    object's dlopen() binds first.  So every lookup also compares the
 *    loader's dlpi_adds/dlpi_subs counters with those of the last scan (one
 *    dl_iterate_phdr() step) and rescans when they moved.
 *
 * Caveat of interposition: glibc resolves a relative dlopen() name with the
 * DT_RUNPATH of the *calling* object, and through the hook the caller is
 * libftramp (the executable itself when linked statically).
 *
 * Locking: scan_lock serialises rescans and listener calls; the rwlock
 * guards the index (by address, by name) against its swap.  A thread that
 * holds either (inside a listener or a find callback) never rescans: it
 * would deadlock, so the rescan is left to the next lookup.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fnmatch.h>
#include <link.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/insn.h"
#include "ftrace/sites.h"
#include "lib/lockdep.h"
#include "lib/opts.h"
#include "lib/phdr.h"


struct sites_index {
	struct ftramp_site **by_addr;	/* sorted by func */
	size_t nr;
	struct ftramp_site **hash;	/* open addressing, by name */
	size_t mask;
};

struct ftramp_sites {
	pthread_mutex_t scan_lock;
	pthread_rwlock_t lock;
	struct sites_object *objects;	/* scan_lock */
	struct sites_index *idx;	/* lock */
	unsigned long long adds, subs;	/* loader counters at the last scan */
	unsigned long added;	/* objects added by scans (atomic) */
	struct sites_listener *listeners;	/* scan_lock */
};

/* What this thread holds, so it never waits for itself. */
static __thread unsigned int tls_scanning, tls_reading;

static struct ftramp_sites *g_sites;
static pthread_mutex_t g_sites_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(g_sites_lock, FTRAMP_LOCK_SITES);

/* ----------------------------------------------------------------------
 * The loader's view: one snapshot per scan, copied while the loader lock
 * is held (an object can go away as soon as dl_iterate_phdr() returns).
 */

struct snap {
	char *name;
	uint64_t addr;
	const void *phdr;
	size_t phnum;
	ElfW(Phdr) *load;	/* copies of the PT_LOAD headers */
	size_t nr_load;
};

struct snapshot {
	struct snap *v;
	size_t nr, cap;
	unsigned long long adds, subs;
	int err;
};

static int snap_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct snapshot *s = data;
	struct snap *sn;

	if (s->nr == 0 && size >= offsetof(struct dl_phdr_info, dlpi_subs) +
				   sizeof(info->dlpi_subs)) {
		s->adds = info->dlpi_adds;
		s->subs = info->dlpi_subs;
	}
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct snap *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			goto oom;
		s->v = v;
		s->cap = cap;
	}
	sn = &s->v[s->nr];
	*sn = (struct snap){ .addr = info->dlpi_addr, .phdr = info->dlpi_phdr,
			     .phnum = info->dlpi_phnum };
	sn->name = strdup(info->dlpi_name ? info->dlpi_name : "");
	sn->load = calloc(info->dlpi_phnum ? info->dlpi_phnum : 1,
			  sizeof(*sn->load));
	if (!sn->name || !sn->load) {
		free(sn->name);
		free(sn->load);
		goto oom;
	}
	for (size_t i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD)
			sn->load[sn->nr_load++] = info->dlpi_phdr[i];
	s->nr++;
	return 0;
oom:
	s->err = -ENOMEM;
	return 1;
}

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->v[i].name);
		free(s->v[i].load);
	}
	free(s->v);
}

static int gen_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long long *g = data;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
		    sizeof(info->dlpi_subs)) {
		g[0] = info->dlpi_adds;
		g[1] = info->dlpi_subs;
	}
	return 1;	/* the counters are in every entry: stop at the first */
}

/* ----------------------------------------------------------------------
 * Objects
 */

static void object_free(struct sites_object *o)
{
	if (!o)
		return;
	sites_object_unpin(o);
	elf_sites__free(o->es);
	free(o->dl_name);
	free((char *)o->path);
	free((char *)o->name);
	free(o->text);
	if (o->sites && o->nr_sites)
		free((char *)o->sites[0].name);	/* one block for all names */
	free(o->sites);
	free(o);
}

/* The loader mapped what the file says: same PT_LOADs, in order. */
static bool same_segments(const struct elf_sites *es, const struct snap *sn)
{
	if (es->nr_segs != sn->nr_load)
		return false;
	for (size_t i = 0; i < sn->nr_load; i++)
		if (es->segs[i].vaddr != sn->load[i].p_vaddr ||
		    es->segs[i].memsz != sn->load[i].p_memsz ||
		    es->segs[i].flags != sn->load[i].p_flags)
			return false;
	return true;
}

static const struct sites_text *text_of(const struct sites_object *o,
					uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < o->nr_text; i++)
		if (start >= o->text[i].start && end <= o->text[i].end &&
		    start <= end)
			return &o->text[i];
	return NULL;
}

/*
 * The bytes in memory still have the shape the file showed.  Anything
 * else means someone patched the site (a debugger, another tracer) or the
 * file on disk is not what was mapped: not ours to touch.
 */
static int live_status(const struct ftramp_site *s)
{
	const uint32_t *w;
	size_t n = (s->flags & FTRAMP_SITE_F_BTI) ? 5 : 4;

	if (!s->text)
		return FTRAMP_SITE_NOT_TEXT;
	if (!(s->text->prot & PF_R))
		return FTRAMP_SITE_NOT_READABLE;
	w = (const uint32_t *)(uintptr_t)sites_literal(s);
	if (w[0] != A64_NOP || w[1] != A64_NOP)
		return FTRAMP_SITE_MODIFIED;
	if (n == 5 && w[2] != A64_BTI_C && w[2] != A64_BTI_JC)
		return FTRAMP_SITE_MODIFIED;
	if (w[n - 2] != A64_NOP || w[n - 1] != A64_NOP)
		return FTRAMP_SITE_MODIFIED;
	return FTRAMP_SITE_OK;
}

static int object_sites(struct sites_object *o)
{
	const struct elf_sites *es = o->es;
	size_t len = 0;
	char *names;

	o->sites = calloc(es->nr_sites ? es->nr_sites : 1, sizeof(*o->sites));
	if (!o->sites)
		return -ENOMEM;
	for (size_t i = 0; i < es->nr_sites; i++)
		len += strlen(es->sites[i].name) + strlen(o->name) + 2;
	names = malloc(len ? len : 1);
	if (!names)
		return -ENOMEM;

	for (size_t i = 0; i < es->nr_sites; i++) {
		const struct elf_site *e = &es->sites[i];
		struct ftramp_site *s = &o->sites[i];
		int n;

		n = *o->name ? sprintf(names, "%s@%s", e->name, o->name) :
			       sprintf(names, "%s", e->name);
		*s = (struct ftramp_site){
			.name = names, .elf = e, .obj = o,
			.func = e->func + o->bias,
			.flags = e->flags, .status = e->status,
		};
		s->patch = s->func + elf_site_patch_off(e);
		s->text = text_of(o, sites_literal(s), sites_body(s));
		if (s->status == FTRAMP_SITE_OK)
			s->status = live_status(s);
		names += n + 1;
	}
	o->nr_sites = es->nr_sites;
	return 0;
}

static bool name_taken(struct sites_object *list, const char *name)
{
	for (; list; list = list->next)
		if (!strcmp(list->name, name))
			return true;
	return false;
}

/*
 * Read a newly loaded object.  Returns NULL only when out of memory; an
 * object that cannot be read is kept with ->err and no sites, so it is
 * not retried at every scan.
 */
static struct sites_object *object_load(const struct snap *sn, bool main_exe,
					struct sites_object *others)
{
	struct sites_object *o = calloc(1, sizeof(*o));
	struct sites_source src;
	char path[PATH_MAX], name[PATH_MAX];
	ssize_t len;

	if (!o)
		return NULL;
	o->bias = sn->addr;
	o->phdr = sn->phdr;
	o->dl_name = strdup(sn->name);
	if (!o->dl_name)
		goto oom;
	if (main_exe) {
		len = readlink("/proc/self/exe", path, sizeof(path) - 1);
		path[len > 0 ? len : 0] = '\0';
		name[0] = '\0';
	} else {
		snprintf(path, sizeof(path), "%s", sn->name);
		elf_sites__object_name(path, name, sizeof(name));
		if (name_taken(others, name))
			snprintf(name, sizeof(name), "%s", path);
	}
	o->path = strdup(path);
	o->name = strdup(name);
	o->text = calloc(sn->nr_load ? sn->nr_load : 1, sizeof(*o->text));
	if (!o->path || !o->name || !o->text)
		goto oom;
	for (size_t i = 0; i < sn->nr_load; i++) {
		const ElfW(Phdr) *ph = &sn->load[i];

		if (!(ph->p_flags & PF_X))
			continue;
		o->text[o->nr_text++] = (struct sites_text){
			.start = o->bias + ph->p_vaddr,
			.end = o->bias + ph->p_vaddr + ph->p_memsz,
			.prot = ph->p_flags,
		};
	}

	if (!*path) {
		o->err = -ENOENT;	/* e.g. the vdso: no file */
		return o;
	}
	src = (struct sites_source){ .path = path, .bias = sn->addr,
				     .phdr = sn->phdr, .phnum = sn->phnum };
	o->err = sites_read_elf(&src, &o->es);
	o->source = src.source;
	if (o->err == -ENOMEM)
		goto oom;
	if (!o->err && !same_segments(o->es, sn))
		o->err = -ESTALE;
	if (o->err) {
		elf_sites__free(o->es);
		o->es = NULL;
		return o;
	}
	if (object_sites(o) == -ENOMEM)
		goto oom;
	return o;
oom:
	object_free(o);
	return NULL;
}

/* ----------------------------------------------------------------------
 * The index
 */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int site_addr_cmp(const void *a, const void *b)
{
	const struct ftramp_site *x = *(const struct ftramp_site *const *)a;
	const struct ftramp_site *y = *(const struct ftramp_site *const *)b;

	return x->func < y->func ? -1 : x->func > y->func;
}

static void index_free(struct sites_index *idx)
{
	if (!idx)
		return;
	free(idx->by_addr);
	free(idx->hash);
	free(idx);
}

static struct sites_index *index_build(struct sites_object *objects)
{
	struct sites_index *idx = calloc(1, sizeof(*idx));
	size_t n = 0, cap = 16;

	if (!idx)
		return NULL;
	for (struct sites_object *o = objects; o; o = o->next)
		n += o->nr_sites;
	while (cap < 2 * n)
		cap *= 2;
	idx->by_addr = malloc((n ? n : 1) * sizeof(*idx->by_addr));
	idx->hash = calloc(cap, sizeof(*idx->hash));
	if (!idx->by_addr || !idx->hash) {
		index_free(idx);
		return NULL;
	}
	idx->mask = cap - 1;
	for (struct sites_object *o = objects; o; o = o->next) {
		for (size_t i = 0; i < o->nr_sites; i++) {
			struct ftramp_site *s = &o->sites[i];
			size_t h = name_hash(s->name) & idx->mask;

			idx->by_addr[idx->nr++] = s;
			/*
			 * Names are unique (per-object names and unique
			 * object names); should two collide anyway, the
			 * first object wins by name, both stay by address.
			 */
			while (idx->hash[h] && strcmp(idx->hash[h]->name, s->name))
				h = (h + 1) & idx->mask;
			if (!idx->hash[h])
				idx->hash[h] = s;
		}
	}
	qsort(idx->by_addr, idx->nr, sizeof(*idx->by_addr), site_addr_cmp);
	return idx;
}

static struct ftramp_site *index_name(const struct sites_index *idx,
				      const char *name)
{
	size_t h = name_hash(name) & idx->mask;

	for (; idx->hash[h]; h = (h + 1) & idx->mask)
		if (!strcmp(idx->hash[h]->name, name))
			return idx->hash[h];
	return NULL;
}

/* The last site whose literal slot starts at or below @addr. */
static size_t index_floor(const struct sites_index *idx, uint64_t addr)
{
	size_t lo = 0, hi = idx->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sites_literal(idx->by_addr[mid]) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;	/* 0: none; else lo - 1 is the site */
}

/* ----------------------------------------------------------------------
 * Scanning
 */

static void notify(struct ftramp_sites *t, struct sites_object *o,
		   bool added)
{
	for (struct sites_listener *l = t->listeners; l; l = l->next) {
		if (added && l->added)
			l->added(t, o, l->ctx);
		else if (!added && l->removed)
			l->removed(t, o, l->ctx);
	}
}

/*
 * Another object can be mapped where an unloaded one was (same bias, same
 * phdr address), so the loader's name is part of the identity.  The same
 * file unloaded and loaded again between two scans looks unchanged: the
 * hook rescans after every dlclose(), and objects with patched sites are
 * pinned (sites_object_pin()), so that cannot happen to a patched one.
 */
static bool same_object(const struct sites_object *o, const struct snap *sn)
{
	return o->bias == sn->addr && o->phdr == sn->phdr &&
	       !strcmp(o->dl_name, sn->name);
}

/* Called with scan_lock held. */
static int scan(struct ftramp_sites *t)
{
	struct snapshot snap = { 0 };
	struct sites_object *kept = NULL, **tail = &kept;
	struct sites_object *gone;
	struct sites_index *idx, *old;
	struct sites_object *o, *next;
	int err = 0;

	ftramp_dl_iterate_phdr(snap_cb, &snap);
	if (snap.err) {
		snapshot_free(&snap);
		return snap.err;
	}

	for (o = t->objects; o; o = o->next)
		o->seen = false;
	/* Keep the objects still loaded, in the loader's order. */
	for (size_t i = 0; i < snap.nr; i++) {
		struct sites_object **pp;

		for (pp = &t->objects; *pp; pp = &(*pp)->next)
			if (same_object(*pp, &snap.v[i]))
				break;
		if (*pp) {
			o = *pp;
			*pp = o->next;
			o->next = NULL;
			o->seen = true;
			*tail = o;
			tail = &o->next;
		}
	}
	gone = t->objects;	/* what is left was unloaded */
	t->objects = NULL;

	for (size_t i = 0; i < snap.nr; i++) {
		bool known = false;

		for (o = kept; o && !known; o = o->next)
			known = same_object(o, &snap.v[i]);
		if (known)
			continue;
		o = object_load(&snap.v[i], i == 0, kept);
		if (!o) {
			err = -ENOMEM;
			break;
		}
		*tail = o;
		tail = &o->next;
	}

	idx = err ? NULL : index_build(kept);
	if (!idx) {
		/* Leave the table as it was; new objects are dropped. */
		for (o = kept; o; o = next) {
			next = o->next;
			if (o->seen) {
				o->next = t->objects;
				t->objects = o;
			} else {
				object_free(o);
			}
		}
		for (o = gone; o; o = next) {
			next = o->next;
			o->next = t->objects;
			t->objects = o;
		}
		snapshot_free(&snap);
		return err ? err : -ENOMEM;
	}

	pthread_rwlock_wrlock(&t->lock);
	old = t->idx;
	t->idx = idx;
	t->objects = kept;
	t->adds = snap.adds;
	t->subs = snap.subs;
	pthread_rwlock_unlock(&t->lock);
	index_free(old);
	snapshot_free(&snap);

	for (o = gone; o; o = next) {
		next = o->next;
		notify(t, o, false);
		object_free(o);
	}
	/* New objects are the ones not seen before this scan. */
	for (o = kept; o; o = o->next)
		if (!o->seen) {
			o->seen = true;
			__atomic_add_fetch(&t->added, 1, __ATOMIC_RELEASE);
			notify(t, o, true);
		}
	return 0;
}

int ftramp_sites__rescan(struct ftramp_sites *t)
{
	int err;

	if (!t)
		return -EINVAL;
	if (tls_scanning || tls_reading)
		return -EDEADLK;
	pthread_mutex_lock(&t->scan_lock);
	tls_scanning++;
	err = scan(t);
	tls_scanning--;
	pthread_mutex_unlock(&t->scan_lock);
	return err;
}

/* Rescan if the loader's counters moved since the last scan. */
static void refresh(struct ftramp_sites *t)
{
	unsigned long long g[2] = { 0, 0 }, seen[2];

	if (tls_scanning || tls_reading)
		return;
	ftramp_dl_iterate_phdr(gen_cb, g);
	pthread_rwlock_rdlock(&t->lock);
	seen[0] = t->adds;
	seen[1] = t->subs;
	pthread_rwlock_unlock(&t->lock);
	if (g[0] != seen[0] || g[1] != seen[1])
		ftramp_sites__rescan(t);
}

/* ----------------------------------------------------------------------
 * Public API
 */

static struct ftramp_sites *sites_new(void)
{
	struct ftramp_sites *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	pthread_mutex_init(&t->scan_lock, NULL);
	pthread_rwlock_init(&t->lock, NULL);
	ftramp_lockdep_set_class(&t->scan_lock, FTRAMP_LOCK_SITES_SCAN);
	ftramp_lockdep_set_class(&t->lock, FTRAMP_LOCK_SITES_INDEX);
	err = ftramp_sites__rescan(t);
	if (err) {
		ftramp_lockdep_set_class(&t->scan_lock, FTRAMP_LOCK_NONE);
		ftramp_lockdep_set_class(&t->lock, FTRAMP_LOCK_NONE);
		free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

FTRAMP_API struct ftramp_sites *ftramp_sites__get(void)
{
	struct ftramp_sites *t = __atomic_load_n(&g_sites, __ATOMIC_ACQUIRE);

	if (!t) {
		pthread_mutex_lock(&g_sites_lock);
		t = g_sites;
		if (!t) {
			t = sites_new();
			if (t)
				__atomic_store_n(&g_sites, t, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&g_sites_lock);
		return t;	/* errno set by sites_new() on failure */
	}
	refresh(t);
	return t;
}

FTRAMP_API size_t ftramp_sites__count(struct ftramp_sites *t)
{
	size_t n;

	if (!t)
		return 0;
	refresh(t);
	pthread_rwlock_rdlock(&t->lock);
	n = t->idx->nr;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

FTRAMP_API const struct ftramp_site *
ftramp_sites__find_name(struct ftramp_sites *t, const char *name)
{
	struct ftramp_site *s;

	if (!t || !name) {
		errno = EINVAL;
		return NULL;
	}
	refresh(t);
	pthread_rwlock_rdlock(&t->lock);
	s = index_name(t->idx, name);
	pthread_rwlock_unlock(&t->lock);
	if (!s)
		errno = ENOENT;
	return s;
}

static uint64_t site_end(const struct ftramp_site *s)
{
	uint64_t end = sites_body(s);

	return s->elf->size && s->func + s->elf->size > end ?
	       s->func + s->elf->size : end;
}

FTRAMP_API const struct ftramp_site *
ftramp_sites__find_addr(struct ftramp_sites *t, uint64_t addr)
{
	struct ftramp_site *s = NULL;
	size_t i;

	if (!t) {
		errno = EINVAL;
		return NULL;
	}
	refresh(t);
	pthread_rwlock_rdlock(&t->lock);
	i = index_floor(t->idx, addr);
	if (i && addr < site_end(t->idx->by_addr[i - 1]))
		s = t->idx->by_addr[i - 1];
	pthread_rwlock_unlock(&t->lock);
	if (!s)
		errno = ENOENT;
	return s;
}

struct ftramp_site *sites_lookup_ip(struct ftramp_sites *t, uint64_t ip)
{
	struct ftramp_site *s = NULL;
	size_t i;

	pthread_rwlock_rdlock(&t->lock);
	i = index_floor(t->idx, ip);
	if (i && (t->idx->by_addr[i - 1]->func == ip ||
		  t->idx->by_addr[i - 1]->patch == ip))
		s = t->idx->by_addr[i - 1];
	pthread_rwlock_unlock(&t->lock);
	return s;
}

static bool is_glob(const char *p)
{
	return strpbrk(p, "*?[\\") != NULL;
}

FTRAMP_API int ftramp_sites__find(struct ftramp_sites *t, const char *glob,
				  ftramp_site_cb cb, void *ctx)
{
	int n = 0, ret = 0;

	if (!t || !glob || !cb)
		return -EINVAL;
	if (!is_glob(glob)) {
		const struct ftramp_site *s = ftramp_sites__find_name(t, glob);

		if (!s)
			return 0;
		tls_reading++;
		ret = cb(s, ctx);
		tls_reading--;
		return ret < 0 ? ret : 1;
	}
	refresh(t);
	pthread_rwlock_rdlock(&t->lock);
	tls_reading++;
	for (size_t i = 0; i < t->idx->nr; i++) {
		const struct ftramp_site *s = t->idx->by_addr[i];

		if (fnmatch(glob, s->name, 0))
			continue;
		n++;
		ret = cb(s, ctx);
		if (ret)
			break;
	}
	tls_reading--;
	pthread_rwlock_unlock(&t->lock);
	return ret < 0 ? ret : n;
}

FTRAMP_API int ftramp_site__info(const struct ftramp_site *s,
				 struct ftramp_site_info *info)
{
	struct ftramp_site_info full;

	if (!s || ftramp_opts_out_check(info, offsetof(struct ftramp_site_info,
						       name) + sizeof(info->name)))
		return -EINVAL;
	full = (struct ftramp_site_info){
		.name = s->name,
		.symbol = s->elf->symbol,
		.object = s->obj->path,
		.object_name = s->obj->name,
		.func = s->func,
		.size = s->elf->size,
		.literal = sites_literal(s),
		.patch = s->patch,
		.load_bias = s->obj->bias,
		.text_start = s->text ? s->text->start : 0,
		.text_end = s->text ? s->text->end : 0,
		.flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED),
		.status = s->status,
		.reason = ftramp_site_status__str(s->status),
	};
	/* A caller built against an older, smaller struct gets its part. */
	FTRAMP_OPTS_OUT(info, full);
	return 0;
}

/* ----------------------------------------------------------------------
 * For the layers above
 */

void sites_set_owner(struct ftramp_site *site, void *owner)
{
	site->owner = owner;
	if (owner)
		__atomic_or_fetch(&site->flags, FTRAMP_SITE_F_OWNED,
				  __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&site->flags, ~FTRAMP_SITE_F_OWNED,
				   __ATOMIC_RELAXED);
}

void sites_listen(struct ftramp_sites *t, struct sites_listener *l)
{
	pthread_mutex_lock(&t->scan_lock);
	l->next = t->listeners;
	t->listeners = l;
	pthread_mutex_unlock(&t->scan_lock);
}

void sites_unlisten(struct ftramp_sites *t, struct sites_listener *l)
{
	pthread_mutex_lock(&t->scan_lock);
	for (struct sites_listener **pp = &t->listeners; *pp;
	     pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	pthread_mutex_unlock(&t->scan_lock);
}

int sites_for_each_object(struct ftramp_sites *t,
			  int (*fn)(struct sites_object *obj, void *ctx),
			  void *ctx)
{
	int ret = 0;

	pthread_mutex_lock(&t->scan_lock);
	tls_scanning++;
	for (struct sites_object *o = t->objects; o && !ret; o = o->next)
		ret = fn(o, ctx);
	tls_scanning--;
	pthread_mutex_unlock(&t->scan_lock);
	return ret;
}

/* ----------------------------------------------------------------------
 * dlopen()/dlclose() interposition (see the top of the file)
 */

typedef void *(*dlopen_fn)(const char *, int);
typedef int (*dlclose_fn)(void *);

static dlopen_fn real_dlopen(void)
{
	static dlopen_fn fn;
	dlopen_fn f = __atomic_load_n(&fn, __ATOMIC_RELAXED);

	if (!f) {
		f = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
		__atomic_store_n(&fn, f, __ATOMIC_RELAXED);
	}
	return f;
}

static dlclose_fn real_dlclose(void)
{
	static dlclose_fn fn;
	dlclose_fn f = __atomic_load_n(&fn, __ATOMIC_RELAXED);

	if (!f) {
		f = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
		__atomic_store_n(&fn, f, __ATOMIC_RELAXED);
	}
	return f;
}

static unsigned long added_gen(void)
{
	struct ftramp_sites *t = __atomic_load_n(&g_sites, __ATOMIC_ACQUIRE);

	return t ? __atomic_load_n(&t->added, __ATOMIC_ACQUIRE) : 0;
}

/* Listeners' settled() calls, copied out of the list under scan_lock. */
#define SETTLED_MAX	8

/* Each listener's settled() (or closing()), with no lock held. */
static void tell(struct ftramp_sites *t, bool closing)
{
	struct sites_listener call[SETTLED_MAX];
	size_t n = 0;

	pthread_mutex_lock(&t->scan_lock);
	for (struct sites_listener *l = t->listeners;
	     l && n < SETTLED_MAX; l = l->next)
		if (closing ? l->closing != NULL : l->settled != NULL)
			call[n++] = *l;
	pthread_mutex_unlock(&t->scan_lock);
	for (size_t i = 0; i < n; i++) {
		if (closing)
			call[i].closing(t, call[i].ctx);
		else
			call[i].settled(t, call[i].ctx);
	}
}

/* @gen: added_gen() before the loader ran. */
static void after_dl(unsigned long gen)
{
	struct ftramp_sites *t = __atomic_load_n(&g_sites, __ATOMIC_ACQUIRE);

	if (!t || tls_scanning || tls_reading)
		return;
	refresh(t);	/* no-op unless an object came or went */
	if (__atomic_load_n(&t->added, __ATOMIC_ACQUIRE) != gen)
		tell(t, false);
}

static void before_dlclose(void)
{
	struct ftramp_sites *t = __atomic_load_n(&g_sites, __ATOMIC_ACQUIRE);

	if (t && !tls_scanning && !tls_reading)
		tell(t, true);
}

__attribute__((visibility("default"))) void *dlopen(const char *file, int mode)
{
	dlopen_fn real = real_dlopen();
	unsigned long gen = added_gen();
	void *h;

	if (!real)
		return NULL;
	h = real(file, mode);
	after_dl(gen);
	return h;
}

__attribute__((visibility("default"))) int dlclose(void *handle)
{
	dlclose_fn real = real_dlclose();
	int ret;

	if (!real)
		return -1;
	before_dlclose();
	ret = real(handle);
	after_dl(added_gen());	/* removals only: no settled() */
	return ret;
}

int sites_object_pin(struct sites_object *obj)
{
	dlopen_fn real = real_dlopen();

	if (!*obj->name)
		return -EINVAL;
	if (obj->pin)
		return 0;
	obj->pin = real ? real(obj->path, RTLD_LAZY | RTLD_NOLOAD) : NULL;
	return obj->pin ? 0 : -ENOENT;
}

void sites_object_unpin(struct sites_object *obj)
{
	dlclose_fn real = real_dlclose();

	if (obj->pin && real)
		real(obj->pin);
	obj->pin = NULL;
}

/*
 * fork(): g_sites_lock, then the table's scan_lock and its index (write):
 * the order of sites_get() and of a rescan (ftrace/fork.c).
 */
void sites_atfork(int stage)
{
	struct ftramp_sites *t;

	if (stage == 0) {
		pthread_mutex_lock(&g_sites_lock);
		t = g_sites;
		if (t) {
			pthread_mutex_lock(&t->scan_lock);
			pthread_rwlock_wrlock(&t->lock);
		}
		return;
	}
	t = g_sites;
	if (t && stage == 2) {
		/*
		 * glibc's rwlock knows its writer by tid, and the child's
		 * thread has a new one: an unlock there would take the
		 * reader's path.  Alone in the child: start it afresh.
		 */
		pthread_rwlock_init(&t->lock, NULL);
		pthread_mutex_unlock(&t->scan_lock);
	} else if (t) {
		pthread_rwlock_unlock(&t->lock);
		pthread_mutex_unlock(&t->scan_lock);
	}
	pthread_mutex_unlock(&g_sites_lock);
}
