/* SPDX-License-Identifier: MIT */
/*
 * The sites of one ELF file, read from the file alone: no process state,
 * so the CLI (`ftramp list`, built for the host) links this too.
 * ftrace/sites.c adds the process view (load bias, live bytes, dlopen).
 *
 * The file is parsed by elf_sites.c itself, without libelf: the preload
 * agent links this reader and must bring no ELF library into the traced
 * process.  Build for the host with:
 *   $(HOSTCC) -I include -I . ftrace/elf_sites.c ftrace/elf_sites_common.c
 */
#ifndef FTRAMP_FTRACE_ELF_SITES_H
#define FTRAMP_FTRACE_ELF_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ftramp/ftramp.h>

/* Bytes from the literal slot (func - 8) to the end of the entry NOPs. */
#define ELF_SITE_SPAN		16
#define ELF_SITE_SPAN_BTI	20

struct elf_site {
	const char *name;	/* unique within the file: "sym", "sym:file.c",
				 * "sym:N", "host+0xOFF" or "0xVADDR" */
	const char *symbol;	/* "" when no symbol matches the record */
	const char *file;	/* STT_FILE of a static function, or NULL */
	uint64_t func;		/* file vaddr: the record + 8 */
	uint64_t size;		/* symbol size, 0 when unknown */
	uint32_t flags;		/* FTRAMP_SITE_F_BTI, _LOCAL, _WEAK */
	int status;		/* enum ftramp_site_status, from file bytes */
};

/* Offset of the first entry NOP from the function symbol. */
static inline uint64_t elf_site_patch_off(const struct elf_site *s)
{
	return (s->flags & FTRAMP_SITE_F_BTI) ? 4 : 0;
}

struct elf_segment {		/* a PT_LOAD */
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	uint32_t flags;		/* PF_X, PF_W, PF_R */
};

struct elf_sites {
	struct elf_site *sites;		/* sorted by func */
	size_t nr_sites;
	struct elf_segment *segs;	/* in program header order */
	size_t nr_segs;
	uint16_t type;			/* ET_EXEC or ET_DYN */
	bool executable;		/* ET_EXEC, or has PT_INTERP (PIE) */
	bool symtab;			/* names from .symtab, else .dynsym */
	size_t nr_records;		/* __patchable_function_entries slots */
	size_t nr_null;			/* of which zero (discarded): skipped */
	char *strings;			/* storage for every name */
};

/*
 * Read the sites of an arm64 ELF64 executable or shared object.
 * Returns 0 and *out (free with elf_sites__free()), or:
 *   -ENOEXEC	not a little-endian arm64 ELF64 file
 *   -ENOTSUP	not an executable or shared object (e.g. ET_REL, core)
 *   -EBADMSG	malformed (truncated sections or tables, bad sizes)
 *   -ENOMEM, or the errno of open() for a path.
 * A file built without patchable entries has zero sites, and so has one
 * without section headers.
 */
int elf_sites__read_fd(int fd, struct elf_sites **out);
int elf_sites__read_path(const char *path, struct elf_sites **out);
/* The same, from a file image in memory (fuzzing, tests). */
int elf_sites__read_mem(const void *image, size_t size,
			struct elf_sites **out);
void elf_sites__free(struct elf_sites *es);

/* The segment holding [vaddr, vaddr + len), or NULL. */
const struct elf_segment *elf_sites__segment(const struct elf_sites *es,
					     uint64_t vaddr, uint64_t len);

/*
 * The object name used in site names: the basename of @path without the
 * version suffix after ".so" ("/lib/libc.so.6" -> "libc.so").  Returns the
 * length it needs (like snprintf).
 */
size_t elf_sites__object_name(const char *path, char *buf, size_t size);

/*
 * Whether @name is that of a compiler-made variant of a function (an IPA
 * clone, a split-off part): FTRAMP_SITE_F_CLONE.
 */
bool elf_sym_is_clone(const char *name);

#endif /* FTRAMP_FTRACE_ELF_SITES_H */
