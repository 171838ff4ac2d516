// SPDX-License-Identifier: MIT
/*
 * Which sites a GLOB selects (libsel.h): FUNC@LIB names the library by
 * any of its names, and -N/--notrace GLOB takes functions out of every
 * selection.
 *
 * Site names carry the library's report name only (libz.so); its other
 * names come from the process: the soname from the object's dynamic
 * section as loaded, the path from the site table, and that path with its
 * links resolved.  They are kept per object for the agent's life (an
 * unloaded object's entry is only never asked again).  Called at start-up
 * and under agent.c's later_lock: one thread at a time.
 */
#include <elf.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent_env.h"
#include "agent.h"
#include "libsel.h"

struct objnames {
	char *path;		/* the site table's (ftramp_site_info.object) */
	char *soname;
	char *real;
};

static struct objnames *objs;
static unsigned int nr_objs;

struct soname_ctx {
	const char *path;
	char *soname;
};

/* DT_SONAME of the loaded object named @c->path, from its dynamic section. */
static int soname_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct soname_ctx *c = data;
	const ElfW(Dyn) *dyn = NULL, *d;
	uintptr_t strtab = 0, soname = 0;
	bool has_soname = false;

	(void)size;
	if (!info->dlpi_name || strcmp(info->dlpi_name, c->path))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
						  info->dlpi_phdr[i].p_vaddr);
	for (d = dyn; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_STRTAB)
			strtab = d->d_un.d_ptr;
		else if (d->d_tag == DT_SONAME) {
			soname = d->d_un.d_val;
			has_soname = true;
		}
	}
	if (!strtab || !has_soname)
		return 1;
	/* glibc relocates the dynamic section's addresses in place; some loaders do not */
	if (strtab < info->dlpi_addr)
		strtab += info->dlpi_addr;
	c->soname = strdup((const char *)strtab + soname);
	return 1;
}

static const struct objnames *obj_names(const char *path)
{
	struct soname_ctx c = { .path = path };
	struct objnames *o;
	unsigned int i;

	for (i = 0; i < nr_objs; i++)
		if (!strcmp(objs[i].path, path))
			return &objs[i];
	o = realloc(objs, (nr_objs + 1) * sizeof(*o));
	if (!o)
		return NULL;
	objs = o;
	o = &objs[nr_objs];
	*o = (struct objnames){ .path = strdup(path) };
	if (!o->path)
		return NULL;
	dl_iterate_phdr(soname_cb, &c);
	o->soname = c.soname;
	o->real = realpath(path, NULL);
	nr_objs++;
	return o;
}

int select_init(struct asel *s, const char *glob)
{
	char func[PATH_MAX];
	const char *lib;

	memset(s, 0, sizeof(*s));
	if (libsel_split(glob, func, sizeof(func), &lib))
		return -EINVAL;
	s->glob = strdup(glob);
	if (!s->glob)
		return -ENOMEM;
	if (!lib) {
		s->find = s->glob;
		return 0;
	}
	s->lib = s->glob + (lib - glob);
	s->func = strdup(func);
	if (!s->func || asprintf(&s->find, "%s@*", func) < 0)
		return -ENOMEM;
	return 0;
}

bool select_match(const struct asel *s, const struct ftramp_site_info *info)
{
	const struct objnames *o;
	struct libsel_names n;
	const char *at;
	char func[PATH_MAX];

	if (!s->lib)
		return !fnmatch(s->glob, info->name, 0);
	/* the name in its object: the site name before "@object_name" */
	at = *info->object_name ? strrchr(info->name, '@') : NULL;
	if (!at || (size_t)(at - info->name) >= sizeof(func))
		return false;
	memcpy(func, info->name, at - info->name);
	func[at - info->name] = 0;
	if (fnmatch(s->func, func, 0))
		return false;
	o = obj_names(info->object);
	n = (struct libsel_names){
		.report = info->object_name,
		.soname = o ? o->soname : NULL,
		.path = info->object,
		.real = o ? o->real : NULL,
	};
	return libsel_match(s->lib, &n);
}

/* -N/--notrace */
static struct asel *notrace;
static unsigned int nr_notrace;

int select_notrace_init(void)
{
	const char *text = getenv(FTRAMP_ENV_NOTRACE);
	char *list, *item, *save;
	int err = 0;

	if (!text || !*text)
		return 0;
	list = strdup(text);
	if (!list)
		return -ENOMEM;
	for (item = strtok_r(list, ",", &save); item && !err;
	     item = strtok_r(NULL, ",", &save)) {
		struct asel *n = realloc(notrace, (nr_notrace + 1) * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			break;
		}
		notrace = n;
		err = select_init(&notrace[nr_notrace], item);
		if (!err)
			nr_notrace++;
	}
	free(list);
	return err;
}

bool select_excluded(const struct ftramp_site_info *info)
{
	for (unsigned int i = 0; i < nr_notrace; i++)
		if (select_match(&notrace[i], info))
			return true;
	return false;
}
