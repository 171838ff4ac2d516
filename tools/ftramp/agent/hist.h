/* SPDX-License-Identifier: MIT */
/*
 * --hist's arithmetic, at every exit of a traced function: the duration
 * since the entry time the session cookie holds, into a log2 bucket of
 * nanoseconds, with total, min and max.  Inline, and shared with
 * bench/ftramp_bench.c, so that `make bench` measures what the agent
 * runs.
 *
 * Time is the generic timer's virtual count (CNTVCT_EL0, Arm ARM D11.2:
 * readable at EL0 when the kernel allows it, as Linux does; its vDSO
 * clock_gettime() reads the same counter): one instruction.  A duration
 * becomes nanoseconds with one 64x64->128 multiply by hist_mult, 2^32 ns
 * per tick.  The counters are added with STADD where the CPU has LSE
 * (HWCAP_ATOMICS): the compiler's outline atomics cost a call each.
 */
#ifndef FTRAMP_AGENT_HIST_H
#define FTRAMP_AGENT_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/auxv.h>

#define HIST_BUCKETS	64	/* log2 of nanoseconds */

struct hist_stat {
	uint64_t unwound;	/* calls that never returned: not timed */
	uint64_t total_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t hist[HIST_BUCKETS];
};

static uint64_t hist_mult = 1ull << 32;	/* ns per tick, << 32 */
static bool hist_lse __attribute__((unused));

static inline uint64_t hist_ticks(void)
{
#ifdef __aarch64__
	uint64_t t;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(t));
	return t;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
#endif
}

static inline uint64_t hist_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * hist_mult) >> 32);
}

static inline __attribute__((unused)) void hist_init(void)
{
#ifdef __aarch64__
	uint64_t freq;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	if (freq)
		hist_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) /
				       freq);
	hist_lse = getauxval(AT_HWCAP) & (1ul << 8);	/* HWCAP_ATOMICS */
#endif
}

/* *p += v, relaxed: one STADD with LSE. */
static inline void hist_add(uint64_t *p, uint64_t v)
{
#ifdef __aarch64__
	if (__builtin_expect(hist_lse, 1)) {
		__asm__ volatile(".arch_extension lse\n\tstadd %x1, %0"
				 : "+Q"(*p) : "r"(v));
		return;
	}
#endif
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static inline void hist_record(struct hist_stat *s, uint64_t ns)
{
	uint64_t old;
	int b = 0;

	hist_add(&s->total_ns, ns);
	/* min and max: a load and a compare; a CAS only when they move */
	old = __atomic_load_n(&s->min_ns, __ATOMIC_RELAXED);
	while ((!old || ns < old) &&
	       !__atomic_compare_exchange_n(&s->min_ns, &old, ns ? ns : 1,
					    true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	old = __atomic_load_n(&s->max_ns, __ATOMIC_RELAXED);
	while (ns > old &&
	       !__atomic_compare_exchange_n(&s->max_ns, &old, ns, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (ns)
		b = 63 - __builtin_clzll(ns);
	hist_add(&s->hist[b], 1);
}

#endif /* FTRAMP_AGENT_HIST_H */
