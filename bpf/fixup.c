// SPDX-License-Identifier: MIT
/*
 * The rewrite pass after the verifier: the kernel's do_misc_fixups() and
 * the ld_imm64 conversion of its resolve_pseudo_ldimm64(), for this
 * runtime.  Input: the instructions the user wrote (p->insns), proven
 * safe; output: the run form (p->run) that the interpreter and the JIT
 * execute, with p->orig_idx naming, for every run instruction, the
 * user's instruction it came from.
 *
 * The argument.  A rewrite replaces one call by a sequence that computes
 * the same R0 and the same memory effects as the helper, for every input
 * the verifier lets reach it:
 *
 *  - get_func_arg / get_func_ret / get_func_arg_cnt (and get_func_ip,
 *    get_attach_cookie): the verifier proved R1 is the ctx pointer at
 *    offset 0, so ctx[-1] is the run context the trampoline, a thunk or
 *    a test run stored there, the very word trampoline/helpers.c reads;
 *    the sequences read the same fields and take the same branches
 *    (ftramp_get_func_arg(): n as u32 against nr_args, -EINVAL and *v
 *    untouched past it; ftramp_get_func_ret(): -ENODATA when unwound,
 *    -EOPNOTSUPP in fentry or for a void function).
 *  - map_lookup_elem into an ARRAY: the verifier recorded that R1 held
 *    the same map on every path to the call (verdict call_map); the map
 *    exists before its programs load and its values never move
 *    (bpf/map.c), so the value area's address and stride are constants,
 *    and the sequence is bpf_map_lookup()'s: u32 index, NULL when
 *    index >= max_entries, else values + index * stride.  PERCPU_ARRAY
 *    is not inlined (the CPU is a call, as in the kernel without
 *    per-CPU addressing).  No index mask: the kernel's masks against
 *    speculation across a privilege boundary, which a program running
 *    in its own process does not cross.
 *  - A sequence writes R0 and, among R1-R5, only registers the call
 *    scratches anyway (the verifier makes R1-R5 unreadable after any
 *    call), and keeps R6-R10 and the stack.
 *  - An inlined lookup sets R1 (the value area) before reading it, so
 *    an ld_imm64 into R1 right before the call (clang's `r1 = map ll`)
 *    has no reader left and goes with it: what jumped to it lands on
 *    the sequence.
 *
 * Inlining is for the JIT (inline_for(): the interpreter runs the calls,
 * which cost it less than the sequences).  Every patch is recorded,
 * then bpf_patch_apply() applies them together
 * in one pass (bpf/patch.c: jumps, bpf-to-bpf calls, callback addresses
 * and the entry re-aimed).  A conditional jump that the growth would put
 * beyond 16 bits cannot be re-aimed: then the program runs un-inlined,
 * which is always possible (the offsets are the user's).
 *
 * No PROBE_MEM marks: no load the verifier accepts can fault
 * (Documentation/bpf.rst, "Rewriting after the verifier").
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/trampoline.h"
#include "bpf/fixup.h"
#include "bpf/patch.h"

unsigned int bpf_fixup_test_flags;

/* ------------------------------------------------------------------------
 * Sequences: instructions and labels, branches resolved at the end
 */

#define SEQ_MAX		16	/* instructions of the longest sequence */
#define SEQ_LABELS	4

struct seq {
	struct ftramp_bpf_insn *in;	/* SEQ_MAX slots */
	uint32_t n;
	int label[SEQ_LABELS];		/* where each label is bound */
	struct { uint32_t at; int label; } fix[SEQ_MAX];
	int nfix;
};

static struct ftramp_bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
				   int16_t off, int32_t imm)
{
	return (struct ftramp_bpf_insn){ .code = code, .dst_reg = dst,
					 .src_reg = src, .off = off,
					 .imm = imm };
}

/* rd = *(size *)(rs + off) */
#define LDX(size, rd, rs, off)	insn(BPF_LDX | BPF_MEM | (size), rd, rs, off, 0)
/* *(size *)(rd + off) = rs */
#define STX(size, rd, rs, off)	insn(BPF_STX | BPF_MEM | (size), rd, rs, off, 0)
/* rd op= imm (64-bit) */
#define ALU64_K(op, rd, imm)	insn(BPF_ALU64 | (op) | BPF_K, rd, 0, 0, imm)
/* rd op= rs (64-bit) */
#define ALU64_X(op, rd, rs)	insn(BPF_ALU64 | (op) | BPF_X, rd, rs, 0, 0)
/* wd = ws: the low 32 bits, zero-extended */
#define MOV32_X(rd, rs)		insn(BPF_ALU | BPF_MOV | BPF_X, rd, rs, 0, 0)
/* if rd op imm goto label (64-bit), if wd op imm (32-bit) */
#define JMP_K(op, rd, imm)	insn(BPF_JMP | (op) | BPF_K, rd, 0, 0, imm)
#define JMP32_K(op, rd, imm)	insn(BPF_JMP32 | (op) | BPF_K, rd, 0, 0, imm)
/* if wd op ws goto label */
#define JMP32_X(op, rd, rs)	insn(BPF_JMP32 | (op) | BPF_X, rd, rs, 0, 0)
/* goto label */
#define JA()			insn(BPF_JMP | BPF_JA, 0, 0, 0, 0)

static void seq_init(struct seq *s, struct ftramp_bpf_insn *buf)
{
	memset(s, 0, sizeof(*s));
	s->in = buf;
	for (int l = 0; l < SEQ_LABELS; l++)
		s->label[l] = -1;
}

static void emit(struct seq *s, struct ftramp_bpf_insn in)
{
	s->in[s->n++] = in;
}

/* A branch to @label, bound before or after. */
static void emit_jmp(struct seq *s, struct ftramp_bpf_insn in, int label)
{
	s->fix[s->nfix].at = s->n;
	s->fix[s->nfix++].label = label;
	emit(s, in);
}

static void bind(struct seq *s, int label)
{
	s->label[label] = s->n;
}

/* ld_imm64 rd, v (two instructions) */
static void emit_ld64(struct seq *s, uint8_t rd, uint64_t v)
{
	emit(s, insn(BPF_LD | BPF_IMM | BPF_DW, rd, 0, 0, (int32_t)v));
	emit(s, insn(0, 0, 0, 0, (int32_t)(v >> 32)));
}

/* The sequence's length, its branches aimed (a label may be its end). */
static uint32_t seq_end(struct seq *s)
{
	for (int f = 0; f < s->nfix; f++)
		s->in[s->fix[f].at].off = s->label[s->fix[f].label] -
					  (int)s->fix[f].at - 1;
	return s->n;
}

/* ------------------------------------------------------------------------
 * The inlined helpers
 */

/* The run context's fields, as trampoline/helpers.c reads them. */
enum {
	RCTX_OFF	= -8,	/* ctx[-1]: struct ftramp_run_ctx * */
	RCTX_IP		= offsetof(struct ftramp_run_ctx, func_ip),
	RCTX_COOKIE	= offsetof(struct ftramp_run_ctx, cookie),
	RCTX_NR_ARGS	= offsetof(struct ftramp_run_ctx, nr_args),
	RCTX_NR_RET	= offsetof(struct ftramp_run_ctx, nr_ret),
	RCTX_KIND	= offsetof(struct ftramp_run_ctx, kind),
};

_Static_assert(sizeof(((struct ftramp_run_ctx *)0)->nr_args) == 2 &&
	       sizeof(((struct ftramp_run_ctx *)0)->nr_ret) == 1 &&
	       sizeof(((struct ftramp_run_ctx *)0)->kind) == 1,
	       "the loads below have these sizes");

/* L_OK: where the common path goes, so that it ends falling through */
enum { L_ERR, L_ERR2, L_OUT, L_OK };

/* r0 = run ctx field @off (8 bytes: ip, cookie; 2: nr_args) */
static void gen_rctx_field(struct seq *s, int off, uint8_t size)
{
	emit(s, LDX(BPF_DW, BPF_REG_0, BPF_REG_1, RCTX_OFF));
	emit(s, LDX(size, BPF_REG_0, BPF_REG_0, off));
}

/* *(u64 *)rv = ctx[ri] (ri a slot number, clobbered); r0 = 0 */
static void gen_slot_out(struct seq *s, uint8_t ri, uint8_t rv, uint8_t tmp)
{
	emit(s, ALU64_K(BPF_LSH, ri, 3));
	emit(s, ALU64_X(BPF_ADD, ri, BPF_REG_1));
	emit(s, LDX(BPF_DW, tmp, ri, 0));
	emit(s, STX(BPF_DW, rv, tmp, 0));
	emit(s, ALU64_K(BPF_MOV, BPF_REG_0, 0));
}

/*
 * ftramp_get_func_arg(ctx = r1, n = (u32)r2, v = r3); the -EINVAL path
 * out of line, so that n in range takes one branch and falls out.
 */
static void gen_func_arg(struct seq *s)
{
	gen_rctx_field(s, RCTX_NR_ARGS, BPF_H);
	emit_jmp(s, JMP32_X(BPF_JLT, BPF_REG_2, BPF_REG_0), L_OK);
	emit(s, ALU64_K(BPF_MOV, BPF_REG_0, -EINVAL));
	emit_jmp(s, JA(), L_OUT);
	bind(s, L_OK);
	emit(s, MOV32_X(BPF_REG_2, BPF_REG_2));
	gen_slot_out(s, BPF_REG_2, BPF_REG_3, BPF_REG_0);
	bind(s, L_OUT);
}

/* ftramp_get_func_ret(ctx = r1, v = r2); r3 the run ctx */
static void gen_func_ret(struct seq *s)
{
	emit(s, LDX(BPF_DW, BPF_REG_3, BPF_REG_1, RCTX_OFF));
	emit(s, LDX(BPF_B, BPF_REG_0, BPF_REG_3, RCTX_KIND));
	emit_jmp(s, JMP_K(BPF_JEQ, BPF_REG_0, FTRAMP_RUN_CTX_UNWOUND), L_ERR2);
	emit_jmp(s, JMP_K(BPF_JEQ, BPF_REG_0, FTRAMP_TRAMP_FENTRY), L_ERR);
	emit(s, LDX(BPF_B, BPF_REG_0, BPF_REG_3, RCTX_NR_RET));
	emit_jmp(s, JMP_K(BPF_JEQ, BPF_REG_0, 0), L_ERR);
	emit(s, LDX(BPF_H, BPF_REG_3, BPF_REG_3, RCTX_NR_ARGS));
	gen_slot_out(s, BPF_REG_3, BPF_REG_2, BPF_REG_3);
	emit_jmp(s, JA(), L_OUT);
	bind(s, L_ERR);
	emit(s, ALU64_K(BPF_MOV, BPF_REG_0, -EOPNOTSUPP));
	emit_jmp(s, JA(), L_OUT);
	bind(s, L_ERR2);
	emit(s, ALU64_K(BPF_MOV, BPF_REG_0, -ENODATA));
	bind(s, L_OUT);
}

/*
 * bpf_map_lookup(map = r1, key = r2) for an ARRAY (the kernel's
 * array_map_gen_lookup()); r1 becomes the value area.  false: not this
 * map (no value area, a stride beyond an immediate).  The NULL path out
 * of line: an index in range takes one branch and falls out.
 */
static bool gen_array_lookup(struct seq *s, const struct ftramp_bpf_map *m,
			     const struct bpf_map_addrs *a)
{
	uint32_t stride = bpf_map_value_stride(m);
	uint64_t values;

	if (m->type != BPF_MAP_TYPE_ARRAY || !stride || stride > INT32_MAX)
		return false;
	values = a->values(m, a->cookie);
	if (!values)
		return false;
	emit_ld64(s, BPF_REG_1, values);
	emit(s, LDX(BPF_W, BPF_REG_0, BPF_REG_2, 0));
	/* JMP32: max_entries compared as the u32 it is */
	emit_jmp(s, JMP32_K(BPF_JLT, BPF_REG_0, (int32_t)m->max_entries),
		 L_OK);
	emit(s, ALU64_K(BPF_MOV, BPF_REG_0, 0));
	emit_jmp(s, JA(), L_OUT);
	bind(s, L_OK);
	if (!(stride & (stride - 1)))
		emit(s, ALU64_K(BPF_LSH, BPF_REG_0, __builtin_ctz(stride)));
	else
		emit(s, ALU64_K(BPF_MUL, BPF_REG_0, (int32_t)stride));
	emit(s, ALU64_X(BPF_ADD, BPF_REG_0, BPF_REG_1));
	bind(s, L_OUT);
	return true;
}

/* The sequence for the call at @i, or 0: it stays a call. */
static uint32_t gen_call(const struct ftramp_bpf_program *p,
			 const struct bpf_verdict *vd,
			 const struct bpf_map_addrs *a, size_t i,
			 struct ftramp_bpf_insn *buf)
{
	const struct ftramp_bpf_insn *in = &p->insns[i];
	const struct ftramp_bpf_map *m;
	struct seq s;

	if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg)
		return 0;
	seq_init(&s, buf);
	switch (in->imm) {
	case BPF_FUNC_get_func_arg:
		gen_func_arg(&s);
		break;
	case BPF_FUNC_get_func_ret:
		gen_func_ret(&s);
		break;
	case BPF_FUNC_get_func_arg_cnt:
		gen_rctx_field(&s, RCTX_NR_ARGS, BPF_H);
		break;
	case BPF_FUNC_get_func_ip:
		gen_rctx_field(&s, RCTX_IP, BPF_DW);
		break;
	case BPF_FUNC_get_attach_cookie:
		gen_rctx_field(&s, RCTX_COOKIE, BPF_DW);
		break;
	case BPF_FUNC_map_lookup_elem:
		m = vd && vd->call_map ? vd->call_map[i] : NULL;
		if (!m || m == BPF_MAP_POISON || !gen_array_lookup(&s, m, a))
			return 0;
		break;
	default:
		return 0;
	}
	return seq_end(&s);
}

/* ------------------------------------------------------------------------
 * ld_imm64 references as addresses (the run form of bpf/bpf.h)
 */

static void resolve_ldimm64(struct ftramp_bpf_program *p,
			    const struct bpf_map_addrs *a)
{
	for (size_t i = 0; i + 1 < p->run_n; i++) {
		struct ftramp_bpf_insn *in = &p->run[i];
		const struct ftramp_bpf_map *m;
		uint32_t off = (uint32_t)in[1].imm;
		uint64_t v;

		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		switch (in->src_reg) {
		case BPF_PSEUDO_MAP_FD:
			v = a->map(p->maps[in->imm], a->cookie);
			break;
		case BPF_PSEUDO_MAP_VALUE:	/* bpf/check.c: an ARRAY, off in it */
			m = p->maps[in->imm];
			v = a->values(m, a->cookie);
			v = v ? v + off : 0;
			break;
		case BPF_PSEUDO_FUNC:	/* re-aimed by bpf_patch_apply() */
			v = (uintptr_t)&p->run[i + in->imm + 1];
			break;
		default:
			i++;
			continue;
		}
		in[0].src_reg = 0;
		in[0].imm = (uint32_t)v;
		in[1].imm = (uint32_t)(v >> 32);
		i++;
	}
}

/* ------------------------------------------------------------------------
 * The pass
 */

/*
 * Inline for the JIT only.  The interpreter pays some 25 guest
 * instructions per BPF instruction, more than its helper calls cost:
 * measured per call (make bench, ftramp.f2.bpf_{arg,lookup}_*),
 * get_func_arg's 11 instructions 371 -> 623 in the interpreter against
 * 68 -> 55 JIT'd, an ARRAY lookup's 8 488 -> 549 against 97 -> 54.
 * (The kernel too inlines map lookups only when a JIT is asked for.)
 */
static bool inline_for(int engine)
{
	if (bpf_fixup_test_flags & BPF_FIXUP_NO_INLINE)
		return false;
	return engine == FTRAMP_BPF_ENGINE_JIT ||
	       (bpf_fixup_test_flags & BPF_FIXUP_INLINE_INTERP);
}

int bpf_fixup(struct ftramp_bpf_program *p, const struct bpf_verdict *vd,
	      const struct bpf_map_addrs *addrs, int engine)
{
	struct ftramp_bpf_insn *pool = NULL;
	struct bpf_patch *patches;
	struct bpf_patch_out out;
	size_t np, nd, calls = 0;
	uint32_t entry;
	int err;

	if (inline_for(engine))
		for (size_t i = 0; i < p->n; i++)
			calls += p->insns[i].code == (BPF_JMP | BPF_CALL);
	patches = malloc((p->n ? p->n : 1) * sizeof(*patches));
	if (calls)
		pool = malloc(calls * SEQ_MAX * sizeof(*pool));
	if (!patches || (calls && !pool)) {
		free(pool);
		free(patches);
		return -ENOMEM;
	}
	/*
	 * What the program never reaches goes (vd->live): .text functions
	 * it does not call, the other programs of its section.  No jump of
	 * a live function lands there.
	 */
	np = nd = bpf_patch_removals(p->insns, p->n, vd->live, patches);
	for (size_t i = 0, c = 0, ld = SIZE_MAX; calls && i < p->n; i++) {
		const struct ftramp_bpf_insn *in = &p->insns[i];
		struct ftramp_bpf_insn *buf = &pool[c * SEQ_MAX];
		uint32_t n;

		if (vd->live && !vd->live[i])
			continue;
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			ld = i++;	/* both halves: no call */
			continue;
		}
		n = gen_call(p, vd, addrs, i, buf);
		if (!n)
			continue;
		patches[np++] = (struct bpf_patch){ .idx = i, .n = n,
						    .insns = buf };
		c++;
		/*
		 * `r1 = map ll` just before an inlined lookup is dead: the
		 * sequence sets r1 before it reads it, and the call leaves
		 * r1 unreadable.  A jump to it lands on the sequence.
		 */
		if (in->imm == BPF_FUNC_map_lookup_elem && i >= 2 && ld == i - 2 &&
		    p->insns[ld].dst_reg == BPF_REG_1)
			patches[np++] = (struct bpf_patch){ .idx = ld };
	}
	entry = p->entry;
	err = bpf_patch_apply(p->insns, p->n, NULL, patches, np, &entry, 1,
			      &out);
	if (err == -ERANGE) {	/* a jump outgrown: no inlining */
		entry = p->entry;
		err = bpf_patch_apply(p->insns, p->n, NULL, patches, nd,
				      &entry, 1, &out);
	}
	free(pool);
	free(patches);
	if (err)
		return err;
	p->run = out.insns;
	p->run_n = out.n;
	p->orig_idx = out.orig_idx;
	p->run_entry = entry;
	resolve_ldimm64(p, addrs);
	return 0;
}

void bpf_fixup_free(struct ftramp_bpf_program *p)
{
	free(p->run);
	free(p->orig_idx);
	p->run = NULL;
	p->orig_idx = NULL;
	p->run_n = p->run_entry = 0;
}
