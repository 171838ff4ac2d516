// SPDX-License-Identifier: MIT
/*
 * The agent's side of the site-and-model table (ftrace/site_table.h):
 * the ftramp process read the program's files before it started and put
 * their sites and DWARF models in the session file; the agent maps them
 * read-only and reads no ELF or DWARF of its own for the objects the
 * table covers (Documentation/design.rst, "Two processes").
 *
 * An object is matched by the build-id of its loaded image (the
 * PT_NOTE segments the loader mapped), so a library the loader found
 * elsewhere than the table's search did is not mistaken for it.  For an
 * object the table does not cover (a library dlopen()ed later, or found
 * differently) the agent asks the ftramp process, through its session
 * slot, for that file's table, and waits a bounded time
 * (slot_table_request()).  With no answer it reads the file here with
 * elf_sites.c, which needs no ELF library: its sites and symbols, no
 * models (fentry and count need none; fexit gets the unknown model's
 * return hook), and says so.
 *
 * This file's sites_read_elf() and ftrace_dwarf_model() replace the
 * library's (ftrace/sites_read.c, ftrace/dwarf.c) at link time, so the
 * agent links neither libelf nor libdw (nor, through them, libz).
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ftrace/ftrace.h"
#include "ftrace/site_table.h"
#include "ftrace/sites.h"
#include "agent.h"

/*
 * tables[0]: the table of the start; then one per object loaded later
 * that the ftramp process answered for.  They stay mapped: the objects'
 * sites point into them.  Each object read from a table remembers which
 * (sources[], its sites_object's source).
 */
#define TABLES_MAX	256
#define SOURCES_MAX	4096

struct tsource {
	const struct stab *t;
	const struct stab_module *m;
	char *path;		/* the object's, for ftrace_dwarf_model() */
};

static struct stab tables[TABLES_MAX];
static unsigned int nr_tables;
static struct tsource sources[SOURCES_MAX];
static unsigned int nr_sources;

static int map_one(int fd, uint64_t off, uint64_t size)
{
	void *p;
	int err;

	if (nr_tables == TABLES_MAX)
		return -ENOSPC;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		return -errno;
	err = stab_parse(p, size, &tables[nr_tables]);
	if (err) {
		munmap(p, size);
		return err;
	}
	nr_tables++;
	return 0;
}

int table_map(int fd, uint64_t off, uint64_t size)
{
	return size ? map_one(fd, off, size) : 0;
}

static const struct stab_module *find(const struct stab **t,
				      const uint8_t *id, size_t len,
				      const char *path)
{
	for (unsigned int i = 0; i < nr_tables; i++) {
		const struct stab_module *m = stab_find(&tables[i], id, len,
							path);

		if (m) {
			*t = &tables[i];
			return m;
		}
	}
	return NULL;
}

/* The build-id of a loaded object, from its mapped notes. */
static size_t loaded_build_id(const struct sites_source *src,
			      const uint8_t **id)
{
	const ElfW(Phdr) *ph = src->phdr;

	for (size_t i = 0; ph && i < src->phnum; i++) {
		size_t len;

		if (ph[i].p_type != PT_NOTE)
			continue;
		len = stab_note_build_id((const void *)(uintptr_t)
					 (src->bias + ph[i].p_vaddr),
					 ph[i].p_memsz, ph[i].p_align, id);
		if (len)
			return len;
	}
	return 0;
}

/*
 * A library the table lacks and the ftramp process did not answer for
 * (@err): its sites and symbols read here, with no models.  Said once
 * per such library, when it has sites: -t then shows no arguments.
 */
static int read_symbols_only(struct sites_source *src, int err,
			     struct elf_sites **out)
{
	char why[128];
	int ret = elf_sites__read_path(src->path, out);

	if (!ret && err && (*out)->nr_sites) {
		ftramp_strerror(err, why, sizeof(why));
		agent_say("%s: no site-and-model table from the ftramp process (%s): symbols only, no argument models",
			  src->path, why);
	}
	return ret;
}

int sites_read_elf(struct sites_source *src, struct elf_sites **out)
{
	const struct stab_module *m;
	const struct stab *t = NULL;
	const uint8_t *id = NULL;
	size_t len = loaded_build_id(src, &id);
	uint64_t off, size;
	int fd, err = 0;

	m = find(&t, id, len, src->path);
	if (!m && nr_tables) {
		/* loaded later: ask the ftramp process (bounded wait) */
		fd = slot_table_request(src->path, &off, &size);
		err = fd < 0 ? fd : 0;
		if (fd >= 0) {
			err = map_one(fd, off, size);
			if (!err)
				m = stab_find(&tables[nr_tables - 1], id, len,
					      src->path);
			t = &tables[nr_tables - 1];
			close(fd);
			if (!err && !m)
				err = -ENOENT;
		}
	}
	if (m && nr_sources < SOURCES_MAX) {
		sources[nr_sources] = (struct tsource){ .t = t, .m = m,
						.path = strdup(src->path) };
		src->source = &sources[nr_sources++];
		return stab_elf_sites(t, m, out);
	}
	return read_symbols_only(src, err, out);
}

int table_model(const struct ftramp_site *site,
		struct ftramp_func_model *model,
		char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	const struct tsource *ts = site->obj->source;

	if (!ts)
		return -ENOENT;
	return stab_model(ts->t, ts->m, site->func - site->obj->bias, model,
			  names);
}

/*
 * The library's DWARF reader (ftrace/dwarf.c, libdw), replaced at link
 * time like sites_read_elf(): the model from the table.  The agent's own
 * programs take theirs through read_model() in agent.c and attach with
 * no_dwarf; the -e objects' (bpf.c) are attached by the library, which
 * asks here.  An object the table does not cover has none (-ENODATA):
 * the unknown model.
 */
int ftrace_dwarf_model(const char *object, uint64_t file_addr,
		       const char *symbol, struct ftramp_func_model *m,
		       char (*names)[FTRAMP_PARAM_NAME_MAX])
{
	(void)symbol;
	for (unsigned int i = 0; object && i < nr_sources; i++)
		if (sources[i].path && !strcmp(sources[i].path, object))
			return stab_model(sources[i].t, sources[i].m, file_addr,
					  m, names);
	return -ENODATA;
}
