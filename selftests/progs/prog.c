// SPDX-License-Identifier: MIT
/*
 * sample_prog: an executable with sites of its own, calling libsample.
 * Prints one line per call so a tracer's effect is visible:
 *   sample_prog [N]	runs the loop N times (default 1)
 */
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

static __attribute__((noinline)) int prog_square(int x)
{
	return x * x;
}

long prog_step(int i);

__attribute__((noinline)) long prog_step(int i)
{
	long v[3] = { i, prog_square(i), sample_fib(i % 10) };
	struct sample_pair p = sample_pair_make(i, 100);

	return sample_sum(v, 3) + sample_pair_sum(p) + sample_add(i, 1);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;

	for (int i = 0; i < n; i++)
		printf("step %d: %ld %.1f\n", i, prog_step(i),
		       sample_scale(i, 0.5f));
	return 0;
}
