// SPDX-License-Identifier: MIT
/*
 * One BPF instruction as text, in the syntax of the kernel's
 * kernel/bpf/disasm.c (print_bpf_insn(), what the verifier log and
 * `bpftool prog dump xlated` print): "r1 = *(u64 *)(r1 +8)",
 * "if r2 > 0x3 goto pc+4", "call map_lookup_elem#1".  Pure.
 */
#include <stdio.h>

#include "bpf/bpf.h"

#ifndef BPF_MEMSX
#define BPF_MEMSX	0x80
#endif

static const char *const alu_ops[16] = {
	[BPF_ADD >> 4] = "+=",	[BPF_SUB >> 4] = "-=",
	[BPF_MUL >> 4] = "*=",	[BPF_DIV >> 4] = "/=",
	[BPF_OR >> 4] = "|=",	[BPF_AND >> 4] = "&=",
	[BPF_LSH >> 4] = "<<=",	[BPF_RSH >> 4] = ">>=",
	[BPF_NEG >> 4] = "neg",	[BPF_MOD >> 4] = "%=",
	[BPF_XOR >> 4] = "^=",	[BPF_MOV >> 4] = "=",
	[BPF_ARSH >> 4] = "s>>=", [BPF_END >> 4] = "endian",
};

static const char *const jmp_ops[16] = {
	[BPF_JEQ >> 4] = "==",	[BPF_JGT >> 4] = ">",
	[BPF_JGE >> 4] = ">=",	[BPF_JSET >> 4] = "&",
	[BPF_JNE >> 4] = "!=",	[BPF_JSGT >> 4] = "s>",
	[BPF_JSGE >> 4] = "s>=", [BPF_JLT >> 4] = "<",
	[BPF_JLE >> 4] = "<=",	[BPF_JSLT >> 4] = "s<",
	[BPF_JSLE >> 4] = "s<=",
};

static const char *const size_names[4] = {
	[BPF_W >> 3] = "u32", [BPF_H >> 3] = "u16",
	[BPF_B >> 3] = "u8", [BPF_DW >> 3] = "u64",
};

static const char *const ssize_names[4] = {
	[BPF_W >> 3] = "s32", [BPF_H >> 3] = "s16",
	[BPF_B >> 3] = "s8", [BPF_DW >> 3] = "s64",
};

static const char *atomic_op(int32_t imm)
{
	switch (imm & ~BPF_FETCH) {
	case BPF_ADD:	return "add";
	case BPF_AND:	return "and";
	case BPF_OR:	return "or";
	case BPF_XOR:	return "xor";
	}
	return NULL;
}

#define P(...)	snprintf(buf, size, __VA_ARGS__)

static int print_alu(const struct bpf_insn *in, char *buf, size_t size)
{
	char r = BPF_CLASS(in->code) == BPF_ALU64 ? 'r' : 'w';
	uint8_t op = BPF_OP(in->code);
	const char *name = alu_ops[op >> 4];
	bool k = BPF_SRC(in->code) == BPF_K;

	if (!name)
		return P("(%02x) invalid", in->code);
	if (op == BPF_END) {
		const char *how = BPF_CLASS(in->code) == BPF_ALU64 ? "bswap" :
				  k ? "le" : "be";

		return P("(%02x) r%u = %s%d r%u", in->code, in->dst_reg, how,
			 in->imm, in->dst_reg);
	}
	if (op == BPF_NEG)
		return P("(%02x) %c%u = -%c%u", in->code, r, in->dst_reg, r,
			 in->dst_reg);
	if (op == BPF_MOV && !k && in->off)
		return P("(%02x) %c%u = (s%d)%c%u", in->code, r, in->dst_reg,
			 in->off, r, in->src_reg);
	if ((op == BPF_DIV || op == BPF_MOD) && in->off == 1)
		name = op == BPF_DIV ? "s/=" : "s%=";
	if (k)
		return P("(%02x) %c%u %s %d", in->code, r, in->dst_reg, name,
			 in->imm);
	return P("(%02x) %c%u %s %c%u", in->code, r, in->dst_reg, name, r,
		 in->src_reg);
}

static int print_jmp(const struct bpf_insn *in, char *buf, size_t size)
{
	bool j32 = BPF_CLASS(in->code) == BPF_JMP32;
	char r = j32 ? 'w' : 'r';
	uint8_t op = BPF_OP(in->code);

	switch (op) {
	case BPF_JA: {
		/* static branches as LLVM names them (sbranch.c) */
		const char *g = !(in->src_reg & BPF_STATIC_BRANCH_JA) ? "" :
				in->src_reg & BPF_STATIC_BRANCH_NOP ?
				"nop_or_" : "_or_nop";
		bool pre = g[0] == 'n';

		if (j32)
			return P("(%02x) %sgotol%s pc%+d", in->code,
				 pre ? g : "", pre ? "" : g, in->imm);
		return P("(%02x) %sgoto%s pc%+d", in->code, pre ? g : "",
			 pre ? "" : g, in->off);
	}
	case BPF_EXIT:
		return P("(%02x) exit", in->code);
	case BPF_CALL:
		if (in->src_reg == BPF_PSEUDO_CALL)
			return P("(%02x) call pc%+d", in->code, in->imm);
		return P("(%02x) call %s#%d", in->code,
			 bpf_helper_name(in->imm), in->imm);
	case BPF_JCOND:
		return P("(%02x) may_goto pc%+d", in->code, in->off);
	}
	if (!jmp_ops[op >> 4])
		return P("(%02x) invalid", in->code);
	if (BPF_SRC(in->code) == BPF_K)
		return P("(%02x) if %c%u %s 0x%x goto pc%+d", in->code, r,
			 in->dst_reg, jmp_ops[op >> 4], (uint32_t)in->imm,
			 in->off);
	return P("(%02x) if %c%u %s %c%u goto pc%+d", in->code, r,
		 in->dst_reg, jmp_ops[op >> 4], r, in->src_reg, in->off);
}

static int print_atomic(const struct bpf_insn *in, char *buf, size_t size)
{
	const char *sz = size_names[BPF_SIZE(in->code) >> 3];
	const char *op = atomic_op(in->imm);
	char r = BPF_SIZE(in->code) == BPF_DW ? 'r' : 'w';

	if (in->imm == BPF_CMPXCHG)
		return P("(%02x) r0 = atomic%s_cmpxchg((%s *)(r%u %+d), r0, "
			 "%c%u)", in->code, r == 'r' ? "64" : "", sz,
			 in->dst_reg, in->off, r, in->src_reg);
	if (in->imm == BPF_XCHG)
		return P("(%02x) %c%u = atomic%s_xchg((%s *)(r%u %+d), %c%u)",
			 in->code, r, in->src_reg, r == 'r' ? "64" : "", sz,
			 in->dst_reg, in->off, r, in->src_reg);
	if (!op)
		return P("(%02x) invalid atomic %#x", in->code, in->imm);
	if (in->imm & BPF_FETCH)
		return P("(%02x) %c%u = atomic%s_fetch_%s((%s *)(r%u %+d), "
			 "%c%u)", in->code, r, in->src_reg,
			 r == 'r' ? "64" : "", op, sz, in->dst_reg, in->off, r,
			 in->src_reg);
	return P("(%02x) lock *(%s *)(r%u %+d) %s= %c%u", in->code, sz,
		 in->dst_reg, in->off,
		 op[0] == 'a' && op[1] == 'd' ? "+" : op[0] == 'a' ? "&" :
		 op[0] == 'o' ? "|" : "^", r, in->src_reg);
}

int bpf_insn_str(const struct bpf_insn *in, size_t left, char *buf,
		 size_t size)
{
	const char *sz = size_names[BPF_SIZE(in->code) >> 3];

	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		return print_alu(in, buf, size);
	case BPF_JMP:
	case BPF_JMP32:
		return print_jmp(in, buf, size);
	case BPF_LDX:
		if (BPF_MODE(in->code) == BPF_MEMSX)
			return P("(%02x) r%u = *(%s *)(r%u %+d)", in->code,
				 in->dst_reg,
				 ssize_names[BPF_SIZE(in->code) >> 3],
				 in->src_reg, in->off);
		return P("(%02x) r%u = *(%s *)(r%u %+d)", in->code, in->dst_reg,
			 sz, in->src_reg, in->off);
	case BPF_ST:
		return P("(%02x) *(%s *)(r%u %+d) = %d", in->code, sz,
			 in->dst_reg, in->off, in->imm);
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC)
			return print_atomic(in, buf, size);
		return P("(%02x) *(%s *)(r%u %+d) = r%u", in->code, sz,
			 in->dst_reg, in->off, in->src_reg);
	case BPF_LD:
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW) || left < 2)
			return P("(%02x) invalid", in->code);
		switch (in->src_reg) {
		case BPF_PSEUDO_MAP_FD:
			return P("(%02x) r%u = map[id:%d] ll", in->code,
				 in->dst_reg, in->imm);
		case BPF_PSEUDO_MAP_VALUE:
			return P("(%02x) r%u = map[id:%d][0]+%d ll", in->code,
				 in->dst_reg, in->imm, in[1].imm);
		case BPF_PSEUDO_FUNC:
			return P("(%02x) r%u = pc%+d ll", in->code,
				 in->dst_reg, in->imm);
		}
		return P("(%02x) r%u = %#llx ll", in->code, in->dst_reg,
			 (unsigned long long)((uint32_t)in[0].imm |
					      (uint64_t)(uint32_t)in[1].imm
					      << 32));
	}
	return P("(%02x) invalid", in->code);
}

void bpf_jit_sym_name(const struct ftramp_bpf_program *p, size_t insn,
		      char *buf, size_t size)
{
	/* a run index (the JIT's functions): named as written */
	if (p->orig_idx)
		insn = p->orig_idx[insn];
	if (insn == p->entry) {
		snprintf(buf, size, "bpf_prog_%s", p->name);
		return;
	}
	for (size_t i = 0; i < p->nr_funcs; i++)
		if (p->funcs[i].insn == insn) {
			snprintf(buf, size, "bpf_prog_%s.%s", p->name,
				 p->funcs[i].name);
			return;
		}
	snprintf(buf, size, "bpf_prog_%s.%zu", p->name, insn);
}
