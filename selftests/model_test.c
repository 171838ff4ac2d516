// SPDX-License-Identifier: MIT
/*
 * Function models and the prototype parser (trampoline/model*.c).
 *
 * Layouts are checked against the compiler that builds this test: each
 * entry of the layout table is a real C type, so its sizeof/_Alignof is
 * what GCC or clang says, and the parser must agree.  Classification
 * (HFA or not, by reference or not) is checked against AAPCS64 by hand
 * here, and against the real calling convention by abi_diff_test.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <ftramp/ftramp.h>
#include "trampoline/model.h"
#include "harness.h"

#define T_INT(sz, fl)	{ .cls = FTRAMP_TYPE_INT, .size = sz, .flags = fl }
#define T_FP(sz)	{ .cls = FTRAMP_TYPE_FLOAT, .size = sz }
#define T_HFA(n, es)	{ .cls = FTRAMP_TYPE_HFA, .size = (n) * (es), \
			  .nmemb = n, .elem_size = es }
#define T_STRUCT(sz, al) { .cls = FTRAMP_TYPE_STRUCT, .size = sz, .align = al }

static const struct ftramp_type t_i32 = T_INT(4, FTRAMP_TYPE_SIGNED);
static const struct ftramp_type t_u64 = T_INT(8, 0);
static const struct ftramp_type t_dbl = T_FP(8);

static struct ftramp_func_model model_of(int n, const struct ftramp_type *t)
{
	struct ftramp_func_model m;

	memset(&m, 0, sizeof(m));
	m.ret = t_i32;
	m.nr_args = n;
	for (int i = 0; i < n && i < FTRAMP_MAX_ARGS; i++)
		m.args[i] = t[i];
	return m;
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

static const struct {
	const char *what;
	struct ftramp_type t;
	bool as_ret;
	int err;
} type_cases[] = {
	{ "int8", T_INT(1, FTRAMP_TYPE_SIGNED), false, 0 },
	{ "u16", T_INT(2, 0), false, 0 },
	{ "int128", T_INT(16, FTRAMP_TYPE_SIGNED), false, 0 },
	{ "string", T_INT(8, FTRAMP_TYPE_POINTER | FTRAMP_TYPE_STRING),
	  false, 0 },
	{ "bool", T_INT(1, FTRAMP_TYPE_BOOL), false, 0 },
	{ "float", T_FP(4), false, 0 },
	{ "quad", T_FP(16), false, 0 },
	{ "hfa1", T_HFA(1, 4), false, 0 },
	{ "hfa4q", T_HFA(4, 16), false, 0 },
	{ "struct3", T_STRUCT(3, 1), false, 0 },
	{ "struct natural", T_STRUCT(12, 0), false, 0 },
	{ "struct big", T_STRUCT(1000, 8), false, 0 },
	{ "void ret", { .cls = FTRAMP_TYPE_VOID }, true, 0 },
	{ "void arg", { .cls = FTRAMP_TYPE_VOID }, false, -EINVAL },
	{ "void sized", { .cls = FTRAMP_TYPE_VOID, .size = 4 }, true, -EINVAL },
	{ "bad class", { .cls = 9, .size = 4 }, false, -EINVAL },
	{ "bad flag", T_INT(4, 1u << 9), false, -EINVAL },
	{ "int3", T_INT(3, 0), false, -EINVAL },
	{ "int0", T_INT(0, 0), false, -EINVAL },
	{ "int32b", T_INT(32, 0), false, -EINVAL },
	{ "int misaligned", { .cls = FTRAMP_TYPE_INT, .size = 4, .align = 2 },
	  false, -EINVAL },
	{ "ptr4", T_INT(4, FTRAMP_TYPE_POINTER), false, -EINVAL },
	{ "signed ptr", T_INT(8, FTRAMP_TYPE_POINTER | FTRAMP_TYPE_SIGNED),
	  false, -EINVAL },
	{ "string no ptr", T_INT(8, FTRAMP_TYPE_STRING), false, -EINVAL },
	{ "bool4", T_INT(4, FTRAMP_TYPE_BOOL), false, -EINVAL },
	{ "signed bool", T_INT(1, FTRAMP_TYPE_BOOL | FTRAMP_TYPE_SIGNED),
	  false, -EINVAL },
	{ "int nmemb", { .cls = FTRAMP_TYPE_INT, .size = 4, .nmemb = 1 },
	  false, -EINVAL },
	{ "half", T_FP(2), false, -EINVAL },
	{ "signed float", { .cls = FTRAMP_TYPE_FLOAT, .size = 4,
			    .flags = FTRAMP_TYPE_SIGNED }, false, -EINVAL },
	{ "hfa0", T_HFA(0, 4), false, -EINVAL },
	{ "hfa5", T_HFA(5, 8), false, -EINVAL },
	{ "hfa elem 2", T_HFA(2, 2), false, -EINVAL },
	{ "hfa size", { .cls = FTRAMP_TYPE_HFA, .size = 12, .nmemb = 2,
			.elem_size = 4 }, false, -EINVAL },
	{ "hfa align", { .cls = FTRAMP_TYPE_HFA, .size = 8, .nmemb = 2,
			 .elem_size = 4, .align = 8 }, false, -EINVAL },
	{ "struct0", T_STRUCT(0, 1), false, -EINVAL },
	{ "struct align 3", T_STRUCT(6, 3), false, -EINVAL },
	{ "struct align 32", T_STRUCT(32, 32), false, -EINVAL },
	{ "struct size % align", T_STRUCT(12, 8), false, -EINVAL },
	{ "struct flags", { .cls = FTRAMP_TYPE_STRUCT, .size = 8,
			    .flags = FTRAMP_TYPE_SIGNED }, false, -EINVAL },
};

TEST(validate_types)
{
	for (size_t i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++) {
		struct ftramp_func_model m = model_of(0, NULL);

		if (type_cases[i].as_ret) {
			m.ret = type_cases[i].t;
		} else {
			m.nr_args = 1;
			m.args[0] = type_cases[i].t;
		}
		TH_LOG("%s", type_cases[i].what);
		EXPECT_EQ(type_cases[i].err, ftramp_model__validate(&m));
		/* the same type as a result, where a result may have it */
		if (!type_cases[i].as_ret && type_cases[i].err) {
			m = model_of(0, NULL);
			m.ret = type_cases[i].t;
			if (type_cases[i].t.cls != FTRAMP_TYPE_VOID)
				EXPECT_EQ(-EINVAL, ftramp_model__validate(&m));
		}
	}
}

TEST(validate_model_errors)
{
	struct ftramp_func_model m = model_of(1, &t_i32);

	EXPECT_EQ(-EINVAL, ftramp_model__validate(NULL));
	EXPECT_EQ(0, ftramp_model__validate(&m));
	m.flags = 0x80;
	EXPECT_EQ(-EINVAL, ftramp_model__validate(&m));
	m.flags = FTRAMP_MODEL_VARIADIC;
	EXPECT_EQ(-EOPNOTSUPP, ftramp_model__validate(&m));
	/* malformed beats unsupported */
	m.args[0].size = 3;
	EXPECT_EQ(-EINVAL, ftramp_model__validate(&m));
	m = model_of(1, &t_i32);
	m.nr_args = FTRAMP_MAX_ARGS + 1;
	EXPECT_EQ(-E2BIG, ftramp_model__validate(&m));
	m.nr_args = 255;
	EXPECT_EQ(-E2BIG, ftramp_model__validate(&m));
}

/* The documented limits: 8 GP + 8 FP registers + 8 stack slots fit. */
TEST(validate_limits)
{
	struct ftramp_type t[FTRAMP_MAX_ARGS];
	struct ftramp_type s16 = T_STRUCT(16, 8);
	struct ftramp_func_model m;
	int i;

	for (i = 0; i < 8; i++) {
		t[i] = t_u64;
		t[8 + i] = t_dbl;
		t[16 + i] = t_i32;
	}
	m = model_of(24, t);
	EXPECT_EQ(0, ftramp_model__validate(&m));
	EXPECT_EQ(64, ftramp_model__stack_size(&m));
	EXPECT_EQ(24, ftramp_model__nr_ctx_args(&m));

	/* 16 stack slots exactly: 4 pairs in x0-x7, 8 on the stack */
	for (i = 0; i < 12; i++)
		t[i] = s16;
	m = model_of(12, t);
	EXPECT_EQ(0, ftramp_model__validate(&m));
	EXPECT_EQ(FTRAMP_MAX_STACK_ARGS * 8, ftramp_model__stack_size(&m));
	/* one more slot is too many */
	t[12] = t_u64;
	m = model_of(13, t);
	EXPECT_EQ(-E2BIG, ftramp_model__validate(&m));
	EXPECT_EQ(FTRAMP_MAX_STACK_ARGS * 8 + 8, ftramp_model__stack_size(&m));
	/* 25 arguments */
	for (i = 0; i < FTRAMP_MAX_ARGS; i++)
		t[i] = t_dbl;
	m = model_of(FTRAMP_MAX_ARGS, t);
	EXPECT_EQ(0, ftramp_model__validate(&m));
	m.nr_args++;
	EXPECT_EQ(-E2BIG, ftramp_model__validate(&m));
}

/* ------------------------------------------------------------------ */
/* ctx layout and widening                                              */

TEST(ctx_slots)
{
	static const struct {
		struct ftramp_type t;
		int slots;
		bool by_ref;
	} c[] = {
		{ T_INT(1, FTRAMP_TYPE_SIGNED), 1, false },
		{ T_INT(8, 0), 1, false },
		{ T_INT(16, 0), 2, false },
		{ T_FP(4), 1, false },
		{ T_FP(16), 2, false },
		{ T_HFA(1, 4), 1, false },
		{ T_HFA(3, 4), 2, false },
		{ T_HFA(4, 8), 4, false },
		{ T_HFA(4, 16), 8, false },
		{ T_STRUCT(3, 1), 1, false },
		{ T_STRUCT(12, 4), 2, false },
		{ T_STRUCT(16, 16), 2, false },
		{ T_STRUCT(17, 1), 1, true },
		{ T_STRUCT(4096, 8), 1, true },
		{ { .cls = FTRAMP_TYPE_VOID }, 0, false },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EXPECT_EQ(c[i].slots, ftramp_type__ctx_slots(&c[i].t));
		EXPECT_EQ(c[i].by_ref, ftramp_type__by_ref(&c[i].t));
	}
	EXPECT_EQ(-EINVAL, ftramp_type__ctx_slots(NULL));
	EXPECT_FALSE(ftramp_type__by_ref(NULL));
}

TEST(ctx_offsets_and_result)
{
	struct ftramp_type t[] = {
		T_INT(1, 0), T_STRUCT(12, 4), T_HFA(3, 8), T_STRUCT(40, 8),
		T_INT(16, 0),
	};
	struct ftramp_func_model m = model_of(5, t);

	EXPECT_EQ(0, ftramp_model__arg_ctx_off(&m, 0));
	EXPECT_EQ(1, ftramp_model__arg_ctx_off(&m, 1));
	EXPECT_EQ(3, ftramp_model__arg_ctx_off(&m, 2));
	EXPECT_EQ(6, ftramp_model__arg_ctx_off(&m, 3));
	EXPECT_EQ(7, ftramp_model__arg_ctx_off(&m, 4));
	EXPECT_EQ(9, ftramp_model__arg_ctx_off(&m, 5));
	EXPECT_EQ(-EINVAL, ftramp_model__arg_ctx_off(&m, 6));
	EXPECT_EQ(-EINVAL, ftramp_model__arg_ctx_off(NULL, 0));
	EXPECT_EQ(9, ftramp_model__nr_ctx_args(&m));
	EXPECT_EQ(1, ftramp_model__nr_ctx_ret(&m));
	EXPECT_FALSE(ftramp_model__ret_indirect(&m));

	m.ret = (struct ftramp_type)T_STRUCT(24, 8);
	EXPECT_EQ(1, ftramp_model__nr_ctx_ret(&m));	/* the x8 pointer */
	EXPECT_TRUE(ftramp_model__ret_indirect(&m));
	m.ret = (struct ftramp_type)T_HFA(4, 8);	/* v0-v3, not x8 */
	EXPECT_EQ(4, ftramp_model__nr_ctx_ret(&m));
	EXPECT_FALSE(ftramp_model__ret_indirect(&m));
	m.ret = (struct ftramp_type){ .cls = FTRAMP_TYPE_VOID };
	EXPECT_EQ(0, ftramp_model__nr_ctx_ret(&m));
	EXPECT_EQ(-EINVAL, ftramp_model__nr_ctx_ret(NULL));
	EXPECT_EQ(-EINVAL, ftramp_model__nr_ctx_args(NULL));
}

TEST(widen)
{
	const uint64_t junk = 0xdeadbeef00000000ull;
	struct ftramp_type s8 = T_INT(1, FTRAMP_TYPE_SIGNED);
	struct ftramp_type u8 = T_INT(1, 0);
	struct ftramp_type s16 = T_INT(2, FTRAMP_TYPE_SIGNED);
	struct ftramp_type u16 = T_INT(2, 0);
	struct ftramp_type s32 = T_INT(4, FTRAMP_TYPE_SIGNED);
	struct ftramp_type u32 = T_INT(4, 0);
	struct ftramp_type f32 = T_FP(4), hfa = T_HFA(2, 4);

	EXPECT_EQ(0xffffffffffffff80ull, ftramp_type__widen(&s8, junk | 0x80));
	EXPECT_EQ(0x7full, ftramp_type__widen(&s8, junk | 0x7f));
	EXPECT_EQ(0x80ull, ftramp_type__widen(&u8, junk | 0x80));
	EXPECT_EQ(0xffffffffffff8001ull, ftramp_type__widen(&s16, junk | 0x8001));
	EXPECT_EQ(0x8001ull, ftramp_type__widen(&u16, junk | 0x8001));
	EXPECT_EQ(0xffffffff80000000ull,
		  ftramp_type__widen(&s32, 0x1234567880000000ull));
	EXPECT_EQ(0x80000000ull, ftramp_type__widen(&u32, 0x1234567880000000ull));
	EXPECT_EQ(junk | 5, ftramp_type__widen(&t_u64, junk | 5));
	EXPECT_EQ(0x3f800000ull, ftramp_type__widen(&f32, junk | 0x3f800000));
	EXPECT_EQ(junk | 1, ftramp_type__widen(&t_dbl, junk | 1));
	EXPECT_EQ(junk | 1, ftramp_type__widen(&hfa, junk | 1));
	EXPECT_EQ(junk, ftramp_type__widen(NULL, junk));
}

/* ------------------------------------------------------------------ */
/* AAPCS64 stage C placement (the reference for the builder's layout)  */

struct locs {
	struct ftramp_arg_loc loc[FTRAMP_MAX_ARGS];
};

static void record_loc(void *data, unsigned int arg,
		       const struct ftramp_arg_loc *loc)
{
	((struct locs *)data)->loc[arg] = *loc;
}

static struct locs walk(const char *proto, uint32_t *nsaa)
{
	struct ftramp_func_model m;
	struct locs l;

	memset(&l, 0xff, sizeof(l));
	if (ftramp_model__parse(proto, &m, NULL) == 0)
		ftramp_model_walk(&m, record_loc, &l, nsaa);
	return l;
}

#define EXPECT_LOC(l, i, k, r, n, off) do {				\
	EXPECT_EQ(FTRAMP_LOC_##k, (l).loc[i].kind);			\
	if (FTRAMP_LOC_##k == FTRAMP_LOC_STACK) {			\
		EXPECT_EQ((uint32_t)(off), (l).loc[i].stack_off);	\
	} else {							\
		EXPECT_EQ(r, (l).loc[i].reg);				\
		EXPECT_EQ(n, (l).loc[i].nregs);				\
	}								\
} while (0)

TEST(placement_int128_even_pair)
{
	uint32_t nsaa = 99;
	struct locs l = walk("void (int, __int128, int, struct { __int128 x; })",
			     &nsaa);

	/* C.8: x1 skipped; C.9: x2/x3; C.8 again: x5 skipped, x6/x7 */
	EXPECT_LOC(l, 0, GP, 0, 1, 0);
	EXPECT_LOC(l, 1, GP, 2, 2, 0);
	EXPECT_LOC(l, 2, GP, 4, 1, 0);
	EXPECT_LOC(l, 3, GP, 6, 2, 0);
	EXPECT_EQ(0, nsaa);

	/* 7 ints then an __int128: the stack, 16-aligned; NGRN becomes 8 */
	l = walk("void (long, long, long, long, long, long, long, __int128, "
		 "char)", &nsaa);
	EXPECT_LOC(l, 6, GP, 6, 1, 0);
	EXPECT_LOC(l, 7, STACK, 0, 0, 0);
	EXPECT_LOC(l, 8, STACK, 0, 0, 16);
	EXPECT_EQ(24, nsaa);
}

TEST(placement_hfa_and_fp)
{
	uint32_t nsaa;
	struct locs l = walk("void (double, float, struct { double v[4]; }, "
			     "struct { float a, b; }, float, long double)",
			     &nsaa);

	EXPECT_LOC(l, 0, FP, 0, 1, 0);
	EXPECT_LOC(l, 1, FP, 1, 1, 0);
	EXPECT_LOC(l, 2, FP, 2, 4, 0);
	/* C.3: does not fit in v6-v7... it does: 2 members */
	EXPECT_LOC(l, 3, FP, 6, 2, 0);
	/* NSRN == 8: float on the stack, 8 bytes (C.5) */
	EXPECT_LOC(l, 4, STACK, 0, 0, 0);
	/* quad: 16-aligned (C.4) */
	EXPECT_LOC(l, 5, STACK, 0, 0, 16);
	EXPECT_EQ(32, nsaa);

	/* C.3: an HFA that does not fit sets NSRN to 8 for good */
	l = walk("void (double, double, double, double, double, "
		 "struct { double v[4]; }, float)", &nsaa);
	EXPECT_LOC(l, 5, STACK, 0, 0, 0);
	EXPECT_LOC(l, 6, STACK, 0, 0, 32);
	EXPECT_EQ(40, nsaa);
}

TEST(placement_composites)
{
	uint32_t nsaa;
	struct locs l = walk("void (long, long, long, long, long, long, long, "
			     "struct { long a, b; }, struct { char c[3]; }, "
			     "struct { long a, b, c; })", &nsaa);

	/* C.10 fails with one register left: C.11 NGRN = 8, stack */
	EXPECT_LOC(l, 7, STACK, 0, 0, 0);
	EXPECT_LOC(l, 8, STACK, 0, 0, 16);
	/* B.3: by reference, the pointer on the stack */
	EXPECT_LOC(l, 9, STACK, 0, 0, 24);
	EXPECT_TRUE(l.loc[9].by_ref);
	EXPECT_EQ(32, nsaa);

	l = walk("void (struct { long a, b, c; }, struct { int a, b, c; })",
		 &nsaa);
	EXPECT_LOC(l, 0, GP, 0, 1, 0);
	EXPECT_TRUE(l.loc[0].by_ref);
	EXPECT_LOC(l, 1, GP, 1, 2, 0);
	EXPECT_FALSE(l.loc[1].by_ref);
}

/* ------------------------------------------------------------------ */
/* Parser: every type against the compiler                              */

struct layout_case {
	const char *src;
	uint32_t size, align;
	uint16_t cls;
	uint8_t nmemb;
};

/* T is a real type: its sizeof/_Alignof come from the compiler. */
#define L(cls, nmemb, ...)						\
	{ #__VA_ARGS__, sizeof(__VA_ARGS__), _Alignof(__VA_ARGS__),	\
	  FTRAMP_TYPE_##cls, nmemb }

/* An enum body cannot appear twice in one scope: these by name. */
typedef enum { E1, E2 } enum_e12;
typedef struct { enum { A1 = -1 } e; char c; } struct_enum;

static const struct layout_case layouts[] = {
	{ "enum { E1, E2 }", sizeof(enum_e12), _Alignof(enum_e12),
	  FTRAMP_TYPE_INT, 0 },
	{ "struct { enum { A1 = -1 } e; char c; }", sizeof(struct_enum),
	  _Alignof(struct_enum), FTRAMP_TYPE_STRUCT, 0 },
	L(INT, 0, char), L(INT, 0, signed char), L(INT, 0, unsigned char),
	L(INT, 0, short), L(INT, 0, unsigned short int), L(INT, 0, int),
	L(INT, 0, unsigned), L(INT, 0, long), L(INT, 0, unsigned long int),
	L(INT, 0, long long), L(INT, 0, unsigned long long),
	L(INT, 0, _Bool), L(INT, 0, int8_t), L(INT, 0, uint16_t),
	L(INT, 0, int32_t), L(INT, 0, uint64_t), L(INT, 0, size_t),
	L(INT, 0, ssize_t), L(INT, 0, uintptr_t), L(INT, 0, __int128),
	L(INT, 0, unsigned __int128), L(INT, 0, const char *),
	L(INT, 0, void **),
	L(FLOAT, 0, float), L(FLOAT, 0, double),
	L(HFA, 2, struct { float x, y; }),
	L(HFA, 4, struct { double a[2]; struct { double b, c; } n; }),
	L(HFA, 3, struct { float v[3]; }),
	L(HFA, 1, struct { double d; }),
	L(HFA, 2, union { float a; float b[2]; }),
	L(HFA, 2, _Complex float), L(HFA, 2, _Complex double),
	L(HFA, 4, struct { float m[2][2]; }),
	L(HFA, 3, struct { struct { float a; } x; struct { float b, c; } y; }),
	L(STRUCT, 0, struct { float v[5]; }),
	L(STRUCT, 0, struct { float f; double d; }),
	L(STRUCT, 0, struct { float f; int i; }),
	L(STRUCT, 0, struct { char c; }),
	L(STRUCT, 0, struct { char c[3]; }),
	L(STRUCT, 0, struct { char c; short s; char d; }),
	L(STRUCT, 0, struct { char c; double d; }),
	L(STRUCT, 0, struct { int a; long b; char c; }),
	L(STRUCT, 0, struct { __int128 x; }),
	L(STRUCT, 0, struct { char c; __int128 x; }),
	L(STRUCT, 0, struct { long a, b, c; }),
	L(STRUCT, 0, struct { char *p; int n; }),
	L(STRUCT, 0, union { char c[5]; int i; }),
	L(STRUCT, 0, struct { struct { char a; } x; int y; }),
	L(STRUCT, 0, struct { struct { char a; long b; } x[3]; short y; }),
	L(STRUCT, 0, struct { int a; union { char b; double c; }; }),
	L(STRUCT, 0, struct { _Bool b; float f; }),
	L(STRUCT, 0, struct { void (*cb)(int); char c; }),
	L(STRUCT, 0, struct { double d; float f; }),
#ifdef __aarch64__
	/* IEEE binary128 only where the compiler agrees */
	L(FLOAT, 0, long double),
	L(HFA, 2, struct { long double a, b; }),
	L(HFA, 2, _Complex long double),
	L(STRUCT, 0, struct { long double a; double b; }),
#endif
};

TEST(layouts_match_the_compiler)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		const struct layout_case *c = &layouts[i];
		struct ftramp_parse_error e;
		struct ftramp_func_model m;
		char proto[512];
		int err;

		snprintf(proto, sizeof(proto), "void (%s)", c->src);
		err = ftramp_model__parse(proto, &m, &e);
		if (err)
			TH_LOG("%s: %s", proto, e.msg);
		ASSERT_EQ(0, err);
		ASSERT_EQ(1, m.nr_args);
		TH_LOG("%s", c->src);
		EXPECT_EQ(c->cls, m.args[0].cls);
		EXPECT_EQ(c->size, m.args[0].size);
		/* a pointer is an INT of size 8, its alignment 8 */
		EXPECT_EQ(c->align, ftramp_type_align(&m.args[0]));
		EXPECT_EQ(c->nmemb, m.args[0].nmemb);
		/* and the same type as a result */
		snprintf(proto, sizeof(proto), "%s (void)", c->src);
		if (!strchr(c->src, '*') || c->src[strlen(c->src) - 1] == '*') {
			ASSERT_EQ(0, ftramp_model__parse(proto, &m, &e));
			EXPECT_EQ(c->cls, m.ret.cls);
			EXPECT_EQ(c->size, m.ret.size);
		}
	}
}

TEST(int_flags)
{
	static const struct {
		const char *src;
		uint16_t flags;
	} c[] = {
		/* AAPCS64 10.1.1 (arm64 Linux ABI): plain char is unsigned */
		{ "char", 0 },
		{ "signed char", FTRAMP_TYPE_SIGNED },
		{ "short", FTRAMP_TYPE_SIGNED },
		{ "unsigned short", 0 },
		{ "long", FTRAMP_TYPE_SIGNED },
		{ "size_t", 0 },
		{ "ssize_t", FTRAMP_TYPE_SIGNED },
		{ "_Bool", FTRAMP_TYPE_BOOL },
		{ "bool", FTRAMP_TYPE_BOOL },
		{ "void *", FTRAMP_TYPE_POINTER },
		{ "char *", FTRAMP_TYPE_POINTER | FTRAMP_TYPE_STRING },
		{ "const char *const", FTRAMP_TYPE_POINTER | FTRAMP_TYPE_STRING },
		{ "char buf[16]", FTRAMP_TYPE_POINTER | FTRAMP_TYPE_STRING },
		{ "unsigned char *", FTRAMP_TYPE_POINTER },
		{ "char **", FTRAMP_TYPE_POINTER },
		{ "int m[2][3]", FTRAMP_TYPE_POINTER },
		{ "void (*cb)(int)", FTRAMP_TYPE_POINTER },
		{ "int cb(int)", FTRAMP_TYPE_POINTER },
		{ "struct opaque *", FTRAMP_TYPE_POINTER },
		{ "enum e", FTRAMP_TYPE_SIGNED },
		{ "enum { A, B }", 0 },
		{ "enum { A = -3, B }", FTRAMP_TYPE_SIGNED },
		{ "u32", 0 }, { "__s64", FTRAMP_TYPE_SIGNED },
		{ "int const volatile", FTRAMP_TYPE_SIGNED },
		{ "register long x", FTRAMP_TYPE_SIGNED },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ftramp_func_model m;
		char proto[256];

		snprintf(proto, sizeof(proto), "int f(%s)", c[i].src);
		TH_LOG("%s", proto);
		ASSERT_EQ(0, ftramp_model__parse(proto, &m, NULL));
		EXPECT_EQ(FTRAMP_TYPE_INT, m.args[0].cls);
		EXPECT_EQ(c[i].flags, m.args[0].flags);
	}
}

TEST(enum_sizes)
{
	struct ftramp_func_model m;

	ASSERT_EQ(0, ftramp_model__parse(
		"void (enum { A = 0x100000000 }, enum { B = -0x80000001 }, "
		"enum { C = 0x80000000 })", &m, NULL));
	EXPECT_EQ(8, m.args[0].size);
	EXPECT_EQ(0, m.args[0].flags);
	EXPECT_EQ(8, m.args[1].size);
	EXPECT_EQ(FTRAMP_TYPE_SIGNED, m.args[1].flags);
	EXPECT_EQ(4, m.args[2].size);
	EXPECT_EQ(0, m.args[2].flags);
}

TEST(prototype_forms)
{
	struct ftramp_func_model m;
	char name[16];
	struct ftramp_parse_opts opts = {
		.sz = sizeof(opts), .name = name, .name_sz = sizeof(name),
	};

	ASSERT_EQ(0, ftramp_model__parse_opts("int foo(long a, unsigned char b)",
					      &m, &opts));
	EXPECT_STREQ("foo", name);
	EXPECT_EQ(2, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_SIGNED, m.ret.flags);

	/* a function returning a function pointer: its own params count */
	ASSERT_EQ(0, ftramp_model__parse_opts(
		"int (*get_handler(unsigned idx, char *why))(int, long)",
		&m, &opts));
	EXPECT_STREQ("get_handler", name);
	EXPECT_EQ(2, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_POINTER, m.ret.flags);
	EXPECT_EQ(FTRAMP_TYPE_STRING | FTRAMP_TYPE_POINTER, m.args[1].flags);

	/* a long name is truncated, not overflowed */
	ASSERT_EQ(0, ftramp_model__parse_opts(
		"void a_rather_long_function_name(void)", &m, &opts));
	EXPECT_STREQ("a_rather_long_f", name);
	ASSERT_EQ(0, ftramp_model__parse_opts("void (void)", &m, &opts));
	EXPECT_STREQ("", name);

	ASSERT_EQ(0, ftramp_model__parse("void ()", &m, NULL));
	EXPECT_EQ(0, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_VOID, m.ret.cls);
	ASSERT_EQ(0, ftramp_model__parse(
		"static inline const struct s { int x; } *f(struct s a, "
		"struct s *b)", &m, NULL));
	EXPECT_EQ(FTRAMP_TYPE_STRUCT, m.args[0].cls);
	EXPECT_EQ(4, m.args[0].size);
	ASSERT_EQ(0, ftramp_model__parse(
		"int f(struct node { struct node *next; float v; } n)",
		&m, NULL));
	EXPECT_EQ(16, m.args[0].size);
	ASSERT_EQ(0, ftramp_model__parse(" \tint\nf ( int ) ", &m, NULL));

	/* the opts struct's size is checked */
	opts.sz = 4;
	EXPECT_EQ(-EINVAL, ftramp_model__parse_opts("void (void)", &m, &opts));
	EXPECT_EQ(-EINVAL, ftramp_model__parse(NULL, &m, NULL));
	EXPECT_EQ(-EINVAL, ftramp_model__parse("void (void)", NULL, NULL));
}

/* ------------------------------------------------------------------ */
/* Parser: errors, with their column                                    */

static const struct {
	const char *src;
	int err;
	int col;
	const char *msg;
} parse_error_cases[] = {
	{ "int foo(long a, fooo b)", -EINVAL, 17, "unknown type 'fooo'" },
	{ "int printf(const char *, ...)", -EOPNOTSUPP, 26, "variadic" },
	{ "int f(...)", -EOPNOTSUPP, 7, "variadic" },
	{ "int f(struct { int a : 3; })", -EOPNOTSUPP, 22, "bit-fields" },
	{ "int f(struct { })", -EOPNOTSUPP, 16, "empty struct" },
	{ "int f(struct { float v[]; })", -EOPNOTSUPP, 23, "flexible" },
	{ "int f(struct { float v[0]; })", -EOPNOTSUPP, 23, "zero-length" },
	{ "int f(__attribute__((packed)) int)", -EOPNOTSUPP, 7, "not supported" },
	{ "int f(int,)", -EINVAL, 11, "expected a type, found ')'" },
	{ "int f(int", -EINVAL, 10, "end of input" },
	{ "int f(int) x", -EINVAL, 12, "unexpected 'x'" },
	{ "int f(@)", -EINVAL, 7, "unexpected character '@'" },
	{ "int f(int\x01)", -EINVAL, 10, "byte 0x01" },
	{ "int", -EINVAL, 1, "not a function" },
	{ "", -EINVAL, 1, "expected a type, found end of input" },
	{ "int (*)(int)", -EINVAL, 1, "not a function" },
	{ "int x[3]", -EINVAL, 1, "not a function" },
	{ "int f(void)(int)", -EINVAL, 12, "function returning a function" },
	{ "int f(void)[2]", -EINVAL, 12, "function returning an array" },
	{ "long long long f(void)", -EINVAL, 11, "invalid combination" },
	{ "signed unsigned f(void)", -EINVAL, 1, "invalid combination" },
	{ "signed float f(void)", -EINVAL, 1, "invalid combination" },
	{ "_Complex int f(void)", -EINVAL, 1, "invalid combination" },
	{ "int f(int long double)", -EINVAL, 7, "invalid combination" },
	{ "int f(void x)", -EINVAL, 7, "void" },
	{ "int f(int, void)", -EINVAL, 12, "void" },
	{ "int f(struct s x)", -EINVAL, 7, "incomplete" },
	{ "struct s f(void)", -EINVAL, 1, "incomplete" },
	{ "int f(struct { struct s x; })", -EINVAL, 16, "incomplete" },
	{ "int f(struct { void v; })", -EINVAL, 16, "void" },
	{ "int f(struct { int; })", -EINVAL, 19, "member name" },
	{ "int f(struct { struct t { int a; }; int b; })", -EINVAL, 35,
	  "member name" },
	{ "int f(struct s { int a; } x, struct s { int a; } y)", -EINVAL, 37,
	  "redefinition" },
	{ "int f(struct s { int a; } x, union s y)", -EINVAL, 36,
	  "not a union tag" },
	{ "int f(struct s { int a; } x, enum s y)", -EINVAL, 35,
	  "not an enum tag" },
	{ "int f(struct)", -EINVAL, 13, "expected '{' or a tag" },
	{ "int f(enum { })", -EINVAL, 14, "empty enum" },
	{ "int f(enum { A = B })", -EINVAL, 18, "integer literal" },
	{ "int f(enum { int })", -EINVAL, 14, "enumerator name" },
	{ "int f(enum { A B })", -EINVAL, 16, "expected ','" },
	{ "int f(enum { A = 0x8000000000000000 })", -EOPNOTSUPP, 14,
	  "out of range" },
	{ "int f(int a[x])", -EINVAL, 13, "integer literal" },
	{ "int f(int a[99999999999999999999])", -EINVAL, 13, "too large" },
	{ "int f(int a[0x])", -EINVAL, 13, "invalid integer" },
	{ "int f(int a[12q])", -EINVAL, 13, "invalid integer" },
	{ "int f(struct { char c[0x7fffffff]; })", -E2BIG, 22, "too large" },
	{ "int f(struct { int a[2](int); })", -EINVAL, 21, "array of functions" },
	{ "int f(struct { int f(int); })", -EINVAL, 16, "function type" },
	{ "int f(int (*)[])", -EOPNOTSUPP, 14, "flexible" },
	{ "int f(int x y)", -EINVAL, 13, "expected ')'" },
	{ "int f(int (x))", -EINVAL, 12, "unknown type 'x'" },
	{ "int f(int (*x y))", -EINVAL, 15, "in declarator" },
	{ "int f(int (*x)", -EINVAL, 15, "end of input" },
	{ "int f(int (*x", -EINVAL, 14, "expected ')', found end of input" },
	{ "int f(struct { int a })", -EINVAL, 22, "';' after member" },
	{ "int f(struct { int a; ", -EINVAL, 23, "expected '}'" },
	{ "int f(struct { int 3; })", -EINVAL, 20, "expected a name" },
};

TEST(parse_errors)
{
	for (size_t i = 0; i < sizeof(parse_error_cases) /
				 sizeof(parse_error_cases[0]);
	     i++) {
		struct ftramp_parse_error e;
		struct ftramp_func_model m;
		char col[16];
		int err;

		memset(&e, 0, sizeof(e));
		err = ftramp_model__parse(parse_error_cases[i].src, &m, &e);
		TH_LOG("'%s' -> %d '%s'", parse_error_cases[i].src, err, e.msg);
		EXPECT_EQ(parse_error_cases[i].err, err);
		EXPECT_EQ(parse_error_cases[i].col, e.col);
		EXPECT_TRUE(strstr(e.msg, parse_error_cases[i].msg) != NULL);
		snprintf(col, sizeof(col), "col %d: ", parse_error_cases[i].col);
		EXPECT_EQ(0, strncmp(e.msg, col, strlen(col)));
	}
}

TEST(parse_limits)
{
	struct ftramp_parse_error e;
	struct ftramp_func_model m;
	char proto[1024];
	int n;

	/* 24 arguments parse, 25 do not */
	n = snprintf(proto, sizeof(proto), "void (int");
	for (int i = 1; i < FTRAMP_MAX_ARGS; i++)
		n += snprintf(proto + n, sizeof(proto) - n, ", int");
	snprintf(proto + n, sizeof(proto) - n, ")");
	ASSERT_EQ(0, ftramp_model__parse(proto, &m, &e));
	EXPECT_EQ(FTRAMP_MAX_ARGS, m.nr_args);
	snprintf(proto + n, sizeof(proto) - n, ", int)");
	EXPECT_EQ(-E2BIG, ftramp_model__parse(proto, &m, &e));
	EXPECT_EQ((int)strlen(proto) - 3, e.col);
	EXPECT_TRUE(strstr(e.msg, "more than 24 parameters") != NULL);

	/* too many stack slots: 17 longs and 8 doubles would be too many
	 * arguments; 12 16-byte structs fit, a 13th does not */
	n = snprintf(proto, sizeof(proto), "void (");
	for (int i = 0; i < 13; i++)
		n += snprintf(proto + n, sizeof(proto) - n, "%sstruct { long a, b; }",
			      i ? ", " : "");
	snprintf(proto + n, sizeof(proto) - n, ")");
	EXPECT_EQ(-E2BIG, ftramp_model__parse(proto, &m, &e));
	EXPECT_TRUE(strstr(e.msg, "exceed the limits") != NULL);

	/* nesting is bounded, not a stack overflow */
	n = snprintf(proto, sizeof(proto), "void (int ");
	for (int i = 0; i < 40; i++)
		proto[n++] = '(', proto[n++] = '*';
	proto[n++] = 'x';
	for (int i = 0; i < 40; i++)
		proto[n++] = ')';
	snprintf(proto + n, sizeof(proto) - n, ")");
	EXPECT_EQ(-E2BIG, ftramp_model__parse(proto, &m, &e));
	EXPECT_TRUE(strstr(e.msg, "nesting too deep") != NULL);

	n = snprintf(proto, sizeof(proto), "void (int x");
	for (int i = 0; i < 40; i++)
		n += snprintf(proto + n, sizeof(proto) - n, "[1]");
	snprintf(proto + n, sizeof(proto) - n, ")");
	EXPECT_EQ(-E2BIG, ftramp_model__parse(proto, &m, &e));

	n = snprintf(proto, sizeof(proto), "void (");
	for (int i = 0; i < 40; i++)
		n += snprintf(proto + n, sizeof(proto) - n, "struct { ");
	n += snprintf(proto + n, sizeof(proto) - n, "int x;");
	for (int i = 0; i < 40; i++)
		n += snprintf(proto + n, sizeof(proto) - n, " } m%d;", i);
	snprintf(proto + n, sizeof(proto) - n, ")");
	EXPECT_EQ(-E2BIG, ftramp_model__parse(proto, &m, &e));
	EXPECT_TRUE(strstr(e.msg, "nesting too deep") != NULL);

	/* a message longer than the buffer is cut, and terminated */
	memset(proto, 'a', 400);
	memcpy(proto + 400, " f(void)", 9);
	EXPECT_EQ(-EINVAL, ftramp_model__parse(proto, &m, &e));
	EXPECT_EQ(sizeof(e.msg) - 1, strlen(e.msg));
}

/* ------------------------------------------------------------------ */
/* Formatting                                                           */

TEST(format_known)
{
	static const struct {
		const char *src, *out;
	} c[] = {
		{ "double (int, const char *, struct { float x, y; })",
		  "double (int32_t, const char *, struct { float m[2]; })" },
		{ "void f(void)", "void (void)" },
		{ "_Bool (unsigned __int128, long double, void **)",
		  "_Bool (unsigned __int128, long double, void *)" },
		{ "struct { char c; short s; } (struct { char c[3]; }, "
		  "struct { __int128 a; long b; })",
		  "struct { uint16_t m[2]; } (struct { uint8_t m[3]; }, "
		  "struct { unsigned __int128 m[2]; })" },
		{ "unsigned long (signed char, short, unsigned, long long)",
		  "uint64_t (int8_t, int16_t, uint32_t, int64_t)" },
	};
	struct ftramp_func_model m;
	char buf[256];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ASSERT_EQ(0, ftramp_model__parse(c[i].src, &m, NULL));
		EXPECT_EQ((int)strlen(c[i].out),
			  ftramp_model__format(&m, buf, sizeof(buf)));
		EXPECT_STREQ(c[i].out, buf);
	}
}

TEST(format_edges)
{
	struct ftramp_func_model m = model_of(1, &t_i32);
	char buf[16];
	int n;

	/* snprintf semantics: the needed length, a terminated prefix */
	n = ftramp_model__format(&m, NULL, 0);
	EXPECT_EQ((int)strlen("int32_t (int32_t)"), n);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(n, ftramp_model__format(&m, buf, 8));
	EXPECT_STREQ("int32_t", buf);

	/* a variadic model prints (it is only refused) */
	m.flags = FTRAMP_MODEL_VARIADIC;
	EXPECT_EQ((int)strlen("int32_t (int32_t, ...)"),
		  ftramp_model__format(&m, NULL, 0));
	m.args[0].size = 3;
	EXPECT_EQ(-EINVAL, ftramp_model__format(&m, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, ftramp_model__format(NULL, buf, sizeof(buf)));

	/* a hand-built struct of natural alignment prints as such */
	m = model_of(0, NULL);
	m.nr_args = 1;
	m.args[0] = (struct ftramp_type)T_STRUCT(12, 0);
	ASSERT_EQ(0, ftramp_model__validate(&m));
	{
		char big[128];

		ftramp_model__format(&m, big, sizeof(big));
		EXPECT_STREQ("int32_t (struct { uint32_t m[3]; })", big);
	}
}

/* parse -> format -> parse is the identity on models */
TEST(format_round_trip)
{
	static const char *const protos[] = {
		"double (int, const char *, struct { float x, y; })",
		"int foo(long a, unsigned char b)",
		"struct { char c; double d; } f(struct { __int128 x; } a, "
		"union { float a; float b[2]; } u, _Complex double z)",
		"long double f(long double, struct { long double a, b; })",
		"enum { A = -1 } f(enum { X = 0x80000000 } x, _Bool b)",
		"int f(char buf[16], int m[2][3], void (*cb)(int))",
		"struct { double a[4]; } f(struct { double a[5]; })",
		"struct { long a, b, c; } (struct { char c[17]; }, "
		"struct { short s[3]; }, __int128, unsigned __int128)",
		"void (float, double, float, double, float, double, float, "
		"double, float, double, long, long, long, long, long, long, "
		"long, long, long, char *, struct { float a[4]; })",
	};
	struct ftramp_func_model m, m2;
	struct ftramp_parse_error e;
	char buf[1024];

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		ASSERT_EQ(0, ftramp_model__parse(protos[i], &m, &e));
		ASSERT_LT(0, ftramp_model__format(&m, buf, sizeof(buf)));
		TH_LOG("%s -> %s", protos[i], buf);
		ASSERT_EQ(0, ftramp_model__parse(buf, &m2, &e));
		EXPECT_EQ(0, memcmp(&m, &m2, sizeof(m)));
	}
}

TEST_HARNESS_MAIN
