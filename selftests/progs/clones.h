/* SPDX-License-Identifier: MIT */
/*
 * Public entry points of libclones.so and libclones-lto.so
 * (selftests/progs/clones.c, clones_lto.c): each calls a function that
 * gcc -O2 turns into a clone with a calling convention of its own.
 *
 *   clone site (by nm)          made by       its real arguments
 *   sra.isra.0                  IPA-SRA       k, p->a, p->c
 *   cp.constprop.0              IPA-CP        a, c (m = 7 dropped)
 *   part_sum.part.0             partial inl.  what the loop needs
 *   cl_cold.cold                hot/cold      no entry: not a site
 *   helper.lto_priv.{0,1}       LTO           a, b (convention intact)
 *   dae (libclones-clang.so)    clang DAE     b only, same name
 *
 * With arguments beyond x0-x7 (clones_abi.c, in libclones.so):
 *
 *   fsra.isra.0                 IPA-SRA       d0, d1, s2, q3, q4 -> q0
 *   fcp.constprop.0             IPA-CP        d0, s1, q2, q3 -> q0
 *   many.isra.0                 IPA-SRA       11 integers, 3 on the stack
 *   fmany.constprop.0           IPA-CP        10 doubles, 2 on the stack
 *   bigref.constprop.0          IPA-CP        32-byte struct by reference
 *   part_many.part.0            partial inl.  what the loops need, stack
 *   cl_fcold.cold               hot/cold      no entry: not a site
 *   fhelper.lto_priv.{0,1}      LTO           d0, s1, q2 (intact)
 *   cl_nocall                   DW_CC_nocall  9 integers (clones_nocall.c)
 */
#ifndef FTRAMP_SELFTESTS_PROGS_CLONES_H
#define FTRAMP_SELFTESTS_PROGS_CLONES_H

long cl_isra(long x, long y);
long cl_constprop(long a, long c);
long cl_part(const long *v, long n);
long cl_part2(const long *v, long n);
void cl_report(long x);
long cl_cold(long x, long y);

struct cl_big { long a, b, c, d; };

/* clones_abi.c */
long double cl_fsra(double k, long i);
long double cl_fcp(double a, float b);
long cl_many(long x);
double cl_fmany(double x);
long cl_sink(const struct cl_big *s);
long cl_bigref(long x);
long cl_part_many(const long *v, long n, long k);
long cl_part_many2(const long *v, long n, long k);
void cl_freport(double x);
long double cl_fcold(double x, long double y);

/* clones_nocall.c, with DW_CC_nocall and without */
long cl_nocall(long a0, long a1, long a2, long a3, long a4, long a5,
	       long a6, long a7, long a8);
long cl_nocall_twin(long a0, long a1, long a2, long a3, long a4, long a5,
		    long a6, long a7, long a8);

/* libclones-lto.so: clones_lto.c built twice (CLONES_SIDE 1 and 2). */
long cl_lto_1(long x);
long cl_lto_2(long x);
double cl_flto_1(double x);
double cl_flto_2(double x);

/* libclones-clang.so: clones_clang.c. */
long cl_dae(long x);

#endif
