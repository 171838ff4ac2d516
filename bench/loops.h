/* SPDX-License-Identifier: MIT */
/*
 * The measured loops, shared by every benchmark program: BENCH_CALLS
 * calls of one target between two marks.  The target is passed by
 * pointer, so the loop is the same code for every case of a program and
 * cancels out of the per-call differences; only the callee changes.
 */
#ifndef FTRAMP_BENCH_LOOPS_H
#define FTRAMP_BENCH_LOOPS_H

#include "mark.h"
#include "targets.h"

#define BENCH_CALLS	1000

/* Results go somewhere the compiler cannot see through. */
extern volatile long bench_sink_l;
extern volatile double bench_sink_d;

static __attribute__((noinline, unused)) void bench_loop_f2(bench_f2_t f,
							   long n)
{
	long acc = 0, i;

	bench_start();
	for (i = 0; i < n; i++)
		acc = f(i, acc);
	bench_stop();
	bench_sink_l = acc;
}

static __attribute__((noinline, unused)) void bench_loop_f6(bench_f6_t f,
							   long n)
{
	double acc = 0.0;
	long i;

	bench_start();
	for (i = 0; i < n; i++)
		acc = f((int)i, 0.25, i, 0.5, 1, acc * 0.125);
	bench_stop();
	bench_sink_d = acc;
}

#define BENCH_SINKS							\
	volatile long bench_sink_l;					\
	volatile double bench_sink_d

#endif /* FTRAMP_BENCH_LOOPS_H */
