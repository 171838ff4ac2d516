// SPDX-License-Identifier: MIT
/*
 * The unknown model is exact (Documentation/models.rst, "The unknown
 * model"; trampoline.rst, "Return hook" and "Shadow stack"):
 *
 *  - every kind of AAPCS64 function traced with no model (18 arguments,
 *    10 of them on the stack; float32x4_t; long double; an HFA of four
 *    doubles; a variadic function; an x8 indirect result) returns
 *    bit-exactly what it returns untraced, in fentry-only, fexit,
 *    fmod_ret and fentry+fexit modes; fexit sees x0-x7 and x0 / d0;
 *  - fmod_ret overriding works on the unknown model;
 *  - recursion and a signal handler calling a hooked function nest;
 *  - a variadic function with DWARF gets the unknown model;
 *  - frames abandoned by longjmp / siglongjmp (return hook and modelled
 *    fexit) are found on the next entry, their counts released and
 *    reported unwound: detach + ftramp_sync(-1) completes; until then
 *    the image is pinned, and detaching does not wait for it.
 */
#include <arm_neon.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/site_bytes.h"

struct hfa4 { double a, b, c, d; };
struct big { long v[6]; };

long uk_s18(long a1, long a2, long a3, long a4, long a5, long a6, long a7,
	    long a8, long a9, long a10, long a11, long a12, long a13,
	    long a14, long a15, long a16, long a17, long a18);
float32x4_t uk_vec(float32x4_t a, float32x4_t b);
long double uk_ld(long double a, long double b);
struct hfa4 uk_hfa(struct hfa4 x, double k);
double uk_vsum(int n, ...);
struct big uk_big(long a, long b);
long uk_fact(long n);
long uk_sig(long n);
long uk_jump(long n);
long uk_mjump(long n);
int uk_sigjump(int n);

TRACEE long uk_s18(long a1, long a2, long a3, long a4, long a5, long a6,
		   long a7, long a8, long a9, long a10, long a11, long a12,
		   long a13, long a14, long a15, long a16, long a17, long a18)
{
	return a1 + 2 * a2 + 3 * a3 + 4 * a4 + 5 * a5 + 6 * a6 + 7 * a7 +
	       8 * a8 + 9 * a9 + 10 * a10 + 11 * a11 + 12 * a12 +
	       13 * a13 + 14 * a14 + 15 * a15 + 16 * a16 + 17 * a17 +
	       18 * a18;
}

TRACEE float32x4_t uk_vec(float32x4_t a, float32x4_t b)
{
	return vaddq_f32(a, vmulq_n_f32(b, 2.0f));
}

TRACEE long double uk_ld(long double a, long double b)
{
	return a * b + 1.0L;
}

TRACEE struct hfa4 uk_hfa(struct hfa4 x, double k)
{
	return (struct hfa4){ x.a * k, x.b * k, x.c * k, x.d * k };
}

TRACEE double uk_vsum(int n, ...)
{
	double s = 0;
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s += i & 1 ? va_arg(ap, double) : (double)va_arg(ap, long);
	va_end(ap);
	return s;
}

TRACEE struct big uk_big(long a, long b)
{
	struct big r;

	for (int i = 0; i < 6; i++)
		r.v[i] = a * i + b;
	return r;
}

/* Called through a volatile pointer: gcc makes no loop of it. */
static long (*volatile fact_ptr)(long) = uk_fact;

TRACEE long uk_fact(long n)
{
	return n <= 1 ? 1 : n * fact_ptr(n - 1);
}

/* ------------------------------------------------------------------ */

static uint64_t n_entry, n_exit, exit_x0, exit_d0, exit_args[8];
static uint64_t n_unwound, unwound_arg0, unwound_ret_err;
static uint64_t mod_value;

static uint64_t p_entry(const uint64_t *ctx)
{
	(void)ctx;
	n_entry++;
	return 0;
}

static uint64_t p_exit(const uint64_t *ctx)
{
	uint64_t v;

	if (ftramp_get_func_unwound(ctx)) {
		/* a frame abandoned by longjmp, reported later */
		n_unwound++;
		unwound_arg0 = ctx[0];
		unwound_ret_err = (uint64_t)-ftramp_get_func_ret(ctx, &v);
		return 0;
	}
	n_exit++;
	if (ftramp_get_func_arg_cnt(ctx) == 8) {
		/* the unknown model: x0-x7, then x0 and d0 */
		memcpy(exit_args, ctx, sizeof(exit_args));
		exit_d0 = ctx[9];
	}
	ftramp_get_func_ret(ctx, &exit_x0);
	return 0;
}

static uint64_t p_mod(const uint64_t *ctx)
{
	(void)ctx;
	return mod_value;
}

static void reset(void)
{
	n_entry = n_exit = exit_x0 = exit_d0 = mod_value = 0;
	n_unwound = unwound_arg0 = unwound_ret_err = 0;
	memset(exit_args, 0, sizeof(exit_args));
}

enum mode { M_FENTRY, M_FEXIT, M_FMOD, M_BOTH, NR_MODES };
static const char *const mode_name[NR_MODES] = {
	"fentry", "fexit", "fmod_ret", "fentry+fexit",
};

struct links {
	struct ftramp_link *l[3];
};

static int attach_mode(struct links *ls, const char *fn, enum mode m,
		       bool dwarf)
{
	struct ftramp_attach_opts o = { .sz = sizeof(o), .no_dwarf = !dwarf };
	unsigned int n = 0;

	memset(ls, 0, sizeof(*ls));
	if (m == M_FENTRY || m == M_BOTH)
		ls->l[n++] = ftramp_attach(fn, FTRAMP_FENTRY, p_entry, &o);
	if (m == M_FEXIT || m == M_BOTH)
		ls->l[n++] = ftramp_attach(fn, FTRAMP_FEXIT, p_exit, &o);
	if (m == M_FMOD)
		ls->l[n++] = ftramp_attach(fn, FTRAMP_FMOD_RET, p_mod, &o);
	for (unsigned int i = 0; i < n; i++)
		if (!ls->l[i])
			return -errno;
	return 0;
}

static void detach_all(struct links *ls)
{
	for (unsigned int i = 0; i < 3; i++)
		ftramp_link__destroy(ls->l[i]);
	memset(ls, 0, sizeof(*ls));
}

static bool counts_ok(enum mode m, uint64_t calls)
{
	uint64_t e = m == M_FENTRY || m == M_BOTH ? calls : 0;
	uint64_t x = m == M_FEXIT || m == M_BOTH ? calls : 0;

	return n_entry == e && n_exit == x;
}

/* Call each function untraced, then traced in every mode: bit-exact. */
#define EXACT(fn, call, type)						\
	do {								\
		type want = call, got;					\
		struct links ls;					\
									\
		for (int m = 0; m < NR_MODES; m++) {			\
			reset();					\
			ASSERT_EQ(0, attach_mode(&ls, fn, m, false));	\
			got = call;					\
			detach_all(&ls);				\
			if (memcmp(&want, &got, sizeof(want)))		\
				TH_LOG("%s, %s: result differs", fn,	\
				       mode_name[m]);			\
			EXPECT_EQ(0, memcmp(&want, &got, sizeof(want)));\
			EXPECT_TRUE(counts_ok(m, 1));			\
		}							\
	} while (0)

TEST(stack_args_s18)
{
	EXACT("uk_s18", uk_s18(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
			       14, 15, 16, 17, 18), long);
	EXPECT_EQ(2109, uk_s18(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
			       15, 16, 17, 18));
}

TEST(float32x4)
{
	float32x4_t a = { 1, 2, 3, 4 }, b = { 0.5f, 0.25f, 8, -1 };

	EXACT("uk_vec", uk_vec(a, b), float32x4_t);
}

TEST(long_double)
{
	EXACT("uk_ld", uk_ld(4.5L, 3.25L), long double);
}

TEST(hfa_of_doubles)
{
	struct hfa4 x = { 1.5, -2.25, 3.125, 1e300 };

	EXACT("uk_hfa", uk_hfa(x, 3.0), struct hfa4);
}

TEST(variadic)
{
	EXACT("uk_vsum", uk_vsum(14, 1L, 2.5, 3L, 4.5, 5L, 6.5, 7L, 8.5, 9L,
				 10.5, 11L, 12.5, 13L, 14.5), double);
}

TEST(x8_indirect_result)
{
	EXACT("uk_big", uk_big(7, -3), struct big);
}

/* fexit sees the argument registers and x0 / d0 of the result. */
TEST(fexit_ctx)
{
	struct links ls;
	long r;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_s18", M_FEXIT, false));
	r = uk_s18(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		   18);
	detach_all(&ls);
	EXPECT_EQ(2109, r);
	EXPECT_EQ(1, n_exit);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ((uint64_t)i + 1, exit_args[i]);
	EXPECT_EQ(2109, exit_x0);

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_ld", M_FEXIT, false));
	(void)uk_ld(1.0L, 2.0L);
	detach_all(&ls);
	EXPECT_EQ(1, n_exit);
}

/* fmod_ret on the unknown model: a non-zero value replaces the call. */
TEST(fmod_ret_overrides)
{
	struct links ls;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_s18", M_FMOD, false));
	mod_value = 4242;
	EXPECT_EQ(4242, uk_s18(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
			       15, 16, 17, 18));
	mod_value = 0;
	EXPECT_EQ(2109, uk_s18(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
			       15, 16, 17, 18));
	detach_all(&ls);
}

/* DWARF says variadic: the unknown model (the return hook). */
TEST(variadic_dwarf_is_unknown)
{
	struct links ls;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_vsum", M_BOTH, true));
	EXPECT_EQ(NULL, ftramp_link__model(ls.l[0]));
	EXPECT_EQ(47.0, uk_vsum(9, 1L, 2.5, 3L, 4.5, 5L, 6.5, 7L, 8.5, 9L));
	detach_all(&ls);
	EXPECT_EQ(1, n_entry);
	EXPECT_EQ(1, n_exit);
}

TEST(recursion_nests)
{
	struct links ls;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_fact", M_BOTH, false));
	EXPECT_EQ(3628800, uk_fact(10));
	detach_all(&ls);
	EXPECT_EQ(10, n_entry);
	EXPECT_EQ(10, n_exit);
	EXPECT_EQ(3628800, exit_x0);	/* the outermost exit ran last */
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* Deeper than the shadow stack holds: the rest run untraced, no crash. */
long uk_depth(long n);
static long (*volatile depth_ptr)(long) = uk_depth;

TRACEE long uk_depth(long n)
{
	return n ? 1 + depth_ptr(n - 1) : 0;
}

TEST(shadow_stack_overflow)
{
	struct links ls;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_depth", M_FEXIT, false));
	EXPECT_EQ(15000, uk_depth(15000));
	EXPECT_LT(5000, n_exit);
	EXPECT_GT(15001, n_exit);
	n_exit = 0;
	EXPECT_EQ(10, uk_depth(10));
	EXPECT_EQ(11, n_exit);
	detach_all(&ls);
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* A signal handler calls a hooked function from inside a hooked one. */
static volatile long sig_result;

static void on_usr1(int sig)
{
	(void)sig;
	sig_result = uk_fact(5);
}

TRACEE long uk_sig(long n)
{
	raise(SIGUSR1);
	return n * 3;
}

TEST(signal_handler_nests)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	struct links a, b;

	reset();
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	ASSERT_EQ(0, attach_mode(&a, "uk_sig", M_FEXIT, false));
	ASSERT_EQ(0, attach_mode(&b, "uk_fact", M_FEXIT, false));
	EXPECT_EQ(21, uk_sig(7));
	EXPECT_EQ(120, sig_result);
	EXPECT_EQ(6, n_exit);		/* 5 levels of uk_fact, uk_sig */
	EXPECT_EQ(21, exit_x0);		/* uk_sig returned last */
	detach_all(&a);
	detach_all(&b);
	sigaction(SIGUSR1, &old, NULL);
	EXPECT_EQ(0, ftramp_sync(-1));
}

/* ------------------------------------------------------------------ */
/* Non-local exits                                                     */

static jmp_buf jb;
static sigjmp_buf sjb;

TRACEE long uk_jump(long n)
{
	if (n >= 0)
		longjmp(jb, 1);
	return n;
}

/* The same, given a model (a modelled fexit image: a plain record). */
TRACEE long uk_mjump(long n)
{
	if (n >= 0)
		longjmp(jb, 1);
	return n;
}

static __attribute__((noipa)) int jump_loop(long (*fn)(long), int times)
{
	volatile int done = 0;

	for (volatile int i = 0; i < times; i++)
		if (!setjmp(jb))
			fn(i);
		else
			done++;
	return done;
}

static void longjmp_case(struct __test_metadata *_metadata, const char *fn,
			 long (*call)(long), bool dwarf, uint64_t last_arg)
{
	struct links ls;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, fn, M_BOTH, dwarf));
	EXPECT_EQ(1000, jump_loop(call, 1000));
	/* The next entry at this level finds the last abandoned frame. */
	EXPECT_EQ(-5, call(-5));
	EXPECT_EQ(1001, n_entry);
	EXPECT_EQ(1, n_exit);
	EXPECT_EQ((uint64_t)-5, exit_x0);
	EXPECT_EQ(1000, ftramp_link__unwound(ls.l[1]));
	/* Each reported to fexit as unwound, without a result. */
	EXPECT_EQ(1000, n_unwound);
	EXPECT_EQ(last_arg, unwound_arg0);
	EXPECT_EQ(ENODATA, unwound_ret_err);
	detach_all(&ls);
	/*
	 * Every abandoned frame gave its in-flight unit back: the images
	 * go at once (a leak made every bounded sync time out, and
	 * ftramp_sync(-1) wait for ever).
	 */
	EXPECT_EQ(0, ftramp_sync(2000));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
}

TEST(longjmp_out_of_hooked)
{
	/* x0 of the last abandoned call: the record kept it */
	longjmp_case(_metadata, "uk_jump", uk_jump, false, 999);
}

TEST(longjmp_out_of_modelled_fexit)
{
	/* a modelled image keeps no arguments: zeros */
	longjmp_case(_metadata, "uk_mjump", uk_mjump, true, 0);
}

static void on_usr2(int sig)
{
	(void)sig;
	siglongjmp(sjb, 1);
}

TRACEE int uk_sigjump(int n)
{
	if (n >= 0)
		raise(SIGUSR2);
	return n;
}

TEST(siglongjmp_out_of_a_handler)
{
	struct sigaction sa = { .sa_handler = on_usr2 }, old;
	struct links a, b;
	volatile int done = 0;

	reset();
	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, &old));
	ASSERT_EQ(0, attach_mode(&a, "uk_sigjump", M_BOTH, false));
	ASSERT_EQ(0, attach_mode(&b, "uk_fact", M_FEXIT, true));
	for (volatile int i = 0; i < 100; i++)
		if (!sigsetjmp(sjb, 1))
			uk_sigjump(i);
		else
			done++;
	EXPECT_EQ(100, done);
	EXPECT_EQ(-1, uk_sigjump(-1));
	EXPECT_EQ(120, uk_fact(5));
	EXPECT_EQ(101, n_entry);
	EXPECT_EQ(6, n_exit);
	EXPECT_EQ(100, ftramp_link__unwound(a.l[1]));
	EXPECT_EQ(100, n_unwound);
	detach_all(&a);
	detach_all(&b);
	sigaction(SIGUSR2, &old, NULL);
	EXPECT_EQ(0, ftramp_sync(-1));
}

/*
 * A frame abandoned by longjmp on a thread that then waits, calling no
 * traced function.  Its record holds its image: nothing else on that
 * thread will look at the record, and no other thread may pop it
 * (trampoline.rst, "Shadow stack": why release waits for the thread).
 * Detaching does not wait for it; ftramp_sync() gives up and
 * ftramp_reclaim__pinned() names the image, one frame inside.  The
 * thread's next traced entry (another function's) releases it, reported
 * unwound to the detached link's program, and the image is freed.
 */
static jmp_buf ljb;
static int lj_ready[2], lj_go[2];
long uk_ljump(long n);
long uk_lcall(long n);

TRACEE long uk_ljump(long n)
{
	if (n >= 0)
		longjmp(ljb, 1);
	return n;
}

TRACEE long uk_lcall(long n)
{
	return n + 1;
}

static __attribute__((noipa)) void lj_step(int fd_in, int fd_out)
{
	char c = 0;

	if (write(fd_out, &c, 1) != 1 || read(fd_in, &c, 1) != 1)
		abort();
}

static void *lj_thread(void *arg)
{
	(void)arg;
	if (!setjmp(ljb))
		uk_ljump(1);
	lj_step(lj_go[0], lj_ready[1]);		/* abandoned; wait */
	uk_lcall(1);				/* the next traced entry */
	lj_step(lj_go[0], lj_ready[1]);
	return NULL;
}

TEST(longjmp_pins_until_the_thread_calls_again)
{
	struct ftramp_pinned pin = { .sz = sizeof(pin) };
	struct links a, b;
	pthread_t th;
	char c = 0;

	reset();
	ASSERT_EQ(0, pipe(lj_ready));
	ASSERT_EQ(0, pipe(lj_go));
	ASSERT_EQ(0, attach_mode(&a, "uk_ljump", M_FEXIT, false));
	ASSERT_EQ(0, attach_mode(&b, "uk_lcall", M_FEXIT, false));
	ASSERT_EQ(0, pthread_create(&th, NULL, lj_thread, NULL));
	ASSERT_EQ(1, read(lj_ready[0], &c, 1));
	EXPECT_EQ(0, n_unwound);
	/* Detached: returns at once; the image stays, one frame in it. */
	detach_all(&a);
	EXPECT_EQ(-ETIMEDOUT, ftramp_sync(0));
	ASSERT_EQ(1, ftramp_reclaim__pinned(&pin, 1));
	EXPECT_EQ(FTRAMP_PINNED_IMAGE, pin.kind);
	EXPECT_EQ((uint64_t)(uintptr_t)uk_ljump, pin.func);
	EXPECT_EQ(1, pin.frames);
	/* The thread enters uk_lcall: the dead record is found. */
	ASSERT_EQ(1, write(lj_go[1], &c, 1));
	ASSERT_EQ(1, read(lj_ready[0], &c, 1));
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(1, n_exit);			/* uk_lcall's */
	EXPECT_EQ(0, ftramp_sync(60000));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
	ASSERT_EQ(1, write(lj_go[1], &c, 1));
	ASSERT_EQ(0, pthread_join(th, NULL));
	detach_all(&b);
	EXPECT_EQ(0, ftramp_sync(60000));
}

/*
 * Modelled fexit images (a plain record from the entry to the pop before
 * the fexit programs), the rare paths of each end:
 *
 *  - deeper than the shadow stack holds: calls beyond it run with no
 *    record, their fexit programs still run, nothing is reported
 *    unwound, and each pop finds its own record or none;
 *  - an fmod_ret skip pops the record too (a record left behind would
 *    be found dead at the next entry and reported unwound);
 *  - a longjmp from a callee back into the body: the caller's pop finds
 *    the callee's dead record above its own and releases it at once.
 */
long uk_mdepth(long n);
long uk_mskip(long n);
long uk_mouter(long n);
static long (*volatile mdepth_ptr)(long) = uk_mdepth;

TRACEE long uk_mdepth(long n)
{
	return n ? 1 + mdepth_ptr(n - 1) : 0;
}

TRACEE long uk_mskip(long n)
{
	return n + 1;
}

TRACEE long uk_mouter(long n)
{
	volatile long v = n;

	if (!setjmp(jb))
		uk_mjump(v);
	return v + 1;
}

TEST(modelled_shadow_stack_overflow)
{
	struct links ls;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_mdepth", M_FEXIT, true));
	EXPECT_EQ(15000, uk_mdepth(15000));
	EXPECT_EQ(15001, n_exit);
	EXPECT_EQ(0, n_unwound);
	EXPECT_EQ(0, ftramp_link__unwound(ls.l[0]));
	n_exit = 0;
	EXPECT_EQ(10, uk_mdepth(10));
	EXPECT_EQ(11, n_exit);
	EXPECT_EQ(0, ftramp_link__unwound(ls.l[0]));
	detach_all(&ls);
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST(modelled_fmod_ret_skip_pops)
{
	struct ftramp_attach_opts o = { .sz = sizeof(o) };
	struct ftramp_link *m, *x;

	reset();
	m = ftramp_attach("uk_mskip", FTRAMP_FMOD_RET, p_mod, &o);
	x = ftramp_attach("uk_mskip", FTRAMP_FEXIT, p_exit, &o);
	ASSERT_TRUE(m != NULL);
	ASSERT_TRUE(x != NULL);
	mod_value = 7;
	for (int i = 0; i < 100; i++)
		EXPECT_EQ(7, uk_mskip(i));
	mod_value = 0;
	EXPECT_EQ(6, uk_mskip(5));
	EXPECT_EQ(101, n_exit);
	EXPECT_EQ(6, exit_x0);
	EXPECT_EQ(0, n_unwound);
	EXPECT_EQ(0, ftramp_link__unwound(x));
	ftramp_link__destroy(m);
	ftramp_link__destroy(x);
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST(modelled_longjmp_below_an_exit)
{
	struct links in, out;

	reset();
	ASSERT_EQ(0, attach_mode(&in, "uk_mjump", M_FEXIT, true));
	ASSERT_EQ(0, attach_mode(&out, "uk_mouter", M_FEXIT, true));
	EXPECT_EQ(4, uk_mouter(3));
	/* Found by uk_mouter's own exit, before its fexit program ran. */
	EXPECT_EQ(1, ftramp_link__unwound(in.l[0]));
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(1, n_exit);
	EXPECT_EQ(4, exit_x0);
	EXPECT_EQ(0, ftramp_link__unwound(out.l[0]));
	detach_all(&in);
	detach_all(&out);
	EXPECT_EQ(0, ftramp_sync(-1));
}

/*
 * pthread_exit() inside a hooked function: the forced unwind passes the
 * exit stub (trampoline.rst, "Unwinding through a return hook"), whose
 * personality pops the record: the count is free, the exit reported
 * unwound.  (An unwinder that does not ask libftramp stops at the stub;
 * then the thread's exit releases the record, with the same result.)
 */
long uk_exit(long n);

TRACEE long uk_exit(long n)
{
	if (n >= 0)
		pthread_exit(NULL);
	return n;
}

static void *exit_thread(void *arg)
{
	(void)arg;
	uk_exit(1);
	return NULL;
}

TEST(pthread_exit_out_of_hooked)
{
	struct links ls;
	pthread_t th;

	reset();
	ASSERT_EQ(0, attach_mode(&ls, "uk_exit", M_BOTH, false));
	ASSERT_EQ(0, pthread_create(&th, NULL, exit_thread, NULL));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, n_entry);
	EXPECT_EQ(0, n_exit);
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(1, ftramp_link__unwound(ls.l[1]));
	detach_all(&ls);
	EXPECT_EQ(0, ftramp_sync(-1));
}

TEST_HARNESS_MAIN
