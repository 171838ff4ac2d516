// SPDX-License-Identifier: MIT
/* libsample, second file: a static function named like one in sample.c. */
#include "sample.h"

static __attribute__((noinline)) int helper(int x)
{
	return x * 2;
}

__attribute__((noinline)) int sample_static_b(int x)
{
	return helper(x);
}
