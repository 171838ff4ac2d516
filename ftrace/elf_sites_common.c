// SPDX-License-Identifier: MIT
/*
 * The parts of elf_sites.h that read no file: the site verdicts' words,
 * object and clone names, segments, freeing.  Kept apart from the reader
 * (elf_sites.c, libelf) so the preload agent, which gets its sites from
 * the ftramp process's table (site_table.h), links no ELF library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftrace/elf_sites.h"

static const char *const status_str[FTRAMP_SITE_STATUS_MAX] = {
	[FTRAMP_SITE_OK]	   = "usable",
	[FTRAMP_SITE_BAD_ALIGN]	   = "literal slot (func-8) not 8-byte aligned",
	[FTRAMP_SITE_NO_SYMBOL]	   = "no function symbol at the recorded entry",
	[FTRAMP_SITE_NOT_TEXT]	   = "not inside an executable segment",
	[FTRAMP_SITE_BAD_LITERAL]  = "func-8 and func-4 are not two NOPs",
	[FTRAMP_SITE_BAD_ENTRY]	   = "the function entry is not two NOPs",
	[FTRAMP_SITE_TOO_SMALL]	   = "function smaller than its patch area",
	[FTRAMP_SITE_DUPLICATE]	   = "function recorded more than once",
	[FTRAMP_SITE_OVERLAP]	   = "patch area overlaps the next site",
	[FTRAMP_SITE_NOT_READABLE] = "text not readable in memory (execute-only)",
	[FTRAMP_SITE_MODIFIED]	   = "live bytes differ from the file",
	[FTRAMP_SITE_VARIANT_PCS]  = "variant PCS (vector or SVE calling convention): its callers' q8-q23 would not survive a trampoline",
};

bool elf_sym_is_clone(const char *name)
{
	/*
	 * C and C++ (mangled) names have no '.': a dot is the suffix the
	 * compiler gives a variant it made ("f.isra.0", "f.constprop.1",
	 * "f.part.0", "f.cold", "f.lto_priv.0", clang's "f.llvm.123",
	 * "_Z1fv.cold"), whose calling convention may differ from f's.
	 */
	return name && name[0] && strchr(name + 1, '.') != NULL;
}

FTRAMP_API const char *ftramp_site_status__str(int status)
{
	if (status < 0 || status >= FTRAMP_SITE_STATUS_MAX)
		return "unknown site status";
	return status_str[status];
}

const struct elf_segment *elf_sites__segment(const struct elf_sites *es,
					     uint64_t vaddr, uint64_t len)
{
	for (size_t i = 0; i < es->nr_segs; i++) {
		const struct elf_segment *s = &es->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->memsz &&
		    len <= s->memsz - (vaddr - s->vaddr))
			return s;
	}
	return NULL;
}

void elf_sites__free(struct elf_sites *es)
{
	if (!es)
		return;
	free(es->sites);
	free(es->segs);
	free(es->strings);
	free(es);
}

size_t elf_sites__object_name(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	const char *so, *p;
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	/* "libfoo.so.6.1" -> "libfoo.so": drop ".digits" groups after ".so" */
	for (so = strstr(base, ".so"); so; so = strstr(so + 1, ".so")) {
		p = so + 3;
		while (*p == '.' && p[1] >= '0' && p[1] <= '9') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (!*p) {
			len = so + 3 - base;
			break;
		}
	}
	if (size)
		snprintf(buf, size, "%.*s", (int)len, base);
	return len;
}
