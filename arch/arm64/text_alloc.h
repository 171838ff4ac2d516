/* SPDX-License-Identifier: MIT */
/*
 * Trampoline memory: executable chunks placed within BL range of the text
 * that will branch to them (Documentation/patching.rst, "Near memory").
 *
 * Chunks are carved from regions of REGION_SIZE (64 KiB, or one page if
 * pages are larger) with a first-fit bitmap of 64-byte granules, so many
 * small trampolines share a page.  Regions are mapped in holes of the
 * address space found from /proc/self/maps, with MAP_FIXED_NOREPLACE.
 *
 * Two ways to write code into a chunk (chosen per allocation):
 *
 *  - RWX window (default): rw == rx.  The chunk's pages are made
 *    PROT_READ|PROT_WRITE|PROT_EXEC by ftramp_text_alloc() and back to
 *    PROT_READ|PROT_EXEC by ftramp_text_publish().  Pages never lose
 *    PROT_EXEC, since other trampolines in them may be running.
 *  - Writable alias (FTRAMP_TEXT_ALIAS): the region is a memfd mapped
 *    twice, PROT_READ|PROT_EXEC at rx and PROT_READ|PROT_WRITE at rw, for
 *    processes where W+X mappings are refused (SELinux execmem, PaX
 *    MPROTECT).  No protection change ever.
 *
 * Thread-safe: one lock for all regions.
 */
#ifndef FTRAMP_ARCH_ARM64_TEXT_ALLOC_H
#define FTRAMP_ARCH_ARM64_TEXT_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/text_map.h"

/* BL/B reach: imm26 words, i.e. [-128 MiB, +128 MiB - 4]. */
#define FTRAMP_BL_RANGE		(128ull << 20)

/* Chunks are multiples of (and aligned to) this: one cache line. */
#define FTRAMP_TEXT_GRANULE	64

enum ftramp_text_flags {
	/* Never near: tests use it to force the per-callsite ops path. */
	FTRAMP_TEXT_FAR		= 1u << 0,
	/* Map with PROT_BTI (guarded pages: indirect targets need bti). */
	FTRAMP_TEXT_BTI		= 1u << 1,
	/* Writable alias (memfd double mapping) instead of an RWX window. */
	FTRAMP_TEXT_ALIAS	= 1u << 2,
};
#define FTRAMP_TEXT_FLAGS_ALL	(FTRAMP_TEXT_FAR | FTRAMP_TEXT_BTI | \
				 FTRAMP_TEXT_ALIAS)

struct ftramp_text_region;

struct ftramp_text {
	void *rw;		/* write the code here */
	void *rx;		/* it runs here: branch offsets use this */
	size_t size;		/* usable bytes (request rounded up) */
	bool far;		/* not guaranteed within BL range of `near` */
	/* private to text_alloc.c */
	struct ftramp_text_region *region;
	uint32_t first, nr;	/* granules */
	bool open;		/* RWX window open (alloc to publish) */
};

/*
 * Allocate `size` bytes of executable memory such that every instruction
 * of the chunk and `near` can reach each other with one B/BL.  If no such
 * hole exists (or FTRAMP_TEXT_FAR), the chunk is anywhere and t->far is
 * set: the caller must then reach it through a register (the per-callsite
 * ops path).  The chunk is filled with BRK until the caller writes it, and
 * is writable through t->rw until ftramp_text_publish().
 * Returns 0, -EINVAL (size 0 or too big, bad flags), -ENOMEM, or the
 * errno of a failed mmap/mprotect/memfd (nothing is left allocated).
 */
int ftramp_text_alloc(struct ftramp_text *t, size_t size, uint64_t near,
		      unsigned int flags);

/*
 * As ftramp_text_alloc(), but the chunk must lie entirely in [lo, hi):
 * the intersection of the BL windows of every site of a text mapping is
 * [text_end - FTRAMP_BL_RANGE + 4, text_start + FTRAMP_BL_RANGE - 4).
 */
int ftramp_text_alloc_range(struct ftramp_text *t, size_t size, uint64_t lo,
			    uint64_t hi, unsigned int flags);

/*
 * The code has been written through t->rw: make it executable at t->rx
 * (close the RWX window, clean D / invalidate I to the PoU).  The code is
 * not reachable yet; a later single-instruction poke publishes it.  After
 * this, t->rw must not be written (in the window scheme it is read-only).
 * Returns 0, or the errno of a failed mprotect (the window stays open and
 * publish may be retried).
 */
int ftramp_text_publish(struct ftramp_text *t);

/*
 * Before publishing: keep only the first `size` bytes of the chunk (rounded
 * up to granules) and give the rest back at once.  For callers that
 * allocate an upper bound and learn the real size when writing (the
 * trampoline builder's sizing pass assumes every call is far).  Returns
 * 0 or -EINVAL (size 0 or larger than the chunk).
 */
int ftramp_text_trim(struct ftramp_text *t, size_t size);

/*
 * Give the chunk back.  Contract: the caller (the reclamation layer)
 * guarantees that no thread can still execute it or branch to it: every
 * site that branched here has been unpatched and a grace period has
 * passed.  The chunk is refilled with BRK and may be handed out again at
 * once; a region left empty is unmapped.  t is zeroed.
 */
void ftramp_text_free(struct ftramp_text *t);

/*
 * For the patcher: if [addr, addr + len) lies in one of our regions,
 * return 1 and, for alias regions, *rw = the writable address of addr
 * (NULL for window regions) and *prot = the region's execute protection
 * (PROT_READ|PROT_EXEC[|PROT_BTI]).  Returns 0 if the range is not ours.
 */
int ftramp_text_lookup(const void *addr, size_t len, void **rw, int *prot);

/*
 * Batches: between ftramp_text_hold() and ftramp_text_release(), the RWX
 * window of a page opened by an allocation stays open after
 * ftramp_text_publish() (the code is cache-maintained there as usual) and
 * is closed once by the release: N chunks on P pages cost 2P mprotect()
 * calls, not 2N.  The pages stay W+X (never non-X) for the hold's
 * duration; hold while building, release before the code is made
 * reachable.  Holds nest.  The release returns the first error of a
 * restore (the page stays RWX, still executable), else 0.
 */
void ftramp_text_hold(void);
int ftramp_text_release(void);

/*
 * Open / close the RWX window on one page of a window region, counted so
 * that the allocator's and the patcher's windows nest.  Return 0 or the
 * errno of mprotect.
 */
int ftramp_text_page_open(void *page);
int ftramp_text_page_close(void *page);

struct ftramp_text_stats {
	size_t bytes_used;	/* in live chunks (rounded to granules) */
	size_t bytes_mapped;	/* all regions */
	size_t pages;		/* bytes_mapped / page size */
	size_t regions;
	size_t chunks;		/* live chunks */
	unsigned long near_allocs, far_allocs, failed_allocs;
	unsigned long regions_mapped, regions_unmapped;
	unsigned long chunks_poisoned;	/* freed chunks refilled with BRK */
};

void ftramp_text_get_stats(struct ftramp_text_stats *st);

/* fork(): text_lock (the order is in ftrace/fork.c). */
void ftramp_text_atfork(int stage);

#endif /* FTRAMP_ARCH_ARM64_TEXT_ALLOC_H */
