// SPDX-License-Identifier: MIT
/*
 * Built twice with -flto (CLONES_SIDE=1 and 2) into libclones-lto.so: the
 * two static helper()s become helper.lto_priv.0 and helper.lto_priv.1,
 * renamed but with their calling convention intact, so their DWARF can
 * prove their models (selftests/conventions_test.c).  fhelper() does the
 * same with FP arguments: d0, s1, q2.
 */
#include "clones.h"

#define CAT2(a, b)	a##b
#define CAT(a, b)	CAT2(a, b)

static __attribute__((noinline)) long helper(long a, long b)
{
	return a * (CLONES_SIDE == 1 ? 31 : 17) + b;
}

long CAT(cl_lto_, CLONES_SIDE)(long x)
{
	return helper(x, x + 1) + helper(x + 2, 5 * x);
}

static __attribute__((noinline)) double fhelper(double a, float b,
						long double c)
{
	return a * (CLONES_SIDE == 1 ? 3 : 5) + b - (double)c;
}

double CAT(cl_flto_, CLONES_SIDE)(double x)
{
	return fhelper(x, (float)x / 2, (long double)x * 3) +
	       fhelper(-x, 1.5f, 0.25L);
}
