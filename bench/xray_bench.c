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
 * Before measuring, a counting handler proves that __xray_patch() really
 * rewrote the sleds under qemu-user (XRay mprotect()s the sled pages to
 * write them) and that every call reaches the handler on entry and exit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "loops.h"
#include "report.h"
#include "targets.h"
#include "xray_api.h"

BENCH_DECLARE_TARGETS(plain);
BENCH_DECLARE_TARGETS(xray);
BENCH_SINKS;

#define VERIFY_CALLS	10

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

/* Patch every sled, and check that handlers run on entry and exit. */
static void patch_and_verify(void)
{
	long i;

	if (!__xray_set_handler(count_handler))
		die("__xray_set_handler failed");

	bench_start();
	if (__xray_patch() != XRAY_PATCHING_SUCCESS)
		die("__xray_patch failed");
	bench_stop();
	bench_case("xray.attach.patch", 1, "-",
		   "__xray_patch() of every sled in this program");

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

	bench_start();
	if (__xray_unpatch() != XRAY_PATCHING_SUCCESS)
		die("__xray_unpatch failed");
	bench_stop();
	bench_case("xray.attach.unpatch", 1, "-",
		   "__xray_unpatch() of every sled in this program");

	bench_loop_f2(bench_f2_xray, n);
	bench_case("xray.f2.unpatched", n, "xray.f2.untraced",
		   "XRay after __xray_unpatch()");
	bench_loop_f6(bench_f6_xray, n);
	bench_case("xray.f6.unpatched", n, "xray.f6.untraced",
		   "XRay after __xray_unpatch()");
	return 0;
}
