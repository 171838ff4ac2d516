// SPDX-License-Identifier: MIT
/*
 * Attach, detach and modify under load.  Eight threads call 200 traced
 * functions (some recursive, some sleeping inside the function, some
 * called from programs) while a control thread attaches and destroys
 * links on them in random order, near and far, for a bounded time.
 *
 * Counted windows: functions 0..99 carry a stable fentry link (and the
 * sleeping and recursive ones a stable fexit link) for the whole run, while the other
 * links of the same functions come and go, so their image is rebuilt and
 * swapped under the callers again and again.  Every call a worker makes to
 * them must run the stable programs exactly once: nothing lost, nothing
 * doubled.  Every result is checked, and at the end every image and call
 * record built must have been reclaimed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/site_bytes.h"

#define NR_FUNCS	200
#define NR_STABLE	100	/* functions with stable links */
#define NR_WORKERS	8
#define MAX_TRANSIENT	48
#define RUN_MS		3000

enum fclass { PLAIN, RECURSIVE, SLEEPING };

static enum fclass class_of(int n)
{
	if (n % 10 == 0)
		return RECURSIVE;
	if (n % 10 == 1)
		return SLEEPING;
	return PLAIN;
}

static inline long body(int n, long x, long (*self)(long))
{
	/* Through a volatile pointer: no tail-recursion elimination. */
	long (*volatile again)(long) = self;

	switch (class_of(n)) {
	case RECURSIVE:
		return x > 0 ? again(x - 1) + 1 : 0;
	case SLEEPING:
		if ((x & 15) == 0)
			usleep(200);
		return x * n + 1;
	default:
		return x * n + 1;
	}
}

static long expect(int n, long x)
{
	return class_of(n) == RECURSIVE ? x : x * n + 1;
}

/* Invocations of the function per top-level call with argument x. */
static int invocations(int n, long x)
{
	return class_of(n) == RECURSIVE ? (int)x + 1 : 1;
}

#define FN(n)								\
	long st_fn_##n(long x);						\
	TRACEE long st_fn_##n(long x) { return body(n, x, st_fn_##n); }
#define FN10(t) FN(t##0) FN(t##1) FN(t##2) FN(t##3) FN(t##4)		\
		FN(t##5) FN(t##6) FN(t##7) FN(t##8) FN(t##9)
FN(0) FN(1) FN(2) FN(3) FN(4) FN(5) FN(6) FN(7) FN(8) FN(9)
FN10(1) FN10(2) FN10(3) FN10(4) FN10(5) FN10(6) FN10(7) FN10(8) FN10(9)
FN10(10) FN10(11) FN10(12) FN10(13) FN10(14) FN10(15) FN10(16) FN10(17)
FN10(18) FN10(19)

#define E(n)	{ st_fn_##n, "st_fn_" #n },
#define E10(t)	E(t##0) E(t##1) E(t##2) E(t##3) E(t##4)			\
		E(t##5) E(t##6) E(t##7) E(t##8) E(t##9)
static const struct {
	long (*fn)(long);
	const char *name;
} funcs[NR_FUNCS] = {
	E(0) E(1) E(2) E(3) E(4) E(5) E(6) E(7) E(8) E(9)
	E10(1) E10(2) E10(3) E10(4) E10(5) E10(6) E10(7) E10(8) E10(9)
	E10(10) E10(11) E10(12) E10(13) E10(14) E10(15) E10(16) E10(17)
	E10(18) E10(19)
};

static uint64_t entry_count[NR_FUNCS], exit_count[NR_FUNCS];
static uint64_t calls[NR_FUNCS];
static uint64_t bad_results, transient_runs;
static volatile int stop;

static uint64_t stable_entry(const uint64_t *ctx)
{
	__atomic_add_fetch(&entry_count[ftramp_get_attach_cookie(ctx)], 1,
			   __ATOMIC_RELAXED);
	return 0;
}

static uint64_t stable_exit(const uint64_t *ctx)
{
	__atomic_add_fetch(&exit_count[ftramp_get_attach_cookie(ctx)], 1,
			   __ATOMIC_RELAXED);
	return 0;
}

static uint64_t transient_a(const uint64_t *ctx)
{
	__atomic_add_fetch(&transient_runs, 1, __ATOMIC_RELAXED);
	return 0;
}

static uint64_t transient_b(const uint64_t *ctx)
{
	return 0;	/* as fmod_ret: keep the original */
}

/* A program that calls a traced function (one without stable links). */
static uint64_t transient_call(const uint64_t *ctx)
{
	int k = NR_STABLE + 50 + (int)(ctx[0] % 50);

	if (funcs[k].fn(2) != expect(k, 2))
		__atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
	return 0;
}

static const ftramp_prog_t transient_progs[] = {
	transient_a, transient_b, transient_call,
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uintptr_t)arg + 1;
	uint64_t mine[NR_FUNCS] = { 0 };

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int n = (int)(rnd(&seed) % NR_FUNCS);
		long x = class_of(n) == RECURSIVE ? 3 : (long)(rnd(&seed) & 63);

		if (funcs[n].fn(x) != expect(n, x))
			__atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
		mine[n] += invocations(n, x);
	}
	for (int n = 0; n < NR_FUNCS; n++)
		__atomic_add_fetch(&calls[n], mine[n], __ATOMIC_RELAXED);
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


TEST(attach_detach_under_load)
{
	struct ftramp_link *stable[NR_STABLE][2] = { { 0 } };
	struct ftramp_link *tl[MAX_TRANSIENT] = { 0 };
	struct ftramp_reclaim_stats st = { .sz = sizeof(st) };
	struct ftramp_func_model model;
	pthread_t th[NR_WORKERS];
	uint64_t seed = 42, deadline, attaches = 0, detaches = 0, refused = 0;

	ASSERT_EQ(0, ftramp_model__parse("long (long)", &model, NULL));
	for (int n = 0; n < NR_STABLE; n++) {
		FTRAMP_OPTS(ftramp_attach_opts, o, .cookie = (uint64_t)n,
			    .model = &model);

		stable[n][0] = ftramp_attach(funcs[n].name, FTRAMP_FENTRY,
					     stable_entry, &o);
		ASSERT_NE(NULL, stable[n][0]);
		if (class_of(n) != PLAIN) {
			stable[n][1] = ftramp_attach(funcs[n].name,
						     FTRAMP_FEXIT,
						     stable_exit, &o);
			ASSERT_NE(NULL, stable[n][1]);
		}
	}

	for (long i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker, (void *)i));

	deadline = now_ms() + RUN_MS;
	while (now_ms() < deadline) {
		int slot = (int)(rnd(&seed) % MAX_TRANSIENT);

		if (tl[slot]) {
			ASSERT_EQ(0, ftramp_link__destroy(tl[slot]));
			tl[slot] = NULL;
			detaches++;
			continue;
		}
		int n = (int)(rnd(&seed) % NR_FUNCS);
		int kind = (int)(rnd(&seed) % 3);
		ftramp_prog_t prog = transient_progs[rnd(&seed) % 3];
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = &model,
			    .force_far = (rnd(&seed) & 3) == 0);

		/*
		 * Any kind on recursive functions too: the guard is free
		 * while the original runs, so every level runs the stable
		 * programs.  Programs that call functions are kept off the
		 * functions they call.
		 */
		if (prog == transient_call && n >= NR_STABLE + 50)
			prog = transient_a;
		tl[slot] = ftramp_attach(funcs[n].name, kind, prog, &o);
		if (tl[slot]) {
			attaches++;
		} else {
			/* Same program on the same kind twice: fine. */
			ASSERT_EQ(EBUSY, errno);
			refused++;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(th[i], NULL);

	for (int i = 0; i < MAX_TRANSIENT; i++)
		if (tl[i])
			EXPECT_EQ(0, ftramp_link__destroy(tl[i]));
	for (int n = 0; n < NR_STABLE; n++) {
		if (calls[n] != entry_count[n] ||
		    (class_of(n) != PLAIN && calls[n] != exit_count[n]))
			TH_LOG("%s (class %d): %llu calls, %llu fentry, "
			       "%llu fexit runs", funcs[n].name, class_of(n),
			       (unsigned long long)calls[n],
			       (unsigned long long)entry_count[n],
			       (unsigned long long)exit_count[n]);
		EXPECT_EQ(calls[n], entry_count[n]);
		if (class_of(n) != PLAIN)
			EXPECT_EQ(calls[n], exit_count[n]);
		EXPECT_EQ(0, ftramp_link__destroy(stable[n][0]));
		EXPECT_EQ(0, ftramp_link__destroy(stable[n][1]));
	}
	EXPECT_EQ(0, bad_results);
	EXPECT_EQ(0, ftramp_sync(20000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	EXPECT_EQ(st.images_alloc, st.images_freed);
	EXPECT_EQ(st.ops_alloc, st.ops_freed);
	EXPECT_EQ(0, st.pending);
	TH_LOG("%llu attaches, %llu detaches, %llu refused, %llu images, "
	       "%llu scans (%llu busy), %llu transient runs",
	       (unsigned long long)attaches, (unsigned long long)detaches,
	       (unsigned long long)refused,
	       (unsigned long long)st.images_alloc,
	       (unsigned long long)st.scans,
	       (unsigned long long)st.scan_busy,
	       (unsigned long long)transient_runs);
	EXPECT_GT(attaches, 20);
}

TEST_HARNESS_MAIN
