// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the verifier (bpf/verifier.c, after bpf/check.c),
 * two ways in, chosen by the input's first byte:
 *
 *  - raw: any instruction sequence, as a raw, fentry or fexit program
 *    with four maps (array, hash, ring buffer, prog array) to name, is
 *    accepted or refused with -EINVAL and a coded, non-empty message,
 *    its log (level 2) built on the way, without a fault, a leak or
 *    undefined behaviour;
 *  - generated: selftests/bpf_gen.h builds from the input a program
 *    meant to be accepted (raw with data, or fentry with ctx); what the
 *    verifier accepts is rewritten as a load rewrites it (bpf/fixup.c,
 *    for the interpreter or, one in two, with the JIT's inlined ARRAY
 *    lookups) and runs in the interpreter, built here with
 *    BPF_INTERP_CHECKED: every load, store and atomic must lie inside
 *    the run's live stack frames, the data or ctx (ctx read-only), a map
 *    value, or the ring buffer's data pages (a record's own bounds are
 *    left to the verifier's tests).  Helpers' own accesses are ASan's.
 *
 * `fuzz_verifier -ftramp_seeds=N` (make check) runs N generated programs
 * from seeds 1..N without libFuzzer's engine, deterministic, and prints
 * one TAP result with the acceptance rate and programs per second.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/arm64/bpf_jit.h"
#include "bpf/bpf.h"
#include "bpf/fixup.h"
#include "bpf/verifier.h"
#include "ftrace/reclaim.h"
#include "selftests/bpf_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

enum { ARR, HASH, RB, PROGS, NR_MAPS };

/* the raw way: definitions only, nothing runs */
static struct ftramp_bpf_map defs[] = {
	{ .name = "arr", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
	  .value_size = 16, .max_entries = 2 },
	{ .name = "hash", .type = BPF_MAP_TYPE_HASH, .key_size = 4,
	  .value_size = 8, .max_entries = 8 },
	{ .name = "rb", .type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096 },
	{ .name = "progs", .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4,
	  .value_size = 4, .max_entries = 2 },
};

static void fuzz_raw(const uint8_t *data, size_t size)
{
	static const int types[] = { FTRAMP_BPF_PROG_RAW, FTRAMP_BPF_PROG_FENTRY,
				     FTRAMP_BPF_PROG_FEXIT };
	struct ftramp_bpf_map *mp[NR_MAPS] = { &defs[0], &defs[1], &defs[2],
					       &defs[3] };
	struct ftramp_bpf_program p = { .name = "fuzz" };
	struct ftramp_bpf_error e = { 0 };
	struct bpf_vlog log = { .level = 2 };
	int err;

	if (size < 1 + sizeof(struct ftramp_bpf_insn) ||
	    size > 1 + 256 * sizeof(struct ftramp_bpf_insn))
		return;
	p.type = types[data[0] / 2 % 3];
	p.n = p.sec_n = (size - 1) / sizeof(struct ftramp_bpf_insn);
	p.insns = malloc(p.n * sizeof(*p.insns));
	if (!p.insns)
		return;
	memcpy(p.insns, data + 1, p.n * sizeof(*p.insns));
	p.maps = mp;
	p.nr_maps = NR_MAPS;
	err = bpf_check(&p, &e);
	if (!err)
		err = bpf_verify(&p, data[0] & 0x80 ? 3 : BPF_CTX_UNKNOWN, &e,
				 &log, NULL);
	if (err && err != -ENOMEM &&
	    (err != -EINVAL || e.code <= FTRAMP_BPF_OK ||
	     e.code >= FTRAMP_BPF_E__MAX || !e.msg[0]))
		abort();
	bpf_vlog_free(&log);
	free(p.insns);
}

/* ------------------------------------------------------------------------
 * The generated way: the objects a run may touch, and the check
 */

static struct ftramp_bpf_map *maps[NR_MAPS];
static struct {
	const uint8_t *data;	/* raw data or ctx */
	size_t size;
	bool ctx;
} obj;
static uint64_t gen_seed;	/* the seeded mode's current seed */
static const struct ftramp_bpf_program *cur;	/* the program running */

static void out_of_bounds(uintptr_t a, int size, bool write)
{
	fprintf(stderr, "fuzz_verifier: an accepted program %s %d bytes at "
		"%#lx, outside its objects (seed %llu)\n",
		write ? "writes" : "reads", size, (unsigned long)a,
		(unsigned long long)gen_seed);
	for (size_t i = 0; cur && i < cur->n; i++)
		fprintf(stderr, "  %3zu: code %#04x dst r%u src r%u off %d imm "
			"%d\n", i, cur->insns[i].code, cur->insns[i].dst_reg,
			cur->insns[i].src_reg, cur->insns[i].off,
			cur->insns[i].imm);
	abort();
}

/* [a, a + n) inside one value of @m (an array or a hash) */
static bool in_map_value(struct ftramp_bpf_map *m, uintptr_t a, int n)
{
	struct bpf_map_layout l;
	uintptr_t base, off;

	if (bpf_map_layout(m, &l))
		return false;
	base = (uintptr_t)l.data;
	if (a < base || a + n > base + (uintptr_t)l.stride * l.nr)
		return false;
	off = (a - base) % l.stride;
	return off >= l.val_off && off + n <= l.val_off + m->value_size;
}

void bpf_interp_checked(uintptr_t a, int size, bool write,
			const struct bpf_interp_stacks *s)
{
	int n = size == BPF_B ? 1 : size == BPF_H ? 2 : size == BPF_W ? 4 : 8;
	struct bpf_map_layout l;

	for (int i = 0; i < s->n; i++)
		if (a >= s->lo[i] && a + n <= s->hi[i])
			return;
	if (a >= (uintptr_t)obj.data && a + n <= (uintptr_t)obj.data + obj.size) {
		if (write && obj.ctx)
			out_of_bounds(a, n, write);
		return;
	}
	if (in_map_value(maps[ARR], a, n) || in_map_value(maps[HASH], a, n))
		return;
	/* the data pages (lib/ringbuf.h: after 2 pages, mapped twice) */
	if (!bpf_map_layout(maps[RB], &l) &&
	    a >= (uintptr_t)l.ring_base + 2 * l.ring_page &&
	    a + n <= (uintptr_t)l.ring_base + 2 * l.ring_page + 2 * l.ring_size)
		return;
	out_of_bounds(a, n, write);
}

/* The trampoline's run context: no generated program reads it. */
uint64_t ftramp_get_func_ip(const uint64_t *ctx) { abort(); }
uint64_t ftramp_get_func_arg_cnt(const uint64_t *ctx) { abort(); }
int ftramp_get_func_arg(const uint64_t *ctx, uint32_t n, uint64_t *v)
{
	abort();
}
int ftramp_get_func_ret(const uint64_t *ctx, uint64_t *v) { abort(); }
uint64_t ftramp_get_attach_cookie(const uint64_t *ctx) { abort(); }

/* bpf/tail.c's retirement: no slot of a prog array is emptied here. */
uint64_t reclaim_retire(enum reclaim_kind kind, const uint64_t *counter,
			uint64_t lo, uint64_t hi, void (*free_fn)(void *),
			void *arg)
{
	abort();
}
int ftrace_sync_cores(void) { abort(); }
void bpf_prog_destroy(struct ftramp_bpf_program *p) { abort(); }
/* ... nor a JIT'd program's direct slot poked (no JIT here). */
struct ftramp_poke_batch *ftramp_poke_batch__new(void) { return NULL; }
void ftramp_poke_batch__free(struct ftramp_poke_batch *b) { }
size_t ftramp_poke_batch__size(const struct ftramp_poke_batch *b) { abort(); }
int ftramp_poke_batch__commit(struct ftramp_poke_batch *b) { abort(); }
int bpf_jit_poke_add(struct ftramp_poke_batch *b,
		     const struct bpf_jit_image *img, uint32_t word,
		     uint64_t from, uint64_t to)
{
	abort();
}
void bpf_jit_span(uint64_t *lo, uint64_t *hi) { abort(); }

static int drop(void *ctx, void *rec, size_t size)
{
	return 0;
}

static void maps_create(void)
{
	if (maps[ARR])
		return;
	maps[ARR] = ftramp_bpf_map__create(BPF_MAP_TYPE_ARRAY, "arr", 4, 24, 2,
					   NULL);
	maps[HASH] = ftramp_bpf_map__create(BPF_MAP_TYPE_HASH, "hash", 4, 8, 8,
					    NULL);
	maps[RB] = ftramp_bpf_map__create(BPF_MAP_TYPE_RINGBUF, "rb", 0, 0,
					  4096, NULL);
	maps[PROGS] = ftramp_bpf_map__create(BPF_MAP_TYPE_PROG_ARRAY, "progs",
					     4, 4, 2, NULL);
	if (!maps[ARR] || !maps[HASH] || !maps[RB] || !maps[PROGS])
		abort();
}

static struct {
	uint64_t generated, accepted, ran, insns;
	uint64_t mutated, mutants_accepted;
	uint64_t inlined;		/* ARRAY lookups the rewrite inlined */
} stats;

/* Calls to map_lookup_elem in @n insns. */
static uint64_t lookups(const struct ftramp_bpf_insn *in, size_t n)
{
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += in[i].code == (BPF_JMP | BPF_CALL) && !in[i].src_reg &&
		     in[i].imm == BPF_FUNC_map_lookup_elem;
	return c;
}

/*
 * Change one to three instructions of a generated program a little: an
 * offset, an immediate, a register, an access size, an operation.  Most
 * mutants break a rule and must be refused; those accepted run checked
 * like the others, so the verifier's edges are where the fuzzer looks.
 */
static void mutate(struct bpf_gen_rng *r, struct ftramp_bpf_insn *in,
		   size_t n)
{
	static const int16_t deltas[] = { 1, -1, 2, -2, 4, -4, 8, -8, 16 };

	for (int k = gen_rand(r, 3); k >= 0; k--) {
		size_t i = gen_rand(r, n);
		struct ftramp_bpf_insn *q = &in[i];
		uint8_t cls = BPF_CLASS(q->code);

		if (i && in[i - 1].code == (BPF_LD | BPF_IMM | BPF_DW))
			continue;	/* an ld_imm64's second half */
		switch (gen_rand(r, 5)) {
		case 0:
			q->off += deltas[gen_rand(r, 9)];
			break;
		case 1:
			q->imm = (int32_t)((uint32_t)q->imm +
					   (uint32_t)deltas[gen_rand(r, 9)]);
			break;
		case 2:
			if (gen_rand(r, 2))
				q->dst_reg = gen_rand(r, 11);
			else if (cls != BPF_LD)
				q->src_reg = gen_rand(r, 11);
			break;
		case 3:
			if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX)
				q->code = (q->code & ~0x18) | gen_rand(r, 4) << 3;
			break;
		default:
			if (cls == BPF_ALU || cls == BPF_ALU64 ||
			    cls == BPF_JMP || cls == BPF_JMP32)
				q->code = (q->code & 0x0f) | gen_rand(r, 16) << 4;
		}
	}
}

/* One generated program: 1 accepted (and run), 0 refused. */
static int fuzz_gen(struct bpf_gen_rng *r)
{
	static struct ftramp_bpf_insn insns[1024];
	struct bpf_gen_cfg c = {
		.arr = ARR, .arr_value = 24, .hash = HASH, .hash_keys = 12,
		.rb = RB, .loop_cb = true, .nondet = true, .max_insns = 1024,
	};
	struct ftramp_bpf_program p = { .name = "gen", .maps = maps,
					.nr_maps = NR_MAPS, .insns = insns };
	struct ftramp_bpf_error e = { 0 };
	uint8_t *buf;
	struct bpf_verdict vd = { 0 };
	bool mutant;
	int err, trace = getenv("FUZZ_VERIFIER_TRACE") ?
			 atoi(getenv("FUZZ_VERIFIER_TRACE")) : 0;

	maps_create();
	if (gen_rand(r, 4)) {
		c.data_size = 8 * (gen_rand(r, 8) + 1);
		p.type = FTRAMP_BPF_PROG_RAW;
	} else {
		c.ctx_slots = gen_rand(r, 13) + 1;
		p.type = FTRAMP_BPF_PROG_FENTRY;
	}
	p.n = p.sec_n = bpf_gen_prog(r, &c, insns, 1024);
	if (!p.n)
		return 0;
	mutant = !gen_rand(r, 3);
	if (mutant) {
		mutate(r, insns, p.n);
		stats.mutated++;
	} else {
		stats.generated++;
	}
	err = bpf_check(&p, &e);
	if (!err) {
		struct bpf_vlog log = { .level = trace > 1 ? 2 : 0 };

		err = bpf_verify(&p, c.data_size ? BPF_CTX_UNKNOWN : c.ctx_slots,
				 &e, &log, &vd);
		if (trace > 1 && err)
			fprintf(stderr, "%s", log.buf ? log.buf : "");
		bpf_vlog_free(&log);
	}
	if (trace && err && (!mutant || trace > 2))
		fprintf(stderr, "refused (seed %llu): %s\n",
			(unsigned long long)gen_seed, e.msg);
	/* a test run refuses data shorter than what the program touches */
	if (!err && c.data_size && vd.data_need > c.data_size)
		err = -EINVAL;
	if (err) {
		bpf_verdict_free(&vd);
		return 0;
	}
	if (mutant)
		stats.mutants_accepted++;
	else
		stats.accepted++;
	stats.insns += p.n;
	/*
	 * The run form a load makes (bpf/fixup.c), the interpreter's or,
	 * one program in two, the JIT's: its inlined ARRAY lookups run
	 * checked too.
	 */
	err = bpf_fixup(&p, &vd, &bpf_map_addrs_live,
			gen_rand(r, 2) ? FTRAMP_BPF_ENGINE_JIT :
			FTRAMP_BPF_ENGINE_INTERP);
	bpf_verdict_free(&vd);
	if (!err)
		stats.inlined += lookups(p.insns, p.n) - lookups(p.run, p.run_n);
	obj.size = c.data_size ? c.data_size : c.ctx_slots * 8;
	obj.ctx = !c.data_size;
	buf = malloc(obj.size);
	if (err || !buf)
		abort();
	for (size_t i = 0; i < obj.size; i++)
		buf[i] = gen_rand(r, 256);
	obj.data = buf;
	p.loaded = true;
	cur = &p;
	if (trace > 3)
		fprintf(stderr, "run seed %llu\n", (unsigned long long)gen_seed);
	bpf_interp_run(&p, (uintptr_t)buf, obj.size);
	stats.ran++;
	if (stats.ran % 64 == 0)
		ftramp_bpf_map__ringbuf_consume(maps[RB], drop, NULL);
	obj.data = NULL;
	free(buf);
	bpf_fixup_free(&p);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpf_gen_rng r = { .buf = data + 1, .len = size ? size - 1 : 0,
				 .s = 0x9e3779b97f4a7c15ull };

	if (!size)
		return 0;
	if (data[0] & 1) {
		fuzz_raw(data, size);
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		r.s = (r.s ^ data[i]) * 0x100000001b3ull | 1;
	fuzz_gen(&r);
	return 0;
}

/* libFuzzer's runs: how many generated programs the verifier took */
static void report(void)
{
	if (stats.generated && stats.mutated)
		fprintf(stderr, "fuzz_verifier: %llu generated, %llu accepted "
			"(%.1f%%); %llu mutants, %llu accepted (%.1f%%); all "
			"accepted ran in the checked interpreter\n",
			(unsigned long long)stats.generated,
			(unsigned long long)stats.accepted,
			100.0 * stats.accepted / stats.generated,
			(unsigned long long)stats.mutated,
			(unsigned long long)stats.mutants_accepted,
			100.0 * stats.mutants_accepted / stats.mutated);
}

/* -ftramp_seeds=N: seeds 1..N, then exit with one TAP result. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct timespec t0, t1;
	unsigned long n = 0;
	bool ok;
	double s;

	for (int i = 1; i < *argc; i++)
		if (!strncmp((*argv)[i], "-ftramp_seeds=", 14))
			n = strtoul((*argv)[i] + 14, NULL, 0);
	if (!n) {
		atexit(report);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (gen_seed = 1; gen_seed <= n; gen_seed++) {
		struct bpf_gen_rng r = { .s = gen_seed * 0x9e3779b97f4a7c15ull | 1 };

		fuzz_gen(&r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* a generator the verifier mostly refuses would test little */
	ok = stats.accepted * 10 >= stats.generated * 9;
	/* and one that never reaches an inlined lookup would check none */
	ok = ok && (n < 100 || stats.inlined);
	printf("1..1\n%sok 1 fuzz_verifier seeds 1..%lu # %llu generated, "
	       "%llu accepted (%.1f%%); %llu mutants, %llu accepted (%.1f%%); "
	       "all accepted ran in the checked interpreter, %.1f insns each, "
	       "%llu ARRAY lookups inlined, %.0f programs/s\n",
	       ok ? "" : "not ", n,
	       (unsigned long long)stats.generated,
	       (unsigned long long)stats.accepted,
	       100.0 * stats.accepted / (stats.generated ? stats.generated : 1),
	       (unsigned long long)stats.mutated,
	       (unsigned long long)stats.mutants_accepted,
	       100.0 * stats.mutants_accepted /
	       (stats.mutated ? stats.mutated : 1),
	       (double)stats.insns / (stats.accepted + stats.mutants_accepted ?
				      stats.accepted + stats.mutants_accepted : 1),
	       (unsigned long long)stats.inlined,
	       (stats.generated + stats.mutated) / s);
	exit(ok ? 0 : 1);
}
