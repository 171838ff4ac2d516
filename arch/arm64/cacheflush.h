/* SPDX-License-Identifier: MIT */
/*
 * Instruction/data cache maintenance for code written at run time.
 *
 * Arm ARM (DDI 0487), B2.4.4 and "Instruction cache maintenance" /
 * K11.5 "Ensuring the visibility of updates to instructions": after
 * writing instructions through the data side, for each modified line
 *
 *	dc cvau, Xaddr		clean D to the Point of Unification
 *	dsb ish			... completed for the Inner Shareable domain
 *	ic ivau, Xaddr		invalidate I to the PoU (broadcast, IS)
 *	dsb ish			... completed
 *	isb			this thread refetches
 *
 * The broadcast IC IVAU reaches every PE's instruction cache, but other
 * threads may still hold already-fetched instructions in their pipelines:
 * they need their own context synchronisation (membarrier SYNC_CORE, in
 * patching.c).  CTR_EL0.IDC (bit 28) says the D-side clean is not needed
 * for instruction coherence, CTR_EL0.DIC (bit 29) that the I-side
 * invalidation is not; the DSB/ISB are needed either way.  Linux lets EL0
 * read CTR_EL0 (SCTLR_EL1.UCT, or trap and emulate).
 *
 * Data and unified caches behave as physically indexed, physically tagged
 * (Arm ARM, "Data and unified caches"), so cleaning by the execute address
 * also cleans what was written through a writable alias of the same page.
 *
 * The functions are split so a batch of scattered writes costs one DSB
 * pair and one ISB, not one per instruction.
 */
#ifndef FTRAMP_ARCH_ARM64_CACHEFLUSH_H
#define FTRAMP_ARCH_ARM64_CACHEFLUSH_H

#include <stdint.h>

#define CTR_IDC		(1ull << 28)
#define CTR_DIC		(1ull << 29)

static inline uint64_t arm64_read_ctr(void)
{
#ifdef __aarch64__
	uint64_t ctr;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	return ctr;
#else
	return CTR_IDC | CTR_DIC;
#endif
}

/* Line sizes in bytes (CTR_EL0.DminLine / IminLine: log2 of words). */
static inline uint64_t arm64_dline(uint64_t ctr)
{
	return 4ull << ((ctr >> 16) & 0xf);
}

static inline uint64_t arm64_iline(uint64_t ctr)
{
	return 4ull << (ctr & 0xf);
}

/* Clean [start, end) to the PoU, no barrier. */
static inline void arm64_dcache_clean_pou(uint64_t ctr, uintptr_t start,
					uintptr_t end)
{
#ifdef __aarch64__
	uint64_t line = arm64_dline(ctr);

	if (ctr & CTR_IDC)
		return;
	for (uintptr_t a = start & ~(line - 1); a < end; a += line)
		__asm__ volatile("dc cvau, %0" : : "r"(a) : "memory");
#endif
}

/* Invalidate [start, end) in the I-cache to the PoU, no barrier. */
static inline void arm64_icache_inval_pou(uint64_t ctr, uintptr_t start,
					uintptr_t end)
{
#ifdef __aarch64__
	uint64_t line = arm64_iline(ctr);

	if (ctr & CTR_DIC)
		return;
	for (uintptr_t a = start & ~(line - 1); a < end; a += line)
		__asm__ volatile("ic ivau, %0" : : "r"(a) : "memory");
#endif
}

static inline void arm64_dsb_ish(void)
{
#ifdef __aarch64__
	__asm__ volatile("dsb ish" : : : "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline void arm64_isb(void)
{
#ifdef __aarch64__
	__asm__ volatile("isb" : : : "memory");
#endif
}

/* The whole sequence for one range. */
static inline void arm64_sync_icache_range(uintptr_t start, uintptr_t end)
{
	uint64_t ctr = arm64_read_ctr();

	arm64_dcache_clean_pou(ctr, start, end);
	arm64_dsb_ish();
	arm64_icache_inval_pou(ctr, start, end);
	arm64_dsb_ish();
	arm64_isb();
}

#endif /* FTRAMP_ARCH_ARM64_CACHEFLUSH_H */
