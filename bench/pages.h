/* SPDX-License-Identifier: MIT */
/*
 * Text pages under a set of functions, and the bare mprotect() sweep the
 * attach benchmarks are compared with: the least any patcher that changes
 * page protections must do (make each page writable, then executable
 * again), with no instruction written.
 */
#ifndef FTRAMP_BENCH_PAGES_H
#define FTRAMP_BENCH_PAGES_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int bench_cmp_uptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The distinct pages holding the first instruction of each of the n
 * functions (a patch site is the function entry), sorted, in pages[]
 * (n entries of room); returns how many.
 */
static __attribute__((unused)) long bench_pages_of(void *const *funcs, long n,
						   uintptr_t *pages)
{
	uintptr_t mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
	long i, nr = 0;

	for (i = 0; i < n; i++)
		pages[i] = (uintptr_t)funcs[i] & mask;
	qsort(pages, n, sizeof(*pages), bench_cmp_uptr);
	for (i = 0; i < n; i++)
		if (!nr || pages[nr - 1] != pages[i])
			pages[nr++] = pages[i];
	return nr;
}

/* Make each page writable and executable again: two mprotect() per page. */
static __attribute__((unused)) int bench_sweep(const uintptr_t *pages, long nr)
{
	size_t size = sysconf(_SC_PAGESIZE);
	long i;

	for (i = 0; i < nr; i++) {
		if (mprotect((void *)pages[i], size,
			     PROT_READ | PROT_WRITE | PROT_EXEC))
			return -1;
		if (mprotect((void *)pages[i], size, PROT_READ | PROT_EXEC))
			return -1;
	}
	return 0;
}

#endif /* FTRAMP_BENCH_PAGES_H */
