// SPDX-License-Identifier: MIT
/*
 * The lock-order check of debug builds (lib/lockdep.h): locks taken in
 * the order pass, a lock taken against it aborts before it blocks, one's
 * own mutex taken again aborts, read locks may nest in themselves only
 * for reading, and a trylock is counted but never refused.  Built with
 * FTRAMP_DEBUG_LOCKS (selftests/lockdep.mk), so this file's pthread calls
 * go through the check like the library's.
 */
#include <pthread.h>

#include "lib/lockdep.h"
#include "selftests/harness.h"

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;	/* 1 */
static pthread_mutex_t middle = PTHREAD_MUTEX_INITIALIZER;	/* 5 */
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;	/* 12 */
static pthread_rwlock_t index_lock = PTHREAD_RWLOCK_INITIALIZER; /* 4 */
static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;	/* none */

FTRAMP_LOCK_CLASS(outer, FTRAMP_LOCK_FTRACE);
FTRAMP_LOCK_CLASS(middle, FTRAMP_LOCK_RECLAIM);
FTRAMP_LOCK_CLASS(inner, FTRAMP_LOCK_FAULT);
FTRAMP_LOCK_CLASS(index_lock, FTRAMP_LOCK_SITES_INDEX);

#define BIT(c)	(1u << (c))

TEST(in_order_is_tracked)
{
	ASSERT_EQ(0, ftramp_lockdep_held());
	pthread_mutex_lock(&outer);
	pthread_rwlock_rdlock(&index_lock);
	pthread_mutex_lock(&middle);
	pthread_mutex_lock(&inner);
	EXPECT_EQ(BIT(FTRAMP_LOCK_FTRACE) | BIT(FTRAMP_LOCK_SITES_INDEX) |
		  BIT(FTRAMP_LOCK_RECLAIM) | BIT(FTRAMP_LOCK_FAULT),
		  ftramp_lockdep_held());
	pthread_mutex_unlock(&inner);
	pthread_mutex_unlock(&middle);
	pthread_rwlock_unlock(&index_lock);
	EXPECT_EQ(BIT(FTRAMP_LOCK_FTRACE), ftramp_lockdep_held());
	/* Skipping classes is fine; a lock with no class is not looked at. */
	pthread_mutex_lock(&inner);
	pthread_mutex_lock(&plain);
	pthread_mutex_unlock(&plain);
	pthread_mutex_unlock(&inner);
	pthread_mutex_unlock(&outer);
	EXPECT_EQ(0, ftramp_lockdep_held());
}

TEST_SIGNAL(against_the_order_aborts, SIGABRT)
{
	pthread_mutex_lock(&middle);
	pthread_mutex_lock(&outer);	/* 1 under 5 */
}

TEST_SIGNAL(skipping_back_aborts, SIGABRT)
{
	pthread_mutex_lock(&outer);
	pthread_mutex_lock(&inner);
	pthread_mutex_unlock(&outer);
	/* Still holding 12: 5 may not be taken now. */
	pthread_mutex_lock(&middle);
}

TEST_SIGNAL(own_mutex_again_aborts, SIGABRT)
{
	pthread_mutex_lock(&middle);
	pthread_mutex_lock(&middle);	/* would deadlock: caught first */
}

TEST(read_lock_nests_for_reading)
{
	pthread_rwlock_rdlock(&index_lock);
	pthread_rwlock_rdlock(&index_lock);
	pthread_rwlock_unlock(&index_lock);
	EXPECT_EQ(BIT(FTRAMP_LOCK_SITES_INDEX), ftramp_lockdep_held());
	pthread_rwlock_unlock(&index_lock);
	EXPECT_EQ(0, ftramp_lockdep_held());
}

TEST_SIGNAL(write_under_own_read_aborts, SIGABRT)
{
	pthread_rwlock_rdlock(&index_lock);
	pthread_rwlock_wrlock(&index_lock);
}

TEST(trylock_is_counted_not_refused)
{
	pthread_mutex_lock(&inner);
	ASSERT_EQ(0, pthread_mutex_trylock(&outer));	/* cannot deadlock */
	EXPECT_EQ(BIT(FTRAMP_LOCK_FTRACE) | BIT(FTRAMP_LOCK_FAULT),
		  ftramp_lockdep_held());
	pthread_mutex_unlock(&outer);
	pthread_mutex_unlock(&inner);
	EXPECT_EQ(0, ftramp_lockdep_held());
}

TEST(reinit_forgets_a_held_rwlock)
{
	/* A fork child re-initialises the index lock it held (sites.c). */
	pthread_rwlock_wrlock(&index_lock);
	pthread_rwlock_init(&index_lock, NULL);
	EXPECT_EQ(0, ftramp_lockdep_held());
}

TEST_HARNESS_MAIN
