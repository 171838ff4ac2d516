// SPDX-License-Identifier: MIT
/*
 * The eBPF interpreter: the whole ISA of RFC 9669 (cpu v4), the
 * reference engine the JIT (issue 3/3) is tested against.
 *
 * It runs the load form (prog->run): map references are addresses,
 * every opcode, register, jump and call target was checked by
 * bpf_check(), and the last instruction is exit or ja, so the program
 * counter stays inside the image without a test per step.
 *
 * Semantics, RFC 9669 section 4 (the corner cases named there):
 *  - 32-bit ALU results are zero-extended to 64 bits;
 *  - an immediate is sign-extended to 64 bits for ALU64 (and then
 *    read as unsigned by unsigned DIV/MOD), used as 32 bits for ALU;
 *  - shift counts are masked to 63 (ALU64) or 31 (ALU);
 *  - division by zero gives 0, modulo by zero leaves dst (its low 32
 *    bits for ALU); signed INT_MIN / -1 gives INT_MIN, INT_MIN % -1
 *    gives 0 (computed without the C overflow);
 *  - signed modulo truncates (the sign of the dividend), as C does.
 * A static branch (sbranch.c) reads its site's flag: set, it jumps.
 * Each bpf-to-bpf call gets its own 512-byte stack frame and keeps the
 * caller's R6-R9 (the callee may clobber them; the frame restores them),
 * up to 8 frames, as the kernel allows.
 */
#include <errno.h>
#include <string.h>

#include "bpf/bpf.h"

struct frame {
	uint64_t saved[4];	/* R6-R9 */
	uint64_t fp;		/* R10 */
	size_t ret;		/* insn after the call */
};

struct run {
	const struct ftramp_bpf_program *prog;
	uint8_t *stack;		/* BPF_MAX_CALL_DEPTH frames */
	int tail_calls;
	bool counted;		/* in bpf_interp_tail_inflight (tail.c) */
	int callbacks;		/* nesting of bpf_loop() callbacks */
#ifdef BPF_INTERP_CHECKED
	/* the frames of the bpf_loop() callers: still the program's */
	struct bpf_interp_stacks outer;
#endif
};

#ifdef BPF_INTERP_CHECKED
/*
 * The fuzzers' build (fuzz_verifier): every load, store and atomic is
 * announced before it is made, with the stack frames live at that
 * moment (this run's frames 0..depth and those of the bpf_loop()
 * callers), so that the fuzzer checks that what the verifier accepted
 * stays inside its objects.
 */
#define CHECKED(a, sz, w) do {						\
		struct bpf_interp_stacks s_ = rs->outer;		\
									\
		s_.lo[s_.n] = (uintptr_t)rs->stack;			\
		s_.hi[s_.n++] = (uintptr_t)rs->stack +			\
				(depth + 1) * BPF_MAX_STACK;		\
		bpf_interp_checked((a), (sz), (w), &s_);		\
	} while (0)
#else
#define CHECKED(a, sz, w) do { } while (0)
#endif

static uint64_t exec(struct run *rs, size_t pc, uint64_t *reg, int depth);

static uint64_t ld(uintptr_t a, int size)
{
	uint8_t b;
	uint16_t h;
	uint32_t w;
	uint64_t d;

	switch (size) {
	case BPF_B:  memcpy(&b, (void *)a, 1); return b;
	case BPF_H:  memcpy(&h, (void *)a, 2); return h;
	case BPF_W:  memcpy(&w, (void *)a, 4); return w;
	default:     memcpy(&d, (void *)a, 8); return d;
	}
}

static uint64_t ldsx(uintptr_t a, int size)
{
	uint64_t v = ld(a, size);

	switch (size) {
	case BPF_B:  return (uint64_t)(int64_t)(int8_t)v;
	case BPF_H:  return (uint64_t)(int64_t)(int16_t)v;
	default:     return (uint64_t)(int64_t)(int32_t)v;
	}
}

static void st(uintptr_t a, int size, uint64_t v)
{
	uint8_t b = v;
	uint16_t h = v;
	uint32_t w = v;

	switch (size) {
	case BPF_B:  memcpy((void *)a, &b, 1); break;
	case BPF_H:  memcpy((void *)a, &h, 2); break;
	case BPF_W:  memcpy((void *)a, &w, 4); break;
	default:     memcpy((void *)a, &v, 8); break;
	}
}

/*
 * BPF_ATOMIC on a word of type T; @src gets the old value for fetch ops
 * and xchg, R0 for cmpxchg (zero-extended from 32 bits).
 */
#define ATOMIC_OPS(T)							\
	do {								\
		T *p = (T *)a, v = *src, old;				\
									\
		switch (op & ~BPF_FETCH) {				\
		case BPF_ADD:						\
			old = __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);\
			break;						\
		case BPF_OR:						\
			old = __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); \
			break;						\
		case BPF_AND:						\
			old = __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);\
			break;						\
		case BPF_XOR:						\
			old = __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);\
			break;						\
		case BPF_XCHG & ~BPF_FETCH:				\
			old = __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);\
			break;						\
		default: {	/* BPF_CMPXCHG */			\
			T expect = *r0;					\
									\
			__atomic_compare_exchange_n(p, &expect, v, false,\
						    __ATOMIC_SEQ_CST,	\
						    __ATOMIC_SEQ_CST);	\
			*r0 = expect;					\
			return;						\
		}							\
		}							\
		if (op & BPF_FETCH)					\
			*src = old;					\
	} while (0)

static void atomic_op(uintptr_t a, int size, int32_t op, uint64_t *src,
		      uint64_t *r0)
{
	if (size == BPF_W)
		ATOMIC_OPS(uint32_t);
	else
		ATOMIC_OPS(uint64_t);
}

/*
 * One ALU for both widths: U and S the unsigned and signed types, MASK
 * the shift mask (63 or 31).  off selects sdiv/smod (1) and the movsx
 * width (8, 16, 32; bpf_check() allows 32 in ALU64 only).
 */
#define ALU_OPS(U, S, MASK)						\
	switch (op) {							\
	case BPF_ADD:  return d + s;					\
	case BPF_SUB:  return d - s;					\
	case BPF_MUL:  return d * s;					\
	case BPF_OR:   return d | s;					\
	case BPF_AND:  return d & s;					\
	case BPF_XOR:  return d ^ s;					\
	case BPF_LSH:  return d << (s & MASK);				\
	case BPF_RSH:  return d >> (s & MASK);				\
	case BPF_ARSH: return (U)((S)d >> (s & MASK));			\
	case BPF_NEG:  return -d;					\
	case BPF_MOV:							\
		switch (off) {						\
		case 8:  return (U)(S)(int8_t)s;			\
		case 16: return (U)(S)(int16_t)s;			\
		case 32: return (U)(S)(int32_t)s;			\
		}							\
		return s;						\
	case BPF_DIV:							\
		if (!s)							\
			return 0;					\
		if (!off)						\
			return d / s;					\
		if ((S)s == -1)						\
			return -d;	/* INT_MIN / -1 = INT_MIN */	\
		return (U)((S)d / (S)s);				\
	case BPF_MOD:							\
		if (!s)							\
			return d;					\
		if (!off)						\
			return d % s;					\
		if ((S)s == -1)						\
			return 0;					\
		return (U)((S)d % (S)s);				\
	}								\
	return d

static uint64_t alu64(uint8_t op, int16_t off, uint64_t d, uint64_t s)
{
	ALU_OPS(uint64_t, int64_t, 63);
}

static uint32_t alu32(uint8_t op, int16_t off, uint32_t d, uint32_t s)
{
	ALU_OPS(uint32_t, int32_t, 31);
}

static uint64_t endian(uint8_t cls, bool to_be, int32_t bits, uint64_t v)
{
	/* A little-endian host: to_le truncates, to_be and bswap swap. */
	bool swap = cls == BPF_ALU64 || to_be;

	switch (bits) {
	case 16: return swap ? __builtin_bswap16(v) : (uint16_t)v;
	case 32: return swap ? __builtin_bswap32(v) : (uint32_t)v;
	default: return swap ? __builtin_bswap64(v) : v;
	}
}

static bool jump_taken(uint8_t op, uint64_t d, uint64_t s, bool is32)
{
	int64_t sd = is32 ? (int32_t)d : (int64_t)d;
	int64_t ss = is32 ? (int32_t)s : (int64_t)s;

	if (is32) {
		d = (uint32_t)d;
		s = (uint32_t)s;
	}
	switch (op) {
	case BPF_JEQ:  return d == s;
	case BPF_JNE:  return d != s;
	case BPF_JGT:  return d > s;
	case BPF_JGE:  return d >= s;
	case BPF_JLT:  return d < s;
	case BPF_JLE:  return d <= s;
	case BPF_JSET: return d & s;
	case BPF_JSGT: return sd > ss;
	case BPF_JSGE: return sd >= ss;
	case BPF_JSLT: return sd < ss;
	case BPF_JSLE: return sd <= ss;
	}
	return false;
}

/*
 * bpf_loop(nr, callback, ctx, flags): callback(i, ctx) for i < nr until
 * it returns 1.  The callback runs as a subprogram on a stack of its own.
 */
static uint64_t do_loop(struct run *rs, const uint64_t *r, int depth)
{
	const struct ftramp_bpf_insn *base = rs->prog->run;
	uintptr_t cb = r[2];
	uint64_t i;

	if (r[4] || r[1] > BPF_MAX_LOOPS)
		return (uint64_t)-E2BIG;
	if (cb < (uintptr_t)base || cb >= (uintptr_t)(base + rs->prog->run_n) ||
	    (cb - (uintptr_t)base) % sizeof(*base))
		return (uint64_t)-EINVAL;
	if (rs->callbacks >= BPF_MAX_CALL_DEPTH)
		return (uint64_t)-E2BIG;
	rs->callbacks++;
	for (i = 0; i < r[1]; i++) {
		uint8_t stack[BPF_MAX_STACK * BPF_MAX_CALL_DEPTH]
			__attribute__((aligned(16)));
		uint8_t *saved = rs->stack;
		uint64_t reg[11] = { 0 }, ret;

#ifdef BPF_INTERP_CHECKED
		rs->outer.lo[rs->outer.n] = (uintptr_t)saved;
		rs->outer.hi[rs->outer.n++] = (uintptr_t)saved +
					      (depth + 1) * BPF_MAX_STACK;
#endif
		rs->stack = stack;
		reg[1] = i;
		reg[2] = r[3];
		ret = exec(rs, (cb - (uintptr_t)base) / sizeof(*base), reg, 0);
		rs->stack = saved;
#ifdef BPF_INTERP_CHECKED
		rs->outer.n--;
#endif
		if (ret)
			break;
	}
	rs->callbacks--;
	return i < r[1] ? i + 1 : i;
}

static uint64_t exec(struct run *rs, size_t pc, uint64_t *reg, int depth)
{
	const struct ftramp_bpf_insn *insns = rs->prog->run;
	struct frame frames[BPF_MAX_CALL_DEPTH];

	reg[BPF_REG_10] = (uintptr_t)rs->stack + BPF_MAX_STACK;
	for (;;) {
		const struct ftramp_bpf_insn *in = &insns[pc++];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		uint64_t *d = &reg[in->dst_reg];
		uint64_t s;

		switch (cls) {
		case BPF_ALU64:
			if (op == BPF_END) {
				*d = endian(cls, false, in->imm, *d);
				break;
			}
			s = BPF_SRC(in->code) == BPF_X ?
			    reg[in->src_reg] : (uint64_t)(int64_t)in->imm;
			*d = alu64(op, in->off, *d, s);
			break;
		case BPF_ALU:
			if (op == BPF_END) {
				*d = endian(cls, BPF_SRC(in->code) == BPF_TO_BE,
					    in->imm, *d);
				break;
			}
			s = BPF_SRC(in->code) == BPF_X ?
			    reg[in->src_reg] : (uint32_t)in->imm;
			*d = alu32(op, in->off, (uint32_t)*d, (uint32_t)s);
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (op == BPF_JA) {
				/* a static branch that is off: a nop */
				if (in->src_reg && !bpf_sbranch_on(rs->prog, pc - 1))
					break;
				pc += cls == BPF_JMP32 ? in->imm : in->off;
				break;
			}
			if (op == BPF_JCOND) {	/* static, nop until on */
				if (bpf_sbranch_on(rs->prog, pc - 1))
					pc += in->off;
				break;
			}
			if (op == BPF_CALL) {
				if (in->src_reg == BPF_PSEUDO_CALL) {
					struct frame *f = &frames[depth];

					if (depth + 1 >= BPF_MAX_CALL_DEPTH)
						return (uint64_t)-E2BIG;
					memcpy(f->saved, &reg[6], sizeof(f->saved));
					f->fp = reg[BPF_REG_10];
					f->ret = pc;
					depth++;
					reg[BPF_REG_10] = (uintptr_t)rs->stack +
						(depth + 1) * BPF_MAX_STACK;
					pc += in->imm;
					break;
				}
				if (in->imm == BPF_FUNC_loop) {
					reg[0] = do_loop(rs, reg, depth);
				} else if (in->imm == BPF_FUNC_tail_call) {
					struct ftramp_bpf_program *t;

					/*
					 * From the main frame only.  Counted
					 * before the slot is read, until the
					 * run ends: a program that leaves the
					 * slot is freed after (tail.c).
					 */
					if (!depth && !rs->counted) {
						__atomic_add_fetch(
							&bpf_interp_tail_inflight,
							1, __ATOMIC_SEQ_CST);
						rs->counted = true;
					}
					t = depth ? NULL :
					    bpf_prog_array_get((void *)(uintptr_t)reg[2],
							       (uint32_t)reg[3]);
					if (!t || !t->loaded || !t->run ||
					    rs->tail_calls >= BPF_MAX_TAIL_CALLS) {
						reg[0] = (uint64_t)-ENOENT;
						break;
					}
					rs->tail_calls++;
					rs->prog = t;
					insns = t->run;
					pc = t->run_entry;
					break;
				} else {
					reg[0] = bpf_helper_call(rs->prog, in->imm,
								 reg);
				}
				break;
			}
			if (op == BPF_EXIT) {
				struct frame *f;

				if (!depth)
					return reg[0];
				f = &frames[--depth];
				memcpy(&reg[6], f->saved, sizeof(f->saved));
				reg[BPF_REG_10] = f->fp;
				pc = f->ret;
				break;
			}
			s = BPF_SRC(in->code) == BPF_X ?
			    reg[in->src_reg] : (uint64_t)(int64_t)in->imm;
			if (jump_taken(op, *d, s, cls == BPF_JMP32))
				pc += in->off;
			break;
		case BPF_LD:	/* ld_imm64 (the only LD bpf_check() allows) */
			*d = (uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32;
			pc++;
			break;
		case BPF_LDX:
			s = reg[in->src_reg] + (int64_t)in->off;
			CHECKED(s, BPF_SIZE(in->code), false);
			*d = BPF_MODE(in->code) == BPF_MEMSX ?
			     ldsx(s, BPF_SIZE(in->code)) : ld(s, BPF_SIZE(in->code));
			break;
		case BPF_ST:
			CHECKED(*d + (int64_t)in->off, BPF_SIZE(in->code), true);
			st(*d + (int64_t)in->off, BPF_SIZE(in->code),
			   (uint64_t)(int64_t)in->imm);
			break;
		case BPF_STX:
			CHECKED(*d + (int64_t)in->off, BPF_SIZE(in->code), true);
			if (BPF_MODE(in->code) == BPF_ATOMIC)
				atomic_op(*d + (int64_t)in->off,
					  BPF_SIZE(in->code), in->imm,
					  &reg[in->src_reg], &reg[0]);
			else
				st(*d + (int64_t)in->off, BPF_SIZE(in->code),
				   reg[in->src_reg]);
			break;
		}
	}
}

uint64_t bpf_interp_run(const struct ftramp_bpf_program *prog, uint64_t r1,
			uint64_t r2)
{
	uint8_t stack[BPF_MAX_STACK * BPF_MAX_CALL_DEPTH]
		__attribute__((aligned(16)));
	struct run rs = { .prog = prog, .stack = stack };
	uint64_t reg[11] = { 0 };

	uint64_t ret;

	reg[1] = r1;
	reg[2] = r2;
	ret = exec(&rs, prog->run_entry, reg, 0);
	if (rs.counted)
		__atomic_sub_fetch(&bpf_interp_tail_inflight, 1,
				   __ATOMIC_RELEASE);
	return ret;
}
