// SPDX-License-Identifier: MIT
/*
 * The verifier: a program may run only when every path through it is
 * proven safe, by abstract interpretation in the manner of the kernel's
 * kernel/bpf/verifier.c (smaller: no liveness, no precision marks).
 *
 * The argument, in the order the checks run:
 *
 *  1. Structure (check_cfg): each function the program can reach (its
 *     entry, bpf-to-bpf callees, bpf_loop callbacks) is walked as a
 *     graph: every jump stays inside its function, nothing falls off a
 *     function's end, every instruction of a reached function is
 *     reachable.  check.c has already refused bad opcodes, registers,
 *     targets outside the image and jumps into an ld_imm64.
 *  2. Every path is walked with a state per register and per stack byte
 *     of each frame (struct vstate): a register is NOT_INIT until
 *     written, a scalar (ranges + tnum) or a pointer of one type with a
 *     fixed and a variable offset.  A memory access is allowed only
 *     through a pointer whose whole range lies in its object: ctx slots
 *     (the function model), the frame's 512 bytes (reads only of bytes
 *     written), a map value (value_size), a ring buffer record (its
 *     reserved size), the raw type's data (recorded: test_run checks
 *     data_size_in).  A maybe-NULL pointer must be compared with 0
 *     first.  A helper call is checked against its prototype, R0 takes
 *     its return type, R1-R5 become NOT_INIT.  Ring buffer records are
 *     references: every path to the final exit must release them.
 *  3. Loops: a back-edge is followed like any jump; the walk ends
 *     because each state is either new or pruned (states_equal(): an
 *     explored state whose every path ended safely and which contains
 *     the current one), and every path costs processed instructions,
 *     bounded by BPF_COMPLEXITY_LIMIT (the kernel's 1 M).  Meeting a
 *     state still being explored that equals the current one exactly
 *     is an infinite loop.
 *  4. A static branch (ja with the static flag, jcond) is a conditional
 *     jump on no register: both directions are walked, since it may be
 *     flipped at any time (sbranch.c).
 *
 * What it does not prove: values read from memory are unknown scalars
 * (a pointer read back from a map is a number, never dereferenced);
 * probe_read_user() is the way to read arbitrary memory.  bpf_loop's
 * callback is verified for one run and for none (its writes through
 * the ctx pointer leave initialised bytes, whatever their number).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/verifier.h"

#define NR_REGS		11
#define STACK_SLOTS	(BPF_MAX_STACK / 8)
#define MAX_REFS	16
#define MAX_STATES_PER_INSN	64
#define PTR_OFF_MAX	(1 << 29)

enum rtype {
	NOT_INIT,
	SCALAR,
	PTR_TO_CTX,
	PTR_TO_STACK,
	PTR_TO_MAP_VALUE,
	PTR_TO_MAP_VALUE_OR_NULL,
	CONST_PTR_TO_MAP,
	PTR_TO_MEM,		/* a ring buffer record */
	PTR_TO_MEM_OR_NULL,
	PTR_TO_DATA,		/* raw programs' R1 */
	PTR_TO_FUNC,
};

static const char *const rtype_names[] = {
	[NOT_INIT] = "?", [SCALAR] = "scalar", [PTR_TO_CTX] = "ctx",
	[PTR_TO_STACK] = "fp", [PTR_TO_MAP_VALUE] = "map_value",
	[PTR_TO_MAP_VALUE_OR_NULL] = "map_value_or_null",
	[CONST_PTR_TO_MAP] = "map_ptr", [PTR_TO_MEM] = "mem",
	[PTR_TO_MEM_OR_NULL] = "mem_or_null", [PTR_TO_DATA] = "data",
	[PTR_TO_FUNC] = "func",
};

/* A tnum: the bits of mask are unknown, the others are those of value. */
struct tnum {
	uint64_t v, m;
};

struct reg {
	uint8_t type;		/* enum rtype */
	uint8_t frameno;	/* PTR_TO_STACK: whose frame */
	uint32_t id;		/* *_OR_NULL: checked together */
	uint32_t ref;		/* ring buffer record: the reference */
	int32_t off;		/* pointers: the fixed offset */
	uint32_t size;		/* PTR_TO_MEM: bytes; PTR_TO_FUNC: insn */
	const struct ftramp_bpf_map *map;
	/* scalars: the value; pointers: the variable offset */
	struct tnum t;
	int64_t smin, smax;
	uint64_t umin, umax;
};

enum { S_INVALID, S_MISC, S_SPILL };	/* S_INVALID 0: slot_safe() */

struct frame {
	struct reg r[NR_REGS];
	int callsite;		/* the call insn (-1: main) */
	int start;		/* the function's first insn */
	bool callback;		/* a bpf_loop callback */
	uint8_t st[BPF_MAX_STACK];	/* byte states, index = 512 + off */
	struct reg spill[STACK_SLOTS];
};

struct vstate {
	struct frame *f[BPF_MAX_CALL_DEPTH];
	int cur;
	int nrefs;
	struct { uint32_t id; int insn; } refs[MAX_REFS];
	/* pruning: the explored state this path came through */
	struct vstate *parent;
	int branches;		/* paths still being explored below */
	int insn;
};

struct slist {
	struct vstate *st;
	struct slist *next;
};

struct wait {
	struct vstate *st;
	int insn;
};

struct env {
	const struct ftramp_bpf_program *p;
	const struct ftramp_bpf_insn *in;
	int n;
	struct ftramp_bpf_error *e;
	struct bpf_vlog *log;
	struct bpf_verdict *v;
	uint32_t ctx_limit;
	char where[BPF_NAME_MAX + 16];
	/* cfg */
	uint8_t *fstart;	/* 1: a function starts here */
	int *fend;		/* per insn: its function's end */
	uint8_t *prune;
	uint8_t *seen;
	/* walk */
	struct vstate *cur;
	int insn;
	struct wait *stack;
	int nstack, capstack;
	struct slist **explored;
	uint32_t next_id;
	int err;
};

/* ------------------------------------------------------------------------
 * The log and refusals
 */

static void logv(struct bpf_vlog *l, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (!l || !l->level)
		return;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *b;

		while (l->len + n + 1 > cap)
			cap *= 2;
		if (cap > (64u << 20))
			return;	/* a log, not a reason to fail */
		b = realloc(l->buf, cap);
		if (!b)
			return;
		l->buf = b;
		l->cap = cap;
	}
	vsnprintf(l->buf + l->len, n + 1, fmt, ap);
	l->len += n;
}

static void __attribute__((format(printf, 2, 3)))
vlog(struct env *env, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logv(env->log, fmt, ap);
	va_end(ap);
}

void bpf_vlog_free(struct bpf_vlog *l)
{
	if (!l)
		return;
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}

static bool tnum_is_const(struct tnum t)
{
	return !t.m;
}

static bool reg_is_const(const struct reg *r)
{
	return r->type == SCALAR && tnum_is_const(r->t);
}

/*
 * A register as the log and messages print it: the longest, a scalar
 * with every bound and a var_off, is 162 bytes; a pointer with a map's
 * name and a variable offset about as long.
 */
#define REG_STR_MAX	256

static int reg_str(char *b, size_t sz, const struct reg *r)
{
	const char *tn = rtype_names[r->type];
	int o = 0;

/* appends, truncating at sz; o counts what the whole string would take */
#define P(...) (o += snprintf(b + (o < (int)sz ? o : (int)sz - 1),	\
			      o < (int)sz ? sz - o : 0, __VA_ARGS__))
	if (r->type == NOT_INIT)
		return P("?");
	if (r->type == SCALAR) {
		if (tnum_is_const(r->t))
			return P("%lld", (long long)r->t.v);
		P("scalar(");
		if (r->smin != INT64_MIN)
			P("smin=%lld,", (long long)r->smin);
		if (r->smax != INT64_MAX)
			P("smax=%lld,", (long long)r->smax);
		if (r->umin)
			P("umin=%llu,", (unsigned long long)r->umin);
		if (r->umax != UINT64_MAX)
			P("umax=%llu,", (unsigned long long)r->umax);
		if (r->t.m != UINT64_MAX)
			P("var_off=(%#llx; %#llx),", (unsigned long long)r->t.v,
			  (unsigned long long)r->t.m);
		if (o <= (int)sz && b[o - 1] == ',')
			o--;
		return P(")");
	}
	P("%s(", tn);
	if (r->type == PTR_TO_STACK)
		P("frame=%u,", r->frameno);
	if (r->map)
		P("map=%s,", r->map->name);
	if (r->type == PTR_TO_MEM || r->type == PTR_TO_MEM_OR_NULL)
		P("size=%u,", r->size);
	if (r->type == PTR_TO_FUNC)
		P("insn=%u,", r->size);
	if (r->id)
		P("id=%u,", r->id);
	if (r->ref)
		P("ref_obj_id=%u,", r->ref);
	P("off=%d", r->off);
	if (!tnum_is_const(r->t) || r->t.v)
		P(",var=[%lld,%lld]", (long long)r->smin, (long long)r->smax);
	return P(")");
#undef P
}

static void log_state(struct env *env, const struct vstate *s)
{
	char b[REG_STR_MAX];

	for (int fr = 0; fr <= s->cur; fr++) {
		const struct frame *f = s->f[fr];

		if (s->cur)
			vlog(env, " frame%d:", fr);
		for (int i = 0; i < NR_REGS; i++) {
			if (f->r[i].type == NOT_INIT)
				continue;
			reg_str(b, sizeof(b), &f->r[i]);
			vlog(env, " R%d=%s", i, b);
		}
		for (int k = 0; k < STACK_SLOTS; k++) {
			const uint8_t *st = &f->st[k * 8];

			if (st[0] == S_SPILL) {
				reg_str(b, sizeof(b), &f->spill[k]);
				vlog(env, " fp%d=%s", (k - STACK_SLOTS) * 8, b);
			} else if (memchr(st, S_MISC, 8)) {
				char m[9];

				for (int j = 0; j < 8; j++)
					m[j] = st[j] == S_MISC ? 'm' : '?';
				m[8] = 0;
				vlog(env, " fp%d=%s", (k - STACK_SLOTS) * 8, m);
			}
		}
	}
	vlog(env, "\n");
}

/* A refusal: the message in e, and in the log after the state. */
static int __attribute__((format(printf, 2, 3)))
verr(struct env *env, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (env->cur) {
		vlog(env, "%d:", env->insn);
		log_state(env, env->cur);
	}
	vlog(env, "insn %d: %s\n", env->insn, msg);
	bpf_errf(env->e, FTRAMP_BPF_E_VERIFY, "%sinsn %d: %s", env->where,
		 env->insn, msg);
	env->err = -EINVAL;
	return -EINVAL;
}

/* "R3 invalid mem access 'scalar' (R3=scalar(umax=7))" */
#define RERR(regno, r, fmt, ...) ({					\
		char rs_[REG_STR_MAX];					\
		reg_str(rs_, sizeof(rs_), (r));				\
		verr(env, "R%d " fmt " (R%d=%s)", (regno), ##__VA_ARGS__,\
		     (regno), rs_);					\
	})

/* ------------------------------------------------------------------------
 * tnums and bounds (the kernel's tnum.c and reg_bounds_sync(), rewritten)
 */

static const struct tnum tnum_unknown = { 0, UINT64_MAX };

static struct tnum tnum_const(uint64_t v)
{
	return (struct tnum){ v, 0 };
}

static struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t sm = a.m + b.m, sv = a.v + b.v, sigma = sm + sv;
	uint64_t chi = sigma ^ sv, mu = chi | a.m | b.m;

	return (struct tnum){ sv & ~mu, mu };
}

static struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t dv = a.v - b.v, alpha = dv + a.m, beta = dv - b.m;
	uint64_t chi = alpha ^ beta, mu = chi | a.m | b.m;

	return (struct tnum){ dv & ~mu, mu };
}

static struct tnum tnum_and(struct tnum a, struct tnum b)
{
	uint64_t alpha = a.v | a.m, beta = b.v | b.m, v = a.v & b.v;

	return (struct tnum){ v, alpha & beta & ~v };
}

static struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.v | b.v, mu = a.m | b.m;

	return (struct tnum){ v, mu & ~v };
}

static struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t v = a.v ^ b.v, mu = a.m | b.m;

	return (struct tnum){ v & ~mu, mu };
}

static struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t chi = min ^ max, delta;
	int bits = chi ? 64 - __builtin_clzll(chi) : 0;

	if (bits > 63)
		return tnum_unknown;
	delta = (1ull << bits) - 1;
	return (struct tnum){ min & ~delta, delta };
}

static struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	uint64_t v = a.v | b.v, mu = a.m & b.m;

	return (struct tnum){ v & ~mu, mu };
}

static struct tnum tnum_cast32(struct tnum a)
{
	return (struct tnum){ a.v & 0xffffffffu, a.m & 0xffffffffu };
}

/* b's values are all a's */
static bool tnum_in(struct tnum a, struct tnum b)
{
	if (b.m & ~a.m)
		return false;
	return a.v == (b.v & ~a.m);
}

static void mark_unknown(struct reg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = SCALAR;
	r->t = tnum_unknown;
	r->smin = INT64_MIN;
	r->smax = INT64_MAX;
	r->umax = UINT64_MAX;
}

static void mark_const(struct reg *r, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->type = SCALAR;
	r->t = tnum_const(v);
	r->smin = r->smax = (int64_t)v;
	r->umin = r->umax = v;
}

static void mark_range(struct reg *r, uint64_t umax)
{
	mark_unknown(r);
	r->umax = umax;
	r->smin = 0;
	r->smax = (int64_t)umax;
	r->t = tnum_range(0, umax);
}

static void mark_ptr(struct reg *r, int type)
{
	mark_const(r, 0);
	r->type = type;
}

static bool bounds_ok(const struct reg *r)
{
	return r->umin <= r->umax && r->smin <= r->smax;
}

static void bounds_sync(struct reg *r)
{
	for (int k = 0; k < 2; k++) {
		uint64_t tmax = r->t.v | r->t.m;
		int64_t tsmin = (int64_t)(r->t.v | (r->t.m & (1ull << 63)));
		int64_t tsmax = (int64_t)(r->t.v | (r->t.m & ~(1ull << 63)));

		if (r->umin < r->t.v)
			r->umin = r->t.v;
		if (r->umax > tmax)
			r->umax = tmax;
		if (r->smin < tsmin)
			r->smin = tsmin;
		if (r->smax > tsmax)
			r->smax = tsmax;
		/* an unsigned range on one side of the sign bit is signed too */
		if (!((r->umin ^ r->umax) >> 63)) {
			if (r->smin < (int64_t)r->umin)
				r->smin = (int64_t)r->umin;
			if (r->smax > (int64_t)r->umax)
				r->smax = (int64_t)r->umax;
		}
		if (r->smin >= 0 || r->smax < 0) {
			if (r->umin < (uint64_t)r->smin)
				r->umin = (uint64_t)r->smin;
			if (r->umax > (uint64_t)r->smax)
				r->umax = (uint64_t)r->smax;
		}
		if (r->umin <= r->umax)
			r->t = tnum_intersect(r->t, tnum_range(r->umin, r->umax));
	}
}

/* A register as ALU32 sees it: its low 32 bits, zero-extended. */
static void trunc32(struct reg *r)
{
	if (r->umax <= UINT32_MAX)
		return;
	r->t = tnum_cast32(r->t);
	r->umin = 0;
	r->umax = UINT32_MAX;
	r->smin = 0;
	r->smax = UINT32_MAX;
	bounds_sync(r);
}

/* ------------------------------------------------------------------------
 * States
 */

static struct frame *frame_dup(const struct frame *f)
{
	struct frame *n = malloc(sizeof(*n));

	if (n)
		memcpy(n, f, sizeof(*n));
	return n;
}

static void state_free(struct vstate *s)
{
	if (!s)
		return;
	for (int i = 0; i <= s->cur; i++)
		free(s->f[i]);
	free(s);
}

static struct vstate *state_dup(const struct vstate *s)
{
	struct vstate *n = malloc(sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n, s, sizeof(*n));
	for (int i = 0; i <= s->cur; i++) {
		n->f[i] = frame_dup(s->f[i]);
		if (!n->f[i]) {
			n->cur = i - 1;
			state_free(n);
			return NULL;
		}
	}
	return n;
}

static struct reg *regs(struct env *env)
{
	return env->cur->f[env->cur->cur]->r;
}

/* Every register and spill of every frame, for marking by id. */
#define for_each_reg(s, r, body) do {					\
		for (int fr_ = 0; fr_ <= (s)->cur; fr_++) {		\
			struct frame *f_ = (s)->f[fr_];			\
			for (int i_ = 0; i_ < NR_REGS; i_++) {		\
				struct reg *r = &f_->r[i_];		\
				body;					\
			}						\
			for (int k_ = 0; k_ < STACK_SLOTS; k_++) {	\
				struct reg *r = &f_->spill[k_];		\
				if (f_->st[k_ * 8] != S_SPILL)		\
					continue;			\
				body;					\
			}						\
		}							\
	} while (0)

static int push_branch(struct env *env, int insn)
{
	struct vstate *s;

	if (env->nstack == env->capstack) {
		int cap = env->capstack ? env->capstack * 2 : 64;
		struct wait *w = realloc(env->stack, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		env->stack = w;
		env->capstack = cap;
	}
	if (env->nstack > 8192)
		return verr(env, "the sequence of %d jumps is too complex",
			    env->nstack);
	s = state_dup(env->cur);
	if (!s)
		return -ENOMEM;
	if (s->parent)
		s->parent->branches++;
	env->stack[env->nstack].st = s;
	env->stack[env->nstack++].insn = insn;
	return 0;
}

/* A path ended: the explored states it came through may now prune. */
static void path_done(struct vstate *parent)
{
	while (parent) {
		if (--parent->branches)
			break;
		parent = parent->parent;
	}
}

/* ------------------------------------------------------------------------
 * Pruning: is the current state inside one already proven safe?
 */

struct idmap {
	uint32_t old[64], cur[64];
	int n;
};

static bool check_ids(struct idmap *m, uint32_t o, uint32_t c)
{
	if (!o && !c)
		return true;
	if (!o || !c)
		return false;
	for (int i = 0; i < m->n; i++) {
		if (m->old[i] == o)
			return m->cur[i] == c;
		if (m->cur[i] == c)
			return false;
	}
	if (m->n == 64)
		return false;
	m->old[m->n] = o;
	m->cur[m->n++] = c;
	return true;
}

static bool range_within(const struct reg *o, const struct reg *c)
{
	return o->umin <= c->umin && o->umax >= c->umax &&
	       o->smin <= c->smin && o->smax >= c->smax && tnum_in(o->t, c->t);
}

static bool regsafe(const struct reg *o, const struct reg *c,
		    struct idmap *m, bool exact)
{
	if (exact)
		return o->type == c->type && o->frameno == c->frameno &&
		       o->off == c->off && o->size == c->size &&
		       o->map == c->map && o->t.v == c->t.v &&
		       o->t.m == c->t.m && o->smin == c->smin &&
		       o->smax == c->smax && o->umin == c->umin &&
		       o->umax == c->umax && check_ids(m, o->id, c->id) &&
		       check_ids(m, o->ref, c->ref);
	if (o->type == NOT_INIT)
		return true;	/* never read on the explored paths */
	if (o->type != c->type)
		return false;
	if (o->type == SCALAR)
		return range_within(o, c);
	return o->off == c->off && o->frameno == c->frameno &&
	       o->size == c->size && o->map == c->map && range_within(o, c) &&
	       check_ids(m, o->id, c->id) && check_ids(m, o->ref, c->ref);
}

/* The byte states of stack slot @k, the 8 bytes as one word. */
static uint64_t slot_word(const struct frame *f, int k)
{
	uint64_t w;

	memcpy(&w, &f->st[k * 8], sizeof(w));
	return w;
}

/*
 * Is stack slot @k of @cf as safe as @of's?  exact: the same byte states
 * and spills.  Else every byte @of has initialised must be in @cf: misc
 * stays misc (or a spilled scalar), a spill a spill as safe.  The whole
 * slot at once where it can be (S_INVALID is 0): a walk compares states
 * at every prune point, up to MAX_STATES_PER_INSN each time, and a byte
 * loop over 512 bytes per frame was most of the verifier's time.
 */
static bool slot_safe(const struct frame *of, const struct frame *cf, int k,
		      struct idmap *m, bool exact)
{
	uint64_t ow = slot_word(of, k), cw = slot_word(cf, k);

	if (ow == cw || exact) {
		if (ow != cw)
			return false;
		return of->st[k * 8] != S_SPILL ||
		       regsafe(&of->spill[k], &cf->spill[k], m, exact);
	}
	if (!ow)		/* nothing initialised: anything is as safe */
		return true;
	for (int b = k * 8; b < k * 8 + 8; b++) {
		uint8_t os = of->st[b], cs = cf->st[b];

		if (os == S_INVALID)
			continue;
		if (os == S_MISC && (cs == S_MISC ||
		    (cs == S_SPILL && cf->spill[k].type == SCALAR)))
			continue;
		if (os != cs)
			return false;
		if (os == S_SPILL && b % 8 == 0 &&
		    !regsafe(&of->spill[k], &cf->spill[k], m, exact))
			return false;
	}
	return true;
}

static bool states_equal(const struct vstate *o, const struct vstate *c,
			 bool exact)
{
	struct idmap m = { .n = 0 };

	if (o->cur != c->cur || o->nrefs != c->nrefs)
		return false;
	for (int i = 0; i < o->nrefs; i++)
		if (!check_ids(&m, o->refs[i].id, c->refs[i].id))
			return false;
	/*
	 * The innermost frame first: where a loop's states differ (the
	 * outer frames of a bpf_loop callback wait unchanged).
	 */
	for (int fr = o->cur; fr >= 0; fr--) {
		const struct frame *of = o->f[fr], *cf = c->f[fr];

		if (of->callsite != cf->callsite || of->start != cf->start)
			return false;
		for (int i = 0; i < NR_REGS; i++)
			if (!regsafe(&of->r[i], &cf->r[i], &m, exact))
				return false;
		for (int k = 0; k < STACK_SLOTS; k++)
			if (!slot_safe(of, cf, k, &m, exact))
				return false;
	}
	return true;
}

/* 1: pruned, 0: go on (the state is kept), <0: refused. */
static int is_state_visited(struct env *env, int insn)
{
	struct vstate *cur = env->cur, *n;
	struct slist *sl, *nl;
	int count = 0;

	for (sl = env->explored[insn]; sl; sl = sl->next, count++) {
		if (sl->st->branches) {
			if (states_equal(sl->st, cur, true))
				return verr(env, "infinite loop detected at "
					    "insn %d", insn);
			continue;
		}
		if (states_equal(sl->st, cur, false)) {
			env->v->pruned++;
			return 1;
		}
	}
	if (count >= MAX_STATES_PER_INSN)
		return 0;
	n = state_dup(cur);
	nl = malloc(sizeof(*nl));
	if (!n || !nl) {
		state_free(n);
		free(nl);
		return -ENOMEM;
	}
	n->branches = 1;
	n->insn = insn;
	n->parent = cur->parent;
	cur->parent = n;
	nl->st = n;
	nl->next = env->explored[insn];
	env->explored[insn] = nl;
	env->v->states++;
	return 0;
}

/* ------------------------------------------------------------------------
 * Structure
 */

static bool is_ldimm64(const struct ftramp_bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

static bool is_pseudo_call(const struct ftramp_bpf_insn *in)
{
	return in->code == (BPF_JMP | BPF_CALL) &&
	       in->src_reg == BPF_PSEUDO_CALL;
}

static int jump_target(const struct ftramp_bpf_insn *in, int i)
{
	if (in->code == (BPF_JMP32 | BPF_JA))
		return i + in->imm + 1;
	return i + in->off + 1;
}

/*
 * Function starts: this program's entry, the other programs' of its
 * section, .text's first insn, every FUNC symbol of the image (a .text
 * function this program never calls ends the one before it, and is not
 * walked: as libbpf appends only the subprograms a program calls),
 * every bpf-to-bpf call or callback target.  A function ends where the
 * next one starts.
 */
static int find_functions(struct env *env)
{
	const struct ftramp_bpf_program *p = env->p;
	int end = env->n;

	env->fstart[p->entry] = 1;
	if (p->sec_n && p->sec_n < (size_t)env->n)
		env->fstart[p->sec_n] = 1;
	if (p->obj)
		for (size_t k = 0; k < p->obj->nr_progs; k++) {
			const struct ftramp_bpf_program *o = &p->obj->progs[k];

			if (o->sec && p->sec && !strcmp(o->sec, p->sec) &&
			    o->entry < (size_t)env->n)
				env->fstart[o->entry] = 1;
		}
	for (size_t k = 0; k < p->nr_funcs; k++)
		if (p->funcs[k].insn < (size_t)env->n)
			env->fstart[p->funcs[k].insn] = 1;
	for (int i = 0; i < env->n; i++) {
		const struct ftramp_bpf_insn *in = &env->in[i];

		if (is_pseudo_call(in) ||
		    (is_ldimm64(in) && in->src_reg == BPF_PSEUDO_FUNC))
			env->fstart[i + in->imm + 1] = 1;
	}
	for (int i = env->n - 1; i >= 0; i--) {
		env->fend[i] = end;
		if (env->fstart[i])
			end = i;
		if ((size_t)i == p->sec_n)
			end = i;
	}
	return 0;
}

/*
 * Walk function @start's graph: jumps inside it, no fall-off, every insn
 * reachable.  Callees found are walked too (@todo holds starts).
 */
static int check_cfg(struct env *env)
{
	int *todo = malloc(env->n * sizeof(int)), ntodo = 0;
	int *stack = malloc(env->n * sizeof(int));
	uint8_t *done = calloc(env->n, 1);
	int err = 0;

	if (!todo || !stack || !done) {
		err = -ENOMEM;
		goto out;
	}
	todo[ntodo++] = env->p->entry;
	done[env->p->entry] = 1;
	env->prune[env->p->entry] = 1;
	while (ntodo && !err) {
		int start = todo[--ntodo], end = env->fend[start], sp = 0;

		stack[sp++] = start;
		env->seen[start] = 1;
		while (sp && !err) {
			int i = stack[--sp], succ[2] = { 0, 0 }, ns = 0, nfall = 0;
			const struct ftramp_bpf_insn *in = &env->in[i];
			uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

			env->insn = i;
			if (is_ldimm64(in)) {
				if (in->src_reg == BPF_PSEUDO_FUNC) {
					int t = i + in->imm + 1;

					if (!done[t]) {
						done[t] = 1;
						todo[ntodo++] = t;
						env->prune[t] = 1;
					}
				}
				succ[ns++] = i + 2;
				nfall = 1;
			} else if ((cls == BPF_JMP || cls == BPF_JMP32) &&
				   op == BPF_EXIT) {
				ns = 0;
			} else if ((cls == BPF_JMP || cls == BPF_JMP32) &&
				   op == BPF_CALL) {
				if (is_pseudo_call(in)) {
					int t = i + in->imm + 1;

					if (!done[t]) {
						done[t] = 1;
						todo[ntodo++] = t;
						env->prune[t] = 1;
					}
				}
				succ[ns++] = i + 1;
				nfall = 1;
				if (i + 1 < env->n)
					env->prune[i + 1] = 1;
			} else if ((cls == BPF_JMP || cls == BPF_JMP32) &&
				   op == BPF_JA && !bpf_is_static_branch(in)) {
				/* (a static branch has both edges, below) */
				succ[ns++] = jump_target(in, i);
				if (succ[0] >= 0 && succ[0] < env->n)
					env->prune[succ[0]] = 1;
			} else if (cls == BPF_JMP || cls == BPF_JMP32) {
				succ[ns++] = i + 1;
				succ[ns++] = jump_target(in, i);
				nfall = 1;
				if (succ[0] < env->n)
					env->prune[succ[0]] = 1;
				if (succ[1] >= 0 && succ[1] < env->n)
					env->prune[succ[1]] = 1;
			} else {
				succ[ns++] = i + 1;
				nfall = 1;
			}
			for (int k = 0; k < ns; k++) {
				int t = succ[k];

				if (t >= end && k < nfall) {
					err = verr(env, "falls off the end of "
						   "the function at insn %d "
						   "(the last insn is not an "
						   "exit or a jump)", start);
					break;
				}
				if (t < start || t >= end) {
					err = verr(env, "jump out of range from "
						   "insn %d to %d (function "
						   "%d..%d)", i, t, start,
						   end - 1);
					break;
				}
				if (!env->seen[t]) {
					env->seen[t] = 1;
					stack[sp++] = t;
				}
			}
		}
		for (int i = start; !err && i < end; i++) {
			if (!env->seen[i] && !(i > 0 && is_ldimm64(&env->in[i - 1]) &&
					       env->seen[i - 1])) {
				env->insn = i;
				err = verr(env, "unreachable insn %d", i);
			}
		}
	}
out:
	free(todo);
	free(stack);
	free(done);
	return err;
}

/* ------------------------------------------------------------------------
 * Registers
 */

static int check_read(struct env *env, int regno)
{
	if (regs(env)[regno].type == NOT_INIT)
		return verr(env, "R%d !read_ok", regno);
	return 0;
}

static bool is_ptr(const struct reg *r)
{
	return r->type != NOT_INIT && r->type != SCALAR;
}

/* ------------------------------------------------------------------------
 * Memory
 */

static int64_t clamp64(__int128 v)
{
	return v < INT64_MIN ? INT64_MIN : v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/*
 * The accessed range [lo, hi) of an access of @size at @off through @r
 * (saturated: a register without bounds gives a range no object has).
 */
static void access_range(const struct reg *r, int off, int size, int64_t *lo,
			 int64_t *hi)
{
	*lo = clamp64((__int128)r->off + off + r->smin);
	*hi = clamp64((__int128)r->off + off + r->smax + size);
}

static int stack_access(struct env *env, int regno, const struct reg *r,
			int off, int size, bool write, const struct reg *val,
			int value_regno)
{
	struct frame *f = env->cur->f[r->frameno];
	int64_t lo, hi;

	access_range(r, off, size, &lo, &hi);
	if (lo < -BPF_MAX_STACK || hi > 0)
		return RERR(regno, r, "invalid %s stack off=%lld size=%d",
			    write ? "write to" : "read from",
			    (long long)lo, size);
	if (write) {
		bool fixed = tnum_is_const(r->t);

		/* it would outlive the frame it points into */
		if (val && val->type == PTR_TO_STACK &&
		    val->frameno > r->frameno)
			return RERR(regno, r, "cannot spill pointers to stack "
				    "into stack frame of the caller");
		if (fixed && size == 8 && lo % 8 == 0 && val) {
			int k = (lo + BPF_MAX_STACK) / 8;

			f->spill[k] = *val;
			memset(&f->st[k * 8], S_SPILL, 8);
			return 0;
		}
		for (int64_t b = lo; b < hi; b++) {
			int i = b + BPF_MAX_STACK, k = i / 8;

			if (f->st[i] == S_SPILL)	/* the spill is gone */
				for (int j = 0; j < 8; j++)
					f->st[k * 8 + j] = S_MISC;
		}
		if (fixed)
			memset(&f->st[lo + BPF_MAX_STACK], S_MISC, size);
		return 0;
	}
	for (int64_t b = lo; b < hi; b++)
		if (f->st[b + BPF_MAX_STACK] == S_INVALID)
			return RERR(regno, r, "invalid read from stack off "
				    "%lld+%d size %d: fp%lld was never written",
				    (long long)lo, (int)(b - lo), size,
				    (long long)b);
	if (value_regno < 0)
		return 0;
	{
		struct reg *dst = &regs(env)[value_regno];
		int k = (lo + BPF_MAX_STACK) / 8;

		if (tnum_is_const(r->t) && size == 8 && lo % 8 == 0 &&
		    f->st[k * 8] == S_SPILL) {
			*dst = f->spill[k];
			return 0;
		}
		for (int64_t b = lo; b < hi; b++) {
			int i = b + BPF_MAX_STACK;

			if (f->st[i] == S_SPILL && is_ptr(&f->spill[i / 8]))
				return RERR(regno, r, "invalid size of register "
					    "fill: %d bytes of a spilled "
					    "pointer", size);
		}
		mark_unknown(dst);
	}
	return 0;
}

static const char *map_kind(const struct ftramp_bpf_map *m)
{
	return m->origin == BPF_MAP_RODATA ? "rodata map" : "map";
}

/*
 * Check an access of @size bytes at @off through register @regno; for a
 * load, @value_regno receives the value; a store stores @val (NULL: an
 * immediate or an atomic's result, unknown).
 */
static int check_mem_access(struct env *env, int regno, int off, int size,
			    bool write, int value_regno, const struct reg *val,
			    bool sext)
{
	struct reg *r = &regs(env)[regno];
	int64_t lo, hi;
	int err = 0;

	access_range(r, off, size, &lo, &hi);
	switch (r->type) {
	case NOT_INIT:
		return verr(env, "R%d !read_ok", regno);
	case PTR_TO_STACK:
		err = stack_access(env, regno, r, off, size, write, val,
				   value_regno);
		/* 8 bytes: a spill restored, or unknown; less: by size */
		if (err || write || value_regno < 0 || size == 8)
			return err;
		break;
	case PTR_TO_CTX:
		if (write)
			return RERR(regno, r, "cannot write into ctx");
		if (!tnum_is_const(r->t))
			return RERR(regno, r, "variable ctx access prohibited");
		/* the kernel's btf_ctx_access(): a slot, or its low part */
		if (lo < 0 || lo % 8 || hi > (int64_t)env->ctx_limit * 8)
			return RERR(regno, r, "invalid bpf_context access "
				    "off=%lld size=%d: ctx has %u u64 slots",
				    (long long)lo, size, env->ctx_limit);
		if ((uint32_t)(lo / 8 + 1) > env->v->ctx_slots)
			env->v->ctx_slots = lo / 8 + 1;
		break;
	case PTR_TO_MAP_VALUE:
		if (lo < 0 || hi > r->map->value_size)
			return RERR(regno, r, "invalid access to map value, "
				    "value_size=%u off=%lld size=%d",
				    r->map->value_size, (long long)lo, size);
		if (write && r->map->origin == BPF_MAP_RODATA)
			return RERR(regno, r, "write into %s %s forbidden",
				    map_kind(r->map), r->map->name);
		break;
	case PTR_TO_MEM:
		if (lo < 0 || hi > r->size)
			return RERR(regno, r, "invalid access to memory, "
				    "mem_size=%u off=%lld size=%d", r->size,
				    (long long)lo, size);
		break;
	case PTR_TO_DATA:
		if (lo < 0 || hi > BPF_RAW_DATA_MAX)
			return RERR(regno, r, "invalid access to data off=%lld "
				    "size=%d", (long long)lo, size);
		if ((uint64_t)hi > env->v->data_need)
			env->v->data_need = hi;
		break;
	default:
		return RERR(regno, r, "invalid mem access '%s'",
			    rtype_names[r->type]);
	}
	if (!write && value_regno >= 0) {
		struct reg *d = &regs(env)[value_regno];

		if (sext) {
			int64_t m = 1ll << (size * 8 - 1);

			mark_unknown(d);
			d->smin = -m;
			d->smax = m - 1;
			bounds_sync(d);
		} else if (size < 8) {
			mark_range(d, (1ull << (size * 8)) - 1);
		} else {
			mark_unknown(d);
		}
	}
	return err;
}

/* ------------------------------------------------------------------------
 * ALU
 */

static uint64_t alu_eval(bool is64, uint8_t op, int16_t off, uint64_t a,
			 uint64_t b, int32_t imm)
{
	uint64_t mask = is64 ? UINT64_MAX : UINT32_MAX;
	int sh = is64 ? 63 : 31;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	switch (op) {
	case BPF_ADD: return (a + b) & mask;
	case BPF_SUB: return (a - b) & mask;
	case BPF_MUL: return (a * b) & mask;
	case BPF_OR:  return a | b;
	case BPF_AND: return a & b;
	case BPF_XOR: return a ^ b;
	case BPF_LSH: return (a << (b & sh)) & mask;
	case BPF_RSH: return a >> (b & sh);
	case BPF_ARSH:
		if (is64)
			return (uint64_t)((int64_t)a >> (b & 63));
		return (uint32_t)((int32_t)a >> (b & 31));
	case BPF_NEG: return (-a) & mask;
	case BPF_DIV:
		if (!b)
			return 0;
		if (!off)
			return a / b;
		if (is64) {
			if ((int64_t)b == -1)
				return -a;
			return (uint64_t)((int64_t)a / (int64_t)b);
		}
		if ((int32_t)b == -1)
			return (uint32_t)-a;
		return (uint32_t)((int32_t)a / (int32_t)b);
	case BPF_MOD:
		if (!b)
			return a;
		if (!off)
			return a % b;
		if (is64) {
			if ((int64_t)b == -1)
				return 0;
			return (uint64_t)((int64_t)a % (int64_t)b);
		}
		if ((int32_t)b == -1)
			return 0;
		return (uint32_t)((int32_t)a % (int32_t)b);
	case BPF_MOV:
		switch (off) {
		case 8:  return (is64 ? (uint64_t)(int64_t)(int8_t)b :
				 (uint32_t)(int32_t)(int8_t)b);
		case 16: return (is64 ? (uint64_t)(int64_t)(int16_t)b :
				 (uint32_t)(int32_t)(int16_t)b);
		case 32: return (uint64_t)(int64_t)(int32_t)b;
		}
		return b;
	case BPF_END: {
		uint64_t v = a;

		(void)imm;
		return v;
	}
	}
	return 0;
}

static bool add_overflows(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

static bool sub_overflows(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_sub_overflow(a, b, r);
}

/* d op= s on scalars (64-bit semantics; ALU32 truncates before/after). */
static void scalar_op(struct reg *d, const struct reg *s, uint8_t op,
		      int16_t off, bool is64)
{
	int sh = is64 ? 63 : 31;
	struct reg o = *d;

	if (!bounds_ok(d) || !bounds_ok(s)) {
		mark_unknown(d);
		return;
	}
	switch (op) {
	case BPF_ADD:
		mark_unknown(d);
		if (!add_overflows(o.smin, s->smin, &d->smin) &&
		    !add_overflows(o.smax, s->smax, &d->smax)) {
		} else {
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
		}
		d->umin = o.umin + s->umin;
		d->umax = o.umax + s->umax;
		if (d->umin < o.umin || d->umax < o.umax) {
			d->umin = 0;
			d->umax = UINT64_MAX;
		}
		d->t = tnum_add(o.t, s->t);
		break;
	case BPF_SUB:
		mark_unknown(d);
		if (sub_overflows(o.smin, s->smax, &d->smin) ||
		    sub_overflows(o.smax, s->smin, &d->smax)) {
			d->smin = INT64_MIN;
			d->smax = INT64_MAX;
		}
		if (o.umin >= s->umax) {
			d->umin = o.umin - s->umax;
			d->umax = o.umax - s->umin;
		}
		d->t = tnum_sub(o.t, s->t);
		break;
	case BPF_MUL:
		mark_unknown(d);
		if (o.umax <= UINT32_MAX && s->umax <= UINT32_MAX) {
			d->umin = o.umin * s->umin;
			d->umax = o.umax * s->umax;
		}
		break;
	case BPF_AND:
		mark_unknown(d);
		d->t = tnum_and(o.t, s->t);
		d->umax = o.umax < s->umax ? o.umax : s->umax;
		break;
	case BPF_OR:
		mark_unknown(d);
		d->t = tnum_or(o.t, s->t);
		d->umin = o.umin > s->umin ? o.umin : s->umin;
		break;
	case BPF_XOR:
		mark_unknown(d);
		d->t = tnum_xor(o.t, s->t);
		break;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH: {
		int k;

		mark_unknown(d);
		if (!reg_is_const(s))
			break;
		k = s->t.v & sh;
		if (!is64 && op == BPF_ARSH)
			break;	/* the sign is bit 31: left to trunc32 */
		if (op == BPF_LSH) {
			d->t = (struct tnum){ o.t.v << k, o.t.m << k };
			if (o.umax <= (UINT64_MAX >> k)) {
				d->umin = o.umin << k;
				d->umax = o.umax << k;
			}
		} else if (op == BPF_RSH) {
			d->t = (struct tnum){ o.t.v >> k, o.t.m >> k };
			d->umin = o.umin >> k;
			d->umax = o.umax >> k;
		} else {
			d->t = (struct tnum){ (uint64_t)((int64_t)o.t.v >> k),
					      (uint64_t)((int64_t)o.t.m >> k) };
			d->smin = o.smin >> k;
			d->smax = o.smax >> k;
		}
		break;
	}
	case BPF_DIV:
		mark_unknown(d);
		if (!off && reg_is_const(s) && s->t.v) {
			d->umin = o.umin / s->t.v;
			d->umax = o.umax / s->t.v;
		}
		break;
	case BPF_MOD:
		if (!off && reg_is_const(s) && s->t.v) {
			uint64_t m = s->t.v - 1;

			mark_range(d, o.umax < m ? o.umax : m);
		} else if (!(reg_is_const(s) && !s->t.v)) {
			mark_unknown(d);	/* % 0 keeps d */
		}
		break;
	default:
		mark_unknown(d);
	}
	bounds_sync(d);
	if (!bounds_ok(d))
		mark_unknown(d);
}

static int check_alu(struct env *env, const struct ftramp_bpf_insn *in)
{
	bool is64 = BPF_CLASS(in->code) == BPF_ALU64;
	uint8_t op = BPF_OP(in->code);
	struct reg *R = regs(env), *d = &R[in->dst_reg], src;
	int err;

	if (BPF_SRC(in->code) == BPF_X && op != BPF_END && op != BPF_NEG) {
		err = check_read(env, in->src_reg);
		if (err)
			return err;
		src = R[in->src_reg];
	} else {
		mark_const(&src, is64 ? (uint64_t)(int64_t)in->imm :
			   (uint32_t)in->imm);
	}
	if (op == BPF_MOV) {
		if (in->off && src.type != SCALAR)
			return RERR(in->src_reg, &src, "sign-extending move of "
				    "a pointer");
		if (!in->off && is64) {
			*d = src;
			return 0;
		}
		if (src.type != SCALAR) {
			mark_range(d, UINT32_MAX);	/* a pointer's low half */
			return 0;
		}
		if (reg_is_const(&src)) {
			mark_const(d, alu_eval(is64, op, in->off, 0, src.t.v, 0));
		} else if (in->off) {
			int64_t m = 1ll << (in->off - 1);

			mark_unknown(d);
			if (is64) {
				d->smin = -m;
				d->smax = m - 1;
				bounds_sync(d);
			} else {
				mark_range(d, UINT32_MAX);
			}
		} else {
			*d = src;
			trunc32(d);
		}
		return 0;
	}
	err = check_read(env, in->dst_reg);
	if (err)
		return err;
	if (op == BPF_NEG || op == BPF_END) {
		if (d->type != SCALAR)
			return RERR(in->dst_reg, d, "%s of a pointer prohibited",
				    op == BPF_NEG ? "negation" : "byte swap");
		if (reg_is_const(d) && op == BPF_NEG) {
			mark_const(d, alu_eval(is64, op, 0, d->t.v, 0, 0));
		} else if (op == BPF_END && BPF_SRC(in->code) == BPF_TO_LE &&
			   !is64 && in->imm < 64) {
			struct reg m;

			mark_const(&m, (1ull << in->imm) - 1);
			scalar_op(d, &m, BPF_AND, 0, true);
		} else {
			mark_unknown(d);
		}
		return 0;
	}
	if (is_ptr(d) || is_ptr(&src)) {
		struct reg *p = is_ptr(d) ? d : &src, *s = is_ptr(d) ? &src : d;
		int pregno = is_ptr(d) ? in->dst_reg : in->src_reg;

		if (!is64)
			return RERR(pregno, p, "32-bit pointer arithmetic "
				    "prohibited");
		if (op == BPF_SUB && is_ptr(d) && is_ptr(&src)) {
			if (d->type != src.type || d->map != src.map ||
			    d->frameno != src.frameno)
				return RERR(in->dst_reg, d, "subtraction of "
					    "pointers of different objects");
			mark_unknown(d);
			return 0;
		}
		if ((op != BPF_ADD && op != BPF_SUB) ||
		    (op == BPF_SUB && !is_ptr(d)) || is_ptr(s))
			return RERR(pregno, p, "pointer arithmetic with %s "
				    "operator prohibited",
				    op == BPF_ADD ? "add" : op == BPF_SUB ?
				    "sub" : "this");
		switch (p->type) {
		case PTR_TO_STACK: case PTR_TO_MAP_VALUE: case PTR_TO_MEM:
		case PTR_TO_DATA: case PTR_TO_CTX:
			break;
		default:
			return RERR(pregno, p, "pointer arithmetic on %s "
				    "prohibited%s", rtype_names[p->type],
				    p->type == PTR_TO_MAP_VALUE_OR_NULL ||
				    p->type == PTR_TO_MEM_OR_NULL ?
				    ", null-check it first" : "");
		}
		{
			struct reg res = *p, *sc = s;

			if (reg_is_const(sc)) {
				int64_t v = (int64_t)sc->t.v, no;

				if (op == BPF_SUB)
					v = -v;
				no = (int64_t)res.off + v;
				if (v < -PTR_OFF_MAX || v > PTR_OFF_MAX ||
				    no < -PTR_OFF_MAX || no > PTR_OFF_MAX)
					return RERR(pregno, p, "value %lld makes "
						    "%s pointer be out of "
						    "bounds", (long long)v,
						    rtype_names[p->type]);
				res.off = no;
			} else {
				struct reg var = res;

				if (p->type == PTR_TO_CTX)
					return RERR(pregno, p, "variable ctx "
						    "offset prohibited");
				if (sc->smin < -PTR_OFF_MAX ||
				    sc->smax > PTR_OFF_MAX)
					return verr(env, "R%d unbounded pointer "
						    "arithmetic: %s pointer "
						    "plus a register without "
						    "bounds", pregno,
						    rtype_names[p->type]);
				var.type = SCALAR;
				scalar_op(&var, sc, op, 0, true);
				if (var.smin < -PTR_OFF_MAX ||
				    var.smax > PTR_OFF_MAX)
					return RERR(pregno, p, "unbounded "
						    "variable offset");
				res.t = var.t;
				res.smin = var.smin;
				res.smax = var.smax;
				res.umin = var.umin;
				res.umax = var.umax;
			}
			*d = res;
		}
		return 0;
	}
	if (is64) {
		if (reg_is_const(d) && reg_is_const(&src))
			mark_const(d, alu_eval(true, op, in->off, d->t.v,
					       src.t.v, 0));
		else
			scalar_op(d, &src, op, in->off, true);
		return 0;
	}
	if (reg_is_const(d) && reg_is_const(&src)) {
		mark_const(d, alu_eval(false, op, in->off, d->t.v, src.t.v, 0));
		return 0;
	}
	trunc32(d);
	trunc32(&src);
	if (in->off && (op == BPF_DIV || op == BPF_MOD))
		mark_unknown(d);
	else
		scalar_op(d, &src, op, in->off, false);
	if (op == BPF_ARSH)
		mark_unknown(d);
	if (d->umax > UINT32_MAX) {
		struct tnum t = tnum_cast32(d->t);

		mark_range(d, UINT32_MAX);
		d->t = tnum_intersect(d->t, t);
		bounds_sync(d);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Conditional jumps
 */

/* The 32-bit view a JMP32 compares: signed ranges as s32. */
static struct reg view32(const struct reg *r, bool sign)
{
	struct reg v = *r;

	trunc32(&v);
	if (sign) {
		if (v.umax <= INT32_MAX) {
			v.smin = v.umin;
			v.smax = v.umax;
		} else if (v.umin > INT32_MAX) {
			v.smin = (int64_t)v.umin - (1ll << 32);
			v.smax = (int64_t)v.umax - (1ll << 32);
		} else {
			v.smin = INT32_MIN;
			v.smax = INT32_MAX;
		}
	}
	return v;
}

/* 1 taken, 0 not, -1 unknown. */
static int branch_taken(const struct reg *a, const struct reg *b, uint8_t op)
{
	switch (op) {
	case BPF_JEQ:
		if (reg_is_const(a) && reg_is_const(b))
			return a->t.v == b->t.v;
		if (a->umin > b->umax || a->umax < b->umin ||
		    a->smin > b->smax || a->smax < b->smin)
			return 0;
		return -1;
	case BPF_JNE: {
		int r = branch_taken(a, b, BPF_JEQ);

		return r < 0 ? r : !r;
	}
	case BPF_JGT:
		if (a->umin > b->umax) return 1;
		if (a->umax <= b->umin) return 0;
		return -1;
	case BPF_JGE:
		if (a->umin >= b->umax) return 1;
		if (a->umax < b->umin) return 0;
		return -1;
	case BPF_JLT:
		return branch_taken(b, a, BPF_JGT);
	case BPF_JLE:
		return branch_taken(b, a, BPF_JGE);
	case BPF_JSGT:
		if (a->smin > b->smax) return 1;
		if (a->smax <= b->smin) return 0;
		return -1;
	case BPF_JSGE:
		if (a->smin >= b->smax) return 1;
		if (a->smax < b->smin) return 0;
		return -1;
	case BPF_JSLT:
		return branch_taken(b, a, BPF_JSGT);
	case BPF_JSLE:
		return branch_taken(b, a, BPF_JSGE);
	case BPF_JSET:
		if (reg_is_const(b)) {
			if (a->t.v & b->t.v)
				return 1;
			if (!((a->t.v | a->t.m) & b->t.v))
				return 0;
		}
		return -1;
	}
	return -1;
}

/* a op b holds (a, b refined, 64-bit unsigned/signed as op says). */
static void refine(struct reg *a, struct reg *b, uint8_t op)
{
	switch (op) {
	case BPF_JEQ:
		if (a->umin < b->umin) a->umin = b->umin;
		if (a->umax > b->umax) a->umax = b->umax;
		if (a->smin < b->smin) a->smin = b->smin;
		if (a->smax > b->smax) a->smax = b->smax;
		a->t = tnum_intersect(a->t, b->t);
		b->umin = a->umin; b->umax = a->umax;
		b->smin = a->smin; b->smax = a->smax;
		b->t = a->t;
		break;
	case BPF_JNE:
		if (reg_is_const(b)) {
			if (a->umin == b->t.v && a->umin < UINT64_MAX)
				a->umin++;
			else if (a->umax == b->t.v && a->umax)
				a->umax--;
			if (a->smin == (int64_t)b->t.v && a->smin < INT64_MAX)
				a->smin++;
			else if (a->smax == (int64_t)b->t.v && a->smax > INT64_MIN)
				a->smax--;
		}
		break;
	case BPF_JGT:
		if (b->umin < UINT64_MAX && a->umin < b->umin + 1)
			a->umin = b->umin + 1;
		if (a->umax && b->umax > a->umax - 1)
			b->umax = a->umax - 1;
		break;
	case BPF_JGE:
		if (a->umin < b->umin) a->umin = b->umin;
		if (b->umax > a->umax) b->umax = a->umax;
		break;
	case BPF_JSGT:
		if (b->smin < INT64_MAX && a->smin < b->smin + 1)
			a->smin = b->smin + 1;
		if (a->smax > INT64_MIN && b->smax > a->smax - 1)
			b->smax = a->smax - 1;
		break;
	case BPF_JSGE:
		if (a->smin < b->smin) a->smin = b->smin;
		if (b->smax > a->smax) b->smax = a->smax;
		break;
	case BPF_JLT: refine(b, a, BPF_JGT); return;
	case BPF_JLE: refine(b, a, BPF_JGE); return;
	case BPF_JSLT: refine(b, a, BPF_JSGT); return;
	case BPF_JSLE: refine(b, a, BPF_JSGE); return;
	case BPF_JSET:
		break;
	}
	bounds_sync(a);
	bounds_sync(b);
}

static uint8_t negate(uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JNE: return BPF_JEQ;
	case BPF_JGT: return BPF_JLE;
	case BPF_JGE: return BPF_JLT;
	case BPF_JLT: return BPF_JGE;
	case BPF_JLE: return BPF_JGT;
	case BPF_JSGT: return BPF_JSLE;
	case BPF_JSGE: return BPF_JSLT;
	case BPF_JSLT: return BPF_JSGE;
	case BPF_JSLE: return BPF_JSGT;
	}
	return op;
}

static void release_ref_id(struct vstate *s, uint32_t ref)
{
	for (int i = 0; i < s->nrefs; i++)
		if (s->refs[i].id == ref) {
			s->refs[i] = s->refs[--s->nrefs];
			break;
		}
	for_each_reg(s, r, if (r->ref == ref) mark_unknown(r));
}

/* The maybe-NULL pointers of @id become NULL (scalar 0) or valid. */
static void mark_null(struct vstate *s, uint32_t id, bool is_null)
{
	uint32_t ref = 0;

	for_each_reg(s, r, {
		if (r->id != id || (r->type != PTR_TO_MAP_VALUE_OR_NULL &&
				    r->type != PTR_TO_MEM_OR_NULL))
			continue;
		if (is_null) {
			ref = r->ref ? r->ref : ref;
			mark_const(r, 0);
		} else {
			r->type = r->type == PTR_TO_MEM_OR_NULL ? PTR_TO_MEM :
				  PTR_TO_MAP_VALUE;
			r->id = 0;
		}
	});
	if (ref)
		release_ref_id(s, ref);	/* a NULL record needs no release */
}

static bool is_or_null(const struct reg *r)
{
	return r->type == PTR_TO_MAP_VALUE_OR_NULL ||
	       r->type == PTR_TO_MEM_OR_NULL;
}

/* Returns the next insn of the current path, or <0. */
static int check_cond_jmp(struct env *env, const struct ftramp_bpf_insn *in,
			  int i)
{
	bool is32 = BPF_CLASS(in->code) == BPF_JMP32;
	uint8_t op = BPF_OP(in->code);
	int tgt = i + in->off + 1, err, taken;
	struct reg *R = regs(env), *a = &R[in->dst_reg], b, *bp = NULL;
	bool sign = op == BPF_JSGT || op == BPF_JSGE || op == BPF_JSLT ||
		    op == BPF_JSLE;

	err = check_read(env, in->dst_reg);
	if (err)
		return err;
	if (BPF_SRC(in->code) == BPF_X) {
		err = check_read(env, in->src_reg);
		if (err)
			return err;
		bp = &R[in->src_reg];
		b = *bp;
	} else {
		mark_const(&b, is32 ? (sign ? (uint64_t)(int64_t)in->imm :
				       (uint32_t)in->imm) :
			   (uint64_t)(int64_t)in->imm);
	}
	/* a pointer against 0 */
	if (is_ptr(a) || is_ptr(&b)) {
		struct reg *p = is_ptr(a) ? a : &b, *o = is_ptr(a) ? &b : a;
		bool zero = reg_is_const(o) && !o->t.v && !is_ptr(o);

		if (zero && (op == BPF_JEQ || op == BPF_JNE) && !is32) {
			if (is_or_null(p)) {
				uint32_t id = p->id;
				int e2;

				/* the branch target is "== NULL" for JEQ */
				e2 = push_branch(env, tgt);
				if (e2)
					return e2;
				mark_null(env->stack[env->nstack - 1].st, id,
					  op == BPF_JEQ);
				mark_null(env->cur, id, op != BPF_JEQ);
				return i + 1;
			}
			/* a valid pointer is never NULL */
			return (op == BPF_JNE) ? tgt : i + 1;
		}
		if (is_or_null(p) && !zero)
			return RERR(is_ptr(a) ? in->dst_reg : in->src_reg, p,
				    "comparison of a maybe-NULL pointer, "
				    "null-check it first");
		err = push_branch(env, tgt);
		return err ? err : i + 1;
	}
	{
		struct reg va = is32 ? view32(a, sign) : *a;
		struct reg vb = is32 ? view32(&b, sign) : b;

		if (is32 && BPF_SRC(in->code) == BPF_K)
			vb = b;
		taken = branch_taken(&va, &vb, op);
	}
	if (taken == 1)
		return tgt;
	if (taken == 0)
		return i + 1;
	err = push_branch(env, tgt);
	if (err)
		return err;
	/* refine when the compared values are the registers' own */
	if (!is32 || (a->umax <= (sign ? INT32_MAX : UINT32_MAX) &&
		      (!bp || bp->umax <= (sign ? INT32_MAX : UINT32_MAX)))) {
		struct vstate *ts = env->stack[env->nstack - 1].st;
		struct reg *ta = &ts->f[ts->cur]->r[in->dst_reg];
		struct reg tb = b, fb = b;

		if (op == BPF_JSET) {
			if (reg_is_const(&b)) {
				a->t.v &= ~b.t.v;	/* fall-through: bits clear */
				a->t.m &= ~b.t.v;
				bounds_sync(a);
			}
		} else {
			refine(ta, &tb, op);
			refine(a, &fb, negate(op));
			if (bp) {
				ts->f[ts->cur]->r[in->src_reg] = tb;
				*bp = fb;
			}
			/*
			 * No value is in an empty range: that side is dead,
			 * though branch_taken() could not tell (the ranges
			 * only met once refined).
			 */
			if (!bounds_ok(ta) || !bounds_ok(&tb)) {
				env->nstack--;
				path_done(ts->parent);
				state_free(ts);
				ts = NULL;
			}
			if (!bounds_ok(a) || !bounds_ok(&fb)) {
				struct vstate *dead = env->cur;

				if (!ts)
					return verr(env, "verifier bug: both "
						    "sides of a branch empty");
				env->cur = env->stack[--env->nstack].st;
				path_done(dead->parent);
				state_free(dead);
				return tgt;
			}
		}
	}
	return i + 1;
}

/* ------------------------------------------------------------------------
 * Helper calls: the kernel's bpf_func_proto, per helper
 */

enum arg {
	A_NONE,		/* not read */
	A_ANY,		/* initialised, any type */
	A_MAP,		/* CONST_PTR_TO_MAP */
	A_KEY,		/* readable key_size bytes */
	A_VALUE,	/* readable value_size bytes */
	A_MEM,		/* readable, size in the next arg */
	A_UMEM,		/* writable, may be uninitialised, size next */
	A_SIZE,		/* > 0 and bounded */
	A_SIZE0,	/* >= 0 and bounded */
	A_CTX,
	A_RB_REC,	/* a ring buffer record: released */
	A_FUNC,		/* a callback */
	A_STACK_NULL,	/* a stack pointer or NULL */
	A_LONG,		/* 8 writable bytes */
	A_ALLOC,	/* a known size > 0 */
	A_CONST_STR,	/* a NUL-terminated string in a .rodata map */
};

enum ret { R_INT, R_U32, R_VALUE_OR_NULL, R_REC_OR_NULL, R_VOID };

struct proto {
	uint8_t ret;
	uint8_t arg[5];
	uint32_t map_type;	/* the map argument's type; 0: a plain map */
};

static const struct proto protos[] = {
	[BPF_FUNC_map_lookup_elem] = { R_VALUE_OR_NULL, { A_MAP, A_KEY } },
	[BPF_FUNC_map_update_elem] = { R_INT, { A_MAP, A_KEY, A_VALUE, A_ANY } },
	[BPF_FUNC_map_delete_elem] = { R_INT, { A_MAP, A_KEY } },
	[BPF_FUNC_probe_read] = { R_INT, { A_UMEM, A_SIZE0, A_ANY } },
	[BPF_FUNC_probe_read_user] = { R_INT, { A_UMEM, A_SIZE0, A_ANY } },
	[BPF_FUNC_probe_read_user_str] = { R_INT, { A_UMEM, A_SIZE0, A_ANY } },
	[BPF_FUNC_ktime_get_ns] = { R_INT },
	[BPF_FUNC_ktime_get_boot_ns] = { R_INT },
	[BPF_FUNC_trace_printk] = { R_INT, { A_MEM, A_SIZE } },
	[BPF_FUNC_get_prandom_u32] = { R_U32 },
	[BPF_FUNC_get_smp_processor_id] = { R_U32 },
	[BPF_FUNC_tail_call] = { R_INT, { A_CTX, A_MAP, A_ANY },
				 BPF_MAP_TYPE_PROG_ARRAY },
	[BPF_FUNC_get_current_pid_tgid] = { R_INT },
	[BPF_FUNC_get_current_uid_gid] = { R_INT },
	[BPF_FUNC_probe_read_str] = { R_INT, { A_UMEM, A_SIZE0, A_ANY } },
	[BPF_FUNC_probe_read_kernel] = { R_INT, { A_UMEM, A_SIZE0, A_ANY } },
	[BPF_FUNC_probe_read_kernel_str] = { R_INT, { A_UMEM, A_SIZE0, A_ANY } },
	[BPF_FUNC_ktime_get_coarse_ns] = { R_INT },
	[BPF_FUNC_ktime_get_tai_ns] = { R_INT },
	[BPF_FUNC_strncmp] = { R_INT, { A_MEM, A_SIZE, A_CONST_STR } },
	[BPF_FUNC_get_current_comm] = { R_INT, { A_UMEM, A_SIZE } },
	[BPF_FUNC_ringbuf_output] = { R_INT, { A_MAP, A_MEM, A_SIZE0, A_ANY },
				      BPF_MAP_TYPE_RINGBUF },
	[BPF_FUNC_ringbuf_reserve] = { R_REC_OR_NULL, { A_MAP, A_ALLOC, A_ANY },
				       BPF_MAP_TYPE_RINGBUF },
	[BPF_FUNC_ringbuf_submit] = { R_VOID, { A_RB_REC, A_ANY } },
	[BPF_FUNC_ringbuf_discard] = { R_VOID, { A_RB_REC, A_ANY } },
	[BPF_FUNC_get_func_ip] = { R_INT, { A_CTX } },
	[BPF_FUNC_get_attach_cookie] = { R_INT, { A_CTX } },
	[BPF_FUNC_loop] = { R_INT, { A_ANY, A_FUNC, A_STACK_NULL, A_ANY } },
	[BPF_FUNC_get_func_arg] = { R_INT, { A_CTX, A_ANY, A_LONG } },
	[BPF_FUNC_get_func_ret] = { R_INT, { A_CTX, A_LONG } },
	[BPF_FUNC_get_func_arg_cnt] = { R_INT, { A_CTX } },
};

/* Readable/writable [reg, reg + size) as a helper argument. */
static int helper_mem(struct env *env, int regno, uint64_t size, bool write,
		      bool init)
{
	struct reg *r = &regs(env)[regno];

	if (!size)
		return 0;
	switch (r->type) {
	case PTR_TO_STACK:
	case PTR_TO_MAP_VALUE:
	case PTR_TO_MEM:
	case PTR_TO_DATA:
		break;
	default:
		return RERR(regno, r, "type=%s expected=fp, map_value, mem",
			    rtype_names[r->type]);
	}
	if (r->type == PTR_TO_STACK) {
		if (!tnum_is_const(r->t))
			return RERR(regno, r, "variable stack pointer as a "
				    "helper argument");
		if (!write && init) {
			int64_t lo = (int64_t)r->off + (int64_t)r->t.v;
			struct frame *f = env->cur->f[r->frameno];

			if (lo < -BPF_MAX_STACK || lo + (int64_t)size > 0)
				return RERR(regno, r, "invalid indirect access "
					    "to stack off=%lld size=%llu",
					    (long long)lo,
					    (unsigned long long)size);
			for (uint64_t b = 0; b < size; b++)
				if (f->st[lo + b + BPF_MAX_STACK] == S_INVALID)
					return RERR(regno, r, "invalid indirect "
						    "read from stack off "
						    "%lld+%llu size %llu",
						    (long long)lo,
						    (unsigned long long)b,
						    (unsigned long long)size);
			return 0;
		}
	}
	/* writes of up to size bytes, byte by byte through the checks */
	if (size > (1u << 29))
		return RERR(regno, r, "memory size %llu too large",
			    (unsigned long long)size);
	if (r->type == PTR_TO_STACK) {
		int64_t lo = (int64_t)r->off + (int64_t)r->t.v;
		struct frame *f = env->cur->f[r->frameno];

		if (lo < -BPF_MAX_STACK || lo + (int64_t)size > 0)
			return RERR(regno, r, "invalid indirect access to stack "
				    "off=%lld size=%llu", (long long)lo,
				    (unsigned long long)size);
		for (int64_t b = lo; b < lo + (int64_t)size; b++) {
			int i = b + BPF_MAX_STACK;

			if (f->st[i] == S_SPILL)
				memset(&f->st[i / 8 * 8], S_MISC, 8);
			f->st[i] = S_MISC;
		}
		return 0;
	}
	/* map values, records, data: one access of the whole size */
	{
		int64_t lo, hi;

		access_range(r, 0, (int)size, &lo, &hi);
		if (r->type == PTR_TO_MAP_VALUE &&
		    (lo < 0 || hi > r->map->value_size))
			return RERR(regno, r, "invalid access to map value, "
				    "value_size=%u off=%lld size=%llu",
				    r->map->value_size, (long long)lo,
				    (unsigned long long)size);
		if (r->type == PTR_TO_MAP_VALUE && write &&
		    r->map->origin == BPF_MAP_RODATA)
			return RERR(regno, r, "write into %s %s forbidden",
				    map_kind(r->map), r->map->name);
		if (r->type == PTR_TO_MEM && (lo < 0 || hi > r->size))
			return RERR(regno, r, "invalid access to memory, "
				    "mem_size=%u off=%lld size=%llu", r->size,
				    (long long)lo, (unsigned long long)size);
		if (r->type == PTR_TO_DATA) {
			if (lo < 0 || hi > BPF_RAW_DATA_MAX)
				return RERR(regno, r, "invalid access to data "
					    "off=%lld size=%llu", (long long)lo,
					    (unsigned long long)size);
			if ((uint64_t)hi > env->v->data_need)
				env->v->data_need = hi;
		}
	}
	return 0;
}

/*
 * The kernel's ARG_PTR_TO_CONST_STR (check_reg_const_str()): a constant
 * offset into a read-only map's value with a NUL before its end.  Read
 * only is .rodata here (the kernel: BPF_F_RDONLY_PROG and frozen; no map
 * of ours is frozen, so the helper bounds its read by the value too), and
 * the string is checked in the section's bytes, which the map starts as.
 */
static int const_str(struct env *env, int regno)
{
	struct reg *r = &regs(env)[regno];
	const struct ftramp_bpf_map *m = r->map;
	int64_t off;

	if (r->type != PTR_TO_MAP_VALUE)
		return RERR(regno, r, "type=%s expected=map_value",
			    rtype_names[r->type]);
	if (m->origin != BPF_MAP_RODATA || !m->init)
		return RERR(regno, r, "does not point to a readonly map");
	if (!tnum_is_const(r->t))
		return RERR(regno, r, "is not a constant address");
	off = (int64_t)r->off + (int64_t)r->t.v;
	if (off < 0 || off >= m->value_size)
		return RERR(regno, r, "invalid access to map value, "
			    "value_size=%u off=%lld size=%lld", m->value_size,
			    (long long)off, (long long)m->value_size - off);
	if ((size_t)off >= m->init_size ||
	    !memchr((const char *)m->init + off, '\0',
		    (m->init_size < m->value_size ? m->init_size :
		     m->value_size) - off))
		return RERR(regno, r, "string is not zero-terminated");
	return 0;
}

static int enter_func(struct env *env, int i, int target, bool callback,
		      const struct reg *cb_ctx);
static bool p_type_raw(struct env *env);

/*
 * A tail call's map and index, merged over every path that reaches the
 * call (the kernel's bpf_map_key_store): one constant, or VAR.  Pruning
 * keeps it right: a state is pruned only against one whose R3 range
 * contains it, and that one was recorded here.  A call from a
 * subprogram frame never tail-calls (interp.c): VAR.
 */
static void tail_key_store(struct env *env, int i,
			   const struct ftramp_bpf_map *map,
			   const struct reg *r3)
{
	struct bpf_tail_key *k = &env->v->tail_keys[i];
	int64_t key = reg_is_const(r3) && !env->cur->cur ?
		      (int64_t)(uint32_t)r3->t.v : BPF_TAIL_KEY_VAR;

	if (k->key == BPF_TAIL_KEY_UNSEEN) {
		k->map = map;
		k->key = key;
	} else if (k->map != map || k->key != key) {
		k->key = BPF_TAIL_KEY_VAR;
	}
}

static int check_helper(struct env *env, const struct ftramp_bpf_insn *in,
			int i, int *next)
{
	int id = in->imm, err, mem_regno = -1;
	const struct proto *pr;
	const struct ftramp_bpf_map *map = NULL;
	struct reg *R = regs(env), cb_ctx = { .type = NOT_INIT };
	uint32_t alloc = 0, release = 0;
	int cb = -1;
	bool mem_write = false, mem_init = false;

	if (id <= 0 || (size_t)id >= sizeof(protos) / sizeof(protos[0]) ||
	    !bpf_helper_known(id))
		return verr(env, "unknown helper %d", id);
	pr = &protos[id];
	for (int a = 0; a < 5; a++) {
		int regno = a + 1;
		struct reg *r = &R[regno];
		uint8_t t = pr->arg[a];

		if (t == A_NONE)
			continue;
		if (r->type == NOT_INIT)
			return verr(env, "R%d !read_ok: %s() takes an argument "
				    "%d", regno, bpf_helper_name(id), a + 1);
		switch (t) {
		case A_ANY:
			break;
		case A_MAP:
			if (r->type != CONST_PTR_TO_MAP)
				return RERR(regno, r, "type=%s expected=map_ptr",
					    rtype_names[r->type]);
			map = r->map;
			if (pr->map_type ? map->type != pr->map_type :
			    map->type == BPF_MAP_TYPE_RINGBUF ||
			    map->type == BPF_MAP_TYPE_PROG_ARRAY)
				return verr(env, "cannot pass map_type %u (map "
					    "%s) into func %s#%d", map->type,
					    map->name, bpf_helper_name(id), id);
			break;
		case A_KEY:
		case A_VALUE:
			err = helper_mem(env, regno, t == A_KEY ? map->key_size :
					 map->value_size, false, true);
			if (err)
				return err;
			break;
		case A_MEM:
		case A_UMEM:
			mem_regno = regno;
			mem_write = t == A_UMEM;
			mem_init = t == A_MEM;
			if (r->type != PTR_TO_STACK && r->type != PTR_TO_MAP_VALUE &&
			    r->type != PTR_TO_MEM && r->type != PTR_TO_DATA)
				return RERR(regno, r, "type=%s expected=fp, "
					    "map_value, mem",
					    rtype_names[r->type]);
			break;
		case A_SIZE:
		case A_SIZE0:
			if (r->type != SCALAR)
				return RERR(regno, r, "type=%s expected=scalar "
					    "(a size)", rtype_names[r->type]);
			if (r->smin < 0)
				return RERR(regno, r, "min value is negative, "
					    "either use unsigned or 'var &= "
					    "const'");
			if (t == A_SIZE && !r->umin)
				return RERR(regno, r, "invalid zero-sized read");
			if (r->umax >= BPF_RAW_DATA_MAX)
				return RERR(regno, r, "unbounded memory access, "
					    "use 'var &= const' or 'if (var < "
					    "const)'");
			err = helper_mem(env, mem_regno, r->umax, mem_write,
					 mem_init);
			if (err)
				return err;
			break;
		case A_CTX:
			if ((r->type != PTR_TO_CTX && r->type != PTR_TO_DATA) ||
			    r->off || !tnum_is_const(r->t) || r->t.v)
				return RERR(regno, r, "type=%s expected=ctx",
					    rtype_names[r->type]);
			break;
		case A_RB_REC:
			if (r->type != PTR_TO_MEM || !r->ref)
				return RERR(regno, r, "type=%s expected=ring "
					    "buffer record%s",
					    rtype_names[r->type],
					    r->type == PTR_TO_MEM_OR_NULL ?
					    ", null-check it first" : "");
			if (r->off || !tnum_is_const(r->t) || r->t.v)
				return RERR(regno, r, "must have zero offset "
					    "when passed to release func");
			release = r->ref;
			break;
		case A_FUNC:
			if (r->type != PTR_TO_FUNC)
				return RERR(regno, r, "type=%s expected=func",
					    rtype_names[r->type]);
			cb = r->size;
			break;
		case A_STACK_NULL:
			if (r->type != PTR_TO_STACK &&
			    !(reg_is_const(r) && !r->t.v))
				return RERR(regno, r, "type=%s expected=fp or "
					    "NULL", rtype_names[r->type]);
			cb_ctx = *r;
			break;
		case A_LONG:
			err = helper_mem(env, regno, 8, true, false);
			if (err)
				return err;
			break;
		case A_ALLOC:
			if (!reg_is_const(r) || !r->t.v || r->t.v > UINT32_MAX)
				return RERR(regno, r, "a record size must be a "
					    "known constant > 0");
			alloc = r->t.v;
			break;
		case A_CONST_STR:
			err = const_str(env, regno);
			if (err)
				return err;
			break;
		}
	}
	if (map && env->v->call_map) {
		const struct ftramp_bpf_map **seen = &env->v->call_map[i];

		*seen = !*seen || *seen == map ? map : BPF_MAP_POISON;
	}
	if (id == BPF_FUNC_tail_call && env->v->tail_keys)
		tail_key_store(env, i, map, &R[3]);
	if (release) {
		bool found = false;

		for (int k = 0; k < env->cur->nrefs; k++)
			found |= env->cur->refs[k].id == release;
		if (!found)
			return verr(env, "R1 reference id=%u already released",
				    release);
		release_ref_id(env->cur, release);
	}
	if (cb >= 0) {
		/* bpf_loop: the path where the callback never runs ... */
		err = push_branch(env, i + 1);
		if (err)
			return err;
		{
			struct vstate *s = env->stack[env->nstack - 1].st;
			struct reg *sr = s->f[s->cur]->r;

			for (int k = 1; k <= 5; k++)
				sr[k].type = NOT_INIT;
			mark_unknown(&sr[0]);
		}
		/* ... and the one where it runs: a call from here */
		err = enter_func(env, i, cb, true, &cb_ctx);
		if (err)
			return err;
		*next = cb;
		return 0;
	}
	for (int k = 1; k <= 5; k++)
		R[k].type = NOT_INIT;
	switch (pr->ret) {
	case R_INT:
		mark_unknown(&R[0]);
		break;
	case R_U32:
		mark_range(&R[0], UINT32_MAX);
		break;
	case R_VOID:
		memset(&R[0], 0, sizeof(R[0]));
		break;
	case R_VALUE_OR_NULL:
		mark_ptr(&R[0], PTR_TO_MAP_VALUE_OR_NULL);
		R[0].map = map;
		R[0].id = ++env->next_id;
		break;
	case R_REC_OR_NULL:
		if (env->cur->nrefs == MAX_REFS)
			return verr(env, "too many ring buffer records held "
				    "(%d)", MAX_REFS);
		mark_ptr(&R[0], PTR_TO_MEM_OR_NULL);
		R[0].size = alloc;
		R[0].id = ++env->next_id;
		R[0].ref = R[0].id;
		env->cur->refs[env->cur->nrefs].id = R[0].ref;
		env->cur->refs[env->cur->nrefs++].insn = i;
		break;
	}
	*next = i + 1;
	return 0;
}

/* ------------------------------------------------------------------------
 * Frames
 */

static void init_frame(struct frame *f, int frameno, int callsite, int start)
{
	memset(f, 0, sizeof(*f));
	f->callsite = callsite;
	f->start = start;
	mark_ptr(&f->r[BPF_REG_10], PTR_TO_STACK);
	f->r[BPF_REG_10].frameno = frameno;
}

static int enter_func(struct env *env, int i, int target, bool callback,
		      const struct reg *cb_ctx)
{
	struct vstate *s = env->cur;
	struct frame *caller = s->f[s->cur], *f;

	if (s->cur + 1 >= BPF_MAX_CALL_DEPTH)
		return verr(env, "the call stack of %d frames is too deep",
			    s->cur + 2);
	for (int k = 0; k <= s->cur; k++)
		if (s->f[k]->start == target)
			return verr(env, "recursive call from insn %d to %d", i,
				    target);
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	init_frame(f, s->cur + 1, i, target);
	f->callback = callback;
	if (callback) {
		mark_range(&f->r[1], UINT32_MAX);	/* the index */
		f->r[2] = *cb_ctx;
	} else {
		for (int k = 1; k <= 5; k++)
			f->r[k] = caller->r[k];
	}
	s->f[++s->cur] = f;
	return 0;
}

/* exit: from a function (back to its caller) or from the program */
static int check_exit(struct env *env, int *next)
{
	struct vstate *s = env->cur;
	struct frame *f = s->f[s->cur], *caller;
	struct reg *r0 = &f->r[0];

	if (r0->type == NOT_INIT)
		return verr(env, "R0 !read_ok: exit without a return value");
	if (!s->cur) {
		if (r0->type != SCALAR)
			return RERR(0, r0, "at program exit the register R0 is "
				    "not a scalar");
		if (s->nrefs)
			return verr(env, "Unreleased reference id=%u "
				    "alloc_insn=%d: a ring buffer record must "
				    "be submitted or discarded on every path",
				    s->refs[0].id, s->refs[0].insn);
		*next = -1;
		return 0;
	}
	if (f->callback && (r0->type != SCALAR || r0->smin < 0 || r0->umax > 1))
		return RERR(0, r0, "at callback return R0 should be in [0, 1]");
	if (r0->type == PTR_TO_STACK && r0->frameno == s->cur)
		return RERR(0, r0, "cannot return a stack pointer to the "
			    "caller");
	caller = s->f[s->cur - 1];
	*next = f->callsite + 1;
	if (f->callback)
		mark_unknown(&caller->r[0]);
	else
		caller->r[0] = *r0;
	for (int k = 1; k <= 5; k++)
		caller->r[k].type = NOT_INIT;
	free(f);
	s->f[s->cur--] = NULL;
	return 0;
}

/* ------------------------------------------------------------------------
 * The walk
 */

static bool p_type_raw(struct env *env)
{
	return env->p->type == FTRAMP_BPF_PROG_RAW;
}

/*
 * An atomic's address is a multiple of its size, as the kernel requires
 * of every atomic (check_atomic(), strict alignment): LDADD, CAS and
 * LDXR fault on an unaligned address.  Every object an atomic may reach
 * starts 8-aligned (the frame, map values, ring buffer records, the raw
 * data copy), so the offset decides: the fixed part and the variable
 * part's possible bits.
 */
static int check_atomic_align(struct env *env, int regno, int off, int size)
{
	const struct reg *r = &regs(env)[regno];
	int64_t fixed = (int64_t)r->off + off + (int64_t)r->t.v;

	if (r->type == SCALAR || r->type == NOT_INIT)
		return 0;	/* refused as an access */
	if ((fixed & (size - 1)) || (r->t.m & (size - 1)))
		return RERR(regno, r, "misaligned atomic access off=%lld "
			    "size=%d", (long long)(r->off + off), size);
	return 0;
}

static int check_insn(struct env *env, int i, int *next)
{
	const struct ftramp_bpf_insn *in = &env->in[i];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	static const int sizes[] = { 4, 2, 1, 8 };
	int size = sizes[BPF_SIZE(in->code) >> 3], err;
	struct reg *R = regs(env);

	*next = i + 1;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		return check_alu(env, in);
	case BPF_LD: {
		struct reg *d = &R[in->dst_reg];

		*next = i + 2;
		switch (in->src_reg) {
		case BPF_PSEUDO_MAP_FD:
			mark_ptr(d, CONST_PTR_TO_MAP);
			d->map = env->p->maps[in->imm];
			break;
		case BPF_PSEUDO_MAP_VALUE:
			mark_ptr(d, PTR_TO_MAP_VALUE);
			d->map = env->p->maps[in->imm];
			d->off = in[1].imm;
			break;
		case BPF_PSEUDO_FUNC:
			mark_ptr(d, PTR_TO_FUNC);
			d->size = i + in->imm + 1;
			break;
		default:
			mark_const(d, (uint32_t)in->imm |
				   ((uint64_t)(uint32_t)in[1].imm << 32));
		}
		return 0;
	}
	case BPF_LDX:
		err = check_read(env, in->src_reg);
		if (err)
			return err;
		return check_mem_access(env, in->src_reg, in->off, size, false,
					in->dst_reg, NULL,
					BPF_MODE(in->code) == BPF_MEMSX);
	case BPF_ST:
		err = check_read(env, in->dst_reg);
		if (err)
			return err;
		{
			struct reg k;

			mark_const(&k, (uint64_t)(int64_t)in->imm);
			return check_mem_access(env, in->dst_reg, in->off, size,
						true, -1, &k, false);
		}
	case BPF_STX:
		err = check_read(env, in->dst_reg);
		if (!err)
			err = check_read(env, in->src_reg);
		if (err)
			return err;
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			bool fetch = in->imm == BPF_XCHG ||
				     in->imm == BPF_CMPXCHG ||
				     (in->imm & BPF_FETCH);

			if (R[in->src_reg].type != SCALAR)
				return RERR(in->src_reg, &R[in->src_reg],
					    "leaks addr into mem (atomic)");
			if (in->imm == BPF_CMPXCHG) {
				err = check_read(env, BPF_REG_0);
				if (err)
					return err;
				if (R[0].type != SCALAR)
					return RERR(0, &R[0], "cmpxchg "
						    "compares a pointer");
			}
			if (R[in->dst_reg].type == PTR_TO_CTX)
				return RERR(in->dst_reg, &R[in->dst_reg],
					    "atomic on ctx prohibited");
			err = check_atomic_align(env, in->dst_reg, in->off,
						 size);
			if (err)
				return err;
			err = check_mem_access(env, in->dst_reg, in->off, size,
					       false, -1, NULL, false);
			if (!err)
				err = check_mem_access(env, in->dst_reg, in->off,
						       size, true, -1, NULL,
						       false);
			if (err)
				return err;
			if (in->imm == BPF_CMPXCHG)
				size == 8 ? mark_unknown(&R[0]) :
					    mark_range(&R[0], UINT32_MAX);
			else if (fetch)
				size == 8 ? mark_unknown(&R[in->src_reg]) :
					    mark_range(&R[in->src_reg],
						       UINT32_MAX);
			return 0;
		}
		{
			struct reg v = R[in->src_reg];

			if (size < 8 && v.type != SCALAR)
				mark_unknown(&v);	/* part of a pointer */
			return check_mem_access(env, in->dst_reg, in->off, size,
						true, -1, &v, false);
		}
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT)
			return check_exit(env, next);
		if (op == BPF_CALL) {
			if (is_pseudo_call(in)) {
				err = enter_func(env, i, i + in->imm + 1, false,
						 NULL);
				*next = i + in->imm + 1;
				return err;
			}
			return check_helper(env, in, i, next);
		}
		if (bpf_is_static_branch(in)) {
			/* on and off: the jump waits, the nop goes on */
			err = push_branch(env, jump_target(in, i));
			*next = i + 1;
			return err;
		}
		if (op == BPF_JA) {
			*next = jump_target(in, i);
			return 0;
		}
		err = check_cond_jmp(env, in, i);
		if (err < 0)
			return err;
		*next = err;
		return 0;
	}
	return verr(env, "unknown opcode %#x", in->code);
}

static struct vstate *initial_state(struct env *env)
{
	struct vstate *s = calloc(1, sizeof(*s));
	struct frame *f = malloc(sizeof(*f));

	if (!s || !f) {
		free(s);
		free(f);
		return NULL;
	}
	init_frame(f, 0, -1, env->p->entry);
	s->f[0] = f;
	if (p_type_raw(env)) {
		mark_ptr(&f->r[1], PTR_TO_DATA);
		mark_range(&f->r[2], UINT32_MAX);
	} else {
		mark_ptr(&f->r[1], PTR_TO_CTX);
	}
	return s;
}

static int do_check(struct env *env)
{
	int insn = env->p->entry, next, err = 0;

	env->cur = initial_state(env);
	if (!env->cur)
		return -ENOMEM;
	for (;;) {
		env->insn = insn;
		if (++env->v->insn_processed > BPF_COMPLEXITY_LIMIT) {
			err = verr(env, "BPF program is too large. Processed "
				   "%u insn", env->v->insn_processed - 1);
			break;
		}
		if (env->prune[insn]) {
			err = is_state_visited(env, insn);
			if (err < 0)
				break;
			if (err == 1) {
				if (env->log && env->log->level)
					vlog(env, "%d: safe\n", insn);
				next = -1;
				err = 0;
				goto path_end;
			}
		}
		if (env->log && env->log->level > 1) {
			vlog(env, "%d:", insn);
			log_state(env, env->cur);
		}
		err = check_insn(env, insn, &next);
		if (err)
			break;
		if (next >= 0) {
			insn = next;
			continue;
		}
path_end:
		path_done(env->cur->parent);
		state_free(env->cur);
		env->cur = NULL;
		if (!env->nstack)
			break;
		env->cur = env->stack[--env->nstack].st;
		insn = env->stack[env->nstack].insn;
		if (env->log && env->log->level)
			vlog(env, "from branch to %d:", insn);
		if (env->log && env->log->level) {
			struct vstate *s = env->cur;

			env->cur = s;
			log_state(env, s);
		}
	}
	state_free(env->cur);
	env->cur = NULL;
	while (env->nstack)
		state_free(env->stack[--env->nstack].st);
	return err;
}

void bpf_verdict_free(struct bpf_verdict *v)
{
	free(v->call_map);
	v->call_map = NULL;
	free(v->live);
	v->live = NULL;
}

struct bpf_tail_key *bpf_tail_keys_new(size_t n)
{
	struct bpf_tail_key *k = malloc((n ? n : 1) * sizeof(*k));

	for (size_t i = 0; k && i < n; i++)
		k[i] = (struct bpf_tail_key){ NULL, BPF_TAIL_KEY_UNSEEN };
	return k;
}

int bpf_verify(const struct ftramp_bpf_program *p, uint32_t ctx_slots,
	       struct ftramp_bpf_error *e, struct bpf_vlog *log,
	       struct bpf_verdict *v)
{
	struct bpf_verdict local;
	struct bpf_tail_key *tail_keys = v ? v->tail_keys : NULL;
	struct env env = {
		.p = p, .in = p->insns, .n = (int)p->n, .e = e, .log = log,
		.v = v ? v : &local,
		.ctx_limit = ctx_slots != BPF_CTX_UNKNOWN ? ctx_slots :
			     FTRAMP_MAX_CTX_ARGS + FTRAMP_MAX_CTX_RET,
	};
	int err;

	memset(env.v, 0, sizeof(*env.v));
	if (v)
		v->call_map = calloc(p->n ? p->n : 1, sizeof(*v->call_map));
	env.v->tail_keys = tail_keys;
	if (p->sec)
		snprintf(env.where, sizeof(env.where), "section %s, ", p->sec);
	env.fstart = calloc(p->n, 1);
	env.fend = calloc(p->n, sizeof(int));
	env.prune = calloc(p->n, 1);
	env.seen = calloc(p->n, 1);
	env.explored = calloc(p->n, sizeof(*env.explored));
	err = env.fstart && env.fend && env.prune && env.seen && env.explored &&
	      (!v || v->call_map) ? 0 : -ENOMEM;
	if (!err)
		err = find_functions(&env);
	if (!err)
		err = check_cfg(&env);
	if (!err)
		err = do_check(&env);
	if (!err || err == -EINVAL)
		vlog(&env, "processed %u insns (limit %u), %u states, %u "
		     "pruned, ctx slots read %u, data bytes %u: %s\n",
		     env.v->insn_processed, BPF_COMPLEXITY_LIMIT, env.v->states,
		     env.v->pruned, env.v->ctx_slots, env.v->data_need,
		     err ? "refused" : "verified");
	for (int i = 0; env.explored && i < (int)p->n; i++) {
		for (struct slist *sl = env.explored[i], *nx; sl; sl = nx) {
			nx = sl->next;
			state_free(sl->st);
			free(sl);
		}
	}
	free(env.stack);
	free(env.fstart);
	free(env.fend);
	free(env.prune);
	if (v && !err)
		v->live = env.seen;	/* check_cfg()'s walk */
	else
		free(env.seen);
	free(env.explored);
	return err;
}
