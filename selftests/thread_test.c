// SPDX-License-Identifier: MIT
/*
 * lib/thread.c: where a thread is (the rule every layer uses), and what
 * the program sees of it.  Threads asleep in poll, nanosleep and a pipe
 * read stay asleep through attach/detach cycles: reclamation observes
 * them from /proc instead of interrupting them (no EINTR: each sleep
 * ends when the test ends it).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "lib/phdr.h"
#include "lib/thread.h"
#include "selftests/harness.h"
#include "selftests/site_bytes.h"

long thr_fn(long x);
TRACEE long thr_fn(long x) { return 3 * x + 1; }

static uint64_t runs;

static uint64_t count_prog(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&runs, 1, __ATOMIC_RELAXED);
	return 0;
}

/* ------------------------------------------------------------------
 * Where a thread is
 * ------------------------------------------------------------------ */

static volatile int spin_stop;
static pid_t spin_tid;

static void *spinner(void *arg)
{
	(void)arg;
	__atomic_store_n(&spin_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&spin_stop, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

static int wake_pipe[2];
static pid_t poll_tid;

static void *poller(void *arg)
{
	struct pollfd p = { .fd = wake_pipe[0], .events = POLLIN };

	(void)arg;
	__atomic_store_n(&poll_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	return (void *)(intptr_t)poll(&p, 1, 20000);
}

/* Wait (up to 10 s) until tid is seen as `want'. */
static enum thread_where wait_where(int dfd, pid_t tid, enum thread_where want)
{
	enum thread_where w = THREAD_USER;
	struct thread_stat ts;
	uint64_t pc;

	for (int i = 0; i < 10000; i++) {
		w = thread_where(dfd, tid, &ts, true, &pc);
		if (w == want)
			break;
		usleep(1000);
	}
	return w;
}

TEST(where_threads_are)
{
	pthread_t a, b;
	int dfd = thread_dir_open();
	void *ret;

	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pipe(wake_pipe));
	spin_stop = 0;
	ASSERT_EQ(0, pthread_create(&a, NULL, spinner, NULL));
	ASSERT_EQ(0, pthread_create(&b, NULL, poller, NULL));
	while (!__atomic_load_n(&spin_tid, __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&poll_tid, __ATOMIC_ACQUIRE))
		usleep(1000);

	/* Asleep in poll: in a system call, at the PC of its svc. */
	EXPECT_EQ(THREAD_SYSCALL, wait_where(dfd, poll_tid, THREAD_SYSCALL));
	/* Spinning: may be anywhere (a spinner preempted reads R too). */
	EXPECT_EQ(THREAD_USER, wait_where(dfd, spin_tid, THREAD_USER));
	/* pthread_join() returns a little before the kernel unlists a
	 * thread (the futex probe of the first thread_where()). */
	for (int i = 0; i < 1000 && thread_guest_count() != 3; i++)
		usleep(1000);
	EXPECT_EQ(3, thread_guest_count());

	__atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(1, write(wake_pipe[1], "x", 1));
	pthread_join(a, NULL);
	pthread_join(b, &ret);
	EXPECT_EQ(1, (int)(intptr_t)ret);	/* woken by the pipe */
	EXPECT_EQ(THREAD_GONE, wait_where(dfd, spin_tid, THREAD_GONE));
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	close(dfd);
}

/* ------------------------------------------------------------------
 * Sleepers are not disturbed
 * ------------------------------------------------------------------ */

#define CYCLES		100

static int eintr, other_err, asleep, poll_ret, nano_ret, nano_err;
static volatile sig_atomic_t woken_by_us;
static pid_t sleeper_tid[3];
static int read_pipe[2], poll_pipe[2];

static void note(int r, int err)
{
	if (r < 0 && err == EINTR)
		__atomic_add_fetch(&eintr, 1, __ATOMIC_RELAXED);
	else if (r < 0)
		__atomic_add_fetch(&other_err, 1, __ATOMIC_RELAXED);
}

/*
 * Each sleeper makes one call that lasts until the test ends it, after
 * the last cycle: none of them runs during the cycles, however slowly
 * the host schedules anyone.  (A timed sleep that ends during a scan
 * is a thread woken in the kernel; Documentation/design.rst, "Limits".)
 */

/* poll() on a pipe written after the last cycle: 1, never 0 or EINTR. */
static void *poll_sleeper(void *arg)
{
	struct pollfd p = { .fd = poll_pipe[0], .events = POLLIN };
	int r;

	(void)arg;
	sleeper_tid[0] = (pid_t)gettid();
	__atomic_add_fetch(&asleep, 1, __ATOMIC_RELEASE);
	r = poll(&p, 1, 600000);
	note(r, errno);
	poll_ret = r;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	woken_by_us = 1;
}

/*
 * nanosleep() for an hour, ended after the last cycle by the test's own
 * SIGUSR1: EINTR then, and only then.
 */
static void *nano_sleeper(void *arg)
{
	struct timespec t = { 3600, 0 }, rem;
	int r;

	(void)arg;
	sleeper_tid[1] = (pid_t)gettid();
	__atomic_add_fetch(&asleep, 1, __ATOMIC_RELEASE);
	r = nanosleep(&t, &rem);
	nano_err = r ? errno : 0;
	nano_ret = r;
	if (!(r < 0 && nano_err == EINTR && woken_by_us))
		note(r, nano_err);
	return NULL;
}

/* read() on a pipe that gets its one byte after the last cycle. */
static void *read_sleeper(void *arg)
{
	char c = 0;
	ssize_t r;

	(void)arg;
	sleeper_tid[2] = (pid_t)gettid();
	__atomic_add_fetch(&asleep, 1, __ATOMIC_RELEASE);
	r = read(read_pipe[0], &c, 1);
	note((int)r, errno);
	return (void *)(intptr_t)(r == 1 && c == 'q');
}

TEST(sleepers_see_no_eintr)
{
	struct ftramp_reclaim_stats a = { .sz = sizeof(a) }, b = { .sz = sizeof(b) };
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct ftramp_func_model model;
	pthread_t th[3];
	int dfd = thread_dir_open();
	void *read_ok;

	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, ftramp_model__parse("long (long)", &model, NULL));
	/* Prepared while single-threaded: no stop later (patching.rst). */
	ASSERT_LE(1, ftramp_sites__prepare(ftramp_sites__get(), "thr_fn"));
	ASSERT_EQ(0, pipe(read_pipe));
	ASSERT_EQ(0, pipe(poll_pipe));
	ASSERT_EQ(0, pthread_create(&th[0], NULL, poll_sleeper, NULL));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, nano_sleeper, NULL));
	ASSERT_EQ(0, pthread_create(&th[2], NULL, read_sleeper, NULL));
	while (__atomic_load_n(&asleep, __ATOMIC_ACQUIRE) < 3)
		usleep(1000);
	/* Asleep for real before the first cycle. */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(THREAD_SYSCALL,
			  wait_where(dfd, sleeper_tid[i], THREAD_SYSCALL));
	ASSERT_EQ(0, ftramp_reclaim__stats(&a));

	for (int i = 0; i < CYCLES; i++) {
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = &model,
			    .force_far = i & 1);
		struct ftramp_link *l = ftramp_attach("thr_fn", FTRAMP_FEXIT,
						      count_prog, &o);

		ASSERT_NE(NULL, l);
		EXPECT_EQ(3 * i + 1, thr_fn(i));
		ASSERT_EQ(0, ftramp_link__destroy(l));
		/* Reclaim now: scans while the sleepers sleep. */
		EXPECT_EQ(0, ftramp_sync(10000));
	}
	ASSERT_EQ(0, ftramp_reclaim__stats(&b));

	/* Still asleep, all three, then woken by the test itself. */
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(THREAD_SYSCALL,
			  wait_where(dfd, sleeper_tid[i], THREAD_SYSCALL));
	ASSERT_EQ(1, write(poll_pipe[1], "x", 1));
	ASSERT_EQ(1, write(read_pipe[1], "q", 1));
	ASSERT_EQ(0, pthread_kill(th[1], SIGUSR1));
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], i == 2 ? &read_ok : NULL);

	TH_LOG("%llu scans, %llu signals, %llu quiet",
	       (unsigned long long)(b.scans - a.scans),
	       (unsigned long long)(b.scan_signals - a.scan_signals),
	       (unsigned long long)(b.scan_quiet - a.scan_quiet));
	EXPECT_EQ(CYCLES, (int)runs);
	EXPECT_EQ(0, eintr);
	EXPECT_EQ(0, other_err);
	EXPECT_EQ(1, poll_ret);		/* the pipe, not a timeout */
	EXPECT_EQ(-1, nano_ret);	/* ended by our SIGUSR1 */
	EXPECT_EQ(EINTR, nano_err);
	EXPECT_EQ(1, (int)(intptr_t)read_ok);
	/* The scans did happen, and saw the sleepers asleep. */
	EXPECT_LT(0, b.scans - a.scans);
	EXPECT_LT(0, b.scan_quiet - a.scan_quiet);
	EXPECT_EQ(b.images_alloc, b.images_freed);
	close(read_pipe[0]);
	close(read_pipe[1]);
	close(poll_pipe[0]);
	close(poll_pipe[1]);
	close(dfd);
}

/* ------------------------------------------------------------------
 * fork() during an attach/detach storm
 * ------------------------------------------------------------------ */

long thr_fn2(long x);
TRACEE long thr_fn2(long x) { return 5 * x - 2; }

static volatile int storm_stop;
static uint64_t storm_cycles;

static void *storm(void *arg)
{
	struct ftramp_func_model *model = arg;

	while (!__atomic_load_n(&storm_stop, __ATOMIC_ACQUIRE)) {
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = model,
			    .force_far = storm_cycles & 1);
		struct ftramp_link *a, *b;

		a = ftramp_attach("thr_fn", FTRAMP_FENTRY, count_prog, &o);
		b = ftramp_attach("thr_fn2", FTRAMP_FEXIT, count_prog, &o);
		ftramp_link__destroy(a);
		ftramp_link__destroy(b);
		ftramp_sync(100);
		__atomic_add_fetch(&storm_cycles, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* In the child: traced calls, and an attach of its own (every lock). */
static int child_work(struct ftramp_func_model *model, int i)
{
	FTRAMP_OPTS(ftramp_attach_opts, o, .model = model);
	struct ftramp_link *l;

	if (thr_fn(i) != 3 * i + 1 || thr_fn2(i) != 5 * i - 2)
		return 1;
	l = ftramp_attach("thr_fn2", FTRAMP_FENTRY, count_prog, &o);
	if (!l || thr_fn2(i) != 5 * i - 2 || ftramp_link__destroy(l))
		return 2;
	return thr_fn(i) == 3 * i + 1 ? 0 : 3;
}

/* waitpid() with a bound: a child that deadlocked is killed. */
static int reap(pid_t pid)
{
	int status;

	for (int ms = 0; ms < 5000; ms++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 255;
}

TEST(fork_during_attach_storm)
{
	struct ftramp_func_model model;
	const char *env = getenv("STRESS_S");
	int forks = 40, bad = 0, hung = 0, n = 0;
	long secs = env ? atol(env) : 0;
	struct timespec t0, t;
	pthread_t th;

	ASSERT_EQ(0, ftramp_model__parse("long (long)", &model, NULL));
	ASSERT_LE(2, ftramp_sites__prepare(ftramp_sites__get(), "thr_fn*"));
	ASSERT_EQ(0, pthread_create(&th, NULL, storm, &model));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t pid;
		int st;

		if (secs > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec >= secs)
				break;
		} else if (n == forks) {
			break;
		}
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(child_work(&model, n));
		st = reap(pid);
		bad += st != 0;
		hung += st == 255;
		n++;
	}
	__atomic_store_n(&storm_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	TH_LOG("%d forks, %llu storm cycles", n,
	       (unsigned long long)storm_cycles);
	EXPECT_EQ(0, hung);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, storm_cycles);
	EXPECT_EQ(0, ftramp_sync(10000));
}

/*
 * glibc's fork() leaves the loader's dl_load_write_lock as it was, and
 * dl_iterate_phdr() holds it while calling back: a fork during a walk
 * makes a child whose next walk never returns (lib/phdr.c).  Ours take
 * phdr_lock, which the fork handler takes too, so the fork waits for the
 * walk to end.  Without it, the child below hangs and is killed.
 */
static int walk_state;	/* 1: inside the walk, 2: fork() is being called */

static int slow_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	(void)data;
	__atomic_store_n(&walk_state, 1, __ATOMIC_RELEASE);
	for (int ms = 0; ms < 5000; ms++) {
		if (__atomic_load_n(&walk_state, __ATOMIC_ACQUIRE) == 2)
			break;
		usleep(1000);
	}
	/* Still inside while the other thread enters fork(). */
	usleep(50000);
	return 1;
}

static void *walker(void *arg)
{
	(void)arg;
	ftramp_dl_iterate_phdr(slow_cb, NULL);
	return NULL;
}

static int count_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	++*(int *)data;
	return 0;
}

TEST(fork_during_object_walk)
{
	pthread_t th;
	pid_t pid;

	ASSERT_EQ(0, pthread_create(&th, NULL, walker, NULL));
	while (__atomic_load_n(&walk_state, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	__atomic_store_n(&walk_state, 2, __ATOMIC_RELEASE);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int n = 0;

		ftramp_dl_iterate_phdr(count_cb, &n);
		_exit(n > 0 ? 0 : 1);
	}
	EXPECT_EQ(0, reap(pid));	/* 255: the child hung */
	pthread_join(th, NULL);
}

/* ------------------------------------------------------------------
 * A limit under QEMU: a thread waiting on a futex is asked
 * ------------------------------------------------------------------ */

static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_go;
static pid_t cv_tid;

static void *cv_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cv_lock);
	__atomic_store_n(&cv_tid, (pid_t)gettid(), __ATOMIC_RELEASE);
	while (!cv_go)
		pthread_cond_wait(&cv, &cv_lock);
	pthread_mutex_unlock(&cv_lock);
	return NULL;
}

/*
 * Natively a thread in pthread_cond_wait() is in a system call like any
 * sleeper.  Under QEMU a host futex wait may be QEMU's own lock, taken
 * with the guest PC anywhere, so such a thread is "in the kernel" and
 * scans ask it with a signal (Documentation/design.rst, "Limits").
 */
TEST(futex_waiter_is_asked_under_emulation)
{
	enum thread_where want = thread_emulated() ? THREAD_KERNEL
						   : THREAD_SYSCALL;
	int dfd = thread_dir_open();
	pthread_t th;

	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pthread_create(&th, NULL, cv_waiter, NULL));
	while (!__atomic_load_n(&cv_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	EXPECT_EQ(want, wait_where(dfd, cv_tid, want));
	pthread_mutex_lock(&cv_lock);
	cv_go = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&cv_lock);
	pthread_join(th, NULL);
	close(dfd);
}

TEST_HARNESS_MAIN
