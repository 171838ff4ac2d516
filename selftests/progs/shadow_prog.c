// SPDX-License-Identifier: MIT
/*
 * shadow_prog: calls whose exit the runtime cannot report, because the
 * shadow return stack is full (about 10900 records per thread), for
 * ftramp run -t (selftests/cli_shadow.sh).  The variadic functions run
 * on the unknown model: with -t, under a return hook, which runs a call
 * untraced after its entry was reported when no record fits.
 *
 *   shadow_prog deep N	vdeep(3), vdeep(N), vdeep(3): a recursion N deep
 *			between two shallow ones
 *   shadow_prog fill R N	R rounds of fill(N), which recurses N deep and
 *			calls vleaf() at the bottom, then vleaf() from
 *			the loop itself
 *
 * Each prints what it computed, the same traced or not.  Everything runs
 * on a thread with a stack to match.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long vdeep(long n, ...);
long vleaf(long x, ...);
long fill(long n, long x);

/* Through pointers: gcc turns direct self-recursion into a loop. */
static long (*volatile vdeep_call)(long, ...) = vdeep;
static long (*volatile fill_call)(long, long) = fill;

__attribute__((noinline)) long vdeep(long n, ...)
{
	va_list ap;
	long k;

	va_start(ap, n);
	k = va_arg(ap, long);
	va_end(ap);
	return n ? 1 + vdeep_call(n - 1, k + 1) : k;
}

__attribute__((noinline)) long vleaf(long x, ...)
{
	va_list ap;
	long k;

	va_start(ap, x);
	k = va_arg(ap, long);
	va_end(ap);
	return 2 * x + k;
}

__attribute__((noinline)) long fill(long n, long x)
{
	return n ? fill_call(n - 1, x) + 1 : vleaf(x, 1L);
}

static long args[3];
static char mode[8];

static void *run(void *arg)
{
	long sum = 0;

	(void)arg;
	if (!strcmp(mode, "deep")) {
		sum += vdeep(3, 0L);
		sum += vdeep(args[0], 0L);
		sum += vdeep(3, 0L);
	} else {
		for (long r = 0; r < args[0]; r++) {
			sum += fill(args[1], r);
			sum += vleaf(r, 0L);
		}
	}
	*(long *)arg = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t th;
	long sum = 0;

	if (argc < 3 || (strcmp(argv[1], "deep") && strcmp(argv[1], "fill")) ||
	    (!strcmp(argv[1], "fill") && argc < 4)) {
		fprintf(stderr, "usage: shadow_prog deep N | fill R N\n");
		return 2;
	}
	strcpy(mode, argv[1]);
	args[0] = atol(argv[2]);
	args[1] = argc > 3 ? atol(argv[3]) : 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 20);
	if (pthread_create(&th, &attr, run, &sum) || pthread_join(th, NULL))
		return 1;
	printf("%s %ld %ld: %ld\n", mode, args[0], args[1], sum);
	return 0;
}
