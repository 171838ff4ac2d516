// SPDX-License-Identifier: MIT
/*
 * guard_prog: what the CLI must count exactly (selftests/cli_guard.sh).
 *
 *   guard_prog deep N	deep_rec() recursing N levels (N + 1 calls), on a
 *			thread with a stack to match
 *   guard_prog sig N	sigwork() called N times by the loop and once by
 *			each SIGALRM handler run meanwhile (a 50 us
 *			interval timer); prints how many calls it made
 *   guard_prog sigidle N	the same, then prints "ready PID CALLS" and
 *			makes no call until a signal ends it (60 s at most)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

long deep_rec(long n);
long sigwork(long x);

/* Through a pointer: gcc turns direct self-recursion into a loop. */
static long (*volatile deep_call)(long) = deep_rec;

__attribute__((noinline)) long deep_rec(long n)
{
	return n ? 1 + deep_call(n - 1) : 0;
}

static volatile long sink;
static volatile sig_atomic_t calls;

__attribute__((noinline)) long sigwork(long x)
{
	calls++;
	for (int i = 0; i < 20; i++)
		sink += x * i;
	return sink;
}

static void on_alarm(int sig)
{
	sigwork(sig);
}

static void *deep_thread(void *arg)
{
	long n = *(long *)arg;

	*(long *)arg = deep_rec(n);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 100;

	if (argc > 1 && !strcmp(argv[1], "deep")) {
		pthread_attr_t attr;
		pthread_t th;
		long r = n;

		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 << 20);
		if (pthread_create(&th, &attr, deep_thread, &r) ||
		    pthread_join(th, NULL))
			return 1;
		printf("deep %ld: %ld\n", n, r);
		return r == n ? 0 : 1;
	}
	if (argc > 1 && (!strcmp(argv[1], "sig") ||
			 !strcmp(argv[1], "sigidle"))) {
		struct sigaction sa = { .sa_handler = on_alarm,
					.sa_flags = SA_RESTART };
		struct itimerval it = { { 0, 50 }, { 0, 50 } };
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL) ||
		    setitimer(ITIMER_REAL, &it, NULL))
			return 1;
		for (long i = 0; i < n; i++)
			sigwork(i);
		setitimer(ITIMER_REAL, &off, NULL);
		if (!strcmp(argv[1], "sigidle")) {
			printf("ready %d %ld\n", (int)getpid(), (long)calls);
			fflush(stdout);
			sleep(60);
			return 1;
		}
		printf("sigwork calls: %ld\n", (long)calls);
		return 0;
	}
	fprintf(stderr, "usage: guard_prog deep|sig|sigidle N\n");
	return 2;
}
