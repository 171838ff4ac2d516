// SPDX-License-Identifier: MIT
/*
 * The rewrite pass (bpf/fixup.c): each inlined helper is gone from the
 * run form, and the inlined program computes what the helper call
 * computes.  Every program loads four ways, interpreter and JIT, with
 * and without inlining (BPF_FIXUP_NO_INLINE: the call as written, the
 * reference; BPF_FIXUP_INLINE_INTERP: the sequences in the interpreter
 * too, which by default keeps the calls), and runs on boundary inputs: argument numbers out of
 * range, negative and beyond 32 bits, every run context kind (fentry,
 * fexit, fmod_ret, any, unwound) with and without a result, ARRAY
 * indices at and past max_entries.  Tracing programs are called
 * directly with a hand-made ctx (the run context at ctx[-1], as a
 * trampoline lays it out), so that every kind can be had.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/bpf_insns.h"
#include "arch/arm64/trampoline.h"
#include "bpf/bpf.h"
#include "bpf/fixup.h"
#include "lib/fault_inject.h"

#define NR_INSNS(a)	(sizeof(a) / sizeof((a)[0]))

/* The four loads: [jit][inline]; [0][0] is the reference. */
struct four {
	struct ftramp_bpf_program *p[2][2];
};

static struct ftramp_bpf_program *load(const insn_t *insns, size_t n,
				       int type, bool jit, bool inl,
				       struct ftramp_bpf_map **maps,
				       size_t nr_maps)
{
	struct ftramp_bpf_error e = { 0 };
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .type = type,
		    .maps = maps, .nr_maps = nr_maps, .err = &e,
		    .engine = jit ? FTRAMP_BPF_ENGINE_JIT :
				    FTRAMP_BPF_ENGINE_INTERP);
	struct ftramp_bpf_program *p;

	bpf_fixup_test_flags = inl ? BPF_FIXUP_INLINE_INTERP :
				     BPF_FIXUP_NO_INLINE;
	p = ftramp_bpf_prog__load(insns, n, &lo);
	bpf_fixup_test_flags = 0;
	if (!p)
		fprintf(stderr, "# load (jit %d, inline %d): %s (%s)\n", jit,
			inl, e.msg, strerror(errno));
	return p;
}

static int load_four(struct four *f, const insn_t *insns, size_t n,
		     int type, struct ftramp_bpf_map **maps, size_t nr_maps)
{
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < 2; i++) {
			f->p[j][i] = load(insns, n, type, j, i, maps, nr_maps);
			if (!f->p[j][i])
				return -1;
		}
	return 0;
}

static void free_four(struct four *f)
{
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < 2; i++)
			ftramp_bpf_prog__free(f->p[j][i]);
}

/* Calls to helper @id in the run form. */
static int calls_to(const struct ftramp_bpf_program *p, int32_t id)
{
	const struct ftramp_bpf_insn *in = ftramp_bpf_program__insns(p);
	size_t n = ftramp_bpf_program__insn_cnt(p);
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += in[i].code == (BPF_JMP | BPF_CALL) && !in[i].src_reg &&
		     in[i].imm == id;
	return c;
}

/* Inlined: no call left in either engine's run form, and before: some. */
static void expect_inlined(struct __test_metadata *_metadata,
			   const struct four *f, int32_t id)
{
	for (int j = 0; j < 2; j++) {
		EXPECT_LT(0, calls_to(f->p[j][0], id));
		EXPECT_EQ(0, calls_to(f->p[j][1], id));
	}
}

/*
 * orig_idx: one per run instruction, non-decreasing, every original
 * instruction present, and the instructions of each sequence named by
 * the call they replace.
 */
static void expect_orig_idx(struct __test_metadata *_metadata,
			    const struct ftramp_bpf_program *p)
{
	size_t want = 0;

	ASSERT_NE(NULL, p->orig_idx);
	EXPECT_EQ(p->orig_idx[p->run_entry], p->entry);
	for (size_t k = 0; k < p->run_n; k++) {
		if (k && p->orig_idx[k] == p->orig_idx[k - 1])
			continue;
		EXPECT_EQ(want, p->orig_idx[k]);
		want = p->orig_idx[k] + 1;
	}
	EXPECT_EQ(p->n, want);
}

/* ------------------------------------------------------------------------
 * A hand-made trampoline ctx
 */

#define CTX_SLOTS	64
#define SLOT_N		40	/* the programs' inputs, past the arguments */
#define SLOT_SEL	41
#define SLOT_SKIP	42

struct tctx {
	uint64_t frame[1 + CTX_SLOTS];	/* frame[0]: ctx[-1] */
	struct ftramp_run_ctx rc;
};

static uint64_t *tctx_init(struct tctx *t, uint8_t kind, uint16_t nr_args,
			   uint8_t nr_ret)
{
	const struct ftramp_run_ctx *rcp = &t->rc;

	memset(t, 0, sizeof(*t));
	memcpy(&t->frame[0], &rcp, sizeof(rcp));
	for (int i = 0; i < CTX_SLOTS; i++)
		t->frame[1 + i] = 0x1000 + i * 0x10001ull;
	t->rc.func_ip = 0x400123;
	t->rc.cookie = 0xc00c1e;
	t->rc.kind = kind;
	t->rc.nr_args = nr_args;
	t->rc.nr_ret = nr_ret;
	t->rc.ret_cls = FTRAMP_RET_UNKNOWN;
	return &t->frame[1];
}

static const uint8_t kinds[] = {
	FTRAMP_TRAMP_FENTRY, FTRAMP_TRAMP_MODIFY_RETURN, FTRAMP_TRAMP_FEXIT,
	FTRAMP_RUN_CTX_ANY, FTRAMP_RUN_CTX_UNWOUND,
};
static const uint16_t nr_argss[] = { 0, 1, 3, 12, SLOT_N - 1 };
static const uint64_t ns[] = {
	0, 1, 2, 3, 11, 12, 13, SLOT_N - 1, SLOT_N, 0xffff, 0x10000,
	0x7fffffff, 0x80000000ull, 0xffffffffull, 0x100000000ull,
	0x100000001ull, 0x100000003ull, (uint64_t)-1, (uint64_t)-12,
	0x8000000000000000ull,
};

/* Run the four on one ctx: 0 if they agree, else 1 (and say how). */
static int run_ctx_four(const struct four *f, const char *what,
			uint8_t kind, uint16_t nr_args, uint8_t nr_ret,
			uint64_t n, uint64_t sel, uint64_t skip)
{
	uint64_t r[2][2];

	for (int j = 0; j < 2; j++)
		for (int i = 0; i < 2; i++) {
			struct tctx t;
			uint64_t *ctx = tctx_init(&t, kind, nr_args, nr_ret);

			ctx[SLOT_N] = n;
			ctx[SLOT_SEL] = sel;
			ctx[SLOT_SKIP] = skip;
			r[j][i] = ftramp_bpf_program__handler(f->p[j][i])(ctx);
		}
	if (r[0][1] == r[0][0] && r[1][0] == r[0][0] && r[1][1] == r[0][0])
		return 0;
	fprintf(stderr, "# %s kind %#x nr_args %u nr_ret %u n %#llx sel %llu "
		"skip %llu: call %#llx, inlined %#llx, jit call %#llx, jit "
		"inlined %#llx\n", what, kind, nr_args, nr_ret,
		(unsigned long long)n, (unsigned long long)sel,
		(unsigned long long)skip, (unsigned long long)r[0][0],
		(unsigned long long)r[0][1], (unsigned long long)r[1][0],
		(unsigned long long)r[1][1]);
	return 1;
}

/* Every kind, argument count, result or none, n, selector. */
static int sweep(const struct four *f, const char *what, int sels)
{
	int bad = 0, cases = 0;

	for (size_t k = 0; k < sizeof(kinds); k++)
	for (size_t a = 0; a < NR_INSNS(nr_argss); a++)
	for (uint8_t ret = 0; ret < 2; ret++)
	for (size_t x = 0; x < NR_INSNS(ns); x++)
	for (int sel = 0; sel < sels; sel++, cases++)
		bad += run_ctx_four(f, what, kinds[k], nr_argss[a], ret, ns[x],
				    sel, 0);
	return bad ? bad : -cases;
}

/*
 * r0 = helper(ctx, ...) with ctx[SLOT_N] as the argument number; then
 * ctx[SLOT_SEL] chooses what to return: 0 R0, 1 the u64 written
 * through the pointer (a sentinel when the helper writes nothing).
 */
#define SENTINEL	0x5a5a5a5a

/* Load @insns four ways, check @id is inlined, sweep with 2 selectors. */
static void sweep_helper(struct __test_metadata *_metadata,
			 const insn_t *insns, size_t n, int type, int32_t id,
			 const char *what)
{
	struct four f = { 0 };
	int r;

	ASSERT_EQ(0, load_four(&f, insns, n, type, NULL, 0));
	expect_inlined(_metadata, &f, id);
	expect_orig_idx(_metadata, f.p[1][1]);
	r = sweep(&f, what, 2);
	EXPECT_GT(0, r);
	TH_LOG("%s: %d cases, four loads each", what, -r);
	free_four(&f);
}

TEST(func_arg)
{
	const insn_t insns[] = {
		LDX(BPF_DW, 2, 1, SLOT_N * 8),
		LDX(BPF_DW, 7, 1, SLOT_SEL * 8),
		MOV(0, SENTINEL), STX(BPF_DW, 10, 0, -8),
		A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -8),
		CALL(BPF_FUNC_get_func_arg),
		JK(BPF_JEQ, 7, 0, 1),
		LDX(BPF_DW, 0, 10, -8),
		EXIT(),
	};

	sweep_helper(_metadata, insns, NR_INSNS(insns), FTRAMP_BPF_PROG_FENTRY,
		     BPF_FUNC_get_func_arg, "get_func_arg");
}

TEST(func_ret)
{
	const insn_t insns[] = {
		LDX(BPF_DW, 7, 1, SLOT_SEL * 8),
		MOV(0, SENTINEL), STX(BPF_DW, 10, 0, -8),
		A64X(BPF_MOV, 2, 10), A64K(BPF_ADD, 2, -8),
		CALL(BPF_FUNC_get_func_ret),
		JK(BPF_JEQ, 7, 0, 1),
		LDX(BPF_DW, 0, 10, -8),
		EXIT(),
	};

	sweep_helper(_metadata, insns, NR_INSNS(insns), FTRAMP_BPF_PROG_FEXIT,
		     BPF_FUNC_get_func_ret, "get_func_ret");
}

/* The one-load helpers: arg_cnt, ip, cookie, each summed into R0. */
TEST(func_arg_cnt_ip_cookie)
{
	const insn_t insns[] = {
		A64X(BPF_MOV, 6, 1),
		CALL(BPF_FUNC_get_func_arg_cnt),
		A64X(BPF_MOV, 7, 0), A64K(BPF_LSH, 7, 40),
		A64X(BPF_MOV, 1, 6),
		CALL(BPF_FUNC_get_func_ip),
		A64X(BPF_ADD, 7, 0), A64K(BPF_LSH, 7, 8),
		A64X(BPF_MOV, 1, 6),
		CALL(BPF_FUNC_get_attach_cookie),
		A64X(BPF_ADD, 0, 7),
		EXIT(),
	};
	struct four f = { 0 };
	int r;

	ASSERT_EQ(0, load_four(&f, insns, NR_INSNS(insns),
			       FTRAMP_BPF_PROG_FEXIT, NULL, 0));
	expect_inlined(_metadata, &f, BPF_FUNC_get_func_arg_cnt);
	expect_inlined(_metadata, &f, BPF_FUNC_get_func_ip);
	expect_inlined(_metadata, &f, BPF_FUNC_get_attach_cookie);
	r = sweep(&f, "arg_cnt/ip/cookie", 1);
	EXPECT_GT(0, r);
	free_four(&f);
}

/*
 * Jumps over, out of and back across inlined sequences, and a
 * bpf-to-bpf call whose callee moved behind them: with ctx[SLOT_SKIP]
 * the first call is jumped over; a bounded loop runs the second one
 * three times; the subprogram (after both) has one of its own.
 */
TEST(jumps_over_inlined_calls)
{
	const insn_t insns[] = {
		/* 0 */ A64X(BPF_MOV, 6, 1),
		MOV(0, 100),
		LDX(BPF_DW, 2, 1, SLOT_SKIP * 8),
		JK(BPF_JNE, 2, 0, 4),			/* over the call */
		LDX(BPF_DW, 2, 6, SLOT_N * 8),
		A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -8),
		CALL(BPF_FUNC_get_func_arg),
		/* 8 */ A64X(BPF_MOV, 8, 0),		/* the jump's target */
		MOV(9, 3),
		/* 10: loop */ A64X(BPF_MOV, 1, 6),
		CALL(BPF_FUNC_get_func_arg_cnt),
		A64X(BPF_ADD, 8, 0),
		A64K(BPF_SUB, 9, 1),
		JK(BPF_JNE, 9, 0, -5),			/* back to 10 */
		A64X(BPF_MOV, 1, 6),
		CALLREL(3),				/* sub at 20 */
		A64K(BPF_LSH, 8, 16),
		A64X(BPF_ADD, 0, 8),
		EXIT(),
		/* 20: sub(ctx) */ MOV(2, 0),
		A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -8),
		CALL(BPF_FUNC_get_func_arg),
		JK(BPF_JNE, 0, 0, 1),
		LDX(BPF_DW, 0, 10, -8),
		EXIT(),
	};
	struct four f = { 0 };
	int bad = 0;

	ASSERT_EQ(0, load_four(&f, insns, NR_INSNS(insns),
			       FTRAMP_BPF_PROG_FENTRY, NULL, 0));
	expect_inlined(_metadata, &f, BPF_FUNC_get_func_arg);
	expect_inlined(_metadata, &f, BPF_FUNC_get_func_arg_cnt);
	expect_orig_idx(_metadata, f.p[0][1]);
	for (size_t a = 0; a < NR_INSNS(nr_argss); a++)
	for (size_t x = 0; x < NR_INSNS(ns); x++)
	for (int skip = 0; skip < 2; skip++)
		bad += run_ctx_four(&f, "jumps", FTRAMP_TRAMP_FENTRY,
				    nr_argss[a], 0, ns[x], 0, skip);
	EXPECT_EQ(0, bad);
	/* worked by hand: skipped, 3 args: (100 + 3 * 3) << 16 + ctx[0] */
	{
		struct tctx t;
		uint64_t *ctx = tctx_init(&t, FTRAMP_TRAMP_FENTRY, 3, 0);

		ctx[SLOT_SKIP] = 1;
		EXPECT_EQ((109ull << 16) + 0x1000,
			  ftramp_bpf_program__handler(f.p[1][1])(ctx));
	}
	free_four(&f);
}

/* ------------------------------------------------------------------------
 * ARRAY lookups
 */

/*
 * Raw: the key is the data's first u32; r0 = the value's u64 at @off,
 * or 0xdead for NULL.
 */
static void array_lookup_case(struct __test_metadata *_metadata,
			      uint32_t value_size, uint32_t max_entries,
			      int16_t off)
{
	const insn_t insns[] = {
		A64X(BPF_MOV, 2, 1),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 0),
		I(0, 0, 0, 0, 0),
		CALL(BPF_FUNC_map_lookup_elem),
		JK(BPF_JEQ, 0, 0, 2),
		LDX(BPF_DW, 0, 0, off),
		EXIT(),
		MOV(0, 0xdead),
		EXIT(),
	};
	const uint32_t keys[] = {
		0, 1, max_entries - 1, max_entries, max_entries + 1,
		0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu,
	};
	struct ftramp_bpf_map *m = ftramp_bpf_map__create(
		BPF_MAP_TYPE_ARRAY, "arr", 4, value_size, max_entries, NULL);
	uint8_t val[64];
	struct four f = { 0 };
	int bad = 0;

	ASSERT_NE(NULL, m);
	ASSERT_LE(value_size, sizeof(val));
	for (uint32_t k = 0; k < max_entries; k++) {
		for (uint32_t b = 0; b < value_size; b++)
			val[b] = (uint8_t)(k * 31 + b + 1);
		ASSERT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, val,
							 value_size, 0));
	}
	ASSERT_EQ(0, load_four(&f, insns, NR_INSNS(insns),
			       FTRAMP_BPF_PROG_RAW, &m, 1));
	expect_inlined(_metadata, &f, BPF_FUNC_map_lookup_elem);
	for (size_t x = 0; x < NR_INSNS(keys); x++) {
		uint64_t r[2][2];

		for (int j = 0; j < 2; j++)
			for (int i = 0; i < 2; i++) {
				FTRAMP_OPTS(ftramp_bpf_test_run_opts, o,
					    .data_in = &keys[x],
					    .data_size_in = 4);

				ASSERT_EQ(0, ftramp_bpf_prog__test_run(
						     f.p[j][i], &o));
				r[j][i] = o.retval;
			}
		if (r[0][1] != r[0][0] || r[1][0] != r[0][0] ||
		    r[1][1] != r[0][0]) {
			TH_LOG("value %u max %u key %#x: call %#llx inlined "
			       "%#llx, jit %#llx / %#llx", value_size,
			       max_entries, keys[x],
			       (unsigned long long)r[0][0],
			       (unsigned long long)r[0][1],
			       (unsigned long long)r[1][0],
			       (unsigned long long)r[1][1]);
			bad++;
		}
		EXPECT_EQ(keys[x] >= max_entries, r[0][0] == 0xdead);
	}
	EXPECT_EQ(0, bad);
	free_four(&f);
	ftramp_bpf_map__free(m);
}

TEST(array_lookup)
{
	array_lookup_case(_metadata, 8, 1, 0);		/* stride 8: lsl */
	array_lookup_case(_metadata, 12, 5, 4);		/* 16: lsl */
	array_lookup_case(_metadata, 24, 7, 16);	/* 24: mul */
	array_lookup_case(_metadata, 40, 300, 32);	/* 40: mul */
}

/* Does run insn of @p come from original insn @o? */
static bool runs_insn(const struct ftramp_bpf_program *p, uint32_t o)
{
	for (size_t k = 0; k < p->run_n; k++)
		if (p->orig_idx[k] == o)
			return true;
	return false;
}

/*
 * `r1 = map ll` right before an inlined lookup goes (the sequence sets
 * r1 itself); a back edge aimed at it lands on the sequence.  Raw: the
 * key is the data's first u32; r0 = twice the value, 0 for NULL.
 */
TEST(dead_map_load_before_lookup)
{
	const insn_t insns[] = {
		A64X(BPF_MOV, 6, 1),
		MOV(7, 0),
		MOV(8, 0),
		A64X(BPF_MOV, 2, 6),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 0),
		I(0, 0, 0, 0, 0),			/* 4, 5: the load */
		CALL(BPF_FUNC_map_lookup_elem),
		JK(BPF_JEQ, 0, 0, 2),
		LDX(BPF_DW, 9, 0, 0),
		A64X(BPF_ADD, 8, 9),
		A64K(BPF_ADD, 7, 1),
		A64X(BPF_MOV, 2, 6),
		JK(BPF_JLT, 7, 2, -9),			/* back to the load */
		A64X(BPF_MOV, 0, 8),
		EXIT(),
	};
	struct ftramp_bpf_map *m = ftramp_bpf_map__create(
		BPF_MAP_TYPE_ARRAY, "arr", 4, 8, 3, NULL);
	struct four f = { 0 };

	ASSERT_NE(NULL, m);
	for (uint32_t k = 0; k < 3; k++) {
		uint64_t v = 100 + k;

		ASSERT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, 0));
	}
	ASSERT_EQ(0, load_four(&f, insns, NR_INSNS(insns),
			       FTRAMP_BPF_PROG_RAW, &m, 1));
	expect_inlined(_metadata, &f, BPF_FUNC_map_lookup_elem);
	for (int j = 0; j < 2; j++) {
		EXPECT_TRUE(runs_insn(f.p[j][0], 4));	/* the call's */
		EXPECT_FALSE(runs_insn(f.p[j][1], 4));	/* dead: gone */
	}
	for (uint32_t key = 0; key < 5; key++)
		for (int j = 0; j < 2; j++)
			for (int i = 0; i < 2; i++) {
				FTRAMP_OPTS(ftramp_bpf_test_run_opts, o,
					    .data_in = &key, .data_size_in = 4);

				ASSERT_EQ(0, ftramp_bpf_prog__test_run(
						     f.p[j][i], &o));
				EXPECT_EQ(key < 3 ? 2 * (100 + key) : 0,
					  o.retval);
			}
	free_four(&f);
	ftramp_bpf_map__free(m);
}

/* Which lookups stay calls: two maps on two paths, per-CPU, hash. */
TEST(array_lookup_not_inlined)
{
	/* r1 = ctx-chosen map (0 or 1); the same lookup call for both */
	const insn_t two_paths[] = {
		A64X(BPF_MOV, 6, 1),
		ST(BPF_W, 10, -4, 0),
		LDX(BPF_B, 3, 6, 0),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 0),
		I(0, 0, 0, 0, 0),
		JK(BPF_JEQ, 3, 0, 2),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 1),
		I(0, 0, 0, 0, 0),
		A64X(BPF_MOV, 2, 10), A64K(BPF_ADD, 2, -4),
		CALL(BPF_FUNC_map_lookup_elem),
		JK(BPF_JEQ, 0, 0, 2),
		LDX(BPF_DW, 0, 0, 0),
		EXIT(),
		MOV(0, 0xdead),
		EXIT(),
	};
	/* the same map reached on two paths: inlined */
	insn_t same[NR_INSNS(two_paths)];
	struct ftramp_bpf_map *a = ftramp_bpf_map__create(
		BPF_MAP_TYPE_ARRAY, "a", 4, 8, 4, NULL);
	struct ftramp_bpf_map *b = ftramp_bpf_map__create(
		BPF_MAP_TYPE_ARRAY, "b", 4, 8, 4, NULL);
	struct ftramp_bpf_map *pc = ftramp_bpf_map__create(
		BPF_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 8, 4, NULL);
	struct ftramp_bpf_map *h = ftramp_bpf_map__create(
		BPF_MAP_TYPE_HASH, "h", 4, 8, 4, NULL);
	struct ftramp_bpf_map *ab[] = { a, b }, *pch[] = { pc, h };
	uint64_t va = 11, vb = 22;
	uint32_t k = 0;
	struct ftramp_bpf_program *p;

	ASSERT_TRUE(a && b && pc && h);
	ASSERT_EQ(0, ftramp_bpf_map__update_elem(a, &k, 4, &va, 8, 0));
	ASSERT_EQ(0, ftramp_bpf_map__update_elem(b, &k, 4, &vb, 8, 0));
	ASSERT_EQ(0, ftramp_bpf_map__update_elem(h, &k, 4, &vb, 8, 0));
	for (int jit = 0; jit < 2; jit++) {
		for (uint8_t sel = 0; sel < 2; sel++) {
			FTRAMP_OPTS(ftramp_bpf_test_run_opts, o,
				    .data_in = &sel, .data_size_in = 1);

			p = load(two_paths, NR_INSNS(two_paths),
				 FTRAMP_BPF_PROG_RAW, jit, true, ab, 2);
			ASSERT_NE(NULL, p);
			EXPECT_EQ(1, calls_to(p, BPF_FUNC_map_lookup_elem));
			ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
			EXPECT_EQ(sel ? 22 : 11, o.retval);
			ftramp_bpf_prog__free(p);
		}
		memcpy(same, two_paths, sizeof(same));
		same[6].imm = 0;	/* map 0 on both paths */
		/* per-CPU array and hash: calls */
		for (int m = 0; m < 2; m++) {
			struct ftramp_bpf_map *mm[] = { pch[m], pch[m] };

			p = load(same, NR_INSNS(same), FTRAMP_BPF_PROG_RAW,
				 jit, true, mm, 2);
			ASSERT_NE(NULL, p);
			EXPECT_EQ(1, calls_to(p, BPF_FUNC_map_lookup_elem));
			ftramp_bpf_prog__free(p);
		}
		p = load(same, NR_INSNS(same), FTRAMP_BPF_PROG_RAW, jit, true,
			 ab, 2);
		ASSERT_NE(NULL, p);
		EXPECT_EQ(0, calls_to(p, BPF_FUNC_map_lookup_elem));
		ftramp_bpf_prog__free(p);
	}
	ftramp_bpf_map__free(a);
	ftramp_bpf_map__free(b);
	ftramp_bpf_map__free(pc);
	ftramp_bpf_map__free(h);
}

/*
 * A static branch behind an inlined call: its site moved in the run
 * form, its key is still the index as written, and flipping it by that
 * key flips the moved site, in both engines.
 */
TEST(static_branch_behind_inlined_call)
{
	const insn_t insns[] = {
		CALL(BPF_FUNC_get_func_arg_cnt),
		I(BPF_JMP | BPF_JA, 0, FTRAMP_BPF_STATIC_BRANCH_JA, 1, 0),
		MOV(0, 77),
		EXIT(),
	};
	struct four f = { 0 };

	ASSERT_EQ(0, load_four(&f, insns, NR_INSNS(insns),
			       FTRAMP_BPF_PROG_FENTRY, NULL, 0));
	expect_inlined(_metadata, &f, BPF_FUNC_get_func_arg_cnt);
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < 2; i++) {
			ftramp_prog_t h = ftramp_bpf_program__handler(f.p[j][i]);
			struct tctx t;
			uint64_t *ctx = tctx_init(&t, FTRAMP_TRAMP_FENTRY, 3, 0);

			ASSERT_EQ(1, f.p[j][i]->nr_sb);
			EXPECT_EQ(1, f.p[j][i]->sb[0].orig);
			EXPECT_EQ(i ? 2 : 1, f.p[j][i]->sb[0].insn);
			EXPECT_EQ(3, h(ctx));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(f.p[j][i],
								     1, 0));
			EXPECT_EQ(77, h(ctx));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(f.p[j][i],
								     1, 1));
			EXPECT_EQ(3, h(ctx));
		}
	free_four(&f);
}

/* A bpf_loop callback behind an inlined call: its address re-aimed. */
TEST(callback_behind_inlined_call)
{
	const insn_t insns[] = {
		CALL(BPF_FUNC_get_func_arg_cnt),
		A64X(BPF_MOV, 1, 0),
		I(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, 6),
		I(0, 0, 0, 0, 0),
		MOV(3, 0), MOV(4, 0),
		CALL(BPF_FUNC_loop),
		A64K(BPF_ADD, 0, 1000),
		EXIT(),
		/* 9: the callback, which runs nr_args times */
		MOV(0, 0), EXIT(),
	};
	struct four f = { 0 };
	int bad = 0;

	ASSERT_EQ(0, load_four(&f, insns, NR_INSNS(insns),
			       FTRAMP_BPF_PROG_FENTRY, NULL, 0));
	expect_inlined(_metadata, &f, BPF_FUNC_get_func_arg_cnt);
	for (size_t a = 0; a < NR_INSNS(nr_argss); a++)
		bad += run_ctx_four(&f, "callback", FTRAMP_TRAMP_FENTRY,
				    nr_argss[a], 0, 0, 0, 0);
	EXPECT_EQ(0, bad);
	{
		struct tctx t;
		uint64_t *ctx = tctx_init(&t, FTRAMP_TRAMP_FENTRY, 12, 0);

		EXPECT_EQ(1012, ftramp_bpf_program__handler(f.p[1][1])(ctx));
	}
	free_four(&f);
}

/* By default the JIT gets the sequences, the interpreter the calls. */
TEST(inlined_for_the_jit_only)
{
	const insn_t insns[] = {
		CALL(BPF_FUNC_get_func_arg_cnt), EXIT(),
	};
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo,
		    .type = FTRAMP_BPF_PROG_FENTRY);
	struct ftramp_bpf_program *p;

	p = ftramp_bpf_prog__load(insns, NR_INSNS(insns), &lo);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, calls_to(p, BPF_FUNC_get_func_arg_cnt));
	EXPECT_EQ(2, ftramp_bpf_program__insn_cnt(p));
	ftramp_bpf_prog__free(p);
	lo.engine = FTRAMP_BPF_ENGINE_JIT;
	p = ftramp_bpf_prog__load(insns, NR_INSNS(insns), &lo);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, calls_to(p, BPF_FUNC_get_func_arg_cnt));
	EXPECT_EQ(3, ftramp_bpf_program__insn_cnt(p));
	EXPECT_EQ(0, p->orig_idx[0]);
	EXPECT_EQ(0, p->orig_idx[1]);
	EXPECT_EQ(1, p->orig_idx[2]);
	ftramp_bpf_prog__free(p);
}

/*
 * _AUTO (ftramp run -e) is rewritten for the JIT, which takes it; a
 * program the JIT refuses runs in the interpreter with its calls back.
 */
TEST(auto_inlined_unless_interpreted)
{
	const insn_t insns[] = {
		CALL(BPF_FUNC_get_func_arg_cnt), EXIT(),
	};
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo,
		    .type = FTRAMP_BPF_PROG_FENTRY,
		    .engine = FTRAMP_BPF_ENGINE_AUTO);
	struct ftramp_run_ctx rc = { .nr_args = 3 };
	uint64_t ctx[2] = { (uintptr_t)&rc, 0 };
	struct ftramp_bpf_program *p;

	p = ftramp_bpf_prog__load(insns, NR_INSNS(insns), &lo);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(FTRAMP_BPF_ENGINE_JIT, ftramp_bpf_program__engine(p));
	EXPECT_EQ(0, calls_to(p, BPF_FUNC_get_func_arg_cnt));
	EXPECT_EQ(3, ftramp_bpf_program__insn_cnt(p));
	EXPECT_EQ(3, ftramp_bpf_program__handler(p)(&ctx[1]));
	ftramp_bpf_prog__free(p);

	ASSERT_EQ(0, ftramp_fault_set("bpf_jit", 1, 1, -EOPNOTSUPP));
	p = ftramp_bpf_prog__load(insns, NR_INSNS(insns), &lo);
	ftramp_fault_clear("bpf_jit");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(FTRAMP_BPF_ENGINE_INTERP, ftramp_bpf_program__engine(p));
	EXPECT_EQ(1, calls_to(p, BPF_FUNC_get_func_arg_cnt));
	EXPECT_EQ(2, ftramp_bpf_program__insn_cnt(p));
	EXPECT_EQ(3, ftramp_bpf_program__handler(p)(&ctx[1]));
	ftramp_bpf_prog__free(p);
}

TEST_HARNESS_MAIN
