// SPDX-License-Identifier: MIT
/*
 * vpcs_prog N: N calls of vp_axpy (libvpcs.so, the vector PCS: its
 * symbol carries STO_AARCH64_VARIANT_PCS) from vp_keep (vpcs_call.S),
 * which holds a pattern in q8-q23 across each, and N calls of the plain
 * vp_plain, for ftramp run (selftests/cli_vpcs.sh).  Prints the results
 * and whether q8-q23 came back whole; exit status 1 if not.
 */
#include <arm_neon.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcs.h"

void vp_keep(const float64x2_t in[3], float64x2_t *res, const uint8_t pat[256],
	     uint8_t after[256]);

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, i, j, bad = -1;
	uint8_t pat[256], after[256];
	double sum = 0;
	long plain = 0;

	for (i = 0; i < n; i++) {
		float64x2_t in[3] = { vdupq_n_f64(i), vdupq_n_f64(3.0),
				      vdupq_n_f64(1.0) }, r;

		for (j = 0; j < 256; j++)
			pat[j] = (uint8_t)(j * 7 + i * 13 + 1);
		memset(after, 0, sizeof(after));
		vp_keep(in, &r, pat, after);
		sum += vgetq_lane_f64(r, 0) + vgetq_lane_f64(r, 1);
		/* the first register (q8 + k) that came back changed */
		for (j = 0; j < 256 && bad < 0; j++)
			if (pat[j] != after[j])
				bad = 8 + j / 16;
		plain += vp_plain(i);
	}
	printf("vp_axpy: sum %.1f; vp_plain: sum %ld\n", sum, plain);
	if (bad >= 0)
		printf("q%d changed across vp_axpy\n", bad);
	else
		printf("q8-q23 kept across %d calls\n", n);
	return bad >= 0;
}
