// SPDX-License-Identifier: MIT
/*
 * Calls every clone of libclones*.so a known number of times and prints
 * the results (selftests/cli_conventions.sh): traced with ftramp run,
 * the output must not change.  Each cl_*() call runs its clone twice
 * (cl_nocall() is called twice).  FP results print with %a, every bit.
 */
#include <stdio.h>

#include "clones.h"

int main(void)
{
	static const long vec[] = { 3, -9, 27, 1 << 20, -5, 77, 1234567, 8 };

	for (long i = 0; i < 10; i++) {
		printf("%ld %ld %ld %ld %ld\n", cl_isra(i * 1000003, 7 - i),
		       cl_constprop(i * 99991, i + 40), cl_part(vec, 8),
		       cl_lto_1(i * 7) + cl_lto_2(i * 11), cl_dae(i - 3));
		printf("%La %La %ld %a %ld %ld %a %ld\n",
		       cl_fsra(i * 0.37, i), cl_fcp(i * 1.5, i * 0.25f),
		       cl_many(i * 1000003), cl_fmany(i * 0.5 + 0.125),
		       cl_bigref(i * 7), cl_part_many(vec, 8, i),
		       cl_flto_1(i * 1.25) + cl_flto_2(i * 0.75),
		       cl_nocall(i, 1, 2, 3, 4, 5, 6, 7, i * 99) +
		       cl_nocall(-i, 1, 2, 3, 4, 5, 6, 7, 8));
	}
	return 0;
}
