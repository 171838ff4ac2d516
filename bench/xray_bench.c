// SPDX-License-Identifier: MIT
/*
 * xray_bench: the peer.  LLVM XRay on the same functions, with empty entry
 * and exit handlers, measured by the same plugin as ftramp.
 *
 * bench/targets.c is built twice into this program: bench_*_plain without
 * instrumentation, bench_*_xray with clang -fxray-instrument
 * -fxray-instruction-threshold=1 (a sled at the entry and before each
 * return).  This file itself is not instrumented.
 *
 * The attach benchmark patches the sleds of 1, 100 and 10,000 generated
 * functions (bench/gen_funcs.sh, also built with XRay) one function at a
 * time with __xray_patch_function(), XRay's way of attaching to a chosen
 * set.
 *
 * Before measuring, a counting handler proves that __xray_patch_function() really
 * rewrote the sleds under qemu-user (XRay mprotect()s the sled pages to
 * write them) and that every call reaches the handler on entry and exit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "loops.h"
#include "pages.h"
#include "report.h"
#include "targets.h"
#include "xray_api.h"

BENCH_DECLARE_TARGETS(plain);
BENCH_DECLARE_TARGETS(xray);
BENCH_SINKS;

static long entries, exits;

static void count_handler(int32_t func_id, enum xray_entry_type type)
{
	if (type == XRAY_ENTRY)
		entries++;
	else if (type == XRAY_EXIT)
		exits++;
}

/* What is measured: the cost of reaching a handler that does nothing. */
static void empty_handler(int32_t func_id, enum xray_entry_type type)
{
}

static void die(const char *what)
{
	fprintf(stderr, "xray_bench: %s\n", what);
	exit(1);
}

/* XRay's function ids by address, to attach to functions by address. */
struct xray_fn {
	uintptr_t addr;
	int32_t id;
};

static struct xray_fn *xray_fns;
static size_t xray_nr_fns;

static int xray_fn_cmp(const void *a, const void *b)
{
	const struct xray_fn *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int32_t xray_id_of(void *func)
{
	struct xray_fn key = { .addr = (uintptr_t)func }, *fn;
	size_t id;

	if (!xray_fns) {
		xray_nr_fns = __xray_max_function_id();
		xray_fns = calloc(xray_nr_fns, sizeof(*xray_fns));
		if (!xray_fns)
			die("out of memory");
		for (id = 1; id <= xray_nr_fns; id++) {
			xray_fns[id - 1].addr = __xray_function_address(id);
			xray_fns[id - 1].id = id;
		}
		qsort(xray_fns, xray_nr_fns, sizeof(*xray_fns), xray_fn_cmp);
	}
	fn = bsearch(&key, xray_fns, xray_nr_fns, sizeof(*xray_fns),
		     xray_fn_cmp);
	if (!fn)
		die("function without an XRay id");
	return fn->id;
}

static void xray_patch_one(void *func)
{
	if (__xray_patch_function(xray_id_of(func)) != XRAY_PATCHING_SUCCESS)
		die("__xray_patch_function failed");
}

static void xray_unpatch_one(void *func)
{
	if (__xray_unpatch_function(xray_id_of(func)) != XRAY_PATCHING_SUCCESS)
		die("__xray_unpatch_function failed");
}

/* Patch the measured sleds, and check that handlers run on entry and exit. */
static void patch_and_verify(void)
{
	long i;

	if (!__xray_set_handler(count_handler))
		die("__xray_set_handler failed");
	xray_patch_one(bench_f2_xray);
	xray_patch_one(bench_f6_xray);

	for (i = 0; i < VERIFY_CALLS; i++) {
		bench_sink_l = bench_f2_xray(i, 1);
		bench_sink_d = bench_f6_xray(1, 2.0, 3, 4.0, 5, 6.0);
	}
	if (entries != 2 * VERIFY_CALLS || exits != 2 * VERIFY_CALLS) {
		fprintf(stderr, "xray_bench: %ld entries, %ld exits for %d calls\n",
			entries, exits, 2 * VERIFY_CALLS);
		die("XRay handlers did not run: sleds not patched?");
	}
	fprintf(stderr, "xray_bench: verified: %ld entry and %ld exit events for %d calls\n",
		entries, exits, 2 * VERIFY_CALLS);

	if (!__xray_set_handler(empty_handler))
		die("__xray_set_handler failed");
}

/*
 * Attach cost: patch the first n generated functions, one call each,
 * unpatch them, and sweep mprotect() over their pages for comparison.
 */
static void attach_bench(long n)
{
	static uintptr_t pages[BENCH_GEN_MAX];
	static int32_t ids[BENCH_GEN_MAX];
	char name[64];
	long i, nr;

	/* Look every id up first: the windows measure XRay alone. */
	for (i = 0; i < n; i++)
		ids[i] = xray_id_of((void *)bench_gen_funcs[i]);
	nr = bench_pages_of((void *const *)bench_gen_funcs, n, pages);

	bench_start();
	for (i = 0; i < n; i++)
		if (__xray_patch_function(ids[i]) != XRAY_PATCHING_SUCCESS)
			break;
	bench_stop();
	if (i < n)
		die("__xray_patch_function failed");
	snprintf(name, sizeof(name), "xray.attach.%ld", n);
	bench_attach(name, n, nr, 0, "XRay: __xray_patch_function() each");

	bench_start();
	for (i = 0; i < n; i++)
		if (__xray_unpatch_function(ids[i]) != XRAY_PATCHING_SUCCESS)
			break;
	bench_stop();
	if (i < n)
		die("__xray_unpatch_function failed");
	snprintf(name, sizeof(name), "xray.detach.%ld", n);
	bench_attach(name, n, nr, 0, "XRay: __xray_unpatch_function() each");

	bench_start();
	i = bench_sweep(pages, nr);
	bench_stop();
	if (i)
		die("mprotect sweep failed");
	snprintf(name, sizeof(name), "xray.sweep.%ld", n);
	bench_attach(name, n, nr, 0,
		     "bare mprotect sweep, same pages (clang)");
}

int main(void)
{
	long n = BENCH_CALLS;

	bench_loop_f2(bench_f2_plain, n);
	bench_case("xray.f2.plain", n, "xray.f2.untraced",
		   "clang, no instrumentation (reference)");
	bench_loop_f6(bench_f6_plain, n);
	bench_case("xray.f6.plain", n, "xray.f6.untraced",
		   "clang, no instrumentation (reference)");

	bench_loop_f2(bench_f2_xray, n);
	bench_case("xray.f2.untraced", n, "-", "XRay sleds, not patched");
	bench_loop_f6(bench_f6_xray, n);
	bench_case("xray.f6.untraced", n, "-", "XRay sleds, not patched");

	patch_and_verify();

	bench_loop_f2(bench_f2_xray, n);
	bench_case("xray.f2.patched", n, "xray.f2.untraced",
		   "XRay, empty entry+exit handler");
	bench_loop_f6(bench_f6_xray, n);
	bench_case("xray.f6.patched", n, "xray.f6.untraced",
		   "XRay, empty entry+exit handler");

	xray_unpatch_one(bench_f2_xray);
	xray_unpatch_one(bench_f6_xray);

	bench_loop_f2(bench_f2_xray, n);
	bench_case("xray.f2.unpatched", n, "xray.f2.untraced",
		   "XRay after __xray_unpatch_function()");
	bench_loop_f6(bench_f6_xray, n);
	bench_case("xray.f6.unpatched", n, "xray.f6.untraced",
		   "XRay after __xray_unpatch_function()");

	if (bench_gen_nr > BENCH_GEN_MAX)
		die("too many generated functions");
	attach_bench(1);
	attach_bench(100);
	attach_bench(bench_gen_nr);
	return 0;
}
