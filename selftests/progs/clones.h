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
 */
#ifndef FTRAMP_SELFTESTS_PROGS_CLONES_H
#define FTRAMP_SELFTESTS_PROGS_CLONES_H

long cl_isra(long x, long y);
long cl_constprop(long a, long c);
long cl_part(const long *v, long n);
long cl_part2(const long *v, long n);
void cl_report(long x);
long cl_cold(long x, long y);

/* libclones-lto.so: clones_lto.c built twice (CLONES_SIDE 1 and 2). */
long cl_lto_1(long x);
long cl_lto_2(long x);

/* libclones-clang.so: clones_clang.c. */
long cl_dae(long x);

#endif
