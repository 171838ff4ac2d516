// SPDX-License-Identifier: MIT
/*
 * The recursion guard and what it must not lose (Documentation/
 * trampoline.rst, "Recursion guard", "In-flight counter"):
 *
 *  - a thread's first entry into an image maps its guard table
 *    (guard_slow(), which calls mmap) only after counting itself in: an
 *    image detached meanwhile is not freed under it;
 *  - FTRAMP_COUNT counts every call, those the guard skips too (a
 *    signal handler that calls the function while a program of it runs
 *    on the same thread), and every program link counts what it missed;
 *  - the session cookie pairs each entry with its exit at any depth:
 *    10000 levels of recursion, every exit finds its own entry's value.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
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

/* Runs inside guard_slow(), before its mmap(), signals unblocked. */
static void hold_in_slow(int blocked)
{
	if (blocked)
		return;
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

/*
 * A signal that lands while a thread maps its table (here: raised right
 * where mmap runs) must not make the handler's traced call a miss: it is
 * held until the table exists, then traced like any call.  Before,
 * guard_slow() ran with signals open and the handler's call found no
 * table yet and missed (a process timer's SIGALRM on a new thread).
 */
static uint64_t usr2_ret;

static void on_usr2(int sig)
{
	(void)sig;
	usr2_ret = g_first(99);
}

static void raise_in_slow(int blocked)
{
	if (blocked)
		raise(SIGUSR2);
}

static void *first_caller_raise(void *arg)
{
	ftramp_tramp_set_guard_slow_hook(raise_in_slow);
	*(long *)arg = g_first(1);
	ftramp_tramp_set_guard_slow_hook(NULL);
	return NULL;
}

TEST(signal_while_mapping_the_table_is_traced)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	struct ftramp_link *l;
	pthread_t th;
	long result = 0;

	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	l = attach_model(_metadata, "g_first", FTRAMP_FENTRY, prog_entry,
			 "long (long)");
	ASSERT_NE(NULL, l);
	entries = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, first_caller_raise, &result));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(2, result);
	EXPECT_EQ(100, usr2_ret);
	EXPECT_EQ(2, entries);		/* the handler's call too */
	EXPECT_EQ(0, ftramp_link__missed(l));
	ASSERT_EQ(0, ftramp_link__destroy(l));
}

/* ------------------------------------------------------------------
 * Signal handlers: counted exactly, misses reported
 * ------------------------------------------------------------------ */

long g_sig(long a);

TRACEE long g_sig(long a) { return 2 * a; }

static uint64_t sig_entries, sig_exits, handler_calls;
static long handler_ret;

static void on_usr1(int sig)
{
	(void)sig;
	handler_ret = g_sig(7);
	handler_calls++;
}

/* While it runs, a signal handler on this thread calls g_sig. */
static uint64_t prog_raise(const uint64_t *ctx)
{
	sig_entries++;
	if (ctx[0] == 1)
		raise(SIGUSR1);
	return 0;
}

static uint64_t prog_sig_exit(const uint64_t *ctx)
{
	(void)ctx;
	sig_exits++;
	return 0;
}

TEST(signal_handler_calls_counted_and_missed)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct ftramp_link *cnt, *fe, *fx;
	int i;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	cnt = attach_model(_metadata, "g_sig", FTRAMP_COUNT, NULL,
			   "long (long)");
	ASSERT_NE(NULL, cnt);
	fe = attach_model(_metadata, "g_sig", FTRAMP_FENTRY, prog_raise,
			  "long (long)");
	ASSERT_NE(NULL, fe);
	fx = attach_model(_metadata, "g_sig", FTRAMP_FEXIT, prog_sig_exit,
			  "long (long)");
	ASSERT_NE(NULL, fx);

	/* 10 calls whose program raises, 5 that do not */
	for (i = 0; i < 10; i++)
		EXPECT_EQ(2, g_sig(1));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(4, g_sig(2));
	EXPECT_EQ(10, handler_calls);
	EXPECT_EQ(14, handler_ret);		/* the handler's call ran */

	EXPECT_EQ(25, ftramp_link__count(cnt));	/* every call */
	EXPECT_EQ(15, sig_entries);
	EXPECT_EQ(15, sig_exits);
	EXPECT_EQ(10, ftramp_link__missed(fe));	/* exactly the handler's */
	EXPECT_EQ(10, ftramp_link__missed(fx));
	EXPECT_EQ(0, ftramp_link__missed(cnt));
	EXPECT_EQ(sig_entries + ftramp_link__missed(fe),
		  ftramp_link__count(cnt));

	/* The counts survive a rebuild of the image (a link leaving). */
	ASSERT_EQ(0, ftramp_link__destroy(fx));
	EXPECT_EQ(2, g_sig(1));
	EXPECT_EQ(27, ftramp_link__count(cnt));
	EXPECT_EQ(11, ftramp_link__missed(fe));
	ASSERT_EQ(0, ftramp_link__destroy(fe));
	ASSERT_EQ(0, ftramp_link__destroy(cnt));
	EXPECT_EQ(0, ftramp_sync(-1));
}

/*
 * opts.missed: a program link's misses into a counter of the caller's
 * (the CLI's session file), as they happen; argument checks.
 */
TEST(missed_into_callers_counter)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	static uint64_t mine;
	uint64_t bad[2];
	struct ftramp_func_model m;
	struct ftramp_attach_opts o = { .sz = sizeof(o), .model = &m,
					.missed = &mine };
	struct ftramp_link *fe, *fx;
	int i;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, ftramp_model__parse("long (long)", &m, NULL));
	fe = ftramp_attach("g_sig", FTRAMP_FENTRY, prog_raise, &o);
	ASSERT_NE(NULL, fe);
	fx = attach_model(_metadata, "g_sig", FTRAMP_FEXIT, prog_sig_exit,
			  "long (long)");
	ASSERT_NE(NULL, fx);
	handler_calls = 0;
	for (i = 0; i < 4; i++)
		EXPECT_EQ(2, g_sig(1));
	EXPECT_EQ(4, handler_calls);
	EXPECT_EQ(4, mine);			/* the handler's calls */
	EXPECT_EQ(4, ftramp_link__missed(fe));	/* read from there */
	EXPECT_EQ(4, ftramp_link__missed(fx));	/* its own */
	ASSERT_EQ(0, ftramp_link__destroy(fx));
	ASSERT_EQ(0, ftramp_link__destroy(fe));
	EXPECT_EQ(0, ftramp_sync(-1));
	EXPECT_EQ(4, mine);

	/* With FTRAMP_COUNT or FTRAMP_HIST, misaligned: refused. */
	errno = 0;
	EXPECT_EQ(NULL, ftramp_attach("g_sig", FTRAMP_COUNT, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, ftramp_attach("g_sig", FTRAMP_HIST, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	o.missed = (uint64_t *)((char *)bad + 4);
	EXPECT_EQ(NULL, ftramp_attach("g_sig", FTRAMP_FENTRY, prog_raise,
				      &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(2, g_sig(1));
	EXPECT_EQ(4, handler_calls);		/* nothing attached */
}

/* FTRAMP_COUNT into a counter of the caller's; argument checks. */
TEST(count_link_options)
{
	static uint64_t mine;
	uint64_t bad[2];
	struct ftramp_attach_opts o = { .sz = sizeof(o), .counter = &mine };
	struct ftramp_link *l;

	l = ftramp_attach("g_first", FTRAMP_COUNT, NULL, &o);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(6, g_first(5));
	EXPECT_EQ(7, g_first(6));
	EXPECT_EQ(2, mine);
	EXPECT_EQ(2, ftramp_link__count(l));
	ASSERT_EQ(0, ftramp_link__destroy(l));

	/* A program with FTRAMP_COUNT, a counter with another kind,
	 * a misaligned counter: refused, nothing attached. */
	errno = 0;
	EXPECT_EQ(NULL, ftramp_attach("g_first", FTRAMP_COUNT, prog_entry,
				      NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, ftramp_attach("g_first", FTRAMP_FENTRY, prog_entry,
				      &o));
	EXPECT_EQ(EINVAL, errno);
	o.counter = (uint64_t *)((char *)bad + 4);
	EXPECT_EQ(NULL, ftramp_attach("g_first", FTRAMP_COUNT, NULL, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ftramp_link__count(NULL));
	EXPECT_EQ(0, ftramp_link__missed(NULL));
	EXPECT_EQ(6, g_first(5));
	EXPECT_EQ(2, mine);
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* ------------------------------------------------------------------
 * The session cookie: deep recursion
 * ------------------------------------------------------------------ */

#define DEEP	10000

long g_rec(long n);

/* Through a pointer: gcc turns direct self-recursion into a loop. */
static long (*volatile g_rec_call)(long);

TRACEE long g_rec(long n) { return n ? 1 + g_rec_call(n - 1) : 0; }

static uint64_t sess_entries, sess_pairs, sess_bad, sess_dirty;

static uint64_t prog_sess_entry(const uint64_t *ctx)
{
	uint64_t *c = ftramp_get_session_cookie(ctx);

	sess_dirty += *c != 0;		/* zeroed at entry */
	*c = ctx[0] ^ 0x5e55;
	sess_entries++;
	return 0;
}

static uint64_t prog_sess_exit(const uint64_t *ctx)
{
	if (*ftramp_get_session_cookie(ctx) == (ctx[0] ^ 0x5e55))
		sess_pairs++;
	else
		sess_bad++;
	return 0;
}

static void *deep_call(void *arg)
{
	*(long *)arg = g_rec(DEEP);
	return NULL;
}

/*
 * 10000 levels (10001 calls): every exit pairs with its own entry,
 * counted exactly; run on a thread with a stack to match (a trampoline
 * frame and the function's, about 100 bytes per level).
 */
TEST(session_cookie_deep_recursion)
{
	struct ftramp_func_model m;
	struct ftramp_attach_opts o = { .sz = sizeof(o), .model = &m,
					.session = true };
	struct ftramp_link *cnt, *fe, *fx;
	pthread_attr_t attr;
	pthread_t th;
	long depth = 0;

	g_rec_call = g_rec;
	ASSERT_EQ(0, ftramp_model__parse("long (long)", &m, NULL));
	cnt = attach_model(_metadata, "g_rec", FTRAMP_COUNT, NULL,
			   "long (long)");
	ASSERT_NE(NULL, cnt);
	fe = ftramp_attach("g_rec", FTRAMP_FENTRY, prog_sess_entry, &o);
	ASSERT_NE(NULL, fe);
	fx = ftramp_attach("g_rec", FTRAMP_FEXIT, prog_sess_exit, &o);
	ASSERT_NE(NULL, fx);

	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setstacksize(&attr, 16 << 20));
	ASSERT_EQ(0, pthread_create(&th, &attr, deep_call, &depth));
	ASSERT_EQ(0, pthread_join(th, NULL));
	pthread_attr_destroy(&attr);

	EXPECT_EQ(DEEP, depth);
	EXPECT_EQ(DEEP + 1, ftramp_link__count(cnt));
	EXPECT_EQ(DEEP + 1, sess_entries);
	EXPECT_EQ(DEEP + 1, sess_pairs);
	EXPECT_EQ(0, sess_bad);
	EXPECT_EQ(0, sess_dirty);
	EXPECT_EQ(0, ftramp_link__missed(fe));
	ftramp_link__destroy(fx);
	ftramp_link__destroy(fe);
	ftramp_link__destroy(cnt);
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST_HARNESS_MAIN
