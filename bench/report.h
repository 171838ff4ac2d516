/* SPDX-License-Identifier: MIT */
/*
 * What a benchmark program prints on stdout, one line per record, so that
 * bench/report.sh can pair each window the plugin reports with its
 * meaning.  Windows are matched by order: every `case` and `expect` line
 * consumes the next window the plugin closed, so print exactly one of
 * them right after each bench_stop() (printing happens outside windows
 * and costs nothing measured).
 *
 *   case   <name> <calls> <base> <label...>
 *	A measured window of <calls> calls.  Its cost per call is compared
 *	with the window named <base> ("-": it is a baseline itself).
 *   attach <name> <funcs> <pages> <batches> <label...>
 *	A measured window that attached to (or swept the pages of) <funcs>
 *	functions spread over <pages> text pages, in <batches> patching
 *	transactions (0: not an ftramp operation, no target applies).
 *   expect <name> <calls> <insns> <syscalls> <mprotect> <membarrier>
 *	A calibration window: the plugin must report exactly these
 *	counts (-1: not checked).
 *   discard
 *	The window just closed measured nothing useful (the case failed
 *	inside it): drop it.
 *   na     <name> <base> <label...> -- <reason...>
 *	A case that could not be measured in this build (no window).
 *   mem    <name> <bytes> <funcs> <pages> <label...>
 *	Trampoline memory: <bytes> of code for <funcs> functions over
 *	<pages> pages.
 *
 * Names are <impl>.<function>.<variant>; the peer of a case is
 * xray.<function>.patched.  Attach records are named <impl>.attach.<n>.
 */
#ifndef FTRAMP_BENCH_REPORT_H
#define FTRAMP_BENCH_REPORT_H

#include <stdio.h>

static inline void bench_case(const char *name, long calls, const char *base,
			      const char *label)
{
	printf("case %s %ld %s %s\n", name, calls, base ? base : "-", label);
	fflush(stdout);
}

static inline void bench_attach(const char *name, long funcs, long pages,
				long batches, const char *label)
{
	printf("attach %s %ld %ld %ld %s\n", name, funcs, pages, batches,
	       label);
	fflush(stdout);
}

static inline void bench_expect_sys(const char *name, long calls, long insns,
				    long syscalls, long mprotect,
				    long membarrier)
{
	printf("expect %s %ld %ld %ld %ld %ld\n", name, calls, insns,
	       syscalls, mprotect, membarrier);
	fflush(stdout);
}

static inline void bench_expect(const char *name, long calls, long insns)
{
	bench_expect_sys(name, calls, insns, -1, -1, -1);
}

static inline void bench_discard(void)
{
	printf("discard\n");
	fflush(stdout);
}

static inline void bench_na(const char *name, const char *base,
			    const char *label, const char *why)
{
	printf("na %s %s %s -- %s\n", name, base ? base : "-", label, why);
	fflush(stdout);
}

static inline void bench_mem(const char *name, unsigned long bytes,
			     unsigned long funcs, unsigned long pages,
			     const char *label)
{
	printf("mem %s %lu %lu %lu %s\n", name, bytes, funcs, pages, label);
	fflush(stdout);
}

#endif /* FTRAMP_BENCH_REPORT_H */
