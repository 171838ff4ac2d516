/* SPDX-License-Identifier: MIT */
/*
 * Measurement marks: how a benchmark program tells the counting plugin
 * (bench/insn_count.c) where a measured window starts and stops.
 *
 * A mark is one instruction that no compiler emits and that does nothing
 * on real hardware:
 *
 *	movz	xzr, #(0xb700 | cmd)	// 0xd296e01f | cmd << 5
 *
 * MOVZ to register 31 writes the zero register, i.e. discards the
 * result, so a marked program runs unchanged on an arm64 machine.  The
 * plugin recognises the word when QEMU translates it, hooks its execution
 * and does not count it: a window holds exactly the instructions executed
 * after its START mark and before its STOP mark, on every thread.
 *
 * The QEMU 7.2 plugin API cannot read guest registers, so a mark carries
 * no run-time argument; windows are numbered in the order they close and
 * the program prints, in the same order, what each one measured.
 */
#ifndef FTRAMP_BENCH_MARK_H
#define FTRAMP_BENCH_MARK_H

#define BENCH_MARK_START	0u	/* open a window: zero its counters */
#define BENCH_MARK_STOP		1u	/* close it and report it */

#define BENCH_MARK_MAGIC	0xb700u
#define BENCH_MARK_CMD_MASK	0xffu

/* A64 MOVZ (64-bit, LSL #0) with Rd = XZR and imm16 = MAGIC | cmd. */
#define BENCH_MARK_INSN(cmd) \
	(0xd2800000u | ((BENCH_MARK_MAGIC | (cmd)) << 5) | 31u)

static inline int bench_mark_decode(unsigned int insn)
{
	unsigned int mask = ~(BENCH_MARK_CMD_MASK << 5);

	if ((insn & mask) != BENCH_MARK_INSN(0))
		return -1;
	return (insn >> 5) & BENCH_MARK_CMD_MASK;
}

#ifdef __aarch64__
/*
 * The "memory" clobber keeps the compiler from moving loads, stores and
 * calls across the mark: they stay inside (or outside) the window.
 */
#define bench_mark(cmd)							\
	__asm__ __volatile__(".inst %c0" :: "i"(BENCH_MARK_INSN(cmd)) : "memory")
#define bench_start()	bench_mark(BENCH_MARK_START)
#define bench_stop()	bench_mark(BENCH_MARK_STOP)
#endif

#endif /* FTRAMP_BENCH_MARK_H */
