// SPDX-License-Identifier: MIT
/*
 * The arm64 JIT against the interpreter (the reference engine): every
 * program of the ISA corpus, then generated programs at the boundary
 * values of every ALU, jump, load and store form, then helper calls,
 * bpf-to-bpf calls and maps.  Each program runs in both engines on the
 * same input; R0, the data buffer and the maps must come out the same.
 * Each runs under every JIT variant: LSE atomics (when the CPU has them)
 * and LL/SC, short and forced-long conditional branches, near and far
 * images.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/bpf_isa_corpus.h"
#include "selftests/bpf_gen.h"
#include "arch/arm64/bpf_jit.h"
#include "bpf/bpf.h"

static const unsigned int variants[] = {
	0,
	BPF_JIT_NO_LSE,
	BPF_JIT_LONG_BRANCHES,
	BPF_JIT_NO_LSE | BPF_JIT_LONG_BRANCHES | BPF_JIT_FAR,
};
#define NR_VARIANTS	(sizeof(variants) / sizeof(variants[0]))

struct outcome {
	uint64_t r0;
	uint8_t data[8192];
	int err;		/* load: -errno */
};

/* R1's buffer: a few patterns, then room for one result per case. */
static const uint8_t data_in[8192] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
	0x7f, 0xff, 0x01, 0x00, 0xfe, 0x80, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
	0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80,
};

/* Run @insns in one engine (jit: with flags) on a copy of data_in. */
static struct outcome run_one(const insn_t *insns, size_t n, bool jit,
			      unsigned int flags,
			      struct ftramp_bpf_map *const *maps,
			      size_t nr_maps)
{
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = maps,
		    .nr_maps = nr_maps,
		    .engine = jit ? FTRAMP_BPF_ENGINE_JIT :
				    FTRAMP_BPF_ENGINE_INTERP);
	struct outcome out = { 0 };
	struct ftramp_bpf_error e = { 0 };
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = data_in,
		    .data_size_in = sizeof(data_in), .data_out = out.data,
		    .data_size_out = sizeof(out.data));
	struct ftramp_bpf_program *p;

	lo.err = &e;
	bpf_jit_test_flags = flags;
	p = ftramp_bpf_prog__load(insns, n, &lo);
	bpf_jit_test_flags = 0;
	if (!p) {
		out.err = -errno;
		if (out.err == -EINVAL)
			fprintf(stderr, "# %s\n", e.msg);
		return out;
	}
	out.err = ftramp_bpf_prog__test_run(p, &o);
	out.r0 = o.retval;
	ftramp_bpf_prog__free(p);
	return out;
}

/* Both engines, every variant: 0 if all agree, else the count that differ. */
static int differ(const char *name, const insn_t *insns, size_t n,
		  size_t *skipped)
{
	struct outcome ref;
	int bad = 0;

	if (getenv("JIT_TEST_TRACE"))
		fprintf(stderr, "# %s\n", name);
	ref = run_one(insns, n, false, 0, NULL, 0);

	if (ref.err) {
		fprintf(stderr, "# %s: the interpreter refused it (%d)\n",
			name, ref.err);
		return 1;
	}
	for (size_t v = 0; v < NR_VARIANTS; v++) {
		struct outcome got = run_one(insns, n, true, variants[v],
					     NULL, 0);

		if (got.err == -EOPNOTSUPP) {
			(*skipped)++;
			return 0;
		}
		if (got.err || got.r0 != ref.r0 ||
		    memcmp(got.data, ref.data, sizeof(ref.data))) {
			fprintf(stderr, "# %s (variant %#x): jit r0 %#llx err "
				"%d, interpreter r0 %#llx%s\n", name,
				variants[v], (unsigned long long)got.r0,
				got.err, (unsigned long long)ref.r0,
				memcmp(got.data, ref.data, sizeof(ref.data)) ?
				", data differs" : "");
			bad++;
		}
	}
	return bad;
}

TEST(corpus_jit_equals_interpreter)
{
	size_t skipped = 0, ncases = sizeof(cases) / sizeof(cases[0]);
	int bad = 0;

	for (size_t i = 0; i < ncases; i++)
		bad += differ(cases[i].name, cases[i].insns, cases[i].n,
			      &skipped);
	TH_LOG("%zu corpus programs x %zu JIT variants, %zu not JIT'd "
	       "(bpf_loop, tail calls, recursion)", ncases, NR_VARIANTS, skipped);
	EXPECT_EQ(0, bad);
	EXPECT_LT(skipped, 8);
}

/* ---------------------------------------------------------------------
 * Boundary values
 * --------------------------------------------------------------------- */

static const uint64_t vals[] = {
	0, 1, 2, 7, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff, 0x100,
	0x7fff, 0x8000, 0xffff, 4095, 4096, 0x7fffffff, 0x80000000ull,
	0xffffffffull, 0x100000000ull, 0x7fffffffffffffffull,
	0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffffeull,
	0xffffffff80000000ull, 0x123456789abcdef0ull, (uint64_t)-4095,
	(uint64_t)-4096,
};
#define NR_VALS	(sizeof(vals) / sizeof(vals[0]))

static const uint8_t alu_ops[] = {
	BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
	BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
};

/*
 * One program per opcode form: for every pair (a, b) of values,
 * r0 = a; r3 = b; r0 op= r3 (or imm b); store r0 at R1 + 8 * k.
 */
TEST(alu_boundaries)
{
	enum { PER = 6 };	/* insns per pair */
	insn_t *p = calloc(NR_VALS * NR_VALS * PER + 2, sizeof(*p));
	size_t skipped = 0, n = 0;
	int bad = 0;

	ASSERT_NE(NULL, p);
	for (size_t o = 0; o < sizeof(alu_ops); o++)
	for (int cls = 0; cls < 2; cls++)
	for (int x = 0; x < 2; x++)
	for (int16_t off = 0; off < 2; off++) {
		uint8_t op = alu_ops[o];
		uint8_t code = (cls ? BPF_ALU64 : BPF_ALU) | op |
			       (x ? BPF_X : BPF_K);
		size_t k = 0, len = 0;
		char name[64];

		if ((off && op != BPF_DIV && op != BPF_MOD) ||
		    (op == BPF_NEG && x))
			continue;
		for (size_t a = 0; a < NR_VALS; a++)
		for (size_t b = 0; b < NR_VALS; b++, k++) {
			insn_t q[PER] = {
				LD64(0, vals[a]), LD64(3, vals[b]),
				I(code, 0, x ? 3 : 0, off,
				  op == BPF_NEG || x ? 0 : (int32_t)vals[b]),
				STX(BPF_DW, 1, 0, (int16_t)(8 * k)),
			};

			memcpy(&p[len], q, sizeof(q));
			len += PER;
		}
		p[len++] = (insn_t)MOV(0, 0);
		p[len++] = (insn_t)EXIT();
		snprintf(name, sizeof(name), "alu %#x off %d", code, off);
		bad += differ(name, p, len, &skipped);
		n += k;
	}
	free(p);
	TH_LOG("%zu ALU cases", n);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, skipped);
}

TEST(movsx_end_boundaries)
{
	size_t skipped = 0, n = 0;
	int bad = 0;

	for (size_t a = 0; a < NR_VALS; a++) {
		for (int16_t w = 8; w <= 32; w *= 2) {
			insn_t p64[] = { LD64(3, vals[a]), MOVSX64(0, 3, w), EXIT() };
			insn_t p32[] = { LD64(0, -1), LD64(3, vals[a]),
					 MOVSX32(0, 3, w), EXIT() };

			bad += differ("movsx64", p64, 4, &skipped);
			if (w != 32)
				bad += differ("movsx32", p32, 6, &skipped);
			n += 2;
		}
		for (int32_t b = 16; b <= 64; b *= 2) {
			insn_t le[] = { LD64(0, vals[a]), END(BPF_TO_LE, 0, b), EXIT() };
			insn_t be[] = { LD64(0, vals[a]), END(BPF_TO_BE, 0, b), EXIT() };
			insn_t sw[] = { LD64(0, vals[a]), BSWAP(0, b), EXIT() };

			bad += differ("to_le", le, 4, &skipped);
			bad += differ("to_be", be, 4, &skipped);
			bad += differ("bswap", sw, 4, &skipped);
			n += 3;
		}
	}
	TH_LOG("%zu movsx/end programs", n);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, skipped);
}

static const uint8_t jmp_ops[] = {
	BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE,
	BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
};

/* As alu_boundaries: r0 = taken ? 2 : 1, stored per pair. */
TEST(jump_boundaries)
{
	enum { PER = 9 };
	insn_t *p = calloc(NR_VALS * NR_VALS * PER + 2, sizeof(*p));
	size_t skipped = 0, n = 0;
	int bad = 0;

	ASSERT_NE(NULL, p);
	for (size_t o = 0; o < sizeof(jmp_ops); o++)
	for (int cls = 0; cls < 2; cls++)
	for (int x = 0; x < 2; x++) {
		uint8_t code = (cls ? BPF_JMP : BPF_JMP32) | jmp_ops[o] |
			       (x ? BPF_X : BPF_K);
		size_t k = 0, len = 0;
		char name[64];

		for (size_t a = 0; a < NR_VALS; a++)
		for (size_t b = 0; b < NR_VALS; b++, k++) {
			insn_t q[PER] = {
				MOV(0, 1), LD64(3, vals[a]), LD64(4, vals[b]),
				I(code, 3, x ? 4 : 0, 1, x ? 0 : (int32_t)vals[b]),
				JA(1), MOV(0, 2),
				STX(BPF_DW, 1, 0, (int16_t)(8 * k)),
			};

			memcpy(&p[len], q, sizeof(q));
			len += PER;
		}
		p[len++] = (insn_t)MOV(0, 0);
		p[len++] = (insn_t)EXIT();
		snprintf(name, sizeof(name), "jmp %#x", code);
		bad += differ(name, p, len, &skipped);
		n += k;
	}
	free(p);
	TH_LOG("%zu jump cases", n);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, skipped);
}

static int size_bytes(uint8_t sz)
{
	switch (sz) {
	case BPF_B:	return 1;
	case BPF_H:	return 2;
	case BPF_W:	return 4;
	default:	return 8;
	}
}

/*
 * Loads and stores at every size, sign-extending loads, and offsets that
 * take each A64 form: scaled, unscaled (negative, misaligned) and the
 * register form (beyond -256 on the stack).
 */
TEST(ldst_boundaries)
{
	static const int16_t offs[] = { 0, 1, 3, 8, 12, 24, 31 };
	static const int16_t soffs[] = { -8, -1, -255, -256, -257, -300, -512 };
	static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };
	size_t skipped = 0, n = 0;
	char name[64];
	int bad = 0;

	for (size_t s = 0; s < 4; s++) {
		uint8_t sz = sizes[s];

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			insn_t ld[] = { LDX(sz, 0, 1, offs[i]), EXIT() };
			insn_t sx[] = { LDSX(sz, 0, 1, offs[i]), EXIT() };
			insn_t st[] = { LD64(3, 0x8182838485868788ull),
					STX(sz, 1, 3, offs[i]),
					ST(sz, 1, offs[i] + 32, -2),
					LDX(BPF_DW, 0, 1, 0), EXIT() };

			bad += differ("ldx", ld, 2, &skipped);
			if (sz != BPF_DW)
				bad += differ("ldsx", sx, 2, &skipped);
			bad += differ("stx/st", st, 6, &skipped);
			n += 3;
		}
		for (size_t i = 0; i < sizeof(soffs) / sizeof(soffs[0]); i++) {
			int16_t o = soffs[i];
			insn_t p[64 + 9];
			const insn_t tail[] = {
				LD64(3, 0xfedcba9887654321ull),
				STX(BPF_DW, 10, 3, (int16_t)(o & ~7)),
				ST(sz, 10, (int16_t)(o & ~7), -0x7f),
				LDX(sz, 0, 10, o), LDSX(BPF_W, 4, 10, o & ~3),
				A64X(BPF_XOR, 0, 4), EXIT(),
			};

			/* in bounds: [o, o + size) below R10 */
			if (o + size_bytes(sz) > 0)
				continue;
			/* the whole stack written: no engine reads garbage */
			for (int k = 0; k < 64; k++) {
				insn_t z = ST(BPF_DW, 10, (int16_t)(-8 * (k + 1)), k);

				p[k] = z;
			}
			memcpy(&p[64], tail, sizeof(tail));
			snprintf(name, sizeof(name), "stack size %#x off %d",
				 sz, o);
			bad += differ(name, p, 64 + 8, &skipped);
			n++;
		}
	}
	TH_LOG("%zu load/store programs", n);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, skipped);
}

/* Every atomic op, both widths, fetch or not, at a few offsets. */
TEST(atomic_boundaries)
{
	static const int32_t ops[] = {
		BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
		BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH,
		BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
	};
	size_t skipped = 0, n = 0;
	int bad = 0;

	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
	for (int dw = 0; dw < 2; dw++)
	for (size_t a = 0; a < NR_VALS; a += 5)
	for (int16_t off = 0; off <= 24; off += 8) {
		uint8_t sz = dw ? BPF_DW : BPF_W;
		insn_t p[] = {
			LD64(0, vals[(a + 5) % NR_VALS]), LD64(3, vals[a]),
			/* cmpxchg: make the compare succeed half the time */
			LD64(4, vals[a]), STX(sz, 1, 4, 16),
			ATOM(sz, ops[o], 1, 3, off),
			A64X(BPF_XOR, 0, 3), EXIT(),
		};

		bad += differ("atomic", p, 10, &skipped);
		n++;
	}
	TH_LOG("%zu atomic programs", n);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, skipped);
}

/* ---------------------------------------------------------------------
 * Calls and maps
 * --------------------------------------------------------------------- */

/* Subprograms: R6-R9 kept, their own stack, nested, recursion bounded. */
TEST(bpf_to_bpf_calls)
{
	const insn_t p[] = {
		MOV(6, 100), MOV(1, 3), ST(BPF_DW, 10, -8, 5),
		CALLREL(4),			/* r0 = f(3) */
		LDX(BPF_DW, 3, 10, -8),		/* our stack untouched */
		A64X(BPF_ADD, 0, 6), A64X(BPF_ADD, 0, 3),
		EXIT(),
		/* f(x): r6 = x * 2 (callee-saved), g(r6) + 1 */
		ST(BPF_DW, 10, -8, 77),
		A64X(BPF_MOV, 6, 1), A64K(BPF_MUL, 6, 2),
		A64X(BPF_MOV, 1, 6), CALLREL(2), A64K(BPF_ADD, 0, 1),
		EXIT(),
		/* g(x): x * 10 */
		A64X(BPF_MOV, 0, 1), A64K(BPF_MUL, 0, 10), EXIT(),
	};
	size_t skipped = 0;

	EXPECT_EQ(0, differ("calls", p, sizeof(p) / sizeof(p[0]), &skipped));
	EXPECT_EQ(0, skipped);
	EXPECT_EQ(166, run_one(p, sizeof(p) / sizeof(p[0]), true, 0, NULL,
			       0).r0);
}

/* r = ld_imm64 of function t's address (a callback), from insn i */
#define FUNC_ADDR(r, i, t)						\
	I(BPF_LD | BPF_IMM | BPF_DW, r, BPF_PSEUDO_FUNC, 0, (t) - (i) - 1), \
	I(0, 0, 0, 0, 0)

/*
 * bpf_loop: callbacks are the image's own functions; the count, an early
 * stop, the limits (nr past 2^23, flags: -E2BIG) and a nested loop, with
 * the callbacks adding into the caller's stack through ctx.  r0 = the
 * loop's answer * 1000 + the sum.
 */
TEST(bpf_loop_callbacks)
{
	static const struct { int32_t nr, stop, flags; } v[] = {
		{ 10, 100, 0 }, { 10, 3, 0 }, { 0, 0, 0 }, { 1, 0, 0 },
		{ (1 << 23) + 1, 0, 0 }, { 1 << 23, 0, 1 }, { 4, 3, 0 },
	};
	size_t skipped = 0;
	int bad = 0;

	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		const insn_t p[] = {
			ST(BPF_DW, 10, -8, 0),
			MOV(1, v[k].nr),
			FUNC_ADDR(2, 2, 12),
			A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -8),
			MOV(4, v[k].flags),
			CALL(BPF_FUNC_loop),
			LDX(BPF_DW, 1, 10, -8),
			A64K(BPF_MUL, 0, 1000), A64X(BPF_ADD, 0, 1),
			EXIT(),
			/* 12: cb(i, ctx): *ctx += i; stop at i == stop */
			LDX(BPF_DW, 3, 2, 0), A64X(BPF_ADD, 3, 1),
			STX(BPF_DW, 2, 3, 0),
			MOV(0, 0), JK(BPF_JNE, 1, v[k].stop, 1), MOV(0, 1),
			EXIT(),
		};
		char name[64];

		snprintf(name, sizeof(name), "bpf_loop %d stop %d flags %d",
			 v[k].nr, v[k].stop, v[k].flags);
		bad += differ(name, p, sizeof(p) / sizeof(p[0]), &skipped);
	}
	{
		const insn_t nested[] = {
			ST(BPF_DW, 10, -8, 0),
			MOV(1, 4),
			FUNC_ADDR(2, 2, 12),
			A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -8),
			MOV(4, 0),
			CALL(BPF_FUNC_loop),
			LDX(BPF_DW, 1, 10, -8),
			A64K(BPF_MUL, 0, 1000), A64X(BPF_ADD, 0, 1),
			EXIT(),
			/* 12: cbA(i, ctx): bpf_loop(3, cbB, ctx) */
			A64X(BPF_MOV, 6, 2),
			MOV(1, 3),
			FUNC_ADDR(2, 14, 21),
			A64X(BPF_MOV, 3, 6),
			MOV(4, 0),
			CALL(BPF_FUNC_loop),
			MOV(0, 0),
			EXIT(),
			/* 21: cbB(i, ctx): *ctx += 100 + i */
			LDX(BPF_DW, 3, 2, 0), A64K(BPF_ADD, 3, 100),
			A64X(BPF_ADD, 3, 1), STX(BPF_DW, 2, 3, 0),
			MOV(0, 0), EXIT(),
		};
		size_t n = sizeof(nested) / sizeof(nested[0]);

		bad += differ("bpf_loop nested", nested, n, &skipped);
		EXPECT_EQ(4 * 1000 + 4 * (300 + 3),
			  run_one(nested, n, true, 0, NULL, 0).r0);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, skipped);
}

/* Helper calls through maps: the same map contents in both engines. */
TEST(helpers_and_maps)
{
	const insn_t insns[] = {
		I(BPF_LD | BPF_IMM | BPF_DW, 6, BPF_PSEUDO_MAP_VALUE, 0, 0),
		I(0, 0, 0, 0, 8),
		LDX(BPF_DW, 7, 6, 0), A64K(BPF_ADD, 7, 1),
		STX(BPF_DW, 6, 7, 0),
		ST(BPF_W, 10, -4, 7),
		STX(BPF_DW, 10, 7, -16),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 1),
		I(0, 0, 0, 0, 0),
		A64X(BPF_MOV, 2, 10), A64K(BPF_ADD, 2, -4),
		A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -16),
		MOV(4, BPF_ANY),
		CALL(BPF_FUNC_map_update_elem),
		A64X(BPF_MOV, 8, 0),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 1),
		I(0, 0, 0, 0, 0),
		A64X(BPF_MOV, 2, 10), A64K(BPF_ADD, 2, -4),
		CALL(BPF_FUNC_map_lookup_elem),
		JK(BPF_JEQ, 0, 0, 2),
		LDX(BPF_DW, 0, 0, 0),
		A64X(BPF_ADD, 0, 8),
		EXIT(),
	};
	uint64_t v[2][2], hv[2];
	uint32_t k;

	for (int jit = 0; jit < 2; jit++) {
		struct ftramp_bpf_map *arr = ftramp_bpf_map__create(
			BPF_MAP_TYPE_ARRAY, "arr", 4, 16, 2, NULL);
		struct ftramp_bpf_map *h = ftramp_bpf_map__create(
			BPF_MAP_TYPE_HASH, "h", 4, 8, 8, NULL);
		struct ftramp_bpf_map *maps[] = { arr, h };
		struct outcome o;

		ASSERT_NE(NULL, arr);
		ASSERT_NE(NULL, h);
		for (int r = 0; r < 3; r++) {
			o = run_one(insns, sizeof(insns) / sizeof(insns[0]),
				    jit, 0, maps, 2);
			ASSERT_EQ(0, o.err);
			EXPECT_EQ((uint64_t)r + 1, o.r0);
		}
		k = 0;
		ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(arr, &k, 4, v[jit],
							 16, 0));
		k = 7;
		ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(h, &k, 4, &hv[jit],
							 8, 0));
		ftramp_bpf_map__free(arr);
		ftramp_bpf_map__free(h);
	}
	EXPECT_EQ(0, memcmp(v[0], v[1], sizeof(v[0])));
	EXPECT_EQ(3, v[1][1]);
	EXPECT_EQ(hv[0], hv[1]);
	EXPECT_EQ(3, hv[1]);
}

/* ---------------------------------------------------------------------
 * Generated programs (selftests/bpf_gen.h, the verifier fuzzer's)
 * --------------------------------------------------------------------- */

enum {
	/*
	 * Programs compared in make check (issue 18's count; the
	 * environment's BPF_JIT_GEN_PROGRAMS overrides it): 27 s of CPU
	 * under qemu, mostly the verifier's walks, so the test has its own
	 * timeout: a host loaded to 12 on 2 cores stretched it to 6 times
	 * that.
	 */
	GEN_PROGRAMS = 100000,
	GEN_BATCH = 128,	/* programs per image */
	GEN_DATA = 64,		/* bytes each program may touch */
	GEN_MAX = 128,		/* insns per program */
	GEN_BLOCKS = 16,	/* top-level blocks per program, at most */
	GEN_KEYS = 12,		/* hash keys the programs use */
};

static const struct bpf_gen_cfg gen_cfg = {
	.arr = 0, .arr_value = 24, .hash = 1, .hash_keys = GEN_KEYS, .rb = -1,
	.data_size = GEN_DATA, .max_insns = GEN_MAX, .max_blocks = GEN_BLOCKS,
};

struct gen_batch {
	insn_t insns[GEN_BATCH * (GEN_MAX + 4) + 8];
	size_t n;
	uint64_t seed[GEN_BATCH];
	int nr;
};

/* Seed's program; one that outgrew GEN_MAX is drawn again, further on. */
static size_t gen_one(uint64_t seed, insn_t *out)
{
	for (uint64_t k = 0;; k++) {
		struct bpf_gen_rng r = {
			.s = (seed + (k << 40)) * 0x9e3779b97f4a7c15ull | 1,
		};
		size_t n = bpf_gen_prog(&r, &gen_cfg, out, GEN_MAX);

		if (n)
			return n;
	}
}

/*
 * One image for the batch: each program a subprogram called with R1 =
 * the data, its R0 stored after the data, at GEN_DATA + 8 * k:
 *	r6 = r1; { r1 = r6; call prog_k; *(u64 *)(r6 + GEN_DATA + 8k) = r0 }
 *	r0 = 0; exit; prog_0; prog_1; ...
 */
static void gen_compose(struct gen_batch *b, const uint64_t *seeds, int nr)
{
	size_t head = 1 + 3 * nr + 2, at = head;
	insn_t *in = b->insns;

	b->nr = nr;
	in[0] = (insn_t)A64X(BPF_MOV, 6, 1);
	for (int k = 0; k < nr; k++) {
		size_t len = gen_one(seeds[k], &in[at]), call = 1 + 3 * k + 1;

		b->seed[k] = seeds[k];
		in[call - 1] = (insn_t)A64X(BPF_MOV, 1, 6);
		in[call] = (insn_t)CALLREL((int32_t)(at - call - 1));
		in[call + 1] = (insn_t)STX(BPF_DW, 6, 0, GEN_DATA + 8 * k);
		at += len;
	}
	in[head - 2] = (insn_t)MOV(0, 0);
	in[head - 1] = (insn_t)EXIT();
	b->n = at;
}

/* What a run leaves: R0, the data, both array values, every key's value */
struct gen_world {
	uint64_t r0;
	uint8_t data[GEN_DATA + 8 * GEN_BATCH];
	uint8_t arr[2][24];
	struct { int err; uint64_t v; } hash[GEN_KEYS];
};

static void gen_snapshot(struct ftramp_bpf_map *const *maps,
			 struct gen_world *w)
{
	for (uint32_t k = 0; k < 2; k++)
		if (ftramp_bpf_map__lookup_elem(maps[0], &k, 4, w->arr[k], 24, 0))
			memset(w->arr[k], 0xee, 24);
	for (uint32_t k = 0; k < GEN_KEYS; k++)
		w->hash[k].err = ftramp_bpf_map__lookup_elem(maps[1], &k, 4,
							     &w->hash[k].v, 8,
							     0);
}

/* back to the start: zeroed values, no key */
static void gen_reset(struct ftramp_bpf_map *const *maps)
{
	static const uint8_t zero[24];

	for (uint32_t k = 0; k < 2; k++)
		ftramp_bpf_map__update_elem(maps[0], &k, 4, zero, 24, BPF_ANY);
	for (uint32_t k = 0; k < GEN_KEYS; k++)
		ftramp_bpf_map__delete_elem(maps[1], &k, 4, 0);
}

/*
 * Load @insns once (the verifier, then the JIT with @flags), run it in
 * the interpreter and in the JIT image from the same data (drawn from
 * @seed) and empty maps, compare what each left.  1 differ, 0 agree,
 * -EINVAL refused by the verifier (@why says why).
 */
static int gen_differ(struct ftramp_bpf_map *const *maps, const insn_t *insns,
		      size_t n, unsigned int flags, uint64_t seed, char *why,
		      size_t whylen)
{
	struct ftramp_bpf_error e = { 0 };
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .err = &e, .maps = maps,
		    .nr_maps = 2, .engine = FTRAMP_BPF_ENGINE_JIT);
	static struct gen_world w[2];
	struct ftramp_bpf_program *p;
	uint8_t init[sizeof(w[0].data)];
	struct bpf_gen_rng r = { .s = seed | 1 };

	bpf_jit_test_flags = flags;
	p = ftramp_bpf_prog__load(insns, n, &lo);
	bpf_jit_test_flags = 0;
	if (!p) {
		snprintf(why, whylen, "%s", e.msg);
		return -errno;
	}
	for (size_t i = 0; i < sizeof(init); i++)
		init[i] = gen_rand(&r, 256);
	for (int jit = 0; jit < 2; jit++) {
		uint8_t *d = w[jit].data;

		gen_reset(maps);
		memcpy(d, init, sizeof(init));
		w[jit].r0 = jit ? bpf_jit_run(p, (uintptr_t)d, GEN_DATA) :
				  bpf_interp_run(p, (uintptr_t)d, GEN_DATA);
		gen_snapshot(maps, &w[jit]);
	}
	ftramp_bpf_prog__free(p);
	return memcmp(&w[0], &w[1], sizeof(w[0])) != 0;
}

/*
 * GEN_PROGRAMS (or BPF_JIT_GEN_PROGRAMS) programs from seeds 1.., the
 * verifier's to accept, in
 * batches of GEN_BATCH per image (a JIT compile per program costs more
 * under qemu than the programs), the variants in turn per batch.  A
 * refused or differing batch is taken apart program by program, so the
 * message names the seed.
 */
TEST_TIMEOUT(generated_programs, 900)
{
	static struct gen_batch b;
	struct ftramp_bpf_map *maps[2] = {
		ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY, "arr", 4, 24, 2, NULL),
		ftramp_bpf_map__create(BPF_MAP_TYPE_HASH, "hash", 4, 8, 8, NULL),
	};
	uint64_t seeds[GEN_BATCH], next = 1;
	size_t compared = 0, refused = 0, batches = 0, insns = 0;
	size_t want = getenv("BPF_JIT_GEN_PROGRAMS") ?
		      strtoul(getenv("BPF_JIT_GEN_PROGRAMS"), NULL, 0) :
		      GEN_PROGRAMS;
	char why[256];
	int bad = 0;

	ASSERT_NE(NULL, maps[0]);
	ASSERT_NE(NULL, maps[1]);
	while (compared < want && bad < 4) {
		unsigned int flags = variants[batches % NR_VARIANTS];
		int nr = 0, d;

		while (nr < GEN_BATCH && compared + nr < want)
			seeds[nr++] = next++;
		gen_compose(&b, seeds, nr);
		d = gen_differ(maps, b.insns, b.n, flags, batches, why,
			       sizeof(why));
		batches++;
		if (!d) {
			compared += nr;
			insns += b.n;
			continue;
		}
		/* one by one: which seed the verifier refuses or the JIT gets wrong */
		for (int k = 0; k < nr; k++) {
			gen_compose(&b, &seeds[k], 1);
			d = gen_differ(maps, b.insns, b.n, flags, batches, why,
				       sizeof(why));
			if (d == -EINVAL) {
				refused++;
				if (getenv("JIT_TEST_TRACE"))
					fprintf(stderr, "# seed %llu refused: %s\n",
						(unsigned long long)seeds[k], why);
			} else if (d) {
				fprintf(stderr, "# seed %llu (variant %#x): the "
					"JIT and the interpreter differ (%d)\n",
					(unsigned long long)seeds[k], flags, d);
				bad++;
			} else {
				compared++;
				insns += b.n;
			}
		}
	}
	TH_LOG("%zu generated programs accepted and compared (%zu insns, %zu "
	       "images), %zu refused by the verifier", compared, insns, batches,
	       refused);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(want, compared);
	/* the generator is meant for the verifier to accept */
	EXPECT_LT(refused * 100, compared);
	ftramp_bpf_map__free(maps[0]);
	ftramp_bpf_map__free(maps[1]);
}

static int no_helper(int32_t id, struct bpf_jit_helper *h)
{
	(void)id;
	(void)h;
	return -EOPNOTSUPP;
}

/* The instruction address map: every insn has a place, in order. */
TEST(address_map)
{
	const insn_t insns[] = {
		MOV(0, 1), LD64(3, 0x123456789abcdef0ull),
		JK(BPF_JGT, 3, 5, 1), MOV(0, 2), EXIT(),
	};
	struct bpf_jit_desc d = {
		.insns = (const struct bpf_insn *)insns, .n = 6,
		.helper = no_helper,
	};
	struct bpf_jit_image img;

	ASSERT_EQ(0, bpf_jit_compile(&d, &img));
	EXPECT_EQ(6, img.n);
	for (size_t i = 0; i < 6; i++)
		EXPECT_LE(img.offset[i], img.offset[i + 1]);
	/* ld_imm64's second half has no code; mov x, #1 is one word */
	EXPECT_EQ(img.offset[2], img.offset[3]);
	EXPECT_EQ(1, img.offset[1] - img.offset[0]);
	EXPECT_EQ(2, img.offset[4] - img.offset[3]);	/* cmp, b.hi */
	EXPECT_EQ(img.offset[6], img.len);	/* exit's b, the epilogue */
	EXPECT_EQ(1, ((uint64_t (*)(uint64_t, uint64_t))img.entry)(0, 0));
	bpf_jit_free(&img);

	/* forced long: b.!cond + b, and one more pass to settle */
	d.flags = BPF_JIT_LONG_BRANCHES;
	ASSERT_EQ(0, bpf_jit_compile(&d, &img));
	EXPECT_EQ(3, img.offset[4] - img.offset[3]);	/* cmp, b.ls, b */
	EXPECT_EQ(1, ((uint64_t (*)(uint64_t, uint64_t))img.entry)(0, 0));
	EXPECT_LE(2, img.passes);
	bpf_jit_free(&img);
}

/*
 * A tail call is JIT'd where the interpreter loads it, in the tail frame
 * (a tail entry); a program without one and without a prog array among
 * its maps keeps the lean frame (no tail entry).
 */
TEST(tail_call_is_jited)
{
	struct ftramp_bpf_map *pa = ftramp_bpf_map__create(
		BPF_MAP_TYPE_PROG_ARRAY, "pa", 4, 4, 1, NULL);
	struct ftramp_bpf_map *maps[] = { pa };
	const insn_t tail[] = {
		I(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_MAP_FD, 0, 0),
		I(0, 0, 0, 0, 0),
		MOV(3, 0), CALL(BPF_FUNC_tail_call), MOV(0, 0), EXIT(),
	};
	struct ftramp_bpf_error e = { 0 };
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = maps, .nr_maps = 1,
		    .err = &e);
	struct ftramp_bpf_program *p;
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o);

	ASSERT_NE(NULL, pa);
	p = ftramp_bpf_prog__load(tail, 6, &lo);
	if (!p)
		TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, p);
	ftramp_bpf_prog__free(p);
	/* a map of its own: the first program fixes the engine */
	ftramp_bpf_map__free(pa);
	pa = maps[0] = ftramp_bpf_map__create(BPF_MAP_TYPE_PROG_ARRAY, "pa",
					      4, 4, 1, NULL);
	ASSERT_NE(NULL, pa);
	lo.engine = FTRAMP_BPF_ENGINE_JIT;
	p = ftramp_bpf_prog__load(tail, 6, &lo);
	if (!p)
		TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, p->jit);
	EXPECT_NE(0, p->jit->tail);
	EXPECT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	EXPECT_EQ(0, o.retval);	/* the empty slot fell through */
	ftramp_bpf_prog__free(p);
	ftramp_bpf_map__free(pa);
	lo.maps = NULL;
	lo.nr_maps = 0;
	p = ftramp_bpf_prog__load(tail + 4, 2, &lo);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, p->jit->tail);
	ftramp_bpf_prog__free(p);
}

TEST_HARNESS_MAIN
