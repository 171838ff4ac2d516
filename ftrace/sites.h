/* SPDX-License-Identifier: MIT */
/*
 * The site table, for the layers inside ftramp (Documentation/sites.rst).
 *
 * struct ftramp_site and struct sites_object are open here so the ftrace
 * layer reads them without calls.  Lifetime: an object and its sites live
 * from the rescan that finds it until the rescan that sees it unloaded;
 * listeners hear of both (sites_listen()).  Fields are written once when
 * the object is loaded, except ->owner (the ftrace layer's, under its own
 * lock) and FTRAMP_SITE_F_OWNED in ->flags (set with the owner).
 */
#ifndef FTRAMP_FTRACE_SITES_H
#define FTRAMP_FTRACE_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

#include "ftrace/elf_sites.h"

struct sites_text {		/* an executable segment, run-time addresses */
	uint64_t start, end;	/* [start, end) */
	uint32_t prot;		/* PF_R | PF_X ... from the program header */
};

struct sites_object {
	const char *path;	/* the ELF file read (DWARF comes from here) */
	const char *name;	/* "" for the executable, "libx.so", or the
				 * path when another object has that name */
	uint64_t bias;		/* dlpi_addr: run-time minus file address */
	struct sites_text *text;
	size_t nr_text;
	struct ftramp_site *sites;	/* sorted by func */
	size_t nr_sites;
	int err;		/* 0, or why the object has no sites:
				 * -ENOENT no file (vdso), -ESTALE the file
				 * changed since it was loaded, or the
				 * errors of elf_sites__read_fd() */
	const void *source;	/* what sites_read_elf() said about it */
	/* private to sites.c */
	struct elf_sites *es;
	const void *phdr;	/* dlpi_phdr, dlpi_name: identity across */
	char *dl_name;		/* rescans */
	void *pin;		/* dlopen() handle while pinned */
	bool seen;
	struct sites_object *next;
};

struct ftramp_site {
	const char *name;	/* full name: "sym", "sym@libx.so" */
	const struct elf_site *elf;	/* symbol, file, size from the file */
	struct sites_object *obj;
	uint64_t func;		/* run-time address of the symbol */
	uint64_t patch;		/* first entry NOP: func, func + 4 (BTI) */
	const struct sites_text *text;	/* segment holding it (NULL if none) */
	uint32_t flags;		/* enum ftramp_site_flags */
	int status;		/* file verdict, then the live bytes' */
	void *owner;		/* the ftrace layer's per-site state */
};

/*
 * The words of a site (the states they go through: the table at the top
 * of ftrace/commit.c):
 *
 *	sites_literal()	lit	8 bytes, the call record ftrace_caller loads
 *	sites_mov_ip()	A	nop | mov x9, x30	(= patch)
 *	sites_bl_ip()	B	nop | bl <target>	(patch + 4)
 *	sites_body()		x30 when the target runs: the function's
 *				body after the entry (patch + 8)
 *
 * patch is func, or func + 4 after a `bti c`; the literal is func - 8 in
 * both shapes.
 */
static inline uint64_t sites_literal(const struct ftramp_site *s)
{
	return s->func - 8;
}

static inline uint64_t sites_mov_ip(const struct ftramp_site *s)
{
	return s->patch;
}

static inline uint64_t sites_bl_ip(const struct ftramp_site *s)
{
	return s->patch + 4;
}

static inline uint64_t sites_body(const struct ftramp_site *s)
{
	return s->patch + 8;
}

/* A `bti c` before the entry NOPs: ftrace_caller's BTI entry. */
static inline bool sites_bti_first(const struct ftramp_site *s)
{
	return s->patch != s->func;
}

static inline bool sites_usable(const struct ftramp_site *s)
{
	return s->status == FTRAMP_SITE_OK;
}

/*
 * Claim a site for patching: from then on its bytes are the owner's and
 * FTRAMP_SITE_F_OWNED shows in its info.  Called by the ftrace layer with
 * its own lock held before the first write to the site; NULL releases it
 * once the site is pristine again.
 */
void sites_set_owner(struct ftramp_site *site, void *owner);

/* The site whose func or patch address is exactly @ip, or NULL. */
struct ftramp_site *sites_lookup_ip(struct ftramp_sites *t, uint64_t ip);

/*
 * Object added / removed.  Called after the table is updated, from the
 * thread that rescans, with no table lock held (lookups work; rescans and
 * dlopen()/dlclose() from a callback are deferred), removals before
 * additions.  A removed object's text is already unmapped: drop the state,
 * do not touch the bytes; the object is freed when the callback returns.
 */
struct sites_listener {
	void (*added)(struct ftramp_sites *t, struct sites_object *obj,
		      void *ctx);
	void (*removed)(struct ftramp_sites *t, struct sites_object *obj,
			void *ctx);
	/*
	 * After a dlopen() through the hook added objects, before it
	 * returns to the program, with no lock of the library held: the
	 * layer above may attach to the new sites here.  Not called when
	 * the thread holds a table lock (its dlopen() is a callback's).
	 */
	void (*settled)(struct ftramp_sites *t, void *ctx);
	/*
	 * Before the program's dlclose() runs, the same way: the layer
	 * above lets go of its pins (sites_object_unpin()) on objects it no
	 * longer uses, so that this dlclose() can unload them.
	 */
	void (*closing)(struct ftramp_sites *t, void *ctx);
	void *ctx;
	struct sites_listener *next;	/* private */
};

void sites_listen(struct ftramp_sites *t, struct sites_listener *l);
void sites_unlisten(struct ftramp_sites *t, struct sites_listener *l);

/* Call @fn for every object (under the scan lock: no rescans meanwhile). */
int sites_for_each_object(struct ftramp_sites *t,
			  int (*fn)(struct sites_object *obj, void *ctx),
			  void *ctx);

/*
 * Keep a shared object loaded while the layer above refers to its sites
 * (patched, or named by a filter): takes a dlopen(RTLD_NOLOAD)
 * reference, so a dlclose() by the program does not unmap text a thread
 * may still return into.  0, -EINVAL for the executable, -ENOENT if it
 * is no longer loaded.  Unpinned (from a closing() call), the object is
 * unloaded by the program's last dlclose(), and removed() follows.
 */
int sites_object_pin(struct sites_object *obj);
void sites_object_unpin(struct sites_object *obj);

/*
 * Where an object's sites come from.  The library reads the file
 * (ftrace/sites_read.c: elf_sites.c, libelf); the preload agent links its
 * own definition instead, which takes them from the ftramp process's
 * table (tools/ftramp/agent/table.c), so it carries no ELF library.
 * @src: the loaded object as the loader reports it; the reader may set
 * src->source (kept as obj->source).  Returns 0 and *out, or the errors
 * of elf_sites__read_fd().
 */
struct sites_source {
	const char *path;	/* the file (the executable's /proc/self/exe) */
	uint64_t bias;
	const void *phdr;	/* the loaded program headers */
	size_t phnum;
	const void *source;	/* out */
};

int sites_read_elf(struct sites_source *src, struct elf_sites **out);

/* fork(): the table's locks (the order is in ftrace/fork.c). */
void sites_atfork(int stage);

#endif /* FTRAMP_FTRACE_SITES_H */
