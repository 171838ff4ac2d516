/* SPDX-License-Identifier: MIT */
/*
 * The ISA corpus (RFC 9669, cpu v4): raw programs (R1 = data, R2 = its
 * size, R0 the result) with their expected results worked out by hand.
 * bpf_isa_test runs them in the interpreter, bpf_jit_test in both
 * engines against each other.
 */
#ifndef FTRAMP_SELFTESTS_BPF_ISA_CORPUS_H
#define FTRAMP_SELFTESTS_BPF_ISA_CORPUS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "selftests/bpf_insns.h"

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

#endif /* FTRAMP_SELFTESTS_BPF_ISA_CORPUS_H */
