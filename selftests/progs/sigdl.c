// SPDX-License-Identifier: MIT
/*
 * A program that is hard on a tracer's signals, for selftests/cli_signals.sh.
 *
 *   sigdl LIB MODE
 *
 * Two threads spin through sigdl_spin() (traced by the test), a third sits
 * in a SIGTERM handler that blocks on a pipe (a server's handler waiting
 * for its workers), and meanwhile the main thread dlopen()s LIB (the
 * sample library), calls sample_add() and sample_sum() and dlclose()s it.
 * Before the threads start, MODE:
 *
 *   mask  every thread blocks every signal (sigprocmask, then
 *         pthread_sigmask), and checks it reads that mask back;
 *   dfl   every real-time signal is set to SIG_DFL (sigaction, signal).
 *
 * Under `ftramp run`, attaching to the library's functions as dlopen()
 * loads it stops the spinning threads: with ftramp's signals blocked or
 * given their default action, that must neither hang nor kill.  Prints
 * the results, then "done"; exit status 0 when everything matched.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int stop;
static volatile unsigned long spins[2];
static int term_pipe[2];
static volatile int in_term;

unsigned long sigdl_spin(unsigned long x);

__attribute__((noinline)) unsigned long sigdl_spin(unsigned long x)
{
	return x * 3 + 1;
}

static void *spinner(void *arg)
{
	volatile unsigned long *n = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		__atomic_store_n(n, sigdl_spin(*n), __ATOMIC_RELEASE);
	return NULL;
}

static void on_term(int sig)
{
	char c;

	(void)sig;
	__atomic_store_n(&in_term, 1, __ATOMIC_RELEASE);
	while (read(term_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	__atomic_store_n(&in_term, 2, __ATOMIC_RELEASE);
}

static void *term_waiter(void *arg)
{
	sigset_t s;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	pthread_kill(pthread_self(), SIGTERM);
	return NULL;
}

static int hostile(const char *mode)
{
	sigset_t all, back;

	if (!strcmp(mode, "mask")) {
		sigfillset(&all);
		if (sigprocmask(SIG_BLOCK, &all, NULL) ||
		    pthread_sigmask(SIG_BLOCK, &all, &back))
			return -1;
		/*
		 * The program reads back the mask it set, up to where
		 * ftramp's signals end (SIGRTMAX - 4): the kernel never
		 * blocks SIGKILL and SIGSTOP, glibc keeps its two, and
		 * qemu-user the last few for itself.
		 */
		for (int s = 1; s <= SIGRTMAX - 4; s++)
			if (s != SIGKILL && s != SIGSTOP &&
			    (s < 32 || s >= SIGRTMIN) &&
			    !sigismember(&back, s)) {
				printf("signal %d not read back blocked\n", s);
				return -1;
			}
		return 0;
	}
	if (!strcmp(mode, "dfl")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
			if (sigaction(s, &sa, NULL) ||
			    signal(s, SIG_DFL) == SIG_ERR)
				return -1;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	int (*add)(int, int);
	long (*sum)(const long *, int);
	static const long v[3] = { 1, 2, 39 };
	pthread_t th[3];
	struct sigaction sa;
	void *h;
	int ok = 1;

	if (argc != 3 || pipe(term_pipe)) {
		fprintf(stderr, "usage: sigdl LIB mask|dfl\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) || hostile(argv[2])) {
		printf("cannot set up mode %s\n", argv[2]);
		return 1;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, spinner, (void *)&spins[i]);
	pthread_create(&th[2], NULL, term_waiter, NULL);
	/* Both spinning in user code, the third inside its handler. */
	while (!__atomic_load_n(&spins[0], __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&spins[1], __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&in_term, __ATOMIC_ACQUIRE))
		sched_yield();

	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	add = (int (*)(int, int))dlsym(h, "sample_add");
	sum = (long (*)(const long *, int))dlsym(h, "sample_sum");
	if (!add || !sum) {
		printf("dlsym failed\n");
		return 1;
	}
	printf("sample_add(2, 3) = %d\n", add(2, 3));
	printf("sample_sum = %ld\n", sum(v, 3));
	ok &= add(2, 3) == 5 && sum(v, 3) == 42;
	ok &= !dlclose(h);

	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	if (write(term_pipe[1], "x", 1) != 1)
		ok = 0;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ok &= __atomic_load_n(&in_term, __ATOMIC_ACQUIRE) == 2;
	printf("%s\n", ok ? "done" : "wrong");
	return ok ? 0 : 1;
}
