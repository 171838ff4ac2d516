/* SPDX-License-Identifier: MIT */
#ifndef FTRAMP_SELFTESTS_PROGS_VPCS_H
#define FTRAMP_SELFTESTS_PROGS_VPCS_H

#include <arm_neon.h>

__attribute__((aarch64_vector_pcs))
float64x2_t vp_axpy(float64x2_t a, float64x2_t x, float64x2_t y);
long vp_plain(long x);

#endif
