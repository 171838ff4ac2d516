// SPDX-License-Identifier: MIT
/*
 * BPF programs as handlers: clang-built objects (selftests/progs/, .bpf.c)
 * opened, loaded and attached to this file's functions; relocations to
 * .data/.rodata/.bss at offsets, subprogram calls, fmod_ret overriding a
 * result, the func helpers; every map type and helper; struct_ops
 * through a thunk; each refusal of the loader with its code and
 * message; the map API, concurrent updates included.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "selftests/harness.h"
#include "selftests/bpf_insns.h"
#include "selftests/bpf_obj.h"
#include "selftests/site_bytes.h"

int bt_add(int a, int b);
int bt_check(int x);
long bh_str(const char *s);
long bh_more(const char *s, const char *t, const char *bad);

TRACEE int bt_add(int a, int b) { return a + b; }
TRACEE int bt_check(int x) { return x - 1; }
TRACEE long bh_str(const char *s) { return s[0]; }
TRACEE long bh_more(const char *s, const char *t, const char *bad)
{
	return s[0] + t[0] + (bad != NULL);
}

static struct ftramp_bpf_object *open_obj(const char *name,
					  struct ftramp_bpf_error *e)
{
	return open_obj_engine(name, e, FTRAMP_BPF_ENGINE_INTERP);
}

/*
 * The tests that run programs attached run once per engine: the
 * interpreter, and the JIT (where every program must be JIT'd).
 */
FIXTURE(engine) {
	int unused;
};
FIXTURE_VARIANT(engine) {
	int engine;
};
FIXTURE_VARIANT_ADD(engine, interp) { .engine = FTRAMP_BPF_ENGINE_INTERP };
FIXTURE_VARIANT_ADD(engine, jit) { .engine = FTRAMP_BPF_ENGINE_JIT };
FIXTURE_SETUP(engine) { (void)self; (void)variant; }
FIXTURE_TEARDOWN(engine) { (void)self; (void)variant; }

/* Every program of a loaded object runs in @engine. */
static int engine_of_all(struct ftramp_bpf_object *obj)
{
	struct ftramp_bpf_program *p = NULL;
	int engine = -1;

	while ((p = ftramp_bpf_object__next_program(obj, p))) {
		int e = ftramp_bpf_program__engine(p);

		if (engine >= 0 && e != engine)
			return -EINVAL;
		engine = e;
	}
	return engine;
}

/* ------------------------------------------------------------------------
 * An object of fentry/fexit/fmod_ret programs
 */

static uint64_t twice(long x)
{
	return 2 * (x * 7 + 1);	/* bpf_trace.bpf.c's twice(): ro_mult 7 */
}

/* The u64 words of a global data map's value. */
static int data_words(struct ftramp_bpf_object *obj, const char *sec,
		      uint64_t *w, size_t n)
{
	struct ftramp_bpf_map *m = ftramp_bpf_object__find_map_by_name(obj, sec);
	uint32_t k = 0;

	if (!m || ftramp_bpf_map__value_size(m) > n * 8)
		return -EINVAL;
	memset(w, 0, n * 8);
	return ftramp_bpf_map__lookup_elem(m, &k, 4, w,
					   ftramp_bpf_map__value_size(m), 0);
}

TEST_F(engine, trace_object)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj = open_obj_engine("bpf_trace.bpf.o", &e,
							variant->engine);
	struct ftramp_bpf_program *p;
	struct ftramp_bpf_map *calls, *recs;
	uint64_t expect_total = 100, w[4], cnt;
	struct { uint64_t ip, cnt, arg1, ret, cookie; int64_t sum; } rec;
	uint32_t k;
	int n = 0;

	ASSERT_NE(NULL, obj);
	EXPECT_STREQ("GPL", ftramp_bpf_object__license(obj));
	EXPECT_STREQ("bpf_trace.bpf.o", ftramp_bpf_object__name(obj));
	for (p = NULL; (p = ftramp_bpf_object__next_program(obj, p));)
		n++;
	EXPECT_EQ(3, n);
	p = ftramp_bpf_object__find_program_by_name(obj, "on_check");
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("fmod_ret/bt_check", ftramp_bpf_program__section_name(p));
	EXPECT_STREQ("bt_check", ftramp_bpf_program__attach_target(p));
	EXPECT_EQ(FTRAMP_BPF_PROG_FMOD_RET, ftramp_bpf_program__type(p));
	EXPECT_EQ(NULL, ftramp_bpf_program__handler(p));	/* not loaded */
	calls = ftramp_bpf_object__find_map_by_name(obj, "calls");
	recs = ftramp_bpf_object__find_map_by_name(obj, "recs");
	ASSERT_NE(NULL, calls);
	ASSERT_NE(NULL, recs);
	EXPECT_EQ(BPF_MAP_TYPE_HASH, ftramp_bpf_map__type(calls));
	EXPECT_EQ(4, ftramp_bpf_map__key_size(calls));
	EXPECT_EQ(8, ftramp_bpf_map__value_size(calls));
	EXPECT_EQ(64, ftramp_bpf_map__max_entries(calls));
	EXPECT_EQ(sizeof(rec), ftramp_bpf_map__value_size(recs));
	EXPECT_NE(NULL, ftramp_bpf_object__find_map_by_name(obj, ".data"));
	EXPECT_NE(NULL, ftramp_bpf_object__find_map_by_name(obj, ".bss"));
	EXPECT_NE(NULL, ftramp_bpf_object__find_map_by_name(obj, ".rodata"));

	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	EXPECT_NE(NULL, ftramp_bpf_program__handler(p));
	EXPECT_EQ(variant->engine, engine_of_all(obj));
	ASSERT_EQ(0, ftramp_bpf_object__attach(obj));

	for (int i = 0; i < 10; i++) {
		EXPECT_EQ(i + 2 * i, bt_add(i, 2 * i));
		expect_total += twice(3 * i);
	}
	EXPECT_EQ(4, bt_check(5));	/* override 0: the original */

	/* the hash map: keys a & 7, counted by the program */
	k = 3;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(calls, &k, 4, &cnt, 8, 0));
	EXPECT_EQ(1, cnt);
	k = 1;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(calls, &k, 4, &cnt, 8, 0));
	EXPECT_EQ(2, cnt);	/* a = 1 and 9 */
	/* .data: data_pad (offset 0) untouched, data_total at its offset */
	ASSERT_EQ(0, data_words(obj, ".data", w, 4));
	EXPECT_EQ(1, w[0]);
	EXPECT_EQ(expect_total, w[1]);
	/*
	 * .bss as clang 14 lays it out (readelf -s): override at 0, bss_pad
	 * at 8 untouched, bss_exits at 16 counted.
	 */
	ASSERT_EQ(0, data_words(obj, ".bss", w, 4));
	EXPECT_EQ(0, w[1]);
	EXPECT_EQ(10, w[2]);
	/* fexit: the func helpers through the trampoline's ctx */
	k = 0;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(recs, &k, 4, &rec,
						 sizeof(rec), 0));
	EXPECT_EQ(U64(bt_add), rec.ip);
	EXPECT_EQ(2, rec.cnt);
	EXPECT_EQ(18, rec.arg1);
	EXPECT_EQ(27, rec.ret);
	EXPECT_EQ(9 + 18 + 27, rec.sum);

	/* keys and values typed from BTF */
	{
		char buf[256];
		uint64_t ro[2];
		struct ftramp_bpf_map *rodata =
			ftramp_bpf_object__find_map_by_name(obj, ".rodata");

		k = 3;
		EXPECT_EQ(1, ftramp_bpf_map__format(calls, false, &k, 4, buf,
						    sizeof(buf)));
		EXPECT_STREQ("3", buf);
		EXPECT_GT(ftramp_bpf_map__format(recs, true, &rec, sizeof(rec),
						 buf, sizeof(buf)), 0);
		EXPECT_NE(NULL, strstr(buf, ", cnt=2, arg1=18, ret=27, cookie=0, "
				       "sum=54}"));
		ASSERT_EQ(0, data_words(obj, ".rodata", ro, 2));
		ftramp_bpf_map__format(rodata, true, ro, 16, buf, sizeof(buf));
		EXPECT_STREQ("{ro_pad=3, ro_mult=7}", buf);
		/* truncated: snprintf's answer, the whole length */
		EXPECT_EQ(21, ftramp_bpf_map__format(rodata, true, ro, 16, buf, 4));
		EXPECT_STREQ("{ro", buf);
	}

	/* fmod_ret: set `override` (.bss offset 0) through the map API */
	ASSERT_EQ(0, data_words(obj, ".bss", w, 4));
	w[0] = 1000;
	k = 0;
	ASSERT_EQ(0, ftramp_bpf_map__update_elem(
		ftramp_bpf_object__find_map_by_name(obj, ".bss"), &k, 4, w,
		ftramp_bpf_map__value_size(
			ftramp_bpf_object__find_map_by_name(obj, ".bss")), 0));
	EXPECT_EQ(5 * 2 + 1000, bt_check(5));

	ASSERT_EQ(0, ftramp_bpf_object__detach(obj));
	EXPECT_EQ(4, bt_check(5));
	bt_add(3, 0);
	k = 3;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(calls, &k, 4, &cnt, 8, 0));
	EXPECT_EQ(1, cnt);	/* detached: not counted */
	ftramp_bpf_object__close(obj);
}

/* One program attached on its own, with a cookie. */
TEST_F(engine, program_attach_cookie)
{
	struct ftramp_bpf_object *obj = open_obj_engine("bpf_trace.bpf.o", NULL,
							variant->engine);
	struct ftramp_bpf_program *p;
	struct ftramp_bpf_link *l;
	struct { uint64_t ip, cnt, arg1, ret, cookie; int64_t sum; } rec;
	FTRAMP_OPTS(ftramp_bpf_attach_opts, o, .cookie = 0xc00c1e);
	uint32_t k = 0;

	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	p = ftramp_bpf_object__find_program_by_name(obj, "on_add_exit");
	l = ftramp_bpf_program__attach(p, &o);
	ASSERT_NE(NULL, l);
	EXPECT_NE(NULL, ftramp_bpf_link__link(l));
	EXPECT_EQ(7, bt_add(3, 4));
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(
		ftramp_bpf_object__find_map_by_name(obj, "recs"), &k, 4, &rec,
		sizeof(rec), 0));
	EXPECT_EQ(0xc00c1e, rec.cookie);
	EXPECT_EQ(7, rec.ret);
	EXPECT_EQ(0, ftramp_bpf_link__destroy(l));
	/* raw and not-loaded programs do not attach */
	ftramp_bpf_object__close(obj);
}

/*
 * Raw programs of each kind attached to this file's functions: what
 * fentry sees (the arguments, a helper reading below ctx), what fexit
 * sees (the result), what fmod_ret does (a result instead of the call).
 */
TEST_F(engine, raw_attach)
{
	const insn_t entry[] = {
		A64X(BPF_MOV, 6, 1),
		CALL(BPF_FUNC_get_func_arg_cnt),	/* a helper, ctx in R1 */
		LDX(BPF_DW, 2, 6, 0), LDX(BPF_DW, 3, 6, 8),
		A64K(BPF_MUL, 3, 1000), A64X(BPF_ADD, 2, 3),
		I(BPF_LD | BPF_IMM | BPF_DW, 4, BPF_PSEUDO_MAP_VALUE, 0, 0),
		I(0, 0, 0, 0, 0),
		STX(BPF_DW, 4, 2, 0), STX(BPF_DW, 4, 0, 24),
		MOV(5, 1), ATOM(BPF_DW, BPF_ADD, 4, 5, 8),
		MOV(0, 0), EXIT(),
	};
	const insn_t exit[] = {
		LDX(BPF_DW, 2, 1, 16),			/* ctx[2]: the result */
		I(BPF_LD | BPF_IMM | BPF_DW, 4, BPF_PSEUDO_MAP_VALUE, 0, 0),
		I(0, 0, 0, 0, 16),
		STX(BPF_DW, 4, 2, 0), MOV(0, 0), EXIT(),
	};
	const insn_t modret[] = {			/* x > 100 ? 3 * x : 0 */
		LDX(BPF_DW, 0, 1, 0), JK(BPF_JGT, 0, 100, 2),
		MOV(0, 0), EXIT(),
		A64K(BPF_MUL, 0, 3), EXIT(),
	};
	struct ftramp_bpf_map *arr = ftramp_bpf_map__create(
		BPF_MAP_TYPE_ARRAY, "seen", 4, 32, 1, NULL);
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = &arr, .nr_maps = 1,
		    .engine = variant->engine);
	FTRAMP_OPTS(ftramp_bpf_attach_opts, ao);
	struct ftramp_bpf_program *p[3];
	struct ftramp_bpf_link *l[3];
	uint64_t v[4];
	uint32_t k = 0;

	ASSERT_NE(NULL, arr);
	lo.type = FTRAMP_BPF_PROG_FENTRY;
	p[0] = ftramp_bpf_prog__load(entry, sizeof(entry) / sizeof(entry[0]),
				     &lo);
	lo.type = FTRAMP_BPF_PROG_FEXIT;
	p[1] = ftramp_bpf_prog__load(exit, sizeof(exit) / sizeof(exit[0]),
				     &lo);
	lo.type = FTRAMP_BPF_PROG_FMOD_RET;
	p[2] = ftramp_bpf_prog__load(modret, sizeof(modret) / sizeof(modret[0]),
				     &lo);
	for (int i = 0; i < 3; i++) {
		ASSERT_NE(NULL, p[i]);
		EXPECT_EQ(variant->engine, ftramp_bpf_program__engine(p[i]));
		ao.func = i < 2 ? "bt_add" : "bt_check";
		l[i] = ftramp_bpf_program__attach(p[i], &ao);
		ASSERT_NE(NULL, l[i]);
	}

	EXPECT_EQ(7, bt_add(3, 4));
	EXPECT_EQ(15, bt_add(5, 10));
	EXPECT_EQ(4, bt_check(5));		/* 0: the original runs */
	EXPECT_EQ(600, bt_check(200));		/* the program's result */
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(arr, &k, 4, v, 32, 0));
	EXPECT_EQ(5 + 10 * 1000, v[0]);		/* the last arguments */
	EXPECT_EQ(2, v[1]);			/* calls */
	EXPECT_EQ(15, v[2]);			/* the last result */
	EXPECT_EQ(2, v[3]);			/* bpf_get_func_arg_cnt() */

	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, ftramp_bpf_link__destroy(l[i]));
	EXPECT_EQ(600 - 1, bt_check(600));	/* detached */
	EXPECT_EQ(7, bt_add(3, 4));
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(arr, &k, 4, v, 32, 0));
	EXPECT_EQ(2, v[1]);
	ftramp_sync(-1);
	for (int i = 0; i < 3; i++)
		ftramp_bpf_prog__free(p[i]);
	ftramp_bpf_map__free(arr);
}

/* ------------------------------------------------------------------------
 * Helpers and the other map types
 */

static char printed[256];

static void capture(void *ctx, const char *line, size_t len)
{
	size_t *n = ctx;

	if (*n + len < sizeof(printed)) {
		memcpy(printed + *n, line, len);
		*n += len;
		printed[*n] = '\0';
	}
}

struct event {
	uint32_t pid, tid;
	uint64_t ts;
	char comm[16];
	char str[16];
	long read_ok, read_bad;
	uint32_t cpu, rnd1, rnd2;
};

struct got {
	struct event ev;
	int nr_events;
	uint64_t sum;
	int nr_sums;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct got *g = ctx;

	if (size == sizeof(struct event)) {
		memcpy(&g->ev, data, size);
		g->nr_events++;
	} else if (size == 8) {
		memcpy(&g->sum, data, 8);
		g->nr_sums++;
	}
	return 0;
}

struct out {
	uint64_t ktime, boot;
	long str_len, str_bad;
	char str[8];
	uint64_t loops, sum;
};

static void check_helpers(struct __test_metadata *_metadata,
			  struct ftramp_bpf_object *obj, int runs)
{
	struct ftramp_bpf_map *pcpu, *lru, *events, *bss;
	int ncpu = ftramp_bpf_num_cpus();
	uint64_t *vals = calloc(ncpu, 8), total = 0;
	struct got g = { 0 };
	struct out r;
	uint32_t k = 1, v = 0;
	char comm[17] = "";

	pcpu = ftramp_bpf_object__find_map_by_name(obj, "pcpu");
	lru = ftramp_bpf_object__find_map_by_name(obj, "lru");
	events = ftramp_bpf_object__find_map_by_name(obj, "events");
	bss = ftramp_bpf_object__find_map_by_name(obj, ".bss");
	ASSERT_NE(NULL, pcpu);
	ASSERT_NE(NULL, bss);
	EXPECT_EQ(-EINVAL, ftramp_bpf_map__lookup_elem(pcpu, &k, 4, vals, 4, 0));
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(pcpu, &k, 4, vals, 8 * ncpu, 0));
	for (int c = 0; c < ncpu; c++)
		total += vals[c];
	EXPECT_EQ(runs, total);
	free(vals);
	k = 5;
	EXPECT_EQ(0, ftramp_bpf_map__lookup_elem(lru, &k, 4, &v, 4, 0));
	EXPECT_EQ(5, v);

	k = 0;
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(bss, &k, 4, &r, sizeof(r), 0));
	EXPECT_GT(r.ktime, 0);
	EXPECT_GT(r.boot, 0);
	EXPECT_EQ(6, r.str_len);
	EXPECT_STREQ("hello", r.str);
	EXPECT_EQ('x', r.str[6]);	/* not the bytes after "hello" */
	EXPECT_EQ('y', r.str[7]);
	EXPECT_EQ(-EFAULT, r.str_bad);
	EXPECT_EQ(10, r.loops);
	EXPECT_EQ(45, r.sum);

	EXPECT_EQ(2 * runs, ftramp_bpf_map__ringbuf_consume(events, on_record, &g));
	EXPECT_EQ(runs, g.nr_events);	/* the discarded ones are skipped */
	EXPECT_EQ(runs, g.nr_sums);
	EXPECT_EQ(45, g.sum);
	EXPECT_EQ(getpid(), g.ev.pid);
	EXPECT_EQ(syscall(SYS_gettid), g.ev.tid);
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	EXPECT_STREQ(comm, g.ev.comm);
	EXPECT_EQ(0, g.ev.read_ok);
	EXPECT_STREQ("hello", g.ev.str);
	EXPECT_EQ(-EFAULT, g.ev.read_bad);
	EXPECT_LT(g.ev.cpu, (uint32_t)ncpu);
	EXPECT_NE(g.ev.rnd1, g.ev.rnd2);
	EXPECT_EQ(0, ftramp_bpf_map__ringbuf_consume(events, on_record, &g));
}

TEST_F(engine, helpers_test_run)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj = open_obj_engine("bpf_helpers.bpf.o", &e,
							variant->engine);
	struct ftramp_bpf_program *p;
	const char *s = "hello";
	uint64_t ctx[1] = { U64(s) };
	size_t n = 0;
	FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .ctx_in = ctx,
		    .ctx_size_in = sizeof(ctx));
	int err;

	ASSERT_NE(NULL, obj);
	err = ftramp_bpf_object__load(obj);
	ASSERT_EQ(0, err);
	p = ftramp_bpf_object__find_program_by_name(obj, "helpers");
	ASSERT_NE(NULL, p);
	ftramp_bpf_set_print(capture, &n);
	ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
	ftramp_bpf_set_print(NULL, NULL);
	EXPECT_EQ(0, o.retval);
	EXPECT_STREQ("helpers 42 hello\n", printed);
	check_helpers(_metadata, obj, 1);
	ftramp_bpf_object__close(obj);
}

/*
 * An object whose programs each call some of .text's functions, two of
 * them in one section: every program loads (a function a program never
 * calls is not walked, not refused as unreachable) and computes its own.
 */
TEST_F(engine, subprograms_not_called)
{
	static const struct { const char *name; uint64_t want; } progs[] = {
		{ "sub_times3", 30 }, { "sub_plus7", 17 }, { "sub_both", 51 },
	};
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj = open_obj_engine("bpf_subprogs.bpf.o",
							&e, variant->engine);
	uint64_t ctx[1] = { 10 };

	if (!obj)
		TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, obj);
	if (ftramp_bpf_object__load(obj))
		TH_LOG("%s", e.msg);
	ASSERT_EQ(1, ftramp_bpf_program__engine(
		ftramp_bpf_object__next_program(obj, NULL)) ==
		     variant->engine);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct ftramp_bpf_program *p =
			ftramp_bpf_object__find_program_by_name(obj,
								progs[i].name);
		FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .ctx_in = ctx,
			    .ctx_size_in = sizeof(ctx));

		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
		if (o.retval != progs[i].want)
			TH_LOG("%s", progs[i].name);
		EXPECT_EQ(progs[i].want, o.retval);
	}
	ftramp_bpf_object__close(obj);
}

TEST_F(engine, helpers_attached)
{
	struct ftramp_bpf_object *obj = open_obj_engine("bpf_helpers.bpf.o",
							NULL, variant->engine);
	size_t n = 0;
	int err;

	ASSERT_NE(NULL, obj);
	err = ftramp_bpf_object__load(obj);
	ASSERT_EQ(0, err);
	EXPECT_EQ(variant->engine, engine_of_all(obj));
	ASSERT_EQ(0, ftramp_bpf_object__attach(obj));
	ftramp_bpf_set_print(capture, &n);
	EXPECT_EQ('h', bh_str("hello"));
	EXPECT_EQ('h', bh_str("hello"));
	ftramp_bpf_set_print(NULL, NULL);
	EXPECT_STREQ("helpers 42 hello\nhelpers 42 hello\n", printed);
	check_helpers(_metadata, obj, 2);
	ftramp_bpf_object__close(obj);
}

/* bpf_helpers_more.bpf.c's results */
struct more_out {
	uint64_t uid_gid, coarse, tai;
	long rd, rd_bad, kstr_len, kstr_trunc, kstr_bad, str_len;
	char buf[8], bad[8], kstr[8], trunc[4], kbad[8], str[8];
	long cmp_eq, cmp_lt, cmp_gt, cmp_prefix, cmp_unsigned;
};

static uint64_t clock_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

/*
 * The helpers of bpf_helpers_more.bpf.c, run by a test run and attached
 * in each engine, against what this test works out: the ids from
 * getuid()/getgid(), the clocks between readings taken around the run,
 * the reads and the compares from libc's.
 */
TEST_F(engine, helpers_more)
{
	static const char s[] = "hello, world", t[] = "hello";
	static const char zero[8];
	struct ftramp_bpf_object *obj;
	struct ftramp_bpf_program *p;
	struct ftramp_bpf_map *bss;
	char *bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	uint64_t ctx[3] = { U64(s), U64(t), U64(bad) };

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, munmap(bad, 4096));	/* now unmapped */
	/*
	 * Real ids apart from each other and from the effective ones where
	 * the test may set them (a child of its own: the harness forks),
	 * so that a swap, or the effective ids, would show.
	 */
	if (!geteuid() && (setresgid(2000, -1, -1) || setresuid(1000, -1, -1)))
		TH_LOG("real ids not set apart: %s", strerror(errno));
	obj = open_obj_engine("bpf_helpers_more.bpf.o", NULL, variant->engine);
	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	EXPECT_EQ(variant->engine, engine_of_all(obj));
	p = ftramp_bpf_object__find_program_by_name(obj, "helpers_more");
	bss = ftramp_bpf_object__find_map_by_name(obj, ".bss");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, bss);
	for (int attached = 0; attached < 2; attached++) {
		FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .ctx_in = ctx,
			    .ctx_size_in = sizeof(ctx));
		uint64_t coarse0, coarse1, tai0, tai1;
		struct more_out r = { 0 };
		uint32_t k = 0;

		ASSERT_EQ(0, ftramp_bpf_map__update_elem(bss, &k, 4, &r,
							 sizeof(r), 0));
		if (attached)
			ASSERT_EQ(0, ftramp_bpf_object__attach(obj));
		coarse0 = clock_of(CLOCK_MONOTONIC_COARSE);
		tai0 = clock_of(CLOCK_TAI);
		if (attached)
			EXPECT_EQ('h' + 'h' + 1, bh_more(s, t, bad));
		else
			ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
		tai1 = clock_of(CLOCK_TAI);
		coarse1 = clock_of(CLOCK_MONOTONIC_COARSE);
		if (attached)
			ASSERT_EQ(0, ftramp_bpf_object__detach(obj));
		ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(bss, &k, 4, &r,
							 sizeof(r), 0));

		EXPECT_EQ((uint64_t)getgid() << 32 | getuid(), r.uid_gid);
		EXPECT_LE(coarse0, r.coarse);
		EXPECT_GE(coarse1, r.coarse);
		EXPECT_LE(tai0, r.tai);
		EXPECT_GE(tai1, r.tai);

		/* _kernel: this process's memory, as _user */
		EXPECT_EQ(0, r.rd);
		EXPECT_EQ(0, memcmp(s, r.buf, 8));
		EXPECT_EQ(-EFAULT, r.rd_bad);
		EXPECT_EQ(0, memcmp(zero, r.bad, 8));	/* was "xxxxxxxx" */
		EXPECT_EQ((long)sizeof(t), r.kstr_len);	/* with its NUL */
		EXPECT_STREQ(t, r.kstr);
		EXPECT_EQ('x', r.kstr[6]);	/* past the NUL: untouched */
		EXPECT_EQ('y', r.kstr[7]);
		EXPECT_EQ(4, r.kstr_trunc);	/* size - 1 bytes and a NUL */
		EXPECT_STREQ("hel", r.trunc);
		EXPECT_EQ(-EFAULT, r.kstr_bad);
		EXPECT_EQ(0, memcmp(zero, r.kbad, 8));
		EXPECT_EQ((long)sizeof(t), r.str_len);
		EXPECT_STREQ(t, r.str);

		/* strncmp: libc's sign; the bytes unsigned */
		EXPECT_EQ(sign(strncmp(t, "hello", 8)), r.cmp_eq);
		EXPECT_EQ(0, r.cmp_eq);
		EXPECT_EQ(sign(strncmp(t, "hellp", 8)), r.cmp_lt);
		EXPECT_EQ(-1, r.cmp_lt);
		EXPECT_EQ(sign(strncmp(t, "hell", 8)), r.cmp_gt);
		EXPECT_EQ(1, r.cmp_gt);
		EXPECT_EQ(0, r.cmp_prefix);	/* "hell" of "hellx" */
		EXPECT_EQ(sign(strncmp("\xff", "a", 2)), r.cmp_unsigned);
		EXPECT_EQ(1, r.cmp_unsigned);
	}
	ftramp_bpf_object__close(obj);
}

/* r = the value of maps[0] + off */
#define LDVAL(r, off)	I(BPF_LD | BPF_IMM | BPF_DW, r, BPF_PSEUDO_MAP_VALUE, \
			  0, 0), I(0, 0, 0, 0, off)

/*
 * bpf_strncmp()'s second string (ARG_PTR_TO_CONST_STR) in raw programs
 * over a loaded object's .rodata: each string of bpf_helpers_more.bpf.c
 * compared with the data "hello", the sign libc's for the string the test
 * reads from the map itself; a variable offset and one at the value's
 * end refused.
 */
TEST_F(engine, strncmp_const_str)
{
	static const struct { const char *name, *why; insn_t in[8]; size_t n; }
	bad[] = {
		{ "variable", "R3 is not a constant address",
		  { LDX(BPF_B, 4, 1, 0), A64K(BPF_AND, 4, 1), LDVAL(3, 0),
		    A64X(BPF_ADD, 3, 4), MOV(2, 8), CALL(BPF_FUNC_strncmp),
		    EXIT() }, 8 },
		{ "at_end", "R3 invalid access to map value",
		  { LDVAL(3, 24), A64K(BPF_ADD, 3, 1), MOV(2, 8),
		    CALL(BPF_FUNC_strncmp), EXIT() }, 6 },
	};
	struct ftramp_bpf_object *obj =
		open_obj_engine("bpf_helpers_more.bpf.o", NULL, variant->engine);
	struct ftramp_bpf_map *ro;
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .maps = &ro, .nr_maps = 1,
		    .engine = variant->engine);
	char data[8] = "hello", value[32] = "";
	uint32_t k = 0, size;

	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	ro = ftramp_bpf_object__find_map_by_name(obj, ".rodata");
	ASSERT_NE(NULL, ro);
	size = ftramp_bpf_map__value_size(ro);
	ASSERT_GE(sizeof(value), size);
	ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(ro, &k, 4, value, size, 0));
	for (uint32_t off = 0; off < size; off += strlen(value + off) + 1) {
		const insn_t in[] = {
			LDVAL(3, off), MOV(2, sizeof(data)),
			CALL(BPF_FUNC_strncmp), EXIT(),
		};
		struct ftramp_bpf_program *p =
			ftramp_bpf_prog__load(in, sizeof(in) / sizeof(in[0]),
					      &lo);
		FTRAMP_OPTS(ftramp_bpf_test_run_opts, o, .data_in = data,
			    .data_size_in = sizeof(data));

		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, ftramp_bpf_prog__test_run(p, &o));
		EXPECT_EQ(sign(strncmp(data, value + off, sizeof(data))),
			  (long)o.retval);
		ftramp_bpf_prog__free(p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ftramp_bpf_error e = { 0 };

		lo.err = &e;
		EXPECT_EQ(NULL, ftramp_bpf_prog__load(bad[i].in, bad[i].n, &lo));
		EXPECT_EQ(FTRAMP_BPF_E_VERIFY, e.code);
		if (!strstr(e.msg, bad[i].why))
			TH_LOG("%s: %s", bad[i].name, e.msg);
		EXPECT_NE(NULL, strstr(e.msg, bad[i].why));
	}
	ftramp_bpf_object__close(obj);
}

TEST(struct_ops_thunk)
{
	struct ftramp_bpf_object *obj = open_obj("bpf_ops.bpf.o", NULL);
	struct ftramp_bpf_program *p;
	struct ftramp_func_model m;
	long (*fn)(long, long, long);

	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	p = ftramp_bpf_object__find_program_by_name(obj, "add3");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(FTRAMP_BPF_PROG_STRUCT_OPS, ftramp_bpf_program__type(p));
	/* object attach skips struct_ops programs */
	ASSERT_EQ(0, ftramp_bpf_object__attach(obj));
	ASSERT_EQ(0, ftramp_model__parse("long (long, long, long)", &m, NULL));
	fn = ftramp_bpf_program__thunk(p, &m, 1000);
	ASSERT_NE(NULL, fn);
	EXPECT_EQ(1 + 20 + 300 + 1000, fn(1, 2, 3));
	EXPECT_EQ(-5 + 1000, fn(-5, 0, 0));
	EXPECT_EQ(NULL, ftramp_bpf_program__attach(p, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* a model of two arguments: the program reads ctx[2] (verifier) */
	ASSERT_EQ(0, ftramp_model__parse("long (long, long)", &m, NULL));
	EXPECT_EQ(NULL, ftramp_bpf_program__thunk(p, &m, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), "reads ctx[2], beyond "
			       "the 2 ctx slots"));
	ftramp_thunk__destroy(fn);
	ftramp_bpf_object__close(obj);
}

/* ------------------------------------------------------------------------
 * Refusals: each with its code, a message naming where, nothing left
 */

TEST(refusals)
{
	struct ftramp_bpf_error e;
	uint8_t *orig = NULL, *buf;
	size_t size = 0;
	Elf64_Shdr *sh;

	ASSERT_EQ(0, read_obj("bpf_trace.bpf.o", &orig, &size));
	buf = malloc(size);
	ASSERT_EQ(0, open_err(orig, size, &e));

	EXPECT_EQ(-EINVAL, open_err(orig, 40, &e));
	EXPECT_EQ(FTRAMP_BPF_E_TRUNCATED, e.code);
	EXPECT_EQ(-EINVAL, open_err(orig, size / 2, &e));
	EXPECT_EQ(FTRAMP_BPF_E_TRUNCATED, e.code);

	memcpy(buf, orig, size);
	((Elf64_Ehdr *)buf)->e_machine = EM_AARCH64;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_MACHINE, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "e_machine 183"));

	memcpy(buf, orig, size);
	buf[0] = 0x7e;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_NOT_ELF, e.code);

	memcpy(buf, orig, size);
	sh = find_sec(buf, "fentry/bt_add");
	ASSERT_NE(NULL, sh);
	sh->sh_size -= 4;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_INSN_SIZE, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "section fentry/bt_add: "));
	EXPECT_NE(NULL, strstr(e.msg, "bytes, not a multiple of 8"));

	memcpy(buf, orig, size);
	sh = find_sec(buf, ".relfentry/bt_add");
	ASSERT_NE(NULL, sh);
	((Elf64_Rel *)(buf + sh->sh_offset))->r_offset = 0x10000;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_RANGE, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "section fentry/bt_add, offset 0x10000, "
			       "symbol calls"));

	/* R_BPF_64_64 moved onto an instruction that is not ld_imm64 */
	memcpy(buf, orig, size);
	((Elf64_Rel *)(buf + sh->sh_offset))->r_offset = 0;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_INSN, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "insn 0, symbol calls"));

	/* an unknown relocation type */
	memcpy(buf, orig, size);
	((Elf64_Rel *)(buf + sh->sh_offset))->r_info =
		ELF64_R_INFO(ELF64_R_SYM(((Elf64_Rel *)(orig + sh->sh_offset))->r_info), 3);
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_TYPE, e.code);

	/* a section header table entry size that is not Elf64_Shdr's */
	memcpy(buf, orig, size);
	((Elf64_Ehdr *)buf)->e_shentsize = 32;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_SECTION, e.code);

	/* a symbol table whose entries are not Elf64_Sym */
	memcpy(buf, orig, size);
	sh = find_sec(buf, ".symtab");
	ASSERT_NE(NULL, sh);
	sh->sh_entsize = 16;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_SYMTAB, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "section .symtab: damaged symbol table"));

	/* .BTF with a bad magic: the maps cannot be read */
	memcpy(buf, orig, size);
	sh = find_sec(buf, ".BTF");
	ASSERT_NE(NULL, sh);
	buf[sh->sh_offset] ^= 0xff;
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_BTF, e.code);
	EXPECT_STREQ("section .BTF: bad magic or version", e.msg);

	/* a code section of no known kind ("xentry/...") */
	memcpy(buf, orig, size);
	sh = find_sec(buf, "fentry/bt_add");
	ASSERT_NE(NULL, sh);
	buf[((Elf64_Shdr *)(buf + ((Elf64_Ehdr *)buf)->e_shoff))[
		((Elf64_Ehdr *)buf)->e_shstrndx].sh_offset + sh->sh_name] = 'x';
	EXPECT_EQ(-EINVAL, open_err(buf, size, &e));
	EXPECT_EQ(FTRAMP_BPF_E_SEC_NAME, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "section xentry/bt_add, symbol on_add"));

	free(buf);
	free(orig);

	/* whole objects built to be refused */
	EXPECT_EQ(NULL, open_obj("refuse_maptype.bpf.o", &e));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FTRAMP_BPF_E_MAP_TYPE, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "section .maps, symbol st: map type 7"));
	EXPECT_STREQ(e.msg, ftramp_error_detail());
	EXPECT_EQ(NULL, open_obj("refuse_nolicense.bpf.o", &e));
	EXPECT_EQ(FTRAMP_BPF_E_NO_LICENSE, e.code);
	EXPECT_EQ(NULL, open_obj("refuse_extern.bpf.o", &e));
	EXPECT_EQ(FTRAMP_BPF_E_RELO_SYM, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "symbol not_defined_anywhere: undefined"));

	/* opened, then refused by the verifier at load: nothing stays */
	{
		struct ftramp_bpf_object *obj = open_obj("refuse_verify.bpf.o", &e);

		ASSERT_NE(NULL, obj);
		EXPECT_EQ(-EINVAL, ftramp_bpf_object__load(obj));
		EXPECT_EQ(FTRAMP_BPF_E_VERIFY, e.code);
		EXPECT_NE(NULL, strstr(e.msg, "section fentry/bt_add, insn "));
		EXPECT_NE(NULL, strstr(e.msg, "invalid mem access "
				       "'map_value_or_null'"));
		EXPECT_STREQ(e.msg, ftramp_error_detail());
		EXPECT_EQ(NULL, ftramp_bpf_program__handler(
			ftramp_bpf_object__find_program_by_name(obj,
								"no_null_check")));
		ftramp_bpf_object__close(obj);
	}
	/* bpf_strncmp()'s constant string without its NUL */
	{
		struct ftramp_bpf_object *obj = open_obj("refuse_strncmp.bpf.o",
							 &e);

		ASSERT_NE(NULL, obj);
		EXPECT_EQ(-EINVAL, ftramp_bpf_object__load(obj));
		EXPECT_EQ(FTRAMP_BPF_E_VERIFY, e.code);
		EXPECT_NE(NULL, strstr(e.msg, "R3 string is not zero-terminated "
				       "(R3=map_value(map=.rodata,off=0))"));
		ftramp_bpf_object__close(obj);
	}
}

/*
 * The verifier bounds ctx by the slots a program reads; attach holds them
 * to the link's model: on_add_exit reads ctx[2] (bt_add's result), which
 * a model of one argument does not have.
 */
TEST(attach_model_bounds_ctx)
{
	struct ftramp_bpf_object *obj = open_obj("bpf_trace.bpf.o", NULL);
	FTRAMP_OPTS(ftramp_bpf_attach_opts, o);
	struct ftramp_bpf_program *p;
	struct ftramp_func_model m;
	struct ftramp_bpf_link *l;

	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	p = ftramp_bpf_object__find_program_by_name(obj, "on_add_exit");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ftramp_model__parse("int (int)", &m, NULL));
	o.model = &m;
	EXPECT_EQ(NULL, ftramp_bpf_program__attach(p, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(ftramp_error_detail(), "on_add_exit reads "
			       "ctx[2], beyond the 2 ctx slots of bt_add's "
			       "model"));
	EXPECT_EQ(3, bt_add(1, 2));
	ASSERT_EQ(0, ftramp_model__parse("int (int, int)", &m, NULL));
	l = ftramp_bpf_program__attach(p, &o);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, ftramp_bpf_link__destroy(l));
	ftramp_bpf_object__close(obj);
}

/* Attaching an object is all or nothing. */
TEST(attach_all_or_nothing)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj = open_obj("refuse_target.bpf.o", &e);
	uint64_t w[1];

	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	EXPECT_EQ(-ENOENT, ftramp_bpf_object__attach(obj));
	EXPECT_EQ(FTRAMP_BPF_E_ATTACH, e.code);
	EXPECT_NE(NULL, strstr(e.msg, "fentry/bt_no_such_function"));
	bt_add(1, 2);
	ASSERT_EQ(0, data_words(obj, ".bss", w, 1));
	EXPECT_EQ(0, w[0]);	/* the first program was not attached either */
	ftramp_bpf_object__close(obj);
}

/* ------------------------------------------------------------------------
 * Maps through the API
 */

TEST(map_hash_flags)
{
	struct ftramp_bpf_map *m = ftramp_bpf_map__create(BPF_MAP_TYPE_HASH,
							  "h", 4, 8, 4, NULL);
	uint32_t k, next, seen = 0;
	uint64_t v = 7, out;

	ASSERT_NE(NULL, m);
	k = 1;
	EXPECT_EQ(-ENOENT, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_EXIST));
	EXPECT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_NOEXIST));
	EXPECT_EQ(-EEXIST, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_NOEXIST));
	v = 8;
	EXPECT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_EXIST));
	EXPECT_EQ(0, ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 8, 0));
	EXPECT_EQ(8, out);
	EXPECT_EQ(-EINVAL, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, 3));
	EXPECT_EQ(-EINVAL, ftramp_bpf_map__lookup_elem(m, &k, 2, &out, 8, 0));
	for (k = 2; k <= 4; k++)
		EXPECT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_ANY));
	k = 5;
	EXPECT_EQ(-E2BIG, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_ANY));
	k = 4;	/* replacing when full is fine */
	EXPECT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_ANY));
	/* iterate: every key once */
	for (int r = ftramp_bpf_map__get_next_key(m, NULL, &next, 4); !r;
	     r = ftramp_bpf_map__get_next_key(m, &k, &next, 4)) {
		seen |= 1u << next;
		k = next;
	}
	EXPECT_EQ(0x1e, seen);
	k = 2;
	EXPECT_EQ(0, ftramp_bpf_map__delete_elem(m, &k, 4, 0));
	EXPECT_EQ(-ENOENT, ftramp_bpf_map__delete_elem(m, &k, 4, 0));
	EXPECT_EQ(-ENOENT, ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 8, 0));
	k = 5;
	EXPECT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 8, BPF_ANY));
	ftramp_bpf_map__free(m);
}

/*
 * LRU_HASH eviction order (lru_evict() in bpf/map.c): the oldest added
 * or updated goes first; an update makes an element the newest.
 */
TEST(map_lru_order)
{
	struct ftramp_bpf_map *m;
	uint32_t k, v, out;

	m = ftramp_bpf_map__create(BPF_MAP_TYPE_LRU_HASH, "l", 4, 4, 4, NULL);
	ASSERT_NE(NULL, m);
	for (k = 1; k <= 4; k++)
		ASSERT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &k, 4, BPF_ANY));
	k = 1;
	v = 100;
	ASSERT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 4, BPF_EXIST));
	k = 3;
	ASSERT_EQ(0, ftramp_bpf_map__delete_elem(m, &k, 4, 0));
	for (k = 5; k <= 7; k++)	/* 5 fills the hole; 6, 7 evict 2, 4 */
		ASSERT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &k, 4, BPF_ANY));
	for (k = 1; k <= 7; k++) {
		bool want = k == 1 || k >= 5;
		int ret = ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 4, 0);

		EXPECT_EQ(want ? 0 : -ENOENT, ret);
		if (!ret)
			EXPECT_EQ(k == 1 ? 100 : k, out);
	}
	ftramp_bpf_map__free(m);
}

/*
 * Many evictions from a large LRU_HASH: after N inserts of distinct
 * keys exactly the last max_entries are left (each eviction O(1)
 * amortised: 200000 of them over 65536 elements).
 */
TEST(map_lru_many_evictions)
{
	const uint32_t max = 65536, n = 200000;
	struct ftramp_bpf_map *m;
	uint32_t k, out, left = 0, next;

	m = ftramp_bpf_map__create(BPF_MAP_TYPE_LRU_HASH, "l", 4, 4, max, NULL);
	ASSERT_NE(NULL, m);
	for (k = 0; k < n; k++)
		ASSERT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &k, 4, BPF_ANY));
	for (k = 0; k < n; k++) {
		int ret = ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 4, 0);

		if (ret != (k < n - max ? -ENOENT : 0)) {
			EXPECT_EQ(k < n - max ? -ENOENT : 0, ret);
			break;
		}
	}
	for (int r = ftramp_bpf_map__get_next_key(m, NULL, &next, 4); !r;
	     r = ftramp_bpf_map__get_next_key(m, &next, &next, 4))
		left++;
	EXPECT_EQ(max, left);
	ftramp_bpf_map__free(m);
}

/*
 * Global data's BTF offsets come from the ELF symbols (fixup_datasecs()
 * in bpf/object.c): every one of 240 variables, declared in no order,
 * reads back its own initial value in the typed dump.
 */
TEST(globals_offsets)
{
	struct ftramp_bpf_error e = { 0 };
	struct ftramp_bpf_object *obj = open_obj("bpf_globals.bpf.o", &e);
	const char *secs[] = { ".data", ".rodata" };
	size_t bufsize = 16384;
	char *buf = malloc(bufsize), want[32];

	if (!obj)
		TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, ftramp_bpf_object__load(obj));
	for (int s = 0; s < 2; s++) {
		struct ftramp_bpf_map *m =
			ftramp_bpf_object__find_map_by_name(obj, secs[s]);
		uint32_t size, k = 0;
		void *val;

		ASSERT_NE(NULL, m);
		size = ftramp_bpf_map__value_size(m);
		EXPECT_EQ(s ? 40 * 8 : 200 * 8, size);
		val = malloc(size);
		ASSERT_EQ(0, ftramp_bpf_map__lookup_elem(m, &k, 4, val, size, 0));
		ASSERT_GT(ftramp_bpf_map__format(m, true, val, size, buf,
						 bufsize), 0);
		for (int i = 0; i < (s ? 40 : 200); i++) {
			if (s)
				snprintf(want, sizeof(want), "r%02d=%d,", i, i + 7);
			else
				snprintf(want, sizeof(want), "v%03d=%d,", i,
					 3 * i + 1);
			/* the last has '}' after it */
			if (!strstr(buf, want))
				want[strlen(want) - 1] = '}';
			if (!strstr(buf, want))
				TH_LOG("missing %s", want);
			EXPECT_NE(NULL, strstr(buf, want));
		}
		free(val);
	}
	free(buf);
	ftramp_bpf_object__close(obj);
}

TEST(map_lru_array_refusals)
{
	struct ftramp_bpf_map *m;
	uint32_t k, v, out;

	m = ftramp_bpf_map__create(BPF_MAP_TYPE_LRU_HASH, "l", 4, 4, 2, NULL);
	ASSERT_NE(NULL, m);
	for (k = 1; k <= 3; k++) {
		v = k * 10;
		EXPECT_EQ(0, ftramp_bpf_map__update_elem(m, &k, 4, &v, 4, BPF_ANY));
	}
	k = 1;	/* the least recently used went */
	EXPECT_EQ(-ENOENT, ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 4, 0));
	k = 3;
	EXPECT_EQ(0, ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 4, 0));
	EXPECT_EQ(30, out);
	ftramp_bpf_map__free(m);

	m = ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY, "a", 4, 4, 2, NULL);
	ASSERT_NE(NULL, m);
	k = 1;
	EXPECT_EQ(0, ftramp_bpf_map__lookup_elem(m, &k, 4, &out, 4, 0));
	EXPECT_EQ(0, out);
	EXPECT_EQ(-EEXIST, ftramp_bpf_map__update_elem(m, &k, 4, &v, 4, BPF_NOEXIST));
	EXPECT_EQ(-EINVAL, ftramp_bpf_map__delete_elem(m, &k, 4, 0));
	k = 2;
	EXPECT_EQ(-E2BIG, ftramp_bpf_map__update_elem(m, &k, 4, &v, 4, BPF_ANY));
	EXPECT_EQ(-ENOENT, ftramp_bpf_map__get_next_key(m, &(uint32_t){1}, &k, 4));
	ftramp_bpf_map__free(m);

	errno = 0;
	EXPECT_EQ(NULL, ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY, "a", 8, 4, 2, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, ftramp_bpf_map__create(BPF_MAP_TYPE_RINGBUF, "r", 0, 0, 3000, NULL));
	EXPECT_EQ(NULL, ftramp_bpf_map__create(BPF_MAP_TYPE_HASH, "h", 4, 4, 0, NULL));
	EXPECT_EQ(NULL, ftramp_bpf_map__create(BPF_MAP_TYPE_STACK_TRACE, "s", 4, 8, 1, NULL));
}

/* Threads update, delete and look up one hash map at once. */
struct hammer {
	struct ftramp_bpf_map *m;
	uint32_t base;
	int errors;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;

	for (int round = 0; round < 200; round++) {
		for (uint32_t i = 0; i < 16; i++) {
			uint32_t k = h->base + i;
			uint64_t v = (uint64_t)k << 32 | round, out;

			if (ftramp_bpf_map__update_elem(h->m, &k, 4, &v, 8, BPF_ANY))
				h->errors++;
			if (ftramp_bpf_map__lookup_elem(h->m, &k, 4, &out, 8, 0) ||
			    out >> 32 != k)
				h->errors++;
			if ((round & 1) && ftramp_bpf_map__delete_elem(h->m, &k, 4, 0))
				h->errors++;
		}
		/* a key another thread churns: found or not, never torn */
		{
			uint32_t k = (h->base + 16) % 64;
			uint64_t out;

			if (!ftramp_bpf_map__lookup_elem(h->m, &k, 4, &out, 8, 0) &&
			    out >> 32 != k)
				h->errors++;
		}
	}
	return NULL;
}

TEST(map_hash_concurrent)
{
	struct ftramp_bpf_map *m = ftramp_bpf_map__create(BPF_MAP_TYPE_HASH,
							  "c", 4, 8, 64, NULL);
	struct hammer h[4];
	pthread_t t[4];
	uint32_t k, next;
	int n = 0;

	ASSERT_NE(NULL, m);
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ m, i * 16, 0 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer, &h[i]));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, h[i].errors);
	}
	/* the last round (odd) deleted every key */
	for (int r = ftramp_bpf_map__get_next_key(m, NULL, &next, 4); !r;
	     r = ftramp_bpf_map__get_next_key(m, &k, &next, 4)) {
		n++;
		k = next;
	}
	EXPECT_EQ(0, n);
	ftramp_bpf_map__free(m);
}

TEST_HARNESS_MAIN
