/* SPDX-License-Identifier: MIT */
/*
 * Random BPF programs that the verifier is meant to accept, for the
 * verifier's fuzzer (fuzz_verifier.c: accepted programs run in the
 * interpreter under ASan, every access checked) and the JIT's
 * differential test (bpf_jit_test.c: the JIT against the interpreter).
 * One generator for both.
 *
 * A program is built from blocks that keep the verifier's rules by
 * construction, so that most of what comes out is accepted and runs:
 *
 *  - registers: R6 is R1 (the raw data, or ctx) for the whole program,
 *    R7 a map value (ARRAY, null-checked at the start) when the program
 *    has one, R10 the frame; every other register holds a scalar from
 *    the prologue on, and a helper or bpf-to-bpf call's scratched R1-R5
 *    are written again right after it;
 *  - the stack: a byte is read only when every path has written it
 *    (the state per byte is kept through a branch's two sides: what one
 *    side writes is not written after the join); pointer spills are
 *    slots of their own, filled back whole into the register they came
 *    from;
 *  - memory: fixed offsets inside the object, variable offsets bounded
 *    by a mask or by a branch on the register itself; atomics aligned;
 *  - control: forward branches over nested blocks, bounded loops
 *    (a constant counter no block in the body writes), subprograms and
 *    bpf_loop() callbacks (optional: the JIT has none yet) appended
 *    after the program.
 *
 * Choices come from a byte string while it lasts (libFuzzer's input,
 * so that its mutations steer the shape), then from a xorshift seeded
 * by the caller.
 */
#ifndef FTRAMP_SELFTESTS_BPF_GEN_H
#define FTRAMP_SELFTESTS_BPF_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "selftests/bpf_insns.h"

struct bpf_gen_cfg {
	int arr;		/* map index of an ARRAY (2 entries), -1 none */
	uint32_t arr_value;	/* its value_size, a multiple of 8 */
	int hash;		/* map index of a HASH, key 4, value 8; -1 none */
	uint32_t hash_keys;	/* keys drawn from [0, hash_keys) */
	int rb;			/* map index of a RINGBUF, -1 none */
	uint32_t data_size;	/* raw: R1's bytes (multiple of 8); 0: ctx */
	uint32_t ctx_slots;	/* ctx (data_size 0): u64 slots readable */
	bool loop_cb;		/* bpf_loop() callbacks */
	bool nondet;		/* helpers whose results differ between runs */
	size_t max_insns;	/* at most (< 4096: 16-bit jump offsets) */
	int max_blocks;		/* top-level blocks, 1..max (0: 40) */
};

struct bpf_gen_rng {
	const uint8_t *buf;
	size_t len, pos;
	uint64_t s;		/* xorshift64, not 0 */
};

/* stack byte states */
enum { GS_NONE, GS_DATA, GS_PTR6, GS_PTR7, GS_MIXED };
#define BPF_GEN_STACK_BYTES_	512

#define GEN_MAX_SUBS	4

struct bpf_gen {
	struct bpf_gen_rng *r;
	const struct bpf_gen_cfg *c;
	insn_t *in;
	size_t n, cap;
	bool full;
	uint8_t stk[BPF_GEN_STACK_BYTES_];
	bool val;		/* R7 is a map value */
	int depth;		/* nested branches and loops */
	int loop_reg;		/* a loop's counter: not written (-1) */
	bool sub;		/* generating a subprogram */
	/* subprograms called, emitted after the program */
	struct { size_t call; int kind; } fix[64];
	int nfix;
};

static inline uint32_t gen_rand(struct bpf_gen_rng *r, uint32_t n)
{
	uint32_t v;

	if (n <= 1)
		return 0;
	if (n <= 256 && r->pos < r->len) {
		v = r->buf[r->pos++];
	} else if (r->pos + 4 <= r->len) {
		memcpy(&v, r->buf + r->pos, 4);
		r->pos += 4;
	} else {
		r->s ^= r->s << 13;
		r->s ^= r->s >> 7;
		r->s ^= r->s << 17;
		v = (uint32_t)(r->s >> 32);
	}
	return v % n;
}

static inline uint64_t gen_rand64(struct bpf_gen_rng *r)
{
	return (uint64_t)gen_rand(r, UINT32_MAX) << 32 ^
	       gen_rand(r, UINT32_MAX) ^ (uint64_t)gen_rand(r, 2) << 31;
}

/* Values where ALU and jumps have their corners. */
static inline int32_t gen_imm(struct bpf_gen *g)
{
	static const int32_t corner[] = {
		0, 1, -1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 0x7f, 0x80,
		0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, INT32_MAX,
		INT32_MIN, -2, -8, -128, -4096,
	};

	if (gen_rand(g->r, 4))
		return corner[gen_rand(g->r, sizeof(corner) / sizeof(corner[0]))];
	return (int32_t)gen_rand(g->r, UINT32_MAX);
}

static inline void gen_emit(struct bpf_gen *g, insn_t in)
{
	if (g->n < g->cap)
		g->in[g->n++] = in;
	else
		g->full = true;
}

/* scalar registers a block may write */
static inline int gen_dst(struct bpf_gen *g)
{
	static const int main_regs[] = { 0, 1, 2, 3, 4, 5, 8, 9, 7 };
	static const int sub_regs[] = { 0, 1, 2, 3, 4, 5 };
	int r;

	do {
		if (g->sub)
			r = sub_regs[gen_rand(g->r, 6)];
		else
			r = main_regs[gen_rand(g->r, g->val ? 8 : 9)];
	} while (r == g->loop_reg);
	return r;
}

/* scalar registers a block may read */
static inline int gen_src(struct bpf_gen *g)
{
	int r = gen_dst(g);

	if (g->loop_reg >= 0 && !gen_rand(g->r, 8))
		r = g->loop_reg;
	return r;
}

static inline int gen_size(struct bpf_gen *g)
{
	static const int s[] = { BPF_B, BPF_H, BPF_W, BPF_DW };

	return s[gen_rand(g->r, 4)];
}

static inline int gen_bytes(int sz)
{
	return sz == BPF_B ? 1 : sz == BPF_H ? 2 : sz == BPF_W ? 4 : 8;
}

static inline void gen_alu(struct bpf_gen *g)
{
	static const uint8_t ops[] = {
		BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
		BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END,
	};
	bool is64 = gen_rand(g->r, 3);
	uint8_t op = ops[gen_rand(g->r, sizeof(ops))];
	uint8_t cls = is64 ? BPF_ALU64 : BPF_ALU;
	int d = gen_dst(g), s = gen_src(g), x = gen_rand(g->r, 2);
	int16_t off = 0;
	int32_t imm = gen_imm(g);

	switch (op) {
	case BPF_NEG:
		x = 0;
		imm = 0;
		break;
	case BPF_END:
		imm = 16 << gen_rand(g->r, 3);
		/* ALU: to_le (K) or to_be (X); ALU64: bswap (K) */
		gen_emit(g, (insn_t)I(cls | BPF_END | (is64 ? 0 : x ? BPF_X : 0),
				      d, 0, 0, imm));
		return;
	case BPF_DIV:
	case BPF_MOD:
		off = gen_rand(g->r, 2);
		break;
	case BPF_MOV:
		if (x && gen_rand(g->r, 2)) {
			static const int16_t w[] = { 8, 16, 32 };

			off = w[gen_rand(g->r, is64 ? 3 : 2)];
		}
		break;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH:
		if (gen_rand(g->r, 8))
			imm = gen_rand(g->r, is64 ? 64 : 32);
		break;
	}
	gen_emit(g, (insn_t)I(cls | op | (x ? BPF_X : BPF_K), d, x ? s : 0, off,
			      x ? 0 : imm));
}

static inline void gen_ldimm64(struct bpf_gen *g)
{
	uint64_t v = gen_rand64(g->r);
	insn_t q[2] = { LD64(gen_dst(g), v) };

	gen_emit(g, q[0]);
	gen_emit(g, q[1]);
}

/* stack bytes [off, off + len) (off < 0) all in state @st */
static inline bool gen_stk_is(struct bpf_gen *g, int off, int len, int st)
{
	for (int b = off; b < off + len; b++)
		if (g->stk[b + BPF_GEN_STACK_BYTES_] != st)
			return false;
	return true;
}

static inline void gen_stk_set(struct bpf_gen *g, int off, int len, int st)
{
	/* a store into part of a pointer spill: the whole slot is data */
	for (int b = off; b < off + len; b++) {
		uint8_t *p = &g->stk[b + BPF_GEN_STACK_BYTES_];

		if (*p == GS_PTR6 || *p == GS_PTR7) {
			int k = (b + BPF_GEN_STACK_BYTES_) & ~7;

			memset(&g->stk[k], GS_MIXED, 8);
		}
	}
	memset(&g->stk[off + BPF_GEN_STACK_BYTES_], st, len);
}

static inline int gen_stack_off(struct bpf_gen *g, int size)
{
	int n = gen_bytes(size), slots = gen_rand(g->r, 4) ? 8 : 64;

	/* mostly the top slots, so that loads find written bytes */
	return -(int)((gen_rand(g->r, slots * 8 / n) + 1) * n);
}

static inline void gen_stack_store(struct bpf_gen *g)
{
	int sz = gen_size(g), off = gen_stack_off(g, sz);

	if (!gen_rand(g->r, 6) && !g->sub && g->loop_reg < 0) {
		/*
		 * A pointer spill: R6, or R7 when it is a map value.  Not in
		 * a loop's body: the next round would find the slot changed
		 * under the code before the spill.
		 */
		int reg = g->val && gen_rand(g->r, 2) ? 7 : 6;

		off &= ~7;
		gen_emit(g, (insn_t)STX(BPF_DW, 10, reg, off));
		gen_stk_set(g, off, 8, reg == 6 ? GS_PTR6 : GS_PTR7);
		return;
	}
	if (gen_rand(g->r, 2))
		gen_emit(g, (insn_t)ST(sz, 10, off, gen_imm(g)));
	else
		gen_emit(g, (insn_t)STX(sz, 10, gen_src(g), off));
	gen_stk_set(g, off, gen_bytes(sz), GS_DATA);
}

static inline void gen_stack_load(struct bpf_gen *g)
{
	for (int t = 0; t < 8; t++) {
		int sz = gen_size(g), off = gen_stack_off(g, sz);
		int n = gen_bytes(sz);

		if (gen_stk_is(g, off, n, GS_DATA)) {
			bool sx = sz != BPF_DW && gen_rand(g->r, 4) == 0;

			gen_emit(g, sx ? (insn_t)LDSX(sz, gen_dst(g), 10, off) :
				 (insn_t)LDX(sz, gen_dst(g), 10, off));
			return;
		}
		off &= ~7;
		if (g->sub || g->loop_reg >= 0)
			continue;
		if (gen_stk_is(g, off, 8, GS_PTR6)) {
			gen_emit(g, (insn_t)LDX(BPF_DW, 6, 10, off));
			return;
		}
		if (g->val && gen_stk_is(g, off, 8, GS_PTR7)) {
			gen_emit(g, (insn_t)LDX(BPF_DW, 7, 10, off));
			return;
		}
	}
}

/* R6's object: raw data (read-write) or ctx (read-only u64 slots) */
static inline void gen_r6_access(struct bpf_gen *g)
{
	if (g->sub)
		return;
	if (!g->c->data_size) {
		int slot = gen_rand(g->r, g->c->ctx_slots);
		int sz = gen_rand(g->r, 3) ? BPF_DW : gen_size(g);

		if (g->c->ctx_slots)
			gen_emit(g, (insn_t)LDX(sz, gen_dst(g), 6, slot * 8));
		return;
	}
	{
		int sz = gen_size(g), n = gen_bytes(sz);
		int off = gen_rand(g->r, g->c->data_size - n + 1);

		switch (gen_rand(g->r, 4)) {
		case 0:
			gen_emit(g, (insn_t)ST(sz, 6, off, gen_imm(g)));
			break;
		case 1:
			gen_emit(g, (insn_t)STX(sz, 6, gen_src(g), off));
			break;
		case 2:
			if (sz != BPF_DW) {
				gen_emit(g, (insn_t)LDSX(sz, gen_dst(g), 6, off));
				break;
			}
			/* fall through */
		default:
			gen_emit(g, (insn_t)LDX(sz, gen_dst(g), 6, off));
		}
	}
}

static inline void gen_value_access(struct bpf_gen *g)
{
	int sz = gen_size(g), n = gen_bytes(sz);
	int off = gen_rand(g->r, g->c->arr_value - n + 1);

	if (!g->val || g->sub)
		return;
	switch (gen_rand(g->r, 3)) {
	case 0:
		gen_emit(g, (insn_t)ST(sz, 7, off, gen_imm(g)));
		break;
	case 1:
		gen_emit(g, (insn_t)STX(sz, 7, gen_src(g), off));
		break;
	default:
		gen_emit(g, (insn_t)LDX(sz, gen_dst(g), 7, off));
	}
}

static inline void gen_atomic(struct bpf_gen *g)
{
	static const int32_t ops[] = {
		BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH,
		BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
		BPF_XCHG, BPF_CMPXCHG,
	};
	int sz = gen_rand(g->r, 2) ? BPF_DW : BPF_W, n = gen_bytes(sz);
	int32_t op = ops[gen_rand(g->r, 10)];
	int s = gen_src(g), base, off;

	/* fetch and cmpxchg write their register: not the loop counter */
	if ((op & BPF_FETCH) && s == g->loop_reg)
		return;
	if (op == BPF_CMPXCHG && g->loop_reg == 0)
		return;
	switch (gen_rand(g->r, 3)) {
	case 0:
		off = gen_stack_off(g, sz);
		if (!gen_stk_is(g, off, n, GS_DATA))
			return;
		base = 10;
		break;
	case 1:
		if (!g->val || g->sub)
			return;
		base = 7;
		off = gen_rand(g->r, g->c->arr_value / n) * n;
		break;
	default:
		if (!g->c->data_size || g->sub)
			return;
		base = 6;
		off = gen_rand(g->r, g->c->data_size / n) * n;
	}
	gen_emit(g, (insn_t)ATOM(sz, op, base, s, off));
}

/* a free scalar register for a pointer's short life (not R0, R6, R7) */
static inline int gen_tmp(struct bpf_gen *g)
{
	static const int t[] = { 1, 2, 3, 4, 5, 8, 9 };
	int r;

	do
		r = t[gen_rand(g->r, g->sub ? 5 : 7)];
	while (r == g->loop_reg);
	return r;
}

/*
 * A variable offset: the index bounded by a mask, or by a branch on the
 * register itself, added to a copy of the object's pointer.
 */
static inline void gen_var_access(struct bpf_gen *g)
{
	int obj = gen_rand(g->r, 3), sz = gen_size(g), n = gen_bytes(sz);
	int idx = gen_tmp(g), p = gen_tmp(g), base, lo = 0, room, jmp = -1;
	bool write = gen_rand(g->r, 2);

	if (idx == p || g->sub)
		return;
	if (obj == 0 && g->val) {
		base = 7;
		room = g->c->arr_value;
	} else if (obj == 1 && g->c->data_size) {
		base = 6;
		room = g->c->data_size;
	} else {
		/* the top 32 bytes of the stack, read only when all written */
		base = 10;
		lo = -32;
		room = 32;
		if (!write && !gen_stk_is(g, -32, 32, GS_DATA))
			return;
	}
	if (room < n)
		return;
	if (gen_rand(g->r, 2)) {
		/* idx &= 2^k - 1, with 2^k - 1 + n <= room */
		int k = 0;

		while ((2 << k) - 1 + n <= room && k < 6)
			k++;
		k = gen_rand(g->r, k + 1);
		gen_emit(g, (insn_t)A64K(BPF_AND, idx, (1 << k) - 1));
	} else {
		/* if idx > room - n goto past the access */
		jmp = g->n;
		gen_emit(g, (insn_t)JK(BPF_JGT, idx, room - n, 0));
	}
	gen_emit(g, (insn_t)A64X(BPF_MOV, p, base));
	if (lo)
		gen_emit(g, (insn_t)A64K(BPF_ADD, p, lo));
	gen_emit(g, (insn_t)A64X(BPF_ADD, p, idx));
	if (!write)
		gen_emit(g, (insn_t)LDX(sz, p, p, 0));
	else if (base == 10)
		gen_emit(g, (insn_t)ST(sz, p, 0, gen_imm(g)));
	else
		gen_emit(g, (insn_t)STX(sz, p, idx, 0));
	if (write && base == 10)	/* the spills it may have hit */
		for (int b = lo; b < 0; b++) {
			uint8_t *s = &g->stk[b + BPF_GEN_STACK_BYTES_];

			if (*s == GS_PTR6 || *s == GS_PTR7)
				*s = GS_MIXED;
		}
	gen_emit(g, (insn_t)MOV(p, gen_imm(g)));	/* a scalar again */
	if (jmp >= 0 && !g->full)
		g->in[jmp].off = g->n - jmp - 1;
}

/* R1-R5 after a call: scalars again */
static inline void gen_rescalar(struct bpf_gen *g)
{
	for (int k = 1; k <= 5; k++)
		if (k != g->loop_reg)
			gen_emit(g, (insn_t)MOV(k, gen_imm(g)));
}

static inline int gen_key(struct bpf_gen *g, int off)
{
	/* a 4-byte key at fp+off, constant or from a register */
	uint32_t keys = g->c->hash_keys ? g->c->hash_keys : 1;

	if (gen_rand(g->r, 2)) {
		gen_emit(g, (insn_t)ST(BPF_W, 10, off, gen_rand(g->r, keys)));
	} else {
		int t = gen_tmp(g);

		gen_emit(g, (insn_t)A64X(BPF_MOV, t, gen_src(g)));
		gen_emit(g, (insn_t)A64K(BPF_MOD, t, keys));
		gen_emit(g, (insn_t)STX(BPF_W, 10, t, off));
	}
	gen_stk_set(g, off, 4, GS_DATA);
	return off;
}

static inline void gen_block(struct bpf_gen *g);

/* the hash map's helpers; a lookup's value is used under its NULL check */
static inline void gen_map_call(struct bpf_gen *g)
{
	int kind = gen_rand(g->r, 3), j;

	if (g->c->hash < 0 || g->sub || (g->loop_reg >= 0 && g->loop_reg <= 5))
		return;
	gen_key(g, -24);
	if (kind == 0) {	/* the value, while R1-R5 are scalars */
		gen_emit(g, (insn_t)STX(BPF_DW, 10, gen_src(g), -32));
		gen_stk_set(g, -32, 8, GS_DATA);
	}
	gen_emit(g, (insn_t)I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD,
			      0, g->c->hash));
	gen_emit(g, (insn_t)I(0, 0, 0, 0, 0));
	gen_emit(g, (insn_t)A64X(BPF_MOV, 2, 10));
	gen_emit(g, (insn_t)A64K(BPF_ADD, 2, -24));
	if (kind == 0) {
		gen_emit(g, (insn_t)A64X(BPF_MOV, 3, 10));
		gen_emit(g, (insn_t)A64K(BPF_ADD, 3, -32));
		gen_emit(g, (insn_t)MOV(4, gen_rand(g->r, 3)));
		gen_emit(g, (insn_t)CALL(BPF_FUNC_map_update_elem));
	} else if (kind == 1) {
		gen_emit(g, (insn_t)CALL(BPF_FUNC_map_delete_elem));
	} else {
		static const int32_t ops[] = { BPF_ADD, BPF_XCHG,
					       BPF_ADD | BPF_FETCH };

		gen_emit(g, (insn_t)CALL(BPF_FUNC_map_lookup_elem));
		j = g->n;
		gen_emit(g, (insn_t)JK(BPF_JEQ, 0, 0, 0));
		switch (gen_rand(g->r, 3)) {
		case 0: {
			int sz = gen_size(g);

			gen_emit(g, (insn_t)LDX(sz, 3, 0, gen_rand(g->r,
						9 - gen_bytes(sz))));
			break;
		}
		case 1:
			gen_emit(g, (insn_t)STX(gen_size(g), 0, 8, 0));
			break;
		default:
			gen_emit(g, (insn_t)MOV(3, gen_imm(g)));
			gen_emit(g, (insn_t)ATOM(BPF_DW, ops[gen_rand(g->r, 3)],
						 0, 3, 0));
		}
		gen_emit(g, (insn_t)MOV(0, gen_imm(g)));
		if (!g->full)
			g->in[j].off = g->n - j - 1;
	}
	gen_rescalar(g);
}

static inline void gen_nondet_call(struct bpf_gen *g)
{
	static const int32_t ids[] = {
		BPF_FUNC_ktime_get_ns, BPF_FUNC_get_prandom_u32,
		BPF_FUNC_get_smp_processor_id, BPF_FUNC_get_current_pid_tgid,
	};

	if (!g->c->nondet || (g->loop_reg >= 0 && g->loop_reg <= 5))
		return;
	gen_emit(g, (insn_t)CALL(ids[gen_rand(g->r, 4)]));
	gen_rescalar(g);
}

/* a ring buffer record: reserved, written in bounds, submitted or not */
static inline void gen_ringbuf(struct bpf_gen *g)
{
	int size = (gen_rand(g->r, 4) + 1) * 8, j;

	if (g->c->rb < 0 || g->sub || (g->loop_reg >= 0 && g->loop_reg <= 5))
		return;
	gen_emit(g, (insn_t)I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD,
			      0, g->c->rb));
	gen_emit(g, (insn_t)I(0, 0, 0, 0, 0));
	gen_emit(g, (insn_t)MOV(2, size));
	gen_emit(g, (insn_t)MOV(3, 0));
	gen_emit(g, (insn_t)CALL(BPF_FUNC_ringbuf_reserve));
	j = g->n;
	gen_emit(g, (insn_t)JK(BPF_JEQ, 0, 0, 0));
	for (int k = gen_rand(g->r, 3); k >= 0; k--) {
		int sz = gen_size(g), n = gen_bytes(sz);

		/* R1-R5 are scratched, R0 the record: R8 or R9 */
		gen_emit(g, (insn_t)STX(sz, 0, 8 + gen_rand(g->r, 2),
					gen_rand(g->r, size - n + 1)));
	}
	gen_emit(g, (insn_t)A64X(BPF_MOV, 1, 0));
	gen_emit(g, (insn_t)MOV(2, 0));
	gen_emit(g, (insn_t)CALL(gen_rand(g->r, 2) ? BPF_FUNC_ringbuf_submit :
				 BPF_FUNC_ringbuf_discard));
	if (!g->full)
		g->in[j].off = g->n - j - 1;
	gen_emit(g, (insn_t)MOV(0, gen_imm(g)));
	gen_rescalar(g);
}

enum { SUB_PLAIN, SUB_STACK_ARG, SUB_LOOP_CB };

/* a bpf-to-bpf call, or bpf_loop() with a callback */
static inline void gen_call(struct bpf_gen *g)
{
	int kind = gen_rand(g->r, 3);

	if (g->sub || g->nfix == 64 || (g->loop_reg >= 0 && g->loop_reg <= 5))
		return;
	if (kind == SUB_LOOP_CB && !g->c->loop_cb)
		kind = SUB_PLAIN;
	if (kind != SUB_PLAIN && !gen_stk_is(g, -8, 8, GS_DATA)) {
		gen_emit(g, (insn_t)ST(BPF_DW, 10, -8, gen_imm(g)));
		gen_stk_set(g, -8, 8, GS_DATA);
	}
	if (kind == SUB_STACK_ARG) {
		gen_emit(g, (insn_t)A64X(BPF_MOV, 1, 10));
		gen_emit(g, (insn_t)A64K(BPF_ADD, 1, -8));
	}
	if (kind == SUB_LOOP_CB) {
		gen_emit(g, (insn_t)MOV(1, gen_rand(g->r, 6)));
		g->fix[g->nfix].call = g->n;
		g->fix[g->nfix++].kind = kind;
		gen_emit(g, (insn_t)I(BPF_LD | BPF_IMM | BPF_DW, 2,
				      BPF_PSEUDO_FUNC, 0, 0));
		gen_emit(g, (insn_t)I(0, 0, 0, 0, 0));
		if (gen_rand(g->r, 2)) {
			gen_emit(g, (insn_t)A64X(BPF_MOV, 3, 10));
			gen_emit(g, (insn_t)A64K(BPF_ADD, 3, -8));
		} else {
			gen_emit(g, (insn_t)MOV(3, 0));
		}
		gen_emit(g, (insn_t)MOV(4, 0));
		gen_emit(g, (insn_t)CALL(BPF_FUNC_loop));
	} else {
		g->fix[g->nfix].call = g->n;
		g->fix[g->nfix++].kind = kind;
		gen_emit(g, (insn_t)CALLREL(0));
	}
	gen_rescalar(g);
}

/* if (a op b) skip the blocks inside */
static inline void gen_branch(struct bpf_gen *g)
{
	static const uint8_t ops[] = {
		BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
		BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
	};
	uint8_t cls = gen_rand(g->r, 3) ? BPF_JMP : BPF_JMP32;
	int x = gen_rand(g->r, 2), j = g->n;
	uint8_t before[BPF_GEN_STACK_BYTES_];
	bool val = g->val;

	if (g->depth >= 3)
		return;
	gen_emit(g, (insn_t)I(cls | ops[gen_rand(g->r, 11)] | (x ? BPF_X : 0),
			      gen_src(g), x ? gen_src(g) : 0, 0,
			      x ? 0 : gen_imm(g)));
	memcpy(before, g->stk, sizeof(before));
	g->depth++;
	for (int k = gen_rand(g->r, 3); k >= 0; k--)
		gen_block(g);
	g->depth--;
	if (!g->full)
		g->in[j].off = g->n - j - 1;
	/* after the join: only what both sides have */
	for (int b = 0; b < BPF_GEN_STACK_BYTES_; b++)
		if (g->stk[b] != before[b])
			g->stk[b] = before[b] == GS_NONE ? GS_NONE : GS_MIXED;
	g->val = val;
}

/* do { blocks } while (--counter); the counter a constant */
static inline void gen_loop(struct bpf_gen *g)
{
	int c = gen_tmp(g), top;

	if (g->depth >= 2 || g->loop_reg >= 0)
		return;
	gen_emit(g, (insn_t)MOV(c, gen_rand(g->r, 5) + 1));
	top = g->n;
	g->loop_reg = c;
	g->depth++;
	for (int k = gen_rand(g->r, 3); k >= 0; k--)
		gen_block(g);
	g->depth--;
	g->loop_reg = -1;
	gen_emit(g, (insn_t)A64K(BPF_SUB, c, 1));
	gen_emit(g, gen_rand(g->r, 2) ? (insn_t)JK(BPF_JNE, c, 0, top - g->n - 1) :
		 (insn_t)JK(BPF_JSGT, c, 0, top - g->n - 1));
}

static inline void gen_block(struct bpf_gen *g)
{
	if (g->full || g->n + 64 > g->cap)
		return;
	switch (gen_rand(g->r, 24)) {
	case 0 ... 6:	gen_alu(g); break;
	case 7:		gen_ldimm64(g); break;
	case 8 ... 9:	gen_stack_store(g); break;
	case 10 ... 11:	gen_stack_load(g); break;
	case 12 ... 13:	gen_r6_access(g); break;
	case 14:	gen_value_access(g); break;
	case 15:	gen_atomic(g); break;
	case 16:	gen_var_access(g); break;
	case 17 ... 18:	gen_branch(g); break;
	case 19:	gen_loop(g); break;
	case 20:	gen_map_call(g); break;
	case 21:	gen_call(g); break;
	case 22:	gen_ringbuf(g); break;
	default:	gen_nondet_call(g); break;
	}
}

/*
 * A subprogram (R1-R5 its arguments, scalars but for SUB_STACK_ARG's R1:
 * the caller's fp-8) or a bpf_loop() callback (R1 the index, R2 NULL or
 * the caller's fp-8): scalar work on its own stack, R0 set on the way
 * out (0 or 1 for a callback).
 */
static inline void gen_sub(struct bpf_gen *g, int kind)
{
	uint8_t saved[BPF_GEN_STACK_BYTES_];

	memcpy(saved, g->stk, sizeof(saved));
	memset(g->stk, GS_NONE, sizeof(g->stk));
	g->sub = true;
	if (kind == SUB_STACK_ARG) {
		gen_emit(g, (insn_t)LDX(BPF_DW, 0, 1, 0));
		gen_emit(g, (insn_t)A64K(BPF_ADD, 0, 1));
		gen_emit(g, (insn_t)STX(BPF_DW, 1, 0, 0));
		gen_emit(g, (insn_t)MOV(1, gen_imm(g)));
	}
	if (kind == SUB_LOOP_CB) {
		/* R2: the ctx, or NULL; R3-R5 are not the callback's */
		gen_emit(g, (insn_t)JK(BPF_JEQ, 2, 0, 3));
		gen_emit(g, (insn_t)LDX(BPF_DW, 0, 2, 0));
		gen_emit(g, (insn_t)A64X(BPF_ADD, 0, 1));
		gen_emit(g, (insn_t)STX(BPF_DW, 2, 0, 0));
		for (int k = 2; k <= 5; k++)
			gen_emit(g, (insn_t)MOV(k, gen_imm(g)));
	}
	gen_emit(g, (insn_t)MOV(0, gen_imm(g)));
	for (int k = gen_rand(g->r, 6); k >= 0; k--)
		gen_block(g);
	if (kind == SUB_LOOP_CB)
		gen_emit(g, (insn_t)A64K(BPF_AND, 0, 1));
	gen_emit(g, (insn_t)EXIT());
	g->sub = false;
	memcpy(g->stk, saved, sizeof(saved));
}

/*
 * Generate one program into @out (at most @cap insns, and cfg->max_insns):
 * its length, 0 when it did not fit.
 */
static inline size_t bpf_gen_prog(struct bpf_gen_rng *r,
				  const struct bpf_gen_cfg *c, insn_t *out,
				  size_t cap)
{
	struct bpf_gen g = { .r = r, .c = c, .in = out, .loop_reg = -1 };
	int blocks;

	g.cap = c->max_insns && c->max_insns < cap ? c->max_insns : cap;
	if (g.cap > 4000)
		g.cap = 4000;
	gen_emit(&g, (insn_t)A64X(BPF_MOV, 6, 1));
	if (c->arr >= 0 && gen_rand(r, 4)) {
		/* R7 = &arr[key], not NULL */
		gen_emit(&g, (insn_t)ST(BPF_W, 10, -4, gen_rand(r, 2)));
		gen_emit(&g, (insn_t)I(BPF_LD | BPF_IMM | BPF_DW, 1,
				       BPF_PSEUDO_MAP_FD, 0, c->arr));
		gen_emit(&g, (insn_t)I(0, 0, 0, 0, 0));
		gen_emit(&g, (insn_t)A64X(BPF_MOV, 2, 10));
		gen_emit(&g, (insn_t)A64K(BPF_ADD, 2, -4));
		gen_emit(&g, (insn_t)CALL(BPF_FUNC_map_lookup_elem));
		gen_emit(&g, (insn_t)JK(BPF_JNE, 0, 0, 1));
		gen_emit(&g, (insn_t)EXIT());
		gen_emit(&g, (insn_t)A64X(BPF_MOV, 7, 0));
		gen_stk_set(&g, -4, 4, GS_DATA);
		g.val = true;
	} else {
		gen_emit(&g, (insn_t)MOV(7, gen_imm(&g)));
	}
	for (int k = 0; k <= 9; k++)
		if (k != 6 && k != 7)
			gen_emit(&g, gen_rand(r, 4) ? (insn_t)MOV(k, gen_imm(&g)) :
				 (insn_t)A32K(BPF_MOV, k, gen_imm(&g)));
	blocks = gen_rand(r, c->max_blocks ? c->max_blocks : 40) + 1;
	while (blocks-- > 0 && !g.full)
		gen_block(&g);
	gen_emit(&g, (insn_t)EXIT());
	/* the subprograms, each where its call points */
	for (int f = 0; f < g.nfix && !g.full; f++) {
		size_t at = g.n, call = g.fix[f].call;

		gen_sub(&g, g.fix[f].kind);
		if (!g.full)
			g.in[call].imm = (int32_t)(at - call - 1);
	}
	return g.full ? 0 : g.n;
}

#endif /* FTRAMP_SELFTESTS_BPF_GEN_H */
