// SPDX-License-Identifier: MIT
/*
 * The C handlers of the BPF rows, compiled by clang -O2 for aarch64
 * (bench.mk: the LLVM-compiled peers of the JIT'd programs), linked into
 * ftramp_bench beside its gcc-compiled ones.
 */
#include <stdint.h>

#include "handlers.h"

uint64_t bench_clang_count;

uint64_t bench_clang_entry(const uint64_t *ctx)
{
	(void)ctx;
	return 0;
}

uint64_t bench_clang_exit(const uint64_t *ctx)
{
	(void)ctx;
	return 1;	/* not merged with the entry handler */
}

/* What the BPF count program does: an atomic add to a global. */
uint64_t bench_clang_count_entry(const uint64_t *ctx)
{
	(void)ctx;
	__atomic_fetch_add(&bench_clang_count, 1, __ATOMIC_SEQ_CST);
	return 0;
}
