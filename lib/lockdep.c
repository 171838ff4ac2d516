// SPDX-License-Identifier: MIT
/*
 * The lock-order check of debug builds (lib/lockdep.h): which class each
 * lock has, and per thread which classes it holds.  Empty without
 * FTRAMP_DEBUG_LOCKS.
 */
#include "lib/lockdep.h"

#ifdef FTRAMP_DEBUG_LOCKS

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const class_names[FTRAMP_LOCK_NR] = {
	[FTRAMP_LOCK_FTRACE]		= "ftrace_lock",
	[FTRAMP_LOCK_SITES]		= "g_sites_lock",
	[FTRAMP_LOCK_SITES_SCAN]	= "sites scan_lock",
	[FTRAMP_LOCK_SITES_INDEX]	= "sites index rwlock",
	[FTRAMP_LOCK_RECLAIM]		= "reclaim_lock",
	[FTRAMP_LOCK_TEXT_POKE]		= "text_mutex",
	[FTRAMP_LOCK_TEXT_ALLOC]	= "text_lock",
	[FTRAMP_LOCK_JIT]		= "jit_lock",
	[FTRAMP_LOCK_UNWIND]		= "uw_lock",
	[FTRAMP_LOCK_THUNKS]		= "thunks_lock",
	[FTRAMP_LOCK_SLOTS]		= "slot_lock",
	[FTRAMP_LOCK_PHDR]		= "phdr_lock",
	[FTRAMP_LOCK_FAULT]		= "fault_lock",
};

/*
 * Lock address -> class.  Written by constructors and table set-up,
 * read lock-free: an entry's class is stored before its address.
 */
#define MAX_LOCKS	32

static struct {
	const void *lock;
	unsigned int cls;
} classes[MAX_LOCKS];

static __thread unsigned int held;		/* bit n: class n held */
static __thread unsigned int read_only;		/* ... for reading only */
static __thread uint8_t depth[FTRAMP_LOCK_NR];	/* read re-entries */

void ftramp_lockdep_set_class(const void *lock, unsigned int cls)
{
	static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
	int free_slot = -1;

	if (cls >= FTRAMP_LOCK_NR)
		abort();
	(pthread_mutex_lock)(&set_lock);
	for (int i = 0; i < MAX_LOCKS; i++) {
		if (classes[i].lock == lock) {
			__atomic_store_n(&classes[i].cls, cls, __ATOMIC_RELEASE);
			if (!cls)
				__atomic_store_n(&classes[i].lock, NULL,
						 __ATOMIC_RELEASE);
			free_slot = -2;
			break;
		}
		if (!classes[i].lock && free_slot == -1)
			free_slot = i;
	}
	if (free_slot == -1 && cls) {
		fprintf(stderr, "ftramp: lockdep: more than %d locks\n",
			MAX_LOCKS);
		abort();
	}
	if (free_slot >= 0 && cls) {
		classes[free_slot].cls = cls;
		__atomic_store_n(&classes[free_slot].lock, lock,
				 __ATOMIC_RELEASE);
	}
	(pthread_mutex_unlock)(&set_lock);
}

unsigned int ftramp_lockdep_held(void)
{
	return held;
}

static unsigned int class_of(const void *lock)
{
	for (int i = 0; i < MAX_LOCKS; i++)
		if (__atomic_load_n(&classes[i].lock, __ATOMIC_ACQUIRE) == lock)
			return __atomic_load_n(&classes[i].cls,
					       __ATOMIC_ACQUIRE);
	return FTRAMP_LOCK_NONE;
}

/* Before a blocking acquisition of class c: abort if it breaks the order. */
static void check(unsigned int c, bool read)
{
	unsigned int at_or_after = held & ~((1u << c) - 1);
	unsigned int worst;

	/* A read lock this thread holds only for reading: read it again. */
	if (read && at_or_after == (1u << c) && (read_only & (1u << c)))
		return;
	if (!at_or_after)
		return;
	worst = 31 - __builtin_clz(at_or_after);
	fprintf(stderr, "ftramp: lock order violated: taking %s (class %u) "
		"while holding %s (class %u); the order is in lib/lockdep.h\n",
		class_names[c], c, class_names[worst], worst);
	abort();
}

static void acquired(unsigned int c, bool read)
{
	if (!depth[c]++) {
		held |= 1u << c;
		if (read)
			read_only |= 1u << c;
	}
}

static void released(unsigned int c)
{
	if (depth[c] && !--depth[c]) {
		held &= ~(1u << c);
		read_only &= ~(1u << c);
	}
}

static unsigned int before(const void *lock, bool read)
{
	unsigned int c = class_of(lock);

	if (c)
		check(c, read);
	return c;
}

/*
 * Take @lock with @take: checked first when it may block, counted when
 * it was taken.  @take is the real function: in parentheses, so that the
 * header's macro does not expand it.
 */
#define TAKE(take, lock, read, blocks) ({				\
	unsigned int c = (blocks) ? before(lock, read) : class_of(lock); \
	int err = (take)(lock);						\
									\
	if (!err && c)							\
		acquired(c, read);					\
	err;								\
})

#define GIVE(give, lock) ({						\
	unsigned int c = class_of(lock);				\
									\
	if (c)								\
		released(c);						\
	(give)(lock);							\
})

int ftramp_lockdep_mutex_lock(pthread_mutex_t *m)
{
	return TAKE((pthread_mutex_lock), m, false, true);
}

int ftramp_lockdep_mutex_trylock(pthread_mutex_t *m)
{
	return TAKE((pthread_mutex_trylock), m, false, false);
}

int ftramp_lockdep_mutex_unlock(pthread_mutex_t *m)
{
	return GIVE((pthread_mutex_unlock), m);
}

int ftramp_lockdep_rwlock_rdlock(pthread_rwlock_t *l)
{
	return TAKE((pthread_rwlock_rdlock), l, true, true);
}

int ftramp_lockdep_rwlock_wrlock(pthread_rwlock_t *l)
{
	return TAKE((pthread_rwlock_wrlock), l, false, true);
}

int ftramp_lockdep_rwlock_unlock(pthread_rwlock_t *l)
{
	return GIVE((pthread_rwlock_unlock), l);
}

int ftramp_lockdep_rwlock_init(pthread_rwlock_t *l,
			       const pthread_rwlockattr_t *a)
{
	unsigned int c = class_of(l);

	if (c) {
		depth[c] = 0;
		held &= ~(1u << c);
		read_only &= ~(1u << c);
	}
	return (pthread_rwlock_init)(l, a);
}

#endif /* FTRAMP_DEBUG_LOCKS */
