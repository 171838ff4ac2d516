/* SPDX-License-Identifier: MIT */
/*
 * The site-and-model table (Documentation/design.rst, "Two processes"):
 * what the `ftramp` process reads from the files of a program before it
 * starts (the patchable sites, the symbols, the DWARF function models)
 * and the preload agent maps instead of reading ELF and DWARF itself.
 *
 * One flat, position-independent buffer; every reference is a 32-bit
 * offset from the start of the buffer (strings: from the string pool).
 * Fixed-width little-endian fields, explicit padding: the x86 `ftramp`
 * writes it, the arm64 agent reads it in place.
 *
 *	+0	struct stab_header	magic, version, sizes, counts
 *		struct stab_module[]	one per ELF file, keyed by build-id
 *		struct stab_segment[]	each module's PT_LOADs, in order
 *		struct stab_site[]	each module's sites, sorted by func
 *		struct stab_model[]	the models sites point at
 *		char strings[]		NUL-terminated, offset 0 is ""
 *
 * Addresses are the file's own (p_vaddr space): the agent adds the load
 * bias dl_iterate_phdr() reports for the module with that build-id, and
 * the segments let it check that the loader mapped what the file says.
 *
 * A model is present only where the DWARF proves the calling convention:
 * the clone rule of ftrace/dwarf.c (a compiler-made variant gets no model
 * unless its concrete DIE describes every parameter in its own register)
 * is applied when the table is built; a site without one carries why
 * (model_err) and is traced with the unknown model.
 *
 * The parser checks everything it will ever dereference, so a truncated
 * or hostile buffer is refused with -EBADMSG and never read out of
 * bounds (selftests/site_table_test.c, selftests/fuzz_site_table.c).
 * Pure C: built for the host (the writer) and the agent (the reader).
 */
#ifndef FTRAMP_FTRACE_SITE_TABLE_H
#define FTRAMP_FTRACE_SITE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

#include "ftrace/elf_sites.h"

#define STAB_MAGIC		"FTRSTAB"	/* 8 bytes with its NUL */
#define STAB_VERSION		1
#define STAB_BUILD_ID_MAX	40
#define STAB_NONE		UINT32_MAX	/* no string, no model */
/* A buffer larger than this is refused: offsets are 32-bit. */
#define STAB_SIZE_MAX		(UINT32_MAX / 2)

struct stab_header {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;	/* sizeof(struct stab_header) */
	uint64_t size;		/* of the whole table */
	uint32_t nr_modules, modules_off;
	uint32_t nr_segs, segs_off;
	uint32_t nr_sites, sites_off;
	uint32_t nr_models, models_off;
	uint32_t strings_off, strings_size;
};

enum stab_module_flags {
	STAB_MOD_EXECUTABLE	= 1u << 0,	/* elf_sites.executable */
	STAB_MOD_SYMTAB		= 1u << 1,	/* names from .symtab */
};

struct stab_module {
	uint8_t build_id[STAB_BUILD_ID_MAX];
	uint8_t build_id_len;	/* 0: none, matched by path */
	uint8_t flags;		/* enum stab_module_flags */
	uint16_t type;		/* ET_EXEC or ET_DYN */
	uint32_t path;		/* string: the file the table was read from */
	uint32_t first_seg, nr_segs;	/* slices of the global arrays */
	uint32_t first_site, nr_sites;
	uint32_t nr_records, nr_null;	/* __patchable_function_entries */
};

struct stab_segment {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;		/* PF_X, PF_W, PF_R */
	uint32_t pad;
};

struct stab_site {
	uint64_t func;		/* file vaddr of the symbol */
	uint64_t size;		/* symbol size, 0 when unknown */
	uint32_t name;		/* strings: elf_site.name */
	uint32_t symbol;	/* strings: elf_site.symbol ("" none) */
	uint32_t file;		/* strings, or STAB_NONE */
	uint32_t flags;		/* FTRAMP_SITE_F_* */
	int32_t status;		/* enum ftramp_site_status (file verdict) */
	uint32_t model;		/* index into the models, or STAB_NONE */
	int32_t model_err;	/* no model: why (-ENODATA, -EPROTO...) */
	uint32_t pad;
};

struct stab_type {		/* struct ftramp_type, field by field */
	uint16_t cls, flags;
	uint32_t size;
	uint8_t nmemb, elem_size;
	uint16_t align;
};

struct stab_model {
	struct stab_type ret;
	uint8_t nr_args, flags;
	uint16_t pad;
	struct stab_type args[FTRAMP_MAX_ARGS];
	uint32_t params[FTRAMP_MAX_ARGS];	/* strings: parameter names */
};

/* ----------------------------------------------------------------------
 * Writing (the ftramp process)
 */

/* What the builder knows of one site's model. */
struct stab_model_in {
	int err;			/* 0: model and names are valid */
	struct ftramp_func_model model;
	char names[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
};

struct stab_module_in {
	const uint8_t *build_id;
	size_t build_id_len;		/* at most STAB_BUILD_ID_MAX */
	const char *path;
	const struct elf_sites *es;
	const struct stab_model_in *models;	/* es->nr_sites, or NULL */
};

/*
 * Serialise @n modules into one buffer (*out, free() it, *size bytes):
 * a sizing pass, then the writing pass into the exact size.  0, -EINVAL
 * (a build-id too long, a model that does not validate), -E2BIG (beyond
 * STAB_SIZE_MAX), -ENOMEM.
 */
int stab_write(const struct stab_module_in *mods, size_t n, void **out,
	       size_t *size);

/* ----------------------------------------------------------------------
 * Reading (the agent)
 */

struct stab {
	const uint8_t *base;
	size_t size;
	const struct stab_header *hdr;
	const struct stab_module *mods;
	const struct stab_segment *segs;
	const struct stab_site *sites;
	const struct stab_model *models;
	const char *strings;
};

/*
 * Check the @size bytes at @buf (8-byte aligned) and describe them in
 * *t, which points into @buf.  0, or -EBADMSG (not a table, truncated,
 * an offset, count, string or model out of bounds or invalid, sites out
 * of order) or -EPROTONOSUPPORT (another version).
 */
int stab_parse(const void *buf, size_t size, struct stab *t);

/* The module with this build-id, else (with none) the one read from
 * @path, or NULL. */
const struct stab_module *stab_find(const struct stab *t,
				    const uint8_t *build_id, size_t len,
				    const char *path);

/* A string of the pool (checked by stab_parse()); "" for STAB_NONE. */
const char *stab_str(const struct stab *t, uint32_t off);

/*
 * The module as the struct elf_sites sites.c relocates (free with
 * elf_sites__free()): 0 or -ENOMEM.
 */
int stab_elf_sites(const struct stab *t, const struct stab_module *m,
		   struct elf_sites **out);

/*
 * The model of the module's site whose file vaddr is @func (*names, if
 * not NULL, its parameter names): 0, -ENOENT (no such site) or the
 * builder's reason for having none (-ENODATA, -EPROTO, -EOPNOTSUPP...).
 */
int stab_model(const struct stab *t, const struct stab_module *m,
	       uint64_t func, struct ftramp_func_model *model,
	       char (*names)[FTRAMP_PARAM_NAME_MAX]);

/*
 * The GNU build-id in a run of ELF notes (a PT_NOTE segment as mapped,
 * or a SHT_NOTE section) of @align (4 or 8, the segment's p_align):
 * its length, *id pointing at it; 0 when there is none.
 */
size_t stab_note_build_id(const void *notes, size_t size, size_t align,
			  const uint8_t **id);

#endif /* FTRAMP_FTRACE_SITE_TABLE_H */
