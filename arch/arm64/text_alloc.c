// SPDX-License-Identifier: MIT
/*
 * Trampoline memory near the text that calls it (text_alloc.h).
 *
 * A PIE's text sits near 0xaaaa_..., mmap(NULL) returns 0xffff_...: far
 * beyond the +-128 MiB a BL reaches.  So regions are placed by hand, in
 * the hole of /proc/self/maps closest to the text, with
 * MAP_FIXED_NOREPLACE (which never clobbers a mapping that appeared since
 * we read the maps: we retry instead).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arm64/cacheflush.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "arch/arm64/text_map.h"
#include "lib/fault_inject.h"
#include "lib/lockdep.h"
#include "lib/util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC		0x0001u
#endif

#define REGION_SIZE		(64u << 10)
#define MAX_CHUNK		(16u << 20)
/* Never map below this (NULL-pointer guard area and then some). */
#define ADDR_FLOOR		(1ull << 20)
/* Room kept free below [stack] (growth + the kernel's stack guard gap). */
#define STACK_RESERVE		(16ull << 20)
/* Room kept free above [heap], so that brk() can still grow. */
#define HEAP_RESERVE		(32ull << 20)
/* Forced-far chunks go at least this far from `near`. */
#define FAR_DISTANCE		(2 * FTRAMP_BL_RANGE)
#define PLACE_RETRIES		4

/* The filler of unwritten code: traps if it is ever executed. */
#define TEXT_FILL		A64_INSN_BAD

struct ftramp_text_region {
	struct ftramp_text_region *next;
	uint8_t *rx;		/* execute mapping */
	uint8_t *rw;		/* writable alias, or rx (window scheme) */
	size_t size;
	unsigned int flags;	/* FTRAMP_TEXT_FAR / _BTI / _ALIAS */
	int prot;		/* execute protection */
	uint32_t nr_gran, used_gran, chunks;
	uint32_t *open;		/* per page: open RWX windows */
	uint64_t map[];		/* granule bitmap, 1 = in use */
};

static pthread_mutex_t text_lock = PTHREAD_MUTEX_INITIALIZER;
FTRAMP_LOCK_CLASS(text_lock, FTRAMP_LOCK_TEXT_ALLOC);
static struct ftramp_text_region *regions;
static struct ftramp_text_stats text_stats;

/* ------------------------------------------------------------------
 * Placement
 * ------------------------------------------------------------------ */

static uint64_t dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * The page-aligned address in [lo, hi) closest to target where `size`
 * bytes fit in a hole of m, keeping clear of the stack's and the heap's
 * growth.  Returns 0 if there is none.
 */
static uint64_t find_hole(const struct ftramp_vmmap *m, uint64_t size,
			  uint64_t lo, uint64_t hi, uint64_t target)
{
	uint64_t ps = ftramp_page_size(), best = 0, best_d = UINT64_MAX;

	if (lo < ADDR_FLOOR)
		lo = ADDR_FLOOR;
	/* Holes are between mappings: never above the highest one. */
	for (size_t i = 0; i + 1 < m->nr; i++) {
		uint64_t a = m->vma[i].end, b = m->vma[i + 1].start, x;

		if (m->vma[i].heap)
			a += HEAP_RESERVE;
		if (m->vma[i + 1].stack)
			b = b > STACK_RESERVE ? b - STACK_RESERVE : 0;
		a = round_up(a > lo ? a : lo, ps);
		b = round_down(b < hi ? b : hi, ps);
		if (b <= a || b - a < size)
			continue;
		x = round_down(target, ps);
		if (x < a)
			x = a;
		if (x > b - size)
			x = b - size;
		if (dist(x, target) < best_d) {
			best = x;
			best_d = dist(x, target);
		}
	}
	/* Below the lowest mapping (non-PIE programs sit low). */
	if (m->nr && m->vma[0].start > lo) {
		uint64_t a = round_up(lo, ps);
		uint64_t b = round_down(m->vma[0].start < hi ?
					m->vma[0].start : hi, ps);

		if (b > a && b - a >= size && dist(b - size, target) < best_d)
			best = b - size;
	}
	return best;
}

/* mmap exactly at addr or fail with -EEXIST, whatever the kernel. */
static void *map_at(uint64_t addr, size_t size, int prot, int flags, int fd)
{
	void *p;
	int err = ftramp_fault("mmap");

	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	p = mmap((void *)(uintptr_t)addr, size, prot,
		 flags | (addr ? MAP_FIXED_NOREPLACE : 0), fd, 0);
	if (p == MAP_FAILED)
		return p;
	/*
	 * Kernels before 4.17 (and qemu-user) take MAP_FIXED_NOREPLACE as a
	 * hint and map elsewhere instead of failing.
	 */
	if (addr && (uint64_t)(uintptr_t)p != addr) {
		munmap(p, size);
		errno = EEXIST;
		return MAP_FAILED;
	}
	return p;
}

static int exec_prot(unsigned int flags)
{
	return PROT_READ | PROT_EXEC | (flags & FTRAMP_TEXT_BTI ? PROT_BTI : 0);
}

/* Map the region's memory at addr (0: anywhere). */
static int region_map(struct ftramp_text_region *r, uint64_t addr)
{
	void *rx, *rw;
	int fd, err;

	if (!(r->flags & FTRAMP_TEXT_ALIAS)) {
		rx = map_at(addr, r->size, r->prot,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1);
		if (rx == MAP_FAILED)
			return -errno;
		r->rx = r->rw = rx;
		return 0;
	}

	err = ftramp_fault("memfd");
	if (err)
		return err;
	fd = memfd_create("ftramp-text", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, r->size)) {
		err = -errno;
		goto out;
	}
	rx = map_at(addr, r->size, r->prot, MAP_SHARED, fd);
	if (rx == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	rw = map_at(0, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	if (rw == MAP_FAILED) {
		err = -errno;
		munmap(rx, r->size);
		goto out;
	}
	r->rx = rx;
	r->rw = rw;
	err = 0;
out:
	/* The mappings keep the file alive. */
	close(fd);
	return err;
}

/*
 * The mappings as region placement last saw them (under text_lock).
 * Reading /proc/self/maps for every region made placement cost grow with
 * the number of mappings times the number of regions; the snapshot is
 * read again only when it may be wrong in the way that matters: a hole
 * it shows is taken (the mmap fails with EEXIST), or it shows no hole
 * (something may have been unmapped since).  Our own regions are added
 * to it as they are mapped, and it is dropped when one is unmapped.
 */
static struct ftramp_vmmap place_map;
static bool place_map_valid;

static void place_map_drop(void)
{
	if (place_map_valid)
		ftramp_vmmap_free(&place_map);
	place_map_valid = false;
}

/* Record a new mapping of ours in the snapshot (best effort). */
static void place_map_add(void *addr, size_t size)
{
	struct ftramp_vmmap *m = &place_map;
	uint64_t a = (uintptr_t)addr;
	struct ftramp_vma *v;
	size_t i;

	if (!place_map_valid)
		return;
	v = realloc(m->vma, (m->nr + 1) * sizeof(*v));
	if (!v) {
		place_map_drop();
		return;
	}
	m->vma = v;
	for (i = m->nr; i > 0 && v[i - 1].start > a; i--)
		v[i] = v[i - 1];
	memset(&v[i], 0, sizeof(v[i]));
	v[i].start = a;
	v[i].end = a + size;
	v[i].prot = PROT_READ | PROT_EXEC;
	m->nr++;
}

/*
 * Place a new region of `size` bytes in [lo, hi), close to target.
 * -ENOSPC when there is no hole; other errors are mmap's.
 */
static int region_place(struct ftramp_text_region *r, uint64_t lo,
			uint64_t hi, uint64_t target)
{
	int err = -ENOSPC;

	for (int i = 0; i < PLACE_RETRIES; i++) {
		bool fresh = !place_map_valid;
		uint64_t addr;

		if (fresh) {
			err = ftramp_vmmap_read(&place_map, false);
			if (err)
				return err;
			place_map_valid = true;
		}
		addr = find_hole(&place_map, r->size, lo, hi, target);
		if (!addr) {
			if (fresh)
				return -ENOSPC;
			/* The snapshot may miss a hole: look again. */
			place_map_drop();
			i--;
			continue;
		}
		err = region_map(r, addr);
		if (!err) {
			place_map_add(r->rx, r->size);
			if (r->rw != r->rx)
				place_map_add(r->rw, r->size);
			return 0;
		}
		/* Somebody mapped the hole since we read the maps: again. */
		place_map_drop();
		if (err != -EEXIST)
			return err;
	}
	return err;
}

/* Held pages (ftramp_text_hold()), under text_lock. */
struct held_page {
	struct ftramp_text_region *r;
	size_t idx;
};

static unsigned int hold_depth;
static struct held_page *held;
static size_t nr_held, cap_held;

static void region_unmap(struct ftramp_text_region *r)
{
	/* A hole again: the next placement reads the maps afresh. */
	place_map_drop();
	munmap(r->rx, r->size);
	if (r->rw != r->rx)
		munmap(r->rw, r->size);
}

/* Called with text_lock held. */
static struct ftramp_text_region *region_new(size_t size, unsigned int flags,
					     uint64_t lo, uint64_t hi,
					     uint64_t target, bool *far)
{
	size_t ps = ftramp_page_size(), words, pages;
	struct ftramp_text_region *r;
	int err;

	size = round_up(size > REGION_SIZE ? size : REGION_SIZE, ps);
	words = (size / FTRAMP_TEXT_GRANULE + 63) / 64;
	pages = size / ps;
	r = calloc(1, sizeof(*r) + words * sizeof(uint64_t));
	if (!r)
		return NULL;
	r->open = calloc(pages, sizeof(*r->open));
	if (!r->open) {
		free(r);
		return NULL;
	}
	r->size = size;
	r->nr_gran = size / FTRAMP_TEXT_GRANULE;
	r->prot = exec_prot(flags);

	*far = false;
	if (flags & FTRAMP_TEXT_FAR) {
		/* Deliberately out of reach, so that a wrong BL is refused. */
		r->flags = flags;
		err = region_place(r, target + FAR_DISTANCE, UINT64_MAX,
				   target + FAR_DISTANCE);
		if (err == -ENOSPC && target > FAR_DISTANCE)
			err = region_place(r, 0, target - FAR_DISTANCE,
					   target - FAR_DISTANCE);
		if (err == -ENOSPC)
			err = region_map(r, 0);
		*far = true;
	} else {
		r->flags = flags;
		err = region_place(r, lo, hi, target);
		if (err == -ENOSPC) {
			/* No hole in reach: anywhere, marked far. */
			r->flags |= FTRAMP_TEXT_FAR;
			err = region_map(r, 0);
			*far = true;
		}
	}
	if (err) {
		if (err == -EINVAL && (flags & FTRAMP_TEXT_BTI))
			err = -EOPNOTSUPP;	/* kernel without PROT_BTI */
		free(r->open);
		free(r);
		errno = -err;
		return NULL;
	}
	r->next = regions;
	regions = r;
	text_stats.regions++;
	text_stats.regions_mapped++;
	text_stats.bytes_mapped += size;
	text_stats.pages += pages;
	return r;
}

/* Called with text_lock held. */
static void region_release(struct ftramp_text_region *r)
{
	struct ftramp_text_region **pp;

	for (pp = &regions; *pp != r; pp = &(*pp)->next)
		;
	*pp = r->next;
	/* Nothing of it is in use: its held pages go with it. */
	for (size_t i = 0; i < nr_held;) {
		if (held[i].r == r)
			held[i] = held[--nr_held];
		else
			i++;
	}
	region_unmap(r);
	text_stats.regions--;
	text_stats.regions_unmapped++;
	text_stats.bytes_mapped -= r->size;
	text_stats.pages -= r->size / ftramp_page_size();
	free(r->open);
	free(r);
}

static bool gran_used(const struct ftramp_text_region *r, uint32_t g)
{
	return r->map[g / 64] >> (g % 64) & 1;
}

static void gran_set(struct ftramp_text_region *r, uint32_t first,
		     uint32_t nr, bool used)
{
	for (uint32_t g = first; g < first + nr; g++) {
		if (used)
			r->map[g / 64] |= 1ull << (g % 64);
		else
			r->map[g / 64] &= ~(1ull << (g % 64));
	}
}

/*
 * First fit: the lowest run of nr free granules whose execute addresses
 * lie in [lo, hi).  Returns the first granule or -1.  Whole words of used
 * granules are skipped at once: a long-lived process fills its regions,
 * and each allocation used to test every granule of every region.
 */
static int64_t region_fit(const struct ftramp_text_region *r, uint32_t nr,
			  uint64_t lo, uint64_t hi)
{
	uint64_t base = (uintptr_t)r->rx;
	uint32_t run = 0;

	if (r->nr_gran - r->used_gran < nr)
		return -1;
	if (base + r->size <= lo || base >= hi)
		return -1;
	for (uint32_t g = 0; g < r->nr_gran; g++) {
		uint64_t start;

		if (!(g % 64) && r->map[g / 64] == ~0ull &&
		    r->nr_gran - g >= 64) {
			run = 0;
			g += 63;
			continue;
		}
		if (gran_used(r, g)) {
			run = 0;
			continue;
		}
		if (++run < nr)
			continue;
		start = base + (uint64_t)(g + 1 - nr) * FTRAMP_TEXT_GRANULE;
		if (start >= lo &&
		    start + (uint64_t)nr * FTRAMP_TEXT_GRANULE <= hi)
			return g + 1 - nr;
		if (start >= hi)
			break;
	}
	return -1;
}

static struct ftramp_text_region *region_of(uint64_t addr)
{
	for (struct ftramp_text_region *r = regions; r; r = r->next)
		if (addr >= (uintptr_t)r->rx &&
		    addr < (uintptr_t)r->rx + r->size)
			return r;
	return NULL;
}

/*
 * A hold (ftramp_text_hold()): windows opened meanwhile get an extra
 * reference, dropped once at the release, so that a batch of chunks
 * sharing pages costs one protection change per page, not one per chunk.
 * Under text_lock.
 */
/* Called with text_lock held, after page idx of r was opened (0 -> 1). */
static void hold_page_locked(struct ftramp_text_region *r, size_t idx)
{
	if (nr_held == cap_held) {
		size_t cap = cap_held ? 2 * cap_held : 64;
		struct held_page *v = realloc(held, cap * sizeof(*v));

		if (!v)
			return;	/* not held: closed as usual */
		held = v;
		cap_held = cap;
	}
	held[nr_held++] = (struct held_page){ .r = r, .idx = idx };
	r->open[idx]++;
}

/* Called with text_lock held. */
static int page_open_locked(struct ftramp_text_region *r, size_t idx)
{
	size_t ps = ftramp_page_size();
	int err;

	if (r->flags & FTRAMP_TEXT_ALIAS)
		return 0;
	if (r->open[idx]++)
		return 0;
	/* Keep PROT_EXEC: other trampolines on this page may be running. */
	err = ftramp_arch_mprotect(r->rx + idx * ps, ps,
				   r->prot | PROT_WRITE);
	if (err)
		r->open[idx]--;
	else if (hold_depth)
		hold_page_locked(r, idx);
	return err;
}

/* Called with text_lock held. */
static int page_close_locked(struct ftramp_text_region *r, size_t idx)
{
	size_t ps = ftramp_page_size();
	int err;

	if (r->flags & FTRAMP_TEXT_ALIAS)
		return 0;
	if (!r->open[idx])
		return -EINVAL;
	if (r->open[idx] > 1) {
		r->open[idx]--;
		return 0;
	}
	err = ftramp_arch_mprotect(r->rx + idx * ps, ps, r->prot);
	if (!err)
		r->open[idx]--;
	return err;
}

/* Pages [first, last] of r spanned by a chunk. */
static void chunk_pages(const struct ftramp_text_region *r, uint32_t first,
			uint32_t nr, size_t *p0, size_t *p1)
{
	size_t ps = ftramp_page_size();

	*p0 = (size_t)first * FTRAMP_TEXT_GRANULE / ps;
	*p1 = ((size_t)(first + nr) * FTRAMP_TEXT_GRANULE - 1) / ps;
}

static int chunk_open(struct ftramp_text_region *r, uint32_t first,
		      uint32_t nr)
{
	size_t p0, p1;
	int err = 0;

	chunk_pages(r, first, nr, &p0, &p1);
	for (size_t p = p0; p <= p1; p++) {
		err = page_open_locked(r, p);
		if (err) {
			while (p-- > p0)
				page_close_locked(r, p);
			break;
		}
	}
	return err;
}

static int chunk_close(struct ftramp_text_region *r, uint32_t first,
		       uint32_t nr)
{
	size_t p0, p1;
	int err = 0;

	chunk_pages(r, first, nr, &p0, &p1);
	for (size_t p = p0; p <= p1; p++) {
		int e = page_close_locked(r, p);

		if (e && !err)
			err = e;
	}
	return err;
}

static void chunk_fill(uint8_t *rw, size_t size)
{
	uint32_t *w = (uint32_t *)rw;

	for (size_t i = 0; i < size / 4; i++)
		w[i] = TEXT_FILL;
}

static int text_alloc(struct ftramp_text *t, size_t size, uint64_t lo,
		      uint64_t hi, uint64_t target, unsigned int flags)
{
	unsigned int kind = flags & (FTRAMP_TEXT_BTI | FTRAMP_TEXT_ALIAS);
	struct ftramp_text_region *r, *fresh = NULL;
	uint32_t nr;
	int64_t g = -1;
	bool far = false;
	int err;

	if (!t || !size || size > MAX_CHUNK || (flags & ~FTRAMP_TEXT_FLAGS_ALL))
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	nr = round_up(size, FTRAMP_TEXT_GRANULE) / FTRAMP_TEXT_GRANULE;

	pthread_mutex_lock(&text_lock);
	for (r = regions; r; r = r->next) {
		if ((r->flags & (FTRAMP_TEXT_BTI | FTRAMP_TEXT_ALIAS)) != kind)
			continue;
		if (flags & FTRAMP_TEXT_FAR) {
			if (!(r->flags & FTRAMP_TEXT_FAR))
				continue;
			g = region_fit(r, nr, 0, UINT64_MAX);
			far = true;
		} else {
			/* A far region may still happen to be in reach. */
			g = region_fit(r, nr, lo, hi);
		}
		if (g >= 0)
			break;
	}
	if (!r) {
		r = fresh = region_new((size_t)nr * FTRAMP_TEXT_GRANULE, flags,
				       lo, hi, target, &far);
		if (!r) {
			err = -errno;
			goto fail;
		}
		g = region_fit(r, nr, 0, UINT64_MAX);
	}

	err = chunk_open(r, g, nr);
	if (err) {
		if (fresh)
			region_release(fresh);
		goto fail;
	}
	gran_set(r, g, nr, true);
	r->used_gran += nr;
	r->chunks++;

	t->region = r;
	t->first = g;
	t->nr = nr;
	t->size = (size_t)nr * FTRAMP_TEXT_GRANULE;
	t->rx = r->rx + (size_t)g * FTRAMP_TEXT_GRANULE;
	t->rw = r->rw + (size_t)g * FTRAMP_TEXT_GRANULE;
	t->far = far;
	t->open = true;
	chunk_fill(t->rw, t->size);

	text_stats.chunks++;
	text_stats.bytes_used += t->size;
	if (far)
		text_stats.far_allocs++;
	else
		text_stats.near_allocs++;
	pthread_mutex_unlock(&text_lock);
	return 0;

fail:
	text_stats.failed_allocs++;
	pthread_mutex_unlock(&text_lock);
	return err;
}

int ftramp_text_alloc(struct ftramp_text *t, size_t size, uint64_t near,
		      unsigned int flags)
{
	/* Both directions: near -> chunk and chunk -> near. */
	uint64_t lo = near > FTRAMP_BL_RANGE - 4 ?
		      near - FTRAMP_BL_RANGE + 4 : 0;
	uint64_t hi = near + FTRAMP_BL_RANGE - 4;

	if (hi < near)
		hi = UINT64_MAX;
	return text_alloc(t, size, lo, hi, near, flags);
}

int ftramp_text_alloc_range(struct ftramp_text *t, size_t size, uint64_t lo,
			    uint64_t hi, unsigned int flags)
{
	if (lo >= hi)
		return -EINVAL;
	return text_alloc(t, size, lo, hi, lo + (hi - lo) / 2, flags);
}

int ftramp_text_publish(struct ftramp_text *t)
{
	int err = 0;

	if (!t || !t->region)
		return -EINVAL;
	pthread_mutex_lock(&text_lock);
	/*
	 * Clean + invalidate before the window closes: the order does not
	 * matter to the caches, and the chunk is unreachable until a poke
	 * publishes it, which brings its own barriers.
	 */
	arm64_sync_icache_range((uintptr_t)t->rx, (uintptr_t)t->rx + t->size);
	if (t->open) {
		err = chunk_close(t->region, t->first, t->nr);
		if (!err)
			t->open = false;
	}
	pthread_mutex_unlock(&text_lock);
	return err;
}

int ftramp_text_trim(struct ftramp_text *t, size_t size)
{
	struct ftramp_text_region *r;
	uint32_t nr, tail;
	size_t p0, p1, q0, q1;

	if (!t || !t->region || !size || size > t->size)
		return -EINVAL;
	nr = round_up(size, FTRAMP_TEXT_GRANULE) / FTRAMP_TEXT_GRANULE;
	if (nr == t->nr)
		return 0;
	r = t->region;
	tail = t->nr - nr;
	pthread_mutex_lock(&text_lock);
	if (t->open) {
		/* Close the window on the pages only the tail spanned. */
		chunk_pages(r, t->first, t->nr, &p0, &p1);
		chunk_pages(r, t->first, nr, &q0, &q1);
		for (size_t p = q1 + 1; p <= p1; p++)
			(void)page_close_locked(r, p);
	}
	/* Never published, still BRK: free to hand out again at once. */
	gran_set(r, t->first + nr, tail, false);
	r->used_gran -= tail;
	text_stats.bytes_used -= (size_t)tail * FTRAMP_TEXT_GRANULE;
	t->nr = nr;
	t->size = (size_t)nr * FTRAMP_TEXT_GRANULE;
	pthread_mutex_unlock(&text_lock);
	return 0;
}

/*
 * A freed chunk is filled with BRK again before its granules go back,
 * so that a use after free traps instead of running stale code.  The
 * chunk was reclaimed (or never published): no thread executes it, so
 * writing words that are not in B2.2.5's list of concurrently
 * modifiable instructions is allowed (Arm ARM B2.2.5, "Concurrent
 * modification and execution of instructions", applies only to words
 * another PE may be executing).  The same W^X discipline as an
 * allocation: the chunk's pages are opened (PROT_EXEC kept: neighbours
 * may run) and closed again, or written through the alias.  Then clean
 * to the point of unification and invalidate the I-cache for the range
 * (dc cvau, dsb ish, ic ivau, dsb ish), so that no PE's I-cache keeps
 * the old code for these addresses.  If the pages cannot be opened the
 * old code stays: still unreachable, as before this fill existed.
 * Called with text_lock held; the region is not being released.
 */
static void chunk_poison(struct ftramp_text *t)
{
	struct ftramp_text_region *r = t->region;

	if (!t->open && chunk_open(r, t->first, t->nr))
		return;
	chunk_fill(t->rw, t->size);
	arm64_sync_icache_range((uintptr_t)t->rx, (uintptr_t)t->rx + t->size);
	(void)chunk_close(r, t->first, t->nr);
	t->open = false;
	text_stats.chunks_poisoned++;
}

void ftramp_text_free(struct ftramp_text *t)
{
	struct ftramp_text_region *r;

	if (!t || !t->region)
		return;
	r = t->region;
	pthread_mutex_lock(&text_lock);
	if (r->chunks > 1)
		chunk_poison(t);	/* the region stays mapped */
	if (t->open)
		(void)chunk_close(r, t->first, t->nr);
	gran_set(r, t->first, t->nr, false);
	r->used_gran -= t->nr;
	r->chunks--;
	text_stats.chunks--;
	text_stats.bytes_used -= t->size;
	if (!r->chunks)
		region_release(r);
	pthread_mutex_unlock(&text_lock);
	memset(t, 0, sizeof(*t));
}

int ftramp_text_lookup(const void *addr, size_t len, void **rw, int *prot)
{
	uint64_t a = (uintptr_t)addr;
	struct ftramp_text_region *r;
	int ret = 0;

	pthread_mutex_lock(&text_lock);
	r = region_of(a);
	if (r && a + len <= (uintptr_t)r->rx + r->size) {
		if (rw)
			*rw = (r->flags & FTRAMP_TEXT_ALIAS) ?
				r->rw + (a - (uintptr_t)r->rx) : NULL;
		if (prot)
			*prot = r->prot;
		ret = 1;
	}
	pthread_mutex_unlock(&text_lock);
	return ret;
}

static int page_op(void *page, bool open)
{
	uint64_t a = (uintptr_t)page;
	struct ftramp_text_region *r;
	int err = -ENOENT;

	if (a & (ftramp_page_size() - 1))
		return -EINVAL;
	pthread_mutex_lock(&text_lock);
	r = region_of(a);
	if (r) {
		size_t idx = (a - (uintptr_t)r->rx) / ftramp_page_size();

		err = open ? page_open_locked(r, idx) :
			     page_close_locked(r, idx);
	}
	pthread_mutex_unlock(&text_lock);
	return err;
}

void ftramp_text_hold(void)
{
	pthread_mutex_lock(&text_lock);
	hold_depth++;
	pthread_mutex_unlock(&text_lock);
}

int ftramp_text_release(void)
{
	int err = 0;

	pthread_mutex_lock(&text_lock);
	if (hold_depth && !--hold_depth) {
		for (size_t i = 0; i < nr_held; i++) {
			int e = page_close_locked(held[i].r, held[i].idx);

			if (e && !err)
				err = e;
		}
		nr_held = 0;
	}
	pthread_mutex_unlock(&text_lock);
	return err;
}

int ftramp_text_page_open(void *page)
{
	return page_op(page, true);
}

int ftramp_text_page_close(void *page)
{
	return page_op(page, false);
}

void ftramp_text_get_stats(struct ftramp_text_stats *st)
{
	pthread_mutex_lock(&text_lock);
	*st = text_stats;
	pthread_mutex_unlock(&text_lock);
}

/* fork(): 0 takes the lock, 1 (parent) and 2 (child) release it (ftrace/fork.c) */
void ftramp_text_atfork(int stage)
{
	if (stage == 0)
		pthread_mutex_lock(&text_lock);
	else
		pthread_mutex_unlock(&text_lock);
}
