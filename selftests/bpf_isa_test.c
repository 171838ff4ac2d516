// SPDX-License-Identifier: MIT
/*
 * The interpreter against RFC 9669 (cpu v4): a corpus of raw programs
 * (R1 = data, R2 = its size, R0 the result) in the manner of the
 * kernel's lib/test_bpf.c, each with its expected 64-bit result worked
 * out by hand, and the corner cases the RFC names (INT_MIN / -1, shifts
 * by the width and more, 32-bit zero-extension, imm sign extension,
 * division by zero).  One test checks that the corpus uses every opcode
 * of the RFC; others check the load-time refusals, one per rule, and
 * maps reached by BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/bpf_insns.h"
#include "selftests/bpf_isa_corpus.h"
#include "selftests/harness.h"

static uint64_t run(struct __test_metadata *_metadata, const struct isa_case *c)
{
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .name = c->name);
	struct ftramp_bpf_error e = { 0 };
	uint8_t data[16];
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = data16,
		    .data_size_in = sizeof(data16), .data_out = data,
		    .data_size_out = sizeof(data));
	struct ftramp_bpf_program *p;

	lo.err = &e;
	p = ftramp_bpf_prog__load(c->insns, c->n, &lo);
	if (!p) {
		fprintf(stderr, "# %s: %s\n", c->name, e.msg);
		return 0xdeadbeef;
	}
	EXPECT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	EXPECT_EQ(16, o.data_size_out);
	ftramp_bpf_prog__free(p);
	return o.retval;
}

TEST(corpus)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t r = run(_metadata, &cases[i]);

		if (r != cases[i].expect) {
			fprintf(stderr, "# %s: got %#llx, expected %#llx\n",
				cases[i].name, (unsigned long long)r,
				(unsigned long long)cases[i].expect);
			bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

/* Every RFC 9669 opcode (with the offsets that select sdiv/smod/movsx). */
TEST(corpus_covers_every_opcode)
{
	static const uint8_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV,
		BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV,
		BPF_ARSH };
	static const uint8_t jmp_ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET,
		BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT,
		BPF_JSLE };
	static const int atomics[] = { BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
		BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH,
		BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG };
	/* seen[code][off-variant] */
	static bool seen[256][4], seen_end[3][3];
	int missing = 0;

/* ALU only: off 1 selects sdiv/smod, 8/16/32 the movsx widths */
#define VARIANT(in) (BPF_CLASS((in)->code) != BPF_ALU &&		\
		     BPF_CLASS((in)->code) != BPF_ALU64 ? 0 :		\
		     (in)->off == 1 || (in)->off == 8 ? 1 :		\
		     (in)->off == 16 ? 2 : (in)->off == 32 ? 3 : 0)
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t k = 0; k < cases[i].n; k++) {
			const insn_t *in = &cases[i].insns[k];
			uint8_t cls = BPF_CLASS(in->code);

			if ((cls == BPF_ALU || cls == BPF_ALU64) &&
			    BPF_OP(in->code) == BPF_END) {
				int w = in->imm == 16 ? 0 : in->imm == 32 ? 1 : 2;
				int v = cls == BPF_ALU64 ? 2 :
					BPF_SRC(in->code) == BPF_TO_BE;

				seen_end[v][w] = true;
			} else if (cls != BPF_STX || BPF_MODE(in->code) != BPF_ATOMIC) {
				seen[in->code][VARIANT(in)] = true;
			}
			if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
				k++;
		}
	}
#define NEED(code, v) do {						\
		if (!seen[code][v]) {					\
			fprintf(stderr, "# missing opcode %#x variant %d\n", \
				(unsigned)(code), v);			\
			missing++;					\
		}							\
	} while (0)
	for (size_t i = 0; i < sizeof(alu_ops); i++) {
		for (int src = 0; src <= BPF_X; src += BPF_X) {
			NEED(BPF_ALU64 | alu_ops[i] | src, 0);
			NEED(BPF_ALU | alu_ops[i] | src, 0);
		}
	}
	NEED(BPF_ALU64 | BPF_NEG, 0);
	NEED(BPF_ALU | BPF_NEG, 0);
	for (int src = 0; src <= BPF_X; src += BPF_X) {
		NEED(BPF_ALU64 | BPF_DIV | src, 1);	/* sdiv */
		NEED(BPF_ALU64 | BPF_MOD | src, 1);	/* smod */
		NEED(BPF_ALU | BPF_DIV | src, 1);
		NEED(BPF_ALU | BPF_MOD | src, 1);
	}
	NEED(BPF_ALU64 | BPF_MOV | BPF_X, 1);	/* movsx 8 */
	NEED(BPF_ALU64 | BPF_MOV | BPF_X, 2);	/* 16 */
	NEED(BPF_ALU64 | BPF_MOV | BPF_X, 3);	/* 32 */
	NEED(BPF_ALU | BPF_MOV | BPF_X, 1);
	NEED(BPF_ALU | BPF_MOV | BPF_X, 2);
	for (size_t i = 0; i < sizeof(jmp_ops); i++) {
		for (int src = 0; src <= BPF_X; src += BPF_X) {
			NEED(BPF_JMP | jmp_ops[i] | src, 0);
			NEED(BPF_JMP32 | jmp_ops[i] | src, 0);
		}
	}
	NEED(BPF_JMP | BPF_JA, 0);
	NEED(BPF_JMP32 | BPF_JA, 0);
	NEED(BPF_JMP | BPF_CALL, 0);
	NEED(BPF_JMP | BPF_EXIT, 0);
	NEED(BPF_LD | BPF_IMM | BPF_DW, 0);
	for (int sz = 0; sz <= BPF_DW; sz += BPF_H) {
		NEED(BPF_LDX | BPF_MEM | sz, 0);
		NEED(BPF_ST | BPF_MEM | sz, 0);
		NEED(BPF_STX | BPF_MEM | sz, 0);
		if (sz != BPF_DW)
			NEED(BPF_LDX | BPF_MEMSX | sz, 0);
	}
	for (int v = 0; v < 3; v++)
		for (int w = 0; w < 3; w++)
			if (!seen_end[v][w]) {
				fprintf(stderr, "# missing end/bswap %d/%d\n", v, w);
				missing++;
			}
	EXPECT_EQ(0, missing);
	/* atomics: every op in both sizes */
	missing = 0;
	for (int dw = 0; dw < 2; dw++) {
		for (size_t i = 0; i < sizeof(atomics) / sizeof(atomics[0]); i++) {
			bool found = false;

			for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
				for (size_t k = 0; k < cases[c].n; k++) {
					const insn_t *in = &cases[c].insns[k];

					if (BPF_CLASS(in->code) == BPF_STX &&
					    BPF_MODE(in->code) == BPF_ATOMIC &&
					    (BPF_SIZE(in->code) == BPF_DW) == dw &&
					    in->imm == atomics[i])
						found = true;
				}
			if (!found) {
				fprintf(stderr, "# missing atomic %#x %s\n",
					atomics[i], dw ? "dw" : "w");
				missing++;
			}
		}
	}
	EXPECT_EQ(0, missing);
}

/* ------------------------------------------------------------------------
 * Refused at load: one rule each, with the instruction named
 */

struct refusal {
	const char *name;
	const insn_t *insns;
	size_t n;
	int code;
	const char *msg;
	int type;
};

#define REFUSE(nm, cd, m, ...) { nm, (const insn_t[]){ __VA_ARGS__ },	\
	sizeof((const insn_t[]){ __VA_ARGS__ }) / sizeof(insn_t), cd, m, 0 }

static const struct refusal refusals[] = {
	REFUSE("bad_opcode", FTRAMP_BPF_E_INSN, "insn 1: bad ALU opcode 0xe7",
	       MOV(0, 0), I(0xe7, 0, 0, 0, 0), EXIT()),
	REFUSE("register_11", FTRAMP_BPF_E_INSN, "insn 0: register r11",
	       MOV(11, 0), EXIT()),
	REFUSE("write_r10", FTRAMP_BPF_E_INSN, "insn 0: r10 is read-only",
	       MOV(10, 0), EXIT()),
	REFUSE("jump_out", FTRAMP_BPF_E_INSN, "insn 0: jump to insn 5",
	       JA(4), EXIT()),
	REFUSE("jump_into_ld_imm64", FTRAMP_BPF_E_INSN, "insn 0: jump to insn 2",
	       JA(1), LD64(0, 1), EXIT()),
	REFUSE("unknown_helper", FTRAMP_BPF_E_HELPER, "insn 0: unknown helper 9999",
	       CALL(9999), EXIT()),
	REFUSE("ctx_helper_in_raw", FTRAMP_BPF_E_HELPER, "insn 0: helper 185",
	       CALL(BPF_FUNC_get_func_arg_cnt), EXIT()),
	REFUSE("kfunc", FTRAMP_BPF_E_CALL, "insn 0: kfunc",
	       I(BPF_JMP | BPF_CALL, 0, 2, 0, 1), EXIT()),
	REFUSE("call_out", FTRAMP_BPF_E_CALL, "insn 0: call to insn 11",
	       CALLREL(10), EXIT()),
	REFUSE("half_ld_imm64", FTRAMP_BPF_E_INSN, "the last instruction",
	       MOV(0, 0), I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 0)),
	REFUSE("falls_off", FTRAMP_BPF_E_INSN, "run off the end", MOV(0, 0)),
	REFUSE("map_index", FTRAMP_BPF_E_INSN, "insn 0: map 3 of 0",
	       I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 3),
	       I(0, 0, 0, 0, 0), EXIT()),
	REFUSE("movsx_offset", FTRAMP_BPF_E_INSN, "insn 0: movsx offset 32",
	       MOVSX32(0, 1, 32), EXIT()),
	REFUSE("legacy_ld_abs", FTRAMP_BPF_E_INSN, "insn 0: legacy packet load",
	       I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0), EXIT()),
	REFUSE("bad_atomic", FTRAMP_BPF_E_INSN, "insn 0: atomic op 0x10",
	       ATOM(BPF_DW, 0x10, 1, 3, 0), EXIT()),
	REFUSE("ldsx_dw", FTRAMP_BPF_E_INSN, "insn 0: bad load",
	       LDSX(BPF_DW, 0, 1, 0), EXIT()),
};

TEST(load_refusals)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct ftramp_bpf_error e = { 0 };
		FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .err = &e);
		struct ftramp_bpf_program *p;

		errno = 0;
		p = ftramp_bpf_prog__load(r->insns, r->n, &lo);
		EXPECT_EQ(NULL, p);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(r->code, e.code);
		if (!strstr(e.msg, r->msg)) {
			fprintf(stderr, "# %s: '%s' lacks '%s'\n", r->name, e.msg,
				r->msg);
			EXPECT_TRUE(false);
		}
		ftramp_bpf_prog__free(p);
	}
	{
		FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .engine = 3);
		insn_t ok[] = { MOV(0, 0), EXIT() };

		errno = 0;
		EXPECT_EQ(NULL, ftramp_bpf_prog__load(ok, 2, &lo));
		EXPECT_EQ(EINVAL, errno);
	}
}

/* ld_imm64 map references: PSEUDO_MAP_FD for a helper, MAP_VALUE direct. */
TEST(map_references)
{
	struct ftramp_bpf_map *arr = ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY,
							    "arr", 4, 16, 2, NULL);
	struct ftramp_bpf_map *h = ftramp_bpf_map__create(BPF_MAP_TYPE_HASH,
							  "h", 4, 8, 8, NULL);
	struct ftramp_bpf_map *maps[] = { arr, h };
	const insn_t insns[] = {
		/* arr's value 0 at offset 8 = 42 (direct value) */
		I(BPF_LD | BPF_IMM | BPF_DW, 3, BPF_PSEUDO_MAP_VALUE, 0, 0),
		I(0, 0, 0, 0, 8),
		ST(BPF_DW, 3, 0, 42),
		/* h[7] = 99 through the helper */
		ST(BPF_W, 10, -4, 7),
		ST(BPF_DW, 10, -16, 99),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 1),
		I(0, 0, 0, 0, 0),
		A64X(BPF_MOV, 2, 10), A64K(BPF_ADD, 2, -4),
		A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -16),
		MOV(4, BPF_NOEXIST),
		CALL(BPF_FUNC_map_update_elem),
		EXIT(),
	};
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = maps, .nr_maps = 2);
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o);
	struct ftramp_bpf_program *p;
	uint64_t v[2], hv;
	uint32_t k = 0;

	ASSERT_NE(NULL, arr);
	ASSERT_NE(NULL, h);
	p = ftramp_bpf_prog__load(insns, sizeof(insns) / sizeof(insns[0]), &lo);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	EXPECT_EQ(0, o.retval);	/* the update's */
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(arr, &k, 4, v, 16, 0));
	EXPECT_EQ(0, v[0]);
	EXPECT_EQ(42, v[1]);
	k = 7;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(h, &k, 4, &hv, 8, 0));
	EXPECT_EQ(99, hv);
	/* a second run: BPF_NOEXIST now refuses (retval of update unused) */
	ftramp_bpf_prog__free(p);
	ftramp_bpf_map__free(arr);
	ftramp_bpf_map__free(h);
}

TEST(test_run_repeat_and_opts)
{
	const insn_t insns[] = {
		LDX(BPF_DW, 0, 1, 0), A64K(BPF_ADD, 0, 1), STX(BPF_DW, 1, 0, 0),
		EXIT(),
	};
	uint64_t in = 10, out = 0;
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = &in,
		    .data_size_in = 8, .data_out = &out, .data_size_out = 8,
		    .repeat = 5);
	struct ftramp_bpf_program *p = ftramp_bpf_prog__load(insns, 4, NULL);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	/* as the kernel: data_in copied once, the runs share the copy */
	EXPECT_EQ(15, o.retval);
	EXPECT_EQ(15, out);
	EXPECT_EQ(10, in);
	o.ctx_in = &in;
	o.ctx_size_in = 8;
	EXPECT_EQ(-EINVAL, ftramp_bpf_prog__test_run(p, &o));
	ftramp_bpf_prog__free(p);
}

TEST_HARNESS_MAIN
