// SPDX-License-Identifier: MIT
/*
 * A function with the vector PCS (its symbol carries
 * STO_AARCH64_VARIANT_PCS: callers keep q8-q23 live across the call,
 * AAPCS64 6.1.2.1 / vector PCS) beside a plain one, in libvpcs.so
 * (selftests/conventions.mk, selftests/conventions_test.c).
 */
#include <arm_neon.h>

#include "vpcs.h"

__attribute__((aarch64_vector_pcs, noinline))
float64x2_t vp_axpy(float64x2_t a, float64x2_t x, float64x2_t y)
{
	return vfmaq_f64(y, a, x);
}

long vp_plain(long x)
{
	return x * 3 + 1;
}
