/* SPDX-License-Identifier: MIT */
/*
 * The process's text as the kernel and the loader describe it: the page
 * size, snapshots of /proc/self/maps, which text is BTI-guarded, and the
 * cache of loaded objects' executable segments that patch commits use.
 */
#ifndef FTRAMP_ARCH_ARM64_TEXT_MAP_H
#define FTRAMP_ARCH_ARM64_TEXT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PROT_BTI from <asm/mman.h> on arm64; glibc may not define it. */
#ifndef PROT_BTI
#define PROT_BTI		0x10
#endif

size_t ftramp_page_size(void);

/*
 * A snapshot of the process's mappings (/proc/self/maps), sorted, with
 * adjacent entries kept separate.  prot is PROT_* (BTI from smaps
 * "VmFlags: bt" where the kernel reports it).
 */
struct ftramp_vma {
	uint64_t start, end;
	int prot;
	bool stack, heap;
};

struct ftramp_vmmap {
	struct ftramp_vma *vma;
	size_t nr;
};

/* 0 or a negative errno (fault point vmmap); free with ftramp_vmmap_free(). */
int ftramp_vmmap_read(struct ftramp_vmmap *m, bool want_bti);
void ftramp_vmmap_free(struct ftramp_vmmap *m);
/* The mapping containing addr, or NULL. */
const struct ftramp_vma *ftramp_vmmap_find(const struct ftramp_vmmap *m,
					   uint64_t addr);

/* Does the CPU have BTI (HWCAP2_BTI)? */
bool ftramp_cpu_has_bti(void);

/*
 * Is the text at addr BTI-guarded?  1: the CPU has BTI and the loaded
 * object holding addr carries a GNU property note with FEATURE_1_BTI, so
 * the loader mapped its text PROT_BTI.  0: not guarded (no BTI in the
 * CPU, or an object without that property).  -1: not the text of a
 * loaded object (unknown).  The verdict the patching layer itself uses
 * to keep PROT_BTI across a poke.
 */
int ftramp_text_bti(uint64_t addr);
/* The same for a page, whatever the CPU has (the object's note only). */
int ftramp_text_elf_bti(uint64_t page);

/*
 * The text-segment cache: every executable segment of the loaded
 * objects with its BTI verdict, and a maps snapshot.  Serialised by the
 * caller (patching.c's text_mutex).
 */
struct ftramp_text_seg {
	uint64_t start, end;	/* page-aligned */
	bool bti;
};

/*
 * Is the cache valid now?  Rebuilt (*maps_reads counts the maps read)
 * when objects were loaded or unloaded since, or after an invalidation.
 */
bool ftramp_text_cache_get(unsigned long *maps_reads);
void ftramp_text_cache_invalidate(void);
/* While valid: the cached segment holding @page, or NULL. */
const struct ftramp_text_seg *ftramp_text_cache_seg(uint64_t page);
/* While valid: @page's mapping in the cached snapshot, or NULL. */
const struct ftramp_vma *ftramp_text_cache_vma(uint64_t page);

#endif /* FTRAMP_ARCH_ARM64_TEXT_MAP_H */
