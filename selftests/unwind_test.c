// SPDX-License-Identifier: MIT
/*
 * Exceptions and cancellation through trampolines (trampoline/unwind.c,
 * Documentation/trampoline.rst, "Exceptions and cancellation"):
 *
 *  - a C++ exception thrown below a traced function is caught by its
 *    caller with the result an untraced run gives, for every kind of
 *    image (fentry, fexit, both, fmod_ret), near and far (through
 *    ftrace_caller), beside an ftrace ops handler, and thrown by a
 *    program; the fexit programs of the unwound call run once, told
 *    that it was unwound (ftramp_get_func_unwound()), with no result;
 *  - pthread_cancel() at a cancellation point inside an fexit-traced
 *    function, and pthread_exit() from one, run the thread's cleanup
 *    handlers (C++ destructor style and C setjmp style): the mutex is
 *    unlocked;
 *  - afterwards detaching and ftramp_sync() complete: the unwind gave
 *    back the in-flight unit (and the guard byte: programs run again).
 *
 * Before the images were registered with the unwinder, the first case
 * ended in std::terminate and the others in a hang of ftramp_sync(-1).
 * The sync here has a generous bound so that a leak fails instead of
 * hanging; nothing is timed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#include "selftests/harness.h"

#define TRACEE __attribute__((noipa, aligned(8), \
			      patchable_function_entry(4, 2)))

/* Far longer than any reclamation takes; only a leak reaches it. */
#define SYNC_BOUND_MS	60000

/* unwind_cxx.cc */
extern long uw_throw_calls;
long uw_catch(long x);
long uw_thrower(long x, long y);
uint64_t uw_prog_throws(const uint64_t *ctx);
uint64_t uw_prog_nests(const uint64_t *ctx);
void *uw_cxx_thread(void *p);
long uw_vcatch(long x, long depth);
/* Traced here. */
long uw_blocks(int fd);
long uw_exits(long x);
long uw_vblocks(int fd, ...);
long uw_vexits(long x, ...);

struct uw_thread_arg {
	pthread_mutex_t *mutex;
	int fd;
	int cleanups;
	int hooked;
};

static long n_entry, n_exit, n_modret, n_unwound;

static uint64_t prog_entry(const uint64_t *ctx)
{
	n_entry++;
	return 0;
}

/* fexit: a call that returned, or one reported unwound. */
static uint64_t prog_exit(const uint64_t *ctx)
{
	if (ftramp_get_func_unwound(ctx))
		n_unwound++;
	else
		n_exit++;
	return 0;
}

static uint64_t prog_modret(const uint64_t *ctx)
{
	n_modret++;
	return 0;
}

/* Traced by the cancellation tests; they live here, C. */
TRACEE long uw_blocks(int fd)
{
	char c;

	/* A cancellation point that never returns data. */
	return read(fd, &c, 1);
}

TRACEE long uw_exits(long x)
{
	pthread_exit((void *)x);
}

/* The same, variadic: the unknown model, traced with a return hook. */
TRACEE long uw_vblocks(int fd, ...)
{
	char c;

	return read(fd, &c, 1);
}

TRACEE long uw_vexits(long x, ...)
{
	pthread_exit((void *)x);
}

enum {
	K_FENTRY = 1, K_FEXIT = 2, K_MODRET = 4,
};

FIXTURE(throw) {
	struct ftramp_link *links[3];
};

FIXTURE_VARIANT(throw) {
	unsigned int kinds;
	bool far;
};

FIXTURE_VARIANT_ADD(throw, fentry) { .kinds = K_FENTRY };
FIXTURE_VARIANT_ADD(throw, fexit) { .kinds = K_FEXIT };
FIXTURE_VARIANT_ADD(throw, fentry_fexit) { .kinds = K_FENTRY | K_FEXIT };
FIXTURE_VARIANT_ADD(throw, fmod_ret) { .kinds = K_MODRET | K_FEXIT };
FIXTURE_VARIANT_ADD(throw, fentry_far) { .kinds = K_FENTRY, .far = true };
FIXTURE_VARIANT_ADD(throw, fexit_far) { .kinds = K_FEXIT, .far = true };
FIXTURE_VARIANT_ADD(throw, fentry_fexit_far) {
	.kinds = K_FENTRY | K_FEXIT, .far = true,
};
FIXTURE_VARIANT_ADD(throw, fmod_ret_far) {
	.kinds = K_MODRET | K_FEXIT, .far = true,
};

FIXTURE_SETUP(throw)
{
	memset(self->links, 0, sizeof(self->links));
}

FIXTURE_TEARDOWN(throw)
{
	ftramp_links__destroy(self->links, 3);
}

static struct ftramp_link *attach(const char *func,
				  enum ftramp_attach_kind kind,
				  ftramp_prog_t prog, bool far)
{
	struct ftramp_attach_opts o = {
		.sz = sizeof(o), .force_far = far,
	};

	return ftramp_attach(func, kind, prog, &o);
}

TEST_F(throw, caught_as_untraced)
{
	long thrown = uw_catch(3), normal = uw_catch(-2);
	const long rounds = 4;

	if (variant->kinds & K_FENTRY) {
		self->links[0] = attach("uw_thrower", FTRAMP_FENTRY, prog_entry,
					variant->far);
		ASSERT_TRUE(self->links[0] != NULL);
	}
	if (variant->kinds & K_FEXIT) {
		self->links[1] = attach("uw_thrower", FTRAMP_FEXIT, prog_exit,
					variant->far);
		ASSERT_TRUE(self->links[1] != NULL);
	}
	if (variant->kinds & K_MODRET) {
		self->links[2] = attach("uw_thrower", FTRAMP_FMOD_RET,
					prog_modret, variant->far);
		ASSERT_TRUE(self->links[2] != NULL);
	}
	n_entry = n_exit = n_modret = n_unwound = 0;
	uw_throw_calls = 0;
	for (long i = 0; i < rounds; i++) {
		EXPECT_EQ(thrown, uw_catch(3));
		EXPECT_EQ(normal, uw_catch(-2));
	}
	/*
	 * The original ran every time; fexit with a result for the calls
	 * that returned, told "unwound" for the others, each once.
	 */
	EXPECT_EQ(2 * rounds, uw_throw_calls);
	EXPECT_EQ(variant->kinds & K_FENTRY ? 2 * rounds : 0, n_entry);
	EXPECT_EQ(variant->kinds & K_MODRET ? 2 * rounds : 0, n_modret);
	EXPECT_EQ(variant->kinds & K_FEXIT ? rounds : 0, n_exit);
	EXPECT_EQ(variant->kinds & K_FEXIT ? rounds : 0, n_unwound);
	if (self->links[1])
		EXPECT_EQ(rounds, ftramp_link__unwound(self->links[1]));

	/* The unwound calls gave their in-flight units back. */
	ASSERT_EQ(0, ftramp_links__destroy(self->links, 3));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	EXPECT_EQ(thrown, uw_catch(3));
}

/*
 * A program throws: the frame held the guard byte as well.  Had the
 * unwind not given it back, every later entry on this thread would be a
 * miss and no program would run.
 */
TEST(program_throws)
{
	struct ftramp_link *thr, *cnt;
	long thrown = uw_catch(42), normal = uw_catch(-2);

	thr = ftramp_attach("uw_thrower", FTRAMP_FENTRY, uw_prog_throws, NULL);
	ASSERT_TRUE(thr != NULL);
	cnt = ftramp_attach("uw_thrower", FTRAMP_FEXIT, prog_exit, NULL);
	ASSERT_TRUE(cnt != NULL);
	n_exit = n_unwound = 0;
	uw_throw_calls = 0;
	/* Thrown before the original ran: the caller's handler, as untraced. */
	EXPECT_EQ(thrown, uw_catch(42));
	EXPECT_EQ(0, uw_throw_calls);
	EXPECT_EQ(0, n_exit);
	/* The record was up: the call is closed as unwound, once. */
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(normal, uw_catch(-2));
	EXPECT_EQ(normal, uw_catch(-2));
	/* Programs still run on this thread: the guard was given back. */
	EXPECT_EQ(2, n_exit);
	EXPECT_EQ(2, uw_throw_calls);
	ASSERT_EQ(0, ftramp_link__destroy(thr));
	ASSERT_EQ(0, ftramp_link__destroy(cnt));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
}

/*
 * A program catches an exception thrown through the same image's miss
 * path (the recursion guard is busy: the original runs bare).  That frame
 * holds the in-flight unit only: the guard byte belongs to the outer
 * frame, whose program is still running.  Had the unwind freed it, the
 * program's second call would run the program again.
 */
TEST(thrown_through_miss_path)
{
	extern long uw_nested_runs, uw_nested_thrown, uw_nested_normal;
	long thrown = uw_catch(3), normal = uw_catch(-2), five = uw_catch(5);
	struct ftramp_link *l, *x;

	l = ftramp_attach("uw_thrower", FTRAMP_FENTRY, uw_prog_nests, NULL);
	ASSERT_TRUE(l != NULL);
	/* With fexit the image calls the original, from the miss path too. */
	x = ftramp_attach("uw_thrower", FTRAMP_FEXIT, prog_exit, NULL);
	ASSERT_TRUE(x != NULL);
	uw_nested_runs = uw_nested_thrown = uw_nested_normal = n_exit = 0;
	/* The outer call throws too, after its program. */
	EXPECT_EQ(five, uw_catch(5));
	/* Once, for the outer call: both inner calls were misses. */
	EXPECT_EQ(1, uw_nested_runs);
	EXPECT_EQ(0, n_exit);
	EXPECT_EQ(thrown, uw_nested_thrown);
	EXPECT_EQ(normal, uw_nested_normal);
	/* The guard is free again after the outer call. */
	EXPECT_EQ(normal, uw_catch(-2));
	EXPECT_EQ(2, uw_nested_runs);
	EXPECT_EQ(1, n_exit);
	ASSERT_EQ(0, ftramp_link__destroy(l));
	ASSERT_EQ(0, ftramp_link__destroy(x));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
}

static long n_handler;

static void handler(unsigned long ip, unsigned long parent_ip,
		    struct ftramp_ftrace_ops *op,
		    struct ftramp_ftrace_regs *fregs)
{
	n_handler++;
}

/*
 * An ops handler and an fexit image on one site: ftrace_caller, then
 * ftrace_regs_caller runs the handler and branches to the image (the
 * late direct path), which calls the original that throws.
 */
TEST(beside_ops_handler)
{
	struct ftramp_ftrace_ops ops = { .func = handler };
	struct ftramp_link *l;
	long thrown = uw_catch(3), normal = uw_catch(-2);

	ASSERT_EQ(0, ftramp_ftrace_ops__set_filter(&ops, "uw_thrower", 1));
	ASSERT_EQ(0, ftramp_ftrace_ops__register(&ops));
	l = ftramp_attach("uw_thrower", FTRAMP_FEXIT, prog_exit, NULL);
	ASSERT_TRUE(l != NULL);
	n_handler = n_exit = 0;
	EXPECT_EQ(thrown, uw_catch(3));
	EXPECT_EQ(normal, uw_catch(-2));
	EXPECT_EQ(thrown, uw_catch(3));
	EXPECT_EQ(3, n_handler);
	EXPECT_EQ(1, n_exit);
	ASSERT_EQ(0, ftramp_link__destroy(l));
	ASSERT_EQ(0, ftramp_ftrace_ops__unregister(&ops));
	ftramp_ftrace_ops__free_filter(&ops);
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	/* Only the handler, then nothing: still as untraced. */
	EXPECT_EQ(thrown, uw_catch(3));
}

/* ------------------------------------------------------------------
 * Through a return hook (the unknown model's fexit and fmod_ret):
 * trampoline.rst, "Unwinding through a return hook"
 * ------------------------------------------------------------------ */

FIXTURE(hook_throw) {
	struct ftramp_link *links[4];
};

FIXTURE_VARIANT(hook_throw) {
	unsigned int kinds;
	bool far;
};

FIXTURE_VARIANT_ADD(hook_throw, fexit) { .kinds = K_FEXIT };
FIXTURE_VARIANT_ADD(hook_throw, fmod_ret) { .kinds = K_MODRET };
FIXTURE_VARIANT_ADD(hook_throw, fentry_fexit_fmod_ret) {
	.kinds = K_FENTRY | K_FEXIT | K_MODRET,
};
FIXTURE_VARIANT_ADD(hook_throw, fexit_far) { .kinds = K_FEXIT, .far = true };
FIXTURE_VARIANT_ADD(hook_throw, fmod_ret_far) {
	.kinds = K_MODRET, .far = true,
};

FIXTURE_SETUP(hook_throw)
{
	memset(self->links, 0, sizeof(self->links));
}

FIXTURE_TEARDOWN(hook_throw)
{
	ftramp_links__destroy(self->links, 4);
}

/* fexit on both functions (reports); fentry and fmod_ret on the inner. */
static void attach_hooked(struct ftramp_link **links, const char *inner,
			  const char *outer, unsigned int kinds, bool far)
{
	unsigned int n = 0;

	if (kinds & K_FENTRY)
		links[n++] = attach(inner, FTRAMP_FENTRY, prog_entry, far);
	if (kinds & K_MODRET)
		links[n++] = attach(inner, FTRAMP_FMOD_RET, prog_modret, far);
	if (kinds & K_FEXIT) {
		links[n++] = attach(inner, FTRAMP_FEXIT, prog_exit, far);
		if (outer)
			links[n++] = attach(outer, FTRAMP_FEXIT, prog_exit,
					    far);
	} else if (outer) {
		links[n++] = attach(outer, FTRAMP_FMOD_RET, prog_modret, far);
	}
	for (unsigned int i = 0; i < n; i++)
		if (!links[i] || ftramp_link__model(links[i]))
			links[i] = NULL;	/* not the unknown model */
}

static bool all_attached(struct ftramp_link **links, unsigned int kinds,
			 bool outer)
{
	unsigned int want = !!(kinds & K_FENTRY) + !!(kinds & K_MODRET) +
			    !!(kinds & K_FEXIT) + (outer ? 1 : 0), have = 0;

	for (unsigned int i = 0; i < 4; i++)
		have += links[i] != NULL;
	return have == want;
}

/*
 * Two hooked frames of two images between the throw and the catch
 * (uw_vouter -> uw_vthrower): the results untraced and traced are the
 * same, and each frame's exit is reported unwound once.
 */
TEST_F(hook_throw, nested_caught_as_untraced)
{
	long thrown = uw_vcatch(3, -1), normal = uw_vcatch(-2, -1);
	const long rounds = 4;
	bool fexit = variant->kinds & K_FEXIT;

	attach_hooked(self->links, "uw_vthrower", "uw_vouter",
		      variant->kinds, variant->far);
	ASSERT_TRUE(all_attached(self->links, variant->kinds, true));
	n_entry = n_exit = n_modret = n_unwound = 0;
	uw_throw_calls = 0;
	for (long i = 0; i < rounds; i++) {
		EXPECT_EQ(thrown, uw_vcatch(3, -1));
		EXPECT_EQ(normal, uw_vcatch(-2, -1));
	}
	EXPECT_EQ(2 * rounds, uw_throw_calls);
	EXPECT_EQ(variant->kinds & K_FENTRY ? 2 * rounds : 0, n_entry);
	/* fmod_ret on both functions without fexit, on the inner with. */
	EXPECT_EQ(variant->kinds & K_MODRET ? (fexit ? 2 : 4) * rounds : 0,
		  n_modret);
	/* Two frames per call: returned, or unwound (reported at once). */
	EXPECT_EQ(fexit ? 2 * rounds : 0, n_exit);
	EXPECT_EQ(fexit ? 2 * rounds : 0, n_unwound);
	for (unsigned int i = 0; fexit && i < 4; i++)
		if (self->links[i] && i >= (unsigned int)
		    (!!(variant->kinds & K_FENTRY) + !!(variant->kinds & K_MODRET)))
			EXPECT_EQ(rounds, ftramp_link__unwound(self->links[i]));

	ASSERT_EQ(0, ftramp_links__destroy(self->links, 4));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
	EXPECT_EQ(thrown, uw_vcatch(3, -1));
}

/*
 * One image, several records: uw_vrec 3 deep into itself, then the
 * throw: four hooked frames of the same stub, told apart by their SP.
 */
TEST_F(hook_throw, recursive_caught_as_untraced)
{
	long thrown = uw_vcatch(3, 3), normal = uw_vcatch(-2, 3);
	bool fexit = variant->kinds & K_FEXIT;

	attach_hooked(self->links, "uw_vrec", NULL, variant->kinds,
		      variant->far);
	ASSERT_TRUE(all_attached(self->links, variant->kinds, false));
	n_entry = n_exit = n_modret = n_unwound = 0;
	EXPECT_EQ(thrown, uw_vcatch(3, 3));
	EXPECT_EQ(normal, uw_vcatch(-2, 3));
	EXPECT_EQ(thrown, uw_vcatch(3, 3));
	EXPECT_EQ(fexit ? 4 : 0, n_exit);
	EXPECT_EQ(fexit ? 8 : 0, n_unwound);
	EXPECT_EQ(variant->kinds & K_MODRET ? 12 : 0, n_modret);
	ASSERT_EQ(0, ftramp_links__destroy(self->links, 4));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
}

/*
 * backtrace(3) (libgcc's _Unwind_Backtrace) from inside two nested
 * hooked functions: with the exit stubs (anonymous memory: dladdr()
 * knows no object) left out, the frames are the untraced run's: the
 * real callers, up to main and beyond.
 */
#define BT_MAX	64

long uw_vbt(void **out, ...);
long uw_vbt_outer(void **out, ...);

TRACEE long uw_vbt(void **out, ...)
{
	return backtrace(out, BT_MAX);
}

TRACEE long uw_vbt_outer(void **out, ...)
{
	long n = uw_vbt(out, 0L);

	__asm__ volatile("" ::: "memory");	/* not a tail call */
	return n;
}

static int in_object(void *pc)
{
	Dl_info info;

	return dladdr(pc, &info) != 0;
}

static __attribute__((noipa)) void bt_attach(struct ftramp_link **l)
{
	l[0] = ftramp_attach("uw_vbt", FTRAMP_FEXIT, prog_exit, NULL);
	l[1] = ftramp_attach("uw_vbt_outer", FTRAMP_FEXIT, prog_exit, NULL);
	n_exit = 0;
}

/* The attach (round 1) and the call, one call site for both rounds. */
static __attribute__((noipa)) long bt_run(int round, void **out,
					  struct ftramp_link **l)
{
	void (*volatile attach_fn)(struct ftramp_link **) = NULL;
	long n;

	if (round)
		attach_fn = bt_attach;
	if (attach_fn)
		attach_fn(l);
	n = uw_vbt_outer(out, 0L);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
	return n;
}

/* backtrace()'s frames: in uw_vbt, uw_vbt_outer, bt_run, this test. */
#define BT_TEST_FRAME	3

TEST(hook_backtrace_shows_callers)
{
	void *plain[BT_MAX], *traced[BT_MAX], *kept[BT_MAX];
	struct ftramp_link *l[2] = { NULL, NULL };
	long np, nt, nk = 0, stubs = 0;

	np = bt_run(0, plain, l);
	nt = bt_run(1, traced, l);
	ASSERT_TRUE(l[0] && l[1]);
	ASSERT_TRUE(!ftramp_link__model(l[0]) && !ftramp_link__model(l[1]));
	ASSERT_TRUE(np > BT_TEST_FRAME + 1 && np < BT_MAX);
	EXPECT_EQ(2, n_exit);
	for (long i = 0; i < nt; i++) {
		if (in_object(traced[i]))
			kept[nk++] = traced[i];
		else
			stubs++;
	}
	/* One frame per hooked function: its stub, then its real caller. */
	EXPECT_EQ(2, stubs);
	ASSERT_EQ(np, nk);
	/* This test calls bt_run() from two places: that frame differs. */
	for (long i = 0; i < np; i++)
		if (i != BT_TEST_FRAME)
			EXPECT_EQ((uintptr_t)plain[i], (uintptr_t)kept[i]);
	ASSERT_EQ(0, ftramp_links__destroy(l, 2));
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
}

/* ------------------------------------------------------------------
 * Cancellation
 * ------------------------------------------------------------------ */

static void c_unlock(void *p)
{
	struct uw_thread_arg *a = p;

	a->cleanups++;
	pthread_mutex_unlock(a->mutex);
}

/* C: pthread_cleanup_push is a setjmp buffer, run by glibc's unwinder. */
static void *c_thread(void *p)
{
	struct uw_thread_arg *a = p;

	pthread_mutex_lock(a->mutex);
	pthread_cleanup_push(c_unlock, a);
	if (a->fd >= 0)
		a->hooked ? uw_vblocks(a->fd, 0L) : uw_blocks(a->fd);
	else
		a->hooked ? uw_vexits(1, 0L) : uw_exits(1);
	pthread_cleanup_pop(1);
	return NULL;
}

FIXTURE(cancel) {
	struct ftramp_link *link;
	int pipe[2];
};

FIXTURE_VARIANT(cancel) {
	void *(*body)(void *);
	bool exits;		/* pthread_exit() inside, not a cancel */
	bool far;
	bool hooked;		/* the variadic functions: a return hook */
};

FIXTURE_VARIANT_ADD(cancel, cxx_cancel) { .body = uw_cxx_thread };
FIXTURE_VARIANT_ADD(cancel, cxx_cancel_far) {
	.body = uw_cxx_thread, .far = true,
};
FIXTURE_VARIANT_ADD(cancel, cxx_exit) { .body = uw_cxx_thread, .exits = true };
FIXTURE_VARIANT_ADD(cancel, c_cancel) { .body = c_thread };
FIXTURE_VARIANT_ADD(cancel, c_exit) { .body = c_thread, .exits = true };
FIXTURE_VARIANT_ADD(cancel, hooked_cxx_cancel) {
	.body = uw_cxx_thread, .hooked = true,
};
FIXTURE_VARIANT_ADD(cancel, hooked_cxx_cancel_far) {
	.body = uw_cxx_thread, .hooked = true, .far = true,
};
FIXTURE_VARIANT_ADD(cancel, hooked_cxx_exit) {
	.body = uw_cxx_thread, .exits = true, .hooked = true,
};
FIXTURE_VARIANT_ADD(cancel, hooked_c_cancel) {
	.body = c_thread, .hooked = true,
};
FIXTURE_VARIANT_ADD(cancel, hooked_c_exit) {
	.body = c_thread, .exits = true, .hooked = true,
};

FIXTURE_SETUP(cancel)
{
	ASSERT_EQ(0, pipe(self->pipe));
	self->link = NULL;
}

FIXTURE_TEARDOWN(cancel)
{
	ftramp_link__destroy(self->link);
	close(self->pipe[0]);
	close(self->pipe[1]);
}

TEST_F(cancel, cleanups_run)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct uw_thread_arg a = {
		.mutex = &m, .fd = variant->exits ? -1 : self->pipe[0],
		.hooked = variant->hooked,
	};
	const char *func = variant->hooked ?
		(variant->exits ? "uw_vexits" : "uw_vblocks") :
		(variant->exits ? "uw_exits" : "uw_blocks");
	pthread_t th;
	void *ret;

	self->link = attach(func, FTRAMP_FEXIT, prog_exit, variant->far);
	ASSERT_TRUE(self->link != NULL);
	/* Variadic: the unknown model, so the return hook. */
	EXPECT_EQ(variant->hooked, ftramp_link__model(self->link) == NULL);
	n_exit = n_unwound = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, variant->body, &a));
	/*
	 * A deferred cancel is acted on at the next cancellation point:
	 * the read() inside uw_blocks(), whenever the thread gets there.
	 */
	if (!variant->exits)
		ASSERT_EQ(0, pthread_cancel(th));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_TRUE(variant->exits ? ret == (void *)1 :
				     ret == PTHREAD_CANCELED);
	EXPECT_EQ(1, a.cleanups);
	EXPECT_EQ(0, pthread_mutex_trylock(&m));
	pthread_mutex_unlock(&m);
	/* The function never returned: no fexit with a result. */
	EXPECT_EQ(0, n_exit);
	/*
	 * Its record is popped by the unwind (the stub's personality for a
	 * return hook, the image's for a modelled frame) and reported
	 * unwound, once.
	 */
	EXPECT_EQ(1, n_unwound);
	EXPECT_EQ(1, ftramp_link__unwound(self->link));
	ASSERT_EQ(0, ftramp_link__destroy(self->link));
	self->link = NULL;
	EXPECT_EQ(0, ftramp_sync(SYNC_BOUND_MS));
	EXPECT_EQ(0, ftramp_reclaim__pinned(NULL, 0));
}

TEST_HARNESS_MAIN
