// SPDX-License-Identifier: MIT
/*
 * ftramp dump: build a trampoline with the real emitter (host build of
 * arch/arm64/trampoline.c) for a function model and a set of programs,
 * then disassemble it with capstone and say what each part of the frame
 * does.
 *
 * The parts of the image (frame, entry, each program, the guard around
 * the original, exit, the out-of-line miss path, the literal pool) are
 * the emitter's own notes (struct ftramp_tramp_note), printed as
 * headings: they cannot drift from the code.  Within a part, single
 * instructions are commented from what we asked for: the programs, the
 * original and the state counters are at addresses we chose, ctx is the
 * operand of the `add x0, sp, #N` that precedes every program call, and
 * the AAPCS64 layout of the model (arch/arm64/abi.c) names the argument
 * in each ctx slot.  An instruction nothing is known about is printed
 * bare.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/abi.h"
#include "cli.h"
#include "trampoline/trampoline.h"

/* Where the dumped function and its programs pretend to live. */
#define DUMP_FUNC	0xaaaaaaaa1000ull	/* a PIE's text */
#define DUMP_PROGS	0xaaaaaaab0000ull	/* programs in that object */
#define DUMP_SLOW	0xaaaaaaabf000ull	/* guard_slow() */
#define DUMP_NONE	0xaaaaaaac0000ull	/* guard_none[] */
#define DUMP_PRUNE	0xaaaaaaabf100ull	/* shadow_prune() */
#define DUMP_FIND	0xaaaaaaabf200ull	/* shadow_find() */
#define DUMP_DROP	0xaaaaaaabf300ull	/* shadow_drop() */
#define DUMP_NEAR	0xaaaaab000000ull	/* a near trampoline: 16 MiB */
#define DUMP_FAR	0xffffb7e00000ull	/* an mmap far from the text */
#define DUMP_TLS_OFF	0x10

void usage_dump(FILE *f)
{
	fprintf(f,
"Usage: ftramp dump [OPTIONS]\n"
"\n"
"Build a trampoline with ftramp's emitter and print its disassembly, each\n"
"instruction commented with its part in the frame.  Nothing is executed:\n"
"the function and program addresses are placeholders.\n"
"\n"
"  -m, --model PROTO   the traced function's C prototype, e.g.\n"
"                      'double (int, const char *, struct { float x, y; })'\n"
"                      (default: the unknown model, every argument register)\n"
"      --fentry N      N fentry programs (default 1 when no count is given)\n"
"      --fexit N       N fexit programs (default 1 when no count is given)\n"
"      --fmod-ret N    N fmod_ret programs\n"
"      --far           trampoline out of BL range of the function and the\n"
"                      programs: calls go through literals\n"
"      --bti           start with `bti c` (for a PROT_BTI page)\n"
"      --lse           ARMv8.1 atomics for the counters\n"
"      --no-guard      no recursion guard and counters\n"
"      --binary FILE   also write the raw image to FILE\n"
"  -h, --help          this text\n");
}

struct dump_opts {
	const char *model_text;
	int nr[FTRAMP_TRAMP_NR_KINDS];
	bool counts_given;
	bool far;
	bool bti;
	bool lse;
	bool no_guard;
	const char *binary;
};

/* What we know about the image, for annotations. */
struct dump_ctx {
	const struct dump_opts *o;
	struct ftramp_func_model model;
	bool have_model;
	struct a64_abi_layout lay;
	struct ftramp_tramp_state state;
	struct ftramp_tramp_link *links[FTRAMP_TRAMP_NR_KINDS];
	struct ftramp_tramp_note notes[4 * FTRAMP_TRAMP_MAX_PROGS + 32];
	struct ftramp_tramp_notes nv;
	unsigned int part;	/* enum ftramp_tramp_part at this insn */
	uint64_t rx, orig;
	size_t size;
	uint64_t data_start;	/* literal pool and run contexts */
	long ctx_off;		/* sp offset of ctx[0], -1: not seen */
	char x16[96];		/* what the last literal load into x16 was */
	char x10[96];		/* what the last literal load into x10 was */
	bool after_fmod;	/* the last call was an fmod_ret program */
	bool after_slow;	/* the last call was guard_slow() */
	bool orig_called;	/* the original was called above */
	const uint8_t *img;
};

/* The u64 at execute address @addr of the image, if it is inside. */
static bool image_u64(const struct dump_ctx *d, uint64_t addr, uint64_t *v)
{
	if (addr < d->rx || addr + 8 > d->rx + d->size)
		return false;
	memcpy(v, d->img + (addr - d->rx), sizeof(*v));
	return true;
}

static const char *const kind_names[FTRAMP_TRAMP_NR_KINDS] = {
	[FTRAMP_TRAMP_FENTRY]		= "fentry",
	[FTRAMP_TRAMP_MODIFY_RETURN]	= "fmod_ret",
	[FTRAMP_TRAMP_FEXIT]		= "fexit",
};

/* Placeholder program i of a kind: distinct, 4-byte aligned addresses. */
static uint64_t prog_addr(unsigned int kind, unsigned int i)
{
	return DUMP_PROGS + kind * 0x1000 + i * 0x40;
}

/* Describe a value that the code loads or calls. */
static bool name_value(const struct dump_ctx *d, uint64_t v, char *buf,
		       size_t size)
{
	unsigned int k, i;

	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		for (i = 0; i < (unsigned int)d->o->nr[k]; i++)
			if (v == prog_addr(k, i)) {
				snprintf(buf, size, "%s program #%u (cookie %u)",
					 kind_names[k], i, 100 * k + i + 1);
				return true;
			}
	if (v == d->orig) {
		snprintf(buf, size, "the original: the function body, func+8");
		return true;
	}
	if (v == (uint64_t)(uintptr_t)&d->state.inflight) {
		snprintf(buf, size, "&state.inflight");
		return true;
	}
	if (v == (uint64_t)(uintptr_t)&d->state.misses) {
		snprintf(buf, size, "&state.misses");
		return true;
	}
	if (v == DUMP_SLOW) {
		snprintf(buf, size, "guard_slow(): this thread's guard table");
		return true;
	}
	if (v == DUMP_NONE) {
		snprintf(buf, size, "guard_none: the table of a thread without one");
		return true;
	}
	if (v == DUMP_PRUNE) {
		snprintf(buf, size, "shadow_prune(): release dead shadow records");
		return true;
	}
	if (v == DUMP_FIND) {
		snprintf(buf, size, "shadow_find(): the stub's shadow record");
		return true;
	}
	if (v == DUMP_DROP) {
		snprintf(buf, size, "shadow_drop(): release records above ours");
		return true;
	}
	return false;
}

static const char *type_desc(const struct ftramp_type *t, char *buf,
			     size_t size)
{
	switch (t->cls) {
	case FTRAMP_TYPE_INT:
		if (t->flags & FTRAMP_TYPE_STRING)
			snprintf(buf, size, "char *");
		else if (t->flags & FTRAMP_TYPE_POINTER)
			snprintf(buf, size, "pointer");
		else
			snprintf(buf, size, "%s%u", t->flags & FTRAMP_TYPE_SIGNED ?
				 "int" : "uint", t->size * 8);
		break;
	case FTRAMP_TYPE_FLOAT:
		snprintf(buf, size, "%s", t->size == 4 ? "float" :
			 t->size == 8 ? "double" : "long double");
		break;
	case FTRAMP_TYPE_HFA:
		snprintf(buf, size, "HFA %u x %s", t->nmemb,
			 t->elem_size == 4 ? "float" :
			 t->elem_size == 8 ? "double" : "long double");
		break;
	case FTRAMP_TYPE_STRUCT:
		snprintf(buf, size, "struct, %u bytes", t->size);
		break;
	default:
		snprintf(buf, size, "void");
	}
	return buf;
}

/* What ctx slot @slot (may be -1) holds. */
static void slot_desc(const struct dump_ctx *d, long slot, char *buf,
		      size_t size)
{
	const struct a64_abi_layout *lay = &d->lay;
	char ty[48];
	unsigned int i;

	if (slot == -1) {
		snprintf(buf, size, "ctx[-1], the run context pointer");
		return;
	}
	if (slot >= lay->nr_arg_slots) {
		long r = slot - lay->nr_arg_slots;

		if (r >= lay->nr_ret_slots) {
			snprintf(buf, size, "sp+%ld", d->ctx_off + 8 * slot);
			return;
		}
		if (lay->unknown)
			snprintf(buf, size, "ctx[%ld]: result (%s)", slot,
				 r ? "d0" : "x0");
		else
			snprintf(buf, size, "ctx[%ld]: result%s (%s)", slot,
				 r ? ", part 2" : "",
				 type_desc(&d->model.ret, ty, sizeof(ty)));
		return;
	}
	if (lay->unknown) {
		snprintf(buf, size, "ctx[%ld]: x%ld", slot, slot);
		return;
	}
	for (i = 0; i < lay->nr_args; i++) {
		const struct a64_arg_loc *l = &lay->args[i];

		if (slot < l->slot || slot >= l->slot + l->nslots)
			continue;
		snprintf(buf, size, "ctx[%ld]: arg %u (%s%s%s)", slot, i,
			 type_desc(&d->model.args[i], ty, sizeof(ty)),
			 l->byref ? ", by reference" : "",
			 l->nslots > 1 && slot > l->slot ? ", part 2+" : "");
		return;
	}
	snprintf(buf, size, "ctx[%ld]", slot);
}

static const cs_arm64_op *op(const cs_insn *insn, int i)
{
	const cs_arm64 *a = &insn->detail->arm64;

	return i < a->op_count ? &a->operands[i] : NULL;
}

/* sp-relative memory operand: its displacement, else -1. */
static long sp_disp(const cs_insn *insn)
{
	const cs_arm64 *a = &insn->detail->arm64;
	int i;

	for (i = 0; i < a->op_count; i++)
		if (a->operands[i].type == ARM64_OP_MEM &&
		    a->operands[i].mem.base == ARM64_REG_SP &&
		    a->operands[i].mem.index == ARM64_REG_INVALID)
			return a->operands[i].mem.disp;
	return -1;
}

static bool is_reg(const cs_arm64_op *o, arm64_reg r)
{
	return o && o->type == ARM64_OP_REG && o->reg == r;
}

/* Base register number of a memory operand, else -1. */
static int mem_base(const cs_insn *insn)
{
	const cs_arm64 *a = &insn->detail->arm64;
	int i;

	for (i = 0; i < a->op_count; i++)
		if (a->operands[i].type == ARM64_OP_MEM)
			return a->operands[i].mem.base - ARM64_REG_X0;
	return -1;
}

/*
 * An atomic add (STADD, or an LDXR/STXR loop) at [x<rn>]: x12 is the
 * state's in-flight counter (up at entry and on a miss, down in the
 * DEC part), x10 the literal loaded into it (the miss counter).
 */
static void atomic_desc(const struct dump_ctx *d, const char *how, int rn,
			char *c, size_t size)
{
	if (rn == 12)
		snprintf(c, size, "%s state.inflight %s 0x80", how,
			 d->part == FTRAMP_PART_DEC ? "-=" : "+=");
	else if (rn == 10 && d->x10[0] == '&')
		snprintf(c, size, "%s %s += 1", how, d->x10 + 1);
	else
		c[0] = 0;
}

/* Annotate one instruction: the comment goes into @c. */
static void annotate(csh h, struct dump_ctx *d, const cs_insn *insn,
		     unsigned int idx, char *c, size_t size)
{
	const cs_arm64_op *o0 = op(insn, 0), *o1 = op(insn, 1);
	const cs_arm64_op *o2 = op(insn, 2);
	char what[96];
	long disp;

	c[0] = 0;
	switch (insn->id) {
	case ARM64_INS_HINT:
		/* capstone 4 prints `bti c` as `hint #0x22` */
		if (!memcmp(insn->bytes, "\x5f\x24\x03\xd5", 4))
			snprintf(c, size, "bti c: landing pad, the image may sit in a PROT_BTI page");
		return;
	case ARM64_INS_STP:
		if (is_reg(o0, ARM64_REG_X29) && is_reg(o1, ARM64_REG_X12))
			snprintf(c, size, "shadow record: sp (x29), state: live");
		else if (is_reg(o0, ARM64_REG_X29))
			snprintf(c, size, "the frame record: caller's fp, lr (%s)",
				 is_reg(o1, ARM64_REG_X9) ? "x9" : "x30");
		else if (is_reg(o0, ARM64_REG_X19))
			snprintf(c, size, "ctx[-2] = the caller's x19; ctx[-1] = &state.rctx");
		if (c[0])
			return;
		break;
	case ARM64_INS_LDP:
		if (is_reg(o0, ARM64_REG_X29) && is_reg(o1, ARM64_REG_X30)) {
			snprintf(c, size, "x29, x30 = the caller's fp and return address");
			return;
		}
		if (is_reg(o0, ARM64_REG_X19)) {
			snprintf(c, size, "x19 = the caller's; x12 = &state.inflight (ctx[-1])");
			return;
		}
		break;
	case ARM64_INS_MOV:
	case ARM64_INS_MOVN:
	case ARM64_INS_MOVZ:
		if (is_reg(o0, ARM64_REG_X29) && is_reg(o1, ARM64_REG_SP))
			snprintf(c, size, "x29 = the record: an x29 walk reads trampoline, caller, ...");
		else if (is_reg(o0, ARM64_REG_X19) && is_reg(o1, ARM64_REG_X0))
			snprintf(c, size, "x19 = the new table");
		else if (is_reg(o0, ARM64_REG_X14))
			snprintf(c, size, "-0x80: the in-flight decrement");
		else if (is_reg(o0, ARM64_REG_X15))
			snprintf(c, size, "0x80: the in-flight increment");
		else if (is_reg(o0, ARM64_REG_X11))
			snprintf(c, size, "one miss");
		return;
	case ARM64_INS_SXTW:
	case ARM64_INS_SXTH:
	case ARM64_INS_SXTB:
	case ARM64_INS_UXTW:
	case ARM64_INS_UXTH:
	case ARM64_INS_UXTB:
		snprintf(c, size, "widen the %s to a u64 ctx slot",
			 d->orig_called ? "result" : "argument");
		return;
	case ARM64_INS_SUB:
		if (is_reg(o0, ARM64_REG_SP) && is_reg(o1, ARM64_REG_SP) &&
		    o2 && o2->type == ARM64_OP_IMM)
			snprintf(c, size, "the frame: ctx and saved state, %lld bytes",
				 (long long)o2->imm);
		return;
	case ARM64_INS_ADD:
		if (is_reg(o0, ARM64_REG_X0) && is_reg(o1, ARM64_REG_SP) && o2 &&
		    o2->type == ARM64_OP_IMM) {
			snprintf(c, size, "x0 = ctx, the program's argument");
			return;
		}
		if (is_reg(o0, ARM64_REG_SP) && is_reg(o1, ARM64_REG_SP)) {
			snprintf(c, size, "pop the frame");
			return;
		}
		return;
	case ARM64_INS_MRS:
		snprintf(c, size, "recursion guard: this thread's TLS block");
		return;
	case ARM64_INS_LDRB:
		snprintf(c, size, "the guard byte: FREE (0x80) or BUSY (0)?");
		return;
	case ARM64_INS_STRB:
		if (o0 && (o0->reg == ARM64_REG_WZR || o0->reg == ARM64_REG_XZR))
			snprintf(c, size, "guard BUSY: programs run");
		else
			snprintf(c, size, "guard FREE: the table pointer's low byte is 0x80");
		return;
	case ARM64_INS_STXR:
	case ARM64_INS_STLXR:
	case ARM64_INS_LDXR:
		atomic_desc(d, insn->id == ARM64_INS_LDXR ? "load-exclusive" :
			    "store-exclusive", mem_base(insn), c, size);
		return;
	case ARM64_INS_CBNZ:
		if (is_reg(o0, ARM64_REG_X0) && d->after_fmod)
			snprintf(c, size, "non-zero: skip the original, this is the result");
		return;
	case ARM64_INS_CBZ:
		if (is_reg(o0, ARM64_REG_W15))
			snprintf(c, size, "BUSY: a program of ours is running on this thread, or no table yet");
		else if (is_reg(o0, ARM64_REG_X19))
			snprintf(c, size, "no guard table yet on this thread");
		else if (is_reg(o0, ARM64_REG_X0) && d->after_slow)
			snprintf(c, size, "none: count a miss");
		return;
	case ARM64_INS_CMP:
		if (is_reg(o0, ARM64_REG_X19))
			snprintf(c, size, "the table of a thread without one?");
		return;
	case ARM64_INS_BL:
		if (o0 && o0->type == ARM64_OP_IMM &&
		    name_value(d, o0->imm, what, sizeof(what))) {
			snprintf(c, size, "call %s", what);
			d->after_fmod = strstr(what, "fmod_ret") != NULL;
			d->after_slow = o0->imm == DUMP_SLOW;
			d->orig_called |= (uint64_t)o0->imm == d->orig;
		}
		return;
	case ARM64_INS_BLR:
		if (is_reg(o0, ARM64_REG_X16) && d->x16[0]) {
			snprintf(c, size, "call %s", d->x16);
			d->after_fmod = strstr(d->x16, "fmod_ret") != NULL;
			d->after_slow = strstr(d->x16, "guard_slow") != NULL;
			d->orig_called |= strstr(d->x16, "original") != NULL;
		}
		return;
	case ARM64_INS_ADR:
		if (is_reg(o0, ARM64_REG_X30))
			snprintf(c, size, "return address for the original");
		else if (o1 && o1->type == ARM64_OP_IMM &&
			 (uint64_t)o1->imm >= d->data_start)
			snprintf(c, size, "this program's run context (below)");
		return;
	case ARM64_INS_RET:
		if (!o0 || is_reg(o0, ARM64_REG_X30))
			snprintf(c, size, "return to the traced function's caller");
		else if (is_reg(o0, ARM64_REG_X16) && d->x16[0]) {
			snprintf(c, size, "jump to %s (RET: no BTI check)", d->x16);
			d->orig_called |= strstr(d->x16, "original") != NULL;
		}
		else
			snprintf(c, size, "continue into the function body");
		return;
	case ARM64_INS_LDR:
		/* ldr xN, <literal> */
		if (o1 && o1->type == ARM64_OP_IMM) {
			uint64_t v;
			bool known = image_u64(d, o1->imm, &v) &&
				     name_value(d, v, what, sizeof(what));

			if (is_reg(o0, ARM64_REG_X16))
				snprintf(d->x16, sizeof(d->x16), "%s",
					 known ? what : "");
			if (is_reg(o0, ARM64_REG_X10))
				snprintf(d->x10, sizeof(d->x10), "%s",
					 known ? what : "");
			if (known)
				snprintf(c, size, "%s", what);
			return;
		}
		if (is_reg(o0, ARM64_REG_X19) && sp_disp(insn) >= 0) {
			snprintf(c, size, "x19 = the caller's, from ctx[-2]");
			return;
		}
		if (is_reg(o0, ARM64_REG_X12) && sp_disp(insn) >= 0) {
			snprintf(c, size, "x12 = &state.inflight, from ctx[-1]");
			return;
		}
		if (is_reg(o0, ARM64_REG_X19) && op(insn, 1) &&
		    op(insn, 1)->type == ARM64_OP_MEM &&
		    op(insn, 1)->mem.base == ARM64_REG_X19) {
			snprintf(c, size, "the guard table pointer (initial-exec TLS)");
			return;
		}
		break;
	default:
		break;
	}

	/* Loads and stores of ctx slots. */
	disp = sp_disp(insn);
	if (disp >= 0 && d->ctx_off >= 0 && disp >= d->ctx_off - 8 &&
	    (insn->id == ARM64_INS_STR || insn->id == ARM64_INS_LDR ||
	     insn->id == ARM64_INS_STP || insn->id == ARM64_INS_LDP ||
	     insn->id == ARM64_INS_STUR || insn->id == ARM64_INS_LDUR ||
	     insn->id == ARM64_INS_LDRSW || insn->id == ARM64_INS_LDRSB ||
	     insn->id == ARM64_INS_LDRSH)) {
		long slot = (disp - d->ctx_off) / 8;
		bool store = insn->id == ARM64_INS_STR ||
			     insn->id == ARM64_INS_STP ||
			     insn->id == ARM64_INS_STUR;
		char s2[96];

		if ((disp - d->ctx_off) % 8)
			return;
		if (slot >= d->lay.nr_arg_slots + d->lay.nr_ret_slots) {
			const char *reg = o0 && o0->type == ARM64_OP_REG ?
					  cs_reg_name(h, o0->reg) : "";

			if (is_reg(o0, ARM64_REG_X8))
				snprintf(c, size, "%s x8, the indirect result address",
					 store ? "save" : "load");
			else if (reg[0] == 'q' || is_reg(o0, ARM64_REG_X1))
				snprintf(c, size, "%s %s %s registers (unknown model: all of them)",
					 store ? "save" : "load",
					 reg[0] == 'q' ? "FP/SIMD" : "x1,",
					 d->orig_called ? "result" : "argument");
			return;
		}
		slot_desc(d, slot, what, sizeof(what));
		if (insn->id == ARM64_INS_STP || insn->id == ARM64_INS_LDP) {
			slot_desc(d, slot + 1, s2, sizeof(s2));
			snprintf(c, size, "%s %s; %s", store ? "save" : "load",
				 what, s2);
		} else if (slot == -1) {
			snprintf(c, size, "%s", what);
		} else {
			snprintf(c, size, "%s %s", store ? "save" : "load", what);
		}
		return;
	}
	if (disp >= 0 && d->ctx_off >= 0 && disp < d->ctx_off - 8 &&
	    insn->id != ARM64_INS_STP && insn->id != ARM64_INS_LDP)
		snprintf(c, size, "stack arguments, copied for the original");
	else if (disp >= 0 && d->ctx_off >= 0 && disp < d->ctx_off - 8)
		snprintf(c, size, "stack arguments, copied for the original");
	(void)idx;
}

/*
 * Words capstone 4 does not know: the ARMv8.1 LSE atomics the emitter
 * uses with --lse (STADD{L} is LDADD{L} with xzr as destination).
 */
static bool decode_extra(struct dump_ctx *d, uint32_t w, char *text,
			 size_t tsize, char *c, size_t csize)
{
	if ((w & 0xff20fc00) == 0xf8200000) {
		unsigned int rs = (w >> 16) & 31, rn = (w >> 5) & 31;
		unsigned int rt = w & 31;
		bool rel = w & (1u << 22), acq = w & (1u << 23);

		if (rt == 31 && !acq)
			snprintf(text, tsize, "%-7s x%u, [x%u]",
				 rel ? "staddl" : "stadd", rs, rn);
		else
			snprintf(text, tsize, "ldadd%-2s x%u, x%u, [x%u]",
				 acq ? (rel ? "al" : "a") : (rel ? "l" : ""),
				 rs, rt, rn);
		atomic_desc(d, "atomically", rn, c, csize);
		return true;
	}
	return false;
}

/* First pass: where the data starts, and ctx's offset from sp. */
static void scan(csh h, struct dump_ctx *d, const uint8_t *img)
{
	const uint8_t *code = img;
	uint64_t addr = d->rx;
	size_t left = d->size;
	cs_insn *insn = cs_malloc(h);
	bool prev_add_x0 = false;
	long add_imm = -1;

	d->data_start = d->rx + d->size;
	d->ctx_off = -1;
	for (unsigned int i = 0; i < d->nv.nr; i++)
		if (d->notes[i].part == FTRAMP_PART_POOL ||
		    d->notes[i].part == FTRAMP_PART_RUN_CTX) {
			d->data_start = d->rx + d->notes[i].off;
			break;
		}
	while (addr < d->data_start && left >= 4) {
		const cs_arm64_op *o0, *o1, *o2;

		if (!cs_disasm_iter(h, &code, &left, &addr, insn)) {
			code += 4;
			left -= 4;
			addr += 4;
			prev_add_x0 = false;
			continue;
		}
		o0 = op(insn, 0);
		o1 = op(insn, 1);
		o2 = op(insn, 2);

		if (prev_add_x0 && d->ctx_off < 0 &&
		    (insn->id == ARM64_INS_BL || insn->id == ARM64_INS_LDR))
			d->ctx_off = add_imm;
		prev_add_x0 = insn->id == ARM64_INS_ADD &&
			      is_reg(o0, ARM64_REG_X0) &&
			      is_reg(o1, ARM64_REG_SP) && o2 &&
			      o2->type == ARM64_OP_IMM;
		if (prev_add_x0)
			add_imm = o2->imm;
	}
	cs_free(insn, 1);
}

/*
 * The emitter's notes that start at @at: a heading each (a blank line
 * before the out-of-line paths), and the part the next instructions
 * belong to.
 */
static void print_notes(struct dump_ctx *d, uint64_t at)
{
	for (unsigned int i = 0; i < d->nv.nr; i++) {
		const struct ftramp_tramp_note *n = &d->notes[i];

		if (d->rx + n->off != at)
			continue;
		d->part = n->part;
		if (n->part == FTRAMP_PART_MISS)
			putchar('\n');
		if (n->part == FTRAMP_PART_PROG && n->kind < FTRAMP_TRAMP_NR_KINDS)
			printf("  # %s program #%u (cookie %u): x0 = ctx, call it\n",
			       kind_names[n->kind], n->index,
			       100 * n->kind + n->index + 1);
		else
			printf("  # %s\n", ftramp_tramp_part_desc(n->part));
	}
}

static void dump_data(const struct dump_ctx *d, const uint8_t *img)
{
	uint64_t addr = d->data_start, rctx = d->rx + d->size;
	char what[96];

	for (unsigned int i = 0; i < d->nv.nr; i++)
		if (d->notes[i].part == FTRAMP_PART_RUN_CTX)
			rctx = d->rx + d->notes[i].off;

	printf("\n# literal pool and run contexts (struct ftramp_run_ctx, %zu bytes each)\n",
	       sizeof(struct ftramp_run_ctx));
	while (addr + 8 <= d->rx + d->size) {
		uint64_t v;

		memcpy(&v, img + (addr - d->rx), sizeof(v));
		/* the run contexts follow the literals (emitter's note) */
		if (addr >= rctx &&
		    addr + sizeof(struct ftramp_run_ctx) <= d->rx + d->size) {
			struct ftramp_run_ctx r;

			memcpy(&r, img + (addr - d->rx), sizeof(r));
			printf("  %#llx:  run context: func_ip %#llx, cookie %llu, %s, %u arg slots, %u result slots\n",
			       (unsigned long long)addr,
			       (unsigned long long)r.func_ip,
			       (unsigned long long)r.cookie,
			       r.kind < FTRAMP_TRAMP_NR_KINDS ?
			       kind_names[r.kind] : "?", r.nr_args, r.nr_ret);
			addr += sizeof(r);
			continue;
		}
		printf("  %#llx:  .quad %#-18llx", (unsigned long long)addr,
		       (unsigned long long)v);
		if (name_value(d, v, what, sizeof(what)))
			printf("  // %s", what);
		putchar('\n');
		addr += 8;
	}
}

/* --fentry/--fexit/--fmod-ret N: how many programs of that kind. */
static int parse_count(struct dump_opts *o, const char *opt, const char *arg,
		       enum ftramp_tramp_kind kind)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*end || n < 0 || n > FTRAMP_TRAMP_MAX_PROGS) {
		pr_err("%s '%s': expected 0 to %d", opt, arg,
		       FTRAMP_TRAMP_MAX_PROGS);
		return -EINVAL;
	}
	o->nr[kind] = n;
	o->counts_given = true;
	return 0;
}

enum {
	OPT_FENTRY = 0x100,
	OPT_FEXIT,
	OPT_FMOD_RET,
	OPT_FAR,
	OPT_BTI,
	OPT_LSE,
	OPT_NO_GUARD,
	OPT_BINARY,
};

static const struct option dump_options[] = {
	{ "model",	required_argument, NULL, 'm' },
	{ "fentry",	required_argument, NULL, OPT_FENTRY },
	{ "fexit",	required_argument, NULL, OPT_FEXIT },
	{ "fmod-ret",	required_argument, NULL, OPT_FMOD_RET },
	{ "far",	no_argument,	   NULL, OPT_FAR },
	{ "bti",	no_argument,	   NULL, OPT_BTI },
	{ "lse",	no_argument,	   NULL, OPT_LSE },
	{ "no-guard",	no_argument,	   NULL, OPT_NO_GUARD },
	{ "binary",	required_argument, NULL, OPT_BINARY },
	{ "help",	no_argument,	   NULL, 'h' },
	{ }
};

static int parse_args(int argc, char **argv, struct dump_opts *o)
{
	int c, err = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:h", dump_options,
				NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model_text = optarg;
			break;
		case OPT_FENTRY:
			err = parse_count(o, "--fentry", optarg,
					  FTRAMP_TRAMP_FENTRY);
			break;
		case OPT_FEXIT:
			err = parse_count(o, "--fexit", optarg,
					  FTRAMP_TRAMP_FEXIT);
			break;
		case OPT_FMOD_RET:
			err = parse_count(o, "--fmod-ret", optarg,
					  FTRAMP_TRAMP_MODIFY_RETURN);
			break;
		case OPT_FAR:
			o->far = true;
			break;
		case OPT_BTI:
			o->bti = true;
			break;
		case OPT_LSE:
			o->lse = true;
			break;
		case OPT_NO_GUARD:
			o->no_guard = true;
			break;
		case OPT_BINARY:
			o->binary = optarg;
			break;
		case 'h':
			usage_dump(stdout);
			return 1;
		default:
			usage_dump(stderr);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		pr_err("dump: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->counts_given) {
		o->nr[FTRAMP_TRAMP_FENTRY] = 1;
		o->nr[FTRAMP_TRAMP_FEXIT] = 1;
	}
	return 0;
}

static int build_image(struct dump_ctx *d, uint8_t **img)
{
	const struct dump_opts *o = d->o;
	struct ftramp_tramp_args args = { 0 };
	unsigned int k, i;
	int bound, len;

	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++) {
		d->links[k] = calloc(o->nr[k] ?: 1, sizeof(*d->links[k]));
		if (!d->links[k])
			return -ENOMEM;
		for (i = 0; i < (unsigned int)o->nr[k]; i++) {
			d->links[k][i].prog =
				(ftramp_prog_t)(uintptr_t)prog_addr(k, i);
			d->links[k][i].cookie = 100 * k + i + 1;
		}
		args.progs[k].links = d->links[k];
		args.progs[k].nr = o->nr[k];
	}
	args.model = d->have_model ? &d->model : NULL;
	args.func_addr = DUMP_FUNC;
	if (o->nr[FTRAMP_TRAMP_FEXIT] || o->nr[FTRAMP_TRAMP_MODIFY_RETURN])
		args.flags |= FTRAMP_TRAMP_F_CALL_ORIG;
	if (o->bti)
		args.flags |= FTRAMP_TRAMP_F_BTI;
	if (o->lse)
		args.flags |= FTRAMP_TRAMP_F_LSE;
	if (!o->no_guard) {
		d->state.guard_slot = 7;
		d->state.guard_tls_off = DUMP_TLS_OFF;
		d->state.guard_slow = (uint8_t *(*)(void))(uintptr_t)DUMP_SLOW;
		/* as trampoline/image.c sets it: no NULL test on entry */
		d->state.guard_none = (const uint8_t *)(uintptr_t)DUMP_NONE;
		/*
		 * As image.c sets them, with a model: the shadow record of
		 * a modelled fexit image.  (Without one the dump keeps the
		 * copied frame, not the library's return hook.)
		 */
		if (d->have_model) {
			d->state.shadow_prune = (void (*)(uint8_t *, uint64_t,
				uint64_t))(uintptr_t)DUMP_PRUNE;
			d->state.shadow_find = (uint64_t (*)(uint8_t *,
				uint64_t, uint64_t))(uintptr_t)DUMP_FIND;
			d->state.shadow_drop = (void (*)(uint8_t *, uint64_t,
				uint64_t))(uintptr_t)DUMP_DROP;
		}
		args.state = &d->state;
	}
	d->nv.v = d->notes;
	d->nv.cap = sizeof(d->notes) / sizeof(d->notes[0]);
	args.notes = &d->nv;
	d->orig = DUMP_FUNC + 8;
	d->rx = o->far ? DUMP_FAR : DUMP_NEAR;

	bound = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (bound < 0)
		return bound;
	*img = calloc(1, bound);
	if (!*img)
		return -ENOMEM;
	len = ftramp_arch_prepare_trampoline(&args, *img, d->rx, bound);
	if (len < 0)
		return len;
	d->size = len;
	if (d->nv.nr > d->nv.cap)
		d->nv.nr = d->nv.cap;
	return bound;
}

static const char *build_error(int err, const struct dump_opts *o,
			       const struct dump_ctx *d)
{
	switch (err) {
	case -EINVAL:
		if (o->nr[FTRAMP_TRAMP_MODIFY_RETURN] && d->have_model &&
		    d->model.ret.cls == FTRAMP_TYPE_VOID)
			return "fmod_ret needs a function that returns a value";
		return "the emitter refused the combination (see Documentation/trampoline.rst)";
	case -E2BIG:
		return "too many arguments, stack slots or programs for one trampoline";
	case -EOPNOTSUPP:
		return "variadic functions cannot be traced with a model";
	default:
		return strerror(-err);
	}
}

int cmd_dump(int argc, char **argv)
{
	struct dump_opts o = { 0 };
	struct dump_ctx d = { 0 };
	struct ftramp_parse_error perr = { 0 };
	char proto[512] = "unknown (every argument register saved)";
	uint8_t *img = NULL;
	cs_insn *insn;
	const uint8_t *code;
	uint64_t addr;
	size_t left;
	unsigned int k, idx = 0;
	int bound, err, ret = 1;
	csh h;

	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : EXIT_USAGE;
	d.o = &o;

	if (o.model_text) {
		err = ftramp_model__parse(o.model_text, &d.model, &perr);
		if (err) {
			pr_err("--model: %s", perr.msg[0] ? perr.msg :
			       strerror(-err));
			if (perr.col > 0)
				fprintf(stderr, "  %s\n  %*s^\n", o.model_text,
					perr.col - 1, "");
			return EXIT_USAGE;
		}
		d.have_model = true;
		ftramp_model__format(&d.model, proto, sizeof(proto));
	}
	err = a64_abi_layout(d.have_model ? &d.model : NULL, &d.lay);
	if (err) {
		pr_err("--model: %s", build_error(err, &o, &d));
		return EXIT_USAGE;
	}
	bound = build_image(&d, &img);
	if (bound < 0) {
		pr_err("cannot build the trampoline: %s", build_error(bound, &o, &d));
		goto out;
	}
	if (o.binary) {
		FILE *f = fopen(o.binary, "wb");

		if (!f || fwrite(img, 1, d.size, f) != d.size || fclose(f)) {
			pr_err("%s: %s", o.binary, strerror(errno));
			goto out;
		}
	}
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &h) != CS_ERR_OK) {
		pr_err("capstone: cannot open an arm64 disassembler");
		goto out;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);

	printf("# model:    %s\n", proto);
	printf("# programs:");
	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		printf(" %s %d%s", kind_names[k], o.nr[k],
		       k + 1 < FTRAMP_TRAMP_NR_KINDS ? "," : "");
	printf("\n# image:    %zu bytes (sizing pass bound %d) at %#llx, %s\n",
	       d.size, bound, (unsigned long long)d.rx,
	       o.far ? "far: calls through literals" :
	       "near: direct BL calls");
	printf("# func:     %#llx (placeholder); the site enters with x30 = func+8, x9 = caller's lr\n",
	       (unsigned long long)DUMP_FUNC);
	printf("# ctx:      %u argument slots, %u result slots%s\n\n",
	       d.lay.nr_arg_slots, d.lay.nr_ret_slots,
	       o.no_guard ? "; no recursion guard, no counters" : "");

	d.img = img;
	scan(h, &d, img);
	insn = cs_malloc(h);
	code = img;
	left = d.size;
	addr = d.rx;
	while (addr < d.data_start && left >= 4) {
		char comment[256], text[8 + sizeof(insn->op_str) + 32];
		uint64_t at = addr;
		uint32_t word;

		print_notes(&d, at);
		memcpy(&word, code, sizeof(word));
		if (cs_disasm_iter(h, &code, &left, &addr, insn)) {
			annotate(h, &d, insn, idx++, comment, sizeof(comment));
			snprintf(text, sizeof(text), "%-7s %s", insn->mnemonic,
				 insn->op_str);
		} else {
			if (!decode_extra(&d, word, text, sizeof(text),
					  comment, sizeof(comment))) {
				snprintf(text, sizeof(text), ".inst   %#010x",
					 word);
				comment[0] = 0;
			}
			code += 4;
			left -= 4;
			addr += 4;
		}
		printf("  %#llx:  %08x  %-36s%s%s\n", (unsigned long long)at,
		       word, text, comment[0] ? "// " : "", comment);
	}
	cs_free(insn, 1);
	cs_close(&h);
	dump_data(&d, img);
	ret = 0;
out:
	for (k = 0; k < FTRAMP_TRAMP_NR_KINDS; k++)
		free(d.links[k]);
	free(img);
	return ret;
}
