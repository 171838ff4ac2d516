// SPDX-License-Identifier: MIT
/*
 * The recursion guard and what it must not lose (Documentation/
 * trampoline.rst, "Recursion guard", "In-flight counter"):
 *
 *  - a thread's first entry into an image maps its guard table
 *    (guard_slow(), which calls mmap) only after counting itself in: an
 *    image detached meanwhile is not freed under it;
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/site_bytes.h"
#include "trampoline/trampoline.h"

long g_first(long a);

TRACEE long g_first(long a) { return a + 1; }

static uint64_t entries;

static uint64_t prog_entry(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_fetch_add(&entries, 1, __ATOMIC_RELAXED);
	return 0;
}

static struct ftramp_link *attach_model(struct __test_metadata *_metadata,
					const char *func,
					enum ftramp_attach_kind kind,
					ftramp_prog_t prog, const char *proto)
{
	struct ftramp_func_model m;
	struct ftramp_attach_opts o = { .sz = sizeof(o), .model = &m };
	struct ftramp_link *l;

	if (ftramp_model__parse(proto, &m, NULL)) {
		TH_LOG("cannot parse %s", proto);
		return NULL;
	}
	l = ftramp_attach(func, kind, prog, &o);
	if (!l)
		TH_LOG("attach %s: %s", func, strerror(errno));
	return l;
}

static uint64_t images_freed(void)
{
	struct ftramp_reclaim_stats st = { .sz = sizeof(st) };

	if (ftramp_reclaim__stats(&st))
		return UINT64_MAX;
	return st.images_freed;
}

/* ------------------------------------------------------------------
 * A thread's first entry: counted in before guard_slow()
 * ------------------------------------------------------------------ */

static volatile int held, release_held;

/* Runs inside guard_slow(), where its mmap() would be. */
static void hold_in_slow(void)
{
	__atomic_store_n(&held, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&release_held, __ATOMIC_ACQUIRE))
		;
}

static void *first_caller(void *arg)
{
	*(long *)arg = g_first(41);
	return NULL;
}

/*
 * A new thread (no guard table yet) enters the image and is held inside
 * guard_slow().  The link is destroyed meanwhile, the image retired:
 * reclamation must not free it while the thread will return into it.
 * Before the fix the thread was uncounted there, outside the image's
 * code, and the image was freed (ftramp_sync() succeeded).
 */
TEST(first_entry_counted_before_guard_slow)
{
	struct ftramp_link *l;
	pthread_t th;
	long result = 0;
	uint64_t freed;

	l = attach_model(_metadata, "g_first", FTRAMP_FENTRY, prog_entry,
			 "long (long)");
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, ftramp_sync(-1));
	ftramp_tramp_set_guard_slow_hook(hold_in_slow);
	ASSERT_EQ(0, pthread_create(&th, NULL, first_caller, &result));
	while (!__atomic_load_n(&held, __ATOMIC_ACQUIRE))
		;
	freed = images_freed();
	ASSERT_EQ(0, ftramp_link__destroy(l));
	/* Held for as long as it takes: the wait can only time out. */
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(300));
	EXPECT_EQ(freed, images_freed());

	ftramp_tramp_set_guard_slow_hook(NULL);
	__atomic_store_n(&release_held, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(42, result);
	EXPECT_EQ(1, entries);
	/* Out of it: now it goes. */
	EXPECT_EQ(0, ftramp_sync(-1));
	EXPECT_EQ(freed + 1, images_freed());
}

TEST_HARNESS_MAIN
