// SPDX-License-Identifier: MIT
/*
 * Attach, detach and modify under load (issue 13's bar).  Eight threads
 * call 200 traced functions (some recursive, some sleeping inside the
 * function, some called from programs) while the main thread attaches and
 * destroys links on them in random order, near and far.  Meanwhile:
 *
 *  - a signaller sends SIGUSR1 to the workers, one at a time; each
 *    handler calls a traced function (st_sig) and checks its result;
 *  - three threads sleep in poll(), nanosleep() and a pipe read() from
 *    before the first attach until the test ends their sleep after the
 *    last: none may return early or see EINTR;
 *  - a churner creates short-lived threads that call traced functions;
 *  - a forker forks: each child calls traced functions (every other one
 *    also attaches and detaches) and must exit 0;
 *  - a jumper calls st_jmp, which longjmp()s out of every other call,
 *    abandoning its fexit frame (found by the shadow stack).
 *
 * Counted windows: functions 0..99 carry a stable fentry link (and the
 * sleeping and recursive ones a stable fexit link) for the whole run, as
 * do st_sig and st_jmp, while the other links of the same functions come
 * and go, so their image is rebuilt and swapped under the callers again
 * and again.  Every call must run the stable programs exactly once:
 * nothing lost, nothing doubled.  Every result is checked, and at the
 * end every image and call record built must have been reclaimed.
 *
 * Counts decide the run's length in `make check`; STRESS_S=N runs every
 * actor for N seconds instead.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "lib/thread.h"
#include "selftests/harness.h"
#include "selftests/site_bytes.h"

#define NR_FUNCS	200
#define NR_STABLE	100	/* functions with stable links */
#define NR_WORKERS	8
#define MAX_TRANSIENT	48
/* `make check`: how many of each (STRESS_S=N: N seconds of each). */
#define NR_OPS		40	/* attaches and detaches */
#define NR_SIGNALS	40
#define NR_CHURN	16
#define NR_FORKS	4
#define NR_JUMPS	400	/* st_jmp calls, half of them left by longjmp */
#define MIN_CALLS	200	/* per worker, before it may stop */

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

/* Run length: counts, or STRESS_S seconds. */
static long stress_s;
static uint64_t stress_end_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool more(uint64_t done, uint64_t count)
{
	return stress_s ? now_ms() < stress_end_ms : done < count;
}

static uint64_t worker_calls[NR_WORKERS];

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
		__atomic_add_fetch(&worker_calls[(uintptr_t)arg], 1,
				   __ATOMIC_RELEASE);
	}
	for (int n = 0; n < NR_FUNCS; n++)
		__atomic_add_fetch(&calls[n], mine[n], __ATOMIC_RELAXED);
	return NULL;
}

/* ------------------------------------------------------------------
 * Signal handlers that call a traced function
 * ------------------------------------------------------------------ */

long st_sig(long x);
TRACEE long st_sig(long x) { return 5 * x + 2; }

static uint64_t sig_sent, sig_handled, sig_entries;
static pthread_t workers[NR_WORKERS];

static void on_usr1(int sig)
{
	int saved = errno;
	long x = (long)(__atomic_load_n(&sig_handled, __ATOMIC_RELAXED) & 63);

	(void)sig;
	if (st_sig(x) != 5 * x + 2)
		__atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sig_handled, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* One signal at a time, each handled before the next: exact counts. */
static void *signaller(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; more(i, NR_SIGNALS); i++) {
		if (pthread_kill(workers[i % NR_WORKERS], SIGUSR1))
			break;
		sig_sent++;
		while (__atomic_load_n(&sig_handled, __ATOMIC_ACQUIRE) < sig_sent)
			sched_yield();
	}
	return NULL;
}

/* ------------------------------------------------------------------
 * Sleepers: asleep from before the first attach until the test ends it
 * ------------------------------------------------------------------ */

static int poll_pipe[2], read_pipe[2];
static int sleepers_asleep, sleep_eintr, sleep_early;
static volatile sig_atomic_t nano_woken;
static pid_t sleeper_tid[3];

static void on_usr2(int sig)
{
	(void)sig;
	nano_woken = 1;
}

/* Ended by a write to its pipe: 1, never 0 or -1. */
static void *poll_sleeper(void *arg)
{
	struct pollfd p = { .fd = poll_pipe[0], .events = POLLIN };
	int r;

	(void)arg;
	sleeper_tid[0] = (pid_t)gettid();
	__atomic_add_fetch(&sleepers_asleep, 1, __ATOMIC_RELEASE);
	r = poll(&p, 1, 3600 * 1000);
	if (r < 0 && errno == EINTR)
		__atomic_add_fetch(&sleep_eintr, 1, __ATOMIC_RELAXED);
	else if (r != 1)
		__atomic_add_fetch(&sleep_early, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Ended by the test's own SIGUSR2: EINTR then, and only then. */
static void *nano_sleeper(void *arg)
{
	struct timespec t = { 3600, 0 }, rem;
	int r;

	(void)arg;
	sleeper_tid[1] = (pid_t)gettid();
	__atomic_add_fetch(&sleepers_asleep, 1, __ATOMIC_RELEASE);
	r = nanosleep(&t, &rem);
	if (r < 0 && errno == EINTR && !nano_woken)
		__atomic_add_fetch(&sleep_eintr, 1, __ATOMIC_RELAXED);
	else if (!(r < 0 && errno == EINTR))
		__atomic_add_fetch(&sleep_early, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Ended by the byte written to its pipe. */
static void *read_sleeper(void *arg)
{
	char c = 0;
	ssize_t r;

	(void)arg;
	sleeper_tid[2] = (pid_t)gettid();
	__atomic_add_fetch(&sleepers_asleep, 1, __ATOMIC_RELEASE);
	r = read(read_pipe[0], &c, 1);
	if (r < 0 && errno == EINTR)
		__atomic_add_fetch(&sleep_eintr, 1, __ATOMIC_RELAXED);
	else if (r != 1 || c != 'q')
		__atomic_add_fetch(&sleep_early, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Blocked in the system call (lib/thread.c's rule), up to 10 s. */
static bool asleep(int dfd, pid_t tid)
{
	struct thread_stat ts;
	uint64_t pc;

	for (int i = 0; i < 10000; i++) {
		if (thread_where(dfd, tid, &ts, true, &pc) == THREAD_SYSCALL)
			return true;
		usleep(1000);
	}
	return false;
}

/* ------------------------------------------------------------------
 * Threads that come and go, fork, longjmp
 * ------------------------------------------------------------------ */

static uint64_t churned, churn_calls[NR_STABLE];

static void *short_lived(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x2545f4914f6cdd1dull + 7;

	for (int i = 0; i < 20; i++) {
		int n = (int)(rnd(&seed) % NR_STABLE);
		long x = class_of(n) == RECURSIVE ? 2 : (long)(rnd(&seed) & 63);

		if (funcs[n].fn(x) != expect(n, x))
			__atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&churn_calls[n], invocations(n, x),
				   __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t churned_calls(void)
{
	uint64_t c = 0;

	for (int n = 0; n < NR_STABLE; n++)
		c += churn_calls[n];
	return c;
}

static void *churner(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; more(i, NR_CHURN); i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, short_lived, (void *)(uintptr_t)i))
			break;
		pthread_join(th, NULL);
		churned++;
	}
	return NULL;
}

static struct ftramp_func_model model;
static uint64_t forks, child_failures;

/* Only children attach it: never refused as already attached. */
static uint64_t child_prog(const uint64_t *ctx)
{
	(void)ctx;
	return 0;
}

/* In the child: traced calls; every other child attaches too. */
static int child_work(uint64_t i)
{
	for (int n = 0; n < NR_FUNCS; n += 7) {
		long x = class_of(n) == RECURSIVE ? 2 : (long)(i & 63);

		if (funcs[n].fn(x) != expect(n, x))
			return 1;
	}
	if (i & 1) {
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = &model);
		struct ftramp_link *l;

		l = ftramp_attach(funcs[NR_STABLE + 3].name, FTRAMP_FEXIT,
				  child_prog, &o);
		if (!l || funcs[NR_STABLE + 3].fn(4) != expect(NR_STABLE + 3, 4) ||
		    ftramp_link__destroy(l))
			return 2;
	}
	return st_sig(3) == 17 ? 0 : 3;
}

static void *forker(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; more(i, NR_FORKS); i++) {
		int status;
		pid_t pid = fork(), r;

		if (pid < 0) {
			child_failures++;
			break;
		}
		if (!pid)
			_exit(child_work(i));
		/* A child that deadlocked hangs the test: its timeout. */
		while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		forks++;
		if (r != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			child_failures++;
	}
	return NULL;
}

long st_jmp(long x);
static __thread jmp_buf jmp_env;
static uint64_t jmp_calls, jmps, jmp_entries, jmp_exits, jmp_unwound;

static void __attribute__((noinline)) jump_out(long x)
{
	longjmp(jmp_env, (int)(x & 0xffff) + 1);
}

/* Odd arguments leave by longjmp() from the body, under the fexit frame. */
TRACEE long st_jmp(long x)
{
	if (x & 1)
		jump_out(x);
	return 7 * x + 3;
}

static void __attribute__((noinline)) jump_once(long x)
{
	int v = setjmp(jmp_env);

	if (!v) {
		if (st_jmp(x) != 7 * x + 3 || (x & 1))
			__atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
	} else {
		if (v != (int)(x & 0xffff) + 1 || !(x & 1))
			__atomic_add_fetch(&bad_results, 1, __ATOMIC_RELAXED);
		jmps++;
	}
	jmp_calls++;
}

static void *jumper(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; more(i, NR_JUMPS); i++)
		jump_once((long)(i & 0x7fff));
	return NULL;	/* its exit releases the last abandoned frame */
}

static uint64_t jmp_entry(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&jmp_entries, 1, __ATOMIC_RELAXED);
	return 0;
}

static uint64_t jmp_exit(const uint64_t *ctx)
{
	if (ftramp_get_func_unwound(ctx))
		__atomic_add_fetch(&jmp_unwound, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&jmp_exits, 1, __ATOMIC_RELAXED);
	return 0;
}

static uint64_t sig_entry(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&sig_entries, 1, __ATOMIC_RELAXED);
	return 0;
}

/* The functions the main thread attaches transient links to. */
static const char *transient_target(int n)
{
	if (n == NR_FUNCS)
		return "st_sig";
	if (n == NR_FUNCS + 1)
		return "st_jmp";
	return funcs[n].name;
}

TEST(attach_detach_under_load)
{
	struct ftramp_link *stable[NR_STABLE][2] = { { 0 } };
	struct ftramp_link *tl[MAX_TRANSIENT] = { 0 };
	struct ftramp_link *sig_link, *jmp_links[2];
	struct ftramp_reclaim_stats st = { .sz = sizeof(st) };
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t th_sig, th_churn, th_fork, th_jmp, th_sleep[3];
	uint64_t seed = 42, ops = 0, attaches = 0, detaches = 0, refused = 0;
	uint64_t total_calls = 0;
	const char *env = getenv("STRESS_S");
	int dfd = thread_dir_open();

	stress_s = env ? atol(env) : 0;
	if (stress_s > 0) {
		/* The harness's bound, which its parent enforces too. */
		const char *tmo = getenv("FTRAMP_TEST_TIMEOUT");

		if (!tmo || atol(tmo) < 2 * stress_s + 120)
			TH_LOG("STRESS_S=%ld needs FTRAMP_TEST_TIMEOUT=%ld",
			       (long)stress_s, (long)(2 * stress_s + 120));
		ASSERT_LE(2 * stress_s + 120, tmo ? atol(tmo) : 0);
		stress_end_ms = now_ms() + 1000 * (uint64_t)stress_s;
	}
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = on_usr2;
	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	ASSERT_EQ(0, ftramp_model__parse("long (long)", &model, NULL));
	/*
	 * Every site prepared while single-threaded: no stop-machine later,
	 * which parks (and so wakes) sleepers too (patching.rst).
	 */
	ASSERT_LE(NR_FUNCS + 2, ftramp_sites__prepare(ftramp_sites__get(),
						      "st_*"));
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
	{
		FTRAMP_OPTS(ftramp_attach_opts, o, .model = &model);

		sig_link = ftramp_attach("st_sig", FTRAMP_FENTRY, sig_entry, &o);
		jmp_links[0] = ftramp_attach("st_jmp", FTRAMP_FENTRY, jmp_entry,
					     &o);
		jmp_links[1] = ftramp_attach("st_jmp", FTRAMP_FEXIT, jmp_exit,
					     &o);
	}
	ASSERT_NE(NULL, sig_link);
	ASSERT_NE(NULL, jmp_links[0]);
	ASSERT_NE(NULL, jmp_links[1]);

	/* The sleepers first, asleep before anything moves. */
	ASSERT_EQ(0, pipe(poll_pipe));
	ASSERT_EQ(0, pipe(read_pipe));
	ASSERT_EQ(0, pthread_create(&th_sleep[0], NULL, poll_sleeper, NULL));
	ASSERT_EQ(0, pthread_create(&th_sleep[1], NULL, nano_sleeper, NULL));
	ASSERT_EQ(0, pthread_create(&th_sleep[2], NULL, read_sleeper, NULL));
	while (__atomic_load_n(&sleepers_asleep, __ATOMIC_ACQUIRE) < 3)
		usleep(1000);
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(asleep(dfd, sleeper_tid[i]));

	for (long i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&workers[i], NULL, worker,
					    (void *)i));
	ASSERT_EQ(0, pthread_create(&th_sig, NULL, signaller, NULL));
	ASSERT_EQ(0, pthread_create(&th_churn, NULL, churner, NULL));
	ASSERT_EQ(0, pthread_create(&th_fork, NULL, forker, NULL));
	ASSERT_EQ(0, pthread_create(&th_jmp, NULL, jumper, NULL));

	for (ops = 0; more(ops, NR_OPS); ops++) {
		int slot = (int)(rnd(&seed) % MAX_TRANSIENT);

		if (tl[slot]) {
			ASSERT_EQ(0, ftramp_link__destroy(tl[slot]));
			tl[slot] = NULL;
			detaches++;
			continue;
		}
		int n = (int)(rnd(&seed) % (NR_FUNCS + 2));
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
		tl[slot] = ftramp_attach(transient_target(n), kind, prog, &o);
		if (tl[slot]) {
			attaches++;
		} else {
			/* Same program on the same kind twice: fine. */
			ASSERT_EQ(EBUSY, errno);
			refused++;
		}
	}
	pthread_join(th_sig, NULL);
	pthread_join(th_churn, NULL);
	pthread_join(th_fork, NULL);
	pthread_join(th_jmp, NULL);
	/* Every worker did run during the storm: counts, not time. */
	for (int i = 0; i < NR_WORKERS; i++)
		while (__atomic_load_n(&worker_calls[i], __ATOMIC_ACQUIRE) <
		       MIN_CALLS)
			sched_yield();
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(workers[i], NULL);

	/* The sleepers slept through all of it; now the test wakes them. */
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(asleep(dfd, sleeper_tid[i]));
	ASSERT_EQ(1, write(poll_pipe[1], "x", 1));
	ASSERT_EQ(1, write(read_pipe[1], "q", 1));
	ASSERT_EQ(0, pthread_kill(th_sleep[1], SIGUSR2));
	for (int i = 0; i < 3; i++)
		pthread_join(th_sleep[i], NULL);

	for (int i = 0; i < MAX_TRANSIENT; i++)
		if (tl[i])
			EXPECT_EQ(0, ftramp_link__destroy(tl[i]));
	for (int n = 0; n < NR_STABLE; n++) {
		uint64_t c = calls[n] + churn_calls[n];

		if (c != entry_count[n] ||
		    (class_of(n) != PLAIN && c != exit_count[n]))
			TH_LOG("%s (class %d): %llu calls, %llu fentry, "
			       "%llu fexit runs", funcs[n].name, class_of(n),
			       (unsigned long long)c,
			       (unsigned long long)entry_count[n],
			       (unsigned long long)exit_count[n]);
		EXPECT_EQ(c, entry_count[n]);
		if (class_of(n) != PLAIN)
			EXPECT_EQ(c, exit_count[n]);
		EXPECT_EQ(0, ftramp_link__destroy(stable[n][0]));
		EXPECT_EQ(0, ftramp_link__destroy(stable[n][1]));
		total_calls += c;
	}
	for (int n = NR_STABLE; n < NR_FUNCS; n++)
		total_calls += calls[n];
	EXPECT_EQ(0, ftramp_link__destroy(sig_link));
	EXPECT_EQ(0, ftramp_link__destroy(jmp_links[0]));
	EXPECT_EQ(0, ftramp_link__destroy(jmp_links[1]));
	EXPECT_EQ(0, ftramp_sync(20000));
	ASSERT_EQ(0, ftramp_reclaim__stats(&st));
	TH_LOG("%llu calls (%llu by %llu short-lived threads), %llu ops: "
	       "%llu attaches, %llu detaches, %llu refused; %llu signals "
	       "handled; %llu forks; %llu st_jmp calls, %llu longjmps, %llu "
	       "found unwound", (unsigned long long)total_calls,
	       (unsigned long long)churned_calls(),
	       (unsigned long long)churned, (unsigned long long)ops,
	       (unsigned long long)attaches, (unsigned long long)detaches,
	       (unsigned long long)refused, (unsigned long long)sig_handled,
	       (unsigned long long)forks, (unsigned long long)jmp_calls,
	       (unsigned long long)jmps, (unsigned long long)jmp_unwound);
	TH_LOG("%llu images built, %llu reclaimed; %llu records, %llu "
	       "reclaimed; %llu scans (%llu busy, %llu signals, %llu quiet)",
	       (unsigned long long)st.images_alloc,
	       (unsigned long long)st.images_freed,
	       (unsigned long long)st.ops_alloc,
	       (unsigned long long)st.ops_freed,
	       (unsigned long long)st.scans, (unsigned long long)st.scan_busy,
	       (unsigned long long)st.scan_signals,
	       (unsigned long long)st.scan_quiet);
	EXPECT_EQ(0, bad_results);
	EXPECT_EQ(0, child_failures);
	EXPECT_EQ(0, sleep_eintr);
	EXPECT_EQ(0, sleep_early);
	EXPECT_EQ(sig_sent, sig_handled);
	EXPECT_EQ(sig_handled, sig_entries);
	EXPECT_EQ(jmp_calls, jmp_entries);
	EXPECT_EQ(jmp_calls - jmps, jmp_exits);
	EXPECT_EQ(jmps, jmp_unwound);
	EXPECT_EQ(st.images_alloc, st.images_freed);
	EXPECT_EQ(st.ops_alloc, st.ops_freed);
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
	EXPECT_LT(0, attaches);
	EXPECT_LT(0, forks);
	EXPECT_LT(0, jmps);
	close(poll_pipe[0]);
	close(poll_pipe[1]);
	close(read_pipe[0]);
	close(read_pipe[1]);
	close(dfd);
}

TEST_HARNESS_MAIN
