/* SPDX-License-Identifier: MIT */
/*
 * libsample: a small shared library for the selftests of every layer.
 *
 * Built three times by selftests/sites.mk from the same sources:
 *   $(O)/selftests/progs/libsample-gcc.so	gcc, patchable entries
 *   $(O)/selftests/progs/libsample-clang.so	clang, patchable entries
 *   $(O)/selftests/progs/libsample-noflags.so	gcc, no patchable entries
 * plus libsample-bti.so (gcc, -mbranch-protection=standard: a `bti c` before
 * the entry NOPs, `paciasp` after them).
 *
 * The functions cover the argument classes a trampoline must handle.  Keep
 * them stable: other areas' tests depend on their names and results.
 */
#ifndef FTRAMP_SELFTESTS_SAMPLE_H
#define FTRAMP_SELFTESTS_SAMPLE_H

#include <stdint.h>

struct sample_pair {
	int32_t a;
	int64_t b;
};

/* A composite too big for registers: passed by reference, returned via x8. */
struct sample_big {
	int64_t v[4];
};

int sample_add(int a, int b);				/* a + b */
long sample_sum(const long *p, int n);			/* p[0] + ... + p[n-1] */
double sample_scale(double x, float y);			/* x * y */
struct sample_pair sample_pair_make(int a, long b);	/* { a, b } */
long sample_pair_sum(struct sample_pair p);		/* p.a + p.b */
struct sample_big sample_big_make(long x);		/* { x, 2x, 3x, 4x } */
int sample_fib(int n);					/* recursive Fibonacci */
/* 8 GP registers, then two stack arguments, and 2 doubles in d0/d1. */
long sample_many(long a, long b, long c, long d, long e, long f, long g,
		 long h, double x, double y, long i, long j);
int sample_static_a(int x);	/* calls sample.c's static helper(): x + 1 */
int sample_static_b(int x);	/* calls sample2.c's static helper(): x * 2 */
void sample_void(void);		/* increments sample_counter */
extern volatile int sample_counter;

#endif /* FTRAMP_SELFTESTS_SAMPLE_H */
