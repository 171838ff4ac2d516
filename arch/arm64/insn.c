// SPDX-License-Identifier: MIT
/*
 * A64 instruction encoder and decoder.
 *
 * Pure: fixed-width types, bool and errno only, so the same file runs on
 * the host under ASan/UBSan, in libFuzzer, and in the arm64 library.
 *
 * Every encoder checks every operand and returns A64_INSN_BAD rather than
 * truncating.  Section numbers refer to the Arm Architecture Reference
 * Manual for A-profile, DDI 0487 (K.a): C4.1 lists the encoding groups,
 * C6.2 the general-purpose instructions, C7.2 the SIMD&FP ones.
 */
#include "arch/arm64/insn.h"

/* ---------------------------------------------------------------------
 * Operand checks
 * --------------------------------------------------------------------- */

/* Register number for a position where 31 is XZR/WZR; -1 for SP / junk. */
static int reg_zr(enum a64_reg r)
{
	if ((unsigned int)r <= A64_ZR)
		return (int)r;
	return -1;
}

/* Register number for a position where 31 is SP/WSP; -1 for ZR / junk. */
static int reg_sp(enum a64_reg r)
{
	if ((unsigned int)r <= A64_R30)
		return (int)r;
	if (r == A64_SP)
		return 31;
	return -1;
}

static bool width_ok(enum a64_width w)
{
	return w == A64_32 || w == A64_64;
}

/* Does the signed value v fit in a two's complement field of `bits`? */
static bool fits_signed(int64_t v, unsigned int bits)
{
	int64_t lim = (int64_t)1 << (bits - 1);

	return v >= -lim && v < lim;
}

static uint32_t field(int64_t v, unsigned int bits)
{
	return (uint32_t)((uint64_t)v & (((uint64_t)1 << bits) - 1));
}

static int64_t sign_extend(uint64_t v, unsigned int bits)
{
	uint64_t m = (uint64_t)1 << (bits - 1);

	v &= ((uint64_t)1 << bits) - 1;
	return (int64_t)((v ^ m) - m);
}

/*
 * Word offset from pc to target for a `bits`-wide field, in *imm; false
 * if misaligned or out of range.  Wrapping subtraction is fine: a 64-bit
 * address space wraps the same way the processor's adder does.
 */
static bool pcrel_words(uint64_t pc, uint64_t target, unsigned int bits,
			uint32_t *imm)
{
	int64_t off = (int64_t)(target - pc);

	if (off & 3)
		return false;
	off /= 4;
	if (!fits_signed(off, bits))
		return false;
	*imm = field(off, bits);
	return true;
}

/* ---------------------------------------------------------------------
 * Branches (C4.1.65: unconditional/conditional/compare/test branches)
 * --------------------------------------------------------------------- */

static uint32_t branch_imm(uint32_t opcode, uint64_t pc, uint64_t target)
{
	uint32_t imm;

	if (!pcrel_words(pc, target, 26, &imm))
		return A64_INSN_BAD;
	return opcode | imm;
}

uint32_t a64_b(uint64_t pc, uint64_t target)
{
	return branch_imm(0x14000000u, pc, target);
}

uint32_t a64_bl(uint64_t pc, uint64_t target)
{
	return branch_imm(0x94000000u, pc, target);
}

uint32_t a64_b_cond(uint64_t pc, uint64_t target, enum a64_cond cond)
{
	uint32_t imm;

	if ((unsigned int)cond > A64_COND_NV ||
	    !pcrel_words(pc, target, 19, &imm))
		return A64_INSN_BAD;
	return 0x54000000u | imm << 5 | cond;
}

static uint32_t cb(uint32_t opcode, uint64_t pc, uint64_t target,
		   enum a64_width w, enum a64_reg rt)
{
	int t = reg_zr(rt);
	uint32_t imm;

	if (t < 0 || !width_ok(w) || !pcrel_words(pc, target, 19, &imm))
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | opcode | imm << 5 | (uint32_t)t;
}

uint32_t a64_cbz(uint64_t pc, uint64_t target, enum a64_width w,
		 enum a64_reg rt)
{
	return cb(0x34000000u, pc, target, w, rt);
}

uint32_t a64_cbnz(uint64_t pc, uint64_t target, enum a64_width w,
		  enum a64_reg rt)
{
	return cb(0x35000000u, pc, target, w, rt);
}

static uint32_t tb(uint32_t opcode, uint64_t pc, uint64_t target,
		   enum a64_reg rt, unsigned int bit)
{
	int t = reg_zr(rt);
	uint32_t imm;

	if (t < 0 || bit > 63 || !pcrel_words(pc, target, 14, &imm))
		return A64_INSN_BAD;
	return (bit >> 5) << 31 | opcode | (bit & 31) << 19 | imm << 5 |
	       (uint32_t)t;
}

uint32_t a64_tbz(uint64_t pc, uint64_t target, enum a64_reg rt,
		 unsigned int bit)
{
	return tb(0x36000000u, pc, target, rt, bit);
}

uint32_t a64_tbnz(uint64_t pc, uint64_t target, enum a64_reg rt,
		  unsigned int bit)
{
	return tb(0x37000000u, pc, target, rt, bit);
}

/* C4.1.65, "Unconditional branch (register)": Rn is a general register. */
static uint32_t branch_reg(uint32_t opcode, enum a64_reg rn)
{
	int n = reg_zr(rn);

	if (n < 0)
		return A64_INSN_BAD;
	return opcode | (uint32_t)n << 5;
}

uint32_t a64_br(enum a64_reg rn)
{
	return branch_reg(0xd61f0000u, rn);
}

uint32_t a64_blr(enum a64_reg rn)
{
	return branch_reg(0xd63f0000u, rn);
}

uint32_t a64_ret_reg(enum a64_reg rn)
{
	return branch_reg(0xd65f0000u, rn);
}

/* ---------------------------------------------------------------------
 * PC-relative addressing (C4.1.66) and LDR (literal) (C4.1.68)
 * --------------------------------------------------------------------- */

static uint32_t adr_common(uint32_t opcode, int64_t off, enum a64_reg rd)
{
	int d = reg_zr(rd);
	uint32_t imm;

	/* ADR/ADRP write a general register; 31 is XZR (C6.2 ADR). */
	if (d < 0 || !fits_signed(off, 21))
		return A64_INSN_BAD;
	imm = field(off, 21);
	return opcode | (imm & 3) << 29 | (imm >> 2) << 5 | (uint32_t)d;
}

uint32_t a64_adr(uint64_t pc, uint64_t target, enum a64_reg rd)
{
	return adr_common(0x10000000u, (int64_t)(target - pc), rd);
}

uint32_t a64_adrp(uint64_t pc, uint64_t target, enum a64_reg rd)
{
	uint64_t page_mask = ~(uint64_t)0xfff;
	int64_t off = (int64_t)((target & page_mask) - (pc & page_mask));

	if (target & 0xfff)
		return A64_INSN_BAD;
	return adr_common(0x90000000u, off / 4096, rd);
}

uint32_t a64_ldr_lit(uint64_t pc, uint64_t target, enum a64_ldst_size size,
		     enum a64_reg rt)
{
	uint32_t opcode, imm;
	int t;

	switch (size) {
	case A64_LS_W:
		opcode = 0x18000000u;
		break;
	case A64_LS_X:
		opcode = 0x58000000u;
		break;
	case A64_LS_S:
		opcode = 0x1c000000u;
		break;
	case A64_LS_D:
		opcode = 0x5c000000u;
		break;
	case A64_LS_Q:
		opcode = 0x9c000000u;
		break;
	default:
		return A64_INSN_BAD;
	}
	if (size >= A64_LS_S)
		t = (unsigned int)rt < 32 ? (int)rt : -1;
	else
		t = reg_zr(rt);
	if (t < 0 || !pcrel_words(pc, target, 19, &imm))
		return A64_INSN_BAD;
	return opcode | imm << 5 | (uint32_t)t;
}

/* ---------------------------------------------------------------------
 * Exception generation, hints, barriers, system registers (C4.1.65)
 * --------------------------------------------------------------------- */

static uint32_t exception(uint32_t opcode, uint32_t imm16)
{
	if (imm16 > 0xffff)
		return A64_INSN_BAD;
	return opcode | imm16 << 5;
}

uint32_t a64_brk(uint32_t imm16)
{
	return exception(0xd4200000u, imm16);
}

uint32_t a64_svc(uint32_t imm16)
{
	return exception(0xd4000001u, imm16);
}

uint32_t a64_hvc(uint32_t imm16)
{
	return exception(0xd4000002u, imm16);
}

uint32_t a64_smc(uint32_t imm16)
{
	return exception(0xd4000003u, imm16);
}

uint32_t a64_hint(uint32_t imm7)
{
	if (imm7 > 127)
		return A64_INSN_BAD;
	return A64_HINT(imm7);
}

/*
 * DSB with CRm 0b0000 and 0b0100 is SSBB and PSSBB (C6.2 DSB): different
 * instructions, so those are refused here; DMB takes every option.
 */
uint32_t a64_dsb(enum a64_barrier opt)
{
	if ((unsigned int)opt > 15 || opt == 0 || opt == 4)
		return A64_INSN_BAD;
	return 0xd503309fu | (uint32_t)opt << 8;
}

uint32_t a64_dmb(enum a64_barrier opt)
{
	if ((unsigned int)opt > 15)
		return A64_INSN_BAD;
	return 0xd50330bfu | (uint32_t)opt << 8;
}

uint32_t a64_isb(void)
{
	return A64_ISB;
}

/*
 * MRS/MSR (register): op0 is 2 or 3 (op0 0b0x are other system
 * instructions), so the 15-bit field is o0:op1:CRn:CRm:op2 (C5.3).
 */
uint32_t a64_mrs(enum a64_reg rt, uint32_t sysreg)
{
	int t = reg_zr(rt);

	if (t < 0 || sysreg > 0x7fff)
		return A64_INSN_BAD;
	return 0xd5300000u | sysreg << 5 | (uint32_t)t;
}

uint32_t a64_msr(uint32_t sysreg, enum a64_reg rt)
{
	int t = reg_zr(rt);

	if (t < 0 || sysreg > 0x7fff)
		return A64_INSN_BAD;
	return 0xd5100000u | sysreg << 5 | (uint32_t)t;
}

/* ---------------------------------------------------------------------
 * Data processing, immediate (C4.1.86)
 * --------------------------------------------------------------------- */

/* C6.2 MOVZ/MOVN/MOVK: hw = shift / 16, only 0/1 for 32-bit. */
uint32_t a64_movw(enum a64_movw_op op, enum a64_width w, enum a64_reg rd,
		  uint32_t imm16, unsigned int shift)
{
	static const uint32_t opc[] = {
		[A64_MOVN] = 0x12800000u,
		[A64_MOVZ] = 0x52800000u,
		[A64_MOVK] = 0x72800000u,
	};
	int d = reg_zr(rd);

	if ((unsigned int)op > A64_MOVK || !width_ok(w) || d < 0 ||
	    imm16 > 0xffff || shift % 16 || shift >= (w == A64_64 ? 64u : 32u))
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | opc[op] | (shift / 16) << 21 |
	       imm16 << 5 | (uint32_t)d;
}

/* C6.2 ADD (immediate): sh selects LSL #12 of imm12. */
uint32_t a64_addsub_imm(enum a64_addsub_op op, enum a64_width w,
			enum a64_reg rd, enum a64_reg rn, uint64_t imm)
{
	bool setflags = op == A64_ADDS || op == A64_SUBS;
	bool sub = op == A64_SUB || op == A64_SUBS;
	int d = setflags ? reg_zr(rd) : reg_sp(rd);
	int n = reg_sp(rn);
	uint32_t sh = 0;

	if ((unsigned int)op > A64_SUBS || !width_ok(w) || d < 0 || n < 0)
		return A64_INSN_BAD;
	if (imm > 0xfff) {
		if (imm & 0xfff || imm > (uint64_t)0xfff << 12)
			return A64_INSN_BAD;
		imm >>= 12;
		sh = 1;
	}
	return (uint32_t)w << 31 | (uint32_t)sub << 30 |
	       (uint32_t)setflags << 29 | 0x11000000u | sh << 22 |
	       (uint32_t)imm << 10 | (uint32_t)n << 5 | (uint32_t)d;
}

/*
 * Bitmask immediates (C6.2, shared pseudocode DecodeBitMasks()): an element
 * of 2, 4, ..., 64 bits holding a rotated run of 1..esize-1 ones,
 * replicated across the register.
 */
bool a64_bitmask_decode(uint32_t nimmrimms, enum a64_width w, uint64_t *val)
{
	uint32_t n = (nimmrimms >> 12) & 1;
	uint32_t immr = (nimmrimms >> 6) & 0x3f;
	uint32_t imms = nimmrimms & 0x3f;
	uint32_t combined = n << 6 | (~imms & 0x3f);
	unsigned int len, esize, s, r;
	uint64_t elem, emask, v;

	if (nimmrimms >> 13 || !width_ok(w) || (w == A64_32 && n))
		return false;
	if (!combined)
		return false;
	len = 31 - (unsigned int)__builtin_clz(combined);
	if (len < 1)
		return false;
	esize = 1u << len;
	s = imms & (esize - 1);
	r = immr & (esize - 1);
	if (s == esize - 1)		/* all ones: reserved */
		return false;
	emask = esize == 64 ? ~(uint64_t)0 : ((uint64_t)1 << esize) - 1;
	elem = ((uint64_t)1 << (s + 1)) - 1;
	if (r)
		elem = ((elem >> r) | (elem << (esize - r))) & emask;
	v = 0;
	for (unsigned int i = 0; i < 64; i += esize)
		v |= elem << i;
	if (w == A64_32)
		v &= 0xffffffffu;
	*val = v;
	return true;
}

bool a64_bitmask_encode(uint64_t val, enum a64_width w, uint32_t *nimmrimms)
{
	unsigned int esize, ones, rot;
	uint64_t emask, elem, pattern;

	if (!width_ok(w))
		return false;
	if (w == A64_32) {
		if (val >> 32)
			return false;
		val |= val << 32;
	}
	if (val == 0 || val == ~(uint64_t)0)
		return false;

	/* The smallest element size whose replication gives val. */
	for (esize = 64; esize > 2; esize /= 2) {
		unsigned int half = esize / 2;
		uint64_t hmask = ((uint64_t)1 << half) - 1;

		if ((val & hmask) != ((val >> half) & hmask))
			break;
	}
	emask = esize == 64 ? ~(uint64_t)0 : ((uint64_t)1 << esize) - 1;
	elem = val & emask;
	ones = (unsigned int)__builtin_popcountll(elem);
	pattern = ((uint64_t)1 << ones) - 1;	/* ones < esize <= 64 */

	/* elem must be the run of ones at bit 0 rotated right by immr. */
	for (rot = 0; rot < esize; rot++) {
		uint64_t r = rot ? ((pattern >> rot) |
				    (pattern << (esize - rot))) & emask :
			     pattern;

		if (r == elem)
			break;
	}
	if (rot == esize)
		return false;
	*nimmrimms = (esize == 64 ? 1u : 0u) << 12 | rot << 6 |
		     ((~(esize - 1) << 1) & 0x3f) | (ones - 1);
	return true;
}

/* C6.2 AND (immediate): only AND, ORR, EOR, ANDS have an immediate form. */
uint32_t a64_logic_imm(enum a64_logic_op op, enum a64_width w,
		       enum a64_reg rd, enum a64_reg rn, uint64_t imm)
{
	uint32_t opc, bits;
	int d, n = reg_zr(rn);

	switch (op) {
	case A64_AND:
		opc = 0;
		break;
	case A64_ORR:
		opc = 1;
		break;
	case A64_EOR:
		opc = 2;
		break;
	case A64_ANDS:
		opc = 3;
		break;
	default:
		return A64_INSN_BAD;
	}
	/* Rd is SP-class except for ANDS, which writes XZR (tst). */
	d = op == A64_ANDS ? reg_zr(rd) : reg_sp(rd);
	if (d < 0 || n < 0 || !a64_bitmask_encode(imm, w, &bits))
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | opc << 29 | 0x12000000u | bits << 10 |
	       (uint32_t)n << 5 | (uint32_t)d;
}

/* C6.2 SBFM/BFM/UBFM: N must equal sf, immr/imms < width. */
uint32_t a64_bitfield(enum a64_bitfield_op op, enum a64_width w,
		      enum a64_reg rd, enum a64_reg rn,
		      unsigned int immr, unsigned int imms)
{
	int d = reg_zr(rd), n = reg_zr(rn);
	unsigned int width = w == A64_64 ? 64 : 32;

	if ((unsigned int)op > A64_UBFM || !width_ok(w) || d < 0 || n < 0 ||
	    immr >= width || imms >= width)
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | (uint32_t)op << 29 | 0x13000000u |
	       (uint32_t)w << 22 | immr << 16 | imms << 10 |
	       (uint32_t)n << 5 | (uint32_t)d;
}

/* ---------------------------------------------------------------------
 * Data processing, register (C4.1.87)
 * --------------------------------------------------------------------- */

uint32_t a64_addsub_shifted(enum a64_addsub_op op, enum a64_width w,
			    enum a64_reg rd, enum a64_reg rn, enum a64_reg rm,
			    enum a64_shift shift, unsigned int amount)
{
	int d = reg_zr(rd), n = reg_zr(rn), m = reg_zr(rm);
	bool setflags = op == A64_ADDS || op == A64_SUBS;
	bool sub = op == A64_SUB || op == A64_SUBS;

	/* shift 0b11 is reserved for ADD/SUB (C6.2 ADD (shifted register)). */
	if ((unsigned int)op > A64_SUBS || !width_ok(w) || d < 0 || n < 0 ||
	    m < 0 || (unsigned int)shift > A64_ASR ||
	    amount >= (w == A64_64 ? 64u : 32u))
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | (uint32_t)sub << 30 |
	       (uint32_t)setflags << 29 | 0x0b000000u |
	       (uint32_t)shift << 22 | (uint32_t)m << 16 | amount << 10 |
	       (uint32_t)n << 5 | (uint32_t)d;
}

uint32_t a64_addsub_ext(enum a64_addsub_op op, enum a64_width w,
			enum a64_reg rd, enum a64_reg rn, enum a64_reg rm,
			enum a64_extend ext, unsigned int amount)
{
	bool setflags = op == A64_ADDS || op == A64_SUBS;
	bool sub = op == A64_SUB || op == A64_SUBS;
	int d = setflags ? reg_zr(rd) : reg_sp(rd);
	int n = reg_sp(rn), m = reg_zr(rm);

	/* C6.2 ADD (extended register): imm3 0..4. */
	if ((unsigned int)op > A64_SUBS || !width_ok(w) || d < 0 || n < 0 ||
	    m < 0 || (unsigned int)ext > A64_SXTX || amount > 4)
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | (uint32_t)sub << 30 |
	       (uint32_t)setflags << 29 | 0x0b200000u | (uint32_t)m << 16 |
	       (uint32_t)ext << 13 | amount << 10 | (uint32_t)n << 5 |
	       (uint32_t)d;
}

/* C6.2 AND (shifted register) and family: opc:N from the op. */
uint32_t a64_logic_shifted(enum a64_logic_op op, enum a64_width w,
			   enum a64_reg rd, enum a64_reg rn, enum a64_reg rm,
			   enum a64_shift shift, unsigned int amount)
{
	int d = reg_zr(rd), n = reg_zr(rn), m = reg_zr(rm);
	uint32_t opc = (uint32_t)op >> 1, neg = (uint32_t)op & 1;

	if ((unsigned int)op > A64_BICS || !width_ok(w) || d < 0 || n < 0 ||
	    m < 0 || (unsigned int)shift > A64_ROR ||
	    amount >= (w == A64_64 ? 64u : 32u))
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | opc << 29 | 0x0a000000u |
	       (uint32_t)shift << 22 | neg << 21 | (uint32_t)m << 16 |
	       amount << 10 | (uint32_t)n << 5 | (uint32_t)d;
}

/* C6.2 CSEL/CSINC/CSINV/CSNEG: op in bit 30, o2 in bit 10. */
uint32_t a64_csel_op(enum a64_csel_op op, enum a64_width w, enum a64_reg rd,
		     enum a64_reg rn, enum a64_reg rm, enum a64_cond cond)
{
	int d = reg_zr(rd), n = reg_zr(rn), m = reg_zr(rm);

	if ((unsigned int)op > A64_CSNEG || !width_ok(w) || d < 0 || n < 0 ||
	    m < 0 || (unsigned int)cond > A64_COND_NV)
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | ((uint32_t)op >> 1) << 30 | 0x1a800000u |
	       (uint32_t)m << 16 | (uint32_t)cond << 12 |
	       ((uint32_t)op & 1) << 10 | (uint32_t)n << 5 | (uint32_t)d;
}

/* C6.2 CCMP (register): sf 1 1 11010010 Rm cond 0 0 Rn 0 nzcv. */
uint32_t a64_ccmp(enum a64_width w, enum a64_reg rn, enum a64_reg rm,
		  unsigned int nzcv, enum a64_cond cond)
{
	int n = reg_zr(rn), m = reg_zr(rm);

	if (!width_ok(w) || n < 0 || m < 0 || nzcv > 15 ||
	    (unsigned int)cond > A64_COND_NV)
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | 0x7a400000u | (uint32_t)m << 16 |
	       (uint32_t)cond << 12 | (uint32_t)n << 5 | nzcv;
}

/* C6.2 CLZ: data processing (1 source), opcode 0b000100. */
uint32_t a64_clz(enum a64_width w, enum a64_reg rd, enum a64_reg rn)
{
	int d = reg_zr(rd), n = reg_zr(rn);

	if (!width_ok(w) || d < 0 || n < 0)
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | 0x5ac01000u | (uint32_t)n << 5 |
	       (uint32_t)d;
}

/* C6.2 REV16/REV32/REV: data processing (1 source), opcode 1, 2 or 3. */
uint32_t a64_rev(enum a64_rev_op op, enum a64_width w, enum a64_reg rd,
		 enum a64_reg rn)
{
	int d = reg_zr(rd), n = reg_zr(rn);
	uint32_t opcode;

	if (!width_ok(w) || d < 0 || n < 0)
		return A64_INSN_BAD;
	switch (op) {
	case A64_REV16:
		opcode = 1;
		break;
	case A64_REV32:
		if (w != A64_64)
			return A64_INSN_BAD;
		opcode = 2;
		break;
	case A64_REV:
		opcode = w == A64_64 ? 3 : 2;
		break;
	default:
		return A64_INSN_BAD;
	}
	return (uint32_t)w << 31 | 0x5ac00000u | opcode << 10 |
	       (uint32_t)n << 5 | (uint32_t)d;
}

/* C6.2 UDIV, SDIV, LSLV...: sf 0 0 11010110 Rm opcode Rn Rd. */
uint32_t a64_dp2(enum a64_dp2_op op, enum a64_width w, enum a64_reg rd,
		 enum a64_reg rn, enum a64_reg rm)
{
	int d = reg_zr(rd), n = reg_zr(rn), m = reg_zr(rm);

	if (!width_ok(w) || d < 0 || n < 0 || m < 0)
		return A64_INSN_BAD;
	switch (op) {
	case A64_UDIV: case A64_SDIV: case A64_LSLV: case A64_LSRV:
	case A64_ASRV: case A64_RORV:
		break;
	default:
		return A64_INSN_BAD;
	}
	return (uint32_t)w << 31 | 0x1ac00000u | (uint32_t)m << 16 |
	       (uint32_t)op << 10 | (uint32_t)n << 5 | (uint32_t)d;
}

/* C6.2 MADD/MSUB: sf 00 11011 000 Rm o0 Ra Rn Rd. */
uint32_t a64_dp3(enum a64_dp3_op op, enum a64_width w, enum a64_reg rd,
		 enum a64_reg rn, enum a64_reg rm, enum a64_reg ra)
{
	int d = reg_zr(rd), n = reg_zr(rn), m = reg_zr(rm), a = reg_zr(ra);

	if ((unsigned int)op > A64_MSUB || !width_ok(w) || d < 0 || n < 0 ||
	    m < 0 || a < 0)
		return A64_INSN_BAD;
	return (uint32_t)w << 31 | 0x1b000000u | (uint32_t)m << 16 |
	       (uint32_t)op << 15 | (uint32_t)a << 10 | (uint32_t)n << 5 |
	       (uint32_t)d;
}

uint32_t a64_mov_reg(enum a64_width w, enum a64_reg rd, enum a64_reg rm)
{
	/* C6.2 MOV (to/from SP) is ADD #0; MOV (register) is ORR. */
	if (rd == A64_SP || rm == A64_SP)
		return a64_addsub_imm(A64_ADD, w, rd, rm, 0);
	return a64_logic_shifted(A64_ORR, w, rd, A64_ZR, rm, A64_LSL, 0);
}

/* ---------------------------------------------------------------------
 * Loads and stores (C4.1.88)
 * --------------------------------------------------------------------- */

/*
 * size (bits 31:30), V (bit 26) and the opc for a store (bits 23:22; +1
 * for the load) of each access size; log2 of the access size in bytes.
 */
struct ldst_class {
	uint32_t size, v, opc_store;
	unsigned int scale;
};

static bool ldst_class(enum a64_ldst_size size, struct ldst_class *c)
{
	static const struct ldst_class classes[] = {
		[A64_LS_B] = { 0, 0, 0, 0 },
		[A64_LS_H] = { 1, 0, 0, 1 },
		[A64_LS_W] = { 2, 0, 0, 2 },
		[A64_LS_X] = { 3, 0, 0, 3 },
		[A64_LS_S] = { 2, 1, 0, 2 },
		[A64_LS_D] = { 3, 1, 0, 3 },
		[A64_LS_Q] = { 0, 1, 2, 4 },
	};

	if ((unsigned int)size > A64_LS_Q)
		return false;
	*c = classes[size];
	return true;
}

/* Transfer register: general (ZR-class) or SIMD&FP 0..31. */
static int reg_xfer(enum a64_ldst_size size, enum a64_reg rt)
{
	if (size >= A64_LS_S)
		return (unsigned int)rt < 32 ? (int)rt : -1;
	return reg_zr(rt);
}

/* A sign-extending load (opc 0b10) exists for B, H and W into Xt. */
static bool ldst_op_ok(enum a64_ldst_op op, enum a64_ldst_size size)
{
	if (op == A64_LOAD_SX)
		return size == A64_LS_B || size == A64_LS_H || size == A64_LS_W;
	return op == A64_STORE || op == A64_LOAD;
}

/* C6.2 LDR/STR (register): option 0b011 (LSL), S 0: [Xn, Xm]. */
uint32_t a64_ldst_reg(enum a64_ldst_op op, enum a64_ldst_size size,
		      enum a64_reg rt, enum a64_reg rn, enum a64_reg rm)
{
	struct ldst_class c;
	int t, n = reg_sp(rn), m = reg_zr(rm);

	if (!ldst_op_ok(op, size) || !ldst_class(size, &c))
		return A64_INSN_BAD;
	t = reg_xfer(size, rt);
	if (t < 0 || n < 0 || m < 0)
		return A64_INSN_BAD;
	return c.size << 30 | 0x38200800u | c.v << 26 |
	       (c.opc_store + (uint32_t)op) << 22 | (uint32_t)m << 16 |
	       3u << 13 | (uint32_t)n << 5 | (uint32_t)t;
}

uint32_t a64_ldst_imm(enum a64_ldst_op op, enum a64_ldst_size size,
		      enum a64_reg rt, enum a64_reg rn, int64_t off,
		      enum a64_addr_mode mode)
{
	struct ldst_class c;
	int t, n = reg_sp(rn);
	uint32_t base, opc;

	if (!ldst_op_ok(op, size) || !ldst_class(size, &c))
		return A64_INSN_BAD;
	t = reg_xfer(size, rt);
	if (t < 0 || n < 0)
		return A64_INSN_BAD;
	opc = c.opc_store + (uint32_t)op;
	base = c.size << 30 | 0x38000000u | c.v << 26 | opc << 22 |
	       (uint32_t)n << 5 | (uint32_t)t;

	switch (mode) {
	case A64_OFFSET:
		/* C6.2 LDR (immediate), unsigned offset: imm12 scaled. */
		if (off < 0 || off & ((1 << c.scale) - 1) ||
		    (off >> c.scale) > 0xfff)
			return A64_INSN_BAD;
		return base | 0x01000000u | (uint32_t)(off >> c.scale) << 10;
	case A64_PRE:
	case A64_POST:
		/*
		 * Writeback with Rt == Rn (not SP) is CONSTRAINED
		 * UNPREDICTABLE (C6.2 LDR/STR (immediate), K1.2.x).
		 */
		if (size < A64_LS_S && n == t && n != 31)
			return A64_INSN_BAD;
		if (!fits_signed(off, 9))
			return A64_INSN_BAD;
		return base | field(off, 9) << 12 |
		       (mode == A64_PRE ? 3u : 1u) << 10;
	case A64_UNSCALED:
		if (!fits_signed(off, 9))
			return A64_INSN_BAD;
		return base | field(off, 9) << 12;
	default:
		return A64_INSN_BAD;
	}
}

/* C6.2 LDP/STP (and SIMD&FP C7.2): opc selects the register size. */
uint32_t a64_ldstp(enum a64_ldst_op op, enum a64_ldst_size size,
		   enum a64_reg rt, enum a64_reg rt2, enum a64_reg rn,
		   int64_t off, enum a64_addr_mode mode)
{
	uint32_t opc, v, form;
	unsigned int scale;
	int t, t2, n = reg_sp(rn);

	switch (size) {
	case A64_LS_W:
		opc = 0, v = 0, scale = 2;
		break;
	case A64_LS_X:
		opc = 2, v = 0, scale = 3;
		break;
	case A64_LS_S:
		opc = 0, v = 1, scale = 2;
		break;
	case A64_LS_D:
		opc = 1, v = 1, scale = 3;
		break;
	case A64_LS_Q:
		opc = 2, v = 1, scale = 4;
		break;
	default:
		return A64_INSN_BAD;
	}
	switch (mode) {
	case A64_POST:
		form = 1;
		break;
	case A64_OFFSET:
		form = 2;
		break;
	case A64_PRE:
		form = 3;
		break;
	default:
		return A64_INSN_BAD;
	}
	t = reg_xfer(size, rt);
	t2 = reg_xfer(size, rt2);
	if ((unsigned int)op > A64_LOAD || t < 0 || t2 < 0 || n < 0)
		return A64_INSN_BAD;
	/* C6.2 LDP: t == t2 is CONSTRAINED UNPREDICTABLE for loads. */
	if (op == A64_LOAD && t == t2)
		return A64_INSN_BAD;
	/* Writeback into a transferred general register: likewise. */
	if (mode != A64_OFFSET && !v && n != 31 && (n == t || n == t2))
		return A64_INSN_BAD;
	if (off & ((1 << scale) - 1) || !fits_signed(off >> scale, 7))
		return A64_INSN_BAD;
	return opc << 30 | 0x28000000u | v << 26 | form << 23 |
	       (uint32_t)op << 22 | field(off >> scale, 7) << 15 |
	       (uint32_t)t2 << 10 | (uint32_t)n << 5 | (uint32_t)t;
}

/* C4.1.88 "Load/store exclusive": size:001000:o2:L:o1:Rs:o0:Rt2:Rn:Rt. */
static uint32_t excl(enum a64_ldst_size size, uint32_t o2, uint32_t l,
		     uint32_t o0, uint32_t rs, int t, int n)
{
	return (uint32_t)size << 30 | 0x08000000u | o2 << 23 | l << 22 |
	       rs << 16 | o0 << 15 | 0x1fu << 10 | (uint32_t)n << 5 |
	       (uint32_t)t;
}

static bool excl_size(enum a64_ldst_size size)
{
	return (unsigned int)size <= A64_LS_X;
}

uint32_t a64_ldxr(enum a64_ldst_size size, enum a64_reg rt, enum a64_reg rn,
		  unsigned int ord)
{
	int t = reg_zr(rt), n = reg_sp(rn);

	if (!excl_size(size) || t < 0 || n < 0 || (ord & ~A64_ACQ))
		return A64_INSN_BAD;
	return excl(size, 0, 1, ord ? 1 : 0, 31, t, n);
}

uint32_t a64_stxr(enum a64_ldst_size size, enum a64_reg rs, enum a64_reg rt,
		  enum a64_reg rn, unsigned int ord)
{
	int s = reg_zr(rs), t = reg_zr(rt), n = reg_sp(rn);

	if (!excl_size(size) || s < 0 || t < 0 || n < 0 || (ord & ~A64_REL))
		return A64_INSN_BAD;
	/* C6.2 STXR: s == t, or s == n (n != 31), CONSTRAINED UNPREDICTABLE. */
	if (s == t || (s == n && n != 31))
		return A64_INSN_BAD;
	return excl(size, 0, 0, ord ? 1 : 0, (uint32_t)s, t, n);
}

uint32_t a64_ldar(enum a64_ldst_size size, enum a64_reg rt, enum a64_reg rn)
{
	int t = reg_zr(rt), n = reg_sp(rn);

	if (!excl_size(size) || t < 0 || n < 0)
		return A64_INSN_BAD;
	return excl(size, 1, 1, 1, 31, t, n);
}

uint32_t a64_stlr(enum a64_ldst_size size, enum a64_reg rt, enum a64_reg rn)
{
	int t = reg_zr(rt), n = reg_sp(rn);

	if (!excl_size(size) || t < 0 || n < 0)
		return A64_INSN_BAD;
	return excl(size, 1, 0, 1, 31, t, n);
}

/* C4.1.88 "Atomic memory operations": size:111000:A:R:1:Rs:o3:opc:00:Rn:Rt. */
uint32_t a64_lse(enum a64_lse_op op, enum a64_ldst_size size,
		 enum a64_reg rs, enum a64_reg rt, enum a64_reg rn,
		 unsigned int ord)
{
	int s = reg_zr(rs), t = reg_zr(rt), n = reg_sp(rn);
	uint32_t o3 = op == A64_SWP, opc = op == A64_SWP ? 0 : (uint32_t)op;

	if ((unsigned int)op > A64_SWP || !excl_size(size) || s < 0 ||
	    t < 0 || n < 0 || ord > (A64_ACQ | A64_REL))
		return A64_INSN_BAD;
	return (uint32_t)size << 30 | 0x38200000u |
	       (uint32_t)!!(ord & A64_ACQ) << 23 |
	       (uint32_t)!!(ord & A64_REL) << 22 | (uint32_t)s << 16 |
	       o3 << 15 | opc << 12 | (uint32_t)n << 5 | (uint32_t)t;
}

/* C6.2 CAS: size:0010001:L:1:Rs:o0:11111:Rn:Rt. */
uint32_t a64_cas(enum a64_ldst_size size, enum a64_reg rs, enum a64_reg rt,
		 enum a64_reg rn, unsigned int ord)
{
	int s = reg_zr(rs), t = reg_zr(rt), n = reg_sp(rn);

	if (!excl_size(size) || s < 0 || t < 0 || n < 0 ||
	    ord > (A64_ACQ | A64_REL))
		return A64_INSN_BAD;
	return (uint32_t)size << 30 | 0x08a07c00u |
	       (uint32_t)!!(ord & A64_ACQ) << 22 | (uint32_t)s << 16 |
	       (uint32_t)!!(ord & A64_REL) << 15 | (uint32_t)n << 5 |
	       (uint32_t)t;
}

/* ---------------------------------------------------------------------
 * SIMD&FP moves (C4.1.96 "Conversion between FP and integer", C7.2)
 * --------------------------------------------------------------------- */

/* sf, ftype, rmode of FMOV (general) for each type. */
static bool fmov_gen(enum a64_fp_type t, uint32_t *bits)
{
	switch (t) {
	case A64_FP_S:
		*bits = 0u << 31 | 0u << 22 | 0u << 19;
		return true;
	case A64_FP_D:
		*bits = 1u << 31 | 1u << 22 | 0u << 19;
		return true;
	case A64_FP_D1:
		*bits = 1u << 31 | 2u << 22 | 1u << 19;
		return true;
	}
	return false;
}

uint32_t a64_fmov_to_fp(enum a64_fp_type t, unsigned int vd, enum a64_reg rn)
{
	int n = reg_zr(rn);
	uint32_t bits;

	if (!fmov_gen(t, &bits) || vd > 31 || n < 0)
		return A64_INSN_BAD;
	return bits | 0x1e270000u | (uint32_t)n << 5 | vd;
}

uint32_t a64_fmov_from_fp(enum a64_fp_type t, enum a64_reg rd,
			  unsigned int vn)
{
	int d = reg_zr(rd);
	uint32_t bits;

	if (!fmov_gen(t, &bits) || vn > 31 || d < 0)
		return A64_INSN_BAD;
	return bits | 0x1e260000u | vn << 5 | (uint32_t)d;
}

uint32_t a64_fmov_fp(enum a64_fp_type t, unsigned int vd, unsigned int vn)
{
	if ((t != A64_FP_S && t != A64_FP_D) || vd > 31 || vn > 31)
		return A64_INSN_BAD;
	return 0x1e204000u | (uint32_t)t << 22 | vn << 5 | vd;
}

uint32_t a64_mov_v(unsigned int vd, unsigned int vn)
{
	if (vd > 31 || vn > 31)
		return A64_INSN_BAD;
	return 0x4ea01c00u | vn << 16 | vn << 5 | vd;
}

/* ---------------------------------------------------------------------
 * Immediate materialisation
 * --------------------------------------------------------------------- */

unsigned int a64_mov_imm(uint32_t insns[4], enum a64_width w,
			 enum a64_reg rd, uint64_t val)
{
	unsigned int nhw = w == A64_64 ? 4 : 2;
	unsigned int zeros = 0, ones = 0, i, n = 0;
	uint32_t bits;
	bool inverted;

	/* A 32-bit value with upper bits set is refused, not truncated. */
	if (!width_ok(w) || reg_sp(rd) < 0 || rd == A64_SP ||
	    (w == A64_32 && val >> 32))
		return 0;
	for (i = 0; i < nhw; i++) {
		uint32_t hw = (uint32_t)(val >> (16 * i)) & 0xffff;

		zeros += hw == 0;
		ones += hw == 0xffff;
	}

	/*
	 * One instruction if MOVZ or MOVN alone does it; otherwise an ORR of
	 * a bitmask immediate (rd is never 31 here, so ORR's SP-class Rd is
	 * a general register).  The checks run in the same order for any rd,
	 * so the count is a function of (w, val) only.
	 */
	if (zeros < nhw - 1 && ones < nhw - 1 &&
	    a64_bitmask_encode(val, w, &bits)) {
		insns[0] = (uint32_t)w << 31 | 1u << 29 | 0x12000000u |
			   bits << 10 | 31u << 5 | (uint32_t)rd;
		return 1;
	}

	/* Start from all-zeros or all-ones, whichever leaves fewer MOVKs. */
	inverted = ones > zeros;
	for (i = 0; i < nhw; i++) {
		uint32_t hw = (uint32_t)(val >> (16 * i)) & 0xffff;

		if (hw == (inverted ? 0xffffu : 0))
			continue;
		if (!n)
			insns[n++] = inverted ?
				a64_movn(w, rd, ~hw & 0xffff, 16 * i) :
				a64_movz(w, rd, hw, 16 * i);
		else
			insns[n++] = a64_movk(w, rd, hw, 16 * i);
	}
	if (!n)		/* 0 or all ones */
		insns[n++] = inverted ? a64_movn(w, rd, 0, 0) :
			     a64_movz(w, rd, 0, 0);
	return n;
}

unsigned int a64_mov_imm_count(enum a64_width w, uint64_t val)
{
	uint32_t insns[4];

	return a64_mov_imm(insns, w, A64_R0, val);
}

void a64_emit_mov_imm(struct a64_ctx *ctx, enum a64_width w,
		      enum a64_reg rd, uint64_t val)
{
	uint32_t insns[4];
	unsigned int n = a64_mov_imm(insns, w, rd, val);

	if (!n) {
		a64_emit(ctx, A64_INSN_BAD);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		a64_emit(ctx, insns[i]);
}

void a64_emit_mov_imm_fixed(struct a64_ctx *ctx, enum a64_reg rd,
			    uint64_t val)
{
	a64_emit(ctx, a64_movz(A64_64, rd, val & 0xffff, 0));
	a64_emit(ctx, a64_movk(A64_64, rd, (val >> 16) & 0xffff, 16));
	a64_emit(ctx, a64_movk(A64_64, rd, (val >> 32) & 0xffff, 32));
	a64_emit(ctx, a64_movk(A64_64, rd, (val >> 48) & 0xffff, 48));
}

/* ---------------------------------------------------------------------
 * Decoders
 * --------------------------------------------------------------------- */

bool a64_branch_target(uint32_t insn, uint64_t pc, uint64_t *target)
{
	int64_t off;

	if (a64_is_b(insn) || a64_is_bl(insn)) {
		off = sign_extend(insn, 26) * 4;
	} else if (a64_is_b_cond(insn) || a64_is_cbz(insn)) {
		off = sign_extend(insn >> 5, 19) * 4;
	} else if (a64_is_tbz(insn)) {
		off = sign_extend(insn >> 5, 14) * 4;
	} else if (a64_is_adr(insn) || a64_is_adrp(insn)) {
		off = sign_extend(((insn >> 5) & 0x7ffff) << 2 |
				  ((insn >> 29) & 3), 21);
		if (a64_is_adrp(insn)) {
			*target = (pc & ~(uint64_t)0xfff) +
				  (uint64_t)off * 4096;
			return true;
		}
	} else {
		return false;
	}
	*target = pc + (uint64_t)off;
	return true;
}

bool a64_literal_target(uint32_t insn, uint64_t pc, uint64_t *target)
{
	if (!a64_is_ldr_lit(insn))
		return false;
	*target = pc + (uint64_t)(sign_extend(insn >> 5, 19) * 4);
	return true;
}

/*
 * Arm ARM B2.2.5, "Concurrent modification and execution of instructions":
 * the architecture only guarantees that a thread executes either the old
 * or the new instruction when both are among B, BL, BRK, HVC, ISB, NOP,
 * SMC and SVC (Armv8.0 list; later extensions add more).  Anything else
 * replaced under a running thread may execute as an unpredictable mix.
 */
bool a64_is_concurrent_safe(uint32_t insn)
{
	if (a64_is_nop(insn) || a64_is_b(insn) || a64_is_bl(insn))
		return true;
	if (insn == A64_ISB)
		return true;
	/* BRK, SVC, HVC, SMC: 11010100 opc:imm16 LL with opc 000/001. */
	if ((insn & 0xffe0001fu) == 0xd4200000u)	/* brk */
		return true;
	if ((insn & 0xffe0001cu) == 0xd4000000u &&
	    (insn & 3) != 0)				/* svc, hvc, smc */
		return true;
	return false;
}

bool a64_is_mov_reg(uint32_t insn, enum a64_width *w, enum a64_reg *rd,
		    enum a64_reg *rm)
{
	/* orr rd, zr, rm with LSL #0: sf:0101010:00:0:Rm:000000:11111:Rd. */
	if ((insn & 0x7fe0ffe0u) != 0x2a0003e0u)
		return false;
	*w = (enum a64_width)(insn >> 31);
	*rd = (enum a64_reg)a64_insn_rd(insn);
	*rm = (enum a64_reg)a64_insn_rm(insn);
	return true;
}
