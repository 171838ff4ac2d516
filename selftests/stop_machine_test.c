// SPDX-License-Identifier: MIT
/*
 * Stop-machine: the one-time nop -> mov x9, x30 at a function's entry is
 * written only while no other thread can run it (arch/arm64/
 * stop_machine.c).  QEMU does not model concurrent modification, so the
 * tests check the invariant instead: the write log records, at every
 * write, how many threads were inside the park loop (counted by the
 * parked threads' own handlers), and the spinning threads check every
 * result they compute.
 *
 * The sites are the PATCH_FUNCS generated functions pf_i of
 * selftests/patching.mk.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/stop_machine.h"
#include "arch/arm64/sync_signal.h"
#include "lib/fault_inject.h"
#include "lib/thread.h"
#include "harness.h"

extern long (*const pf_table[])(long);
extern const int pf_count;

#define NSITES		1000
#define NTHREADS	4

/* ftramp_sites__prepare() on the process's table. */
static int prepare(const char *glob)
{
	return ftramp_sites__prepare(ftramp_sites__get(), glob);
}

static long pf_expect(int i, long x)
{
	return x * (i % 97 + 1) + i;
}

static uint32_t *site_a(int i)
{
	return (uint32_t *)(uintptr_t)pf_table[i];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A thread calling every site, checking each result. */
struct spin {
	pthread_t th;
	pid_t tid;
	int stop, ready, block;
	unsigned long sweeps, errors;
};

static void *spinner(void *p)
{
	struct spin *sp = p;

	__atomic_store_n(&sp->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (sp->block) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, ftramp_patch_sync_signal());
		/* Raw: the interposed pthread_sigmask() keeps ours open. */
		thread_real_sigmask(SIG_BLOCK, &set, NULL);
	}
	__atomic_store_n(&sp->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sp->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < NSITES; i++)
			if (pf_table[i](i) != pf_expect(i, i))
				sp->errors++;
		__atomic_add_fetch(&sp->sweeps, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int spin_start(struct spin *sp)
{
	int err = pthread_create(&sp->th, NULL, spinner, sp);

	while (!err && !__atomic_load_n(&sp->sweeps, __ATOMIC_ACQUIRE))
		sched_yield();
	return -err;
}

static unsigned long spin_stop(struct spin *sp)
{
	__atomic_store_n(&sp->stop, 1, __ATOMIC_RELEASE);
	pthread_join(sp->th, NULL);
	return sp->errors;
}

/* Wait until every spinner finished a sweep begun after this call. */
static void spin_settle(struct spin *sp, int n)
{
	unsigned long target[64];

	for (int t = 0; t < n; t++)
		target[t] = __atomic_load_n(&sp[t].sweeps,
					    __ATOMIC_ACQUIRE) + 2;
	for (int t = 0; t < n; t++)
		while (__atomic_load_n(&sp[t].sweeps, __ATOMIC_ACQUIRE) <
		       target[t])
			sched_yield();
}

static struct ftramp_patch_log *log_new(size_t cap)
{
	struct ftramp_patch_log *l = calloc(1, sizeof(*l));

	if (l)
		l->ev = calloc(cap, sizeof(l->ev[0]));
	if (l && !l->ev) {
		free(l);
		return NULL;
	}
	if (l)
		l->cap = cap;
	return l;
}

static void log_free(struct ftramp_patch_log *l)
{
	if (l)
		free(l->ev);
	free(l);
}

/* Difference of two stats snapshots, field by field we look at. */
struct delta {
	unsigned long stops, stop_signals, stop_parked, stop_timeouts,
		      stop_helpers, stop_asleep, stop_ns, syncs, failed;
};

static void stats_delta(const struct ftramp_patch_stats *a,
			const struct ftramp_patch_stats *b, struct delta *d)
{
	d->stops = b->stops - a->stops;
	d->stop_signals = b->stop_signals - a->stop_signals;
	d->stop_parked = b->stop_parked - a->stop_parked;
	d->stop_timeouts = b->stop_timeouts - a->stop_timeouts;
	d->stop_helpers = b->stop_helpers - a->stop_helpers;
	d->stop_asleep = b->stop_asleep - a->stop_asleep;
	d->stop_ns = b->stop_ns - a->stop_ns;
	d->syncs = b->syncs - a->syncs;
	d->failed = b->failed_commits - a->failed_commits;
}

static int count_prepared(void)
{
	int n = 0;

	for (int i = 0; i < NSITES; i++)
		n += *site_a(i) == A64_MOV_X9_X30;
	return n;
}

/*
 * Every mov write of the log was made inside a stop (after STOP, before
 * RESUME) with `want` threads counting themselves parked.  Returns the
 * number of mov writes, or -1 on a violation.
 */
static int check_log(struct __test_metadata *_metadata,
		     const struct ftramp_patch_log *l, uint32_t want,
		     int *stops)
{
	bool in_stop = false;
	int movs = 0, bad = 0;

	*stops = 0;
	for (size_t k = 0; k < l->nr; k++) {
		const struct ftramp_patch_event *e = &l->ev[k];

		switch (e->kind) {
		case FTRAMP_EV_STOP:
			EXPECT_FALSE(in_stop);
			EXPECT_EQ(want, e->addr);
			in_stop = true;
			(*stops)++;
			break;
		case FTRAMP_EV_RESUME:
			EXPECT_TRUE(in_stop);
			in_stop = false;
			break;
		case FTRAMP_EV_WRITE32:
			if (e->new != A64_MOV_X9_X30 &&
			    e->old != A64_MOV_X9_X30)
				break;
			movs++;
			if (want && (!in_stop || e->parked != want))
				bad++;
			if (!want && e->parked)
				bad++;
			break;
		default:
			break;
		}
	}
	EXPECT_EQ(0, l->lost);
	EXPECT_EQ(0, bad);
	return bad ? -1 : movs;
}

/* ------------------------------------------------------------------
 * Which threads count
 * ------------------------------------------------------------------ */

static int task_entries(void)
{
	struct thread_list l = { 0 };
	int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
	int n;

	if (dfd < 0)
		return -errno;
	while ((n = thread_list(dfd, &l, true)) == 1)
		;
	if (!n)
		n = (int)l.nr;
	thread_list_free(&l);
	close(dfd);
	return n;
}

TEST(guest_threads_are_counted_exactly)
{
	struct spin sp[2] = { 0 };
	int helpers;

	/*
	 * Under QEMU user mode /proc/self/task also lists QEMU's RCU
	 * thread; natively nothing is excluded.
	 */
	TH_LOG("emulated: %d, /proc/self/task: %d, guest threads: %d",
	       thread_emulated(), task_entries(), thread_guest_count());
	EXPECT_EQ(1, thread_guest_count());
	for (int t = 0; t < 2; t++)
		ASSERT_EQ(0, spin_start(&sp[t]));
	EXPECT_EQ(3, thread_guest_count());
	/*
	 * What the count leaves out is exactly what the emulator adds: one
	 * thread under QEMU (the one lib/thread.c finds by its signal
	 * mask), none natively.
	 */
	helpers = task_entries() - 3;
	EXPECT_EQ(thread_emulated() ? 1 : 0, helpers);
	for (int t = 0; t < 2; t++)
		EXPECT_EQ(0, spin_stop(&sp[t]));
	/*
	 * pthread_join() returns when the thread cleared its tid, a little
	 * before the kernel unlists it: an exiting thread still counts.
	 */
	for (int k = 0; k < 1000 && thread_guest_count() != 1; k++)
		usleep(1000);
	EXPECT_EQ(1, thread_guest_count());
}

/* ------------------------------------------------------------------
 * Early preparation, single-threaded: no stop, no signal
 * ------------------------------------------------------------------ */

TEST(single_threaded_prepare_signals_nobody)
{
	struct ftramp_patch_stats a, b;
	struct ftramp_patch_log *l = log_new(4 * NSITES);
	unsigned long runs = ftramp_patch_sync_handler_runs();
	struct delta d;
	int stops;

	ASSERT_NE(NULL, l);
	ASSERT_EQ(1, thread_guest_count());
	ASSERT_EQ(0, count_prepared());
	ftramp_patch_get_stats(&a);
	ftramp_patch_set_log(l);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	ftramp_patch_set_log(NULL);
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);

	EXPECT_EQ(NSITES, count_prepared());
	EXPECT_EQ(NSITES, check_log(_metadata, l, 0, &stops));
	EXPECT_EQ(0, stops);
	EXPECT_EQ(0, d.stops);
	EXPECT_EQ(0, d.stop_signals);
	EXPECT_EQ(runs, ftramp_patch_sync_handler_runs());
	/* untraced sites still compute the same */
	for (int i = 0; i < NSITES; i++)
		EXPECT_EQ(pf_expect(i, 3), pf_table[i](3));
	/* prepared sites are skipped */
	EXPECT_EQ(0, prepare("pf_*"));
	EXPECT_EQ(-ENOENT, prepare("no_such_function_*"));
	/* Only the process's table names its sites. */
	EXPECT_EQ(-EINVAL, ftramp_sites__prepare(NULL, "pf_*"));
	EXPECT_EQ(-EINVAL, ftramp_sites__prepare((struct ftramp_sites *)
						 &pf_count, "pf_*"));
	log_free(l);
}

/* ------------------------------------------------------------------
 * Multi-threaded: one stop per batch, every mov written while parked
 * ------------------------------------------------------------------ */

TEST(prepare_1000_sites_under_4_threads)
{
	struct spin sp[NTHREADS] = { 0 };
	struct ftramp_patch_stats a, b;
	struct ftramp_patch_log *l = log_new(4 * NSITES);
	unsigned long errors = 0;
	uint64_t t0;
	struct delta d;
	int stops, ret;

	ASSERT_NE(NULL, l);
	for (int t = 0; t < NTHREADS; t++)
		ASSERT_EQ(0, spin_start(&sp[t]));
	ftramp_patch_get_stats(&a);
	ftramp_patch_set_log(l);
	t0 = now_ns();
	ret = prepare("pf_*");
	t0 = now_ns() - t0;
	ftramp_patch_set_log(NULL);
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	spin_settle(sp, NTHREADS);
	for (int t = 0; t < NTHREADS; t++)
		errors += spin_stop(&sp[t]);

	EXPECT_EQ(NSITES, ret);
	EXPECT_EQ(NSITES, count_prepared());
	EXPECT_EQ(NSITES, check_log(_metadata, l, NTHREADS, &stops));
	EXPECT_EQ(1, stops);
	EXPECT_EQ(1, d.stops);
	EXPECT_EQ(NTHREADS, d.stop_signals);
	EXPECT_EQ(NTHREADS, d.stop_parked);
	EXPECT_EQ(0, d.stop_timeouts);
	EXPECT_EQ(0, errors);
	EXPECT_EQ(0, ftramp_stop_parked_now());
	TH_LOG("1000 sites, %d spinning threads: commit %.2f ms, threads held %.2f ms",
	       NTHREADS, t0 / 1e6, d.stop_ns / 1e6);
	log_free(l);
}

/* The ftrace layer: the first enable of 1,000 sites stops once. */
static unsigned long hits;

static void count_hit(unsigned long ip, unsigned long parent_ip,
		      struct ftramp_ftrace_ops *op,
		      struct ftramp_ftrace_regs *fregs)
{
	__atomic_add_fetch(&hits, 1, __ATOMIC_RELAXED);
}

TEST(ftrace_first_enable_stops_once)
{
	struct ftramp_ftrace_ops ops = { .func = count_hit };
	struct spin sp[NTHREADS] = { 0 };
	struct ftramp_patch_stats a, b;
	unsigned long errors = 0, h;
	struct delta d;

	for (int t = 0; t < NTHREADS; t++)
		ASSERT_EQ(0, spin_start(&sp[t]));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "pf_*", 0));
	ftramp_patch_get_stats(&a);
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	EXPECT_EQ(1, d.stops);
	EXPECT_EQ(NTHREADS, d.stop_parked);
	EXPECT_EQ(NSITES, count_prepared());
	spin_settle(sp, NTHREADS);
	h = __atomic_load_n(&hits, __ATOMIC_RELAXED);
	EXPECT_GE(h, NSITES);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));

	/* Enabled again: already prepared, no stop. */
	ftramp_patch_get_stats(&a);
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	EXPECT_EQ(0, d.stops);
	EXPECT_EQ(0, d.stop_signals);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	for (int t = 0; t < NTHREADS; t++)
		errors += spin_stop(&sp[t]);
	EXPECT_EQ(0, errors);
	EXPECT_EQ(0, ftramp_ftrace_ops__free_filter(&ops));
}

/* Prepared early, single-threaded: enabling under threads stops nobody. */
TEST(early_prepared_sites_enable_without_stop)
{
	struct ftramp_ftrace_ops ops = { .func = count_hit };
	struct spin sp[NTHREADS] = { 0 };
	struct ftramp_patch_stats a, b;
	unsigned long errors = 0;
	struct delta d;

	ASSERT_GE(prepare(NULL), NSITES);
	for (int t = 0; t < NTHREADS; t++)
		ASSERT_EQ(0, spin_start(&sp[t]));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "pf_*", 0));
	ftramp_patch_get_stats(&a);
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	EXPECT_EQ(0, d.stops);
	EXPECT_EQ(0, d.stop_signals);
	spin_settle(sp, NTHREADS);
	EXPECT_GE(__atomic_load_n(&hits, __ATOMIC_RELAXED), NSITES);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	for (int t = 0; t < NTHREADS; t++)
		errors += spin_stop(&sp[t]);
	EXPECT_EQ(0, errors);
}

/* ------------------------------------------------------------------
 * A thread that cannot be parked: -ETIMEDOUT, nothing written
 * ------------------------------------------------------------------ */

/*
 * The stop gives up once only the deaf thread is left pending: the two
 * others parked, or (under QEMU, a host thread in one of its own locks)
 * were seen asleep.  The give-up hook stands for the timeout, which is
 * only a safety net here: the result does not depend on how fast a
 * loaded machine parks them.
 */
static pid_t deaf_tid;

static bool only_deaf_left(size_t pending, pid_t first)
{
	return pending == 1 && first == deaf_tid;
}

TEST(blocked_thread_times_out_unchanged)
{
	struct ftramp_stop_opts so = { .timeout_ms = 60000 };
	struct spin sp[3] = { 0 };
	struct ftramp_patch_stats a, b;
	unsigned long errors = 0, before[2];
	uint32_t words[NSITES];
	struct delta d;

	ASSERT_EQ(0, ftramp_sync_signal_init());
	ftramp_patch_set_stop_opts(&so);
	sp[2].block = 1;
	for (int t = 0; t < 3; t++)
		ASSERT_EQ(0, spin_start(&sp[t]));
	ASSERT_EQ(0, pthread_setname_np(sp[2].th, "deaf-spinner"));
	deaf_tid = __atomic_load_n(&sp[2].tid, __ATOMIC_ACQUIRE);
	for (int i = 0; i < NSITES; i++)
		words[i] = *site_a(i);
	ftramp_patch_get_stats(&a);
	ftramp_stop_set_give_up_hook(only_deaf_left);
	EXPECT_EQ(-ETIMEDOUT, prepare("pf_*"));
	ftramp_stop_set_give_up_hook(NULL);
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	for (int i = 0; i < NSITES; i++)
		EXPECT_EQ(words[i], *site_a(i));
	EXPECT_EQ(0, count_prepared());
	EXPECT_EQ(1, d.stop_timeouts);
	EXPECT_EQ(0, d.stops);
	EXPECT_EQ(1, d.failed);
	EXPECT_EQ(2, d.stop_parked + d.stop_asleep);
	/*
	 * The error names the thread that held it up (its state as read
	 * then: under QEMU a spinner's host thread may be in one of QEMU's
	 * own locks, S, at that instant).
	 */
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), "(deaf-spinner) state "));
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), "did not park"));
	if (!strstr(ftramp_error_detail(), "(deaf-spinner)"))
		TH_LOG("%s", ftramp_error_detail());

	/* the two that parked were released and run on */
	for (int t = 0; t < 2; t++)
		before[t] = __atomic_load_n(&sp[t].sweeps, __ATOMIC_ACQUIRE);
	spin_settle(sp, 2);
	for (int t = 0; t < 2; t++)
		EXPECT_GT(sp[t].sweeps, before[t]);
	EXPECT_EQ(0, ftramp_stop_parked_now());

	/* without the blocking thread it goes through */
	errors += spin_stop(&sp[2]);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	EXPECT_EQ(NSITES, count_prepared());
	for (int t = 0; t < 2; t++)
		errors += spin_stop(&sp[t]);
	EXPECT_EQ(0, errors);
}

/* ------------------------------------------------------------------
 * Sleepers are parked too; restartable calls do not see EINTR
 * ------------------------------------------------------------------ */

struct sleeper {
	pthread_t th;
	pid_t tid;
	int fd;
	ssize_t ret;
	int err;
};

static void *pipe_reader(void *p)
{
	struct sleeper *s = p;
	char c;

	__atomic_store_n(&s->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	s->ret = read(s->fd, &c, 1);
	s->err = s->ret < 0 ? errno : 0;
	return NULL;
}

static void *nap(void *p)
{
	struct sleeper *s = p;
	struct timespec ts = { .tv_sec = 3 };

	__atomic_store_n(&s->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	s->ret = nanosleep(&ts, NULL);
	s->err = s->ret < 0 ? errno : 0;
	return NULL;
}

/*
 * Until the thread that will store *tidp is blocked in a system call:
 * a park signal sent before would find nanosleep() not begun, and the
 * EINTR below would never come (a 200 ms nap once stood for this).
 */
static int wait_asleep(pid_t *tidp)
{
	int dfd = thread_dir_open();
	struct thread_stat ts;
	uint64_t pc;
	pid_t tid;

	while (!(tid = __atomic_load_n(tidp, __ATOMIC_ACQUIRE)))
		sched_yield();
	if (dfd < 0)
		return -1;
	while (thread_where(dfd, tid, &ts, true, &pc) != THREAD_SYSCALL)
		usleep(1000);
	close(dfd);
	return 0;
}

TEST(sleepers_are_parked_too)
{
	struct sleeper rd = { 0 }, sl = { 0 };
	struct ftramp_patch_stats a, b;
	struct delta d;
	int fds[2];

	ASSERT_EQ(0, pipe(fds));
	rd.fd = fds[0];
	ASSERT_EQ(0, pthread_create(&rd.th, NULL, pipe_reader, &rd));
	ASSERT_EQ(0, pthread_create(&sl.th, NULL, nap, &sl));
	ASSERT_EQ(0, wait_asleep(&rd.tid));
	ASSERT_EQ(0, wait_asleep(&sl.tid));
	ftramp_patch_get_stats(&a);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	EXPECT_EQ(1, d.stops);
	EXPECT_EQ(2, d.stop_signals);
	EXPECT_EQ(2, d.stop_parked);

	ASSERT_EQ(1, write(fds[1], "x", 1));
	pthread_join(rd.th, NULL);
	pthread_join(sl.th, NULL);
	/* read() restarts (SA_RESTART); nanosleep() never does */
	EXPECT_EQ(1, rd.ret);
	EXPECT_EQ(-1, sl.ret);
	EXPECT_EQ(EINTR, sl.err);
	close(fds[0]);
	close(fds[1]);
}

/* ------------------------------------------------------------------
 * Threads coming and going during the stop
 * ------------------------------------------------------------------ */

struct churn {
	int stop;
	unsigned long made, errors;
};

static void *short_lived(void *p)
{
	struct churn *c = p;

	for (int i = 0; i < NSITES; i += 7)
		if (pf_table[i](i) != pf_expect(i, i))
			__atomic_add_fetch(&c->errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *churner(void *p)
{
	struct churn *c = p;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		pthread_t th;

		if (!pthread_create(&th, NULL, short_lived, c)) {
			pthread_join(th, NULL);
			__atomic_add_fetch(&c->made, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

TEST(threads_created_and_exiting_during_stops)
{
	struct churn c = { 0 };
	struct ftramp_patch_stats a, b;
	pthread_t th[2];
	struct delta d;
	int prepared = 0;

	for (int t = 0; t < 2; t++)
		ASSERT_EQ(0, pthread_create(&th[t], NULL, churner, &c));
	while (__atomic_load_n(&c.made, __ATOMIC_RELAXED) < 4)
		sched_yield();
	ftramp_patch_get_stats(&a);
	/* nine batches of 100 sites: nine stops among changing threads */
	for (int k = 1; k <= 9; k++) {
		char glob[16];
		int ret;

		snprintf(glob, sizeof(glob), "pf_%d??", k);
		ret = prepare(glob);
		EXPECT_EQ(100, ret);
		prepared += ret;
	}
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	TH_LOG("%lu threads created meanwhile; %lu stops, %lu parked, %lu rescans",
	       c.made, d.stops, d.stop_parked, b.stop_rescans - a.stop_rescans);
	EXPECT_EQ(900, prepared);
	EXPECT_EQ(9, d.stops);
	for (int i = 100; i < NSITES; i++)
		EXPECT_EQ(A64_MOV_X9_X30, *site_a(i));
	EXPECT_EQ(0, d.stop_timeouts);
	EXPECT_EQ(0, c.errors);
}

/* ------------------------------------------------------------------
 * Rollback
 * ------------------------------------------------------------------ */

/*
 * A commit whose sync fails after nop -> mov x9, x30 was written leaves
 * that word: another thread may have executed it, and mov -> nop is no
 * more concurrently modifiable than the way there (B2.2.5).  The site is
 * prepared (ftrace/commit.c's table), which is correct on its own.
 */
TEST(rollback_keeps_the_entry_word)
{
	struct ftramp_poke_batch *bt = ftramp_poke_batch__new();
	struct ftramp_patch_stats st;

	ASSERT_NE(NULL, bt);
	if (ftramp_patch_sync_method() == FTRAMP_SYNC_NONE)
		SKIP(return, "no membarrier on this kernel");
	ASSERT_EQ(A64_NOP, *site_a(0));
	ASSERT_EQ(0, ftramp_poke_batch__add_insn(bt, site_a(0), A64_NOP,
						 A64_MOV_X9_X30,
						 FTRAMP_POKE_UNREACHABLE));
	ASSERT_EQ(0, ftramp_fault_set("membarrier", 1, 1, -EINTR));
	EXPECT_EQ(-EINTR, ftramp_poke_batch__commit(bt));
	ftramp_poke_batch__stats(bt, &st);
	EXPECT_EQ(1, st.rollbacks);
	EXPECT_EQ(1, st.undo_kept);
	EXPECT_EQ(A64_MOV_X9_X30, *site_a(0));
	EXPECT_EQ(pf_expect(0, 3), pf_table[0](3));
	ftramp_fault_clear_all();
	ftramp_poke_batch__free(bt);
}

/* ------------------------------------------------------------------
 * Cost of one stop
 * ------------------------------------------------------------------ */

/* One batch of one site: nop -> mov -> nop, forced through a stop. */
static int stop_once(int i, uint64_t *held_ns)
{
	struct ftramp_poke_batch *bt = ftramp_poke_batch__new();
	struct ftramp_patch_stats a, b;
	int err;

	if (!bt)
		return -ENOMEM;
	ftramp_poke_batch__add_insn(bt, site_a(i), A64_NOP, A64_MOV_X9_X30,
				    FTRAMP_POKE_UNREACHABLE);
	ftramp_poke_batch__add_insn(bt, site_a(i), A64_MOV_X9_X30, A64_NOP,
				    FTRAMP_POKE_UNREACHABLE);
	ftramp_patch_get_stats(&a);
	err = ftramp_poke_batch__commit(bt);
	ftramp_patch_get_stats(&b);
	ftramp_poke_batch__free(bt);
	*held_ns = b.stop_ns - a.stop_ns;
	if (!err && b.stops - a.stops != 1)
		err = -EPROTO;
	return err;
}

TEST(stop_cost)
{
	static const int counts[] = { 0, 1, 4, 16 };
	/* A bound for a hang, not for load: 16 spinners on 2 busy cores. */
	struct ftramp_stop_opts so = { .force = true, .timeout_ms = 60000 };
	struct spin *sp = calloc(16, sizeof(*sp));
	unsigned long errors = 0;
	int running = 0;

	ASSERT_NE(NULL, sp);
	ftramp_patch_set_stop_opts(&so);
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		uint64_t lo = UINT64_MAX, hi = 0, sum = 0, held = 0;
		const int reps = 10;

		while (running < counts[k])
			ASSERT_EQ(0, spin_start(&sp[running++]));
		for (int r = 0; r < reps; r++) {
			ASSERT_EQ(0, stop_once(r, &held));
			lo = held < lo ? held : lo;
			hi = held > hi ? held : hi;
			sum += held;
		}
		TH_LOG("%2d spinning threads: one stop holds them %.2f ms (min %.2f, max %.2f)",
		       counts[k], sum / 1e6 / reps, lo / 1e6, hi / 1e6);
	}
	for (int t = 0; t < running; t++)
		errors += spin_stop(&sp[t]);
	EXPECT_EQ(0, errors);
	free(sp);
}

/* ------------------------------------------------------------------
 * Sleepers that block every signal: left asleep, checked after
 * ------------------------------------------------------------------ */

struct deaf {
	pthread_t th;
	int fds[2];
	int woke;		/* reads returned */
	int bad;		/* a traced call gave a wrong result */
};

/* Blocks every signal behind the interposition's back, then sleeps. */
static void *deaf_reader(void *p)
{
	struct deaf *r = p;
	sigset_t all;
	char c = 0;

	sigfillset(&all);
	thread_real_sigmask(SIG_BLOCK, &all, NULL);
	while (c != 'q') {
		if (read(r->fds[0], &c, 1) != 1)
			break;
		__atomic_add_fetch(&r->woke, 1, __ATOMIC_RELEASE);
		if (c == 'c')
			for (int i = 0; i < NSITES; i++)
				r->bad += pf_table[i](i) != pf_expect(i, i);
	}
	return NULL;
}

static int deaf_start(struct deaf *r)
{
	int dfd = thread_dir_open();
	unsigned long sw;
	pid_t tid = 0;

	if (dfd < 0 || pipe(r->fds) ||
	    pthread_create(&r->th, NULL, deaf_reader, r))
		return -1;
	pthread_setname_np(r->th, "deaf-reader");
	/* Its tid, then wait until it is seen asleep. */
	for (int i = 0; i < 10000 && !tid; i++) {
		struct thread_list l = { 0 };

		if (thread_list(dfd, &l, true) == 0) {
			for (size_t k = 0; k < l.nr; k++) {
				char buf[160];

				thread_describe(dfd, l.tid[k], 0, buf,
						sizeof(buf));
				if (strstr(buf, "(deaf-reader)"))
					tid = l.tid[k];
			}
		}
		thread_list_free(&l);
		if (!tid)
			usleep(1000);
	}
	for (int i = 0; tid && i < 10000; i++) {
		if (thread_inactive(dfd, tid, &sw))
			break;
		usleep(1000);
	}
	close(dfd);
	return tid ? 0 : -1;
}

static int deaf_stop(struct deaf *r)
{
	if (write(r->fds[1], "cq", 2) != 2)
		return -1;
	pthread_join(r->th, NULL);
	close(r->fds[0]);
	close(r->fds[1]);
	return r->bad;
}

/*
 * A thread asleep in read() with every signal blocked cannot park.  It
 * does not fail the stop: it is seen off the CPU before the writes and
 * with the same switch count after them.  Woken later, it calls the
 * prepared functions correctly.
 */
TEST(blocked_sleeper_does_not_fail_the_stop)
{
	struct ftramp_stop_opts so = { .timeout_ms = 5000 };
	struct ftramp_patch_stats a, b;
	struct deaf r = { 0 };
	struct delta d;

	ASSERT_EQ(0, ftramp_sync_signal_init());
	ftramp_patch_set_stop_opts(&so);
	ASSERT_EQ(0, deaf_start(&r));
	ftramp_patch_get_stats(&a);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	ftramp_patch_get_stats(&b);
	stats_delta(&a, &b, &d);
	EXPECT_EQ(NSITES, count_prepared());
	EXPECT_EQ(1, d.stops);
	EXPECT_EQ(0, d.stop_timeouts);
	EXPECT_EQ(1, b.stop_asleep - a.stop_asleep);
	EXPECT_EQ(0, b.stop_woke - a.stop_woke);
	EXPECT_EQ(0, __atomic_load_n(&r.woke, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, deaf_stop(&r));
	EXPECT_EQ(2, r.woke);
}

static volatile int usr1_seen;
static int suspend_returns, suspend_err;
static pid_t suspend_tid;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

static void *suspender(void *p)
{
	sigset_t all, wait;

	(void)p;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	wait = all;
	sigdelset(&wait, SIGUSR1);
	/* Only SIGUSR1 may end it (the interposition leaves it alone). */
	__atomic_store_n(&suspend_tid, (pid_t)syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	while (!usr1_seen) {
		int ret = sigsuspend(&wait);

		suspend_returns++;
		suspend_err = ret < 0 ? errno : 0;
	}
	return NULL;
}

/*
 * The same with sigsuspend(): the stop neither fails nor ends the
 * program's sigsuspend() early.
 */
TEST(sigsuspend_sleeper_is_left_asleep)
{
	struct ftramp_stop_opts so = { .timeout_ms = 5000 };
	struct ftramp_patch_stats a, b;
	int dfd = thread_dir_open();
	struct sigaction sa;
	pthread_t th;

	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ftramp_sync_signal_init());
	ftramp_patch_set_stop_opts(&so);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, suspender, NULL));
	ASSERT_EQ(0, wait_asleep(&suspend_tid));
	ftramp_patch_get_stats(&a);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	ftramp_patch_get_stats(&b);
	EXPECT_EQ(1, b.stop_asleep - a.stop_asleep);
	EXPECT_EQ(0, b.stop_timeouts - a.stop_timeouts);
	EXPECT_EQ(0, suspend_returns);
	ASSERT_EQ(0, pthread_kill(th, SIGUSR1));
	pthread_join(th, NULL);
	EXPECT_EQ(1, suspend_returns);
	EXPECT_EQ(EINTR, suspend_err);
	close(dfd);
}

/*
 * The limit (stop_machine.c, point 6): a sleeper woken between its last
 * look and the writes may fetch a word while it changes.  It is seen
 * (stop_woke), and every core is synchronised before the next phase.
 */
static struct deaf *woken;

static void wake_mid_stop(void)
{
	int before = __atomic_load_n(&woken->woke, __ATOMIC_ACQUIRE);

	if (write(woken->fds[1], "x", 1) != 1)
		return;
	while (__atomic_load_n(&woken->woke, __ATOMIC_ACQUIRE) == before)
		sched_yield();
}

TEST(sleeper_woken_mid_stop_is_counted)
{
	struct ftramp_stop_opts so = { .timeout_ms = 5000 };
	struct ftramp_patch_stats a, b;
	struct deaf r = { 0 };
	struct delta d;

	ASSERT_EQ(0, ftramp_sync_signal_init());
	ftramp_patch_set_stop_opts(&so);
	ASSERT_EQ(0, deaf_start(&r));
	woken = &r;
	ftramp_stop_set_test_hook(wake_mid_stop);
	ftramp_patch_get_stats(&a);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	ftramp_patch_get_stats(&b);
	ftramp_stop_set_test_hook(NULL);
	stats_delta(&a, &b, &d);
	EXPECT_EQ(NSITES, count_prepared());
	EXPECT_EQ(1, d.stops);
	EXPECT_EQ(1, b.stop_asleep - a.stop_asleep);
	EXPECT_EQ(1, b.stop_woke - a.stop_woke);
	/* the stop's own sync was not enough: one more */
	EXPECT_EQ(2, d.syncs);
	EXPECT_EQ(1, r.woke);
	EXPECT_EQ(0, deaf_stop(&r));
}

/*
 * The committing thread's own handlers wait for the end of the stop: a
 * signal sent to it while the others are parked runs after the writes.
 */
static int handler_saw = -1;

static void count_in_handler(int sig)
{
	(void)sig;
	handler_saw = count_prepared();
}

static void signal_self_mid_stop(void)
{
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2);
}

TEST(committer_handlers_wait_for_the_stop)
{
	struct ftramp_stop_opts so = { .timeout_ms = 5000 };
	struct spin sp = { 0 };
	struct sigaction sa;

	ASSERT_EQ(0, ftramp_sync_signal_init());
	ftramp_patch_set_stop_opts(&so);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_in_handler;
	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	ASSERT_EQ(0, spin_start(&sp));
	ftramp_stop_set_test_hook(signal_self_mid_stop);
	EXPECT_EQ(NSITES, prepare("pf_*"));
	ftramp_stop_set_test_hook(NULL);
	/* It ran, and only after every entry was written. */
	EXPECT_EQ(NSITES, handler_saw);
	EXPECT_EQ(0, spin_stop(&sp));
	signal(SIGUSR2, SIG_DFL);
}

TEST_HARNESS_MAIN
