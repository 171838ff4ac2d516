// SPDX-License-Identifier: MIT
/*
 * Functions whose calling convention is not what their DWARF or C
 * declaration says (selftests/conventions.mk builds them).
 *
 * Compiler clones (Documentation/models.rst, "Compiler clones").  gcc
 * -O2 makes .isra, .constprop, .part and .cold variants of the functions
 * in selftests/progs/clones.c, and -flto .lto_priv ones of those in
 * clones_lto.c.  Their DWARF subprograms point at the original's
 * parameters, which are not what the clone receives: a clone gets the
 * unknown model unless its own DWARF proves its convention, so tracing
 * it (fentry, fexit, counting) keeps every result bit-exact.  The
 * programs clobber every register a C call may, so a model that saves
 * too little shows as a wrong result.  clones_abi.c makes the same kinds
 * with arguments beyond x0-x7: doubles, floats, long doubles and vectors
 * in q registers (and long double results in q0), more than eight
 * integer or FP arguments (the rest on the stack), a large structure by
 * reference.  clones_nocall.c is one function twice, once marked
 * DW_CC_nocall, which gets the clone rule.
 *
 * Variant PCS (Documentation/sites.rst): a function whose symbol has
 * STO_AARCH64_VARIANT_PCS lets its callers keep q8-q23 live across the
 * call, which a trampoline's handler calls would clobber: refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/progs/clones.h"
#include "selftests/progs/vpcs.h"
#include "selftests/site_bytes.h"

#define LIB	"@libclones.so"
#define LIB_LTO	"@libclones-lto.so"
#define LIB_CLANG "@libclones-clang.so"

/* What a handler may do to the caller-saved registers: all of it. */
static __attribute__((noinline)) void clobber(void)
{
	asm volatile(
		"mov x1, #0x5a5a\n\tmov x2, #0x5a5a\n\tmov x3, #0x5a5a\n\t"
		"mov x4, #0x5a5a\n\tmov x5, #0x5a5a\n\tmov x6, #0x5a5a\n\t"
		"mov x7, #0x5a5a\n\tmov x8, #0x5a5a\n\tmov x9, #0x5a5a\n\t"
		"mov x10, #0x5a5a\n\tmov x11, #0x5a5a\n\tmov x12, #0x5a5a\n\t"
		"mov x13, #0x5a5a\n\tmov x14, #0x5a5a\n\tmov x15, #0x5a5a\n\t"
		"movi v0.16b, #0x5a\n\tmovi v1.16b, #0x5a\n\t"
		"movi v2.16b, #0x5a\n\tmovi v3.16b, #0x5a\n\t"
		"movi v4.16b, #0x5a\n\tmovi v5.16b, #0x5a\n\t"
		"movi v6.16b, #0x5a\n\tmovi v7.16b, #0x5a\n\t"
		"movi v16.16b, #0x5a\n\tmovi v17.16b, #0x5a\n\t"
		"movi v31.16b, #0x5a\n\t"
		::: "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9",
		    "x10", "x11", "x12", "x13", "x14", "x15", "v0", "v1",
		    "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v31",
		    "memory");
}

static uint64_t entries, exits, sra_ok, lto_ok;

static uint64_t on_entry(const uint64_t *ctx)
{
	entries++;
	clobber();
	return 0;
}

/*
 * sra.isra.0 receives (k, p->a, p->c) in x0-x2 and returns a*3 + c*5 + k:
 * the unknown model exposes exactly those registers.
 */
static uint64_t on_exit_sra(const uint64_t *ctx)
{
	uint64_t r;

	exits++;
	if (!ftramp_get_func_ret(ctx, &r) &&
	    r == ctx[1] * 3 + ctx[2] * 5 + ctx[0])
		sra_ok++;
	clobber();
	return 0;
}

/* helper.lto_priv.N has its own, proven model: (long a, long b). */
static uint64_t on_exit_lto(const uint64_t *ctx)
{
	uint64_t r;

	exits++;
	if (!ftramp_get_func_ret(ctx, &r) &&
	    (r == ctx[0] * 31 + ctx[1] || r == ctx[0] * 17 + ctx[1]))
		lto_ok++;
	clobber();
	return 0;
}

static uint64_t on_exit_any(const uint64_t *ctx)
{
	exits++;
	clobber();
	return 0;
}

static const long vec[] = { 3, -9, 27, 1 << 20, -5, 77, 1234567, 8 };

/* Each driver runs its clone twice per call: returns a digest. */
static long run_isra(void)
{
	long h = 0;

	for (long i = -3; i < 5; i++)
		h = h * 31 + cl_isra(i * 1000003, 7 - i);
	return h;
}

static long run_constprop(void)
{
	long h = 0;

	for (long i = -3; i < 5; i++)
		h = h * 31 + cl_constprop(i * 99991, i + 40);
	return h;
}

static long run_part(void)
{
	long h = 0;

	for (long n = 2; n < 10; n++)
		h = h * 31 + cl_part(vec, n % 8 + 1);
	return h;
}

static long run_lto(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + cl_lto_1(i * 7) + cl_lto_2(i * 11);
	return h;
}

static long run_dae(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + cl_dae(i * 5);
	return h;
}

/* Every bit of a double or a long double in a digest. */
static long bits_d(double d)
{
	long b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static long bits_ld(long double d)
{
	long b[2];

	memcpy(b, &d, sizeof(b));
	return b[0] ^ (b[1] * 7);
}

static long run_fsra(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + bits_ld(cl_fsra(i * 0.37, i));
	return h;
}

static long run_fcp(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + bits_ld(cl_fcp(i * 1.5, i * 0.25f));
	return h;
}

static long run_many(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + cl_many(i * 1000003);
	return h;
}

static long run_fmany(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + bits_d(cl_fmany(i * 0.5 + 0.125));
	return h;
}

static long run_bigref(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + cl_bigref(i * 7);
	return h;
}

static long run_part_many(void)
{
	long h = 0;

	for (long n = 2; n < 10; n++)
		h = h * 31 + cl_part_many(vec, n % 8 + 1, n);
	return h;
}

static long run_flto(void)
{
	long h = 0;

	for (long i = -4; i < 4; i++)
		h = h * 31 + bits_d(cl_flto_1(i * 1.25)) +
		    bits_d(cl_flto_2(i * 0.75));
	return h;
}

static long run_nocall(void)
{
	long h = 0;

	for (long i = -8; i < 8; i++)
		h = h * 31 + cl_nocall(i, i + 1, i + 2, i + 3, i + 4, i + 5,
				       i + 6, i + 7, i * 1000003);
	return h;
}

static long run_nocall_twin(void)
{
	long h = 0;

	for (long i = -8; i < 8; i++)
		h = h * 31 + cl_nocall_twin(i, i + 1, i + 2, i + 3, i + 4,
					    i + 5, i + 6, i + 7, i * 1000003);
	return h;
}

struct clone_case {
	const char *site;
	long (*run)(void);
	ftramp_prog_t on_exit;
	unsigned int calls;	/* clone calls per run() */
	bool own_model;		/* DWARF proves its convention */
};

static const struct clone_case cases[] = {
	{ "sra.isra.0" LIB, run_isra, on_exit_sra, 16, false },
	{ "cp.constprop.0" LIB, run_constprop, on_exit_any, 16, false },
	{ "part_sum.part.0" LIB, run_part, on_exit_any, 15, false },
	{ "helper.lto_priv.0" LIB_LTO, run_lto, on_exit_lto, 16, true },
	{ "helper.lto_priv.1" LIB_LTO, run_lto, on_exit_lto, 16, true },
	/* not renamed: its DWARF disagrees with AAPCS64 */
	{ "dae" LIB_CLANG, run_dae, on_exit_any, 16, false },
	/* clones_abi.c: q registers, the stack, a structure by reference */
	{ "fsra.isra.0" LIB, run_fsra, on_exit_any, 16, false },
	{ "fcp.constprop.0" LIB, run_fcp, on_exit_any, 16, false },
	{ "many.isra.0" LIB, run_many, on_exit_any, 16, false },
	{ "fmany.constprop.0" LIB, run_fmany, on_exit_any, 16, false },
	{ "bigref.constprop.0" LIB, run_bigref, on_exit_any, 16, false },
	{ "part_many.part.0" LIB, run_part_many, on_exit_any, 15, false },
	{ "fhelper.lto_priv.0" LIB_LTO, run_flto, on_exit_any, 16, true },
	{ "fhelper.lto_priv.1" LIB_LTO, run_flto, on_exit_any, 16, true },
	/* DW_CC_nocall: the clone rule (its stack argument is unproven) */
	{ "cl_nocall" LIB, run_nocall, on_exit_any, 16, false },
	{ "cl_nocall_twin" LIB, run_nocall_twin, on_exit_any, 16, true },
};

static bool nm_has(const char *lib, const char *sym)
{
	char cmd[512], line[512];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s --defined-only '%s/%s'", CROSS_NM,
		 PROGS_DIR, lib);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		char *name = strrchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		if (name && !strcmp(name + 1, sym))
			found = true;
	}
	pclose(p);
	return found;
}

/* The build really made every kind (else the other tests prove nothing). */
TEST(compiler_made_each_clone_kind)
{
	EXPECT_TRUE(nm_has("libclones.so", "sra.isra.0"));
	EXPECT_TRUE(nm_has("libclones.so", "cp.constprop.0"));
	EXPECT_TRUE(nm_has("libclones.so", "part_sum.part.0"));
	EXPECT_TRUE(nm_has("libclones.so", "cl_cold.cold"));
	EXPECT_TRUE(nm_has("libclones-lto.so", "helper.lto_priv.0"));
	EXPECT_TRUE(nm_has("libclones-lto.so", "helper.lto_priv.1"));
	EXPECT_TRUE(nm_has("libclones.so", "fsra.isra.0"));
	EXPECT_TRUE(nm_has("libclones.so", "fcp.constprop.0"));
	EXPECT_TRUE(nm_has("libclones.so", "many.isra.0"));
	EXPECT_TRUE(nm_has("libclones.so", "fmany.constprop.0"));
	EXPECT_TRUE(nm_has("libclones.so", "bigref.constprop.0"));
	EXPECT_TRUE(nm_has("libclones.so", "part_many.part.0"));
	EXPECT_TRUE(nm_has("libclones.so", "cl_fcold.cold"));
	EXPECT_TRUE(nm_has("libclones-lto.so", "fhelper.lto_priv.0"));
	EXPECT_TRUE(nm_has("libclones-lto.so", "fhelper.lto_priv.1"));
}

/* The DW_CC_nocall mark is in libclones.so's DWARF, on cl_nocall only. */
TEST(nocall_is_marked)
{
	char cmd[512], line[512], name[64] = "";
	int marked = 0, marked_twin = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s --debug-dump=info '%s/libclones.so'",
		 CROSS_READELF, PROGS_DIR);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	/* readelf prints the attribute before the subprogram's name */
	while (fgets(line, sizeof(line), p)) {
		char *n = strstr(line, "DW_AT_name");

		if (strstr(line, "DW_TAG_"))
			name[0] = '\0';
		if (strstr(line, "DW_AT_calling_convention") &&
		    strstr(line, "(nocall)"))
			strcpy(name, "?");
		if (n && !strcmp(name, "?")) {
			if (strstr(n, ": cl_nocall\n"))
				marked++;
			if (strstr(n, ": cl_nocall_twin\n"))
				marked_twin++;
			name[0] = '\0';
		}
	}
	pclose(p);
	EXPECT_EQ(1, marked);
	EXPECT_EQ(0, marked_twin);
}

#define EXPECT_ERR(err, expr) do {					\
	errno = 0;							\
	EXPECT_NULL(expr);						\
	EXPECT_EQ(err, errno);						\
} while (0)

static int site_flags(const char *name, uint32_t *flags)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	const struct ftramp_site *s;

	s = ftramp_sites__find_name(ftramp_sites__get(), name);
	if (!s || ftramp_site__info(s, &info))
		return -ENOENT;
	*flags = info.flags;
	return info.status;
}

/* The site table marks clones; the .cold part has no entry to patch. */
TEST(site_table_marks_clones)
{
	uint32_t flags;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(FTRAMP_SITE_OK, site_flags(cases[i].site, &flags));
		/* a dot in the symbol, before "@lib" */
		EXPECT_EQ(strcspn(cases[i].site, ".") <
			  strcspn(cases[i].site, "@"),
			  !!(flags & FTRAMP_SITE_F_CLONE));
	}
	ASSERT_EQ(FTRAMP_SITE_OK, site_flags("cl_isra" LIB, &flags));
	EXPECT_FALSE(flags & FTRAMP_SITE_F_CLONE);
	EXPECT_EQ(-ENOENT, site_flags("cl_cold.cold" LIB, &flags));
	EXPECT_ERR(ENOENT, ftramp_attach("cl_cold.cold" LIB, FTRAMP_FENTRY,
					 on_entry, NULL));
}

/*
 * The original's model is refused (-EPROTO) where the DWARF does not
 * prove the clone's convention; an .lto_priv clone, whose parameters
 * all sit in their AAPCS64 registers at entry, keeps its own.
 */
TEST(clone_models)
{
	char names[FTRAMP_MAX_ARGS][FTRAMP_PARAM_NAME_MAX];
	struct ftramp_dwarf_opts o = { .sz = sizeof(o), .param_names = names };
	struct ftramp_func_model m;

	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("sra.isra.0" LIB, &m, NULL));
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("cp.constprop.0" LIB, &m,
						    NULL));
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("part_sum.part.0" LIB, &m,
						    NULL));
	/*
	 * clang's dead argument elimination keeps the name: dae() takes b
	 * in x0 while its DWARF lists (unused, b), b in x0, not AAPCS64's x1.
	 */
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("dae" LIB_CLANG, &m, NULL));
	/* Arguments beyond x0-x7 do not change the rule. */
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("fsra.isra.0" LIB, &m,
						    NULL));
	/* (a float32x4_t argument: no DWARF model at all, clone or not) */
	EXPECT_EQ(-EOPNOTSUPP, ftramp_model__from_dwarf("fcp.constprop.0" LIB,
							&m, NULL));
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("many.isra.0" LIB, &m,
						    NULL));
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("fmany.constprop.0" LIB,
						    &m, NULL));
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("bigref.constprop.0" LIB,
						    &m, NULL));
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("part_many.part.0" LIB,
						    &m, NULL));
	/*
	 * DW_CC_nocall: every parameter must be proven in its register; a8
	 * is on the stack, which DWARF cannot prove.  The unmarked twin,
	 * same code, keeps its model.
	 */
	EXPECT_EQ(-EPROTO, ftramp_model__from_dwarf("cl_nocall" LIB, &m, NULL));
	ASSERT_EQ(0, ftramp_model__from_dwarf("cl_nocall_twin" LIB, &m, NULL));
	EXPECT_EQ(9, m.nr_args);
	/* The original functions keep theirs. */
	ASSERT_EQ(0, ftramp_model__from_dwarf("cl_isra" LIB, &m, NULL));
	EXPECT_EQ(2, m.nr_args);
	ASSERT_EQ(0, ftramp_model__from_dwarf("cl_fcold" LIB, &m, NULL));
	EXPECT_EQ(2, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_FLOAT, m.ret.cls);
	EXPECT_EQ(16, m.ret.size);

	/* Split into hot and cold parts: DW_AT_ranges, entry in the first. */
	ASSERT_EQ(0, ftramp_model__from_dwarf("cl_cold" LIB, &m, NULL));
	EXPECT_EQ(2, m.nr_args);

	ASSERT_EQ(0, ftramp_model__from_dwarf("helper.lto_priv.0" LIB_LTO, &m,
					      &o));
	ASSERT_EQ(2, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_INT, m.args[0].cls);
	EXPECT_EQ(8, m.args[0].size);
	EXPECT_TRUE(m.args[1].flags & FTRAMP_TYPE_SIGNED);
	EXPECT_EQ(FTRAMP_TYPE_INT, m.ret.cls);
	EXPECT_STREQ("a", names[0]);
	EXPECT_STREQ("b", names[1]);

	/* FP arguments in their own registers: d0, s1, q2. */
	ASSERT_EQ(0, ftramp_model__from_dwarf("fhelper.lto_priv.1" LIB_LTO, &m,
					      NULL));
	ASSERT_EQ(3, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_FLOAT, m.args[0].cls);
	EXPECT_EQ(4, m.args[1].size);
	EXPECT_EQ(16, m.args[2].size);
}

enum mode { M_FENTRY, M_FEXIT, M_BOTH, M_COUNT, M_MAX };

/* Trace one clone in one mode over one path; results as untraced. */
static void trace_case(struct __test_metadata *_metadata,
		      const struct clone_case *c, enum mode mode, bool far)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .force_far = far);
	struct ftramp_link *in = NULL, *out = NULL, *cnt = NULL;
	long want = c->run(), got;

	entries = exits = sra_ok = lto_ok = 0;
	if (mode == M_COUNT) {
		cnt = ftramp_attach(c->site, FTRAMP_COUNT, NULL, &opts);
		if (!cnt)
			TH_LOG("%s: %s", c->site, strerror(errno));
		ASSERT_NE(NULL, cnt);
	}
	if (mode == M_FENTRY || mode == M_BOTH) {
		in = ftramp_attach(c->site, FTRAMP_FENTRY, on_entry, &opts);
		if (!in)
			TH_LOG("%s: %s", c->site, strerror(errno));
		ASSERT_NE(NULL, in);
		EXPECT_EQ(c->own_model, ftramp_link__model(in) != NULL);
	}
	if (mode == M_FEXIT || mode == M_BOTH) {
		out = ftramp_attach(c->site, FTRAMP_FEXIT, c->on_exit, &opts);
		if (!out)
			TH_LOG("%s: %s", c->site, strerror(errno));
		ASSERT_NE(NULL, out);
		EXPECT_EQ(c->own_model, ftramp_link__model(out) != NULL);
	}
	got = c->run();
	EXPECT_EQ(mode == M_COUNT ? c->calls : 0, ftramp_link__count(cnt));
	EXPECT_EQ(0, ftramp_link__destroy(in));
	EXPECT_EQ(0, ftramp_link__destroy(out));
	EXPECT_EQ(0, ftramp_link__destroy(cnt));
	if (want != got)
		TH_LOG("%s mode %d far %d: %ld, untraced %ld", c->site, mode,
		       far, got, want);
	EXPECT_EQ(want, got);
	EXPECT_EQ(mode == M_FENTRY || mode == M_BOTH ? c->calls : 0, entries);
	EXPECT_EQ(mode == M_FEXIT || mode == M_BOTH ? c->calls : 0, exits);
	if (out && c->on_exit == on_exit_sra)
		EXPECT_EQ(c->calls, sra_ok);
	if (out && c->on_exit == on_exit_lto)
		EXPECT_EQ(c->calls, lto_ok);
	/* Untraced again: the same. */
	EXPECT_EQ(want, c->run());
}

TEST(trace_clones_near)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int mode = M_FENTRY; mode < M_MAX; mode++)
			trace_case(_metadata, &cases[i], mode, false);
}

TEST(trace_clones_far)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int mode = M_FENTRY; mode < M_MAX; mode++)
			trace_case(_metadata, &cases[i], mode, true);
}

/* The parent of a .cold part, through its cold path, traced exactly. */
TEST(trace_through_cold_part)
{
	struct ftramp_link *in, *out;
	long want[2] = { cl_cold(5, 3), cl_cold(-5, 3) };

	in = ftramp_attach("cl_cold" LIB, FTRAMP_FENTRY, on_entry, NULL);
	out = ftramp_attach("cl_cold" LIB, FTRAMP_FEXIT, on_exit_any, NULL);
	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, ftramp_link__model(in));
	entries = exits = 0;
	EXPECT_EQ(want[0], cl_cold(5, 3));
	EXPECT_EQ(want[1], cl_cold(-5, 3));
	EXPECT_EQ(2, entries);
	EXPECT_EQ(2, exits);
	EXPECT_EQ(0, ftramp_link__destroy(in));
	EXPECT_EQ(0, ftramp_link__destroy(out));
}

/* The same with FP arguments and a long double result in q0. */
TEST(trace_through_fp_cold_part)
{
	struct ftramp_link *in, *out;
	long double want[2] = { cl_fcold(5.5, 3.25L), cl_fcold(-5.5, 3.25L) };
	long double got[2];

	in = ftramp_attach("cl_fcold" LIB, FTRAMP_FENTRY, on_entry, NULL);
	out = ftramp_attach("cl_fcold" LIB, FTRAMP_FEXIT, on_exit_any, NULL);
	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, ftramp_link__model(in));
	entries = exits = 0;
	got[0] = cl_fcold(5.5, 3.25L);
	got[1] = cl_fcold(-5.5, 3.25L);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
	EXPECT_EQ(2, entries);
	EXPECT_EQ(2, exits);
	EXPECT_EQ(0, ftramp_link__destroy(in));
	EXPECT_EQ(0, ftramp_link__destroy(out));
}

/* The compiler marks the symbol (readelf shows it as [VARIANT_PCS]). */
TEST(vector_pcs_symbol_is_marked)
{
	char cmd[512], line[512];
	bool marked = false, plain = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -sW '%s/libvpcs.so'", CROSS_READELF,
		 PROGS_DIR);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, " vp_axpy\n") && strstr(line, "VARIANT_PCS"))
			marked = true;
		if (strstr(line, " vp_plain\n") && !strstr(line, "VARIANT_PCS"))
			plain = true;
	}
	pclose(p);
	EXPECT_TRUE(marked);
	EXPECT_TRUE(plain);
}

static uint64_t on_entry_plain(const uint64_t *ctx)
{
	entries++;
	return 0;
}

/*
 * Refused at attach with -EOPNOTSUPP, the site untouched, listed with
 * its reason; the plain function of the same object still traces.
 */
TEST(vector_pcs_refused)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	const struct ftramp_site *s;
	struct site_bytes before, after;
	struct ftramp_link *l;
	float64x2_t r;

	s = ftramp_sites__find_name(ftramp_sites__get(), "vp_axpy@libvpcs.so");
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, ftramp_site__info(s, &info));
	EXPECT_EQ(FTRAMP_SITE_VARIANT_PCS, info.status);
	EXPECT_NE(NULL, strstr(info.reason, "variant PCS"));

	before = bytes_of("vp_axpy@libvpcs.so");
	for (int kind = FTRAMP_FENTRY; kind <= FTRAMP_FMOD_RET; kind++)
		EXPECT_ERR(EOPNOTSUPP, ftramp_attach("vp_axpy@libvpcs.so", kind,
						     on_entry_plain, NULL));
	after = bytes_of("vp_axpy@libvpcs.so");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	EXPECT_EQ(A64_NOP, after.a);
	EXPECT_EQ(A64_NOP, after.b);
	/* A glob over the whole object prepares only the plain function. */
	EXPECT_EQ(1, ftramp_sites__prepare(ftramp_sites__get(),
					   "vp_*@libvpcs.so"));
	after = bytes_of("vp_axpy@libvpcs.so");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	r = vp_axpy(vdupq_n_f64(2.0), vdupq_n_f64(3.0), vdupq_n_f64(1.0));
	EXPECT_EQ(7.0, vgetq_lane_f64(r, 0));

	entries = 0;
	l = ftramp_attach("vp_plain@libvpcs.so", FTRAMP_FENTRY, on_entry_plain,
			  NULL);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(13, vp_plain(4));
	EXPECT_EQ(1, entries);
	EXPECT_EQ(0, ftramp_link__destroy(l));
}

TEST_HARNESS_MAIN
