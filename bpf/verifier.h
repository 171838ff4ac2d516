/* SPDX-License-Identifier: MIT */
/*
 * The verifier (bpf/verifier.c): what a program must satisfy before any
 * engine runs it, proven by abstract interpretation of every path, in
 * the manner of the kernel's kernel/bpf/verifier.c.  Pure (no map is
 * touched beyond its definition), so the CLI and the fuzzers link it.
 */
#ifndef FTRAMP_BPF_VERIFIER_H
#define FTRAMP_BPF_VERIFIER_H

#include "bpf/bpf.h"

#ifndef BPF_COMPLEXITY_LIMIT	/* the fuzzers' build lowers it */
#define BPF_COMPLEXITY_LIMIT	1000000	/* processed insns (the kernel's) */
#endif
#define BPF_RAW_DATA_MAX	(1u << 20)	/* raw programs' data bytes */
#define BPF_CTX_UNKNOWN		UINT32_MAX	/* bpf_verify(): no model yet */

/* The kernel's verifier log: level 1 branches and the verdict, 2 every insn. */
struct bpf_vlog {
	int level;
	char *buf;		/* NUL-terminated; NULL: nothing kept */
	size_t len, cap;
};

/* What the verifier learnt that the runtime checks later. */
struct bpf_verdict {
	uint32_t ctx_slots;	/* u64 ctx slots read: ctx[0 .. ctx_slots-1] */
	uint32_t data_need;	/* raw: bytes of data at R1 touched */
	uint32_t insn_processed;
	uint32_t states;	/* explored states kept for pruning */
	uint32_t pruned;
	/*
	 * Per instruction (p->n entries; bpf_verdict_free()): for a helper
	 * call that takes a map, the map R1 held on every path that reached
	 * it, BPF_MAP_POISON when paths disagree, NULL when none did.  The
	 * rewrite pass (bpf/fixup.c) inlines a lookup only into one map.
	 */
	const struct ftramp_bpf_map **call_map;
	/*
	 * Per instruction (p->n entries): 1 where a function the program
	 * reaches holds it (its entry's, its callees', its callbacks'; an
	 * ld_imm64 by its first half).  The rest, .text functions it never
	 * calls and the other programs of its section, the rewrite pass
	 * drops, as libbpf appends only the subprograms a program calls.
	 */
	uint8_t *live;
	/*
	 * In, optional: one per insn, BPF_TAIL_KEY_UNSEEN; out: for each
	 * bpf_tail_call the verifier reached in the main frame, the map and
	 * the index if every path brought the same constant (the kernel's
	 * bpf_map_key_store()), else BPF_TAIL_KEY_VAR.
	 */
	struct bpf_tail_key *tail_keys;
};

#define BPF_MAP_POISON	((const struct ftramp_bpf_map *)(uintptr_t)1)

/*
 * Verify @p.  @ctx_slots, when known, bounds ctx: the slots the
 * function model gives a program of its type (fentry the argument
 * slots, fexit and fmod_ret the return slots too: prog.c's
 * model_ctx_slots(); 0 for a function without any); BPF_CTX_UNKNOWN,
 * ctx reads are bounded by the largest ctx (FTRAMP_MAX_CTX_ARGS +
 * FTRAMP_MAX_CTX_RET) and @v->ctx_slots is checked when the model is
 * known (attach, test run).  0, or -EINVAL with @e naming the insn,
 * the register and its state.  @v (may be NULL) is filled, even on a
 * refusal: bpf_verdict_free() it.
 */
int bpf_verify(const struct ftramp_bpf_program *p, uint32_t ctx_slots,
	       struct ftramp_bpf_error *e, struct bpf_vlog *log,
	       struct bpf_verdict *v);
void bpf_vlog_free(struct bpf_vlog *log);
void bpf_verdict_free(struct bpf_verdict *v);
/* bpf_verdict.tail_keys for @n insns, each BPF_TAIL_KEY_UNSEEN; free() */
struct bpf_tail_key *bpf_tail_keys_new(size_t n);

#endif /* FTRAMP_BPF_VERIFIER_H */
