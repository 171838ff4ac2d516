/* SPDX-License-Identifier: MIT */
/*
 * The library's locks and their one order, checked in debug builds.
 *
 * fork() needs every lock of the library taken in one order
 * (ftrace/fork.c), and that order is only deadlock-free if no thread ever
 * nests two locks against it.  This is the order, outermost first: a
 * thread may take a lock only while every lock it holds has a smaller
 * class.  Each lock's owner file names its class once, next to the lock
 * (FTRAMP_LOCK_CLASS() for a static lock, ftramp_lockdep_set_class() for
 * one in a struct).
 *
 * Built with FTRAMP_DEBUG_LOCKS (`make DEBUG_LOCKS=1`; make check runs
 * attach_test and ftrace_test so), a file that includes this header has
 * its pthread_mutex / rwlock calls checked against the order: a per-thread
 * mask of the classes held, and taking a class at or below the highest
 * one held (one's own mutex again included; a read lock held only for
 * reading may be read again) prints both locks and aborts before it
 * blocks.  A trylock does not block, so it is not checked, only counted.
 * Without FTRAMP_DEBUG_LOCKS all of it compiles to nothing.
 */
#ifndef FTRAMP_LIB_LOCKDEP_H
#define FTRAMP_LIB_LOCKDEP_H

#include <pthread.h>

/*
 * Each class: its lock, the owner file, and the classes a thread may hold
 * when it takes it (the code's nesting: every one is smaller).
 */
enum ftramp_lock_class {
	FTRAMP_LOCK_NONE,	/* not checked */
	FTRAMP_LOCK_FTRACE,	/* 1 ftrace_lock, ftrace/ops.c: outermost */
	FTRAMP_LOCK_SITES,	/* 2 g_sites_lock, ftrace/sites.c: 1 */
	FTRAMP_LOCK_SITES_SCAN,	/* 3 scan_lock, ftrace/sites.c: 1, 2 */
	FTRAMP_LOCK_SITES_INDEX, /* 4 the table's rwlock, ftrace/sites.c:
				  * 1, 2, 3 */
	FTRAMP_LOCK_RECLAIM,	/* 5 reclaim_lock, ftrace/reclaim.c: 1, 3
				 * (ops.c's unpinning walks objects) */
	FTRAMP_LOCK_TEXT_POKE,	/* 6 text_mutex, arch/arm64/patching.c: 1 */
	FTRAMP_LOCK_TEXT_ALLOC,	/* 7 text_lock, arch/arm64/text_alloc.c:
				 * 1, 6 (alias lookup) */
	FTRAMP_LOCK_JIT,	/* 8 jit_lock, trampoline/jitdebug.c: 1 */
	FTRAMP_LOCK_UNWIND,	/* 9 uw_lock, trampoline/unwind.c: 1 (and
				 * libgcc's object lock inside) */
	FTRAMP_LOCK_THUNKS,	/* 10 thunks_lock, trampoline/thunk.c: leaf */
	FTRAMP_LOCK_SLOTS,	/* 11 slot_lock, trampoline/image.c: 1 */
	FTRAMP_LOCK_PHDR,	/* 12 phdr_lock, lib/phdr.c: any (around
				 * dl_iterate_phdr() only) */
	FTRAMP_LOCK_FAULT,	/* 13 fault_lock, lib/fault_inject.c: any */
	FTRAMP_LOCK_NR,
};

#ifdef FTRAMP_DEBUG_LOCKS

/* The lock at @lock has class @cls (0: forget it). */
void ftramp_lockdep_set_class(const void *lock, unsigned int cls);
/* Classes this thread holds (bit n: class n), for tests. */
unsigned int ftramp_lockdep_held(void);

int ftramp_lockdep_mutex_lock(pthread_mutex_t *m);
int ftramp_lockdep_mutex_trylock(pthread_mutex_t *m);
int ftramp_lockdep_mutex_unlock(pthread_mutex_t *m);
int ftramp_lockdep_rwlock_rdlock(pthread_rwlock_t *l);
int ftramp_lockdep_rwlock_wrlock(pthread_rwlock_t *l);
int ftramp_lockdep_rwlock_unlock(pthread_rwlock_t *l);
int ftramp_lockdep_rwlock_init(pthread_rwlock_t *l,
			       const pthread_rwlockattr_t *a);

#define pthread_mutex_lock(m)		ftramp_lockdep_mutex_lock(m)
#define pthread_mutex_trylock(m)	ftramp_lockdep_mutex_trylock(m)
#define pthread_mutex_unlock(m)		ftramp_lockdep_mutex_unlock(m)
#define pthread_rwlock_rdlock(l)	ftramp_lockdep_rwlock_rdlock(l)
#define pthread_rwlock_wrlock(l)	ftramp_lockdep_rwlock_wrlock(l)
#define pthread_rwlock_unlock(l)	ftramp_lockdep_rwlock_unlock(l)
/* A re-initialised rwlock (a fork child's) is held by nobody. */
#define pthread_rwlock_init(l, a)	ftramp_lockdep_rwlock_init(l, a)

#define FTRAMP_LOCK_CLASS(lock, cls)					\
	__attribute__((constructor)) static void lockdep_class_##lock(void) \
	{								\
		ftramp_lockdep_set_class(&(lock), (cls));		\
	}								\
	_Static_assert((cls) > FTRAMP_LOCK_NONE && (cls) < FTRAMP_LOCK_NR, \
		       #lock)

#else

static inline void ftramp_lockdep_set_class(const void *lock, unsigned int cls)
{
}

#define FTRAMP_LOCK_CLASS(lock, cls)					\
	_Static_assert((cls) > FTRAMP_LOCK_NONE && (cls) < FTRAMP_LOCK_NR, \
		       #lock)

#endif /* FTRAMP_DEBUG_LOCKS */

#endif /* FTRAMP_LIB_LOCKDEP_H */
