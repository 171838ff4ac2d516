// SPDX-License-Identifier: MIT
/*
 * A statically linked program that links libftramp.a and traces its own
 * functions through the API (Documentation/building-your-program.rst,
 * "Static programs"): what `ftramp run` sends static programs to do,
 * since no dynamic loader reads its LD_PRELOAD (exit 125).  Built by
 * selftests/static.mk with -static and the entry flags.
 *
 *  - the binary really is static (no PT_INTERP, no interpreter base);
 *  - the site table and the DWARF models come from the program itself;
 *  - fentry, fexit, both, fmod_ret and FTRAMP_COUNT, near and far, on
 *    functions with integer, floating-point, stack and by-reference
 *    arguments: every result as untraced, every program call counted;
 *  - pthread_cancel() through an fexit-traced function: the images are
 *    registered with the unwinder linked into the program (libgcc_eh.a,
 *    not a libgcc_s.so.1 loaded beside it), so the unwind runs the
 *    trampoline's personality, which releases the frame and reports it
 *    unwound to the fexit program there and then, before the cleanup
 *    below it runs; the cleanups run, detach and ftramp_sync() finish;
 *  - a C++ exception (selftests/unwind_cxx.cc) through an fexit-traced
 *    function, near and far: caught as untraced, the call reported
 *    unwound by the time the catch is done;
 *  - longjmp() out of an fexit-traced function: the abandoned frames
 *    are found and counted, sync finishes.
 */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"

#define NOINLINE __attribute__((noinline, noipa))

/* Far longer than any reclamation takes; only a leak reaches it. */
#define SYNC_BOUND_MS	60000

struct big { long a, b, c, d; };

long st_add(long a, long b);
double st_mix(int i, double x, float f, long l);
long st_many(long a0, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7, long a8, long a9);
long st_big(struct big s, long k);
long st_blocks(int fd);
long st_jump(jmp_buf *jb, long x);

NOINLINE long st_add(long a, long b)
{
	return a * 7 + b;
}

NOINLINE double st_mix(int i, double x, float f, long l)
{
	return i * x + f / 4 - (double)l;
}

/* a8 and a9 on the stack (AAPCS64: eight GP argument registers). */
NOINLINE long st_many(long a0, long a1, long a2, long a3, long a4, long a5,
		      long a6, long a7, long a8, long a9)
{
	return a0 + 2 * a1 + 3 * a2 + 4 * a3 + 5 * a4 + 6 * a5 + 7 * a6 +
	       8 * a7 + 9 * a8 + 10 * a9;
}

/* 32 bytes: passed by reference to a caller's copy. */
NOINLINE long st_big(struct big s, long k)
{
	return s.a * 1000 + s.b * 100 + s.c * 10 + s.d + k;
}

/* A cancellation point inside a traced function. */
NOINLINE long st_blocks(int fd)
{
	char c;

	return read(fd, &c, 1);
}

NOINLINE long st_jump(jmp_buf *jb, long x)
{
	if (x < 0)
		longjmp(*jb, 1);
	return x + 1;
}

static int has_interp(struct dl_phdr_info *info, size_t size, void *data)
{
	int *found = data;

	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*found = 1;
	return 0;
}

/* Else the other tests would prove nothing about static programs. */
TEST(really_static)
{
	int interp = 0;

	EXPECT_EQ(0, getauxval(AT_BASE));
	dl_iterate_phdr(has_interp, &interp);
	EXPECT_EQ(0, interp);
}

TEST(sites_and_models_of_the_program)
{
	struct ftramp_site_info info = { .sz = sizeof(info) };
	const struct ftramp_site *s;
	struct ftramp_func_model m;

	s = ftramp_sites__find_name(ftramp_sites__get(), "st_many");
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, ftramp_site__info(s, &info));
	EXPECT_EQ(FTRAMP_SITE_OK, info.status);

	ASSERT_EQ(0, ftramp_model__from_dwarf("st_mix", &m, NULL));
	ASSERT_EQ(4, m.nr_args);
	EXPECT_EQ(FTRAMP_TYPE_INT, m.args[0].cls);
	EXPECT_EQ(FTRAMP_TYPE_FLOAT, m.args[1].cls);
	EXPECT_EQ(4, m.args[2].size);
	EXPECT_EQ(FTRAMP_TYPE_FLOAT, m.ret.cls);
	ASSERT_EQ(0, ftramp_model__from_dwarf("st_many", &m, NULL));
	EXPECT_EQ(10, m.nr_args);
	ASSERT_EQ(0, ftramp_model__from_dwarf("st_big", &m, NULL));
	EXPECT_EQ(FTRAMP_TYPE_STRUCT, m.args[0].cls);
}

static uint64_t n_entry, n_exit, args_ok, ret_ok;
static uint64_t mod_value;

/* What st_add's programs expect: ctx[0] = a, ctx[1] = b. */
static uint64_t on_entry(const uint64_t *ctx)
{
	n_entry++;
	return 0;
}

static uint64_t on_exit_add(const uint64_t *ctx)
{
	uint64_t r;

	n_exit++;
	if (!ftramp_get_func_ret(ctx, &r) &&
	    (long)r == (long)ctx[0] * 7 + (long)ctx[1])
		ret_ok++;
	return 0;
}

static uint64_t on_exit_many(const uint64_t *ctx)
{
	uint64_t r, want = 0;

	n_exit++;
	for (int i = 0; i < 10; i++)
		want += (i + 1) * ctx[i];
	if (!ftramp_get_func_ret(ctx, &r) && r == want)
		ret_ok++;
	if (ctx[8] == ctx[0] + 8 && ctx[9] == ctx[0] + 9)
		args_ok++;
	return 0;
}

static uint64_t on_exit_any(const uint64_t *ctx)
{
	n_exit++;
	return 0;
}

static uint64_t on_modret(const uint64_t *ctx)
{
	return mod_value;
}

/* Each runner: a digest of several calls, and how many calls it made. */
static long run_add(void)
{
	long h = 0;

	for (long i = -3; i < 5; i++)
		h = h * 31 + st_add(i * 1000003, 7 - i);
	return h;
}

static long run_mix(void)
{
	double h = 0;
	long bits;

	for (int i = -3; i < 5; i++)
		h = h * 3 + st_mix(i, 1.0 / (i + 10), 0.5f * i, i * 11);
	memcpy(&bits, &h, sizeof(bits));
	return bits;
}

static long run_many(void)
{
	long h = 0;

	for (long i = -3; i < 5; i++)
		h = h * 31 + st_many(i, i + 1, i + 2, i + 3, i + 4, i + 5,
				     i + 6, i + 7, i + 8, i + 9);
	return h;
}

static long run_big(void)
{
	long h = 0;

	for (long i = -3; i < 5; i++) {
		struct big b = { i, i * 2, i * 3, i * 4 };

		h = h * 31 + st_big(b, i * 5);
	}
	return h;
}

struct fn_case {
	const char *name;
	long (*run)(void);
	ftramp_prog_t on_exit;
};

#define CALLS	8	/* per run() */

static const struct fn_case fns[] = {
	{ "st_add", run_add, on_exit_add },
	{ "st_mix", run_mix, on_exit_any },
	{ "st_many", run_many, on_exit_many },
	{ "st_big", run_big, on_exit_any },
};

enum mode { M_FENTRY, M_FEXIT, M_BOTH, M_COUNT, M_MAX };

static void trace_fn(struct __test_metadata *_metadata,
		     const struct fn_case *c, enum mode mode, bool far)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .force_far = far);
	struct ftramp_link *in = NULL, *out = NULL, *cnt = NULL;
	long want = c->run(), got;

	n_entry = n_exit = args_ok = ret_ok = 0;
	if (mode == M_FENTRY || mode == M_BOTH) {
		in = ftramp_attach(c->name, FTRAMP_FENTRY, on_entry, &opts);
		ASSERT_NE(NULL, in);
		/* the program's own DWARF gave the model */
		EXPECT_NE(NULL, ftramp_link__model(in));
	}
	if (mode == M_FEXIT || mode == M_BOTH) {
		out = ftramp_attach(c->name, FTRAMP_FEXIT, c->on_exit, &opts);
		ASSERT_NE(NULL, out);
	}
	if (mode == M_COUNT) {
		cnt = ftramp_attach(c->name, FTRAMP_COUNT, NULL, &opts);
		ASSERT_NE(NULL, cnt);
	}
	got = c->run();
	EXPECT_EQ(mode == M_COUNT ? CALLS : 0, ftramp_link__count(cnt));
	EXPECT_EQ(0, ftramp_link__destroy(in));
	EXPECT_EQ(0, ftramp_link__destroy(out));
	EXPECT_EQ(0, ftramp_link__destroy(cnt));
	if (want != got)
		TH_LOG("%s mode %d far %d: %ld, untraced %ld", c->name, mode,
		       far, got, want);
	EXPECT_EQ(want, got);
	EXPECT_EQ(mode == M_FENTRY || mode == M_BOTH ? CALLS : 0, n_entry);
	EXPECT_EQ(mode == M_FEXIT || mode == M_BOTH ? CALLS : 0, n_exit);
	if (out && c->on_exit != on_exit_any)
		EXPECT_EQ(CALLS, ret_ok);
	if (out && c->on_exit == on_exit_many)
		EXPECT_EQ(CALLS, args_ok);
	EXPECT_EQ(want, c->run());
}

TEST(trace_near)
{
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		for (int mode = M_FENTRY; mode < M_MAX; mode++)
			trace_fn(_metadata, &fns[i], mode, false);
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
}

TEST(trace_far)
{
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		for (int mode = M_FENTRY; mode < M_MAX; mode++)
			trace_fn(_metadata, &fns[i], mode, true);
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
}

TEST(fmod_ret_overrides)
{
	struct ftramp_link *l;
	long want = st_add(5, 6);

	l = ftramp_attach("st_add", FTRAMP_FMOD_RET, on_modret, NULL);
	ASSERT_NE(NULL, l);
	mod_value = 4242;
	EXPECT_EQ(4242, st_add(5, 6));
	mod_value = 0;
	EXPECT_EQ(want, st_add(5, 6));
	EXPECT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(want, st_add(5, 6));
}

struct cancel_arg {
	pthread_mutex_t mutex;
	int fd;
	int cleanups;
};

/*
 * fexit on a call that may be unwound: which, and for the cancelled
 * thread, how many of its cleanups had run by then.
 */
static long n_returned, n_unwound;
static struct cancel_arg *cancelling;
static int cleanups_at_report = -1;

static uint64_t on_exit_split(const uint64_t *ctx)
{
	if (!ftramp_get_func_unwound(ctx)) {
		n_returned++;
		return 0;
	}
	n_unwound++;
	if (cancelling)
		cleanups_at_report = cancelling->cleanups;
	return 0;
}

static void unlock_cleanup(void *p)
{
	struct cancel_arg *a = p;

	a->cleanups++;
	pthread_mutex_unlock(&a->mutex);
}

static void *cancel_thread(void *p)
{
	struct cancel_arg *a = p;

	pthread_mutex_lock(&a->mutex);
	pthread_cleanup_push(unlock_cleanup, a);
	st_blocks(a->fd);
	pthread_cleanup_pop(1);
	return NULL;
}

/*
 * Had the images gone to another unwinder (a libgcc_s.so.1 loaded by
 * the library) than the one glibc's static pthread_cancel() uses, the
 * unwind would pass the trampoline's frame without its personality:
 * the frame would be found abandoned only at the thread's exit, after
 * the cleanup, and reported unwound then.  The personality reports it
 * as the unwind passes, before the cleanup of the frame below.
 */
TEST(cancel_through_fexit)
{
	struct cancel_arg a = { .mutex = PTHREAD_MUTEX_INITIALIZER };
	struct ftramp_link *l;
	int fds[2];
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, pipe(fds));
	a.fd = fds[0];
	l = ftramp_attach("st_blocks", FTRAMP_FEXIT, on_exit_split, NULL);
	ASSERT_NE(NULL, l);
	n_returned = n_unwound = 0;
	cancelling = &a;
	ASSERT_EQ(0, pthread_create(&th, NULL, cancel_thread, &a));
	ASSERT_EQ(0, pthread_cancel(th));
	ASSERT_EQ(0, pthread_join(th, &ret));
	cancelling = NULL;
	EXPECT_TRUE(ret == PTHREAD_CANCELED);
	EXPECT_EQ(1, a.cleanups);
	EXPECT_EQ(0, pthread_mutex_trylock(&a.mutex));
	EXPECT_EQ(0, n_returned);
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(0, cleanups_at_report);
	EXPECT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	close(fds[0]);
	close(fds[1]);
}

/* unwind_cxx.cc: uw_catch() catches what uw_thrower() throws for x > 0. */
long uw_catch(long x);

static void throw_through(struct __test_metadata *_metadata, bool far)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .force_far = far);
	long thrown = uw_catch(3), normal = uw_catch(-2);
	struct ftramp_link *l;

	l = ftramp_attach("uw_thrower", FTRAMP_FEXIT, on_exit_split, &opts);
	ASSERT_NE(NULL, l);
	n_returned = n_unwound = 0;
	/* Reported by the personality: before any later traced entry. */
	EXPECT_EQ(thrown, uw_catch(3));
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(1, ftramp_link__unwound(l));
	EXPECT_EQ(normal, uw_catch(-2));
	EXPECT_EQ(thrown, uw_catch(3));
	EXPECT_EQ(1, n_returned);
	EXPECT_EQ(2, n_unwound);
	EXPECT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
}

TEST(exception_through_fexit_near)
{
	throw_through(_metadata, false);
}

TEST(exception_through_fexit_far)
{
	throw_through(_metadata, true);
}

TEST(longjmp_out_of_fexit)
{
	struct ftramp_link *l;
	jmp_buf jb;
	volatile int jumps = 0;

	l = ftramp_attach("st_jump", FTRAMP_FEXIT, on_exit_any, NULL);
	ASSERT_NE(NULL, l);
	n_exit = 0;
	if (setjmp(jb))
		jumps++;
	if (jumps < 3)
		st_jump(&jb, -1);
	EXPECT_EQ(3, jumps);
	EXPECT_EQ(5, st_jump(&jb, 4));
	/* three abandoned, reported as unwound exits; one real exit */
	EXPECT_EQ(3, ftramp_link__unwound(l));
	EXPECT_EQ(4, n_exit);
	EXPECT_EQ(0, ftramp_link__destroy(l));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
}

TEST_HARNESS_MAIN
