// SPDX-License-Identifier: MIT
/*
 * struct_ops thunks: a C vtable whose slots are thunks calling ctx
 * programs, driven from ordinary C code (qemu -cpu max: thunks live in
 * PROT_BTI memory and are reached with blr).
 */
#include <string.h>

#include <ftramp/ftramp.h>

#include "harness.h"

struct pt { long x; int y; };
struct v2 { double a, b; };
struct blob { long v[5]; };

struct ops {
	int (*add)(int, long);
	double (*scale)(double, float);
	struct pt (*mkpt)(long, int);
	struct v2 (*swap)(struct v2);
	struct blob (*fill)(long);
	void (*note)(long, const char *);
	long (*many)(long, long, long, long, long, long, long, long, long,
		     long);
	unsigned char (*low)(unsigned long);
};

static uint64_t p_add(const uint64_t *ctx)
{
	return (uint64_t)((int)ctx[0] + (long)ctx[1] +
			  (long)ftramp_get_attach_cookie(ctx));
}

static uint64_t p_scale(const uint64_t *ctx)
{
	return ftramp_ret_double(ftramp_ctx_double(ctx, 0) *
				 ftramp_ctx_float(ctx, 1));
}

static uint64_t p_mkpt(const uint64_t *ctx)
{
	struct pt *r = ftramp_get_func_ret_ptr(ctx);

	r->x = (long)ctx[0];
	r->y = (int)ctx[1];
	return 0;
}

static uint64_t p_swap(const uint64_t *ctx)
{
	struct v2 *r = ftramp_get_func_ret_ptr(ctx);

	r->a = ftramp_ctx_double(ctx, 1);
	r->b = ftramp_ctx_double(ctx, 0);
	return 0;
}

static uint64_t p_fill(const uint64_t *ctx)
{
	struct blob *r = ftramp_get_func_ret_ptr(ctx);

	for (int i = 0; i < 5; i++)
		r->v[i] = (long)ctx[0] * i;
	return 0;
}

static long noted;
static char noted_str[16];

static uint64_t p_note(const uint64_t *ctx)
{
	noted = (long)ctx[0];
	strncpy(noted_str, (const char *)(uintptr_t)ctx[1],
		sizeof(noted_str) - 1);
	return 0;
}

static uint64_t p_many(const uint64_t *ctx)
{
	long s = 0;

	for (unsigned int i = 0; i < ftramp_get_func_arg_cnt(ctx); i++)
		s = s * 2 + (long)ctx[i];
	return (uint64_t)s;
}

static uint64_t p_low(const uint64_t *ctx)
{
	return ctx[0] + 1;	/* truncated to unsigned char by the caller */
}

static const struct {
	const char *proto;
	ftramp_prog_t prog;
	size_t off;
} table[] = {
	{ "int (int, long)", p_add, offsetof(struct ops, add) },
	{ "double (double, float)", p_scale, offsetof(struct ops, scale) },
	{ "struct { long x; int y; } (long, int)", p_mkpt,
	  offsetof(struct ops, mkpt) },
	{ "struct { double a, b; } (struct { double a, b; })", p_swap,
	  offsetof(struct ops, swap) },
	{ "struct { long v[5]; } (long)", p_fill, offsetof(struct ops, fill) },
	{ "void (long, const char *)", p_note, offsetof(struct ops, note) },
	{ "long (long, long, long, long, long, long, long, long, long, long)",
	  p_many, offsetof(struct ops, many) },
	{ "unsigned char (unsigned long)", p_low, offsetof(struct ops, low) },
};

FIXTURE(vtable) {
	struct ops ops;
};

FIXTURE_SETUP(vtable)
{
	for (unsigned int i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct ftramp_func_model m;
		void *fn;

		ASSERT_EQ(0, ftramp_model__parse(table[i].proto, &m, NULL));
		fn = ftramp_thunk__create(&m, table[i].prog, 1000);
		ASSERT_NE(NULL, fn);
		memcpy((char *)&self->ops + table[i].off, &fn, sizeof(fn));
	}
}

FIXTURE_TEARDOWN(vtable)
{
	void **slot = (void **)&self->ops;

	for (unsigned int i = 0; i < sizeof(self->ops) / sizeof(void *); i++)
		ftramp_thunk__destroy(slot[i]);
}

/* Ordinary C code using the table, as a library would. */
static long drive(const struct ops *o, struct pt *pt, struct v2 *v,
		  struct blob *b, unsigned char *low, double *d)
{
	*pt = o->mkpt(-5, 6);
	*v = o->swap((struct v2){ 1.25, -2.5 });
	*b = o->fill(3);
	*d = o->scale(1.5, 4.0f);
	*low = o->low(0x1ff);
	o->note(42, "hello");
	return o->add(-3, 10) + o->many(1, 0, 0, 0, 0, 0, 0, 0, 0, 1);
}

TEST_F(vtable, mixed_signatures)
{
	struct pt pt;
	struct v2 v;
	struct blob b;
	unsigned char low;
	double d;
	long r = drive(&self->ops, &pt, &v, &b, &low, &d);

	EXPECT_EQ(-3 + 10 + 1000 + (1L << 9) + 1, r);
	EXPECT_EQ(-5, pt.x);
	EXPECT_EQ(6, pt.y);
	EXPECT_EQ(-2.5, v.a);
	EXPECT_EQ(1.25, v.b);
	EXPECT_EQ(12, b.v[4]);
	EXPECT_EQ(6.0, d);
	EXPECT_EQ(0, low);
	EXPECT_EQ(42, noted);
	EXPECT_STREQ("hello", noted_str);
}

TEST(refusals)
{
	struct ftramp_func_model m;
	void *fn;

	fn = ftramp_thunk__create(NULL, p_add, 0);
	EXPECT_EQ(NULL, fn);
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ftramp_model__parse("int (int)", &m, NULL));
	fn = ftramp_thunk__create(&m, NULL, 0);
	EXPECT_EQ(NULL, fn);
	EXPECT_EQ(EINVAL, errno);
	m.flags |= FTRAMP_MODEL_VARIADIC;
	fn = ftramp_thunk__create(&m, p_add, 0);
	EXPECT_EQ(NULL, fn);
	EXPECT_EQ(EOPNOTSUPP, errno);
	ftramp_thunk__destroy(NULL);
	ftramp_thunk__destroy((void *)&m);	/* not a thunk: ignored */
}

TEST_HARNESS_MAIN
