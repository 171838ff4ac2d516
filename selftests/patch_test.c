// SPDX-License-Identifier: MIT
/*
 * Instruction patching in one pass (bpf/patch.c) three ways: against the
 * kernel's one-patch-at-a-time rule on pseudo-random programs and patch
 * sets (identical bytes, orig_idx and instruction pointers); by markers
 * (every reference lands on the instruction that bears its original
 * target's index); and hand-written corner cases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "bpf/patch.h"
#include "selftests/harness.h"

typedef struct ftramp_bpf_insn insn_t;

#define I(c, d, s, o, i)	((insn_t){ .code = (c), .dst_reg = (d), \
				  .src_reg = (s), .off = (o), .imm = (i) })
#define MOV(d, k)		I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define JEQ(o)			I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, o, 0)
#define JA(o)			I(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define GOTOL(k)		I(BPF_JMP32 | BPF_JA, 0, 0, 0, k)
#define CALLREL(k)		I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, k)
#define EXIT()			I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDFUNC(k)		I(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, k)
#define LDHI()			I(0, 0, 0, 0, 0)

#define MARK	100000		/* a MOV's imm: MARK + its original index */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11) % n;
}

static bool is_ld(const insn_t *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* A program of n insns: MOVs with markers, ld_imm64s, references. */
static size_t gen(insn_t *p, size_t n, uint8_t *unit)
{
	size_t i = 0;

	while (i < n) {
		unit[i] = 1;
		if (i + 1 < n && rnd(8) == 0) {
			p[i] = LDFUNC(0);	/* aimed below */
			p[i + 1] = LDHI();
			unit[i + 1] = 0;
			i += 2;
			continue;
		}
		p[i] = MOV(0, MARK + (int)i);
		i++;
	}
	for (i = 0; i < n; i++) {
		size_t t;
		int k = rnd(6);

		if (!unit[i] || (is_ld(&p[i]) ? 0 : k > 3))
			continue;
		do
			t = rnd(n);
		while (!unit[t]);
		if (is_ld(&p[i])) {
			p[i].imm = (int)t - (int)i - 1;
			continue;
		}
		switch (k) {
		case 0: p[i] = JEQ((int)t - (int)i - 1); break;
		case 1: p[i] = JA((int)t - (int)i - 1); break;
		case 2: p[i] = GOTOL((int)t - (int)i - 1); break;
		case 3: p[i] = CALLREL((int)t - (int)i - 1); break;
		}
	}
	return n;
}

static const insn_t repl[8] = {
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 1),
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 2),
	I(BPF_JMP | BPF_JA, 0, 0, 1, 0),	/* internal: skips one */
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 3),
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 4),
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 5),
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 6),
	I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 7),
};

/* Where the reference of original insn i points to, by original index. */
static long orig_target(const insn_t *in, size_t i)
{
	if (is_ld(&in[i]))
		return (long)i + in[i].imm + 1;
	switch (in[i].code) {
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JA:
		return (long)i + in[i].off + 1;
	case BPF_JMP32 | BPF_JA:
	case BPF_JMP | BPF_CALL:
		return (long)i + in[i].imm + 1;
	}
	return -1;
}

static long new_target(const insn_t *in, long j)
{
	return orig_target(in, j);	/* the same decoding, new indices */
}

TEST(one_pass_equals_naive)
{
	enum { ROUNDS = 400, MAXN = 300 };
	static insn_t prog[MAXN];
	static uint8_t unit[MAXN];
	static struct bpf_patch ps[MAXN], ps2[MAXN];
	uint32_t ips[8], ips2[8];
	int same = 0, refused = 0;

	for (int r = 0; r < ROUNDS; r++) {
		size_t n = 1 + rnd(MAXN), np = 0;
		struct bpf_patch_out a, b;
		int ea, eb;

		gen(prog, n, unit);
		for (size_t i = 0; i < n; i++) {
			/* now and then a second half, to be refused */
			if ((unit[i] && rnd(5) == 0) || (!unit[i] && rnd(400) == 0)) {
				ps[np].idx = i;
				ps[np].n = rnd(9);
				ps[np].insns = repl;
				np++;
			}
		}
		/* shuffle: the pass sorts */
		for (size_t i = np; i > 1; i--) {
			size_t k = rnd(i);
			struct bpf_patch t = ps[i - 1];

			ps[i - 1] = ps[k];
			ps[k] = t;
		}
		memcpy(ps2, ps, np * sizeof(*ps));
		for (int q = 0; q < 8; q++)
			ips[q] = ips2[q] = rnd(n);
		ea = bpf_patch_apply(prog, n, NULL, ps, np, ips, 8, &a);
		eb = bpf_patch_apply_naive(prog, n, NULL, ps2, np, ips2, 8, &b);
		ASSERT_EQ(eb, ea);
		if (ea) {
			refused++;
			continue;
		}
		ASSERT_EQ(b.n, a.n);
		if (!memcmp(a.insns, b.insns, a.n * sizeof(insn_t)) &&
		    !memcmp(a.orig_idx, b.orig_idx, a.n * 4) &&
		    !memcmp(ips, ips2, sizeof(ips)))
			same++;
		else
			fprintf(stderr, "# round %d: n %zu, %zu patches differ\n",
				r, n, np);
		bpf_patch_out_free(&a);
		bpf_patch_out_free(&b);
	}
	fprintf(stderr, "# %d identical, %d refused by both\n", same, refused);
	EXPECT_EQ(ROUNDS, same + refused);
	EXPECT_LT(refused, ROUNDS / 2);
}

TEST(references_land_on_their_markers)
{
	enum { ROUNDS = 200, MAXN = 400 };
	static insn_t prog[MAXN];
	static uint8_t unit[MAXN];
	static struct bpf_patch ps[MAXN];
	static uint8_t patched[MAXN];	/* 1 + the replacement's length */
	static long pos[MAXN];
	long checked = 0;

	for (int r = 0; r < ROUNDS; r++) {
		size_t n = 1 + rnd(MAXN), np = 0;
		struct bpf_patch_out o;

		gen(prog, n, unit);
		memset(patched, 0, sizeof(patched));
		for (size_t k = 0; k < n; k++)
			if (unit[k] && rnd(4) == 0) {
				ps[np].idx = k;
				ps[np].n = rnd(6);
				ps[np].insns = repl;
				patched[k] = 1 + ps[np].n;
				np++;
			}
		ASSERT_EQ(0, bpf_patch_apply(prog, n, NULL, ps, np, NULL, 0, &o));
		for (size_t i = 0; i < n; i++)
			pos[i] = -1;
		for (size_t j = o.n; j-- > 0;)
			pos[o.orig_idx[j]] = j;	/* the first bearing i */
		/* every unpatched original reference */
		for (size_t i = 0; i < n; i++) {
			long t = unit[i] && !patched[i] ? orig_target(prog, i) : -1;
			long nt;

			if (t < 0 || (!is_ld(&prog[i]) &&
				      BPF_CLASS(prog[i].code) != BPF_JMP &&
				      BPF_CLASS(prog[i].code) != BPF_JMP32))
				continue;
			ASSERT_TRUE(pos[i] >= 0);
			nt = new_target(o.insns, pos[i]);
			checked++;
			if (patched[t] == 1) {
				/* removed: the reference goes to what follows */
				EXPECT_TRUE(nt >= 0 && (size_t)nt <= o.n);
				EXPECT_TRUE((size_t)nt == o.n ||
					    o.orig_idx[nt] > (uint32_t)t);
				continue;
			}
			ASSERT_TRUE(nt >= 0 && (size_t)nt < o.n);
			/* the first insn bearing the target's original index */
			EXPECT_EQ((uint32_t)t, o.orig_idx[nt]);
			EXPECT_TRUE(nt == 0 || o.orig_idx[nt - 1] != (uint32_t)t);
			if (o.insns[nt].code == (BPF_ALU64 | BPF_MOV | BPF_K))
				EXPECT_EQ(MARK + t, o.insns[nt].imm);
		}
		bpf_patch_out_free(&o);
	}
	fprintf(stderr, "# %ld references checked\n", checked);
	EXPECT_GT(checked, 1000);
}

static int apply(const insn_t *p, size_t n, struct bpf_patch *ps, size_t np,
		 struct bpf_patch_out *o)
{
	return bpf_patch_apply(p, n, NULL, ps, np, NULL, 0, o);
}

TEST(corner_cases)
{
	const insn_t p[] = {
		MOV(0, 0), JEQ(3), LDFUNC(4), LDHI(), MOV(0, 1), MOV(0, 2),
		JA(-7), EXIT(),
	};
	const insn_t two[] = { MOV(3, 9), MOV(3, 8) };
	struct bpf_patch_out o;
	struct bpf_patch ps[2];
	uint32_t ip[2] = { 5, 8 };

	/* at index 0: the back jump from 6 still lands on the replacement */
	ps[0] = (struct bpf_patch){ 0, 2, two };
	ASSERT_EQ(0, bpf_patch_apply(p, 8, NULL, ps, 1, ip, 2, &o));
	EXPECT_EQ(9u, o.n);
	EXPECT_EQ(BPF_JMP | BPF_JA, o.insns[7].code);
	EXPECT_EQ(-8, o.insns[7].off);		/* to new 0 */
	EXPECT_EQ(3, o.insns[2].off);		/* JEQ 1->5 is now 2->6 */
	EXPECT_EQ(4, o.insns[3].imm);		/* ld_imm64 func 2->7: 3->8 */
	EXPECT_EQ(6u, ip[0]);
	EXPECT_EQ(9u, ip[1]);			/* one past the end */
	EXPECT_EQ(0u, o.orig_idx[1]);
	bpf_patch_out_free(&o);

	/* at the last insn, and empty (removed) at a jump target */
	ps[0] = (struct bpf_patch){ 7, 2, two };
	ps[1] = (struct bpf_patch){ 5, 0, NULL };
	ASSERT_EQ(0, apply(p, 8, ps, 2, &o));
	EXPECT_EQ(8u, o.n);
	EXPECT_EQ(3, o.insns[1].off);		/* JEQ to 5: now the ja at 5 */
	EXPECT_EQ(BPF_JMP | BPF_JA, o.insns[5].code);
	EXPECT_EQ(-6, o.insns[5].off);
	EXPECT_EQ(7u, o.orig_idx[6]);
	EXPECT_EQ(7u, o.orig_idx[7]);
	bpf_patch_out_free(&o);

	/* an ld_imm64 is patched whole; its second half is refused */
	ps[0] = (struct bpf_patch){ 2, 1, two };
	ASSERT_EQ(0, apply(p, 8, ps, 1, &o));
	EXPECT_EQ(7u, o.n);
	EXPECT_EQ(2, o.insns[1].off);		/* JEQ 1->5 is now 1->4 */
	bpf_patch_out_free(&o);
	ps[0] = (struct bpf_patch){ 3, 1, two };
	EXPECT_EQ(-EINVAL, apply(p, 8, ps, 1, &o));
	/* duplicates and indices beyond the program */
	ps[0] = ps[1] = (struct bpf_patch){ 4, 1, two };
	EXPECT_EQ(-EINVAL, apply(p, 8, ps, 2, &o));
	ps[0] = (struct bpf_patch){ 8, 1, two };
	EXPECT_EQ(-EINVAL, apply(p, 8, ps, 1, &o));
	/* no patch: the same program */
	ASSERT_EQ(0, apply(p, 8, ps, 0, &o));
	EXPECT_EQ(0, memcmp(o.insns, p, sizeof(p)));
	bpf_patch_out_free(&o);
}

/* A ja that outgrows 16 bits becomes a gotol; a conditional one cannot. */
TEST(beyond_16_bits)
{
	static insn_t big[40000];
	insn_t q[4] = { JA(2), MOV(0, 1), MOV(0, 0), EXIT() };
	struct bpf_patch ps[1] = { { 2, 40000, big } };
	struct bpf_patch_out o;

	for (size_t i = 0; i < 40000; i++)
		big[i] = MOV(3, 1);
	/* ja 0 -> 3 over the patch at 2: 40002 > 32767 */
	ASSERT_EQ(0, apply(q, 4, ps, 1, &o));
	EXPECT_EQ(BPF_JMP32 | BPF_JA, o.insns[0].code);
	EXPECT_EQ(40001, o.insns[0].imm);
	EXPECT_EQ(EXIT().code, o.insns[40002].code);
	bpf_patch_out_free(&o);
	q[0] = JEQ(2);
	EXPECT_EQ(-ERANGE, apply(q, 4, ps, 1, &o));
}

/*
 * Static branches (bpf/sbranch.c) are jumps like the others: re-aimed
 * with their flags, a static ja outgrowing 16 bits becomes a static
 * gotol, a jcond cannot and is refused; the sites given as instruction
 * pointers follow their instructions.
 */
TEST(static_branches)
{
	static insn_t big[40000];
	insn_t q[6] = {
		I(BPF_JMP | BPF_JA, 0, 3, 3, 0),	/* static, off */
		I(BPF_JMP | 0xe0, 0, 0, 2, 0),		/* jcond */
		MOV(0, 1), MOV(0, 0), MOV(0, 2), EXIT(),
	};
	const insn_t two[] = { MOV(3, 9), MOV(3, 8) };
	struct bpf_patch ps[1] = { { 2, 2, two } };
	struct bpf_patch_out o;
	uint32_t sites[2] = { 0, 1 };

	ASSERT_EQ(0, bpf_patch_apply(q, 6, NULL, ps, 1, sites, 2, &o));
	EXPECT_EQ(3, (int)o.insns[0].src_reg);
	EXPECT_EQ(4, o.insns[0].off);		/* 0->4 is now 0->5 */
	EXPECT_EQ(BPF_JMP | 0xe0, o.insns[1].code);
	EXPECT_EQ(3, o.insns[1].off);		/* 1->4 is now 1->5 */
	EXPECT_EQ(0u, sites[0]);
	EXPECT_EQ(1u, sites[1]);
	bpf_patch_out_free(&o);
	/* a patch before the sites moves them */
	q[2] = q[0];
	q[3] = q[1];
	q[0] = MOV(0, 1);
	q[1] = MOV(0, 2);
	q[2].off = 2;
	q[3].off = 1;
	ps[0] = (struct bpf_patch){ 0, 2, two };
	sites[0] = 2;
	sites[1] = 3;
	ASSERT_EQ(0, bpf_patch_apply(q, 6, NULL, ps, 1, sites, 2, &o));
	EXPECT_EQ(3u, sites[0]);
	EXPECT_EQ(4u, sites[1]);
	EXPECT_EQ(3, (int)o.insns[3].src_reg);
	EXPECT_EQ(2, o.insns[3].off);
	bpf_patch_out_free(&o);
	/* beyond 16 bits: a static gotol; a jcond is refused */
	for (size_t i = 0; i < 40000; i++)
		big[i] = MOV(3, 1);
	q[2].off = 2;		/* 2 -> 5 over the patch at 4 */
	q[3] = MOV(0, 0);
	ps[0] = (struct bpf_patch){ 4, 40000, big };
	ASSERT_EQ(0, apply(q, 6, ps, 1, &o));
	EXPECT_EQ(BPF_JMP32 | BPF_JA, o.insns[2].code);
	EXPECT_EQ(3, (int)o.insns[2].src_reg);
	EXPECT_EQ(40001, o.insns[2].imm);
	bpf_patch_out_free(&o);
	q[2] = I(BPF_JMP | 0xe0, 0, 0, 2, 0);
	EXPECT_EQ(-ERANGE, apply(q, 6, ps, 1, &o));
}

TEST_HARNESS_MAIN
