// SPDX-License-Identifier: MIT
/*
 * What must hold before the interpreter may run a program: every opcode
 * is one of RFC 9669's (cpu v4), every register exists and R10 is never
 * written, every jump and call lands on an instruction of the program
 * (not in the middle of an ld_imm64), every helper is one this runtime
 * has, every map reference names a map.  This is not the verifier (issue
 * 2/3: memory safety, types, bounds): a program that passes may still
 * dereference a bad pointer, as a C handler may.  Pure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/bpf.h"

#define ERR(code, fmt, ...)						\
	bpf_errf(e, code, "%sinsn %zu: " fmt, where, i, ##__VA_ARGS__)

static bool jmp_op_ok(uint8_t op)
{
	switch (op) {
	case BPF_JA: case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET:
	case BPF_JNE: case BPF_JSGT: case BPF_JSGE: case BPF_JLT: case BPF_JLE:
	case BPF_JSLT: case BPF_JSLE: case BPF_CALL: case BPF_EXIT:
	case BPF_JCOND:	/* may_goto: a static branch (sbranch.c) */
		return true;
	}
	return false;
}

/* The ld_imm64 second halves: no jump may land there. */
static bool is_second_half(const struct ftramp_bpf_program *p, size_t t)
{
	return t > 0 && p->insns[t - 1].code == (BPF_LD | BPF_IMM | BPF_DW);
}

int bpf_check(const struct ftramp_bpf_program *p, struct ftramp_bpf_error *e)
{
	char where[BPF_NAME_MAX + 16] = "";
	size_t n = p->n;

	if (p->sec)
		snprintf(where, sizeof(where), "section %s, ", p->sec);
	if (!n || p->entry >= n) {
		size_t i = p->entry;

		return ERR(FTRAMP_BPF_E_INSN, "no instruction to start at");
	}
	{
		size_t i = n - 1;
		uint8_t c = p->insns[i].code;

		if (c != (BPF_JMP | BPF_EXIT) && c != (BPF_JMP | BPF_JA) &&
		    c != (BPF_JMP32 | BPF_JA))
			return ERR(FTRAMP_BPF_E_INSN, "the last instruction "
				   "is not exit or ja: execution would run off "
				   "the end");
		if (bpf_is_static_branch(&p->insns[i]))
			return ERR(FTRAMP_BPF_E_INSN, "the last instruction "
				   "is a static branch: off, it would run off "
				   "the end");
	}
	for (size_t i = 0; i < n; i++) {
		const struct ftramp_bpf_insn *in = &p->insns[i];
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		uint8_t mode = BPF_MODE(in->code), size = BPF_SIZE(in->code);
		int64_t tgt = -1;

		if (in->dst_reg > 10 || in->src_reg > 10)
			return ERR(FTRAMP_BPF_E_INSN, "register r%u/r%u "
				   "does not exist", in->dst_reg, in->src_reg);
		switch (cls) {
		case BPF_ALU:
		case BPF_ALU64:
			if (in->dst_reg == BPF_REG_10)
				return ERR(FTRAMP_BPF_E_INSN, "r10 is read-only");
			switch (op) {
			case BPF_DIV: case BPF_MOD:
				if (in->off != 0 && in->off != 1)
					return ERR(FTRAMP_BPF_E_INSN, "div/mod "
						   "offset %d", in->off);
				break;
			case BPF_MOV:
				if (in->off == 0)
					break;
				if (BPF_SRC(in->code) != BPF_X ||
				    (in->off != 8 && in->off != 16 &&
				     (in->off != 32 || cls == BPF_ALU)))
					return ERR(FTRAMP_BPF_E_INSN, "movsx "
						   "offset %d", in->off);
				break;
			case BPF_NEG:
				if (BPF_SRC(in->code) != BPF_K || in->off)
					return ERR(FTRAMP_BPF_E_INSN, "neg with "
						   "a source");
				break;
			case BPF_END:
				if ((cls == BPF_ALU64 && BPF_SRC(in->code)) ||
				    (in->imm != 16 && in->imm != 32 &&
				     in->imm != 64) || in->off)
					return ERR(FTRAMP_BPF_E_INSN, "byte swap "
						   "of %d bits", in->imm);
				break;
			case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_OR:
			case BPF_AND: case BPF_LSH: case BPF_RSH: case BPF_XOR:
			case BPF_ARSH:
				if (in->off)
					return ERR(FTRAMP_BPF_E_INSN, "offset %d "
						   "on an ALU op", in->off);
				break;
			default:
				return ERR(FTRAMP_BPF_E_INSN, "bad ALU opcode "
					   "%#x", in->code);
			}
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (!jmp_op_ok(op) ||
			    (cls == BPF_JMP32 && (op == BPF_CALL || op == BPF_EXIT ||
						  op == BPF_JCOND)))
				return ERR(FTRAMP_BPF_E_INSN, "bad jump opcode "
					   "%#x", in->code);
			if (op == BPF_EXIT)
				break;
			if (op == BPF_JCOND &&
			    (cls != BPF_JMP || BPF_SRC(in->code) != BPF_K ||
			     in->src_reg != BPF_MAY_GOTO || in->dst_reg ||
			     in->imm))
				return ERR(FTRAMP_BPF_E_INSN, "jcond other than "
					   "may_goto (src_reg %u)", in->src_reg);
			if (op == BPF_JA && in->src_reg &&
			    in->src_reg != BPF_STATIC_BRANCH_JA &&
			    in->src_reg != (BPF_STATIC_BRANCH_JA |
					    BPF_STATIC_BRANCH_NOP))
				return ERR(FTRAMP_BPF_E_INSN, "ja with src_reg "
					   "%u: neither plain nor static",
					   in->src_reg);
			if (op == BPF_CALL) {
				if (in->src_reg == BPF_PSEUDO_CALL) {
					tgt = (int64_t)i + in->imm + 1;
					if (tgt < 0 || tgt >= (int64_t)n ||
					    is_second_half(p, tgt))
						return ERR(FTRAMP_BPF_E_CALL,
							   "call to insn %lld, "
							   "outside the program",
							   (long long)tgt);
					break;
				}
				if (in->src_reg)
					return ERR(FTRAMP_BPF_E_CALL, "kfunc "
						   "calls are not supported");
				if (!bpf_helper_known(in->imm))
					return ERR(FTRAMP_BPF_E_HELPER,
						   "unknown helper %d", in->imm);
				if (p->type == FTRAMP_BPF_PROG_RAW &&
				    bpf_helper_needs_ctx(in->imm))
					return ERR(FTRAMP_BPF_E_HELPER,
						   "helper %d (%s) reads a "
						   "trampoline's ctx: not in a "
						   "raw program", in->imm,
						   bpf_helper_name(in->imm));
				break;
			}
			if (op == BPF_JA && cls == BPF_JMP32)
				tgt = (int64_t)i + in->imm + 1;	/* gotol */
			else
				tgt = (int64_t)i + in->off + 1;
			if (tgt < 0 || tgt >= (int64_t)n || is_second_half(p, tgt))
				return ERR(FTRAMP_BPF_E_INSN, "jump to insn "
					   "%lld, outside the program",
					   (long long)tgt);
			break;
		case BPF_LD:
			if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
				return ERR(FTRAMP_BPF_E_INSN, "legacy packet "
					   "load %#x", in->code);
			if (i + 1 >= n || in[1].code || in[1].dst_reg ||
			    in[1].src_reg || in[1].off)
				return ERR(FTRAMP_BPF_E_INSN, "ld_imm64 without "
					   "its second half");
			if (in->dst_reg == BPF_REG_10)
				return ERR(FTRAMP_BPF_E_INSN, "r10 is read-only");
			switch (in->src_reg) {
			case 0:
				break;
			case BPF_PSEUDO_MAP_FD:
			case BPF_PSEUDO_MAP_VALUE:
				if ((uint32_t)in->imm >= p->nr_maps)
					return ERR(FTRAMP_BPF_E_INSN, "map %u of "
						   "%zu", in->imm, p->nr_maps);
				if (in->src_reg == BPF_PSEUDO_MAP_VALUE) {
					const struct ftramp_bpf_map *m =
						p->maps[in->imm];

					if (m->type != BPF_MAP_TYPE_ARRAY ||
					    (uint32_t)in[1].imm >= m->value_size)
						return ERR(FTRAMP_BPF_E_INSN,
							   "direct value %u of "
							   "map %s", in[1].imm,
							   m->name);
				}
				break;
			case BPF_PSEUDO_FUNC:
				tgt = (int64_t)i + in->imm + 1;
				if (tgt < 0 || tgt >= (int64_t)n ||
				    is_second_half(p, tgt))
					return ERR(FTRAMP_BPF_E_CALL, "callback "
						   "at insn %lld, outside the "
						   "program", (long long)tgt);
				break;
			default:
				return ERR(FTRAMP_BPF_E_INSN, "ld_imm64 kind %u",
					   in->src_reg);
			}
			i++;
			break;
		case BPF_LDX:
			if ((mode != BPF_MEM && mode != BPF_MEMSX) ||
			    (mode == BPF_MEMSX && size == BPF_DW))
				return ERR(FTRAMP_BPF_E_INSN, "bad load %#x",
					   in->code);
			if (in->dst_reg == BPF_REG_10)
				return ERR(FTRAMP_BPF_E_INSN, "r10 is read-only");
			break;
		case BPF_ST:
			if (mode != BPF_MEM)
				return ERR(FTRAMP_BPF_E_INSN, "bad store %#x",
					   in->code);
			break;
		case BPF_STX:
			if (mode == BPF_MEM)
				break;
			if (mode != BPF_ATOMIC || (size != BPF_W && size != BPF_DW))
				return ERR(FTRAMP_BPF_E_INSN, "bad store %#x",
					   in->code);
			switch (in->imm) {
			case BPF_ADD: case BPF_OR: case BPF_AND: case BPF_XOR:
			case BPF_ADD | BPF_FETCH: case BPF_OR | BPF_FETCH:
			case BPF_AND | BPF_FETCH: case BPF_XOR | BPF_FETCH:
			case BPF_XCHG: case BPF_CMPXCHG:
				break;
			default:
				return ERR(FTRAMP_BPF_E_INSN, "atomic op %#x",
					   in->imm);
			}
			break;
		}
	}
	return 0;
}
