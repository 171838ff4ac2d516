// SPDX-License-Identifier: MIT
/*
 * The interpreter against RFC 9669 (cpu v4): a corpus of raw programs
 * (R1 = data, R2 = its size, R0 the result) in the manner of the
 * kernel's lib/test_bpf.c, each with its expected 64-bit result worked
 * out by hand, and the corner cases the RFC names (INT_MIN / -1, shifts
 * by the width and more, 32-bit zero-extension, imm sign extension,
 * division by zero).  One test checks that the corpus uses every opcode
 * of the RFC; others check the load-time refusals, one per rule, and
 * maps reached by BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/bpf_insns.h"
#include "selftests/harness.h"

struct isa_case {
	const char *name;
	const insn_t *insns;
	size_t n;
	uint64_t expect;
};

#define CASE(nm, ex, ...) { nm, (const insn_t[]){ __VA_ARGS__ },	\
	sizeof((const insn_t[]){ __VA_ARGS__ }) / sizeof(insn_t), (uint64_t)(ex) }

/* r0 = 1; setup; if (cond) r0 = 2: 2 when taken. */
#define TAKEN(nm, taken, ...)						\
	CASE(nm, (taken) ? 2 : 1, MOV(0, 1), __VA_ARGS__, EXIT(),	\
	     MOV(0, 2), EXIT())
/* r3 = -1, r4 = 1 (unsigned: r3 > r4; signed: r3 < r4) */
#define SETUP_M1_1	MOV(3, -1), MOV(4, 1)
/* r3 = 1 << 32 (low word 0), r4 = 0 */
#define SETUP_HI	LD64(3, 1ull << 32), MOV(4, 0)

#define MIN64	0x8000000000000000ull

/* Data at R1: 80 81 82 ... 87, then 8 zero bytes. */
static const uint8_t data16[16] = { 0x80, 0x81, 0x82, 0x83, 0x84, 0x85,
				    0x86, 0x87 };

static const struct isa_case cases[] = {
	/* ALU64 */
	CASE("add_k", 2, MOV(0, 5), A64K(BPF_ADD, 0, -3), EXIT()),
	CASE("add_x_wraps", 0, LD64(3, -1), MOV(0, 1), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("sub_k", -2, MOV(0, 3), A64K(BPF_SUB, 0, 5), EXIT()),
	CASE("sub_x", 7, MOV(0, 10), MOV(3, 3), A64X(BPF_SUB, 0, 3), EXIT()),
	CASE("mul_k", -21, MOV(0, -3), A64K(BPF_MUL, 0, 7), EXIT()),
	CASE("mul_x_low64", 0x200000001ull, LD64(0, 0x100000001ull),
	     LD64(3, 0x100000001ull), A64X(BPF_MUL, 0, 3), EXIT()),
	CASE("div_k_imm_sext_unsigned", 0, MOV(0, 10), A64K(BPF_DIV, 0, -1), EXIT()),
	CASE("div_x", 14, MOV(0, 100), MOV(3, 7), A64X(BPF_DIV, 0, 3), EXIT()),
	CASE("div_x_by_zero", 0, MOV(0, 77), MOV(3, 0), A64X(BPF_DIV, 0, 3), EXIT()),
	CASE("div_k_by_zero", 0, MOV(0, 77), A64K(BPF_DIV, 0, 0), EXIT()),
	CASE("mod_k", 2, MOV(0, 100), A64K(BPF_MOD, 0, 7), EXIT()),
	CASE("mod_x_by_zero_keeps", 77, MOV(0, 77), MOV(3, 0), A64X(BPF_MOD, 0, 3), EXIT()),
	CASE("mod_x_big", 1, LD64(0, -1), LD64(3, -2), A64X(BPF_MOD, 0, 3), EXIT()),
	CASE("sdiv_k_truncates", -3, MOV(0, -7), S64K(BPF_DIV, 0, 2), EXIT()),
	CASE("sdiv_x_min_by_m1", MIN64, LD64(0, MIN64), MOV(3, -1), S64X(BPF_DIV, 0, 3), EXIT()),
	CASE("sdiv_x_by_zero", 0, MOV(0, -7), MOV(3, 0), S64X(BPF_DIV, 0, 3), EXIT()),
	CASE("smod_k_dividend_sign", -1, MOV(0, -7), S64K(BPF_MOD, 0, 3), EXIT()),
	CASE("smod_k_neg_divisor", 1, MOV(0, 7), S64K(BPF_MOD, 0, -3), EXIT()),
	CASE("smod_x_min_by_m1", 0, LD64(0, MIN64), MOV(3, -1), S64X(BPF_MOD, 0, 3), EXIT()),
	CASE("smod_x_by_zero_keeps", -7, MOV(0, -7), MOV(3, 0), S64X(BPF_MOD, 0, 3), EXIT()),
	CASE("or_k_sext", 0xfffffffffffffffeull, MOV(0, 0), A64K(BPF_OR, 0, -2), EXIT()),
	CASE("or_x", 0xff, MOV(0, 0xf0), MOV(3, 0x0f), A64X(BPF_OR, 0, 3), EXIT()),
	CASE("and_k", 0xf0, LD64(0, 0x123456789abcdef0ull), A64K(BPF_AND, 0, 0xff), EXIT()),
	CASE("and_k_m1_keeps", 0x123456789abcdef0ull, LD64(0, 0x123456789abcdef0ull),
	     A64K(BPF_AND, 0, -1), EXIT()),
	CASE("and_x", 0x10, MOV(0, 0x30), MOV(3, 0x11), A64X(BPF_AND, 0, 3), EXIT()),
	CASE("xor_k_sext", -1, MOV(0, 0), A64K(BPF_XOR, 0, -1), EXIT()),
	CASE("xor_x", 6, MOV(0, 5), MOV(3, 3), A64X(BPF_XOR, 0, 3), EXIT()),
	CASE("lsh_k_63", MIN64, MOV(0, 1), A64K(BPF_LSH, 0, 63), EXIT()),
	CASE("lsh_x_64_masked", 1, MOV(0, 1), MOV(3, 64), A64X(BPF_LSH, 0, 3), EXIT()),
	CASE("lsh_x_65_masked", 2, MOV(0, 1), MOV(3, 65), A64X(BPF_LSH, 0, 3), EXIT()),
	CASE("rsh_k", 1, LD64(0, MIN64), A64K(BPF_RSH, 0, 63), EXIT()),
	CASE("rsh_x", 0x80, MOV(0, 0x8000), MOV(3, 72), A64X(BPF_RSH, 0, 3), EXIT()),
	CASE("arsh_k", -1, LD64(0, MIN64), A64K(BPF_ARSH, 0, 63), EXIT()),
	CASE("arsh_x_64_masked", MIN64, LD64(0, MIN64), MOV(3, 64), A64X(BPF_ARSH, 0, 3), EXIT()),
	CASE("neg", -5, MOV(0, 5), A64K(BPF_NEG, 0, 0), EXIT()),
	CASE("mov_k_sext", -1, MOV(0, -1), EXIT()),
	CASE("mov_x", 0xaaaaaaaabbbbbbbbull, LD64(3, 0xaaaaaaaabbbbbbbbull),
	     A64X(BPF_MOV, 0, 3), EXIT()),
	CASE("movsx64_8", 0xffffffffffffff80ull, MOV(3, 0x180), MOVSX64(0, 3, 8), EXIT()),
	CASE("movsx64_16", 0xffffffffffff8000ull, MOV(3, 0x18000), MOVSX64(0, 3, 16), EXIT()),
	CASE("movsx64_32", 0xffffffff80000000ull, LD64(3, 0x180000000ull), MOVSX64(0, 3, 32), EXIT()),
	CASE("movsx64_8_positive", 0x7f, MOV(3, 0x17f), MOVSX64(0, 3, 8), EXIT()),
	CASE("bswap16", 0x0807, LD64(0, 0x0102030405060708ull), BSWAP(0, 16), EXIT()),
	CASE("bswap32", 0x08070605, LD64(0, 0x0102030405060708ull), BSWAP(0, 32), EXIT()),
	CASE("bswap64", 0x0807060504030201ull, LD64(0, 0x0102030405060708ull), BSWAP(0, 64), EXIT()),

	/* ALU32: results zero-extended, imm used as 32 bits */
	CASE("add32_wraps_zext", 0, LD64(0, -1), A32K(BPF_ADD, 0, 1), EXIT()),
	CASE("add32_drops_high", 2, LD64(0, 0x1234567800000001ull), A32K(BPF_ADD, 0, 1), EXIT()),
	CASE("add32_x", 3, MOV(0, 1), LD64(3, 0xff00000002ull), A32X(BPF_ADD, 0, 3), EXIT()),
	CASE("mov32_k_zext", 0xffffffff, A32K(BPF_MOV, 0, -1), EXIT()),
	CASE("mov32_x_zext", 0xbbbbbbbb, LD64(3, 0xaaaaaaaabbbbbbbbull), A32X(BPF_MOV, 0, 3), EXIT()),
	CASE("sub32_k", 0xffffffff, MOV(0, 0), A32K(BPF_SUB, 0, 1), EXIT()),
	CASE("sub32_x", 0xfffffffe, MOV(0, 1), MOV(3, 3), A32X(BPF_SUB, 0, 3), EXIT()),
	CASE("mul32_k_wraps", 0, A32K(BPF_MOV, 0, 0x10000), A32K(BPF_MUL, 0, 0x10000), EXIT()),
	CASE("mul32_x", 0xfffffffd, MOV(0, -1), MOV(3, 3), A32X(BPF_MUL, 0, 3), EXIT()),
	CASE("div32_low_word", 10, LD64(0, 0x100000064ull), A32K(BPF_DIV, 0, 10), EXIT()),
	CASE("div32_k_unsigned", 1, A32K(BPF_MOV, 0, -1), A32K(BPF_DIV, 0, -1), EXIT()),
	CASE("div32_x_by_zero", 0, MOV(0, 9), MOV(3, 0), A32X(BPF_DIV, 0, 3), EXIT()),
	CASE("mod32_k", 1, MOV(0, 10), A32K(BPF_MOD, 0, 3), EXIT()),
	CASE("mod32_x_by_zero_low_word", 5, LD64(0, 0x100000005ull), MOV(3, 0),
	     A32X(BPF_MOD, 0, 3), EXIT()),
	CASE("sdiv32_min_by_m1", 0x80000000, A32K(BPF_MOV, 0, 0x80000000), S32K(BPF_DIV, 0, -1), EXIT()),
	CASE("sdiv32_x", 0xfffffffd, MOV(0, -7), MOV(3, 2), S32X(BPF_DIV, 0, 3), EXIT()),
	CASE("sdiv32_by_zero", 0, MOV(0, -7), S32K(BPF_DIV, 0, 0), EXIT()),
	CASE("smod32_min_by_m1", 0, A32K(BPF_MOV, 0, 0x80000000), S32K(BPF_MOD, 0, -1), EXIT()),
	CASE("smod32_x", 0xffffffff, MOV(0, -7), MOV(3, 3), S32X(BPF_MOD, 0, 3), EXIT()),
	CASE("smod32_by_zero_zext", 0xfffffff9, MOV(0, -7), S32K(BPF_MOD, 0, 0), EXIT()),
	CASE("or32_k", 1, LD64(0, 0xffffffff00000000ull), A32K(BPF_OR, 0, 1), EXIT()),
	CASE("or32_x", 3, MOV(0, 1), MOV(3, 2), A32X(BPF_OR, 0, 3), EXIT()),
	CASE("and32_k", 0xff, MOV(0, -1), A32K(BPF_AND, 0, 0xff), EXIT()),
	CASE("and32_x", 0xffffffff, MOV(0, -1), MOV(3, -1), A32X(BPF_AND, 0, 3), EXIT()),
	CASE("xor32_k", 0xfffffffe, MOV(0, 1), A32K(BPF_XOR, 0, -1), EXIT()),
	CASE("xor32_x", 0, MOV(0, -1), MOV(3, -1), A32X(BPF_XOR, 0, 3), EXIT()),
	CASE("lsh32_k_31", 0x80000000, MOV(0, 1), A32K(BPF_LSH, 0, 31), EXIT()),
	CASE("lsh32_x_32_masked", 1, MOV(0, 1), MOV(3, 32), A32X(BPF_LSH, 0, 3), EXIT()),
	CASE("lsh32_x_33_masked", 2, MOV(0, 1), MOV(3, 33), A32X(BPF_LSH, 0, 3), EXIT()),
	CASE("rsh32_k", 1, LD64(0, 0xffffffff80000000ull), A32K(BPF_RSH, 0, 31), EXIT()),
	CASE("rsh32_x_masked", 0x40000000, A32K(BPF_MOV, 0, 0x80000000), MOV(3, 33),
	     A32X(BPF_RSH, 0, 3), EXIT()),
	CASE("arsh32_k", 0xffffffff, A32K(BPF_MOV, 0, 0x80000000), A32K(BPF_ARSH, 0, 31), EXIT()),
	CASE("arsh32_x", 0xc0000000, A32K(BPF_MOV, 0, 0x80000000), MOV(3, 1),
	     A32X(BPF_ARSH, 0, 3), EXIT()),
	CASE("neg32", 0xffffffff, MOV(0, 1), A32K(BPF_NEG, 0, 0), EXIT()),
	CASE("movsx32_8", 0xffffff80, MOV(3, 0x80), MOVSX32(0, 3, 8), EXIT()),
	CASE("movsx32_16", 0xffff8000, MOV(3, 0x8000), MOVSX32(0, 3, 16), EXIT()),
	CASE("le16", 0x0708, LD64(0, 0x0102030405060708ull), END(BPF_TO_LE, 0, 16), EXIT()),
	CASE("le32", 0x05060708, LD64(0, 0x0102030405060708ull), END(BPF_TO_LE, 0, 32), EXIT()),
	CASE("le64", 0x0102030405060708ull, LD64(0, 0x0102030405060708ull), END(BPF_TO_LE, 0, 64), EXIT()),
	CASE("be16", 0x0807, LD64(0, 0x0102030405060708ull), END(BPF_TO_BE, 0, 16), EXIT()),
	CASE("be32", 0x08070605, LD64(0, 0x0102030405060708ull), END(BPF_TO_BE, 0, 32), EXIT()),
	CASE("be64", 0x0807060504030201ull, LD64(0, 0x0102030405060708ull), END(BPF_TO_BE, 0, 64), EXIT()),

	/* JMP: unsigned and signed, K and X */
	TAKEN("jeq_k", 1, SETUP_M1_1, JK(BPF_JEQ, 3, -1, 1)),
	TAKEN("jeq_x_not", 0, SETUP_M1_1, JX(BPF_JEQ, 3, 4, 1)),
	TAKEN("jne_k", 1, SETUP_M1_1, JK(BPF_JNE, 3, 1, 1)),
	TAKEN("jne_x_not", 0, SETUP_M1_1, JX(BPF_JNE, 4, 4, 1)),
	TAKEN("jgt_x_unsigned", 1, SETUP_M1_1, JX(BPF_JGT, 3, 4, 1)),
	TAKEN("jgt_k_not", 0, SETUP_M1_1, JK(BPF_JGT, 4, 1, 1)),
	TAKEN("jge_k", 1, SETUP_M1_1, JK(BPF_JGE, 4, 1, 1)),
	TAKEN("jge_x_not", 0, SETUP_M1_1, JX(BPF_JGE, 4, 3, 1)),
	TAKEN("jlt_x", 1, SETUP_M1_1, JX(BPF_JLT, 4, 3, 1)),
	TAKEN("jlt_k_sext_unsigned", 1, SETUP_M1_1, JK(BPF_JLT, 4, -1, 1)),
	TAKEN("jle_k", 1, SETUP_M1_1, JK(BPF_JLE, 4, 1, 1)),
	TAKEN("jle_x_not", 0, SETUP_M1_1, JX(BPF_JLE, 3, 4, 1)),
	TAKEN("jset_k", 1, SETUP_M1_1, JK(BPF_JSET, 3, 0x100, 1)),
	TAKEN("jset_x_not", 0, MOV(3, 2), MOV(4, 1), JX(BPF_JSET, 3, 4, 1)),
	TAKEN("jsgt_x_not_signed", 0, SETUP_M1_1, JX(BPF_JSGT, 3, 4, 1)),
	TAKEN("jsgt_k", 1, SETUP_M1_1, JK(BPF_JSGT, 4, -1, 1)),
	TAKEN("jsge_k", 1, SETUP_M1_1, JK(BPF_JSGE, 3, -1, 1)),
	TAKEN("jsge_x_not", 0, SETUP_M1_1, JX(BPF_JSGE, 3, 4, 1)),
	TAKEN("jslt_x", 1, SETUP_M1_1, JX(BPF_JSLT, 3, 4, 1)),
	TAKEN("jslt_k_not", 0, SETUP_M1_1, JK(BPF_JSLT, 4, -1, 1)),
	TAKEN("jsle_k", 1, SETUP_M1_1, JK(BPF_JSLE, 3, -1, 1)),
	TAKEN("jsle_x_not", 0, SETUP_M1_1, JX(BPF_JSLE, 4, 3, 1)),
	/* JMP32: the low words only */
	TAKEN("jeq32_k_low_word", 1, SETUP_HI, J32K(BPF_JEQ, 3, 0, 1)),
	TAKEN("jeq64_k_same_not", 0, SETUP_HI, JK(BPF_JEQ, 3, 0, 1)),
	TAKEN("jeq32_x", 1, SETUP_HI, J32X(BPF_JEQ, 3, 4, 1)),
	TAKEN("jne32_k_not", 0, SETUP_HI, J32K(BPF_JNE, 3, 0, 1)),
	TAKEN("jne32_x", 1, SETUP_M1_1, J32X(BPF_JNE, 3, 4, 1)),
	TAKEN("jgt32_k_not", 0, SETUP_HI, J32K(BPF_JGT, 3, 0, 1)),
	TAKEN("jgt32_x", 1, SETUP_M1_1, J32X(BPF_JGT, 3, 4, 1)),
	TAKEN("jge32_k", 1, SETUP_HI, J32K(BPF_JGE, 3, 0, 1)),
	TAKEN("jge32_x_not", 0, SETUP_M1_1, J32X(BPF_JGE, 4, 3, 1)),
	TAKEN("jlt32_k", 1, SETUP_HI, J32K(BPF_JLT, 3, 1, 1)),
	TAKEN("jlt32_x_not", 0, SETUP_M1_1, J32X(BPF_JLT, 3, 4, 1)),
	TAKEN("jle32_k", 1, SETUP_HI, J32K(BPF_JLE, 3, 0, 1)),
	TAKEN("jle32_x_not", 0, SETUP_M1_1, J32X(BPF_JLE, 3, 4, 1)),
	TAKEN("jset32_k_not", 0, SETUP_HI, J32K(BPF_JSET, 3, -1, 1)),
	TAKEN("jset32_x", 1, SETUP_M1_1, J32X(BPF_JSET, 3, 4, 1)),
	TAKEN("jsgt32_k", 1, LD64(3, 0x00000000ffffffffull), J32K(BPF_JSGT, 3, -2, 1)),
	TAKEN("jsgt32_x_not", 0, SETUP_M1_1, J32X(BPF_JSGT, 3, 4, 1)),
	TAKEN("jsge32_k_sext_not", 0, LD64(3, 0x00000000ffffffffull), J32K(BPF_JSGE, 3, 0, 1)),
	TAKEN("jsge32_x", 1, SETUP_M1_1, J32X(BPF_JSGE, 4, 3, 1)),
	TAKEN("jslt32_k", 1, LD64(3, 0x00000000ffffffffull), J32K(BPF_JSLT, 3, 0, 1)),
	TAKEN("jslt32_x_not", 0, SETUP_M1_1, J32X(BPF_JSLT, 4, 3, 1)),
	TAKEN("jsle32_k", 1, LD64(3, 0x00000000ffffffffull), J32K(BPF_JSLE, 3, -1, 1)),
	TAKEN("jsle32_x_not", 0, SETUP_M1_1, J32X(BPF_JSLE, 4, 3, 1)),
	/*
	 * The skipped insns stay reachable (the verifier refuses dead code,
	 * as the kernel's): the jump back from insn 4 is never taken.
	 */
	CASE("ja", 1, MOV(0, 1), JA(2), MOV(0, 2), EXIT(), JK(BPF_JEQ, 0, 3, -3),
	     EXIT()),
	CASE("gotol", 1, MOV(0, 1), GOTOL(2), MOV(0, 2), EXIT(),
	     JK(BPF_JEQ, 0, 3, -3), EXIT()),
	CASE("loop_backward", 10, MOV(0, 0), MOV(3, 5), A64K(BPF_ADD, 0, 2),
	     A64K(BPF_SUB, 3, 1), JK(BPF_JNE, 3, 0, -3), EXIT()),
	CASE("gotol_backward", 3, MOV(0, 0), A64K(BPF_ADD, 0, 1),
	     JK(BPF_JEQ, 0, 3, 1), GOTOL(-3), EXIT()),

	/* calls: a helper; bpf-to-bpf with its own frame and R6-R9 kept */
	CASE("call_helper", 1, CALL(BPF_FUNC_ktime_get_ns), JK(BPF_JEQ, 0, 0, 2),
	     MOV(0, 1), EXIT(), MOV(0, 0), EXIT()),
	CASE("call_subprog", 115, MOV(6, 100), MOV(1, 5), ST(BPF_DW, 10, -8, 40),
	     CALLREL(5), A64X(BPF_ADD, 0, 6), LDX(BPF_DW, 3, 10, -8),
	     A64X(BPF_ADD, 0, 3), A64K(BPF_SUB, 0, 40), EXIT(),
	     /* subprog: clobbers r6 and its own stack slot */
	     MOV(6, 999), ST(BPF_DW, 10, -8, 1), A64X(BPF_MOV, 0, 1),
	     A64K(BPF_MUL, 0, 3), EXIT()),

	/* loads and stores (R1: data16) */
	CASE("ldx_b", 0x80, LDX(BPF_B, 0, 1, 0), EXIT()),
	CASE("ldx_h", 0x8180, LDX(BPF_H, 0, 1, 0), EXIT()),
	CASE("ldx_w", 0x83828180, LDX(BPF_W, 0, 1, 0), EXIT()),
	CASE("ldx_dw", 0x8786858483828180ull, LDX(BPF_DW, 0, 1, 0), EXIT()),
	CASE("ldx_b_offset", 0x87, A64K(BPF_ADD, 1, 8), LDX(BPF_B, 0, 1, -1), EXIT()),
	CASE("ldsx_b", 0xffffffffffffff80ull, LDSX(BPF_B, 0, 1, 0), EXIT()),
	CASE("ldsx_h", 0xffffffffffff8180ull, LDSX(BPF_H, 0, 1, 0), EXIT()),
	CASE("ldsx_w", 0xffffffff83828180ull, LDSX(BPF_W, 0, 1, 0), EXIT()),
	CASE("st_b_truncates", 0xff, ST(BPF_B, 1, 8, 0x1ff), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("st_h", 0xfffe, ST(BPF_H, 1, 8, -2), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("st_w", 0xfffffffe, ST(BPF_W, 1, 8, -2), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("st_dw_sext", -2, ST(BPF_DW, 1, 8, -2), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("stx_b", 0x88, LD64(3, 0x1122334455667788ull), STX(BPF_B, 1, 3, 8),
	     LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("stx_h", 0x7788, LD64(3, 0x1122334455667788ull), STX(BPF_H, 1, 3, 8),
	     LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("stx_w", 0x55667788, LD64(3, 0x1122334455667788ull), STX(BPF_W, 1, 3, 8),
	     LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("stx_dw_stack", 0x1122334455667788ull, LD64(3, 0x1122334455667788ull),
	     STX(BPF_DW, 10, 3, -8), LDX(BPF_DW, 0, 10, -8), EXIT()),
	CASE("ld_imm64", 0x123456789abcdef0ull, LD64(0, 0x123456789abcdef0ull), EXIT()),
	CASE("r2_is_size", 16, A64X(BPF_MOV, 0, 2), EXIT()),

	/* atomics on data + 8 */
	CASE("atomic_add_dw", 8, ST(BPF_DW, 1, 8, 5), MOV(3, 3),
	     ATOM(BPF_DW, BPF_ADD, 1, 3, 8), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_add_dw", 5 * 100 + 8, ST(BPF_DW, 1, 8, 5), MOV(3, 3),
	     ATOM(BPF_DW, BPF_ADD | BPF_FETCH, 1, 3, 8), LDX(BPF_DW, 0, 1, 8),
	     A64K(BPF_MUL, 3, 100), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_fetch_add_w_zext", 0xffffffff, ST(BPF_W, 1, 8, -1), MOV(3, 0),
	     ATOM(BPF_W, BPF_ADD | BPF_FETCH, 1, 3, 8), A64X(BPF_MOV, 0, 3), EXIT()),
	/* the high word untouched: no carry out of the 32-bit add */
	CASE("atomic_add_w", 0xffffffff00000001ull, ST(BPF_DW, 1, 8, -1), MOV(3, 1),
	     ATOM(BPF_W, BPF_ADD, 1, 3, 8), LDX(BPF_DW, 0, 1, 8), A64K(BPF_ADD, 0, 1),
	     EXIT()),
	CASE("atomic_or_dw", 0x13, ST(BPF_DW, 1, 8, 0x10), MOV(3, 3),
	     ATOM(BPF_DW, BPF_OR, 1, 3, 8), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_or_w", 0x10, ST(BPF_W, 1, 8, 0x10), MOV(3, 3),
	     ATOM(BPF_W, BPF_OR | BPF_FETCH, 1, 3, 8), A64X(BPF_MOV, 0, 3), EXIT()),
	CASE("atomic_and_w", 0x2, ST(BPF_W, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_W, BPF_AND, 1, 3, 8), LDX(BPF_W, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_and_dw", 0x12 * 1000 + 2, ST(BPF_DW, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_DW, BPF_AND | BPF_FETCH, 1, 3, 8), LDX(BPF_DW, 0, 1, 8),
	     A64K(BPF_MUL, 3, 1000), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_xor_dw", 0x11, ST(BPF_DW, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_DW, BPF_XOR, 1, 3, 8), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_xor_w", 0x12 * 1000 + 0x11, ST(BPF_W, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_W, BPF_XOR | BPF_FETCH, 1, 3, 8), LDX(BPF_W, 0, 1, 8),
	     A64K(BPF_MUL, 3, 1000), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_or_w", 0x13, ST(BPF_W, 1, 8, 0x10), MOV(3, 3),
	     ATOM(BPF_W, BPF_OR, 1, 3, 8), LDX(BPF_W, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_or_dw", 0x10 * 1000 + 0x13, ST(BPF_DW, 1, 8, 0x10), MOV(3, 3),
	     ATOM(BPF_DW, BPF_OR | BPF_FETCH, 1, 3, 8), LDX(BPF_DW, 0, 1, 8),
	     A64K(BPF_MUL, 3, 1000), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_and_dw", 0x2, ST(BPF_DW, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_DW, BPF_AND, 1, 3, 8), LDX(BPF_DW, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_and_w", 0x12 * 1000 + 2, ST(BPF_W, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_W, BPF_AND | BPF_FETCH, 1, 3, 8), LDX(BPF_W, 0, 1, 8),
	     A64K(BPF_MUL, 3, 1000), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_xor_w", 0x11, ST(BPF_W, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_W, BPF_XOR, 1, 3, 8), LDX(BPF_W, 0, 1, 8), EXIT()),
	CASE("atomic_fetch_xor_dw", 0x12 * 1000 + 0x11, ST(BPF_DW, 1, 8, 0x12), MOV(3, 3),
	     ATOM(BPF_DW, BPF_XOR | BPF_FETCH, 1, 3, 8), LDX(BPF_DW, 0, 1, 8),
	     A64K(BPF_MUL, 3, 1000), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_xchg_dw", 709, ST(BPF_DW, 1, 8, 7), MOV(3, 9),
	     ATOM(BPF_DW, BPF_XCHG, 1, 3, 8), LDX(BPF_DW, 0, 1, 8),
	     A64K(BPF_MUL, 3, 100), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_xchg_w", 709, ST(BPF_W, 1, 8, 7), MOV(3, 9),
	     ATOM(BPF_W, BPF_XCHG, 1, 3, 8), LDX(BPF_W, 0, 1, 8),
	     A64K(BPF_MUL, 3, 100), A64X(BPF_ADD, 0, 3), EXIT()),
	CASE("atomic_cmpxchg_dw_hit", 709, ST(BPF_DW, 1, 8, 7), MOV(0, 7), MOV(3, 9),
	     ATOM(BPF_DW, BPF_CMPXCHG, 1, 3, 8), LDX(BPF_DW, 4, 1, 8),
	     A64K(BPF_MUL, 0, 100), A64X(BPF_ADD, 0, 4), EXIT()),
	CASE("atomic_cmpxchg_dw_miss", 707, ST(BPF_DW, 1, 8, 7), MOV(0, 6), MOV(3, 9),
	     ATOM(BPF_DW, BPF_CMPXCHG, 1, 3, 8), LDX(BPF_DW, 4, 1, 8),
	     A64K(BPF_MUL, 0, 100), A64X(BPF_ADD, 0, 4), EXIT()),
	CASE("atomic_cmpxchg_w_zext", 0xffffffff * 10ull + 1, ST(BPF_W, 1, 8, -1),
	     A32K(BPF_MOV, 0, -1), MOV(3, 1), ATOM(BPF_W, BPF_CMPXCHG, 1, 3, 8),
	     LDX(BPF_W, 4, 1, 8), A64K(BPF_MUL, 0, 10), A64X(BPF_ADD, 0, 4), EXIT()),
};

static uint64_t run(struct __test_metadata *_metadata, const struct isa_case *c)
{
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .name = c->name);
	struct ftramp_bpf_error e = { 0 };
	uint8_t data[16];
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = data16,
		    .data_size_in = sizeof(data16), .data_out = data,
		    .data_size_out = sizeof(data));
	struct ftramp_bpf_program *p;

	lo.err = &e;
	p = ftramp_bpf_prog__load(c->insns, c->n, &lo);
	if (!p) {
		fprintf(stderr, "# %s: %s\n", c->name, e.msg);
		return 0xdeadbeef;
	}
	EXPECT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	EXPECT_EQ(16, o.data_size_out);
	ftramp_bpf_prog__free(p);
	return o.retval;
}

TEST(corpus)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t r = run(_metadata, &cases[i]);

		if (r != cases[i].expect) {
			fprintf(stderr, "# %s: got %#llx, expected %#llx\n",
				cases[i].name, (unsigned long long)r,
				(unsigned long long)cases[i].expect);
			bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

/* Every RFC 9669 opcode (with the offsets that select sdiv/smod/movsx). */
TEST(corpus_covers_every_opcode)
{
	static const uint8_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV,
		BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV,
		BPF_ARSH };
	static const uint8_t jmp_ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET,
		BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT,
		BPF_JSLE };
	static const int atomics[] = { BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
		BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH,
		BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG };
	/* seen[code][off-variant] */
	static bool seen[256][4], seen_end[3][3];
	int missing = 0;

/* ALU only: off 1 selects sdiv/smod, 8/16/32 the movsx widths */
#define VARIANT(in) (BPF_CLASS((in)->code) != BPF_ALU &&		\
		     BPF_CLASS((in)->code) != BPF_ALU64 ? 0 :		\
		     (in)->off == 1 || (in)->off == 8 ? 1 :		\
		     (in)->off == 16 ? 2 : (in)->off == 32 ? 3 : 0)
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t k = 0; k < cases[i].n; k++) {
			const insn_t *in = &cases[i].insns[k];
			uint8_t cls = BPF_CLASS(in->code);

			if ((cls == BPF_ALU || cls == BPF_ALU64) &&
			    BPF_OP(in->code) == BPF_END) {
				int w = in->imm == 16 ? 0 : in->imm == 32 ? 1 : 2;
				int v = cls == BPF_ALU64 ? 2 :
					BPF_SRC(in->code) == BPF_TO_BE;

				seen_end[v][w] = true;
			} else if (cls != BPF_STX || BPF_MODE(in->code) != BPF_ATOMIC) {
				seen[in->code][VARIANT(in)] = true;
			}
			if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
				k++;
		}
	}
#define NEED(code, v) do {						\
		if (!seen[code][v]) {					\
			fprintf(stderr, "# missing opcode %#x variant %d\n", \
				(unsigned)(code), v);			\
			missing++;					\
		}							\
	} while (0)
	for (size_t i = 0; i < sizeof(alu_ops); i++) {
		for (int src = 0; src <= BPF_X; src += BPF_X) {
			NEED(BPF_ALU64 | alu_ops[i] | src, 0);
			NEED(BPF_ALU | alu_ops[i] | src, 0);
		}
	}
	NEED(BPF_ALU64 | BPF_NEG, 0);
	NEED(BPF_ALU | BPF_NEG, 0);
	for (int src = 0; src <= BPF_X; src += BPF_X) {
		NEED(BPF_ALU64 | BPF_DIV | src, 1);	/* sdiv */
		NEED(BPF_ALU64 | BPF_MOD | src, 1);	/* smod */
		NEED(BPF_ALU | BPF_DIV | src, 1);
		NEED(BPF_ALU | BPF_MOD | src, 1);
	}
	NEED(BPF_ALU64 | BPF_MOV | BPF_X, 1);	/* movsx 8 */
	NEED(BPF_ALU64 | BPF_MOV | BPF_X, 2);	/* 16 */
	NEED(BPF_ALU64 | BPF_MOV | BPF_X, 3);	/* 32 */
	NEED(BPF_ALU | BPF_MOV | BPF_X, 1);
	NEED(BPF_ALU | BPF_MOV | BPF_X, 2);
	for (size_t i = 0; i < sizeof(jmp_ops); i++) {
		for (int src = 0; src <= BPF_X; src += BPF_X) {
			NEED(BPF_JMP | jmp_ops[i] | src, 0);
			NEED(BPF_JMP32 | jmp_ops[i] | src, 0);
		}
	}
	NEED(BPF_JMP | BPF_JA, 0);
	NEED(BPF_JMP32 | BPF_JA, 0);
	NEED(BPF_JMP | BPF_CALL, 0);
	NEED(BPF_JMP | BPF_EXIT, 0);
	NEED(BPF_LD | BPF_IMM | BPF_DW, 0);
	for (int sz = 0; sz <= BPF_DW; sz += BPF_H) {
		NEED(BPF_LDX | BPF_MEM | sz, 0);
		NEED(BPF_ST | BPF_MEM | sz, 0);
		NEED(BPF_STX | BPF_MEM | sz, 0);
		if (sz != BPF_DW)
			NEED(BPF_LDX | BPF_MEMSX | sz, 0);
	}
	for (int v = 0; v < 3; v++)
		for (int w = 0; w < 3; w++)
			if (!seen_end[v][w]) {
				fprintf(stderr, "# missing end/bswap %d/%d\n", v, w);
				missing++;
			}
	EXPECT_EQ(0, missing);
	/* atomics: every op in both sizes */
	missing = 0;
	for (int dw = 0; dw < 2; dw++) {
		for (size_t i = 0; i < sizeof(atomics) / sizeof(atomics[0]); i++) {
			bool found = false;

			for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
				for (size_t k = 0; k < cases[c].n; k++) {
					const insn_t *in = &cases[c].insns[k];

					if (BPF_CLASS(in->code) == BPF_STX &&
					    BPF_MODE(in->code) == BPF_ATOMIC &&
					    (BPF_SIZE(in->code) == BPF_DW) == dw &&
					    in->imm == atomics[i])
						found = true;
				}
			if (!found) {
				fprintf(stderr, "# missing atomic %#x %s\n",
					atomics[i], dw ? "dw" : "w");
				missing++;
			}
		}
	}
	EXPECT_EQ(0, missing);
}

/* ------------------------------------------------------------------------
 * Refused at load: one rule each, with the instruction named
 */

struct refusal {
	const char *name;
	const insn_t *insns;
	size_t n;
	int code;
	const char *msg;
	int type;
};

#define REFUSE(nm, cd, m, ...) { nm, (const insn_t[]){ __VA_ARGS__ },	\
	sizeof((const insn_t[]){ __VA_ARGS__ }) / sizeof(insn_t), cd, m, 0 }

static const struct refusal refusals[] = {
	REFUSE("bad_opcode", FTRAMP_BPF_E_INSN, "insn 1: bad ALU opcode 0xe7",
	       MOV(0, 0), I(0xe7, 0, 0, 0, 0), EXIT()),
	REFUSE("register_11", FTRAMP_BPF_E_INSN, "insn 0: register r11",
	       MOV(11, 0), EXIT()),
	REFUSE("write_r10", FTRAMP_BPF_E_INSN, "insn 0: r10 is read-only",
	       MOV(10, 0), EXIT()),
	REFUSE("jump_out", FTRAMP_BPF_E_INSN, "insn 0: jump to insn 5",
	       JA(4), EXIT()),
	REFUSE("jump_into_ld_imm64", FTRAMP_BPF_E_INSN, "insn 0: jump to insn 2",
	       JA(1), LD64(0, 1), EXIT()),
	REFUSE("unknown_helper", FTRAMP_BPF_E_HELPER, "insn 0: unknown helper 9999",
	       CALL(9999), EXIT()),
	REFUSE("ctx_helper_in_raw", FTRAMP_BPF_E_HELPER, "insn 0: helper 185",
	       CALL(BPF_FUNC_get_func_arg_cnt), EXIT()),
	REFUSE("kfunc", FTRAMP_BPF_E_CALL, "insn 0: kfunc",
	       I(BPF_JMP | BPF_CALL, 0, 2, 0, 1), EXIT()),
	REFUSE("call_out", FTRAMP_BPF_E_CALL, "insn 0: call to insn 11",
	       CALLREL(10), EXIT()),
	REFUSE("half_ld_imm64", FTRAMP_BPF_E_INSN, "the last instruction",
	       MOV(0, 0), I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 0)),
	REFUSE("falls_off", FTRAMP_BPF_E_INSN, "run off the end", MOV(0, 0)),
	REFUSE("map_index", FTRAMP_BPF_E_INSN, "insn 0: map 3 of 0",
	       I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 3),
	       I(0, 0, 0, 0, 0), EXIT()),
	REFUSE("movsx_offset", FTRAMP_BPF_E_INSN, "insn 0: movsx offset 32",
	       MOVSX32(0, 1, 32), EXIT()),
	REFUSE("legacy_ld_abs", FTRAMP_BPF_E_INSN, "insn 0: legacy packet load",
	       I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0), EXIT()),
	REFUSE("bad_atomic", FTRAMP_BPF_E_INSN, "insn 0: atomic op 0x10",
	       ATOM(BPF_DW, 0x10, 1, 3, 0), EXIT()),
	REFUSE("ldsx_dw", FTRAMP_BPF_E_INSN, "insn 0: bad load",
	       LDSX(BPF_DW, 0, 1, 0), EXIT()),
};

TEST(load_refusals)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct ftramp_bpf_error e = { 0 };
		FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .err = &e);
		struct ftramp_bpf_program *p;

		errno = 0;
		p = ftramp_bpf_prog__load(r->insns, r->n, &lo);
		EXPECT_EQ(NULL, p);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(r->code, e.code);
		if (!strstr(e.msg, r->msg)) {
			fprintf(stderr, "# %s: '%s' lacks '%s'\n", r->name, e.msg,
				r->msg);
			EXPECT_TRUE(false);
		}
		ftramp_bpf_prog__free(p);
	}
	{
		FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo,
			    .engine = FTRAMP_BPF_ENGINE_JIT);
		insn_t ok[] = { MOV(0, 0), EXIT() };

		EXPECT_EQ(NULL, ftramp_bpf_prog__load(ok, 2, &lo));
		EXPECT_EQ(EOPNOTSUPP, errno);
	}
}

/* ld_imm64 map references: PSEUDO_MAP_FD for a helper, MAP_VALUE direct. */
TEST(map_references)
{
	struct ftramp_bpf_map *arr = ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY,
							    "arr", 4, 16, 2, NULL);
	struct ftramp_bpf_map *h = ftramp_bpf_map__create(BPF_MAP_TYPE_HASH,
							  "h", 4, 8, 8, NULL);
	struct ftramp_bpf_map *maps[] = { arr, h };
	const insn_t insns[] = {
		/* arr's value 0 at offset 8 = 42 (direct value) */
		I(BPF_LD | BPF_IMM | BPF_DW, 3, BPF_PSEUDO_MAP_VALUE, 0, 0),
		I(0, 0, 0, 0, 8),
		ST(BPF_DW, 3, 0, 42),
		/* h[7] = 99 through the helper */
		ST(BPF_W, 10, -4, 7),
		ST(BPF_DW, 10, -16, 99),
		I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 1),
		I(0, 0, 0, 0, 0),
		A64X(BPF_MOV, 2, 10), A64K(BPF_ADD, 2, -4),
		A64X(BPF_MOV, 3, 10), A64K(BPF_ADD, 3, -16),
		MOV(4, BPF_NOEXIST),
		CALL(BPF_FUNC_map_update_elem),
		EXIT(),
	};
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = maps, .nr_maps = 2);
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o);
	struct ftramp_bpf_program *p;
	uint64_t v[2], hv;
	uint32_t k = 0;

	ASSERT_NE(NULL, arr);
	ASSERT_NE(NULL, h);
	p = ftramp_bpf_prog__load(insns, sizeof(insns) / sizeof(insns[0]), &lo);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	EXPECT_EQ(0, o.retval);	/* the update's */
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(arr, &k, 4, v, 16, 0));
	EXPECT_EQ(0, v[0]);
	EXPECT_EQ(42, v[1]);
	k = 7;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(h, &k, 4, &hv, 8, 0));
	EXPECT_EQ(99, hv);
	/* a second run: BPF_NOEXIST now refuses (retval of update unused) */
	ftramp_bpf_prog__free(p);
	ftramp_bpf_map__free(arr);
	ftramp_bpf_map__free(h);
}

TEST(test_run_repeat_and_opts)
{
	const insn_t insns[] = {
		LDX(BPF_DW, 0, 1, 0), A64K(BPF_ADD, 0, 1), STX(BPF_DW, 1, 0, 0),
		EXIT(),
	};
	uint64_t in = 10, out = 0;
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = &in,
		    .data_size_in = 8, .data_out = &out, .data_size_out = 8,
		    .repeat = 5);
	struct ftramp_bpf_program *p = ftramp_bpf_prog__load(insns, 4, NULL);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	/* as the kernel: data_in copied once, the runs share the copy */
	EXPECT_EQ(15, o.retval);
	EXPECT_EQ(15, out);
	EXPECT_EQ(10, in);
	o.ctx_in = &in;
	o.ctx_size_in = 8;
	EXPECT_EQ(-EINVAL, ftramp_bpf_prog__test_run(p, &o));
	ftramp_bpf_prog__free(p);
}

TEST_HARNESS_MAIN
