// SPDX-License-Identifier: MIT
/*
 * Static branches (bpf/sbranch.c): the three encodings in both engines,
 * sites at the first and the last instructions, keys grouped by an
 * instruction-array map, the verifier walking both directions, the
 * refusals and the API's errors, the write log of a flip (single-word
 * nop <-> b writes, one sync per batch), 1,000 flips while 4 threads run
 * the program, and flips racing a detach.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/bpf_insns.h"
#include "selftests/site_bytes.h"
#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "bpf/bpf.h"

/* ja +o that starts as a nop / as the jump; gotol; jcond (may_goto) */
#define SB_NOP(o)	I(BPF_JMP | BPF_JA, 0, BPF_STATIC_BRANCH_JA | \
			  BPF_STATIC_BRANCH_NOP, o, 0)
#define SB_JMP(o)	I(BPF_JMP | BPF_JA, 0, BPF_STATIC_BRANCH_JA, o, 0)
#define SB_GOTOL(o)	I(BPF_JMP32 | BPF_JA, 0, BPF_STATIC_BRANCH_JA | \
			  BPF_STATIC_BRANCH_NOP, 0, o)
#define SB_JCOND(o)	I(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, o, 0)

int sb_target(int x);
TRACEE int sb_target(int x) { return x + 1; }

static const int engines[] = { FTRAMP_BPF_ENGINE_INTERP,
			       FTRAMP_BPF_ENGINE_JIT };

static struct ftramp_bpf_program *load(const insn_t *insns, size_t n,
				       int engine, int type,
				       struct ftramp_bpf_map *const *maps,
				       size_t nr_maps,
				       struct ftramp_bpf_error *e)
{
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, o, .engine = engine,
		    .type = type, .maps = maps, .nr_maps = nr_maps, .err = e);

	return ftramp_bpf_prog__load(insns, n, &o);
}

/* R0 of one call with ctx[0] = x, through the program's handler. */
static uint64_t call(struct ftramp_bpf_program *p, uint64_t x)
{
	uint64_t ctx[2] = { x, 0 };

	return ftramp_bpf_program__handler(p)(ctx);
}

/*
 * r0 = 1; SITE +1; r0 = 2; exit: on gives 1, off 2.  The JIT also with
 * forced-long conditional branches and a far image (bpf_jit_test's
 * variants): a site stays one word.
 */
TEST(encodings_in_both_engines)
{
	static const insn_t sites[] = { SB_NOP(1), SB_JMP(1), SB_GOTOL(1),
					SB_JCOND(1) };
	static const bool starts_on[] = { false, true, false, false };
	static const unsigned int flags[] = {
		0, BPF_JIT_LONG_BRANCHES | BPF_JIT_FAR,
	};

	for (size_t s = 0; s < 4; s++)
		for (size_t g = 0; g < 3; g++) {
			int engine = g ? FTRAMP_BPF_ENGINE_JIT :
					 FTRAMP_BPF_ENGINE_INTERP;

			bpf_jit_test_flags = flags[g == 2];
			insn_t prog[] = { MOV(0, 1), sites[s], MOV(0, 2),
					  EXIT() };
			struct ftramp_bpf_program *p;

			p = load(prog, 4, engine, FTRAMP_BPF_PROG_FENTRY,
				 NULL, 0, NULL);
			bpf_jit_test_flags = 0;
			ASSERT_NE(NULL, p);
			EXPECT_EQ(starts_on[s] ? 1 : 2, call(p, 0));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 1, 1));
			EXPECT_EQ(1, call(p, 0));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 1, 1));
			EXPECT_EQ(1, call(p, 0));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 1, 0));
			EXPECT_EQ(2, call(p, 0));
			if (engine == FTRAMP_BPF_ENGINE_JIT) {
				const uint32_t *w = (const uint32_t *)
					(uintptr_t)bpf_jit_word_pc(p->jit,
						p->jit->offset[1]);

				/* one word, a nop while off */
				EXPECT_EQ(A64_NOP, w[0]);
				EXPECT_EQ(p->jit->offset[1] + 1,
					  p->jit->offset[2]);
			}
			ftramp_bpf_prog__free(p);
		}
}

/*
 * A site at insn 0 (right after the JIT's prologue) that jumps to the
 * last insn's neighbourhood, and the last site a program may have: the
 * one before the final exit, jumping back.  A static branch as the very
 * last instruction would run off the end when off: refused.
 */
TEST(first_and_last_instruction)
{
	static const insn_t first[] = {
		SB_NOP(2), MOV(0, 2), EXIT(), MOV(0, 1), EXIT(),
	};
	static const insn_t last[] = {
		MOV(0, 1), JA(2), MOV(0, 2), EXIT(), SB_JCOND(-3), EXIT(),
	};
	static const insn_t at_end[] = { MOV(0, 1), SB_NOP(-2) };
	static const insn_t at_end2[] = { MOV(0, 1), JA(1), EXIT(),
					  SB_JCOND(-2) };

	for (size_t g = 0; g < 2; g++) {
		struct ftramp_bpf_program *p, *q;
		struct ftramp_bpf_error e = { 0 };

		p = load(first, 5, engines[g], FTRAMP_BPF_PROG_FENTRY, NULL, 0,
			 NULL);
		q = load(last, 6, engines[g], FTRAMP_BPF_PROG_FENTRY, NULL, 0,
			 NULL);
		ASSERT_NE(NULL, p);
		ASSERT_NE(NULL, q);
		EXPECT_EQ(2, call(p, 0));
		EXPECT_EQ(1, call(q, 0));
		for (int k = 0; k < 3; k++) {
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 0, 1));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(q, 4, 1));
			EXPECT_EQ(1, call(p, 0));
			EXPECT_EQ(2, call(q, 0));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 0, 0));
			EXPECT_EQ(0, ftramp_bpf_static_branch__update(q, 4, 0));
			EXPECT_EQ(2, call(p, 0));
			EXPECT_EQ(1, call(q, 0));
		}
		ftramp_bpf_prog__free(p);
		ftramp_bpf_prog__free(q);
		EXPECT_EQ(NULL, load(at_end, 2, engines[g],
				     FTRAMP_BPF_PROG_FENTRY, NULL, 0, &e));
		EXPECT_EQ(FTRAMP_BPF_E_INSN, e.code);
		EXPECT_NE(NULL, strstr(e.msg, "is a static branch"));
		memset(&e, 0, sizeof(e));
		EXPECT_EQ(NULL, load(at_end2, 4, engines[g],
				     FTRAMP_BPF_PROG_FENTRY, NULL, 0, &e));
		EXPECT_EQ(FTRAMP_BPF_E_INSN, e.code);
	}
}

/* Encodings the loader refuses; the verifier walks both directions. */
TEST(refusals_and_both_directions)
{
	static const insn_t bad_flags[] = {
		MOV(0, 1), I(BPF_JMP | BPF_JA, 0, BPF_STATIC_BRANCH_NOP, 0, 0),
		EXIT(),
	};
	static const insn_t bad_jcond[] = {
		MOV(0, 1), I(BPF_JMP | BPF_JCOND, 0, 1, 0, 0), EXIT(),
	};
	static const insn_t jcond32[] = {
		MOV(0, 1), I(BPF_JMP32 | BPF_JCOND, 0, 0, 0, 0), EXIT(),
	};
	/* r0 unset on the jump: wrong although the site starts off */
	static const insn_t on_path_bad[] = {
		SB_NOP(2), MOV(0, 2), EXIT(), EXIT(),
	};
	/* r0 unset on the nop: wrong although the site starts on */
	static const insn_t off_path_bad[] = {
		SB_JMP(1), EXIT(), MOV(0, 2), EXIT(),
	};
	const struct { const insn_t *p; size_t n; int code; } cases[] = {
		{ bad_flags, 3, FTRAMP_BPF_E_INSN },
		{ bad_jcond, 3, FTRAMP_BPF_E_INSN },
		{ jcond32, 3, FTRAMP_BPF_E_INSN },
		{ on_path_bad, 4, FTRAMP_BPF_E_VERIFY },
		{ off_path_bad, 4, FTRAMP_BPF_E_VERIFY },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct ftramp_bpf_error e = { 0 };

		EXPECT_EQ(NULL, load(cases[c].p, cases[c].n,
				     FTRAMP_BPF_ENGINE_INTERP,
				     FTRAMP_BPF_PROG_FENTRY, NULL, 0, &e));
		EXPECT_EQ(cases[c].code, e.code);
		if (e.code != cases[c].code)
			TH_LOG("case %zu: %s", c, e.msg);
	}
}

/* Each bad argument its own error. */
TEST(update_errors)
{
	static const insn_t prog[] = { MOV(0, 1), SB_NOP(1), MOV(0, 2),
				       EXIT() };
	struct ftramp_bpf_program *p = load(prog, 4, FTRAMP_BPF_ENGINE_JIT,
					    FTRAMP_BPF_PROG_FENTRY, NULL, 0,
					    NULL);
	struct ftramp_bpf_object *obj;
	char path[512];

	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EINVAL, ftramp_bpf_static_branch__update(NULL, 1, 1));
	EXPECT_EQ(-EINVAL, ftramp_bpf_static_branch__update(p, 1, 2));
	EXPECT_EQ(-EINVAL, ftramp_bpf_static_branch__update(p, 1, -1));
	EXPECT_EQ(-ERANGE, ftramp_bpf_static_branch__update(p, 4, 1));
	EXPECT_EQ(-ERANGE, ftramp_bpf_static_branch__update(p, UINT32_MAX, 1));
	EXPECT_EQ(-ENOENT, ftramp_bpf_static_branch__update(p, 0, 1));
	EXPECT_EQ(-ENOENT, ftramp_bpf_static_branch__update(p, 3, 1));
	EXPECT_EQ(2, call(p, 0));	/* nothing changed */
	ftramp_bpf_prog__free(p);

	snprintf(path, sizeof(path), "%s/bpf_trace.bpf.o", BPF_OBJ_DIR);
	obj = ftramp_bpf_object__open_file(path, NULL);	/* opts NULL */
	ASSERT_NE(NULL, obj);
	EXPECT_EQ(-ENOEXEC, ftramp_bpf_static_branch__update(
		ftramp_bpf_object__next_program(obj, NULL), 0, 1));
	ftramp_bpf_object__close(obj);
}

/*
 * Two sites on two paths (ctx[0] even: 11 off, 10 on; odd: 21 off, 20
 * on), one key through an instruction-array map.
 */
static const insn_t two_paths[] = {
	LDX(BPF_DW, 2, 1, 0),
	JK(BPF_JSET, 2, 1, 4),
	MOV(0, 10),
	SB_NOP(1),
	MOV(0, 11),
	EXIT(),
	MOV(0, 20),
	SB_JCOND(1),
	MOV(0, 21),
	EXIT(),
};
#define TWO_PATHS_N	(sizeof(two_paths) / sizeof(two_paths[0]))

static struct ftramp_bpf_map *insn_array(const uint32_t *orig, uint32_t n)
{
	struct ftramp_bpf_map *m = ftramp_bpf_map__create(
		BPF_MAP_TYPE_INSN_ARRAY, "sites", 4,
		sizeof(struct ftramp_bpf_insn_array_value), n, NULL);

	for (uint32_t k = 0; m && k < n; k++) {
		struct ftramp_bpf_insn_array_value v = { .orig_off = orig[k] };

		if (ftramp_bpf_map__update_elem(m, &k, 4, &v, sizeof(v), 0)) {
			ftramp_bpf_map__free(m);
			return NULL;
		}
	}
	return m;
}

TEST(insn_array_groups_sites)
{
	static const uint32_t sites[] = { 3, 7 }, not_site[] = { 3, 6 };

	for (size_t g = 0; g < 2; g++) {
		struct ftramp_bpf_map *m = insn_array(sites, 2);
		struct ftramp_bpf_map *m2 = insn_array(sites + 1, 1);
		struct ftramp_bpf_map *bad = insn_array(not_site, 2);
		struct ftramp_bpf_map *both[2] = { m, m2 };
		struct ftramp_bpf_insn_array_value v;
		struct ftramp_bpf_error e = { 0 };
		struct ftramp_bpf_program *p;
		uint32_t k;

		ASSERT_NE(NULL, m);
		ASSERT_NE(NULL, m2);
		ASSERT_NE(NULL, bad);
		p = load(two_paths, TWO_PATHS_N, engines[g],
			 FTRAMP_BPF_PROG_FENTRY, &m, 1, &e);
		ASSERT_NE(NULL, p);
		EXPECT_EQ(11, call(p, 0));
		EXPECT_EQ(21, call(p, 1));
		EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 7, 1));
		EXPECT_EQ(10, call(p, 0));
		EXPECT_EQ(20, call(p, 1));
		EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 3, 0));
		EXPECT_EQ(11, call(p, 0));
		EXPECT_EQ(21, call(p, 1));
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(m, &k, 4, &v,
								 sizeof(v), 0));
			EXPECT_EQ(sites[k], v.orig_off);
			EXPECT_EQ(sites[k], v.xlated_off);
			EXPECT_EQ(p->jit ? p->jit->offset[sites[k]] * 4 : 0,
				  v.jitted_off);
		}
		ftramp_bpf_prog__free(p);

		/* without the map, each site is its own key */
		p = load(two_paths, TWO_PATHS_N, engines[g],
			 FTRAMP_BPF_PROG_FENTRY, NULL, 0, NULL);
		ASSERT_NE(NULL, p);
		EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 7, 1));
		EXPECT_EQ(11, call(p, 0));
		EXPECT_EQ(20, call(p, 1));
		ftramp_bpf_prog__free(p);

		EXPECT_EQ(NULL, load(two_paths, TWO_PATHS_N, engines[g],
				     FTRAMP_BPF_PROG_FENTRY, &bad, 1, &e));
		EXPECT_EQ(FTRAMP_BPF_E_INSN, e.code);
		EXPECT_NE(NULL, strstr(e.msg, "insn 6 is not a static branch"));
		memset(&e, 0, sizeof(e));
		EXPECT_EQ(NULL, load(two_paths, TWO_PATHS_N, engines[g],
				     FTRAMP_BPF_PROG_FENTRY, both, 2, &e));
		EXPECT_EQ(FTRAMP_BPF_E_INSN, e.code);
		EXPECT_NE(NULL, strstr(e.msg, "already named"));
		ftramp_bpf_map__free(m);
		ftramp_bpf_map__free(m2);
		ftramp_bpf_map__free(bad);
	}
}

static bool is_b(uint32_t w)
{
	return (w & 0xfc000000u) == 0x14000000u;
}

/* A key of two sites: two single-word nop <-> b writes, one sync. */
TEST(write_log_of_a_flip)
{
	static const uint32_t sites[] = { 3, 7 };
	struct ftramp_bpf_map *m = insn_array(sites, 2);
	struct ftramp_patch_event ev[64];
	struct ftramp_patch_log log = { .ev = ev, .cap = 64 };
	struct ftramp_bpf_program *p;

	ASSERT_NE(NULL, m);
	p = load(two_paths, TWO_PATHS_N, FTRAMP_BPF_ENGINE_JIT,
		 FTRAMP_BPF_PROG_FENTRY, &m, 1, NULL);
	ASSERT_NE(NULL, p);
	for (int on = 1; on >= 0; on--) {
		size_t writes = 0, syncs = 0;

		log.nr = log.lost = 0;
		ftramp_patch_set_log(&log);
		EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 3, on));
		ftramp_patch_set_log(NULL);
		EXPECT_EQ(0, log.lost);
		for (size_t i = 0; i < log.nr; i++) {
			EXPECT_NE(FTRAMP_EV_WRITE64, ev[i].kind);
			EXPECT_NE(FTRAMP_EV_STOP, ev[i].kind);
			if (ev[i].kind == FTRAMP_EV_SYNC)
				syncs++;
			if (ev[i].kind != FTRAMP_EV_WRITE32)
				continue;
			writes++;
			if (on) {
				EXPECT_EQ(A64_NOP, ev[i].old);
				EXPECT_TRUE(is_b(ev[i].new));
			} else {
				EXPECT_TRUE(is_b(ev[i].old));
				EXPECT_EQ(A64_NOP, ev[i].new);
			}
			EXPECT_EQ(bpf_jit_word_pc(p->jit, p->jit->offset[
				  sites[writes - 1]]), ev[i].addr);
		}
		EXPECT_EQ(2, writes);
		EXPECT_EQ(1, syncs);
		/* already so: nothing written, no sync */
		log.nr = 0;
		ftramp_patch_set_log(&log);
		EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 7, on));
		ftramp_patch_set_log(NULL);
		EXPECT_EQ(0, log.nr);
	}
	ftramp_bpf_prog__free(p);
	ftramp_bpf_map__free(m);
}

/* ------------------------------------------------------------------------
 * Races
 */

enum { RUNNERS = 4, FLIPS = 1000, RUN_LIMIT = 50 * 1000 * 1000 };

struct runner {
	struct ftramp_bpf_program *p;
	int id;
	bool *stop;
	unsigned long runs, seen[2], bad;
	uint64_t bad_r0;
};

static void *run_loop(void *arg)
{
	struct runner *r = arg;
	uint64_t x = (uint64_t)r->id;

	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) &&
	       r->runs < RUN_LIMIT) {
		uint64_t r0 = call(r->p, x), base = x & 1 ? 20 : 10;

		if (r0 == base)
			r->seen[1]++;
		else if (r0 == base + 1)
			r->seen[0]++;
		else if (!r->bad++)
			r->bad_r0 = r0;
		__atomic_store_n(&r->runs, r->runs + 1, __ATOMIC_RELAXED);
		x++;
		if (!(x & 15))	/* let the flipper in on 2 shared cores */
			sched_yield();
	}
	return NULL;
}

/* Until some runner ran again (bounded: yields, never time). */
static void wait_runs(struct runner *r)
{
	unsigned long before = 0, now;

	for (int i = 0; i < RUNNERS; i++)
		before += __atomic_load_n(&r[i].runs, __ATOMIC_RELAXED);
	for (int y = 0; y < 1000; y++) {
		now = 0;
		for (int i = 0; i < RUNNERS; i++)
			now += __atomic_load_n(&r[i].runs, __ATOMIC_RELAXED);
		if (now != before)
			return;
		sched_yield();
	}
}

/*
 * 1,000 flips of a two-site key while 4 threads run the program: every
 * result is one of the two states' for its path; after each update
 * returns, a run sees only the new state.
 */
TEST(flips_while_running)
{
	static const uint32_t sites[] = { 3, 7 };

	for (size_t g = 0; g < 2; g++) {
		struct ftramp_bpf_map *m = insn_array(sites, 2);
		struct runner r[RUNNERS];
		pthread_t t[RUNNERS];
		struct ftramp_bpf_program *p;
		bool stop = false;
		int wrong = 0;

		ASSERT_NE(NULL, m);
		p = load(two_paths, TWO_PATHS_N, engines[g],
			 FTRAMP_BPF_PROG_FENTRY, &m, 1, NULL);
		ASSERT_NE(NULL, p);
		for (int i = 0; i < RUNNERS; i++) {
			r[i] = (struct runner){ .p = p, .id = i, .stop = &stop };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, run_loop,
						    &r[i]));
		}
		for (int f = 0; f < FLIPS; f++) {
			int on = !(f & 1);

			if (ftramp_bpf_static_branch__update(p, 3, on))
				wrong++;
			wait_runs(r);
			if (call(p, 0) != (on ? 10u : 11u) ||
			    call(p, 1) != (on ? 20u : 21u))
				wrong++;
		}
		__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
		for (int i = 0; i < RUNNERS; i++) {
			pthread_join(t[i], NULL);
			EXPECT_EQ(0, r[i].bad);
			if (r[i].bad)
				TH_LOG("runner %d: r0 %llu", i,
				     (unsigned long long)r[i].bad_r0);
			TH_LOG("engine %zu runner %d: %lu runs, %lu on, %lu off",
			     g, i, r[i].runs, r[i].seen[1], r[i].seen[0]);
		}
		EXPECT_EQ(0, wrong);
		ftramp_bpf_prog__free(p);
		ftramp_bpf_map__free(m);
	}
}

struct caller {
	bool *stop;
	unsigned long calls, bad;
	int bad_ret;
};

static void *call_loop(void *arg)
{
	struct caller *c = arg;

	while (!__atomic_load_n(c->stop, __ATOMIC_ACQUIRE) &&
	       c->calls < RUN_LIMIT) {
		int ret = sb_target(0);

		/* the program's 10 (on) or 11 (off), or the original's 1 */
		if (ret != 10 && ret != 11 && ret != 1 && !c->bad++)
			c->bad_ret = ret;
		c->calls++;
	}
	return NULL;
}

static void *detach(void *arg)
{
	return (void *)(intptr_t)ftramp_bpf_link__destroy(arg);
}

/*
 * An fmod_ret program whose result is the function's: flips race the
 * detach of its link while 4 threads call the function; the program's
 * image outlives the detach (flips still succeed), and is freed after.
 */
TEST(flips_racing_detach)
{
	static const insn_t prog[] = { MOV(0, 10), SB_NOP(1), MOV(0, 11),
				       EXIT() };

	for (size_t g = 0; g < 2; g++) {
		FTRAMP_OPTS(ftramp_bpf_attach_opts, ao, .func = "sb_target");
		struct caller c[RUNNERS];
		pthread_t t[RUNNERS], d;
		struct ftramp_bpf_program *p;
		struct ftramp_bpf_link *l;
		bool stop = false;
		void *dret;
		int wrong = 0;

		p = load(prog, 4, engines[g], FTRAMP_BPF_PROG_FMOD_RET, NULL, 0,
			 NULL);
		ASSERT_NE(NULL, p);
		l = ftramp_bpf_program__attach(p, &ao);
		ASSERT_NE(NULL, l);
		EXPECT_EQ(11, sb_target(0));
		for (int i = 0; i < RUNNERS; i++) {
			c[i] = (struct caller){ .stop = &stop };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, call_loop,
						    &c[i]));
		}
		for (int f = 0; f < 200; f++) {
			if (f == 50)
				ASSERT_EQ(0, pthread_create(&d, NULL, detach, l));
			if (ftramp_bpf_static_branch__update(p, 1, !(f & 1)))
				wrong++;
		}
		pthread_join(d, &dret);
		EXPECT_EQ(0, (int)(intptr_t)dret);
		__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
		for (int i = 0; i < RUNNERS; i++) {
			pthread_join(t[i], NULL);
			EXPECT_EQ(0, c[i].bad);
			if (c[i].bad)
				TH_LOG("caller %d: %d", i, c[i].bad_ret);
		}
		EXPECT_EQ(0, wrong);
		EXPECT_EQ(1, sb_target(0));
		EXPECT_EQ(0, ftramp_bpf_static_branch__update(p, 1, 1));
		EXPECT_EQ(10, call(p, 0));
		EXPECT_EQ(0, ftramp_sync(10000));
		ftramp_bpf_prog__free(p);
	}
}

TEST_HARNESS_MAIN
