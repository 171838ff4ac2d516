/* SPDX-License-Identifier: MIT */
/*
 * The functions whose calls are measured: a 2-argument integer function
 * and a 6-argument function mixing integer and double arguments (three of
 * each class, so both the GP and the FP/SIMD argument registers are live).
 *
 * bench/targets.c is compiled once per instrumentation (plain, ftramp's
 * patchable entry, XRay sleds); -DBENCH_VARIANT=<v> names its copies
 * bench_f2_<v> and bench_f6_<v>, so one program can hold several.
 */
#ifndef FTRAMP_BENCH_TARGETS_H
#define FTRAMP_BENCH_TARGETS_H

typedef long (*bench_f2_t)(long a, long b);
typedef double (*bench_f6_t)(int a, double b, long c, double d, int e,
			     double f);

/* The C prototypes, as ftramp_model__parse() reads them. */
#define BENCH_F2_PROTO	"long f2(long a, long b)"
#define BENCH_F6_PROTO	\
	"double f6(int a, double b, long c, double d, int e, double f)"

#define __BENCH_CAT(a, b)	a##_##b
#define BENCH_SYM(fn, v)	__BENCH_CAT(bench_##fn, v)

#define BENCH_DECLARE_TARGETS(v)					\
	long BENCH_SYM(f2, v)(long a, long b);				\
	double BENCH_SYM(f6, v)(int a, double b, long c, double d,	\
				int e, double f)

/*
 * The generated functions of the attach cases (bench/gen_funcs.sh), and
 * how each driver checks a peer really runs before measuring it.
 */
typedef long (*bench_gen_fn)(long x);
extern const bench_gen_fn bench_gen_funcs[];
extern const unsigned long bench_gen_nr;

#define VERIFY_CALLS	10
#define BENCH_GEN_MAX	10000

#endif /* FTRAMP_BENCH_TARGETS_H */
