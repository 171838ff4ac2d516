// SPDX-License-Identifier: MIT
/*
 * patch_bench: instruction patching (bpf/patch.c, issue 17), in guest
 * instructions: 10, 1,000 and 100,000 patches on a 1 M-instruction
 * program, applied in one pass (bpf_patch_apply()) and one by one as the
 * kernel's bpf_patch_insn_data() does (bpf_patch_apply_naive()).
 *
 * The program is what a rewrite meets: ALU instructions, conditional
 * jumps within +-64 instructions, an ld_imm64 in 16, a bpf-to-bpf call
 * in 64 aimed anywhere; each patch replaces one ALU instruction by 4
 * (the size of a short inlined helper).  A fixed seed: every run
 * patches the same program at the same places.  Building the program
 * and the patch list is outside the windows; each window is one call,
 * sorting the patches included.
 *
 * The naive rule costs O(n) per patch (every reference is looked at and
 * everything behind the patch moves): at 100,000 patches on 1 M
 * instructions that is 100 times the 1,000 row, about 10^12 guest
 * instructions, over an hour under qemu.  That case is a row of its
 * own with the reason instead of a count; 10 -> 1,000 shows the slope.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "bpf/patch.h"
#include "mark.h"
#include "report.h"

#define PROG_N		(1u << 20)	/* 1,048,576 instructions */
#define REPL_N		4

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11) % n;
}

static struct ftramp_bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
				   int16_t off, int32_t imm)
{
	return (struct ftramp_bpf_insn){ .code = code, .dst_reg = dst,
					 .src_reg = src, .off = off,
					 .imm = imm };
}

/* The program; alu[] marks the instructions a patch may replace. */
static void gen(struct ftramp_bpf_insn *p, uint8_t *alu)
{
	for (uint32_t i = 0; i < PROG_N; i++) {
		alu[i] = 0;
		if (i + 2 < PROG_N && rnd(16) == 0) {
			p[i] = insn(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, (int)i);
			p[i + 1] = insn(0, 0, 0, 0, 0);
			i++;
		} else if (i > 64 && i + 64 < PROG_N && rnd(8) == 0) {
			p[i] = insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0,
				    (int16_t)((int)rnd(129) - 64), 0);
		} else if (i + 1 < PROG_N && rnd(64) == 0) {
			p[i] = insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0,
				    (int)rnd(PROG_N) - (int)i - 1);
		} else {
			p[i] = insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, (int)i);
			alu[i] = 1;
		}
	}
	p[PROG_N - 1] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	alu[PROG_N - 1] = 0;
	/* a jump that would land in an ld_imm64's second half: aim it next */
	for (uint32_t i = 0; i < PROG_N; i++) {
		if (p[i].code != (BPF_JMP | BPF_JEQ | BPF_K))
			continue;
		uint32_t t = i + p[i].off + 1;

		if (t && p[t - 1].code == (BPF_LD | BPF_IMM | BPF_DW))
			p[i].off++;
	}
}

static const struct ftramp_bpf_insn repl[REPL_N] = {
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = 1 },
	{ .code = BPF_JMP | BPF_JA, .off = 1 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = 2 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = 3 },
};

/* @np distinct ALU places, in random order (the pass sorts them). */
static void pick(struct bpf_patch *pt, size_t np, uint8_t *alu)
{
	for (size_t k = 0; k < np; k++) {
		uint32_t i;

		do
			i = rnd(PROG_N);
		while (alu[i] != 1);
		alu[i] = 2;
		pt[k] = (struct bpf_patch){ .idx = i, .n = REPL_N,
					    .insns = repl };
	}
	for (size_t k = 0; k < np; k++)
		alu[pt[k].idx] = 1;
}

static void one(const struct ftramp_bpf_insn *p, uint8_t *alu, size_t np,
		bool naive, size_t want_n)
{
	struct bpf_patch *pt = malloc(np * sizeof(*pt));
	struct bpf_patch_out out;
	char name[64], base[64], label[128];
	int err;

	snprintf(name, sizeof(name), "patch.1m.%s_%zu",
		 naive ? "naive" : "onepass", np);
	snprintf(base, sizeof(base), naive ? "patch.1m.onepass_%zu" : "-", np);
	snprintf(label, sizeof(label), "%zu patches (1 -> %d insns) on 1 M "
		 "insns, %s", np, REPL_N, naive ? "one by one (the kernel's "
		 "rule)" : "in one pass (bpf_patch_apply)");
	if (!pt) {
		bench_na(name, base, label, "out of memory");
		return;
	}
	pick(pt, np, alu);
	bench_start();
	err = naive ? bpf_patch_apply_naive(p, PROG_N, NULL, pt, np, NULL, 0,
					    &out) :
		      bpf_patch_apply(p, PROG_N, NULL, pt, np, NULL, 0, &out);
	bench_stop();
	if (err || out.n != want_n) {
		bench_discard();
		fprintf(stderr, "patch_bench: %s: %s, %zu insns\n", name,
			strerror(-err), err ? 0 : out.n);
	} else {
		bench_case(name, 1, base, label);
	}
	if (!err)
		bpf_patch_out_free(&out);
	free(pt);
}

int main(void)
{
	static const size_t counts[] = { 10, 1000, 100000 };
	struct ftramp_bpf_insn *p = malloc(PROG_N * sizeof(*p));
	uint8_t *alu = malloc(PROG_N);

	if (!p || !alu)
		return 1;
	gen(p, alu);
	for (size_t c = 0; c < 3; c++) {
		size_t want = PROG_N + counts[c] * (REPL_N - 1);
		uint64_t seed = rng;

		one(p, alu, counts[c], false, want);
		rng = seed;	/* the same patches for both */
		if (counts[c] <= 1000) {
			one(p, alu, counts[c], true, want);
		} else {
			char name[64], base[64];

			snprintf(name, sizeof(name), "patch.1m.naive_%zu",
				 counts[c]);
			snprintf(base, sizeof(base), "patch.1m.onepass_%zu",
				 counts[c]);
			bench_na(name, base, "100000 patches on 1 M insns, one "
				 "by one", "not run: O(n*p), 100 x the 1000-patch "
				 "row (about 10^12 guest insns, over an hour "
				 "under qemu)");
		}
	}
	free(alu);
	free(p);
	return 0;
}
