/* SPDX-License-Identifier: MIT */
/*
 * Per-thread generation slots written from a signal handler: the
 * acknowledgements of sync_signal.c and the park acknowledgements of
 * stop_machine.c.  Slot n holds the highest generation thread n of a
 * sync (or stop) acknowledged; the cookie of the signal names the slot.
 *
 * The table grows (gen_slots_reserve(), outside any handler, callers
 * serialised by text_mutex) and is never freed: a larger table replaces
 * the current one and keeps the old on its prev chain, because a late
 * handler -- a stale signal that was blocked for a while -- may hold the
 * old pointer and still store into it.  Slot numbers mean the same in
 * every table of the chain, so the waiter reads a slot in all of them
 * and keeps the highest (gen_slots_load()).
 *
 * The handler side (gen_slots_store()) takes no lock, allocates nothing
 * and calls nothing: atomics only, async-signal-safe.
 */
#ifndef FTRAMP_ARCH_ARM64_GEN_SLOTS_H
#define FTRAMP_ARCH_ARM64_GEN_SLOTS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "arch/arm64/sync_signal.h"

/* A cookie carries the slot in its low FTRAMP_SYNC_SLOT_BITS. */
#define GEN_SLOTS_MAX	(1u << FTRAMP_SYNC_SLOT_BITS)

struct gen_tab {
	struct gen_tab *prev;	/* smaller, retired: never freed */
	uint32_t nr;
	uint64_t gen[];		/* highest generation acknowledged */
};

struct gen_slots {
	struct gen_tab *cur;	/* atomic: the largest table */
};

/*
 * Slots [0, nr) exist in the current table; a larger one replaces it.
 * 0, -E2BIG past GEN_SLOTS_MAX, -ENOMEM.  Not from a handler (calloc).
 *
 * Ordering: the new table is filled in (zeroed slots, prev, nr) before
 * the store-release that publishes it; a handler or waiter that loads
 * the pointer with acquire sees it whole.  Nothing written before the
 * publication changes afterwards, so no stronger ordering is needed.
 * Only this function writes cur and its callers are serialised: the
 * relaxed load reads our own last store.
 */
static inline int gen_slots_reserve(struct gen_slots *s, uint32_t nr)
{
	struct gen_tab *t = __atomic_load_n(&s->cur, __ATOMIC_RELAXED), *n;
	uint32_t cap = t ? t->nr : 64;

	if (t && nr <= t->nr)
		return 0;
	if (nr > GEN_SLOTS_MAX)
		return -E2BIG;
	while (cap < nr)
		cap *= 2;
	n = calloc(1, sizeof(*n) + (size_t)cap * sizeof(n->gen[0]));
	if (!n)
		return -ENOMEM;
	n->prev = t;
	n->nr = cap;
	__atomic_store_n(&s->cur, n, __ATOMIC_RELEASE);
	return 0;
}

/*
 * From the signal handler: raise `slot` to `gen` in the table current
 * now; a slot never goes down (compare-and-swap), so a stale, older
 * generation cannot erase the acknowledgement of a newer one.  A slot
 * beyond the table (a forged or very stale cookie) is ignored.
 *
 * Ordering: acquire on the pointer pairs with the release in
 * gen_slots_reserve() (the table is initialised).  The CAS is a
 * store-release: whatever the handler did before in program order is
 * visible to a waiter whose acquire load in gen_slots_load() sees this
 * generation -- that is all an acknowledgement promises.  There is one
 * writer per slot per generation and the value only grows, so no order
 * among different slots, hence nothing sequentially consistent, is
 * needed.  A failed CAS writes nothing: relaxed, it only refreshes old.
 */
static inline void gen_slots_store(struct gen_slots *s, uint32_t slot,
				   uint64_t gen)
{
	struct gen_tab *t = __atomic_load_n(&s->cur, __ATOMIC_ACQUIRE);
	uint64_t *p, old;

	if (!t || slot >= t->nr)
		return;
	p = &t->gen[slot];
	old = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (old < gen &&
	       !__atomic_compare_exchange_n(p, &old, gen, true,
					    __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

/*
 * Highest generation stored in `slot`, over every table of the chain
 * (a handler may have written into a retired one).
 *
 * Ordering: acquire on the pointer pairs with gen_slots_reserve();
 * prev and nr never change after publication, so plain reads follow.
 * Acquire on each slot pairs with the release of gen_slots_store():
 * seeing the generation means seeing what the handler did before it.
 */
static inline uint64_t gen_slots_load(struct gen_slots *s, uint32_t slot)
{
	uint64_t best = 0;

	for (struct gen_tab *t = __atomic_load_n(&s->cur, __ATOMIC_ACQUIRE);
	     t; t = t->prev)
		if (slot < t->nr) {
			uint64_t g = __atomic_load_n(&t->gen[slot],
						     __ATOMIC_ACQUIRE);

			best = g > best ? g : best;
		}
	return best;
}

#endif /* FTRAMP_ARCH_ARM64_GEN_SLOTS_H */
