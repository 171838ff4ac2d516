// SPDX-License-Identifier: MIT
/*
 * Functions gcc -O2 turns into IPA clones and split parts, with a changed
 * calling convention: selftests/conventions_test.c traces them.  Each public
 * cl_*() calls its clone; the names the compiler gives them (checked with
 * nm by the test) are in clones.h.  Built with -freorder-blocks-and-partition
 * for the .cold part (selftests/conventions.mk).
 */
#include <stdio.h>
#include <stdlib.h>

#include "clones.h"

struct big { long a, b, c, d; };

/* IPA-SRA: *p becomes the two fields read, passed in x1 and x2. */
static __attribute__((noinline)) long sra(long k, const struct big *p)
{
	return p->a * 3 + p->c * 5 + k;
}

long cl_isra(long x, long y)
{
	struct big b = { x, y, x + y, x - y };
	struct big c = { y, x, x * y, 5 };

	return sra(y, &b) * 7 + sra(x, &c);
}

/* IPA-CP: the first argument is always 7, and is dropped. */
static __attribute__((noinline)) long cp(long m, long a, long c)
{
	long r = 0;

	for (long i = 0; i < m; i++)
		r = r * 3 + (a ^ (i * c));
	return r;
}

long cl_constprop(long a, long c)
{
	return cp(7, a, c) + cp(7, a + 1, c * 2);
}

/*
 * Partial inlining: the cheap test inlined, the loop split into
 * part_sum.part.0, which receives whatever values the loop needs.
 */
static long part_sum(const long *v, long n, long mul)
{
	long s = 0;

	if (__builtin_expect(!v || n <= 0, 1))
		return -1;
	for (long i = 0; i < n; i++) {
		s += v[i] * mul + (s >> 3);
		if (s > 1000000)
			s %= 9973;
	}
	for (long i = 0; i < n; i++)
		s ^= v[i] << (i & 7);
	return s;
}

long cl_part(const long *v, long n)
{
	return part_sum(v, n, 3) + part_sum(v + 1, n - 1, 5);
}

long cl_part2(const long *v, long n)
{
	return part_sum(v, n, 7) * 2;
}

/* Hot/cold splitting: the unlikely path moves to cl_cold.cold. */
__attribute__((cold, noinline)) void cl_report(long x)
{
	fprintf(stderr, "clones: cold path %ld\n", x);
}

long cl_cold(long x, long y)
{
	if (x < 0) {
		for (int i = 0; i < 3; i++)
			cl_report(y + i);
		return -x * y;
	}
	return x * 2 + y;
}
