// SPDX-License-Identifier: MIT
/*
 * Clones whose arguments are not all in x0-x7: floating point, long
 * double and vector arguments in q registers, more than eight integer or
 * eight FP arguments (the rest on the stack), and a large structure
 * passed by reference, each in a clone kind gcc -O2 makes (the names are
 * in clones.h, checked with nm by selftests/conventions_test.c).  The
 * unknown model must carry every one of them bit-exactly: all 128 bits
 * of q0-q7, the caller's stack arguments, x8.  Built into libclones.so.
 */
#include <arm_neon.h>

#include "clones.h"

#define NOINLINE __attribute__((noinline))

struct fs { double x; float f; double y; long pad[4]; };

/*
 * IPA-SRA: p->x, p->f, v[1] and *q become values: d0 (k), d1, s2, q3,
 * q4; the result a long double in q0.  (gcc does not scalarise long
 * double or vector fields of a structure, but does through pointers.)
 */
static NOINLINE long double fsra(double k, const struct fs *p,
				 const float32x4_t *v, const long double *q)
{
	return p->x * 3 + p->f * 5 + v[1][2] * *q + k;
}

long double cl_fsra(double k, long i)
{
	struct fs a = { k * 2, (float)i, 1, { 0 } };
	struct fs b = { -k, 0.25f, 2, { 1 } };
	float32x4_t v[2] = { { 1, 2, 3, 4 }, { 5, 6, (float)i, 8 } };
	long double q = (long double)k / 3, r = 4.5L;

	return fsra(k, &a, v, &q) * 7 + fsra(-k, &b, v, &r);
}

/* IPA-CP: m is always 5, dropped; a, b, c, v in d0, s1, q2, q3. */
static NOINLINE long double fcp(int m, double a, float b, long double c,
				float32x4_t v)
{
	long double r = 0;

	for (int i = 0; i < m; i++)
		r = r * 3 + a * i + b - c + v[i & 3];
	return r;
}

long double cl_fcp(double a, float b)
{
	float32x4_t v = { b, 2 * b, 3.5f, -b };

	return fcp(5, a, b, (long double)a / 7, v) +
	       fcp(5, -a, b * 2, 1.25L, vnegq_f32(v));
}

/* IPA-SRA: p->a, p->c, then a1..a9: eleven arguments, three on the stack. */
static NOINLINE long many(const struct cl_big *p, long a1, long a2, long a3,
			  long a4, long a5, long a6, long a7, long a8, long a9)
{
	return p->a * 3 + p->c * 5 + a1 + 2 * a2 + 3 * a3 + 4 * a4 +
	       5 * a5 + 6 * a6 + 7 * a7 + 8 * a8 + 9 * a9;
}

long cl_many(long x)
{
	struct cl_big b = { x, 2, x * 3, 4 };
	struct cl_big c = { -x, 9, 11, x };

	return many(&b, x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7,
		    x + 8) * 7 +
	       many(&c, 1, 2, 3, 4, 5, 6, 7, x, -x);
}

/* IPA-CP with ten FP arguments: m dropped, d8 and d9 on the stack. */
static NOINLINE double fmany(long m, double d0, double d1, double d2,
			     double d3, double d4, double d5, double d6,
			     double d7, double d8, double d9)
{
	return m * (d0 + 2 * d1 + 3 * d2 + 4 * d3 + 5 * d4 + 6 * d5 +
		    7 * d6 + 8 * d7 + 9 * d8) + 10 * d9;
}

double cl_fmany(double x)
{
	return fmany(3, x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7,
		     x + 8, x + 9) -
	       fmany(3, -x, 1, 2, 3, 4, 5, 6, 7, 8.5, x / 2);
}

/*
 * IPA-CP with a 32-byte structure, passed by reference to a copy the
 * caller made: m dropped, the reference in x0 where the DWARF's
 * declaration puts it in x1.  Its address escapes, so it is not split.
 */
NOINLINE long cl_sink(const struct cl_big *s)
{
	return s->a ^ s->d;
}

static NOINLINE long bigref(int m, struct cl_big s, long k)
{
	return cl_sink(&s) * m + s.b * 100 + s.c * 10 + k;
}

long cl_bigref(long x)
{
	struct cl_big a = { x, x + 1, x + 2, x + 3 };
	struct cl_big b = { 7, -x, 9, x * 5 };

	return bigref(6, a, x) * 3 + bigref(6, b, -x);
}

/*
 * Partial inlining with ten arguments: the test inlined, the loops in
 * part_many.part.0, which takes what they need, two of it on the stack.
 */
static long part_many(const long *v, long n, long a1, long a2, long a3,
		      long a4, long a5, long a6, long a7, long a8)
{
	long s = 0;

	if (__builtin_expect(!v || n <= 0, 1))
		return -1;
	for (long i = 0; i < n; i++) {
		s += v[i] * a1 + (s >> 3) + a2 * i + a3;
		if (s > 1000000)
			s %= 9973 + a4;
	}
	for (long i = 0; i < n; i++)
		s ^= (v[i] * a5) << (i & 7) ^ a6 ^ (a7 * a8);
	for (long i = 0; i < n; i++) {
		s += (v[i] ^ a7) * (s & 15) + a8;
		if (s < 0)
			s = -s / (a6 + 1);
	}
	for (long i = n - 1; i >= 0; i--)
		s = s * 31 + (v[i] >> (a4 & 3)) - a3;
	return s;
}

long cl_part_many(const long *v, long n, long k)
{
	return part_many(v, n, k, 5, 7, 11, 13, 17, 19, 23) +
	       part_many(v + 1, n - 1, 2, k, 6, 8, 10, 12, 14, 16);
}

long cl_part_many2(const long *v, long n, long k)
{
	return part_many(v, n, 1, 2, k, 4, 5, 6, 7, 8) * 2;
}

/* Hot/cold splitting with FP arguments: the parent keeps its model. */
__attribute__((cold, noinline)) void cl_freport(double x)
{
	cl_report((long)x);
}

long double cl_fcold(double x, long double y)
{
	if (x < 0) {
		for (int i = 0; i < 2; i++)
			cl_freport(x + i);
		return -x * y;
	}
	return x * 2 + y;
}
