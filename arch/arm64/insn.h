/* SPDX-License-Identifier: MIT */
/*
 * A64 instruction encoder and decoder (pure: no libc, no system calls).
 *
 * Three layers (Documentation/internals.rst section 1):
 *
 *  1. Encoders: a64_<class>(...) return one 32-bit instruction word, or
 *     A64_INSN_BAD when an operand does not encode.  Nothing is ever
 *     truncated: an immediate that does not fit, a misaligned offset, a
 *     register the form cannot name (SP where only XZR exists, or the other
 *     way round) all give A64_INSN_BAD.
 *  2. Mnemonic-level inlines (a64_stp_pre(), a64_mov(), a64_ret()...), one
 *     line each with the assembly they stand for.
 *  3. An emit context (struct a64_ctx) with a sticky first error, separate
 *     write (image) and execute (ro_base) addresses, and a counting-only
 *     mode (image == NULL) for the sizing pass of a two-pass emitter.
 *
 * Decoders mirror the encoders where patching and site checks need them.
 *
 * Registers: register 31 means SP in some operand positions and XZR/WZR in
 * others (Arm ARM C1.2.5, "Register names").  The API makes the caller say
 * which: A64_SP and A64_ZR are distinct values, and an encoder refuses the
 * one its operand position cannot encode.  FP/SIMD registers are plain
 * numbers 0..31.
 *
 * Encodings are from the Arm Architecture Reference Manual for A-profile
 * (DDI 0487), chapter C4 "A64 Instruction Set Encoding" and the per
 * instruction pages in C6 (general) and C7 (SIMD&FP).
 */
#ifndef FTRAMP_ARCH_ARM64_INSN_H
#define FTRAMP_ARCH_ARM64_INSN_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The refusal sentinel: BRK #0xbad.  It traps if it is ever executed, and
 * a64_emit() turns it into a sticky -EINVAL.  a64_brk(0xbad) returns the
 * same word, so do not use that immediate for anything else.
 */
#define A64_INSN_BAD		0xd42175a0u

#define A64_INSN_SIZE		4

/* Hints (C6.2 HINT): CRm:op2 selects the hint. */
#define A64_HINT(imm7)		(0xd503201fu | ((uint32_t)(imm7) << 5))
#define A64_NOP			A64_HINT(0)	/* nop */
#define A64_XPACLRI		A64_HINT(7)	/* xpaclri */
#define A64_PACIASP		A64_HINT(25)	/* paciasp */
#define A64_PACIBSP		A64_HINT(27)	/* pacibsp */
#define A64_AUTIASP		A64_HINT(29)	/* autiasp */
#define A64_AUTIBSP		A64_HINT(31)	/* autibsp */
#define A64_BTI			A64_HINT(32)	/* bti */
#define A64_BTI_C		A64_HINT(34)	/* bti c */
#define A64_BTI_J		A64_HINT(36)	/* bti j */
#define A64_BTI_JC		A64_HINT(38)	/* bti jc */

/* Barriers (C6.2 ISB/DSB/DMB), CRm = option. */
#define A64_ISB			0xd5033fdfu	/* isb */
#define A64_RET			0xd65f03c0u	/* ret (x30) */

/* mov x9, x30 (orr x9, xzr, x30): the one-time first patch of a site. */
#define A64_MOV_X9_X30		0xaa1e03e9u

/* ---------------------------------------------------------------------
 * Operand types
 * --------------------------------------------------------------------- */

enum a64_reg {
	A64_R0, A64_R1, A64_R2, A64_R3, A64_R4, A64_R5, A64_R6, A64_R7,
	A64_R8, A64_R9, A64_R10, A64_R11, A64_R12, A64_R13, A64_R14, A64_R15,
	A64_R16, A64_R17, A64_R18, A64_R19, A64_R20, A64_R21, A64_R22,
	A64_R23, A64_R24, A64_R25, A64_R26, A64_R27, A64_R28, A64_R29,
	A64_R30,
	A64_ZR,		/* XZR / WZR: register 31 where it reads as zero */
	A64_SP,		/* SP / WSP: register 31 in address and ADD/SUB #imm */
	A64_NR_REGS,
};
#define A64_R(n)	((enum a64_reg)(n))
#define A64_IP0		A64_R16		/* intra-procedure-call scratch */
#define A64_IP1		A64_R17
#define A64_FP		A64_R29		/* frame pointer */
#define A64_LR		A64_R30		/* link register */

/* Operation width: the sf bit of data-processing instructions. */
enum a64_width {
	A64_32 = 0,	/* Wn */
	A64_64 = 1,	/* Xn */
};

/* Condition codes (C1.2.4). */
enum a64_cond {
	A64_COND_EQ, A64_COND_NE, A64_COND_HS, A64_COND_LO,
	A64_COND_MI, A64_COND_PL, A64_COND_VS, A64_COND_VC,
	A64_COND_HI, A64_COND_LS, A64_COND_GE, A64_COND_LT,
	A64_COND_GT, A64_COND_LE, A64_COND_AL, A64_COND_NV,
};
#define A64_COND_CS	A64_COND_HS
#define A64_COND_CC	A64_COND_LO

/* Shift of a shifted-register operand (ROR only in logical instructions). */
enum a64_shift {
	A64_LSL, A64_LSR, A64_ASR, A64_ROR,
};

/* Extend of an extended-register operand. */
enum a64_extend {
	A64_UXTB, A64_UXTH, A64_UXTW, A64_UXTX,
	A64_SXTB, A64_SXTH, A64_SXTW, A64_SXTX,
};

/* Size and register file of a load/store. */
enum a64_ldst_size {
	A64_LS_B,	/* 8-bit: ldrb/strb, Wt */
	A64_LS_H,	/* 16-bit: ldrh/strh, Wt */
	A64_LS_W,	/* 32-bit general: Wt */
	A64_LS_X,	/* 64-bit general: Xt */
	A64_LS_S,	/* 32-bit SIMD&FP: St */
	A64_LS_D,	/* 64-bit SIMD&FP: Dt */
	A64_LS_Q,	/* 128-bit SIMD&FP: Qt */
};

/* Addressing form of an immediate-offset load/store. */
enum a64_addr_mode {
	A64_OFFSET,	/* [Xn, #imm]: scaled unsigned (LDR) / signed (LDP) */
	A64_PRE,	/* [Xn, #imm]!: writeback before */
	A64_POST,	/* [Xn], #imm: writeback after */
	A64_UNSCALED,	/* [Xn, #simm9] unscaled: ldur/stur (not LDP/STP) */
};

enum a64_ldst_op {
	A64_STORE,
	A64_LOAD,
	A64_LOAD_SX,	/* ldrsb/ldrsh/ldrsw Xt: sign-extend to 64 bits */
};

enum a64_addsub_op {
	A64_ADD, A64_ADDS, A64_SUB, A64_SUBS,
};

enum a64_logic_op {
	A64_AND, A64_BIC, A64_ORR, A64_ORN,
	A64_EOR, A64_EON, A64_ANDS, A64_BICS,
};

enum a64_bitfield_op {
	A64_SBFM, A64_BFM, A64_UBFM,
};

enum a64_movw_op {
	A64_MOVN, A64_MOVZ, A64_MOVK,
};

enum a64_csel_op {
	A64_CSEL, A64_CSINC, A64_CSINV, A64_CSNEG,
};

/* LSE atomic memory operations (C6.2, ARMv8.1-LSE). */
enum a64_lse_op {
	A64_LDADD, A64_LDCLR, A64_LDEOR, A64_LDSET, A64_SWP,
};

/* Memory ordering of exclusives and atomics: acquire and/or release. */
#define A64_ACQ		1u
#define A64_REL		2u

/* Barrier options: the CRm field of DSB/DMB (C6.2 DMB). */
enum a64_barrier {
	A64_OSHLD = 1, A64_OSHST = 2, A64_OSH = 3,
	A64_NSHLD = 5, A64_NSHST = 6, A64_NSH = 7,
	A64_ISHLD = 9, A64_ISHST = 10, A64_ISH = 11,
	A64_LD = 13, A64_ST = 14, A64_SY = 15,
};

/*
 * System registers for MRS/MSR, as op0:op1:CRn:CRm:op2 with op0 stored as
 * its low bit (o0) the way the instruction holds it (C5.3).
 */
#define A64_SYSREG(op0, op1, crn, crm, op2)				\
	((((uint32_t)(op0) & 1) << 14) | ((uint32_t)(op1) << 11) |	\
	 ((uint32_t)(crn) << 7) | ((uint32_t)(crm) << 3) | (uint32_t)(op2))
#define A64_SYSREG_NZCV		A64_SYSREG(3, 3, 4, 2, 0)
#define A64_SYSREG_FPCR		A64_SYSREG(3, 3, 4, 4, 0)
#define A64_SYSREG_FPSR		A64_SYSREG(3, 3, 4, 4, 1)
#define A64_SYSREG_TPIDR_EL0	A64_SYSREG(3, 3, 13, 0, 2)
#define A64_SYSREG_TPIDRRO_EL0	A64_SYSREG(3, 3, 13, 0, 3)
#define A64_SYSREG_CNTVCT_EL0	A64_SYSREG(3, 3, 14, 0, 2)

/* Data processing (1 source) byte reversal (C6.2 REV16/REV32/REV). */
enum a64_rev_op {
	A64_REV16,	/* each halfword */
	A64_REV32,	/* each word: 64-bit only (for 32 bits, use A64_REV) */
	A64_REV,	/* the whole register */
};

/* Data processing (2 source): the opcode field, bits 15:10. */
enum a64_dp2_op {
	A64_UDIV = 0x02, A64_SDIV = 0x03,
	A64_LSLV = 0x08, A64_LSRV = 0x09, A64_ASRV = 0x0a, A64_RORV = 0x0b,
};

/* Data processing (3 source): o0, bit 15. */
enum a64_dp3_op {
	A64_MADD, A64_MSUB,
};

/* FP register types for FMOV. */
enum a64_fp_type {
	A64_FP_S,	/* single: Sn <-> Wn */
	A64_FP_D,	/* double: Dn <-> Xn */
	A64_FP_D1,	/* upper half of a Q register: Vn.D[1] <-> Xn */
};

/* ---------------------------------------------------------------------
 * Layer 1: encoders.  Every one returns A64_INSN_BAD on a bad operand.
 * PC-relative encoders take the execute address of the instruction (pc)
 * and of the target; the offset must be a multiple of 4 (of 4096 for ADRP
 * pages) and within the field.
 * --------------------------------------------------------------------- */

/* Branches (C4.1.65 "Branches, Exception Generating and System"). */
uint32_t a64_b(uint64_t pc, uint64_t target);
uint32_t a64_bl(uint64_t pc, uint64_t target);
uint32_t a64_b_cond(uint64_t pc, uint64_t target, enum a64_cond cond);
uint32_t a64_cbz(uint64_t pc, uint64_t target, enum a64_width w,
		 enum a64_reg rt);
uint32_t a64_cbnz(uint64_t pc, uint64_t target, enum a64_width w,
		  enum a64_reg rt);
/* Test bit `bit` (0..63; 0..31 names Wt, 32..63 names Xt) of rt. */
uint32_t a64_tbz(uint64_t pc, uint64_t target, enum a64_reg rt,
		 unsigned int bit);
uint32_t a64_tbnz(uint64_t pc, uint64_t target, enum a64_reg rt,
		  unsigned int bit);
uint32_t a64_br(enum a64_reg rn);
uint32_t a64_blr(enum a64_reg rn);
uint32_t a64_ret_reg(enum a64_reg rn);

/* PC-relative addressing and literal loads. */
uint32_t a64_adr(uint64_t pc, uint64_t target, enum a64_reg rd);
/* adrp: target must be a 4 KiB page address (the page itself). */
uint32_t a64_adrp(uint64_t pc, uint64_t target, enum a64_reg rd);
/* ldr <Wt|Xt|St|Dt|Qt>, <label> (size W, X, S, D or Q; 4-byte aligned). */
uint32_t a64_ldr_lit(uint64_t pc, uint64_t target, enum a64_ldst_size size,
		     enum a64_reg rt);

/* Exceptions, hints, barriers, system registers. */
uint32_t a64_brk(uint32_t imm16);
uint32_t a64_svc(uint32_t imm16);
uint32_t a64_hvc(uint32_t imm16);
uint32_t a64_smc(uint32_t imm16);
uint32_t a64_hint(uint32_t imm7);
uint32_t a64_dsb(enum a64_barrier opt);
uint32_t a64_dmb(enum a64_barrier opt);
uint32_t a64_isb(void);
uint32_t a64_mrs(enum a64_reg rt, uint32_t sysreg);
uint32_t a64_msr(uint32_t sysreg, enum a64_reg rt);

/* Move wide: imm16 << shift, shift in {0, 16} (32-bit), {0..48} (64-bit). */
uint32_t a64_movw(enum a64_movw_op op, enum a64_width w, enum a64_reg rd,
		  uint32_t imm16, unsigned int shift);

/*
 * Add/subtract immediate: imm in [0, 4095] or a multiple of 4096 up to
 * 4095 << 12 (encoded with LSL #12).  ADD/SUB: rd and rn may be SP, not
 * ZR.  ADDS/SUBS: rd may be ZR (cmp/cmn), rn may be SP.
 */
uint32_t a64_addsub_imm(enum a64_addsub_op op, enum a64_width w,
			enum a64_reg rd, enum a64_reg rn, uint64_t imm);
/* Shifted register: ZR everywhere, no SP; shift LSL/LSR/ASR. */
uint32_t a64_addsub_shifted(enum a64_addsub_op op, enum a64_width w,
			    enum a64_reg rd, enum a64_reg rn, enum a64_reg rm,
			    enum a64_shift shift, unsigned int amount);
/*
 * Extended register: rd (SP for ADD/SUB, ZR for ADDS/SUBS), rn may be SP,
 * rm is ZR-class; amount 0..4.  rm is an X register only for UXTX/SXTX.
 */
uint32_t a64_addsub_ext(enum a64_addsub_op op, enum a64_width w,
			enum a64_reg rd, enum a64_reg rn, enum a64_reg rm,
			enum a64_extend ext, unsigned int amount);

/*
 * Logical immediate: AND, ORR, EOR (rd may be SP) and ANDS (rd may be ZR);
 * rn is ZR-class.  imm must be a bitmask immediate of the width (for
 * A64_32 only the low 32 bits may be set).  BIC/ORN/EON/BICS are refused.
 */
uint32_t a64_logic_imm(enum a64_logic_op op, enum a64_width w,
		       enum a64_reg rd, enum a64_reg rn, uint64_t imm);
/* Logical shifted register: all ZR-class; any shift including ROR. */
uint32_t a64_logic_shifted(enum a64_logic_op op, enum a64_width w,
			   enum a64_reg rd, enum a64_reg rn, enum a64_reg rm,
			   enum a64_shift shift, unsigned int amount);

/* SBFM/BFM/UBFM: immr, imms < width. */
uint32_t a64_bitfield(enum a64_bitfield_op op, enum a64_width w,
		      enum a64_reg rd, enum a64_reg rn,
		      unsigned int immr, unsigned int imms);

/* CSEL/CSINC/CSINV/CSNEG rd, rn, rm, cond. */
uint32_t a64_csel_op(enum a64_csel_op op, enum a64_width w, enum a64_reg rd,
		     enum a64_reg rn, enum a64_reg rm, enum a64_cond cond);

/*
 * CCMP (register) rn, rm, #nzcv, cond: the flags of rn - rm if cond
 * holds, else nzcv (0..15).  ZR-class registers.
 */
uint32_t a64_ccmp(enum a64_width w, enum a64_reg rn, enum a64_reg rm,
		  unsigned int nzcv, enum a64_cond cond);

/* CLZ rd, rn: leading zero bits of rn (width if rn is 0).  ZR-class. */
uint32_t a64_clz(enum a64_width w, enum a64_reg rd, enum a64_reg rn);

/* REV16/REV32/REV rd, rn (REV32 is refused for A64_32).  ZR-class. */
uint32_t a64_rev(enum a64_rev_op op, enum a64_width w, enum a64_reg rd,
		 enum a64_reg rn);

/*
 * UDIV/SDIV/LSLV/LSRV/ASRV/RORV rd, rn, rm.  ZR-class.  Division by zero
 * gives 0 and SDIV of INT_MIN by -1 gives INT_MIN (C6.2 SDIV): no trap.
 * Shifts take rm modulo the width.
 */
uint32_t a64_dp2(enum a64_dp2_op op, enum a64_width w, enum a64_reg rd,
		 enum a64_reg rn, enum a64_reg rm);

/* MADD/MSUB rd, rn, rm, ra: ra +/- rn * rm.  ZR-class. */
uint32_t a64_dp3(enum a64_dp3_op op, enum a64_width w, enum a64_reg rd,
		 enum a64_reg rn, enum a64_reg rm, enum a64_reg ra);

/*
 * Bitmask immediates (C6.2.x DecodeBitMasks): encode `val` of width w into
 * the 13-bit N:immr:imms field (returned as N << 12 | immr << 6 | imms);
 * false if it has no encoding.  Decode is the inverse; false for reserved
 * encodings.
 */
bool a64_bitmask_encode(uint64_t val, enum a64_width w, uint32_t *nimmrimms);
bool a64_bitmask_decode(uint32_t nimmrimms, enum a64_width w, uint64_t *val);

/*
 * Loads and stores with an immediate offset.
 *  A64_OFFSET:   unsigned, a multiple of the access size, < 4096 * size
 *  A64_PRE/POST: signed 9-bit byte offset, -256..255
 *  A64_UNSCALED: signed 9-bit byte offset (ldur/stur)
 * For S, D and Q sizes rt (and rt2 below) is the SIMD&FP register number
 * 0..31, passed as A64_R(n).
 * rn may be SP, not ZR; a general rt may be ZR (str xzr), not SP.  A
 * writeback form with rt == rn (general registers) is CONSTRAINED
 * UNPREDICTABLE (Arm ARM C6.2 LDR (immediate)) and refused.
 */
uint32_t a64_ldst_imm(enum a64_ldst_op op, enum a64_ldst_size size,
		      enum a64_reg rt, enum a64_reg rn, int64_t off,
		      enum a64_addr_mode mode);
/*
 * Register offset, unscaled: ldr/str rt, [rn, rm] (option LSL #0).
 * A64_LOAD_SX (here and above) takes sizes B, H and W only.
 */
uint32_t a64_ldst_reg(enum a64_ldst_op op, enum a64_ldst_size size,
		      enum a64_reg rt, enum a64_reg rn, enum a64_reg rm);

/*
 * LDP/STP of W, X, S, D or Q registers.  off is a signed multiple of the
 * register size within 7 bits (-64..63 units); mode A64_OFFSET, A64_PRE or
 * A64_POST.  Refused as CONSTRAINED UNPREDICTABLE: ldp with rt == rt2,
 * writeback with rn == rt or rt2 (general registers).
 */
uint32_t a64_ldstp(enum a64_ldst_op op, enum a64_ldst_size size,
		   enum a64_reg rt, enum a64_reg rt2, enum a64_reg rn,
		   int64_t off, enum a64_addr_mode mode);

/*
 * Exclusives and acquire/release (size B, H, W or X).  ord is 0 or A64_ACQ
 * for loads, 0 or A64_REL for stores.  stxr refuses rs == rt or rs == rn
 * (CONSTRAINED UNPREDICTABLE).
 */
uint32_t a64_ldxr(enum a64_ldst_size size, enum a64_reg rt, enum a64_reg rn,
		  unsigned int ord);
uint32_t a64_stxr(enum a64_ldst_size size, enum a64_reg rs, enum a64_reg rt,
		  enum a64_reg rn, unsigned int ord);
uint32_t a64_ldar(enum a64_ldst_size size, enum a64_reg rt, enum a64_reg rn);
uint32_t a64_stlr(enum a64_ldst_size size, enum a64_reg rt, enum a64_reg rn);

/* LSE (ARMv8.1): ld<op>[a][l] rs, rt, [rn]; swp; cas (size B, H, W, X). */
uint32_t a64_lse(enum a64_lse_op op, enum a64_ldst_size size,
		 enum a64_reg rs, enum a64_reg rt, enum a64_reg rn,
		 unsigned int ord);
uint32_t a64_cas(enum a64_ldst_size size, enum a64_reg rs, enum a64_reg rt,
		 enum a64_reg rn, unsigned int ord);

/* FMOV between general and FP registers (no conversion). */
uint32_t a64_fmov_to_fp(enum a64_fp_type t, unsigned int vd, enum a64_reg rn);
uint32_t a64_fmov_from_fp(enum a64_fp_type t, enum a64_reg rd,
			  unsigned int vn);
/* fmov Sd, Sn / Dd, Dn (type S or D). */
uint32_t a64_fmov_fp(enum a64_fp_type t, unsigned int vd, unsigned int vn);
/* mov Vd.16b, Vn.16b (orr): a whole Q register. */
uint32_t a64_mov_v(unsigned int vd, unsigned int vn);

/*
 * mov rd, rm between general registers: orr rd, zr, rm, or add rd, rn, #0
 * when either is SP.  mov sp, zr and mov zr, sp are refused.
 */
uint32_t a64_mov_reg(enum a64_width w, enum a64_reg rd, enum a64_reg rm);

/*
 * Load an arbitrary immediate with the fewest instructions among: one
 * MOVZ, one MOVN, one ORR of a bitmask immediate, or MOVZ/MOVN followed by
 * MOVK.  Fills insns[0..n-1] and returns n (1..4); the count depends on
 * (val, w) only, never on rd.  Returns 0 if rd is SP or ZR, or if w is
 * A64_32 and val has bits above 31 (refused, not truncated).
 */
unsigned int a64_mov_imm(uint32_t insns[4], enum a64_width w,
			 enum a64_reg rd, uint64_t val);
unsigned int a64_mov_imm_count(enum a64_width w, uint64_t val);

/* ---------------------------------------------------------------------
 * Decoders
 * --------------------------------------------------------------------- */

static inline bool a64_is_nop(uint32_t insn)
{
	return insn == A64_NOP;
}

static inline bool a64_is_b(uint32_t insn)
{
	return (insn & 0xfc000000u) == 0x14000000u;
}

static inline bool a64_is_bl(uint32_t insn)
{
	return (insn & 0xfc000000u) == 0x94000000u;
}

/* Any BTI landing pad: bti, bti c, bti j, bti jc. */
static inline bool a64_is_bti(uint32_t insn)
{
	return (insn & 0xffffff3fu) == A64_BTI;
}

/* A valid landing pad for BLR / indirect calls: bti c, bti jc, paci[ab]sp. */
static inline bool a64_is_call_landing_pad(uint32_t insn)
{
	return insn == A64_BTI_C || insn == A64_BTI_JC ||
	       insn == A64_PACIASP || insn == A64_PACIBSP;
}

static inline bool a64_is_b_cond(uint32_t insn)
{
	return (insn & 0xff000010u) == 0x54000000u;
}

static inline bool a64_is_cbz(uint32_t insn)	/* cbz or cbnz */
{
	return (insn & 0x7e000000u) == 0x34000000u;
}

static inline bool a64_is_tbz(uint32_t insn)	/* tbz or tbnz */
{
	return (insn & 0x7e000000u) == 0x36000000u;
}

static inline bool a64_is_adr(uint32_t insn)
{
	return (insn & 0x9f000000u) == 0x10000000u;
}

static inline bool a64_is_adrp(uint32_t insn)
{
	return (insn & 0x9f000000u) == 0x90000000u;
}

/* LDR (literal) of W, X (opc 00, 01; not LDRSW/PRFM) or S, D, Q. */
static inline bool a64_is_ldr_lit(uint32_t insn)
{
	uint32_t opc = insn >> 30;
	bool simd = insn & 0x04000000u;

	if ((insn & 0x3b000000u) != 0x18000000u)
		return false;
	return simd ? opc != 3 : opc < 2;
}

/* br, blr or ret (of any register): opc 0000, 0001, 0010 (C4.1.65). */
static inline bool a64_is_br_blr_ret(uint32_t insn)
{
	uint32_t base = insn & 0xfffffc1fu;

	return base == 0xd61f0000u || base == 0xd63f0000u ||
	       base == 0xd65f0000u;
}

/*
 * Target of a PC-relative branch or address computation: B, BL, B.cond,
 * CBZ/CBNZ, TBZ/TBNZ, ADR, ADRP (the target page).  False otherwise.
 */
bool a64_branch_target(uint32_t insn, uint64_t pc, uint64_t *target);
/* Address an LDR (literal) loads from. */
bool a64_literal_target(uint32_t insn, uint64_t pc, uint64_t *target);

/*
 * Arm ARM B2.2.5 "Concurrent modification and execution of instructions":
 * true for the only instructions that may be replaced by one another while
 * another thread may execute them (B, BL, BRK, HVC, ISB, NOP, SMC, SVC).
 */
bool a64_is_concurrent_safe(uint32_t insn);

/* mov rd, rm in its ORR form (orr rd, zr, rm), any width. */
bool a64_is_mov_reg(uint32_t insn, enum a64_width *w, enum a64_reg *rd,
		    enum a64_reg *rm);

/* Field extractors for the common positions. */
static inline unsigned int a64_insn_rd(uint32_t insn)	/* also Rt */
{
	return insn & 0x1f;
}

static inline unsigned int a64_insn_rn(uint32_t insn)
{
	return (insn >> 5) & 0x1f;
}

static inline unsigned int a64_insn_rm(uint32_t insn)	/* also Rs */
{
	return (insn >> 16) & 0x1f;
}

static inline unsigned int a64_insn_rt2(uint32_t insn)
{
	return (insn >> 10) & 0x1f;
}

/* ---------------------------------------------------------------------
 * Layer 2: mnemonics.
 * --------------------------------------------------------------------- */

/* ret */
static inline uint32_t a64_ret(void) { return A64_RET; }
/* nop */
static inline uint32_t a64_nop(void) { return A64_NOP; }

/* movz rd, #imm16, lsl #shift */
static inline uint32_t a64_movz(enum a64_width w, enum a64_reg rd,
				uint32_t imm16, unsigned int shift)
{ return a64_movw(A64_MOVZ, w, rd, imm16, shift); }
/* movk rd, #imm16, lsl #shift */
static inline uint32_t a64_movk(enum a64_width w, enum a64_reg rd,
				uint32_t imm16, unsigned int shift)
{ return a64_movw(A64_MOVK, w, rd, imm16, shift); }
/* movn rd, #imm16, lsl #shift */
static inline uint32_t a64_movn(enum a64_width w, enum a64_reg rd,
				uint32_t imm16, unsigned int shift)
{ return a64_movw(A64_MOVN, w, rd, imm16, shift); }

/* mov rd, rm (also to/from sp) */
static inline uint32_t a64_mov(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rm)
{ return a64_mov_reg(w, rd, rm); }

/* add rd, rn, #imm */
static inline uint32_t a64_add_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, uint64_t imm)
{ return a64_addsub_imm(A64_ADD, w, rd, rn, imm); }
/* sub rd, rn, #imm */
static inline uint32_t a64_sub_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, uint64_t imm)
{ return a64_addsub_imm(A64_SUB, w, rd, rn, imm); }
/* cmp rn, #imm (subs zr, rn, #imm) */
static inline uint32_t a64_cmp_imm(enum a64_width w, enum a64_reg rn,
				   uint64_t imm)
{ return a64_addsub_imm(A64_SUBS, w, A64_ZR, rn, imm); }
/* cmn rn, #imm (adds zr, rn, #imm) */
static inline uint32_t a64_cmn_imm(enum a64_width w, enum a64_reg rn,
				   uint64_t imm)
{ return a64_addsub_imm(A64_ADDS, w, A64_ZR, rn, imm); }
/* add rd, rn, rm */
static inline uint32_t a64_add(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rn, enum a64_reg rm)
{ return a64_addsub_shifted(A64_ADD, w, rd, rn, rm, A64_LSL, 0); }
/* sub rd, rn, rm */
static inline uint32_t a64_sub(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rn, enum a64_reg rm)
{ return a64_addsub_shifted(A64_SUB, w, rd, rn, rm, A64_LSL, 0); }
/* cmp rn, rm (subs zr, rn, rm) */
static inline uint32_t a64_cmp(enum a64_width w, enum a64_reg rn,
			       enum a64_reg rm)
{ return a64_addsub_shifted(A64_SUBS, w, A64_ZR, rn, rm, A64_LSL, 0); }

/* and rd, rn, #imm */
static inline uint32_t a64_and_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, uint64_t imm)
{ return a64_logic_imm(A64_AND, w, rd, rn, imm); }
/* orr rd, rn, #imm */
static inline uint32_t a64_orr_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, uint64_t imm)
{ return a64_logic_imm(A64_ORR, w, rd, rn, imm); }
/* eor rd, rn, #imm */
static inline uint32_t a64_eor_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, uint64_t imm)
{ return a64_logic_imm(A64_EOR, w, rd, rn, imm); }
/* tst rn, #imm (ands zr, rn, #imm) */
static inline uint32_t a64_tst_imm(enum a64_width w, enum a64_reg rn,
				   uint64_t imm)
{ return a64_logic_imm(A64_ANDS, w, A64_ZR, rn, imm); }
/* and rd, rn, rm */
static inline uint32_t a64_and(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rn, enum a64_reg rm)
{ return a64_logic_shifted(A64_AND, w, rd, rn, rm, A64_LSL, 0); }
/* orr rd, rn, rm */
static inline uint32_t a64_orr(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rn, enum a64_reg rm)
{ return a64_logic_shifted(A64_ORR, w, rd, rn, rm, A64_LSL, 0); }

/* lsl rd, rn, #sh (ubfm rd, rn, #(-sh % width), #(width - 1 - sh)) */
static inline uint32_t a64_lsl_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, unsigned int sh)
{
	unsigned int width = w == A64_64 ? 64 : 32;

	if (sh >= width)
		return A64_INSN_BAD;
	return a64_bitfield(A64_UBFM, w, rd, rn, (width - sh) % width,
			    width - 1 - sh);
}
/* lsr rd, rn, #sh (ubfm rd, rn, #sh, #(width - 1)) */
static inline uint32_t a64_lsr_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, unsigned int sh)
{ return a64_bitfield(A64_UBFM, w, rd, rn, sh, w == A64_64 ? 63 : 31); }
/* asr rd, rn, #sh (sbfm rd, rn, #sh, #(width - 1)) */
static inline uint32_t a64_asr_imm(enum a64_width w, enum a64_reg rd,
				   enum a64_reg rn, unsigned int sh)
{ return a64_bitfield(A64_SBFM, w, rd, rn, sh, w == A64_64 ? 63 : 31); }
/* sxtb rd, wn */
static inline uint32_t a64_sxtb(enum a64_width w, enum a64_reg rd,
				enum a64_reg rn)
{ return a64_bitfield(A64_SBFM, w, rd, rn, 0, 7); }
/* sxth rd, wn */
static inline uint32_t a64_sxth(enum a64_width w, enum a64_reg rd,
				enum a64_reg rn)
{ return a64_bitfield(A64_SBFM, w, rd, rn, 0, 15); }
/* sxtw xd, wn */
static inline uint32_t a64_sxtw(enum a64_reg rd, enum a64_reg rn)
{ return a64_bitfield(A64_SBFM, A64_64, rd, rn, 0, 31); }
/* uxtb wd, wn (zero-extends into xd too) */
static inline uint32_t a64_uxtb(enum a64_reg rd, enum a64_reg rn)
{ return a64_bitfield(A64_UBFM, A64_32, rd, rn, 0, 7); }
/* uxth wd, wn */
static inline uint32_t a64_uxth(enum a64_reg rd, enum a64_reg rn)
{ return a64_bitfield(A64_UBFM, A64_32, rd, rn, 0, 15); }
/* mov wd, wn: zero-extends wn into xd (uxtw) */
static inline uint32_t a64_uxtw(enum a64_reg rd, enum a64_reg rn)
{ return a64_mov_reg(A64_32, rd, rn); }

/* csel rd, rn, rm, cond */
static inline uint32_t a64_csel(enum a64_width w, enum a64_reg rd,
				enum a64_reg rn, enum a64_reg rm,
				enum a64_cond cond)
{ return a64_csel_op(A64_CSEL, w, rd, rn, rm, cond); }
/* cset rd, cond (csinc rd, zr, zr, !cond) */
static inline uint32_t a64_cset(enum a64_width w, enum a64_reg rd,
				enum a64_cond cond)
{
	if ((unsigned int)cond >= A64_COND_AL)
		return A64_INSN_BAD;
	return a64_csel_op(A64_CSINC, w, rd, A64_ZR, A64_ZR, cond ^ 1);
}

/* ldr rt, [rn, #off] */
static inline uint32_t a64_ldr(enum a64_ldst_size sz, enum a64_reg rt,
			       enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_LOAD, sz, rt, rn, off, A64_OFFSET); }
/* str rt, [rn, #off] */
static inline uint32_t a64_str(enum a64_ldst_size sz, enum a64_reg rt,
			       enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_STORE, sz, rt, rn, off, A64_OFFSET); }
/* ldr rt, [rn, #off]! */
static inline uint32_t a64_ldr_pre(enum a64_ldst_size sz, enum a64_reg rt,
				   enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_LOAD, sz, rt, rn, off, A64_PRE); }
/* str rt, [rn, #off]! */
static inline uint32_t a64_str_pre(enum a64_ldst_size sz, enum a64_reg rt,
				   enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_STORE, sz, rt, rn, off, A64_PRE); }
/* ldr rt, [rn], #off */
static inline uint32_t a64_ldr_post(enum a64_ldst_size sz, enum a64_reg rt,
				    enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_LOAD, sz, rt, rn, off, A64_POST); }
/* str rt, [rn], #off */
static inline uint32_t a64_str_post(enum a64_ldst_size sz, enum a64_reg rt,
				    enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_STORE, sz, rt, rn, off, A64_POST); }
/* ldur rt, [rn, #off] */
static inline uint32_t a64_ldur(enum a64_ldst_size sz, enum a64_reg rt,
				enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_LOAD, sz, rt, rn, off, A64_UNSCALED); }
/* stur rt, [rn, #off] */
static inline uint32_t a64_stur(enum a64_ldst_size sz, enum a64_reg rt,
				enum a64_reg rn, int64_t off)
{ return a64_ldst_imm(A64_STORE, sz, rt, rn, off, A64_UNSCALED); }

/* ldp rt, rt2, [rn, #off] */
static inline uint32_t a64_ldp(enum a64_ldst_size sz, enum a64_reg rt,
			       enum a64_reg rt2, enum a64_reg rn, int64_t off)
{ return a64_ldstp(A64_LOAD, sz, rt, rt2, rn, off, A64_OFFSET); }
/* stp rt, rt2, [rn, #off] */
static inline uint32_t a64_stp(enum a64_ldst_size sz, enum a64_reg rt,
			       enum a64_reg rt2, enum a64_reg rn, int64_t off)
{ return a64_ldstp(A64_STORE, sz, rt, rt2, rn, off, A64_OFFSET); }
/* ldp rt, rt2, [rn, #off]! */
static inline uint32_t a64_ldp_pre(enum a64_ldst_size sz, enum a64_reg rt,
				   enum a64_reg rt2, enum a64_reg rn,
				   int64_t off)
{ return a64_ldstp(A64_LOAD, sz, rt, rt2, rn, off, A64_PRE); }
/* stp rt, rt2, [rn, #off]! */
static inline uint32_t a64_stp_pre(enum a64_ldst_size sz, enum a64_reg rt,
				   enum a64_reg rt2, enum a64_reg rn,
				   int64_t off)
{ return a64_ldstp(A64_STORE, sz, rt, rt2, rn, off, A64_PRE); }
/* ldp rt, rt2, [rn], #off */
static inline uint32_t a64_ldp_post(enum a64_ldst_size sz, enum a64_reg rt,
				    enum a64_reg rt2, enum a64_reg rn,
				    int64_t off)
{ return a64_ldstp(A64_LOAD, sz, rt, rt2, rn, off, A64_POST); }
/* stp rt, rt2, [rn], #off */
static inline uint32_t a64_stp_post(enum a64_ldst_size sz, enum a64_reg rt,
				    enum a64_reg rt2, enum a64_reg rn,
				    int64_t off)
{ return a64_ldstp(A64_STORE, sz, rt, rt2, rn, off, A64_POST); }

/* ldadd[a][l] rs, rt, [rn] */
static inline uint32_t a64_ldadd(enum a64_ldst_size sz, enum a64_reg rs,
				 enum a64_reg rt, enum a64_reg rn,
				 unsigned int ord)
{ return a64_lse(A64_LDADD, sz, rs, rt, rn, ord); }
/* stadd[l] rs, [rn] (ldadd[l] rs, zr, [rn]) */
static inline uint32_t a64_stadd(enum a64_ldst_size sz, enum a64_reg rs,
				 enum a64_reg rn, unsigned int ord)
{
	if (ord & A64_ACQ)
		return A64_INSN_BAD;
	return a64_lse(A64_LDADD, sz, rs, A64_ZR, rn, ord);
}

/* mul rd, rn, rm (madd rd, rn, rm, zr) */
static inline uint32_t a64_mul(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rn, enum a64_reg rm)
{ return a64_dp3(A64_MADD, w, rd, rn, rm, A64_ZR); }
/* msub rd, rn, rm, ra: ra - rn * rm */
static inline uint32_t a64_msub(enum a64_width w, enum a64_reg rd,
				enum a64_reg rn, enum a64_reg rm,
				enum a64_reg ra)
{ return a64_dp3(A64_MSUB, w, rd, rn, rm, ra); }
/* udiv rd, rn, rm */
static inline uint32_t a64_udiv(enum a64_width w, enum a64_reg rd,
				enum a64_reg rn, enum a64_reg rm)
{ return a64_dp2(A64_UDIV, w, rd, rn, rm); }
/* sdiv rd, rn, rm */
static inline uint32_t a64_sdiv(enum a64_width w, enum a64_reg rd,
				enum a64_reg rn, enum a64_reg rm)
{ return a64_dp2(A64_SDIV, w, rd, rn, rm); }
/* mvn rd, rm (orn rd, zr, rm) */
static inline uint32_t a64_mvn(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rm)
{ return a64_logic_shifted(A64_ORN, w, rd, A64_ZR, rm, A64_LSL, 0); }
/* neg rd, rm (sub rd, zr, rm) */
static inline uint32_t a64_neg(enum a64_width w, enum a64_reg rd,
			       enum a64_reg rm)
{ return a64_addsub_shifted(A64_SUB, w, rd, A64_ZR, rm, A64_LSL, 0); }

/* mrs rt, tpidr_el0 */
static inline uint32_t a64_mrs_tpidr_el0(enum a64_reg rt)
{ return a64_mrs(rt, A64_SYSREG_TPIDR_EL0); }
/* mrs rt, cntvct_el0 (Arm ARM D11.2: readable at EL0 when Linux allows) */
static inline uint32_t a64_mrs_cntvct_el0(enum a64_reg rt)
{ return a64_mrs(rt, A64_SYSREG_CNTVCT_EL0); }
/* msr tpidr_el0, rt */
static inline uint32_t a64_msr_tpidr_el0(enum a64_reg rt)
{ return a64_msr(A64_SYSREG_TPIDR_EL0, rt); }

/* dmb ish */
static inline uint32_t a64_dmb_ish(void) { return a64_dmb(A64_ISH); }
/* dsb ish */
static inline uint32_t a64_dsb_ish(void) { return a64_dsb(A64_ISH); }

/* ---------------------------------------------------------------------
 * Layer 3: the emit context.
 *
 * Pass 1 (sizing): image == NULL; only idx advances.  Pass 2: image points
 * to the writable view of at least the pass-1 count of words, ro_base is
 * the address they will execute at, and every PC-relative operand is
 * computed from ro_base.  Errors are sticky: the first one is kept in
 * err, later emits still advance idx so both passes count alike.
 *
 * max_insns, when non-zero, bounds the writes of pass 2: an emit past it
 * records -E2BIG and writes nothing (an emitter whose second pass
 * outgrows its first is a bug, never a buffer overflow).
 * --------------------------------------------------------------------- */

struct a64_ctx {
	uint32_t *image;	/* write view, NULL while sizing */
	uint64_t ro_base;	/* execute address of image[0] */
	uint32_t idx;		/* instructions emitted so far */
	int err;		/* first error, 0 if none */
	uint32_t max_insns;	/* capacity of image, 0 = not checked */
};

static inline void a64_ctx_init(struct a64_ctx *ctx, uint32_t *image,
				uint64_t ro_base, uint32_t max_insns)
{
	ctx->image = image;
	ctx->ro_base = ro_base;
	ctx->idx = 0;
	ctx->err = 0;
	ctx->max_insns = max_insns;
}

static inline void a64_ctx_error(struct a64_ctx *ctx, int err)
{
	if (!ctx->err)
		ctx->err = err;
}

static inline bool a64_ctx_sizing(const struct a64_ctx *ctx)
{
	return !ctx->image;
}

/* Execute address of the next instruction (of instruction idx). */
static inline uint64_t a64_ctx_pc_at(const struct a64_ctx *ctx, uint32_t idx)
{
	return ctx->ro_base + (uint64_t)idx * A64_INSN_SIZE;
}

static inline uint64_t a64_ctx_pc(const struct a64_ctx *ctx)
{
	return a64_ctx_pc_at(ctx, ctx->idx);
}

/* Overwrite instruction idx (a forward-branch placeholder, say). */
static inline void a64_ctx_patch(struct a64_ctx *ctx, uint32_t idx,
				 uint32_t insn)
{
	if (insn == A64_INSN_BAD)
		a64_ctx_error(ctx, -EINVAL);
	if (!ctx->image)
		return;
	if (idx >= ctx->idx || (ctx->max_insns && idx >= ctx->max_insns)) {
		a64_ctx_error(ctx, -E2BIG);
		return;
	}
	ctx->image[idx] = insn;
}

static inline void a64_emit(struct a64_ctx *ctx, uint32_t insn)
{
	if (insn == A64_INSN_BAD)
		a64_ctx_error(ctx, -EINVAL);
	if (ctx->image) {
		if (ctx->max_insns && ctx->idx >= ctx->max_insns)
			a64_ctx_error(ctx, -E2BIG);
		else
			ctx->image[ctx->idx] = insn;
	}
	ctx->idx++;
}

/*
 * PC-relative emits.  While sizing, the final pc is unknown, so they
 * count one instruction without encoding (a range error shows in pass 2).
 */
static inline void a64_emit_b(struct a64_ctx *ctx, uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_b(a64_ctx_pc(ctx), target));
}

static inline void a64_emit_bl(struct a64_ctx *ctx, uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_bl(a64_ctx_pc(ctx), target));
}

static inline void a64_emit_b_cond(struct a64_ctx *ctx, enum a64_cond cond,
				   uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_b_cond(a64_ctx_pc(ctx), target, cond));
}

static inline void a64_emit_cbz(struct a64_ctx *ctx, enum a64_width w,
				enum a64_reg rt, uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_cbz(a64_ctx_pc(ctx), target, w, rt));
}

static inline void a64_emit_cbnz(struct a64_ctx *ctx, enum a64_width w,
				 enum a64_reg rt, uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_cbnz(a64_ctx_pc(ctx), target, w, rt));
}

static inline void a64_emit_tbz(struct a64_ctx *ctx, enum a64_reg rt,
				unsigned int bit, uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_tbz(a64_ctx_pc(ctx), target, rt, bit));
}

static inline void a64_emit_tbnz(struct a64_ctx *ctx, enum a64_reg rt,
				 unsigned int bit, uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_tbnz(a64_ctx_pc(ctx), target, rt, bit));
}

static inline void a64_emit_adrp(struct a64_ctx *ctx, enum a64_reg rd,
				 uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_adrp(a64_ctx_pc(ctx), target, rd));
}

static inline void a64_emit_adr(struct a64_ctx *ctx, enum a64_reg rd,
				uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_adr(a64_ctx_pc(ctx), target, rd));
}

static inline void a64_emit_ldr_lit(struct a64_ctx *ctx,
				    enum a64_ldst_size size, enum a64_reg rt,
				    uint64_t target)
{
	a64_emit(ctx, a64_ctx_sizing(ctx) ? A64_NOP :
		 a64_ldr_lit(a64_ctx_pc(ctx), target, size, rt));
}

/*
 * Load a 64-bit (or 32-bit) immediate with the fewest instructions.  The
 * count depends on the value only, so both passes agree provided the value
 * does too; for a value that depends on where the image lands (an address
 * inside it), use a64_emit_mov_imm_fixed().
 */
void a64_emit_mov_imm(struct a64_ctx *ctx, enum a64_width w,
		      enum a64_reg rd, uint64_t val);
/* Always four instructions: movz + 3 movk, for position-dependent values. */
void a64_emit_mov_imm_fixed(struct a64_ctx *ctx, enum a64_reg rd,
			    uint64_t val);

#endif /* FTRAMP_ARCH_ARM64_INSN_H */
