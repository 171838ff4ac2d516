// SPDX-License-Identifier: MIT
/*
 * Runtime state of a trampoline image: the in-flight and miss counters and
 * the per-thread recursion guard the emitted code reaches inline.
 *
 * The guard is a per-thread table of FTRAMP_GUARD_SLOTS bytes, one per
 * image (slot), found through an initial-exec TLS pointer: the offset of
 * ftramp_guard_tbl from the thread pointer (TPIDR_EL0) is the same in
 * every thread, so a trampoline finds its byte with `mrs` and two loads,
 * no call (the kernel's per-CPU prog->active, per thread).  Until a
 * thread has a table, its pointer is guard_none, every byte BUSY, so the
 * emitted fast path needs no NULL test: the first entry takes the miss
 * path, which sees guard_none and calls guard_slow() to map the table
 * (every byte FREE).  A thread-exit destructor unmaps it and points the
 * thread back at guard_none for good.
 *
 * The table starts FTRAMP_GUARD_TBL_BIAS (0x80, FTRAMP_GUARD_FREE) bytes
 * into its mapping: an image frees its byte by storing the low byte of
 * the table pointer it holds in x19, with no constant to load.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "trampoline/trampoline.h"

#ifndef HWCAP_ATOMICS
#define HWCAP_ATOMICS	(1 << 8)	/* arm64 <asm/hwcap.h> */
#endif

#define GUARD_MAP_SIZE	(FTRAMP_GUARD_TBL_BIAS + FTRAMP_GUARD_SLOTS)

_Static_assert((FTRAMP_GUARD_TBL_BIAS & 0xff) == FTRAMP_GUARD_FREE,
	       "a guard table pointer's low byte must read FREE");

/* Every slot BUSY (FTRAMP_GUARD_BUSY is 0): read, never written. */
static uint8_t guard_none[FTRAMP_GUARD_SLOTS];

static __thread uint8_t *ftramp_guard_tbl
	__attribute__((tls_model("initial-exec"))) = guard_none;
/* Set while guard_slow() runs: a traced function it calls is a miss. */
static __thread bool ftramp_guard_busy
	__attribute__((tls_model("initial-exec")));
/* The thread's table was torn down: entries count as misses. */
static __thread bool ftramp_guard_dead
	__attribute__((tls_model("initial-exec")));

static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static pthread_key_t guard_key;
static int guard_key_err;

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t slot_used[FTRAMP_GUARD_SLOTS];	/* images per slot */
static unsigned int slot_next;

static void guard_destroy(void *tbl)
{
	/* Whatever runs after this on the thread runs as a miss. */
	ftramp_guard_dead = true;
	ftramp_guard_tbl = guard_none;
	munmap((uint8_t *)tbl - FTRAMP_GUARD_TBL_BIAS, GUARD_MAP_SIZE);
}

static void guard_key_init(void)
{
	guard_key_err = pthread_key_create(&guard_key, guard_destroy);
}

/*
 * Called by an image (AAPCS64, arguments already saved) when this
 * thread's table pointer is guard_none.  Returns the table, or NULL to
 * make the entry a counted miss (no memory, a torn-down thread, or
 * re-entered from a traced function called below).  The table comes
 * from mmap rather than malloc so that tracing malloc cannot recurse
 * into here.
 */
static uint8_t *guard_slow(void)
{
	uint8_t *map, *tbl;

	if (ftramp_guard_busy || ftramp_guard_dead)
		return NULL;
	if (ftramp_guard_tbl != guard_none)
		return ftramp_guard_tbl;
	ftramp_guard_busy = true;
	pthread_once(&guard_once, guard_key_init);
	tbl = NULL;
	if (!guard_key_err) {
		map = mmap(NULL, GUARD_MAP_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		tbl = map == MAP_FAILED ? NULL : map + FTRAMP_GUARD_TBL_BIAS;
		if (tbl && pthread_setspecific(guard_key, tbl)) {
			munmap(map, GUARD_MAP_SIZE);
			tbl = NULL;
		} else if (tbl) {
			memset(tbl, FTRAMP_GUARD_FREE, FTRAMP_GUARD_SLOTS);
		}
	}
	if (tbl)
		ftramp_guard_tbl = tbl;
	ftramp_guard_busy = false;
	return tbl;
}

int ftramp_tramp_state_init(struct ftramp_tramp_state *st)
{
	unsigned int i, best;

	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->guard_tls_off = (int64_t)((uintptr_t)&ftramp_guard_tbl -
				      (uintptr_t)__builtin_thread_pointer());
	st->guard_slow = guard_slow;
	st->guard_none = guard_none;

	/* A free slot if any, else the least shared one. */
	pthread_mutex_lock(&slot_lock);
	best = slot_next;
	for (i = 0; i < FTRAMP_GUARD_SLOTS; i++) {
		unsigned int s = (slot_next + i) % FTRAMP_GUARD_SLOTS;

		if (!slot_used[s]) {
			best = s;
			break;
		}
		if (slot_used[s] < slot_used[best])
			best = s;
	}
	if (slot_used[best] == UINT8_MAX) {
		pthread_mutex_unlock(&slot_lock);
		return -ENOSPC;
	}
	slot_used[best]++;
	slot_next = (best + 1) % FTRAMP_GUARD_SLOTS;
	pthread_mutex_unlock(&slot_lock);
	st->guard_slot = (int32_t)best;
	return 0;
}

void ftramp_tramp_state_fini(struct ftramp_tramp_state *st)
{
	if (!st || st->guard_slot < 0 || st->guard_slot >= FTRAMP_GUARD_SLOTS)
		return;
	pthread_mutex_lock(&slot_lock);
	if (slot_used[st->guard_slot])
		slot_used[st->guard_slot]--;
	pthread_mutex_unlock(&slot_lock);
	st->guard_slot = -1;
}

uint64_t ftramp_tramp_state_inflight(const struct ftramp_tramp_state *st)
{
	return __atomic_load_n(&st->inflight, __ATOMIC_ACQUIRE) /
	       FTRAMP_INFLIGHT_UNIT;
}

uint64_t ftramp_tramp_state_misses(const struct ftramp_tramp_state *st)
{
	return __atomic_load_n(&st->misses, __ATOMIC_RELAXED);
}

uint64_t ftramp_tramp_state_unwound(const struct ftramp_tramp_state *st)
{
	return __atomic_load_n(&st->unwound, __ATOMIC_RELAXED);
}

/*
 * The epilogue's releases, for a frame an unwind leaves (unwind.c).  The
 * table is this thread's, the one the entry loaded into x19: the thread
 * is still running (its TLS destructors run after a forced unwind ends).
 */
void ftramp_tramp_state_unwind(struct ftramp_tramp_state *st,
			       unsigned int held)
{
	uint8_t *tbl = ftramp_guard_tbl;

	if ((held & A64_UW_GUARD) && tbl != guard_none &&
	    st->guard_slot >= 0 && st->guard_slot < FTRAMP_GUARD_SLOTS)
		__atomic_store_n(&tbl[st->guard_slot], FTRAMP_GUARD_FREE,
				 __ATOMIC_RELAXED);
	if (held & A64_UW_INFLIGHT) {
		__atomic_fetch_add(&st->unwound, 1, __ATOMIC_RELAXED);
		/* Last: the state may be freed once the count drops. */
		__atomic_fetch_sub(&st->inflight, FTRAMP_INFLIGHT_UNIT,
				   __ATOMIC_RELEASE);
	}
}

bool ftramp_tramp_cpu_has_lse(void)
{
	return getauxval(AT_HWCAP) & HWCAP_ATOMICS;
}
