// SPDX-License-Identifier: MIT
/*
 * bpf_tail_call in both engines (bpf/tail.c, arch/arm64/bpf_jit.c):
 * the 33-limit counted exactly, a self tail call, the direct slot and the
 * indirect form, update/delete/re-update in a loop, updates racing calls
 * from 4 threads, the write log of an update (single words, expected
 * old -> new, one sync per batch), and the owner rule that keeps engines
 * apart.  The slots an object declares (libbpf's `.values = { [K] =
 * &prog }`): filled at load in each engine, the direct slots moved, and
 * each refusal, at open and at load.
 *
 * Programs are RAW: R1 points at data, u64 words: [0] a hop counter each
 * program bumps, [1] the index an indirect call uses.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "bpf/bpf.h"
#include "harness.h"
#include "bpf_insns.h"
#include "bpf_obj.h"

#define LD_MAP(d, idx)	I(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_MAP_FD, 0, \
			  idx), I(0, 0, 0, 0, 0)

enum { DIRECT, INDIRECT };

/*
 * r6 = ctx; data[0]++; tail_call(ctx, map, key or data[1]);
 * return data[0] + tag * 1000 (only when the tail call fell through)
 */
static struct ftramp_bpf_program *chain_prog(struct ftramp_bpf_map *pa,
					     int engine, int form, int key,
					     int tag)
{
	struct ftramp_bpf_map *maps[] = { pa };
	insn_t insns[] = {
		A64X(BPF_MOV, 6, 1),
		LDX(BPF_DW, 0, 6, 0),
		A64K(BPF_ADD, 0, 1),
		STX(BPF_DW, 6, 0, 0),
		A64X(BPF_MOV, 1, 6),
		LD_MAP(2, 0),
		MOV(3, key),		/* DIRECT; INDIRECT: below */
		CALL(BPF_FUNC_tail_call),
		LDX(BPF_DW, 0, 6, 0),
		A64K(BPF_ADD, 0, tag * 1000),
		EXIT(),
	};
	struct ftramp_bpf_error e = { 0 };
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = maps, .nr_maps = 1,
		    .err = &e, .engine = engine);
	const insn_t from_data = LDX(BPF_DW, 3, 6, 8);
	struct ftramp_bpf_program *p;

	if (form == INDIRECT)
		insns[7] = from_data;
	p = ftramp_bpf_prog__load(insns, sizeof(insns) / sizeof(insns[0]),
				  &lo);
	if (!p)
		fprintf(stderr, "# load: %s (%s)\n", strerror(errno), e.msg);
	return p;
}

/*
 * return tag; loaded with @pa among its maps, which is what gives a JIT'd
 * program the tail frame that a tail call into it needs (no tail call of
 * its own: the maps say it may be a target).
 */
static struct ftramp_bpf_program *leaf_prog(struct ftramp_bpf_map *pa,
					    int engine, int tag)
{
	struct ftramp_bpf_map *maps[] = { pa };
	const insn_t insns[] = {
		LDX(BPF_DW, 0, 1, 0),
		A64K(BPF_ADD, 0, 1),
		STX(BPF_DW, 1, 0, 0),
		MOV(0, tag),
		EXIT(),
	};
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .engine = engine,
		    .maps = maps, .nr_maps = pa ? 1 : 0);

	return ftramp_bpf_prog__load(insns, sizeof(insns) / sizeof(insns[0]),
				     &lo);
}

static uint64_t run(struct ftramp_bpf_program *p, uint64_t idx,
		    uint64_t *hops)
{
	uint64_t data[2] = { 0, idx };
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = data,
		    .data_out = data, .data_size_in = sizeof(data),
		    .data_size_out = sizeof(data));

	if (ftramp_bpf_prog__test_run(p, &o))
		return UINT64_MAX;
	if (hops)
		*hops = data[0];
	return o.retval;
}

/* Free the programs (NULL ends the list), then the map; wait for both. */
static int drop(struct ftramp_bpf_map *pa, struct ftramp_bpf_program *p, ...)
{
	va_list ap;

	va_start(ap, p);
	for (; p; p = va_arg(ap, struct ftramp_bpf_program *))
		ftramp_bpf_prog__free(p);
	va_end(ap);
	ftramp_bpf_map__free(pa);
	return ftramp_sync(60000);
}

static struct ftramp_bpf_map *prog_array(uint32_t n)
{
	return ftramp_bpf_map__create(BPF_MAP_TYPE_PROG_ARRAY, "pa", 4, 4, n,
				      NULL);
}

FIXTURE(engine) {
	struct ftramp_bpf_map *pa;
};

FIXTURE_VARIANT(engine) {
	int engine, form;
};

FIXTURE_VARIANT_ADD(engine, interp_direct) { FTRAMP_BPF_ENGINE_INTERP, DIRECT };
FIXTURE_VARIANT_ADD(engine, interp_indirect) { FTRAMP_BPF_ENGINE_INTERP, INDIRECT };
FIXTURE_VARIANT_ADD(engine, jit_direct) { FTRAMP_BPF_ENGINE_JIT, DIRECT };
FIXTURE_VARIANT_ADD(engine, jit_indirect) { FTRAMP_BPF_ENGINE_JIT, INDIRECT };

FIXTURE_SETUP(engine)
{
	self->pa = prog_array(4);
	ASSERT_NE(NULL, self->pa);
}

FIXTURE_TEARDOWN(engine)
{
	ftramp_bpf_map__free(self->pa);
}

/* A program in slot 0 that tail-calls slot 0: 1 run + 33 tail calls. */
TEST_F(engine, self_tail_call_stops_at_33)
{
	struct ftramp_bpf_program *p =
		chain_prog(self->pa, variant->engine, variant->form, 0, 0);
	uint64_t hops = 0;

	ASSERT_NE(NULL, p);
	/* empty: falls through at once */
	EXPECT_EQ(1, run(p, 0, &hops));
	EXPECT_EQ(1, hops);
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 0, p));
	EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS, run(p, 0, &hops));
	EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS, hops);
	/* the count starts again on every run */
	EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS, run(p, 0, &hops));
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 0, NULL));
	ftramp_bpf_prog__free(p);
	EXPECT_EQ(0, ftramp_sync(60000));
}

/* Two programs bouncing 0 -> 1 -> 0 ...: the limit spans programs. */
TEST_F(engine, limit_counts_across_programs)
{
	struct ftramp_bpf_program *a, *b;
	uint64_t hops = 0;

	a = chain_prog(self->pa, variant->engine, variant->form, 1, 1);
	b = chain_prog(self->pa, variant->engine, variant->form, 0, 2);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 0, a));
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 1, b));
	/* indirect: both read data[1], so make it a self chain of a via 0 */
	if (variant->form == INDIRECT) {
		EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS + 1000,
			  run(a, 0, &hops));
	} else {
		/* a, then 33 tail calls alternate b, a, ...: the 33rd is b */
		EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS + 2000, run(a, 0, &hops));
	}
	EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS, hops);
	/* an index out of range and an empty slot fall through */
	if (variant->form == INDIRECT) {
		EXPECT_EQ(1 + 1000, run(a, 4, &hops));
		EXPECT_EQ(1 + 1000, run(a, 2, &hops));
		EXPECT_EQ(1 + 1000, run(a, 1ull << 32 | 4, &hops));
	}
	EXPECT_EQ(0, ftramp_bpf_map__delete_elem(self->pa, &(uint32_t){ 1 },
						 4, 0));
	EXPECT_EQ(-ENOENT, ftramp_bpf_map__delete_elem(self->pa,
						       &(uint32_t){ 1 }, 4, 0));
	EXPECT_EQ(-E2BIG, ftramp_bpf_map__set_prog(self->pa, 4, a));
	ftramp_bpf_prog__free(a);	/* slot 0 still holds it */
	ftramp_bpf_prog__free(b);
	EXPECT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 0, NULL));
	EXPECT_EQ(0, ftramp_sync(60000));
}

/* Update, delete, re-update in a loop: each call ends where the slot is. */
TEST_F(engine, update_delete_reupdate_loop)
{
	struct ftramp_bpf_program *c, *t[2];

	c = chain_prog(self->pa, variant->engine, variant->form, 3, 7);
	t[0] = leaf_prog(self->pa, variant->engine, 11);
	t[1] = leaf_prog(self->pa, variant->engine, 22);
	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, t[0]);
	ASSERT_NE(NULL, t[1]);
	for (int i = 0; i < 40; i++) {
		uint64_t hops = 0;

		ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 3, t[i & 1]));
		EXPECT_EQ(i & 1 ? 22 : 11, run(c, 3, &hops));
		EXPECT_EQ(2, hops);
		if (i % 3 == 0) {
			ASSERT_EQ(0, ftramp_bpf_map__delete_elem(
					     self->pa, &(uint32_t){ 3 }, 4, 0));
			EXPECT_EQ(1 + 7000, run(c, 3, &hops));
			EXPECT_EQ(1, hops);
		}
	}
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 3, NULL));
	ftramp_bpf_prog__free(c);
	ftramp_bpf_prog__free(t[0]);
	ftramp_bpf_prog__free(t[1]);
	EXPECT_EQ(0, ftramp_sync(60000));
}

/* ------------------------------------------------------------------------
 * Updates racing calls
 */

struct race {
	struct ftramp_bpf_program *caller;
	int stop;
	uint64_t calls, bad, seen[4];
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	/* bounded: the updater stops us; 2M calls at most regardless */
	for (int i = 0; i < 2000000 &&
	     !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); i++) {
		uint64_t hops, v = run(r->caller, 0, &hops);
		int k = v == 1 ? 1 : v == 2 ? 2 : v == 1 + 9000 ? 3 : 0;

		/* the chain had one hop more exactly when it left the caller */
		if (!k || (k == 3) != (hops == 1) || (k != 3 && hops != 2))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->seen[k], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(engine, updates_race_calls_from_4_threads)
{
	struct ftramp_bpf_program *t[2];
	struct race r = { 0 };
	pthread_t th[4];

	r.caller = chain_prog(self->pa, variant->engine, variant->form, 0, 9);
	t[0] = leaf_prog(self->pa, variant->engine, 1);
	t[1] = leaf_prog(self->pa, variant->engine, 2);
	ASSERT_NE(NULL, r.caller);
	ASSERT_NE(NULL, t[0]);
	ASSERT_NE(NULL, t[1]);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, race_thread, &r));
	/* NULL -> t0 -> t1 -> NULL -> ...: every transition of the table */
	for (int i = 0; i < 120; i++) {
		struct ftramp_bpf_program *to = i % 3 == 2 ? NULL : t[i % 3];

		ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 0, to));
		/* let the callers see each state: a bounded wait */
		for (uint64_t c0 = __atomic_load_n(&r.calls, __ATOMIC_ACQUIRE),
		     n = 0; n < 100000 &&
		     __atomic_load_n(&r.calls, __ATOMIC_ACQUIRE) < c0 + 8; n++)
			sched_yield();
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	TH_LOG("%lu calls: %lu t0, %lu t1, %lu fell through", r.calls,
	       r.seen[1], r.seen[2], r.seen[3]);
	EXPECT_EQ(0, r.bad);
	EXPECT_EQ(0, r.seen[0]);
	EXPECT_LT(0, r.seen[1]);
	EXPECT_LT(0, r.seen[2]);
	EXPECT_LT(0, r.seen[3]);
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(self->pa, 0, NULL));
	ftramp_bpf_prog__free(r.caller);
	ftramp_bpf_prog__free(t[0]);
	ftramp_bpf_prog__free(t[1]);
	EXPECT_EQ(0, ftramp_sync(60000));
}

/* ------------------------------------------------------------------------
 * The JIT's slots
 */

/* Two direct sites on key 1 (and one indirect): the words an update writes. */
TEST(direct_slots_write_log)
{
	struct ftramp_bpf_map *pa = prog_array(2);
	struct ftramp_bpf_map *maps[] = { pa };
	const insn_t insns[] = {
		A64X(BPF_MOV, 6, 1),
		LD_MAP(2, 0), MOV(3, 1), CALL(BPF_FUNC_tail_call),
		A64X(BPF_MOV, 1, 6),
		LD_MAP(2, 0), MOV(3, 1), CALL(BPF_FUNC_tail_call),
		A64X(BPF_MOV, 1, 6),
		LD_MAP(2, 0), LDX(BPF_DW, 3, 6, 8), CALL(BPF_FUNC_tail_call),
		MOV(0, 5),
		EXIT(),
	};
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = maps, .nr_maps = 1,
		    .engine = FTRAMP_BPF_ENGINE_JIT);
	struct ftramp_patch_event ev[32];
	struct ftramp_patch_log log = { .ev = ev, .cap = 32 };
	struct ftramp_bpf_program *c, *t[2];

	ASSERT_NE(NULL, pa);
	c = ftramp_bpf_prog__load(insns, sizeof(insns) / sizeof(insns[0]),
				  &lo);
	t[0] = leaf_prog(pa, FTRAMP_BPF_ENGINE_JIT, 1);
	t[1] = leaf_prog(pa, FTRAMP_BPF_ENGINE_JIT, 2);
	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, t[0]);
	ASSERT_NE(NULL, t[1]);
	ASSERT_EQ(2, c->nr_pokes);
	for (size_t k = 0; k < 2; k++) {
		EXPECT_EQ(1, c->pokes[k].key);
		EXPECT_EQ(A64_NOP, *(uint32_t *)(uintptr_t)bpf_jit_word_pc(c->jit, c->pokes[k].word));
	}

	/* NULL -> t0, t0 -> t1, t1 -> NULL: two words, one sync, each */
	struct ftramp_bpf_program *seq[] = { t[0], t[1], NULL };
	uint64_t from = 0;

	for (int s = 0; s < 3; s++) {
		uint64_t to = seq[s] ? bpf_jit_tail_body(seq[s]->jit) : 0;
		int writes = 0, syncs = 0;

		log.nr = 0;
		ftramp_patch_set_log(&log);
		ASSERT_EQ(0, ftramp_bpf_map__set_prog(pa, 1, seq[s]));
		ftramp_patch_set_log(NULL);
		for (size_t i = 0; i < log.nr; i++) {
			if (ev[i].kind == FTRAMP_EV_SYNC) {
				syncs++;
				continue;
			}
			if (ev[i].kind == FTRAMP_EV_WRITE64)
				writes += 100;	/* never */
			if (ev[i].kind != FTRAMP_EV_WRITE32)
				continue;
			writes++;
			EXPECT_TRUE(ev[i].addr == bpf_jit_word_pc(c->jit, c->pokes[0].word) ||
				    ev[i].addr == bpf_jit_word_pc(c->jit, c->pokes[1].word));
			EXPECT_EQ(from ? a64_b(ev[i].addr, from) : A64_NOP,
				  ev[i].old);
			EXPECT_EQ(to ? a64_b(ev[i].addr, to) : A64_NOP,
				  ev[i].new);
		}
		EXPECT_EQ(2, writes);
		EXPECT_EQ(1, syncs);
		EXPECT_EQ(0, log.lost);
		/* the direct sites and the indirect one agree */
		EXPECT_EQ(seq[s] ? (uint64_t)(s + 1) : 5, run(c, 1, NULL));
		from = to;
	}
	EXPECT_EQ(0, drop(pa, c, t[0], t[1], NULL));
}

/* A slot loaded while the map already holds its program starts as b. */
TEST(direct_slot_follows_the_map_at_load)
{
	struct ftramp_bpf_map *pa = prog_array(1);
	struct ftramp_bpf_program *t, *c;

	ASSERT_NE(NULL, pa);
	t = leaf_prog(pa, FTRAMP_BPF_ENGINE_JIT, 3);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(pa, 0, t));
	c = chain_prog(pa, FTRAMP_BPF_ENGINE_JIT, DIRECT, 0, 0);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(1, c->nr_pokes);
	EXPECT_EQ(a64_b(bpf_jit_word_pc(c->jit, c->pokes[0].word), bpf_jit_tail_body(t->jit)),
		  *(uint32_t *)(uintptr_t)bpf_jit_word_pc(c->jit, c->pokes[0].word));
	EXPECT_EQ(3, run(c, 0, NULL));
	/* a key beyond the map: no slot, an indirect call that falls through */
	ftramp_bpf_prog__free(c);
	c = chain_prog(pa, FTRAMP_BPF_ENGINE_JIT, DIRECT, 5, 0);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(0, c->nr_pokes);
	EXPECT_EQ(1, run(c, 0, NULL));
	ftramp_bpf_prog__free(c);
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(pa, 0, NULL));
	EXPECT_EQ(0, drop(pa, t, NULL));
}

/*
 * @pa is owned by @owner's engine and type: a caller or a target of
 * @other's engine is refused; @owner still tail-calls itself to the
 * limit.  Returns the refused target, for drop().
 */
static struct ftramp_bpf_program *
check_owner(struct __test_metadata *_metadata, struct ftramp_bpf_map *pa,
	    struct ftramp_bpf_program *owner, int other)
{
	struct ftramp_bpf_program *x;

	errno = 0;
	EXPECT_EQ(NULL, chain_prog(pa, other, INDIRECT, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	x = leaf_prog(pa, other, 1);
	EXPECT_NE(NULL, x);
	EXPECT_EQ(-EINVAL, ftramp_bpf_map__set_prog(pa, 0, x));
	EXPECT_EQ(0, ftramp_bpf_map__set_prog(pa, 0, owner));
	EXPECT_EQ(1 + BPF_MAX_TAIL_CALLS, run(owner, 0, NULL));
	EXPECT_EQ(0, ftramp_bpf_map__set_prog(pa, 0, NULL));
	return x;
}

/* A prog array takes one engine and type: the first program's. */
TEST(engines_do_not_mix)
{
	struct ftramp_bpf_map *pa = prog_array(1);
	struct ftramp_bpf_program *j, *i;

	ASSERT_NE(NULL, pa);
	j = chain_prog(pa, FTRAMP_BPF_ENGINE_JIT, INDIRECT, 0, 0);
	ASSERT_NE(NULL, j);
	i = check_owner(_metadata, pa, j, FTRAMP_BPF_ENGINE_INTERP);
	EXPECT_EQ(0, drop(pa, i, j, NULL));
}

TEST(types_do_not_mix)
{
	struct ftramp_bpf_map *pa = prog_array(1);
	struct ftramp_bpf_program *c, *f, *j;
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo,
		    .type = FTRAMP_BPF_PROG_FENTRY);
	const insn_t ret0[] = { MOV(0, 0), EXIT() };

	ASSERT_NE(NULL, pa);
	c = chain_prog(pa, FTRAMP_BPF_ENGINE_INTERP, INDIRECT, 0, 0);
	ASSERT_NE(NULL, c);
	/* another type */
	f = ftramp_bpf_prog__load(ret0, 2, &lo);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-EINVAL, ftramp_bpf_map__set_prog(pa, 0, f));
	/* another engine, as a caller and as a target */
	j = check_owner(_metadata, pa, c, FTRAMP_BPF_ENGINE_JIT);
	EXPECT_EQ(0, drop(pa, c, f, j, NULL));
}

/*
 * A JIT'd program loaded without a prog array among its maps keeps the
 * lean frame (no tail entry): no slot takes it.
 */
TEST(lean_jit_program_is_no_target)
{
	struct ftramp_bpf_map *pa = prog_array(1);
	struct ftramp_bpf_program *lean, *t;

	ASSERT_NE(NULL, pa);
	lean = leaf_prog(NULL, FTRAMP_BPF_ENGINE_JIT, 1);
	t = leaf_prog(pa, FTRAMP_BPF_ENGINE_JIT, 2);
	ASSERT_NE(NULL, lean);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(0, lean->jit->tail);
	EXPECT_NE(0, t->jit->tail);
	EXPECT_EQ(-EOPNOTSUPP, ftramp_bpf_map__set_prog(pa, 0, lean));
	EXPECT_EQ(0, ftramp_bpf_map__set_prog(pa, 0, t));
	EXPECT_EQ(0, ftramp_bpf_map__set_prog(pa, 0, NULL));
	EXPECT_EQ(0, drop(pa, lean, t, NULL));
}

/* ------------------------------------------------------------------------
 * Slots an object declares (selftests/progs/bpf_prog_array_init.bpf.c)
 */

/* caller's run: ctx[0] picks constant slots by bit, ctx[1] the variable */
static uint64_t run_caller(struct ftramp_bpf_program *p, uint64_t sel,
			   uint64_t idx)
{
	uint64_t ctx[2] = { sel, idx };
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .ctx_in = ctx,
		    .ctx_size_in = sizeof(ctx));

	if (ftramp_bpf_prog__test_run(p, &o))
		return UINT64_MAX;
	return o.retval;
}

FIXTURE(object) {
	int unused;
};

FIXTURE_VARIANT(object) {
	int engine;
};

FIXTURE_VARIANT_ADD(object, interp) { FTRAMP_BPF_ENGINE_INTERP };
FIXTURE_VARIANT_ADD(object, jit) { FTRAMP_BPF_ENGINE_JIT };
FIXTURE_VARIANT_ADD(object, auto) { FTRAMP_BPF_ENGINE_AUTO };

FIXTURE_SETUP(object) { (void)self; (void)variant; }
FIXTURE_TEARDOWN(object) { (void)self; (void)variant; }

/*
 * Slots 0 and 2 are filled by the load, slot 1 is empty: the taken ones
 * return the target's value (its tag plus the caller's ctx[0]), the empty
 * one and an index beyond max_entries fall through to the caller's 7.
 */
TEST_F(object, declared_slots_filled_at_load)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj;
	struct ftramp_bpf_program *c, *a, *b;
	struct ftramp_bpf_map *m;
	int engine = variant->engine == FTRAMP_BPF_ENGINE_INTERP ?
		     FTRAMP_BPF_ENGINE_INTERP : FTRAMP_BPF_ENGINE_JIT, err;

	obj = open_obj_engine("bpf_prog_array_init.bpf.o", &e, variant->engine);
	if (!obj)
		TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, obj);
	err = ftramp_bpf_object__load(obj);
	if (err)
		TH_LOG("%s", e.msg);
	ASSERT_EQ(0, err);
	c = ftramp_bpf_object__find_program_by_name(obj, "caller");
	a = ftramp_bpf_object__find_program_by_name(obj, "target_a");
	b = ftramp_bpf_object__find_program_by_name(obj, "target_b");
	m = ftramp_bpf_object__find_map_by_name(obj, "jmp_table");
	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, m);
	/* _AUTO: the JIT takes all three */
	EXPECT_EQ(engine, ftramp_bpf_program__engine(c));
	EXPECT_EQ(engine, ftramp_bpf_program__engine(a));
	EXPECT_EQ(engine, ftramp_bpf_program__engine(b));
	EXPECT_EQ(a, bpf_prog_array_get(m, 0));
	EXPECT_EQ(NULL, bpf_prog_array_get(m, 1));
	EXPECT_EQ(b, bpf_prog_array_get(m, 2));
	EXPECT_EQ(1, a->tail_refs);
	EXPECT_EQ(1, b->tail_refs);
	/* JIT: a direct slot per constant index, b where the load filled it */
	if (engine == FTRAMP_BPF_ENGINE_JIT) {
		ASSERT_EQ(3, c->nr_pokes);
		for (size_t k = 0; k < 3; k++) {
			const struct bpf_tail_poke *pk = &c->pokes[k];
			uint64_t pc = bpf_jit_word_pc(c->jit, pk->word);
			struct ftramp_bpf_program *t = pk->key == 0 ? a :
						       pk->key == 2 ? b : NULL;

			EXPECT_EQ(m, pk->map);
			EXPECT_EQ(t ? a64_b(pc, bpf_jit_tail_body(t->jit)) :
				  A64_NOP, *(uint32_t *)(uintptr_t)pc);
		}
	}
	/* constant indices: slot 0, slot 2; slot 1 falls through */
	EXPECT_EQ(1000 + 1, run_caller(c, 1, 1));
	EXPECT_EQ(2000 + 4, run_caller(c, 4, 1));
	EXPECT_EQ(7, run_caller(c, 2, 1));
	EXPECT_EQ(2000 + 6, run_caller(c, 6, 1));
	/* the variable index */
	EXPECT_EQ(1000, run_caller(c, 0, 0));
	EXPECT_EQ(7, run_caller(c, 0, 1));
	EXPECT_EQ(2000, run_caller(c, 0, 2));
	EXPECT_EQ(7, run_caller(c, 0, 3));
	/* the slots are the user's from then on, as any */
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(m, 0, NULL));
	ASSERT_EQ(0, ftramp_bpf_map__set_prog(m, 1, a));
	EXPECT_EQ(7, run_caller(c, 1, 3));
	EXPECT_EQ(1000 + 2, run_caller(c, 2, 3));
	EXPECT_EQ(1000, run_caller(c, 0, 1));
	ftramp_bpf_object__close(obj);
}

/*
 * Refused at load: slot 0 takes its program, slot 1's is of another type
 * than the array's owner (the caller's).  The load fails whole, naming
 * the map, the slot and the program, and slot 0 does not stay set: the
 * maps go with the load, and a second load is refused the same way.
 */
TEST_F(object, declared_slot_refused_at_load)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj;
	struct ftramp_bpf_program *same;
	struct ftramp_bpf_map *m;

	obj = open_obj_engine("refuse_slot_owner.bpf.o", &e, variant->engine);
	if (!obj)
		TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, obj);
	same = ftramp_bpf_object__find_program_by_name(obj, "same_type");
	m = ftramp_bpf_object__find_map_by_name(obj, "jmp_table");
	ASSERT_NE(NULL, same);
	ASSERT_NE(NULL, m);
	for (int i = 0; i < 2; i++) {
		memset(&e, 0, sizeof(e));
		EXPECT_EQ(-EINVAL, ftramp_bpf_object__load(obj));
		EXPECT_EQ(FTRAMP_BPF_E_MAP_CREATE, e.code);
		EXPECT_NE(NULL, strstr(e.msg, "map jmp_table, slot 1, symbol "
				       "other_type: prog_array jmp_table takes "));
		EXPECT_STREQ(e.msg, ftramp_error_detail());
		EXPECT_EQ(0, same->tail_refs);
		EXPECT_FALSE(same->loaded);
		EXPECT_EQ(NULL, m->ts);
		EXPECT_EQ(NULL, ftramp_bpf_program__handler(same));
	}
	ftramp_bpf_object__close(obj);
}

/*
 * Refused at open, each with its code and a message naming the map, the
 * slot and the symbol: clang-built objects (an index beyond
 * max_entries, a variable in a slot, values[] on an array), then
 * bpf_prog_array_init.bpf.o's .rel.maps patched.
 */
TEST(declared_slot_refused_at_open)
{
	struct ftramp_bpf_error e;
	uint8_t *orig = NULL, *buf;
	Elf64_Shdr *rs, *ms;
	Elf64_Rel *r;
	size_t size = 0;

	EXPECT_EQ(NULL, open_obj_engine("refuse_slot_index.bpf.o", &e,
					FTRAMP_BPF_ENGINE_INTERP));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FTRAMP_BPF_E_MAP_DEF, e.code);
	EXPECT_STREQ("map jmp_table, slot 2, symbol target: beyond "
		     "max_entries 2", e.msg);
	EXPECT_EQ(NULL, open_obj_engine("refuse_slot_symbol.bpf.o", &e,
					FTRAMP_BPF_ENGINE_INTERP));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_SYM, e.code);
	EXPECT_STREQ("map jmp_table, slot 1, symbol not_a_program: not a "
		     "program of this object", e.msg);
	EXPECT_EQ(NULL, open_obj_engine("refuse_slot_maptype.bpf.o", &e,
					FTRAMP_BPF_ENGINE_INTERP));
	EXPECT_EQ(FTRAMP_BPF_E_MAP_DEF, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "section .maps, symbol not_progs: "
			       "member 'values' initialises a prog_array's "
			       "slots, not a map of type 2"));

	ASSERT_EQ(0, read_obj("bpf_prog_array_init.bpf.o", &orig, &size));
	buf = malloc(size);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, open_err(orig, size, &e));
	memcpy(buf, orig, size);
	rs = find_sec(buf, ".rel.maps");
	ms = find_sec(buf, ".maps");
	ASSERT_NE(NULL, rs);
	ASSERT_NE(NULL, ms);
	ASSERT_EQ(2 * sizeof(*r), rs->sh_size);
	r = (Elf64_Rel *)(buf + rs->sh_offset);

	/* half a slot on */
	r[0].r_offset += 4;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_RANGE, e.code);
	EXPECT_STREQ("map jmp_table, values[] + 4, symbol target_a: not at "
		     "a slot (8-byte pointers)", e.msg);
	/* in the definition, before values[] */
	memcpy(buf, orig, size);
	r[0].r_offset = 0;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_RANGE, e.code);
	EXPECT_STREQ("section .maps, offset 0, symbol target_a: not in a "
		     "map's values[] initialiser", e.msg);
	/* not R_BPF_64_ABS64 */
	memcpy(buf, orig, size);
	r[1].r_info = ELF64_R_INFO(ELF64_R_SYM(r[1].r_info), 1);
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_TYPE, e.code);
	EXPECT_STREQ("map jmp_table, slot 2, symbol target_b: relocation "
		     "type 1, not R_BPF_64_ABS64", e.msg);
	/* both on slot 2 */
	memcpy(buf, orig, size);
	r[0].r_offset = r[1].r_offset;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_SECTION, e.code);
	EXPECT_STREQ("map jmp_table, slot 2: initialised twice", e.msg);
	/* an addend: not the program's start */
	memcpy(buf, orig, size);
	buf[ms->sh_offset + r[1].r_offset] = 8;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_SYM, e.code);
	EXPECT_STREQ("map jmp_table, slot 2, symbol target_b: 0x8 bytes into "
		     "the program", e.msg);
	free(buf);
	free(orig);
}

TEST_HARNESS_MAIN
