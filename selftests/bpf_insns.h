/* SPDX-License-Identifier: MIT */
/*
 * Raw BPF instructions as brace initializers, one macro per form, for
 * the tables of raw programs in bpf_isa_test.c and verifier_test.c.
 */
#ifndef FTRAMP_SELFTESTS_BPF_INSNS_H
#define FTRAMP_SELFTESTS_BPF_INSNS_H

#include <stdint.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#ifndef BPF_MEMSX
#define BPF_MEMSX	0x80
#endif

typedef struct ftramp_bpf_insn insn_t;

/* a brace initializer: the tests' tables are static arrays of these */
#define I(c, d, s, o, i)	{ .code = (c), .dst_reg = (d), \
				  .src_reg = (s), .off = (o), .imm = (i) }
#define A64K(op, d, k)		I(BPF_ALU64 | (op) | BPF_K, d, 0, 0, k)
#define A64X(op, d, s)		I(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define A32K(op, d, k)		I(BPF_ALU | (op) | BPF_K, d, 0, 0, k)
#define A32X(op, d, s)		I(BPF_ALU | (op) | BPF_X, d, s, 0, 0)
/* sdiv/smod: DIV/MOD with off 1 */
#define S64K(op, d, k)		I(BPF_ALU64 | (op) | BPF_K, d, 0, 1, k)
#define S64X(op, d, s)		I(BPF_ALU64 | (op) | BPF_X, d, s, 1, 0)
#define S32K(op, d, k)		I(BPF_ALU | (op) | BPF_K, d, 0, 1, k)
#define S32X(op, d, s)		I(BPF_ALU | (op) | BPF_X, d, s, 1, 0)
#define MOVSX64(d, s, b)	I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, b, 0)
#define MOVSX32(d, s, b)	I(BPF_ALU | BPF_MOV | BPF_X, d, s, b, 0)
#define MOV(d, k)		A64K(BPF_MOV, d, k)
#define LD64(d, v)		I(BPF_LD | BPF_IMM | BPF_DW, d, 0, 0, \
				  (int32_t)(uint32_t)(uint64_t)(v)), \
				I(0, 0, 0, 0, (int32_t)((uint64_t)(v) >> 32))
#define LDX(sz, d, s, o)	I(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define LDSX(sz, d, s, o)	I(BPF_LDX | BPF_MEMSX | (sz), d, s, o, 0)
#define ST(sz, d, o, k)		I(BPF_ST | BPF_MEM | (sz), d, 0, o, k)
#define STX(sz, d, s, o)	I(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ATOM(sz, op, d, s, o)	I(BPF_STX | BPF_ATOMIC | (sz), d, s, o, op)
#define JK(op, d, k, o)		I(BPF_JMP | (op) | BPF_K, d, 0, o, k)
#define JX(op, d, s, o)		I(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define J32K(op, d, k, o)	I(BPF_JMP32 | (op) | BPF_K, d, 0, o, k)
#define J32X(op, d, s, o)	I(BPF_JMP32 | (op) | BPF_X, d, s, o, 0)
#define JA(o)			I(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define GOTOL(k)		I(BPF_JMP32 | BPF_JA, 0, 0, 0, k)
#define END(to, d, b)		I(BPF_ALU | BPF_END | (to), d, 0, 0, b)
#define BSWAP(d, b)		I(BPF_ALU64 | BPF_END, d, 0, 0, b)
#define CALL(id)		I(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define CALLREL(o)		I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, o)
#define EXIT()			I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif /* FTRAMP_SELFTESTS_BPF_INSNS_H */
