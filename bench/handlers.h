/* SPDX-License-Identifier: MIT */
/* bench/handlers.c: C handlers compiled by clang (the LLVM peers). */
#ifndef FTRAMP_BENCH_HANDLERS_H
#define FTRAMP_BENCH_HANDLERS_H

#include <stdint.h>

extern uint64_t bench_clang_count;
uint64_t bench_clang_entry(const uint64_t *ctx);
uint64_t bench_clang_exit(const uint64_t *ctx);
uint64_t bench_clang_count_entry(const uint64_t *ctx);

#endif /* FTRAMP_BENCH_HANDLERS_H */
