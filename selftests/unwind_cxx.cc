// SPDX-License-Identifier: MIT
/*
 * The C++ half of unwind_test: functions that throw through a traced
 * function and catch in its caller, a program that throws, and a thread
 * body whose cleanup runs only if a forced unwind reaches its frame
 * (C++'s pthread_cleanup_push is a destructor: DWARF unwinding, no
 * setjmp).  Built with the patchable entries (unwind.mk), -O2, frame
 * records.  It includes the public header, which must compile as C++.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdexcept>
#include <stdint.h>
#include <unistd.h>

#include <ftramp/ftramp.h>

#define NOIPA __attribute__((noipa))

extern "C" {

long uw_throw_calls;

/* Throws for x > 0 from below the traced function, like real code. */
NOIPA long uw_deep(long x)
{
	if (x > 0)
		throw std::runtime_error("boom");
	return -x;
}

/* The traced function: the exception passes through its trampoline. */
NOIPA long uw_thrower(long x, long y)
{
	uw_throw_calls++;
	return uw_deep(x) + y;
}

/* Read once each: the compiler cannot load them again after the call. */
volatile long uw_seed[4] = { 3, 5, 0x55, 7 };

/*
 * The caller: keeps values in callee-saved registers across the call
 * (x19 first of them: the trampoline holds its guard table there) and
 * uses every one in the handler, so a wrong unwind rule for x19 shows
 * in the result.
 */
NOIPA long uw_catch(long x)
{
	long a = x * uw_seed[0], b = x * uw_seed[1] + 1, c = x ^ uw_seed[2];
	long d = x + uw_seed[3];

	try {
		return uw_thrower(x, a) + a + b + c + d;
	} catch (const std::exception &e) {
		return -(a * 1000 + b * 100 + c * 10 + d);
	}
}

/*
 * The unknown model (variadic: no model can say where its arguments
 * are), so fexit and fmod_ret trace them with the return hook: the
 * exception leaves bodies whose saved return address is an exit stub.
 * uw_vouter -> uw_vthrower nests two hooked frames of two images;
 * uw_vrec recurses into its own image, depth frames deep.
 */
NOIPA long uw_vthrower(long x, ...)
{
	va_list ap;
	long y;

	va_start(ap, x);
	y = va_arg(ap, long);
	va_end(ap);
	uw_throw_calls++;
	return uw_deep(x) + y;
}

NOIPA long uw_vouter(long x, ...)
{
	va_list ap;
	long y;

	va_start(ap, x);
	y = va_arg(ap, long);
	va_end(ap);
	return uw_vthrower(x, y) * 3 + 1;
}

NOIPA long uw_vrec(long depth, ...)
{
	va_list ap;
	long x;

	va_start(ap, depth);
	x = va_arg(ap, long);
	va_end(ap);
	if (depth > 0)
		return uw_vrec(depth - 1, x) + depth;
	return uw_deep(x) + 100;
}

/* The caller of both, as uw_catch: callee-saved values across the throw. */
NOIPA long uw_vcatch(long x, long depth)
{
	long a = x * uw_seed[0], b = x * uw_seed[1] + 1, c = x ^ uw_seed[2];
	long d = x + uw_seed[3];

	try {
		if (depth < 0)
			return uw_vouter(x, a) + a + b + c + d;
		return uw_vrec(depth, x) + a + b + c + d;
	} catch (const std::exception &e) {
		return -(a * 1000 + b * 100 + c * 10 + d);
	}
}

/* A program that throws when the first argument is 42. */
NOIPA uint64_t uw_prog_throws(const uint64_t *ctx)
{
	/* a program, as C++ sees the type; the ops field C calls `private` */
	static const ftramp_prog_t as_prog = uw_prog_throws;
	static_assert(offsetof(ftramp_ftrace_ops, private_) ==
		      2 * sizeof(void *), "ftramp_ftrace_ops");

	(void)as_prog;

	if (ctx[0] == 42)
		throw std::logic_error("from a program");
	return 0;
}

/*
 * A fentry program that, for x == 5, calls the traced function itself:
 * those calls are recursion-guard misses (the original runs bare, from
 * the image's miss path), one of them throws and is caught here.
 */
long uw_nested_runs, uw_nested_thrown, uw_nested_normal;

NOIPA uint64_t uw_prog_nests(const uint64_t *ctx)
{
	uw_nested_runs++;
	if (ctx[0] == 5) {
		uw_nested_thrown = uw_catch(3);
		uw_nested_normal = uw_catch(-2);
	}
	return 0;
}

/*
 * Blocks in read() (a cancellation point) or calls pthread_exit(); the
 * v variants are variadic (the unknown model: a return hook).
 */
NOIPA long uw_blocks(int fd);
NOIPA long uw_exits(long x);
NOIPA long uw_vblocks(int fd, ...);
NOIPA long uw_vexits(long x, ...);

struct uw_thread_arg {
	pthread_mutex_t *mutex;
	int fd;			/* uw_blocks() reads it; < 0: uw_exits() */
	int cleanups;
	int hooked;		/* the v variants */
};

static void uw_unlock(void *p)
{
	struct uw_thread_arg *a = (struct uw_thread_arg *)p;

	a->cleanups++;
	pthread_mutex_unlock(a->mutex);
}

void *uw_cxx_thread(void *p)
{
	struct uw_thread_arg *a = (struct uw_thread_arg *)p;

	pthread_mutex_lock(a->mutex);
	pthread_cleanup_push(uw_unlock, a);
	if (a->fd >= 0)
		a->hooked ? uw_vblocks(a->fd, 0L) : uw_blocks(a->fd);
	else
		a->hooked ? uw_vexits(1, 0L) : uw_exits(1);
	pthread_cleanup_pop(1);
	return NULL;
}

}
