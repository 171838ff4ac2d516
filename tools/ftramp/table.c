// SPDX-License-Identifier: MIT
/*
 * ftramp run: the site-and-model table of the program and the libraries
 * it will load (ftrace/site_table.h), built here, natively, before the
 * program starts, so that the agent in the traced process reads no ELF
 * and no DWARF of its own (Documentation/design.rst, "Two processes").
 *
 * The files are found the way the loader will find them (glibc,
 * elf/dl-load.c, _dl_map_object()): the executable, then its DT_NEEDED
 * libraries breadth first (the loader's load order), each name searched
 * in the requesting object's DT_RPATH (when it has no DT_RUNPATH),
 * LD_LIBRARY_PATH, the requesting object's DT_RUNPATH, then, unless that
 * object has DF_1_NODEFLIB, the loader's cache (ldcache.c) and the
 * default directories; on a non-arm64 host every absolute path, the
 * cache's own included, is looked up under the sysroot first, as
 * `qemu-aarch64 -L` does.  A library the table misses (found
 * differently, or dlopen()ed later) is asked of this process by the
 * agent, or read by the agent itself, symbols only.
 *
 * The sites and models come from the existing readers: elf_sites.c and
 * ftrace/dwarf.c (which applies the clone rule), each object's DWARF
 * read once for all its functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftrace/ftrace.h"
#include "ftrace/site_table.h"
#include "cli.h"
#include "lib/util.h"

#define TABLE_MAX_OBJECTS	512

struct tobj {
	char *path;		/* host path read */
	uint8_t build_id[STAB_BUILD_ID_MAX];
	size_t build_id_len;
	char *needed[64];
	size_t nr_needed;
	char *rpath, *runpath;	/* $ORIGIN expanded */
	uint64_t flags_1;	/* DT_FLAGS_1 */
	struct elf_sites *es;
	struct stab_model_in *models;
};

struct table_ctx {
	struct tobj obj[TABLE_MAX_OBJECTS];
	size_t nr;
	const char *sysroot;	/* NULL on arm64 hosts */
	const char *lib_path;	/* LD_LIBRARY_PATH */
	void *cache;		/* /etc/ld.so.cache, or NULL */
	size_t cache_size;
	bool models;
};

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Where the loader (under qemu -L, the sysroot first) finds @path. */
static char *host_path(const struct table_ctx *c, const char *path)
{
	char *p;

	if (c->sysroot && path[0] == '/') {
		if (asprintf(&p, "%s%s", c->sysroot, path) >= 0) {
			if (readable(p))
				return p;
			free(p);
		}
	}
	return readable(path) ? realpath(path, NULL) : NULL;
}

static char *expand_origin(const char *list, const char *origin)
{
	size_t cap = strlen(list) * (strlen(origin) + 1) + 1, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (const char *p = list; *p;) {
		size_t skip = !strncmp(p, "$ORIGIN", 7) ? 7 :
			      !strncmp(p, "${ORIGIN}", 9) ? 9 : 0;

		if (skip) {
			n += sprintf(out + n, "%s", origin);
			p += skip;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = 0;
	return out;
}

/* @name in the ':'-separated directories of @dirs. */
static char *search_dirs(const struct table_ctx *c, const char *dirs,
			 const char *name)
{
	char *copy, *dir, *save, *found = NULL;

	if (!dirs || !*dirs)
		return NULL;
	copy = strdup(dirs);
	for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p;

		if (asprintf(&p, "%s/%s", dir, name) < 0)
			break;
		found = host_path(c, p);
		free(p);
	}
	free(copy);
	return found;
}

static char *find_lib(const struct table_ctx *c, const struct tobj *from,
		      const char *name)
{
	/* the loader's system directories (ld.so's own list, in order) */
	static const char *const defaults =
		"/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:/lib:/usr/lib";
	char *p;

	if (strchr(name, '/'))
		return host_path(c, name);
	if (!from->runpath && (p = search_dirs(c, from->rpath, name)))
		return p;
	if ((p = search_dirs(c, c->lib_path, name)) ||
	    (p = search_dirs(c, from->runpath, name)))
		return p;
	if (from->flags_1 & DF_1_NODEFLIB)
		return NULL;
	p = ldcache_lookup(c->cache, c->cache_size, LDCACHE_AARCH64, name);
	if (p) {
		char *found = host_path(c, p);

		free(p);
		if (found)
			return found;
	}
	return search_dirs(c, defaults, name);
}

/* The loader's cache, as the loader will read it (under the sysroot). */
static void read_cache(struct table_ctx *c)
{
	char *path = host_path(c, "/etc/ld.so.cache");
	struct stat st;
	void *p;
	int fd;

	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && st.st_size > 0) {
		p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			c->cache = p;
			c->cache_size = st.st_size;
		}
	}
	close(fd);
}

char *cli_find_library(const char *name, const char *sysroot)
{
	struct table_ctx *c = calloc(1, sizeof(*c));
	struct tobj none = { 0 };
	char *p = NULL;

	if (c && !strchr(name, '/')) {
		c->sysroot = sysroot;
		c->lib_path = getenv("LD_LIBRARY_PATH");
		read_cache(c);
		p = find_lib(c, &none, name);
		if (c->cache)
			munmap(c->cache, c->cache_size);
	}
	free(c);
	return p;
}

/* The build-id note and the dynamic section's names, by libelf. */
static int read_dynamic(struct tobj *o)
{
	char *origin = strdup(o->path), *slash;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	int fd, err = 0;

	if (!origin)
		return -ENOMEM;
	slash = strrchr(origin, '/');
	if (slash)
		*slash = 0;
	fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(origin);
		return -errno;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		err = -EBADMSG;
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(d = elf_getdata(scn, NULL)))
			continue;
		if (sh.sh_type == SHT_NOTE) {
			GElf_Nhdr nh;
			size_t off = 0, name_off, desc_off;

			while ((off = gelf_getnote(d, off, &nh, &name_off,
						   &desc_off)) > 0) {
				if (nh.n_type == NT_GNU_BUILD_ID &&
				    nh.n_namesz == 4 && nh.n_descsz &&
				    nh.n_descsz <= STAB_BUILD_ID_MAX &&
				    !memcmp((char *)d->d_buf + name_off,
					    "GNU", 4)) {
					memcpy(o->build_id,
					       (char *)d->d_buf + desc_off,
					       nh.n_descsz);
					o->build_id_len = nh.n_descsz;
				}
			}
		}
		if (sh.sh_type != SHT_DYNAMIC)
			continue;
		for (size_t i = 0; sh.sh_entsize &&
		     i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(d, i, &dyn))
				break;
			if (dyn.d_tag == DT_FLAGS_1)
				o->flags_1 = dyn.d_un.d_val;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH &&
			    dyn.d_tag != DT_RUNPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED &&
			    o->nr_needed < ARRAY_SIZE(o->needed))
				o->needed[o->nr_needed++] = strdup(s);
			else if (dyn.d_tag == DT_RPATH && !o->rpath)
				o->rpath = expand_origin(s, origin);
			else if (dyn.d_tag == DT_RUNPATH && !o->runpath)
				o->runpath = expand_origin(s, origin);
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	free(origin);
	return err;
}

static bool known(const struct table_ctx *c, const char *path)
{
	for (size_t i = 0; i < c->nr; i++)
		if (!strcmp(c->obj[i].path, path))
			return true;
	return false;
}

/*
 * The sites, and (when the run reads arguments) each usable one's model:
 * the object's DWARF opened once for all of them (ftrace_dwarf_open()).
 */
static int read_sites(const struct table_ctx *c, struct tobj *o)
{
	struct ftrace_dwarf *dw = NULL;
	int err = elf_sites__read_path(o->path, &o->es), dw_err;

	if (err || !c->models || !o->es->nr_sites)
		return err;
	o->models = calloc(o->es->nr_sites, sizeof(*o->models));
	if (!o->models)
		return -ENOMEM;
	dw_err = ftrace_dwarf_open(o->path, &dw);
	if (dw_err == -ENOMEM)
		return dw_err;
	for (size_t i = 0; i < o->es->nr_sites; i++) {
		const struct elf_site *s = &o->es->sites[i];
		struct stab_model_in *m = &o->models[i];

		if (s->status != FTRAMP_SITE_OK)
			m->err = -ENODATA;
		else if (dw_err)
			m->err = dw_err;
		else
			m->err = ftrace_dwarf_lookup(dw, s->func, s->symbol,
						     &m->model, m->names);
	}
	ftrace_dwarf_close(dw);
	return 0;
}

static void tobj_free(struct tobj *o)
{
	for (size_t i = 0; i < o->nr_needed; i++)
		free(o->needed[i]);
	free(o->rpath);
	free(o->runpath);
	free(o->path);
	elf_sites__free(o->es);
	free(o->models);
}

static int table_build(struct table_ctx *c, const char *exe, void **buf,
		       size_t *size)
{
	struct stab_module_in *in;
	size_t i, n = 0;
	int err = 0;

	c->obj[0].path = host_path(c, exe);
	if (!c->obj[0].path)
		return -ENOENT;
	c->nr = 1;
	/* breadth first: the loader's order */
	for (i = 0; i < c->nr; i++) {
		struct tobj *o = &c->obj[i];

		if (read_dynamic(o))
			continue;
		for (size_t k = 0; k < o->nr_needed && c->nr < TABLE_MAX_OBJECTS;
		     k++) {
			char *p = o->needed[k] ? find_lib(c, o, o->needed[k]) :
						 NULL;

			if (!p || known(c, p)) {
				free(p);
				continue;
			}
			c->obj[c->nr++].path = p;
		}
	}
	in = calloc(c->nr, sizeof(*in));
	if (!in)
		return -ENOMEM;
	for (i = 0; i < c->nr; i++) {
		struct tobj *o = &c->obj[i];

		err = read_sites(c, o);
		if (err == -ENOMEM)
			break;
		if (err) {	/* not ours to judge: the agent says why */
			err = 0;
			continue;
		}
		in[n++] = (struct stab_module_in){
			.build_id = o->build_id,
			.build_id_len = o->build_id_len,
			.path = o->path, .es = o->es, .models = o->models,
		};
	}
	if (!err)
		err = stab_write(in, n, buf, size);
	free(in);
	return err;
}

int cli_table_build(const char *exe, const char *sysroot,
		    const char *lib_path, bool models, void **buf, size_t *size)
{
	struct table_ctx *c = calloc(1, sizeof(*c));
	int err;

	*buf = NULL;
	*size = 0;
	if (!c)
		return -ENOMEM;
	c->sysroot = sysroot;
	c->lib_path = lib_path;
	c->models = models;
	read_cache(c);
	err = table_build(c, exe, buf, size);
	if (c->cache)
		munmap(c->cache, c->cache_size);
	for (size_t i = 0; i < c->nr; i++)
		tobj_free(&c->obj[i]);
	free(c);
	return err;
}
