// SPDX-License-Identifier: MIT
/*
 * libsample, first file.  See sample.h.  noinline keeps every function a
 * real call target at any optimisation level, so each one owns a site.
 */
#include "sample.h"

#define SAMPLE_FN __attribute__((noinline))

volatile int sample_counter;

SAMPLE_FN int sample_add(int a, int b)
{
	return a + b;
}

SAMPLE_FN long sample_sum(const long *p, int n)
{
	long s = 0;

	for (int i = 0; i < n; i++)
		s += p[i];
	return s;
}

SAMPLE_FN double sample_scale(double x, float y)
{
	return x * y;
}

SAMPLE_FN struct sample_pair sample_pair_make(int a, long b)
{
	return (struct sample_pair){ .a = a, .b = b };
}

SAMPLE_FN long sample_pair_sum(struct sample_pair p)
{
	return p.a + p.b;
}

SAMPLE_FN struct sample_big sample_big_make(long x)
{
	return (struct sample_big){ { x, 2 * x, 3 * x, 4 * x } };
}

SAMPLE_FN int sample_fib(int n)
{
	return n < 2 ? n : sample_fib(n - 1) + sample_fib(n - 2);
}

SAMPLE_FN long sample_many(long a, long b, long c, long d, long e, long f,
			   long g, long h, double x, double y, long i, long j)
{
	return a + b + c + d + e + f + g + h + (long)x + (long)y + i + j;
}

/* Same name as sample2.c's helper(): the site table must list both. */
static SAMPLE_FN int helper(int x)
{
	return x + 1;
}

SAMPLE_FN int sample_static_a(int x)
{
	return helper(x);
}

SAMPLE_FN void sample_void(void)
{
	sample_counter++;
}
