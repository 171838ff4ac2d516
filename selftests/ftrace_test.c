// SPDX-License-Identifier: MIT
/*
 * ftrace ops and direct calls: handlers through ftrace_caller and the
 * per-site literal, filters and notrace sets, several ops and a direct
 * trampoline on one site, modify, ftrace_regs, errors with the site bytes
 * checked unchanged; unregister and a failed register bounded by a
 * handler that never returns.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "ftrace/reclaim.h"
#include "lib/thread.h"
#include "selftests/harness.h"
#include "selftests/progs/sample.h"
#include "selftests/site_bytes.h"
#include "lib/fault_inject.h"

int ft_add(int a, int b);
int ft_mul(int a, int b);
int ft_other(int a, int b);
long ft_glob_one(long x);
long ft_glob_two(long x);
long ft_glob_three(long x);
int ft_leaf(int n);
double ft_fp(int n, double x);
int ft_bti(int a, int b);

TRACEE int ft_add(int a, int b) { return a + b; }
TRACEE int ft_mul(int a, int b) { return a * b; }
TRACEE int ft_other(int a, int b) { return 1000 + a + b; }
TRACEE long ft_glob_one(long x) { return x + 1; }
TRACEE long ft_glob_two(long x) { return x + 2; }
TRACEE long ft_glob_three(long x) { return x + 3; }
TRACEE int ft_leaf(int n) { return n + 1; }
TRACEE double ft_fp(int n, double x) { return x * n; }
/* Starts with `bti c`: the site moves to func + 4 (sites.rst). */
TRACEE __attribute__((target("branch-protection=bti")))
int ft_bti(int a, int b) { return a - b; }

/*
 * A minimal direct trampoline: count, then continue into the body with
 * the caller's return address back in x30 (entry: x30 = body, x9 = lr;
 * x10-x17 are free at a function entry).
 */
uint64_t direct_hits, direct2_hits;
void test_direct_tramp(void);
void test_direct_tramp2(void);
#define DIRECT_TRAMP(name, counter)					\
	__asm__("	.text\n"					\
		"	.p2align 3\n"					\
		"	.globl " #name "\n"				\
		"	.type " #name ", %function\n"			\
		#name ":\n"						\
		"	hint #34\n"	/* bti c */			\
		"	adrp x16, " #counter "\n"			\
		"	add x16, x16, :lo12:" #counter "\n"		\
		"1:	ldxr x17, [x16]\n"				\
		"	add x17, x17, #1\n"				\
		"	stxr w10, x17, [x16]\n"				\
		"	cbnz w10, 1b\n"					\
		"	mov x16, x30\n"					\
		"	mov x30, x9\n"					\
		"	ret x16\n"					\
		"	.size " #name ", . - " #name "\n")
DIRECT_TRAMP(test_direct_tramp, direct_hits);
DIRECT_TRAMP(test_direct_tramp2, direct2_hits);

#define LIT_NOPS	0xd503201fd503201full

struct counter {
	unsigned long hits;
	unsigned long ip, parent;
	struct ftramp_ftrace_regs regs;
};

static void count_handler(unsigned long ip, unsigned long parent_ip,
			  struct ftramp_ftrace_ops *op,
			  struct ftramp_ftrace_regs *fregs)
{
	struct counter *c = op->private;

	c->hits++;
	c->ip = ip;
	c->parent = parent_ip;
	c->regs = *fregs;
}

TEST(register_unregister)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = count_handler, .private = &c };
	struct site_bytes before = bytes_of("ft_add"), on, off;

	ASSERT_EQ(LIT_NOPS, before.lit);
	ASSERT_EQ(A64_NOP, before.a);
	ASSERT_EQ(A64_NOP, before.b);
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_add", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	on = bytes_of("ft_add");
	EXPECT_EQ(A64_MOV_X9_X30, on.a);
	EXPECT_TRUE(a64_is_bl(on.b));
	EXPECT_NE(LIT_NOPS, on.lit);
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(i + 5, ft_add(i, 5));
	EXPECT_EQ(10, c.hits);
	EXPECT_EQ(U64(ft_add), c.ip);
	EXPECT_EQ(0, ft_mul(0, 3));
	EXPECT_EQ(10, c.hits);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	EXPECT_EQ(2, ft_add(1, 1));
	EXPECT_EQ(10, c.hits);
	off = bytes_of("ft_add");
	EXPECT_EQ(A64_MOV_X9_X30, off.a);
	EXPECT_EQ(A64_NOP, off.b);
	EXPECT_NE(LIT_NOPS, off.lit);	/* the stub record */
	/* Again: the site is reused from its "off" state. */
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	EXPECT_EQ(7, ft_add(3, 4));
	EXPECT_EQ(11, c.hits);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	EXPECT_EQ(0, ftramp_ftrace_ops__free_filter(&ops));
}

TEST(filter_glob_notrace_live_change)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = count_handler, .private = &c };

	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_glob_*", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_notrace(&ops, "ft_glob_two", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	EXPECT_EQ(2, ft_glob_one(1));
	EXPECT_EQ(3, ft_glob_two(1));
	EXPECT_EQ(4, ft_glob_three(1));
	EXPECT_EQ(2, c.hits);
	/* While registered: notrace now names a site outside the filter. */
	ASSERT_EQ(0, ftramp_ftrace_ops__set_notrace(&ops, "ft_add", 1));
	EXPECT_EQ(3, ft_glob_two(1));
	EXPECT_EQ(3, c.hits);
	EXPECT_EQ(U64(ft_glob_two), c.ip);
	/* Narrow the filter to one function, by address. */
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter_ip(&ops, U64(ft_glob_three),
						      FTRAMP_FILTER_RESET));
	ft_glob_one(0);
	ft_glob_two(0);
	ft_glob_three(0);
	EXPECT_EQ(4, c.hits);
	EXPECT_EQ(U64(ft_glob_three), c.ip);
	EXPECT_EQ(A64_NOP, bytes_of("ft_glob_one").b);
	/* Add one by address, remove the other (the flags word). */
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter_ip(&ops, U64(ft_glob_one),
						      0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter_ip(&ops, U64(ft_glob_three),
						      FTRAMP_FILTER_REMOVE));
	ft_glob_three(0);
	ft_glob_one(0);
	EXPECT_EQ(5, c.hits);
	EXPECT_EQ(U64(ft_glob_one), c.ip);
	EXPECT_EQ(A64_NOP, bytes_of("ft_glob_three").b);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	ftramp_ftrace_ops__free_filter(&ops);
}

TEST(shared_library_site)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = count_handler, .private = &c };

	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops,
				"sample_add@libsample-gcc.so", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	EXPECT_EQ(5, sample_add(2, 3));
	EXPECT_EQ(1, c.hits);
	EXPECT_EQ(U64(sample_add), c.ip);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	ftramp_ftrace_ops__free_filter(&ops);
}

static void regs_handler(unsigned long ip, unsigned long parent_ip,
			 struct ftramp_ftrace_ops *op,
			 struct ftramp_ftrace_regs *fregs)
{
	struct counter *c = op->private;

	c->hits++;
	c->regs = *fregs;
	if (ip == U64(ft_add))
		ftramp_ftrace_regs__set_arg(fregs, 0, 100);
	else if (ip == U64(ft_mul))
		ftramp_ftrace_regs__override_return(fregs, 4242);
	else if (ip == U64(ft_glob_one))
		fregs->pc = U64(ft_glob_three);	/* tail-call another */
}

TEST(ftrace_regs)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = regs_handler, .private = &c };
	double d;

	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_fp", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_add", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_mul", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_glob_one", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));

	EXPECT_EQ(17.5, ft_fp(7, 2.5));
	EXPECT_EQ(7, c.regs.regs[0]);
	memcpy(&d, &c.regs.vregs[0][0], sizeof(d));
	EXPECT_EQ(2.5, d);
	EXPECT_EQ(bytes_of("ft_fp").patch + 8, c.regs.pc);
	EXPECT_NE(0, c.regs.lr);
	EXPECT_EQ(0, c.regs.sp & 15);

	EXPECT_EQ(105, ft_add(1, 5));		/* a0 changed to 100 */
	EXPECT_EQ(4242, ft_mul(6, 7));		/* skipped, returns 4242 */
	EXPECT_EQ(13, ft_glob_one(10));		/* ran ft_glob_three */
	EXPECT_EQ(4, c.hits);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	EXPECT_EQ(42, ft_mul(6, 7));
	ftramp_ftrace_ops__free_filter(&ops);
}

FIXTURE(direct)
{
	struct counter ca, cb;
	struct ftramp_ftrace_ops a, b, d;
};

FIXTURE_VARIANT(direct)
{
	unsigned long flags;
};

FIXTURE_VARIANT_ADD(direct, near) { .flags = 0 };
FIXTURE_VARIANT_ADD(direct, literal)
{
	.flags = FTRAMP_FTRACE_OPS_FL_NO_DIRECT_BL,
};

FIXTURE_SETUP(direct)
{
	self->a = (struct ftramp_ftrace_ops){ .func = count_handler,
					      .private = &self->ca };
	self->b = (struct ftramp_ftrace_ops){ .func = count_handler,
					      .private = &self->cb };
	self->d = (struct ftramp_ftrace_ops){ .flags = variant->flags };
	direct_hits = direct2_hits = 0;
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&self->a, "ft_add", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&self->b, "ft_add", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&self->d, "ft_add", 0));
}

FIXTURE_TEARDOWN(direct)
{
	ftramp_ftrace_ops__free_filter(&self->a);
	ftramp_ftrace_ops__free_filter(&self->b);
	ftramp_ftrace_ops__free_filter(&self->d);
}

static void call_n(int n)
{
	for (int i = 0; i < n; i++)
		ft_add(i, 1);
}

TEST_F(direct, alone_then_modify)
{
	struct site_bytes sb;

	ASSERT_EQ(0, ftramp_direct__register(&self->d,
					     U64(test_direct_tramp)));
	sb = bytes_of("ft_add");
	if (variant->flags)
		EXPECT_NE(U64(test_direct_tramp), bl_target(&sb));
	else
		EXPECT_EQ(U64(test_direct_tramp), bl_target(&sb));
	call_n(5);
	EXPECT_EQ(5, direct_hits);
	ASSERT_EQ(0, ftramp_direct__modify(&self->d, U64(test_direct_tramp2)));
	sb = bytes_of("ft_add");
	if (!variant->flags)
		EXPECT_EQ(U64(test_direct_tramp2), bl_target(&sb));
	call_n(3);
	EXPECT_EQ(5, direct_hits);
	EXPECT_EQ(3, direct2_hits);
	EXPECT_EQ(-EINVAL, ftramp_direct__unregister(&self->d,
						      U64(test_direct_tramp)));
	ASSERT_EQ(0, ftramp_direct__unregister(&self->d,
					       U64(test_direct_tramp2)));
	call_n(2);
	EXPECT_EQ(3, direct2_hits);
	EXPECT_EQ(A64_NOP, bytes_of("ft_add").b);
	EXPECT_EQ(0, ftramp_sync(5000));
}

/*
 * A modify read through ftrace_caller syncs every core before it stores
 * the new target; if that sync fails, nothing has changed.
 */
TEST_F(direct, modify_with_failed_sync_changes_nothing)
{
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&self->a));
	ASSERT_EQ(0, ftramp_direct__register(&self->d,
					     U64(test_direct_tramp)));
	call_n(2);
	EXPECT_EQ(2, direct_hits);
	ASSERT_EQ(0, ftramp_fault_set("sync_cores", 1, 1, -EAGAIN));
	EXPECT_EQ(-EAGAIN, ftramp_direct__modify(&self->d,
						  U64(test_direct_tramp2)));
	ftramp_fault_clear_all();
	call_n(3);
	EXPECT_EQ(5, direct_hits);
	EXPECT_EQ(0, direct2_hits);
	EXPECT_EQ(5, self->ca.hits);
	/* Still the old target's ops: the new one is refused here. */
	EXPECT_EQ(-EINVAL, ftramp_direct__unregister(&self->d,
						      U64(test_direct_tramp2)));
	ASSERT_EQ(0, ftramp_direct__modify(&self->d, U64(test_direct_tramp2)));
	call_n(1);
	EXPECT_EQ(1, direct2_hits);
	ASSERT_EQ(0, ftramp_direct__unregister(&self->d,
					       U64(test_direct_tramp2)));
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&self->a));
	EXPECT_EQ(0, ftramp_sync(5000));
}

/* Two ops and a direct trampoline on one site; remove each in turn. */
TEST_F(direct, two_ops_and_direct)
{
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&self->a));
	ASSERT_EQ(0, ftramp_direct__register(&self->d,
					     U64(test_direct_tramp)));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&self->b));
	call_n(10);
	EXPECT_EQ(10, self->ca.hits);
	EXPECT_EQ(10, self->cb.hits);
	EXPECT_EQ(10, direct_hits);

	/* Modify while shared: the list path reads the new target. */
	ASSERT_EQ(0, ftramp_direct__modify(&self->d, U64(test_direct_tramp2)));
	call_n(4);
	EXPECT_EQ(14, self->ca.hits);
	EXPECT_EQ(14, self->cb.hits);
	EXPECT_EQ(10, direct_hits);
	EXPECT_EQ(4, direct2_hits);

	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&self->a));
	call_n(3);
	EXPECT_EQ(14, self->ca.hits);
	EXPECT_EQ(17, self->cb.hits);
	EXPECT_EQ(7, direct2_hits);

	ASSERT_EQ(0, ftramp_direct__unregister(&self->d,
					       U64(test_direct_tramp2)));
	call_n(2);
	EXPECT_EQ(19, self->cb.hits);
	EXPECT_EQ(7, direct2_hits);

	ASSERT_EQ(0, ftramp_direct__register(&self->d,
					     U64(test_direct_tramp)));
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&self->b));
	call_n(2);
	EXPECT_EQ(19, self->cb.hits);
	EXPECT_EQ(12, direct_hits);
	if (!variant->flags) {
		struct site_bytes sb = bytes_of("ft_add");

		/* Alone again and in range: back to `bl tramp`. */
		EXPECT_EQ(U64(test_direct_tramp), bl_target(&sb));
	}
	ASSERT_EQ(0, ftramp_direct__unregister(&self->d,
					       U64(test_direct_tramp)));
	EXPECT_EQ(A64_NOP, bytes_of("ft_add").b);
	EXPECT_EQ(0, ftramp_sync(5000));
}

static struct ftramp_ftrace_ops *recursing_ops;

static void recursing_handler(unsigned long ip, unsigned long parent_ip,
			      struct ftramp_ftrace_ops *op,
			      struct ftramp_ftrace_regs *fregs)
{
	struct counter *c = op->private;

	c->hits++;
	/* A traced call from inside the handler: skipped, counted. */
	ft_leaf(1);
}

/*
 * A `bti c` site through ftrace_caller: its literal is 20 bytes below
 * x30, not 16, so the site's BL must go to the copy's second entry.  Both
 * the register-saving path (a handler) and the direct path (a direct
 * ops kept off the BL) must find the right record.
 */
TEST(bti_site_through_caller)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = count_handler, .private = &c };
	struct ftramp_ftrace_ops d = {
		.flags = FTRAMP_FTRACE_OPS_FL_NO_DIRECT_BL,
	};
	struct site_bytes sb;

	ASSERT_EQ(U64(ft_bti) + 4, bytes_of("ft_bti").patch);
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_bti", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(i - 2, ft_bti(i, 2));
	EXPECT_EQ(5, c.hits);
	EXPECT_EQ(U64(ft_bti), c.ip);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));

	direct_hits = 0;
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&d, "ft_bti", 0));
	ASSERT_EQ(0, ftramp_direct__register(&d, U64(test_direct_tramp)));
	sb = bytes_of("ft_bti");
	EXPECT_NE(0, bl_target(&sb));
	EXPECT_NE(U64(test_direct_tramp), bl_target(&sb));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(10 - i, ft_bti(10, i));
	EXPECT_EQ(3, direct_hits);
	ASSERT_EQ(0, ftramp_direct__unregister(&d, U64(test_direct_tramp)));
	EXPECT_EQ(1, ft_bti(3, 2));
	EXPECT_EQ(3, direct_hits);
	ftramp_ftrace_ops__free_filter(&d);
	ftramp_ftrace_ops__free_filter(&ops);
}

TEST(recursion_guard)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = recursing_handler,
					 .private = &c };

	recursing_ops = &ops;
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_leaf", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	EXPECT_EQ(2, ft_leaf(1));
	EXPECT_EQ(1, c.hits);
	EXPECT_EQ(1, ftramp_ftrace_ops__misses(&ops));
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	ftramp_ftrace_ops__free_filter(&ops);
}

TEST(errors_leave_sites_unchanged)
{
	struct counter c = { 0 };
	struct ftramp_ftrace_ops ops = { .func = count_handler, .private = &c };
	struct ftramp_ftrace_ops nofunc = { 0 };
	struct ftramp_ftrace_ops d1 = { 0 }, d2 = { 0 };
	struct site_bytes before, after;

	EXPECT_EQ(-EINVAL, ftramp_ftrace_ops__register(NULL));
	EXPECT_EQ(-EINVAL, ftramp_ftrace_ops__register(&nofunc));
	EXPECT_EQ(-ENOENT, ftramp_ftrace_ops__set_filter(&ops, "no_such_*", 0));
	EXPECT_EQ(-ENOENT, ftramp_ftrace_ops__set_filter_ip(&ops, 16, 0));
	/* Flags beyond REMOVE and RESET are refused, nothing changed. */
	EXPECT_EQ(-EINVAL, ftramp_ftrace_ops__set_filter_ip(&ops,
			   U64(ft_mul), FTRAMP_FILTER_RESET << 1));
	EXPECT_EQ(-EINVAL, ftramp_ftrace_ops__set_notrace_ip(&ops,
			   U64(ft_mul), ~0u));
	EXPECT_EQ(-EINVAL, ftramp_ftrace_ops__unregister(&ops));
	EXPECT_EQ(-EINVAL, ftramp_direct__register(&ops, U64(test_direct_tramp)));
	EXPECT_EQ(-EINVAL, ftramp_direct__register(&d1, 0));
	EXPECT_EQ(-EINVAL, ftramp_direct__modify(&d1, U64(test_direct_tramp)));

	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_mul", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	EXPECT_EQ(-EBUSY, ftramp_ftrace_ops__register(&ops));
	EXPECT_EQ(-EBUSY, ftramp_ftrace_ops__free_filter(&ops));

	/* Two direct ops on one site: the second is refused whole. */
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&d1, "ft_other", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&d2, "ft_glob_*", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&d2, "ft_other", 0));
	ASSERT_EQ(0, ftramp_direct__register(&d1, U64(test_direct_tramp)));
	before = bytes_of("ft_other");
	struct site_bytes g1 = bytes_of("ft_glob_one");
	EXPECT_EQ(-EBUSY, ftramp_direct__register(&d2,
						  U64(test_direct_tramp2)));
	after = bytes_of("ft_other");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	after = bytes_of("ft_glob_one");
	EXPECT_EQ(0, memcmp(&g1, &after, sizeof(g1)));

	/*
	 * Someone rewrites a site behind our back: the next change to it
	 * fails with -EFAULT and writes nothing, anywhere.
	 */
	before = bytes_of("ft_mul");
	ASSERT_TRUE(a64_is_bl(before.b));
	uint64_t caller = bl_target(&before);
	void *bl = (void *)(uintptr_t)(before.patch + 4);

	ASSERT_EQ(0, ftramp_text_poke(bl, FTRAMP_POKE_CALL,
				      (void *)(uintptr_t)caller, NULL));
	before = bytes_of("ft_mul");
	EXPECT_EQ(-EFAULT, ftramp_ftrace_ops__unregister(&ops));
	after = bytes_of("ft_mul");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	/* Put it back: the ops is still registered and works again. */
	ASSERT_EQ(0, ftramp_text_poke(bl, FTRAMP_POKE_CALL, NULL,
				      (void *)(uintptr_t)caller));
	EXPECT_EQ(6, ft_mul(2, 3));
	EXPECT_EQ(1, c.hits);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	ftramp_ftrace_ops__free_filter(&ops);
	ASSERT_EQ(0, ftramp_direct__unregister(&d1, U64(test_direct_tramp)));
	ftramp_ftrace_ops__free_filter(&d1);
	ftramp_ftrace_ops__free_filter(&d2);
}

/* ------------------------------------------------------------------
 * Waits that end: a handler that does not return
 * ------------------------------------------------------------------ */

int ft_hold(int a);
TRACEE int ft_hold(int a) { return a + 100; }

static int hold_pipe[2];
static volatile int hold_in, hold_stop, hold_mask_sync;

/* Blocks until the test writes to hold_pipe: a frame that stays. */
static void hold_handler(unsigned long ip, unsigned long parent_ip,
			 struct ftramp_ftrace_ops *op,
			 struct ftramp_ftrace_regs *fregs)
{
	char c;

	(void)ip;
	(void)parent_ip;
	(void)fregs;
	__atomic_add_fetch((unsigned long *)op->private, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&hold_in, 1, __ATOMIC_RELEASE);
	while (read(hold_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
}

/* Calls ft_hold() until stopped. */
static void *hold_caller(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&hold_stop, __ATOMIC_ACQUIRE))
		if (ft_hold(1) != 101)
			return (void *)1;
	return NULL;
}

/* A running thread that never answers the sync signal. */
static void *sync_deaf(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, ftramp_patch_sync_signal());
	/* Raw: the interposed pthread_sigmask() keeps ours open. */
	thread_real_sigmask(SIG_BLOCK, &set, NULL);
	__atomic_store_n(&hold_mask_sync, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&hold_stop, __ATOMIC_ACQUIRE))
		;
	return NULL;
}

static bool pinned_record_frames(uint64_t want)
{
	struct ftramp_pinned pin[8];
	int n;

	for (int i = 0; i < 8; i++)
		pin[i].sz = sizeof(pin[i]);
	n = ftramp_reclaim__pinned(pin, 8);
	for (int i = 0; i < n && i < 8; i++)
		if (pin[i].kind == FTRAMP_PINNED_RECORD &&
		    pin[i].frames == want)
			return true;
	return false;
}

/*
 * A thread that never leaves the handler (a leaked frame, as far as
 * anyone can tell) does not hang unregister: -ETIMEDOUT after the bound,
 * the ops unregistered, the record left retired and named, and other
 * ops' unregisters unaffected; it is freed once the thread leaves.
 */
TEST(unregister_is_bounded)
{
	unsigned long hits = 0, other_hits = 0;
	struct ftramp_ftrace_ops ops = { .func = hold_handler,
					 .private = &hits };
	struct ftramp_ftrace_ops other = { .func = hold_handler,
					   .private = &other_hits };
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, pipe(hold_pipe));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_hold", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&other, "ft_leaf", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&other));
	ASSERT_EQ(0, pthread_create(&th, NULL, hold_caller, NULL));
	while (!__atomic_load_n(&hold_in, __ATOMIC_ACQUIRE))
		sched_yield();
	__atomic_store_n(&hold_stop, 1, __ATOMIC_RELEASE);

	reclaim_set_own_wait(100);
	EXPECT_EQ(-ETIMEDOUT, ftramp_ftrace_ops__unregister(&ops));
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), "record"));
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), ": 1 frame"));
	EXPECT_TRUE(pinned_record_frames(1));
	/* Unregistered: a new call does not run the handler. */
	EXPECT_EQ(102, ft_hold(2));
	EXPECT_EQ(1, hits);
	/* Another ops waits for its own record only. */
	EXPECT_EQ(0, ftramp_ftrace_ops__unregister(&other));
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(50));

	/* The thread leaves: reclamation frees the record. */
	ASSERT_EQ(1, write(hold_pipe[1], "x", 1));
	pthread_join(th, &ret);
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ(0, ftramp_sync(10000));
	EXPECT_FALSE(pinned_record_frames(1));
	reclaim_set_own_wait(0);
	ftramp_ftrace_ops__free_filter(&ops);
	ftramp_ftrace_ops__free_filter(&other);
}

/*
 * A register that fails after its change was visible (the site's literal
 * now names a list of two ops; the signal sync then times out: a thread
 * ignores it) while a thread is already inside the new handler, and
 * stays: the failure returns after the bound instead of waiting for ever,
 * and every byte of the site is as before.  Likewise when every sync
 * fails (fault injection).
 */
TEST(failed_register_is_bounded_and_unchanged)
{
	struct ftramp_sync_signal_opts so = {
		.timeout_ms = 1000, .no_switch_inference = true,
	};
	unsigned long hits = 0;
	struct counter c = { 0 };
	struct ftramp_ftrace_ops first = { .func = count_handler,
					   .private = &c };
	struct ftramp_ftrace_ops ops = { .func = hold_handler,
					 .private = &hits };
	struct site_bytes before, after;
	pthread_t th, deaf;

	ASSERT_EQ(0, pipe(hold_pipe));
	/* One ops on the site: adding a second is one literal store. */
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&first, "ft_hold", 0));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&first));
	before = bytes_of("ft_hold");

	/* Every sync of the change fails (fault injection): as before. */
	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "ft_hold", 0));
	ASSERT_EQ(0, ftramp_fault_set("membarrier", 1, FTRAMP_FAULT_FOREVER,
				      -EIO));
	EXPECT_EQ(-EIO, ftramp_ftrace_ops__register(&ops));
	ftramp_fault_clear_all();
	after = bytes_of("ft_hold");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	EXPECT_EQ(101, ft_hold(1));
	EXPECT_EQ(1, c.hits);
	EXPECT_EQ(0, hits);
	c.hits = 0;

	ASSERT_EQ(0, ftramp_patch_set_sync_method(FTRAMP_SYNC_SIGNAL));
	ftramp_patch_set_sync_signal_opts(&so);
	ASSERT_EQ(0, pthread_create(&deaf, NULL, sync_deaf, NULL));
	while (!__atomic_load_n(&hold_mask_sync, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_EQ(0, pthread_create(&th, NULL, hold_caller, NULL));
	reclaim_set_own_wait(100);
	EXPECT_EQ(-ETIMEDOUT, ftramp_ftrace_ops__register(&ops));
	/* The caller ran the new list during the sync, and stays in it. */
	EXPECT_EQ(1, __atomic_load_n(&hold_in, __ATOMIC_ACQUIRE));
	EXPECT_TRUE(pinned_record_frames(1));
	after = bytes_of("ft_hold");
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	__atomic_store_n(&hold_stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(1, write(hold_pipe[1], "x", 1));
	pthread_join(th, NULL);
	pthread_join(deaf, NULL);
	EXPECT_EQ(0, ftramp_sync(10000));
	EXPECT_EQ(1, hits);
	c.hits = 0;
	EXPECT_EQ(101, ft_hold(1));
	EXPECT_EQ(1, c.hits);
	EXPECT_EQ(1, hits);
	reclaim_set_own_wait(0);
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&first));
	ftramp_ftrace_ops__free_filter(&ops);
	ftramp_ftrace_ops__free_filter(&first);
}

TEST_HARNESS_MAIN
