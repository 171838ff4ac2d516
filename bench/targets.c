// SPDX-License-Identifier: MIT
/*
 * The measured functions (see targets.h).  Keep their bodies small: the
 * benchmark measures what a call costs around them.
 */
#include "targets.h"

#ifndef BENCH_VARIANT
#error "compile with -DBENCH_VARIANT=<name>"
#endif

BENCH_DECLARE_TARGETS(BENCH_VARIANT);

long BENCH_SYM(f2, BENCH_VARIANT)(long a, long b)
{
	return a * 3 + b;
}

double BENCH_SYM(f6, BENCH_VARIANT)(int a, double b, long c, double d, int e,
				    double f)
{
	return a * b + c * d + e * f;
}
