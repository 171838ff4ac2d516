// SPDX-License-Identifier: MIT
/*
 * Calls every clone of libclones*.so a known number of times and prints
 * the results (selftests/cli_conventions.sh): traced with ftramp run,
 * the output must not change.  Each cl_*() call runs its clone twice.
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
	}
	return 0;
}
