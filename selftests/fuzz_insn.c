// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the A64 decoders (and, with the rest of the input,
 * the encoders on arbitrary operands).
 *
 * Input: a 32-bit word and a 64-bit pc, then operand bytes.  The decoders
 * must never crash or trip a sanitizer, and whatever a decoder recognises
 * must come back bit for bit from the matching encoder: a word that
 * a64_is_bl() accepts equals a64_bl(pc, a64_branch_target(...)), and so
 * on.  Encoders fed junk must return A64_INSN_BAD or a word, never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/insn.h"

#define CHECK(cond)	do { if (!(cond)) abort(); } while (0)

static uint64_t take(const uint8_t **p, size_t *left, size_t n)
{
	uint64_t v = 0;

	if (n > *left)
		n = *left;
	memcpy(&v, *p, n);	/* host byte order: any order will do */
	*p += n;
	*left -= n;
	return v;
}

/* Re-encode whatever the decoders say the word is. */
static void check_decoders(uint32_t insn, uint64_t pc)
{
	uint64_t t;
	enum a64_width w;
	enum a64_reg rd, rm;
	bool is_branch = a64_branch_target(insn, pc, &t);
	unsigned int r = a64_insn_rd(insn);

	if (a64_is_b(insn)) {
		CHECK(is_branch && a64_b(pc, t) == insn);
		CHECK(a64_is_concurrent_safe(insn));
	}
	if (a64_is_bl(insn)) {
		CHECK(is_branch && a64_bl(pc, t) == insn);
		CHECK(a64_is_concurrent_safe(insn));
	}
	if (a64_is_b_cond(insn))
		CHECK(is_branch &&
		      a64_b_cond(pc, t, (enum a64_cond)(insn & 0xf)) == insn);
	if (a64_is_cbz(insn)) {
		w = (enum a64_width)(insn >> 31);
		CHECK(is_branch);
		if (insn & (1u << 24))
			CHECK(a64_cbnz(pc, t, w, A64_R(r)) == insn);
		else
			CHECK(a64_cbz(pc, t, w, A64_R(r)) == insn);
	}
	if (a64_is_tbz(insn)) {
		unsigned int bit = (insn >> 31) << 5 | ((insn >> 19) & 31);

		CHECK(is_branch);
		if (insn & (1u << 24))
			CHECK(a64_tbnz(pc, t, A64_R(r), bit) == insn);
		else
			CHECK(a64_tbz(pc, t, A64_R(r), bit) == insn);
	}
	if (a64_is_adr(insn))
		CHECK(is_branch && a64_adr(pc, t, A64_R(r)) == insn);
	if (a64_is_adrp(insn))
		CHECK(is_branch && (t & 0xfff) == 0 &&
		      a64_adrp(pc, t, A64_R(r)) == insn);
	if (!a64_is_b(insn) && !a64_is_bl(insn) && !a64_is_b_cond(insn) &&
	    !a64_is_cbz(insn) && !a64_is_tbz(insn) && !a64_is_adr(insn) &&
	    !a64_is_adrp(insn))
		CHECK(!is_branch);

	if (a64_literal_target(insn, pc, &t)) {
		static const enum a64_ldst_size gp[] = { A64_LS_W, A64_LS_X };
		static const enum a64_ldst_size fp[] = {
			A64_LS_S, A64_LS_D, A64_LS_Q,
		};
		unsigned int opc = insn >> 30;
		enum a64_ldst_size size = insn & (1u << 26) ? fp[opc] : gp[opc];

		CHECK(a64_is_ldr_lit(insn));
		CHECK(a64_ldr_lit(pc, t, size, A64_R(r)) == insn);
	} else {
		CHECK(!a64_is_ldr_lit(insn));
	}

	if (a64_is_mov_reg(insn, &w, &rd, &rm))
		CHECK(a64_mov(w, rd, rm) == insn);
	if (a64_is_bti(insn))
		CHECK(insn == A64_BTI || insn == A64_BTI_C ||
		      insn == A64_BTI_J || insn == A64_BTI_JC);

	/* B2.2.5: the safe set is exactly these eight classes. */
	if (a64_is_concurrent_safe(insn)) {
		uint32_t imm = (insn >> 5) & 0xffff;

		CHECK(a64_is_b(insn) || a64_is_bl(insn) ||
		      insn == A64_NOP || insn == A64_ISB ||
		      insn == a64_brk(imm) || insn == a64_svc(imm) ||
		      insn == a64_hvc(imm) || insn == a64_smc(imm));
	}
}

/* Encoders on arbitrary operands: a word, never a crash. */
static void poke_encoders(const uint8_t *p, size_t left, uint64_t pc)
{
	while (left >= 8) {
		uint64_t x = take(&p, &left, 8);
		unsigned int sel = x & 15;
		enum a64_reg a = A64_R((x >> 4) & 0x3f);
		enum a64_reg b = A64_R((x >> 10) & 0x3f);
		enum a64_reg c = A64_R((x >> 16) & 0x3f);
		unsigned int e1 = (x >> 22) & 15, e2 = (x >> 26) & 7;
		enum a64_width w = (enum a64_width)((x >> 29) & 3);
		int64_t imm = (int64_t)x >> 31;
		uint64_t u = x >> 31;
		uint32_t insn, f;

		switch (sel) {
		case 0:
			insn = a64_ldst_imm((enum a64_ldst_op)(e2 & 3),
					    (enum a64_ldst_size)e1, a, b, imm,
					    (enum a64_addr_mode)(e2 >> 1));
			break;
		case 1:
			insn = a64_ldstp((enum a64_ldst_op)(e2 & 1),
					 (enum a64_ldst_size)e1, a, b, c,
					 imm >> 20, (enum a64_addr_mode)e2);
			break;
		case 2:
			insn = a64_addsub_imm((enum a64_addsub_op)e2, w, a, b,
					      u >> 8);
			break;
		case 3:
			insn = a64_logic_imm((enum a64_logic_op)e1, w, a, b,
					     x * 0x9e3779b97f4a7c15ull);
			break;
		case 4:
			insn = a64_addsub_ext((enum a64_addsub_op)e2, w, a, b,
					      c, (enum a64_extend)e1, e2);
			break;
		case 5:
			insn = a64_logic_shifted((enum a64_logic_op)e1, w, a, b,
						 c, (enum a64_shift)e2,
						 (unsigned int)(u & 0x7f));
			break;
		case 6:
			insn = a64_bitfield((enum a64_bitfield_op)e2, w, a, b,
					    (unsigned int)(u & 0x7f),
					    (unsigned int)((u >> 7) & 0x7f));
			break;
		case 7:
			insn = a64_movw((enum a64_movw_op)e2, w, a,
					(uint32_t)(u & 0x1ffff),
					(unsigned int)((u >> 17) & 0x7f));
			break;
		case 8:
			insn = a64_tbz(pc, pc + (uint64_t)imm, a,
				       (unsigned int)e1 * 5);
			break;
		case 9:
			insn = a64_adrp(pc, (uint64_t)imm << 12, a);
			break;
		case 10:
			insn = a64_lse((enum a64_lse_op)e1,
				       (enum a64_ldst_size)e2, a, b, c,
				       (unsigned int)(u & 7));
			break;
		case 11:
			insn = a64_stxr((enum a64_ldst_size)e2, a, b, c,
					(unsigned int)(u & 3));
			break;
		case 12:
			insn = a64_csel_op((enum a64_csel_op)e2, w, a, b, c,
					   (enum a64_cond)(e1 + (u & 16)));
			break;
		case 13:
			insn = a64_fmov_to_fp((enum a64_fp_type)e2,
					      (unsigned int)(u & 63), a);
			break;
		case 14: {
			uint32_t seq[4];
			unsigned int n = a64_mov_imm(seq, w, a, x);

			CHECK(n <= 4);
			CHECK(!n || n == a64_mov_imm_count(w, x));
			insn = n ? seq[0] : A64_INSN_BAD;
			break;
		}
		default:
			/* Bitmask immediates round-trip. */
			insn = A64_INSN_BAD;
			if (a64_bitmask_encode(x, w, &f)) {
				uint64_t v;

				CHECK(f < (1u << 13));
				CHECK(a64_bitmask_decode(f, w, &v) && v == x);
			}
			if (a64_bitmask_decode((uint32_t)x & 0x1fff, w, &u)) {
				CHECK(a64_bitmask_encode(u, w, &f));
			}
			break;
		}
		/* Anything an encoder produces decodes consistently. */
		check_decoders(insn, pc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	uint32_t insn;
	uint64_t pc;

	if (size < 12)
		return 0;
	insn = (uint32_t)take(&p, &left, 4);
	pc = take(&p, &left, 8);
	check_decoders(insn, pc);
	/* Neighbouring pcs, including wrap-around at the top. */
	check_decoders(insn, ~pc);
	check_decoders(insn, pc & ~(uint64_t)3);
	poke_encoders(p, left, pc);
	return 0;
}
