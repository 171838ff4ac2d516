// SPDX-License-Identifier: MIT
/*
 * clang -O2 removes an unused argument of a static function (dead
 * argument elimination) without renaming it: dae() takes b in x0, while
 * its DWARF still lists (unused, b), b located in x0.  The location check
 * of ftrace/dwarf.c must refuse that model (selftests/conventions_test.c).
 */
#include "clones.h"

static long g;

static __attribute__((noinline)) long dae(long unused, long b)
{
	g += b;
	return g * 3 + b;
}

long cl_dae(long x)
{
	g = 0;
	return dae(x, x + 1) * 5 + dae(x * 2, 7);
}
