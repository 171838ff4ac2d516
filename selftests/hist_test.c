// SPDX-License-Identifier: MIT
/*
 * FTRAMP_HIST: the lean return hook (Documentation/trampoline.rst,
 * "Histogram images").
 *
 *  - every call lands in exactly one bucket, and a call that spins for
 *    at least 2^k ticks lands in bucket k + 1 or above;
 *  - results, stack arguments and FP registers are the body's own;
 *  - a thread's first entry (no table: guard_slow()) is counted, and so
 *    is every level of a recursion;
 *  - records abandoned by longjmp are found by the stub below them and by
 *    the slow path of a full stack, and counted unwound;
 *  - counters on the same function count too; programs cannot share it;
 *  - the far path (ftrace_caller) and detaching.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/site_bytes.h"
#include "trampoline/trampoline.h"

static uint64_t ticks(void)
{
	uint64_t t;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(t));
	return t;
}

long h_add(long a, long b);
double h_fp(double a, int b, double c);
long h_many(long a, long b, long c, long d, long e, long f, long g, long h,
	    long i, long j);
long h_spin(long n);
long h_rec(long n);

TRACEE long h_add(long a, long b) { return a + b; }
TRACEE double h_fp(double a, int b, double c) { return a * b + c; }
TRACEE long h_many(long a, long b, long c, long d, long e, long f, long g,
		   long h, long i, long j)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h +
	       9 * i + 10 * j;
}

/* Spins until the counter moved by n ticks: at least n ticks long. */
TRACEE long h_spin(long n)
{
	uint64_t t0 = ticks();

	while (ticks() - t0 < (uint64_t)n)
		;
	return n;
}

/* Through a pointer: gcc turns direct self-recursion into a loop. */
static long (*volatile h_rec_call)(long);

TRACEE long h_rec(long n)
{
	return n ? h_rec_call(n - 1) + 1 : 0;
}

static uint64_t sum(const uint64_t *h)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < FTRAMP_HIST_BUCKETS; i++)
		n += h[i];
	return n;
}

static uint64_t link_sum(const struct ftramp_link *l)
{
	uint64_t h[FTRAMP_HIST_BUCKETS];

	if (ftramp_link__hist(l, h))
		return UINT64_MAX;
	return sum(h);
}

static struct ftramp_link *hist(const char *func, uint64_t *buckets,
				bool far)
{
	struct ftramp_attach_opts o = { .sz = sizeof(o), .hist = buckets,
					.force_far = far };

	return ftramp_attach(func, FTRAMP_HIST, NULL, &o);
}

TEST(bucket_math)
{
	EXPECT_EQ(0, ftramp_hist_bucket(0));
	EXPECT_EQ(1, ftramp_hist_bucket(1));
	EXPECT_EQ(2, ftramp_hist_bucket(2));
	EXPECT_EQ(2, ftramp_hist_bucket(3));
	EXPECT_EQ(11, ftramp_hist_bucket(1024));
	EXPECT_EQ(64, ftramp_hist_bucket(UINT64_MAX));
	EXPECT_NE(0, ftramp_hist_freq());
}

static void calls_case(struct __test_metadata *_metadata, bool far)
{
	static uint64_t b[FTRAMP_HIST_BUCKETS];
	struct ftramp_link *l;

	memset(b, 0, sizeof(b));
	l = hist("h_add", b, far);
	ASSERT_NE(NULL, l);
	for (long i = 0; i < 1000; i++)
		ASSERT_EQ(3 * i, h_add(i, 2 * i));
	EXPECT_EQ(1000, sum(b));
	EXPECT_EQ(1000, link_sum(l));
	ASSERT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(5, h_add(2, 3));
	EXPECT_EQ(1000, sum(b));
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST(every_call_one_bucket)
{
	calls_case(_metadata, false);
}

TEST(far_path)
{
	calls_case(_metadata, true);
}

/* A call of at least 2^12 ticks is in bucket 13 or above. */
TEST(long_calls_high_buckets)
{
	struct ftramp_link *l = hist("h_spin", NULL, false);
	uint64_t h[FTRAMP_HIST_BUCKETS], low = 0;

	ASSERT_NE(NULL, l);
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(4096, h_spin(4096));
	ASSERT_EQ(0, ftramp_link__hist(l, h));
	for (unsigned int i = 0; i < 13; i++)
		low += h[i];
	EXPECT_EQ(0, low);
	EXPECT_EQ(5, sum(h));
	ASSERT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* The body runs on the caller's stack with every register as passed. */
TEST(arguments_and_results)
{
	struct ftramp_link *a = hist("h_fp", NULL, false);
	struct ftramp_link *b = hist("h_many", NULL, false);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(7.5, h_fp(2.5, 2, 2.5));
	EXPECT_EQ(1 + 4 + 9 + 16 + 25 + 36 + 49 + 64 + 81 + 100,
		  h_many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
	EXPECT_EQ(1, link_sum(a));
	EXPECT_EQ(1, link_sum(b));
	ASSERT_EQ(0, ftramp_link__destroy(a));
	ASSERT_EQ(0, ftramp_link__destroy(b));
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST(recursion_every_level)
{
	struct ftramp_link *l = hist("h_rec", NULL, false);

	h_rec_call = h_rec;
	ASSERT_NE(NULL, l);
	EXPECT_EQ(500, h_rec(500));
	EXPECT_EQ(501, link_sum(l));
	ASSERT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* A new thread's first traced call maps its table (the slow path). */
static void *first_call(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)h_add(20, 22);
}

TEST(first_entry_on_a_thread)
{
	struct ftramp_link *l = hist("h_add", NULL, false);
	pthread_t th[4];
	void *ret;

	ASSERT_NE(NULL, l);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, first_call, NULL));
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(42, (intptr_t)ret);
	}
	EXPECT_EQ(4, link_sum(l));
	ASSERT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* Counters and histograms share the lean image; programs do not. */
static uint64_t prog(const uint64_t *ctx)
{
	(void)ctx;
	return 0;
}

TEST(with_counters_not_programs)
{
	struct ftramp_link *h = hist("h_add", NULL, false), *c, *f;
	uint64_t bad[2];
	struct ftramp_attach_opts o = { .sz = sizeof(o) };

	ASSERT_NE(NULL, h);
	c = ftramp_attach("h_add", FTRAMP_COUNT, NULL, NULL);
	ASSERT_NE(NULL, c);
	for (int i = 0; i < 10; i++)
		h_add(i, i);
	EXPECT_EQ(10, ftramp_link__count(c));
	EXPECT_EQ(10, link_sum(h));

	errno = 0;
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_FENTRY, prog, NULL));
	EXPECT_EQ(EBUSY, errno);
	f = ftramp_attach("h_fp", FTRAMP_FEXIT, prog, NULL);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(NULL, hist("h_fp", NULL, false));
	EXPECT_EQ(EBUSY, errno);
	/* A program, a counter, a misaligned array: refused. */
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_HIST, prog, NULL));
	EXPECT_EQ(EINVAL, errno);
	o.counter = bad;
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_HIST, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	o.counter = NULL;
	o.hist = (uint64_t *)((char *)bad + 4);
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_HIST, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	o.hist = bad;
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_COUNT, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	/* opts.unwound: FTRAMP_HIST only, aligned */
	o.hist = NULL;
	o.unwound = bad;
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_COUNT, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, ftramp_attach("h_fp", FTRAMP_FEXIT, prog, &o));
	EXPECT_EQ(EINVAL, errno);
	o.unwound = (uint64_t *)((char *)bad + 4);
	EXPECT_EQ(NULL, ftramp_attach("h_add", FTRAMP_HIST, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, ftramp_link__hist(c, bad));
	EXPECT_EQ(-EINVAL, ftramp_link__hist(NULL, bad));

	h_add(1, 1);
	EXPECT_EQ(11, ftramp_link__count(c));
	EXPECT_EQ(11, link_sum(h));
	ASSERT_EQ(0, ftramp_link__destroy(h));
	h_add(1, 1);
	EXPECT_EQ(12, ftramp_link__count(c));
	ASSERT_EQ(0, ftramp_link__destroy(c));
	ASSERT_EQ(0, ftramp_link__destroy(f));
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* ------------------------------------------------------------------
 * Frames abandoned by longjmp
 * ------------------------------------------------------------------ */

static jmp_buf jb;

long h_jump(long n);
long h_outer(long n);

TRACEE long h_jump(long n)
{
	if (n >= 0)
		longjmp(jb, 1);
	return n;
}

/* Calls h_jump, which jumps back into this body: its record is dead. */
TRACEE long h_outer(long n)
{
	volatile long r = n;

	if (!setjmp(jb))
		r = h_jump(n);
	return r + 1;
}

/*
 * The stub finds h_jump's dead record above its own.  opts.unwound
 * counts each as it is found, as the link does; the outer function's,
 * none.
 */
TEST(longjmp_below_a_hooked_frame)
{
	static uint64_t unw_o, unw_j, hist_o[FTRAMP_HIST_BUCKETS],
			hist_j[FTRAMP_HIST_BUCKETS];
	struct ftramp_attach_opts oo = { .sz = sizeof(oo), .hist = hist_o,
					 .unwound = &unw_o };
	struct ftramp_attach_opts jo = { .sz = sizeof(jo), .hist = hist_j,
					 .unwound = &unw_j };
	struct ftramp_link *o = ftramp_attach("h_outer", FTRAMP_HIST, NULL,
					      &oo);
	struct ftramp_link *j = ftramp_attach("h_jump", FTRAMP_HIST, NULL,
					      &jo);

	ASSERT_NE(NULL, o);
	ASSERT_NE(NULL, j);
	for (long i = 0; i < 100; i++) {
		ASSERT_EQ(i + 1, h_outer(i));
		/* found by h_outer's stub, at once */
		ASSERT_EQ((uint64_t)i + 1, unw_j);
	}
	EXPECT_EQ(100, link_sum(o));
	EXPECT_EQ(0, link_sum(j));
	EXPECT_EQ(100, ftramp_link__unwound(j));
	EXPECT_EQ(100, unw_j);
	EXPECT_EQ(0, unw_o);
	EXPECT_EQ(-4, h_jump(-5) + 1);
	EXPECT_EQ(1, link_sum(j));
	ASSERT_EQ(0, ftramp_link__destroy(o));
	ASSERT_EQ(0, ftramp_link__destroy(j));
	EXPECT_EQ(0, ftramp_sync(-1));
}

static __attribute__((noipa)) int jump_loop(int times)
{
	volatile int done = 0;

	for (volatile int i = 0; i < times; i++)
		if (!setjmp(jb))
			h_jump(i);
		else
			done++;
	return done;
}

/*
 * Abandoned frames at one level: each entry releases the one before,
 * so the shadow stack never fills, and the image is not pinned.
 */
TEST(longjmp_loop_releases_each)
{
	struct ftramp_link *j = hist("h_jump", NULL, false);
	uint64_t n = FTRAMP_SHADOW_BYTES / FTRAMP_SHADOW_SLOT + 100;

	ASSERT_NE(NULL, j);
	EXPECT_EQ(n, jump_loop(n));
	/* The next entry at this level releases what is left. */
	EXPECT_EQ(-5, h_jump(-5));
	EXPECT_EQ(1, link_sum(j));
	EXPECT_EQ(n, ftramp_link__unwound(j));
	ASSERT_EQ(0, ftramp_link__destroy(j));
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST_HARNESS_MAIN
