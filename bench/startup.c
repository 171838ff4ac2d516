// SPDX-License-Identifier: MIT
/*
 * The agent's start-up (issue 14: `--count '*'` over 1,000 functions in
 * at most 30 M guest instructions, linear up to 10,000): this program
 * holds bench/gen_funcs.sh's N functions and runs with the agent
 * preloaded, as `ftramp run` starts a program.  The window opens in the
 * program's .preinit_array, which runs before every shared object's
 * initialiser (ELF gABI, "Initialization and Termination Functions"),
 * and closes in main(): it holds the agent's constructor (the site
 * table, the globs, the entry writes and the attach transaction) and the
 * other libraries' initialisers.  Run once with the agent preloaded and
 * nothing to do (the reference), then by `ftramp run --count` and
 * `ftramp run -t` and `--hist` (FTRAMP_BENCH_GLOB, FTRAMP_BENCH_MODE
 * "count", "trace" or "hist": bench/bench.mk); -t maps every function's
 * DWARF model from the table the ftramp process built before the start.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mark.h"
#include "report.h"

typedef long (*bench_gen_fn)(long x);
extern const bench_gen_fn bench_gen_funcs[];
extern const unsigned long bench_gen_nr;

static void window_open(void)
{
	bench_start();
}

__attribute__((section(".preinit_array"), used))
static void (*const preinit[])(void) = { window_open };

int main(void)
{
	const char *glob = getenv("FTRAMP_BENCH_GLOB");
	const char *mode = getenv("FTRAMP_BENCH_MODE");
	char name[64], label[160];

	bench_stop();
	if (glob) {
		/* FTRAMP_BENCH_MODE: "count", "trace" or "hist" */
		bool count = !mode || !strcmp(mode, "count");
		bool trace = mode && !strcmp(mode, "trace");

		snprintf(name, sizeof(name), "ftramp.startup%s%s.%lu",
			 count ? "" : "_", count ? "" : mode, bench_gen_nr);
		snprintf(label, sizeof(label),
			 "agent start-up: --%s '%s' over %lu functions%s",
			 count ? "count" : mode, glob, bench_gen_nr,
			 trace ? ", models from the host's table" : "");
		bench_attach(name, bench_gen_nr, 0, 1, label);
	} else {
		snprintf(name, sizeof(name), "ftramp.startup_load.%lu",
			 bench_gen_nr);
		bench_attach(name, bench_gen_nr, 0, 0,
			     "start-up with the agent preloaded, nothing to do (reference)");
	}
	/* Counted calls, so that the attach was real (and cheap). */
	for (unsigned long i = 0; i < bench_gen_nr; i += 100)
		bench_gen_funcs[i](1);
	return 0;
}
