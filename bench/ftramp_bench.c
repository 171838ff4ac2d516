// SPDX-License-Identifier: MIT
/*
 * ftramp_bench: what a traced call costs with ftramp, in guest
 * instructions, on the functions xray_bench measures for XRay.
 *
 * bench/targets.c is built twice into this program: bench_*_plain as
 * usual, bench_*_nop with the patchable entry ftramp needs
 * (-fpatchable-function-entry=4,2 -falign-functions=8).  The programs
 * and this file are built without it.  Every case attaches, measures
 * BENCH_CALLS calls with bench/loops.h, and detaches; before the
 * measured cases, counting programs prove that the near and the far path
 * really run them.
 *
 * The attach benchmark attaches fentry+fexit to 1, 100 and 10,000
 * generated functions (bench/gen_funcs.sh), one ftramp_attach() per
 * program and function, then the same links in one batch
 * (ftramp_attach_batch__commit(), ftramp_links__destroy(): one
 * transaction each), and compares all with a bare mprotect() sweep
 * over the same pages.  Then, for each size, one ordinary ftrace ops on
 * the same functions (one transaction to register, one to unregister):
 * last, because the sites it takes through ftrace_caller stay marked so
 * (their literal may have a reader) and every later change of their
 * literal costs a phase of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <ftramp/ftramp.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/patching.h"
#include "arch/arm64/text_alloc.h"
#include "bpf/fixup.h"
#include "trampoline/trampoline.h"

#include "loops.h"
#include "pages.h"
#include "report.h"
#include "handlers.h"
#include "targets.h"
#include "tools/ftramp/agent/hist.h"

BENCH_DECLARE_TARGETS(plain);
BENCH_DECLARE_TARGETS(nop);
BENCH_SINKS;

#define MAX_LINKS	16

static struct ftramp_func_model model_f2, model_f6, model_gen;

/*
 * Empty programs.  Three of each are needed for "3 programs per kind"
 * (the same program cannot be attached twice with one kind); the file is
 * built with -fno-ipa-icf so that they keep distinct addresses.
 */
static uint64_t prog_a(const uint64_t *ctx) { return 0; }
static uint64_t prog_b(const uint64_t *ctx) { return 0; }
static uint64_t prog_c(const uint64_t *ctx) { return 0; }
static const ftramp_prog_t progs[3] = { prog_a, prog_b, prog_c };

/*
 * --hist's programs, as tools/ftramp/agent/event.c has them (hist_entry,
 * hist_exit), on the agent's own arithmetic (agent/hist.h).
 */
static struct hist_stat hist_stats[1];

static uint64_t hist_entry(const uint64_t *ctx)
{
	*ftramp_get_session_cookie(ctx) = hist_ticks();
	return 0;
}

static uint64_t hist_exit(const uint64_t *ctx)
{
	uint64_t end = hist_ticks();
	uint64_t c = ftramp_get_attach_cookie(ctx);

	if (c < 1)
		hist_record(&hist_stats[c],
			    hist_ns(end - *ftramp_get_session_cookie(ctx)));
	return 0;
}

static unsigned long runs_entry, runs_exit;

static uint64_t count_entry(const uint64_t *ctx)
{
	runs_entry++;
	return 0;
}

static uint64_t count_exit(const uint64_t *ctx)
{
	runs_exit++;
	return 0;
}

static void empty_handler(unsigned long ip, unsigned long parent_ip,
			  struct ftramp_ftrace_ops *op,
			  struct ftramp_ftrace_regs *fregs)
{
}

static void empty_handler2(unsigned long ip, unsigned long parent_ip,
			   struct ftramp_ftrace_ops *op,
			   struct ftramp_ftrace_regs *fregs)
{
}

/* One measured function: its name, site, model and loop. */
struct target {
	const char *fn;		/* "f2" */
	const char *site;	/* "bench_f2_nop" */
	void *nop;		/* patchable copy */
	void *plain;		/* plain copy */
	const struct ftramp_func_model *model;
};

static struct target targets[2];

static void loop(const struct target *t, void *func)
{
	if (t->model == &model_f2)
		bench_loop_f2((bench_f2_t)func, BENCH_CALLS);
	else
		bench_loop_f6((bench_f6_t)func, BENCH_CALLS);
}

static void name_of(char *buf, size_t size, const char *impl,
		    const struct target *t, const char *variant)
{
	snprintf(buf, size, "%s.%s.%s", impl, t->fn, variant);
}

static const char *err_str(int err, char *buf, size_t size)
{
	if (ftramp_strerror(err, buf, size) < 0)
		snprintf(buf, size, "%s", strerror(err < 0 ? -err : err));
	return buf;
}

/* A set of links to attach for one case. */
struct config {
	const char *variant;
	const char *label;
	unsigned int nr[5];	/* per enum ftramp_attach_kind */
	bool far;
	bool unknown;		/* no model: the unknown model */
	bool hist;		/* fentry + fexit are hist.h's programs */
};

#define CONFIG(v, l, entry, exit, modret, is_far)			\
	{ .variant = v, .label = l, .far = is_far,			\
	  .nr = { [FTRAMP_FENTRY] = entry, [FTRAMP_FEXIT] = exit,	\
		  [FTRAMP_FMOD_RET] = modret } }
#define CONFIG_UNKNOWN(v, l, entry, exit, modret)			\
	{ .variant = v, .label = l, .unknown = true,			\
	  .nr = { [FTRAMP_FENTRY] = entry, [FTRAMP_FEXIT] = exit,	\
		  [FTRAMP_FMOD_RET] = modret } }

static const struct config configs[] = {
	CONFIG("fentry", "fentry, empty program", 1, 0, 0, false),
	CONFIG("fexit", "fexit, empty program", 0, 1, 0, false),
	CONFIG("fentry_fexit", "fentry + fexit, empty programs", 1, 1, 0,
	       false),
	CONFIG("fmod_ret", "fmod_ret, empty program (returns 0)", 0, 0, 1,
	       false),
	CONFIG("x3", "3 fentry + 3 fmod_ret + 3 fexit, empty programs",
	       3, 3, 3, false),
	CONFIG("far_fentry",
	       "fentry, forced far path (ftrace_caller + ops literal)",
	       1, 0, 0, true),
	CONFIG("far_fentry_fexit",
	       "fentry + fexit, forced far path (ftrace_caller + ops literal)",
	       1, 1, 0, true),
	/*
	 * No model: every argument register saved in full; fexit and
	 * fmod_ret through the return hook (exit stub, shadow stack).
	 */
	CONFIG_UNKNOWN("unknown_fentry", "unknown model: fentry, empty program",
		       1, 0, 0),
	CONFIG_UNKNOWN("unknown_fexit",
		       "unknown model: fexit (return hook), empty program",
		       0, 1, 0),
	CONFIG_UNKNOWN("unknown_fentry_fexit",
		       "unknown model: fentry + fexit (return hook), empty programs",
		       1, 1, 0),
	CONFIG_UNKNOWN("unknown_fmod_ret",
		       "unknown model: fmod_ret (returns 0, return hook)",
		       0, 0, 1),
	{ .variant = "count", .nr = { [FTRAMP_COUNT] = 1 },
	  .label = "--count: a FTRAMP_COUNT link (a counter, no program)" },
	{ .variant = "hist", .nr = { [FTRAMP_HIST] = 1 },
	  .label = "--hist: a FTRAMP_HIST link (entry time in the shadow record, one bucket at exit)" },
	{ .variant = "hist_progs", .nr = { 1, 1 }, .hist = true,
	  .label = "-t with --hist: programs, entry time in the session cookie, bucket at exit" },
};

static int attach_config(const struct target *t, const struct config *c,
			 struct ftramp_link **links, unsigned int *nr_links)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts,
		    .model = c->unknown ? NULL : t->model,
		    .force_far = c->far, .no_dwarf = true,
		    .session = c->hist);
	unsigned int kind, i;

	*nr_links = 0;
	for (kind = 0; kind < 5; kind++) {
		for (i = 0; i < c->nr[kind]; i++) {
			struct ftramp_link *l;
			ftramp_prog_t p = kind >= FTRAMP_COUNT ? NULL :
					  !c->hist ? progs[i] :
					  kind == FTRAMP_FENTRY ? hist_entry :
								  hist_exit;

			l = ftramp_attach(t->site, kind, p, &opts);
			if (!l)
				return -errno;
			links[(*nr_links)++] = l;
		}
	}
	return 0;
}

static int detach_all(struct ftramp_link **links, unsigned int nr)
{
	int err = 0, ret;

	while (nr--) {
		ret = ftramp_link__destroy(links[nr]);
		if (ret && !err)
			err = ret;
	}
	return err;
}

/*
 * Exact bytes of the image the builder makes for a configuration (the
 * emitter's second pass, at a scratch address), with an image state as
 * ftramp_attach() gives it (guard, counters, shadow records).
 */
static long image_bytes(const struct target *t, const struct config *c)
{
	struct ftramp_tramp_link tl[3][3];
	struct ftramp_tramp_state st;
	struct ftramp_tramp_args args = {
		.model = c->unknown ? NULL : t->model,
		.func_addr = (uint64_t)t->nop,
		.state = &st,
	};
	static const int list_of[3] = {
		[FTRAMP_FENTRY] = FTRAMP_TRAMP_FENTRY,
		[FTRAMP_FEXIT] = FTRAMP_TRAMP_FEXIT,
		[FTRAMP_FMOD_RET] = FTRAMP_TRAMP_MODIFY_RETURN,
	};
	static uint64_t ctr;
	static uint64_t *const ctrs[1] = { &ctr };
	static uint64_t hist[FTRAMP_HIST_BUCKETS];
	static uint64_t *const hists[1] = { hist };
	unsigned int kind, i;
	void *buf;
	int size;

	for (kind = 0; kind < 3; kind++) {
		for (i = 0; i < c->nr[kind]; i++)
			tl[kind][i] = (struct ftramp_tramp_link){ progs[i], 0 };
		args.progs[list_of[kind]].links = tl[kind];
		args.progs[list_of[kind]].nr = c->nr[kind];
	}
	args.counts = ctrs;
	args.nr_counts = c->nr[FTRAMP_COUNT];
	args.hists = hists;
	args.nr_hists = c->nr[FTRAMP_HIST];
	if (c->hist)
		args.flags |= FTRAMP_TRAMP_F_SESSION;
	if (c->nr[FTRAMP_FEXIT] || c->nr[FTRAMP_FMOD_RET])
		args.flags |= FTRAMP_TRAMP_F_CALL_ORIG;
	if (ftramp_tramp_cpu_has_lse())
		args.flags |= FTRAMP_TRAMP_F_LSE;
	if (ftramp_tramp_state_init(&st))
		return -ENOMEM;
	size = ftramp_arch_prepare_trampoline(&args, NULL, 0, 0);
	if (size <= 0)
		goto out;
	buf = aligned_alloc(64, (size + 63) & ~63);
	if (!buf) {
		size = -ENOMEM;
		goto out;
	}
	size = ftramp_arch_prepare_trampoline(&args, buf, (uint64_t)buf, size);
	free(buf);
out:
	ftramp_tramp_state_fini(&st);
	return size;
}

/* Counting programs: do the near and the far path reach the programs? */
static int verify(const struct target *t, bool far)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .model = t->model,
		    .force_far = far, .no_dwarf = true);
	struct ftramp_link *in, *out;
	long i;

	in = ftramp_attach(t->site, FTRAMP_FENTRY, count_entry, &opts);
	if (!in)
		return -errno;
	out = ftramp_attach(t->site, FTRAMP_FEXIT, count_exit, &opts);
	if (!out) {
		ftramp_link__destroy(in);
		return -errno;
	}
	runs_entry = runs_exit = 0;
	for (i = 0; i < VERIFY_CALLS; i++) {
		if (t->model == &model_f2)
			bench_sink_l = ((bench_f2_t)t->nop)(i, 1);
		else
			bench_sink_d = ((bench_f6_t)t->nop)(1, 2.0, 3, 4.0,
							    5, 6.0);
	}
	ftramp_link__destroy(out);
	ftramp_link__destroy(in);
	if (runs_entry != VERIFY_CALLS || runs_exit != VERIFY_CALLS) {
		fprintf(stderr, "ftramp_bench: %s %s path: %lu entries, %lu exits for %d calls\n",
			t->site, far ? "far" : "near", runs_entry, runs_exit,
			VERIFY_CALLS);
		return -EIO;
	}
	fprintf(stderr, "ftramp_bench: verified %s %s path: %d fentry and %d fexit runs\n",
		t->site, far ? "far" : "near", VERIFY_CALLS, VERIFY_CALLS);
	return 0;
}

static void bench_target(const struct target *t)
{
	struct ftramp_link *links[MAX_LINKS];
	char name[64], base[64], msg[128];
	unsigned int nr, i;
	int err;

	name_of(base, sizeof(base), "ftramp", t, "untraced");

	loop(t, t->plain);
	name_of(name, sizeof(name), "ftramp", t, "plain");
	bench_case(name, BENCH_CALLS, base, "gcc, no patchable entry (reference)");

	loop(t, t->nop);
	bench_case(base, BENCH_CALLS, "-", "ftramp sites, NOPs (untraced)");

	for (i = 0; i < 2; i++) {
		err = verify(t, i);
		if (err) {
			fprintf(stderr, "ftramp_bench: verify %s: %s\n",
				t->site, err_str(err, msg, sizeof(msg)));
			break;
		}
	}

	for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		const struct config *c = &configs[i];

		name_of(name, sizeof(name), "ftramp", t, c->variant);
		err = attach_config(t, c, links, &nr);
		if (err) {
			detach_all(links, nr);
			bench_na(name, base, c->label,
				 err_str(err, msg, sizeof(msg)));
			continue;
		}
		loop(t, t->nop);
		bench_case(name, BENCH_CALLS, base, c->label);
		err = detach_all(links, nr);
		if (err)
			fprintf(stderr, "ftramp_bench: detach %s: %s\n", name,
				err_str(err, msg, sizeof(msg)));
	}

	/* One and two ordinary ftrace ops (handlers through ftrace_caller). */
	{
		struct ftramp_ftrace_ops ops1 = { .func = empty_handler };
		struct ftramp_ftrace_ops ops2 = { .func = empty_handler2 };

		err = ftramp_ftrace_ops__set_filter_ip(&ops1, (uint64_t)t->nop,
						       FTRAMP_FILTER_RESET);
		if (!err)
			err = ftramp_ftrace_ops__register(&ops1);
		name_of(name, sizeof(name), "ftramp", t, "ops");
		if (err) {
			bench_na(name, base, "one ftrace ops, empty handler",
				 err_str(err, msg, sizeof(msg)));
		} else {
			loop(t, t->nop);
			bench_case(name, BENCH_CALLS, base,
				   "one ftrace ops, empty handler");
			err = ftramp_ftrace_ops__set_filter_ip(&ops2,
						(uint64_t)t->nop, FTRAMP_FILTER_RESET);
			if (!err)
				err = ftramp_ftrace_ops__register(&ops2);
			name_of(name, sizeof(name), "ftramp", t, "ops2");
			if (err) {
				bench_na(name, base,
					 "two ftrace ops on one site, empty handlers",
					 err_str(err, msg, sizeof(msg)));
			} else {
				loop(t, t->nop);
				bench_case(name, BENCH_CALLS, base,
					   "two ftrace ops on one site, empty handlers");
				ftramp_ftrace_ops__unregister(&ops2);
			}
			ftramp_ftrace_ops__unregister(&ops1);
		}
		ftramp_ftrace_ops__free_filter(&ops2);
		ftramp_ftrace_ops__free_filter(&ops1);
	}

	/* Everything detached: the site must cost what it cost before. */
	loop(t, t->nop);
	name_of(name, sizeof(name), "ftramp", t, "detached");
	bench_case(name, BENCH_CALLS, base, "after every detach (sites NOPs again)");
}

/*
 * BPF programs as handlers, JIT'd (arch/arm64/bpf_jit.c) and interpreted
 * (bpf/interp.c), beside the C handlers that do the same, compiled by
 * gcc (this file) and by clang (bench/handlers.c): an empty fentry+fexit
 * pair against the C pair, then a count into an ARRAY map against the
 * same engine's empty program.
 */
static const struct ftramp_bpf_insn bpf_empty[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* __sync_fetch_and_add(&counter, 1), the counter a global (map value). */
static const struct ftramp_bpf_insn bpf_count[] = {
	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1,
	  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = 0 },
	{ .imm = 0 },				/* offset in the value */
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2, .imm = 1 },
	{ .code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = 1, .src_reg = 2,
	  .imm = BPF_ADD },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/*
 * The same through bpf_map_lookup_elem(&counter, &(u32){0}), as clang
 * compiles `if ((v = bpf_map_lookup_elem(&m, &k))) __sync_fetch_and_add(v, 1)`.
 */
static const struct ftramp_bpf_insn bpf_lookup_count[] = {
	{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -4,
	  .imm = 0 },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4 },
	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1,
	  .src_reg = BPF_PSEUDO_MAP_FD, .imm = 0 },
	{ .imm = 0 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
	{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = 0, .off = 2,
	  .imm = 0 },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = 1 },
	{ .code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = 0, .src_reg = 1,
	  .imm = BPF_ADD },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* get_func_arg(ctx, 0, &v), v returned (-EINVAL: the error). */
static const struct ftramp_bpf_insn bpf_arg[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2, .imm = 0 },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 3, .src_reg = 10 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = -8 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_func_arg },
	{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 0, .off = 1 },
	{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 0, .src_reg = 10,
	  .off = -8 },
	{ .code = BPF_JMP | BPF_EXIT },
};

#define NINSNS(a)	(sizeof(a) / sizeof((a)[0]))

/* One case: @entry as t's fentry and @exit (if any) as its fexit. */
static void bench_handlers(const struct target *t, const char *variant,
			   ftramp_prog_t entry, ftramp_prog_t exit,
			   const char *base_variant, const char *label)
{
	FTRAMP_OPTS(ftramp_attach_opts, opts, .model = t->model,
		    .no_dwarf = true);
	char name[64], base[64], msg[128];
	struct ftramp_link *in = NULL, *out = NULL;

	name_of(name, sizeof(name), "ftramp", t, variant);
	name_of(base, sizeof(base), "ftramp", t, base_variant);
	if (!entry) {
		bench_na(name, base, label, "the program did not load");
		return;
	}
	in = ftramp_attach(t->site, FTRAMP_FENTRY, entry, &opts);
	if (in && exit)
		out = ftramp_attach(t->site, FTRAMP_FEXIT, exit, &opts);
	if (!in || (exit && !out)) {
		bench_na(name, base, label, err_str(-errno, msg, sizeof(msg)));
	} else {
		loop(t, t->nop);
		bench_case(name, BENCH_CALLS, base, label);
	}
	ftramp_link__destroy(out);
	ftramp_link__destroy(in);
}

static struct ftramp_bpf_program *bpf_load(const struct ftramp_bpf_insn *in,
					   size_t n, int type, int engine,
					   struct ftramp_bpf_map **map)
{
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo, .type = type,
		    .engine = engine, .maps = map, .nr_maps = 1);
	struct ftramp_bpf_program *p = ftramp_bpf_prog__load(in, n, &lo);

	if (!p)
		fprintf(stderr, "ftramp_bench: BPF program (engine %d): %s\n",
			engine, strerror(errno));
	return p;
}

static ftramp_prog_t handler(const struct ftramp_bpf_program *p)
{
	return p ? ftramp_bpf_program__handler(p) : NULL;
}

/*
 * What the rewrite pass's inlining (bpf/fixup.c) does per engine: the
 * JIT inlines by default, the interpreter keeps the calls.  Each row is
 * the other choice against the default one (<what>_<engine>, which is
 * measured against the empty program): the JIT with the call
 * (BPF_FIXUP_NO_INLINE), the interpreter with the sequence
 * (BPF_FIXUP_INLINE_INTERP), which is why it keeps the calls.
 */
static void bench_inline(const struct target *t, const char *what,
			 const char *desc, const struct ftramp_bpf_insn *in,
			 size_t n, struct ftramp_bpf_map **counter)
{
	static const char *const eng[2] = { "interp", "jit" };

	for (int e = 0; e < 2; e++) {
		struct ftramp_bpf_program *p;
		char variant[64], base[64], label[160];

		bpf_fixup_test_flags = e ? BPF_FIXUP_NO_INLINE :
					   BPF_FIXUP_INLINE_INTERP;
		p = bpf_load(in, n, FTRAMP_BPF_PROG_FENTRY,
			     e ? FTRAMP_BPF_ENGINE_JIT :
				 FTRAMP_BPF_ENGINE_INTERP, counter);
		bpf_fixup_test_flags = 0;
		snprintf(variant, sizeof(variant), "bpf_%s_%s_%s", what,
			 eng[e], e ? "call" : "inlined");
		snprintf(base, sizeof(base), "bpf_%s_%s", what, eng[e]);
		snprintf(label, sizeof(label), "BPF fentry (%s): %s, %s, vs "
			 "the default (%s)", e ? "JIT" : "interpreter", desc,
			 e ? "the helper call" : "inlined", e ? "inlined" :
			 "the call");
		bench_handlers(t, variant, handler(p), NULL, base, label);
		ftramp_bpf_prog__free(p);
	}
}

static void bench_bpf(const struct target *t)
{
	static const char *const eng[2] = { "interp", "jit" };
	static const char *const eng_label[2] = { "interpreter", "JIT" };
	struct ftramp_bpf_program *p[2][4] = { { NULL } };
	struct ftramp_bpf_map *counter;
	char variant[64], base[64], label[160];
	uint64_t n = 0, runs = 0;
	uint32_t k = 0;

	counter = ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY, "counter", 4, 8,
					 1, NULL);
	if (!counter) {
		name_of(variant, sizeof(variant), "ftramp", t, "bpf");
		bench_na(variant, "-", "BPF programs", strerror(errno));
		return;
	}
	for (int e = 0; e < 2; e++) {
		int engine = e ? FTRAMP_BPF_ENGINE_JIT :
				 FTRAMP_BPF_ENGINE_INTERP;

		p[e][0] = bpf_load(bpf_empty, NINSNS(bpf_empty),
				   FTRAMP_BPF_PROG_FENTRY, engine, &counter);
		p[e][1] = bpf_load(bpf_empty, NINSNS(bpf_empty),
				   FTRAMP_BPF_PROG_FEXIT, engine, &counter);
		p[e][2] = bpf_load(bpf_count, NINSNS(bpf_count),
				   FTRAMP_BPF_PROG_FENTRY, engine, &counter);
		p[e][3] = bpf_load(bpf_lookup_count, NINSNS(bpf_lookup_count),
				   FTRAMP_BPF_PROG_FENTRY, engine, &counter);
	}

	/* The empty pair: C (gcc: fentry_fexit), clang, JIT, interpreter. */
	bench_handlers(t, "pair_clang", bench_clang_entry, bench_clang_exit,
		       "fentry_fexit", "fentry + fexit, empty C handlers built by clang -O2 vs gcc's");
	for (int e = 1; e >= 0; e--) {
		snprintf(variant, sizeof(variant), "pair_bpf_%s", eng[e]);
		snprintf(label, sizeof(label), "fentry + fexit, empty BPF programs (%s) vs C",
			 eng_label[e]);
		bench_handlers(t, variant, handler(p[e][0]), handler(p[e][1]),
			       "fentry_fexit", label);
	}

	/* A count: C (gcc, clang), then each engine against its empty one. */
	bench_handlers(t, "c_count", count_entry, NULL, "fentry",
		       "fentry, C handler (gcc): a counter += 1, vs the empty one");
	bench_handlers(t, "clang_count", bench_clang_count_entry, NULL,
		       "fentry", "fentry, C handler (clang -O2): an atomic add to a global, vs the empty one");
	for (int e = 1; e >= 0; e--) {
		snprintf(variant, sizeof(variant), "bpf_empty_%s", eng[e]);
		snprintf(label, sizeof(label), "fentry, empty BPF program (%s) vs C",
			 eng_label[e]);
		bench_handlers(t, variant, handler(p[e][0]), NULL, "fentry",
			       label);
		snprintf(base, sizeof(base), "bpf_empty_%s", eng[e]);
		snprintf(variant, sizeof(variant), "bpf_count_%s", eng[e]);
		snprintf(label, sizeof(label), "BPF fentry (%s): atomic add to an ARRAY value by ld_imm64, vs the empty program",
			 eng_label[e]);
		bench_handlers(t, variant, handler(p[e][2]), NULL, base,
			       label);
		snprintf(variant, sizeof(variant), "bpf_lookup_%s", eng[e]);
		snprintf(label, sizeof(label), "BPF fentry (%s): map_lookup_elem + atomic add into an ARRAY, vs the empty program",
			 eng_label[e]);
		bench_handlers(t, variant, handler(p[e][3]), NULL, base,
			       label);
		runs += BENCH_CALLS * (uint64_t)(!!p[e][2] + !!p[e][3]);
	}
	if (ftramp_bpf_map__lookup_elem(counter, &k, 4, &n, 8, 0) || n != runs)
		fprintf(stderr, "ftramp_bench: the BPF counts ran %llu times for %llu calls\n",
			(unsigned long long)n, (unsigned long long)runs);
	bench_inline(t, "lookup", "map_lookup_elem + atomic add into an ARRAY",
		     bpf_lookup_count, NINSNS(bpf_lookup_count), &counter);
	for (int e = 1; e >= 0; e--) {
		struct ftramp_bpf_program *a = bpf_load(bpf_arg, NINSNS(bpf_arg),
			FTRAMP_BPF_PROG_FENTRY, e ? FTRAMP_BPF_ENGINE_JIT :
			FTRAMP_BPF_ENGINE_INTERP, &counter);

		snprintf(base, sizeof(base), "bpf_empty_%s", eng[e]);
		snprintf(variant, sizeof(variant), "bpf_arg_%s", eng[e]);
		snprintf(label, sizeof(label), "BPF fentry (%s): get_func_arg(ctx, 0, &v), vs the empty program",
			 eng_label[e]);
		bench_handlers(t, variant, handler(a), NULL, base, label);
		ftramp_bpf_prog__free(a);
	}
	bench_inline(t, "arg", "get_func_arg(ctx, 0, &v)", bpf_arg,
		     NINSNS(bpf_arg), &counter);
	for (int e = 0; e < 2; e++)
		for (int i = 0; i < 4; i++)
			ftramp_bpf_prog__free(p[e][i]);
	ftramp_bpf_map__free(counter);
}

/*
 * Static branches (bpf/sbranch.c), JIT: the same program with and
 * without a site before `r0 += 1` (off the site is a nop, on it jumps
 * over the add), and the flag test a static branch replaces.
 */
static const struct ftramp_bpf_insn bpf_plain[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = 1 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static const struct ftramp_bpf_insn bpf_sbranch[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_JA, .off = 1,
	  .src_reg = FTRAMP_BPF_STATIC_BRANCH_JA | FTRAMP_BPF_STATIC_BRANCH_NOP },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = 1 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static const struct ftramp_bpf_insn bpf_flag[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1,
	  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = 0 },
	{ .imm = 0 },
	{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 2, .src_reg = 1 },
	{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 2, .off = 1 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = 1 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static void bench_sbranch(const struct target *t)
{
	struct ftramp_bpf_map *flag = ftramp_bpf_map__create(
		BPF_MAP_TYPE_ARRAY, "flag", 4, 8, 1, NULL);
	struct ftramp_bpf_program *plain, *sb, *test;

	plain = bpf_load(bpf_plain, NINSNS(bpf_plain), FTRAMP_BPF_PROG_FENTRY,
			 FTRAMP_BPF_ENGINE_JIT, &flag);
	sb = bpf_load(bpf_sbranch, NINSNS(bpf_sbranch), FTRAMP_BPF_PROG_FENTRY,
		      FTRAMP_BPF_ENGINE_JIT, &flag);
	test = flag ? bpf_load(bpf_flag, NINSNS(bpf_flag),
			       FTRAMP_BPF_PROG_FENTRY, FTRAMP_BPF_ENGINE_JIT,
			       &flag) : NULL;
	bench_handlers(t, "bpf_jit_plain", handler(plain), NULL, "fentry",
		       "BPF fentry (JIT): r0 = 0; r0 += 1, no static branch");
	bench_handlers(t, "bpf_jit_sb_off", handler(sb), NULL, "bpf_jit_plain",
		       "the same with a static branch before the add, off (nop)");
	bench_handlers(t, "bpf_jit_sb_on",
		       sb && !ftramp_bpf_static_branch__update(sb, 1, 1) ?
		       handler(sb) : NULL, NULL, "bpf_jit_plain",
		       "the same, on (b over the add)");
	bench_handlers(t, "bpf_jit_flag_off", handler(test), NULL,
		       "bpf_jit_plain",
		       "the same with a global flag tested instead, 0");
	ftramp_bpf_prog__free(test);
	ftramp_bpf_prog__free(sb);
	ftramp_bpf_prog__free(plain);
	ftramp_bpf_map__free(flag);
}

/*
 * A tail call (bpf/tail.c) in the interpreter: the empty program reached
 * from a caller by bpf_tail_call(ctx, map, 0), against bpf_empty (the
 * same program called by the trampoline).
 */
static const struct ftramp_bpf_insn bpf_tail_direct[] = {
	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 2,
	  .src_reg = BPF_PSEUDO_MAP_FD, .imm = 0 },
	{ .imm = 0 },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 0 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static void bench_tail(const struct target *t)
{
	struct ftramp_bpf_map *pa = ftramp_bpf_map__create(
		BPF_MAP_TYPE_PROG_ARRAY, "tails", 4, 4, 1, NULL);
	struct ftramp_bpf_program *empty, *caller;

	empty = bpf_load(bpf_empty, NINSNS(bpf_empty), FTRAMP_BPF_PROG_FENTRY,
			 FTRAMP_BPF_ENGINE_INTERP, &pa);
	caller = bpf_load(bpf_tail_direct, NINSNS(bpf_tail_direct),
			  FTRAMP_BPF_PROG_FENTRY, FTRAMP_BPF_ENGINE_INTERP, &pa);
	if (caller && ftramp_bpf_map__set_prog(pa, 0, empty)) {
		ftramp_bpf_prog__free(caller);
		caller = NULL;
	}
	bench_handlers(t, "bpf_tail_interp", handler(caller), NULL,
		       "bpf_empty_interp", "BPF fentry (interpreter): the "
		       "empty program by a tail call, vs the plain call");
	ftramp_bpf_map__set_prog(pa, 0, NULL);
	ftramp_bpf_prog__free(caller);
	ftramp_bpf_prog__free(empty);
	ftramp_sync(60000);
	ftramp_bpf_map__free(pa);
}

/*
 * The indirect form: r3 = *(u32 *)maps[1]'s value (0, unknown to the
 * verifier) in place of bpf_tail_direct's `r3 = 0`.
 */
static const struct ftramp_bpf_insn bpf_tail_indirect[] = {
	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 3,
	  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = 1 },
	{ .imm = 0 },
	{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 3, .src_reg = 3 },
	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 2,
	  .src_reg = BPF_PSEUDO_MAP_FD, .imm = 0 },
	{ .imm = 0 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/*
 * Tail calls JIT'd: the empty program in the tail frame (loaded with the
 * prog array among its maps) called by the trampoline, against the lean
 * empty program; then reached by a direct tail call (constant key: a b
 * slot) and by an indirect one (the key from a map value), each against
 * that plain call.
 */
static void bench_tail_jit(const struct target *t)
{
	struct ftramp_bpf_map *maps[2];
	FTRAMP_OPTS(ftramp_bpf_prog_load_opts, lo,
		    .type = FTRAMP_BPF_PROG_FENTRY,
		    .engine = FTRAMP_BPF_ENGINE_JIT, .maps = maps, .nr_maps = 2);
	struct ftramp_bpf_program *empty, *direct, *indirect;

	maps[0] = ftramp_bpf_map__create(BPF_MAP_TYPE_PROG_ARRAY, "tails", 4,
					 4, 1, NULL);
	maps[1] = ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY, "key", 4, 4, 1,
					 NULL);
	empty = maps[0] && maps[1] ?
		ftramp_bpf_prog__load(bpf_empty, NINSNS(bpf_empty), &lo) :
		NULL;
	direct = empty ? ftramp_bpf_prog__load(bpf_tail_direct,
					       NINSNS(bpf_tail_direct), &lo) :
		 NULL;
	indirect = empty ? ftramp_bpf_prog__load(bpf_tail_indirect,
						 NINSNS(bpf_tail_indirect),
						 &lo) : NULL;
	if (empty && ftramp_bpf_map__set_prog(maps[0], 0, empty)) {
		ftramp_bpf_prog__free(direct);
		ftramp_bpf_prog__free(indirect);
		direct = indirect = NULL;
	}
	bench_handlers(t, "bpf_jit_tail_plain", handler(empty), NULL,
		       "bpf_empty_jit", "BPF fentry (JIT): the empty program "
		       "in the tail frame, vs the lean one");
	bench_handlers(t, "bpf_jit_tail_direct", handler(direct), NULL,
		       "bpf_jit_tail_plain", "BPF fentry (JIT): the empty "
		       "program by a direct tail call, vs the plain call");
	bench_handlers(t, "bpf_jit_tail_indirect", handler(indirect), NULL,
		       "bpf_jit_tail_plain", "BPF fentry (JIT): the empty "
		       "program by an indirect tail call, vs the plain call");
	if (maps[0])
		ftramp_bpf_map__set_prog(maps[0], 0, NULL);
	ftramp_bpf_prog__free(indirect);
	ftramp_bpf_prog__free(direct);
	ftramp_bpf_prog__free(empty);
	ftramp_sync(60000);
	ftramp_bpf_map__free(maps[1]);
	ftramp_bpf_map__free(maps[0]);
}

/* ctx programs for the struct_ops thunks: the bodies of targets.c. */
static uint64_t thunk_f2(const uint64_t *ctx)
{
	return (long)ctx[0] * 3 + (long)ctx[1];
}

static uint64_t thunk_f6(const uint64_t *ctx)
{
	double r = (int)ctx[0] * ftramp_ctx_double(ctx, 1) +
		   (long)ctx[2] * ftramp_ctx_double(ctx, 3) +
		   (int)ctx[4] * ftramp_ctx_double(ctx, 5);

	return ftramp_ret_double(r);
}

static void bench_thunks(void)
{
	char msg[128];
	void *fn;

	bench_loop_f2(bench_f2_plain, BENCH_CALLS);
	bench_case("thunk.f2.direct", BENCH_CALLS, "-",
		   "direct C call of the same body (reference)");
	fn = ftramp_thunk__create(&model_f2, thunk_f2, 0);
	if (!fn) {
		bench_na("thunk.f2.thunk", "thunk.f2.direct",
			 "struct_ops thunk -> ctx program",
			 err_str(-errno, msg, sizeof(msg)));
	} else {
		if (((bench_f2_t)fn)(5, 7) != bench_f2_plain(5, 7))
			fprintf(stderr, "ftramp_bench: f2 thunk: wrong result\n");
		bench_loop_f2((bench_f2_t)fn, BENCH_CALLS);
		bench_case("thunk.f2.thunk", BENCH_CALLS, "thunk.f2.direct",
			   "struct_ops thunk -> ctx program");
		ftramp_thunk__destroy(fn);
	}

	bench_loop_f6(bench_f6_plain, BENCH_CALLS);
	bench_case("thunk.f6.direct", BENCH_CALLS, "-",
		   "direct C call of the same body (reference)");
	fn = ftramp_thunk__create(&model_f6, thunk_f6, 0);
	if (!fn) {
		bench_na("thunk.f6.thunk", "thunk.f6.direct",
			 "struct_ops thunk -> ctx program",
			 err_str(-errno, msg, sizeof(msg)));
	} else {
		if (((bench_f6_t)fn)(1, 2.0, 3, 4.0, 5, 6.0) !=
		    bench_f6_plain(1, 2.0, 3, 4.0, 5, 6.0))
			fprintf(stderr, "ftramp_bench: f6 thunk: wrong result\n");
		bench_loop_f6((bench_f6_t)fn, BENCH_CALLS);
		bench_case("thunk.f6.thunk", BENCH_CALLS, "thunk.f6.direct",
			   "struct_ops thunk -> ctx program");
		ftramp_thunk__destroy(fn);
	}
}

static void bench_memory(void)
{
	char name[64];
	unsigned int i, j;
	long bytes;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < sizeof(configs) / sizeof(configs[0]); j++) {
			if (configs[j].far)
				continue;
			bytes = image_bytes(&targets[i], &configs[j]);
			if (bytes <= 0)
				continue;
			name_of(name, sizeof(name), "ftramp", &targets[i],
				configs[j].variant);
			bench_mem(name, bytes, 1, 0, configs[j].label);
		}
	}
}

/*
 * FTRAMP_BENCH_PHASES=1: for every attach case, print on stderr what
 * each synchronisation of the window followed (the patching layer's
 * write log, installed outside the marks): mov x9, x30 writes, B words
 * (bl / nop), literals, and how many of those literals belong to
 * generated functions that an earlier case took through ftrace_caller
 * (ever_caller: their literal may have a reader, batch_site() in
 * ftrace/commit.c).  Syncs the log does not see (ftrace_sync_cores(),
 * around a record store) are the difference between the patching
 * layer's and the system's count.  Off by default: no cost, no output.
 */
#define PHASE_LOG_CAP	(1 << 17)
static struct ftramp_patch_event phase_ev[PHASE_LOG_CAP];
static struct ftramp_patch_log phase_log = {
	.ev = phase_ev, .cap = PHASE_LOG_CAP,
};
static struct ftramp_patch_stats phase_st0;
static int phases_on = -1;
static bool went_caller[BENCH_GEN_MAX];	/* under an ftrace ops before */

struct gen_addr {
	uintptr_t lit;		/* func - 8 */
	long idx;
};
static struct gen_addr *gen_by_lit;

static int gen_addr_cmp(const void *a, const void *b)
{
	const struct gen_addr *x = a, *y = b;

	return x->lit < y->lit ? -1 : x->lit > y->lit;
}

static long gen_of_lit(uintptr_t lit)
{
	struct gen_addr key = { lit, 0 }, *g;

	g = bsearch(&key, gen_by_lit, bench_gen_nr, sizeof(key),
		    gen_addr_cmp);
	return g ? g->idx : -1;
}

static void phases_begin(void)
{
	if (phases_on < 0) {
		const char *e = getenv("FTRAMP_BENCH_PHASES");

		phases_on = e && *e && *e != '0';
		if (phases_on) {
			gen_by_lit = calloc(bench_gen_nr, sizeof(*gen_by_lit));
			if (!gen_by_lit) {
				phases_on = 0;
				return;
			}
			for (unsigned long i = 0; i < bench_gen_nr; i++)
				gen_by_lit[i] = (struct gen_addr){
					(uintptr_t)bench_gen_funcs[i] - 8, i };
			qsort(gen_by_lit, bench_gen_nr, sizeof(*gen_by_lit),
			      gen_addr_cmp);
		}
	}
	if (!phases_on)
		return;
	phase_log.nr = phase_log.lost = 0;
	ftramp_patch_get_stats(&phase_st0);
	ftramp_patch_set_log(&phase_log);
}

static void phases_end(const char *what, long n)
{
	struct ftramp_patch_stats st;
	unsigned long mov = 0, insn = 0, lit = 0, lit_caller = 0, k = 0;

	if (!phases_on)
		return;
	ftramp_patch_set_log(NULL);
	ftramp_patch_get_stats(&st);
	fprintf(stderr, "phases ftramp.%s.%ld: %lu commits, %lu phases, %lu syncs logged, %lu maps reads, %lu events (%zu lost)\n",
		what, n, st.commits - phase_st0.commits,
		st.phases - phase_st0.phases, st.syncs - phase_st0.syncs,
		st.maps_reads - phase_st0.maps_reads,
		(unsigned long)phase_log.nr, phase_log.lost);
	for (size_t i = 0; i < phase_log.nr; i++) {
		const struct ftramp_patch_event *e = &phase_ev[i];
		long g;

		switch (e->kind) {
		case FTRAMP_EV_WRITE32:
			if (e->new == A64_MOV_X9_X30)
				mov++;
			else
				insn++;
			break;
		case FTRAMP_EV_WRITE64:
			lit++;
			g = gen_of_lit(e->addr);
			if (g >= 0 && went_caller[g])
				lit_caller++;
			break;
		case FTRAMP_EV_SYNC:
			/* Print the first few and the last of many commits. */
			if (++k <= 6 || i + 8 > phase_log.nr)
				fprintf(stderr, "  sync %lu after: %lu mov, %lu bl/nop, %lu literals (%lu of sites that went through ftrace_caller before)\n",
					k, mov, insn, lit, lit_caller);
			mov = insn = lit = lit_caller = 0;
			break;
		default:
			break;
		}
	}
}

/* Attach cost on the first n generated functions. */
static void bench_attach_n(long n)
{
	static struct ftramp_link *links[2 * BENCH_GEN_MAX];
	static uintptr_t pages[BENCH_GEN_MAX];
	FTRAMP_OPTS(ftramp_attach_opts, opts, .model = &model_gen,
		    .no_dwarf = true);
	struct ftramp_text_stats before, after;
	char name[64], label[128], msg[128];
	long i, nr_links = 0, nr_pages;
	int err = 0;

	nr_pages = bench_pages_of((void *const *)bench_gen_funcs, n, pages);

	/* Retired images of earlier cases are freed first. */
	ftramp_sync(-1);
	ftramp_text_get_stats(&before);
	phases_begin();
	bench_start();
	for (i = 0; i < n && !err; i++) {
		opts.addr = (uint64_t)bench_gen_funcs[i];
		links[nr_links] = ftramp_attach(NULL, FTRAMP_FENTRY, prog_a,
						&opts);
		if (!links[nr_links]) {
			err = -errno;
			break;
		}
		nr_links++;
		links[nr_links] = ftramp_attach(NULL, FTRAMP_FEXIT, prog_b,
						&opts);
		if (!links[nr_links]) {
			err = -errno;
			break;
		}
		nr_links++;
	}
	bench_stop();
	phases_end("attach", n);
	ftramp_sync(-1);
	ftramp_text_get_stats(&after);
	snprintf(name, sizeof(name), "ftramp.attach.%ld", n);
	snprintf(label, sizeof(label),
		 "ftramp_attach() fentry + fexit each: %ld transactions", 2 * n);
	if (err) {
		bench_discard();
		bench_na(name, "-", label, err_str(err, msg, sizeof(msg)));
	} else {
		bench_attach(name, n, nr_pages, 2 * n, label);
	}

	if (!err) {
		snprintf(name, sizeof(name), "ftramp.fentry_fexit.gen%ld", n);
		snprintf(label, sizeof(label),
			 "fentry + fexit on %ld generated functions (allocated)",
			 n);
		/* Per page: over every trampoline page mapped by then. */
		bench_mem(name, after.bytes_used - before.bytes_used, n,
			  after.pages, label);
	}

	phases_begin();
	bench_start();
	err = 0;
	while (nr_links--) {
		int ret = ftramp_link__destroy(links[nr_links]);

		if (ret && !err)
			err = ret;
	}
	bench_stop();
	phases_end("detach", n);
	snprintf(name, sizeof(name), "ftramp.detach.%ld", n);
	snprintf(label, sizeof(label),
		 "ftramp_link__destroy() each: %ld transactions", 2 * n);
	if (err)
		fprintf(stderr, "ftramp_bench: %s: %s\n", name,
			err_str(err, msg, sizeof(msg)));
	bench_attach(name, n, nr_pages, 2 * n, label);
	ftramp_sync(-1);

	/*
	 * The same links in one batch: one transaction for all of them.
	 * The sites were prepared (mov x9, x30) by the cases above, as the
	 * preload agent prepares them at start-up, and none has ever led
	 * to ftrace_caller (bench_ops_n() runs after every attach case):
	 * one sync.  FTRAMP_BENCH_PHASES=1 shows it.  Pages: the sites' and
	 * the trampolines' (each made writable once).
	 */
	{
		struct ftramp_attach_batch *b = ftramp_attach_batch__new();
		long tpages;

		ftramp_sync(-1);
		ftramp_text_get_stats(&before);
		err = b ? 0 : -ENOMEM;
		phases_begin();
		bench_start();
		for (i = 0; i < n && !err; i++) {
			opts.addr = (uint64_t)bench_gen_funcs[i];
			err = ftramp_attach_batch__add(b, NULL, FTRAMP_FENTRY,
						       prog_a, &opts);
			if (err >= 0)
				err = ftramp_attach_batch__add(b, NULL,
						FTRAMP_FEXIT, prog_b, &opts);
			err = err < 0 ? err : 0;
		}
		if (!err)
			err = ftramp_attach_batch__commit(b);
		bench_stop();
		phases_end("attach_batch", n);
		ftramp_text_get_stats(&after);
		/*
		 * Trampoline pages written: the new code is contiguous
		 * (first fit), so its bytes over the page size, plus one
		 * for a first page shared with older chunks.
		 */
		tpages = ((long)(after.bytes_used - before.bytes_used) +
			  sysconf(_SC_PAGESIZE) - 1) / sysconf(_SC_PAGESIZE) + 1;
		snprintf(name, sizeof(name), "ftramp.attach_batch.%ld", n);
		snprintf(label, sizeof(label),
			 "ftramp_attach_batch__commit() fentry + fexit, prepared sites: 1 transaction (pages: sites + %ld trampoline)",
			 tpages);
		if (err) {
			bench_discard();
			bench_na(name, "-", label,
				 err_str(err, msg, sizeof(msg)));
		} else {
			bench_attach(name, n, nr_pages + tpages, 1, label);
			for (i = 0; i < 2 * n; i++)
				links[i] = ftramp_attach_batch__link(b, i);
			phases_begin();
			bench_start();
			err = ftramp_links__destroy(links, 2 * n);
			bench_stop();
			phases_end("detach_batch", n);
			snprintf(name, sizeof(name), "ftramp.detach_batch.%ld",
				 n);
			if (err)
				fprintf(stderr, "ftramp_bench: %s: %s\n", name,
					err_str(err, msg, sizeof(msg)));
			bench_attach(name, n, nr_pages, 1,
				     "ftramp_links__destroy() of all: 1 transaction");
		}
		ftramp_attach_batch__free(b);
		ftramp_sync(-1);
	}

	bench_start();
	err = bench_sweep(pages, nr_pages);
	bench_stop();
	snprintf(name, sizeof(name), "ftramp.sweep.%ld", n);
	bench_attach(name, n, nr_pages, 0,
		     "bare mprotect sweep, same pages (gcc)");
}

/*
 * One ftrace ops over the first n generated functions: one transaction
 * to register, one to unregister.  Run after every attach case
 * (bench_attach_n() of all sizes): a site that once led to
 * ftrace_caller keeps that mark (a thread that took the bl may load its
 * literal any time later), so its literal changes in a phase of its own
 * ever after (batch_site(), ftrace/commit.c), which would give the batch
 * cases a second sync their "prepared sites" do not need.
 *
 * The first ops on the generated functions pays one-time costs (their
 * ftrace_caller copy, among others) which after the 10,000-function
 * cases are far larger than the transaction itself (a second ops on
 * the same function costs what ops.1 cost when these cases came first).  They are measured apart, as
 * ftramp.ops_first.1 / ops_first_off.1 (first == true), so that ops.N
 * is the transaction alone, as it was when these cases came first.
 */
static void bench_ops_n(long n, bool first)
{
	static uintptr_t pages[BENCH_GEN_MAX];
	struct ftramp_ftrace_ops ops = { .func = empty_handler };
	char name[64], label[128], msg[128];
	long i, nr_pages;
	int err;

	nr_pages = bench_pages_of((void *const *)bench_gen_funcs, n, pages);
	ftramp_sync(-1);

	/* One ops over the n functions: one transaction. */
	err = 0;
	for (i = 0; i < n && !err; i++)
		err = ftramp_ftrace_ops__set_filter_ip(&ops,
				(uint64_t)bench_gen_funcs[i],
				i == 0 ? FTRAMP_FILTER_RESET : 0);
	snprintf(name, sizeof(name), "ftramp.ops%s.%ld", first ? "_first" : "",
		 n);
	snprintf(label, sizeof(label),
		 "%s ftrace ops registered on %ld functions: 1 transaction%s",
		 first ? "first" : "one", n,
		 first ? " (+ one-time costs)" : "");
	if (!err) {
		phases_begin();
		bench_start();
		err = ftramp_ftrace_ops__register(&ops);
		bench_stop();
		phases_end(first ? "ops_first" : "ops", n);
		if (err) {
			bench_discard();
			bench_na(name, "-", label,
				 err_str(err, msg, sizeof(msg)));
		} else {
			bench_attach(name, n, nr_pages, 1, label);
			for (i = 0; i < n; i++)
				went_caller[i] = true;
			phases_begin();
			bench_start();
			err = ftramp_ftrace_ops__unregister(&ops);
			bench_stop();
			phases_end(first ? "ops_first_off" : "ops_off", n);
			snprintf(name, sizeof(name), "ftramp.ops%s_off.%ld",
				 first ? "_first" : "", n);
			bench_attach(name, n, nr_pages, 1, first ?
				     "first ftrace ops unregistered: 1 transaction (+ one-time costs)" :
				     "ftrace ops unregistered: 1 transaction");
		}
	} else {
		bench_na(name, "-", label, err_str(err, msg, sizeof(msg)));
	}
	ftramp_ftrace_ops__free_filter(&ops);
}

static int parse_models(void)
{
	struct ftramp_parse_error perr;
	int err;

	err = ftramp_model__parse(BENCH_F2_PROTO, &model_f2, &perr);
	if (!err)
		err = ftramp_model__parse(BENCH_F6_PROTO, &model_f6, &perr);
	if (!err)
		err = ftramp_model__parse("long (long x)", &model_gen, &perr);
	if (err)
		fprintf(stderr, "ftramp_bench: model: %s\n", perr.msg);
	return err;
}

int main(void)
{
	hist_init();
	if (parse_models())
		return 1;
	if (bench_gen_nr > BENCH_GEN_MAX) {
		fprintf(stderr, "ftramp_bench: too many generated functions\n");
		return 1;
	}
	targets[0] = (struct target){ "f2", "bench_f2_nop",
		(void *)bench_f2_nop, (void *)bench_f2_plain, &model_f2 };
	targets[1] = (struct target){ "f6", "bench_f6_nop",
		(void *)bench_f6_nop, (void *)bench_f6_plain, &model_f6 };

	bench_target(&targets[0]);
	bench_target(&targets[1]);
	bench_bpf(&targets[0]);
	bench_sbranch(&targets[0]);
	bench_tail(&targets[0]);
	bench_tail_jit(&targets[0]);
	/* FTRAMP_BENCH_PERCALL=1: the per-call cases alone (seconds). */
	if (getenv("FTRAMP_BENCH_PERCALL"))
		return 0;
	bench_thunks();
	bench_memory();
	bench_attach_n(1);
	bench_attach_n(100);
	bench_attach_n(bench_gen_nr);
	/* Last: their sites stay marked as having led to ftrace_caller. */
	bench_ops_n(1, true);
	bench_ops_n(1, false);
	bench_ops_n(100, false);
	bench_ops_n(bench_gen_nr, false);
	return 0;
}
