/* SPDX-License-Identifier: MIT */
/*
 * The rewrite pass after the verifier (bpf/fixup.c), the kernel's
 * do_misc_fixups(): a verified program's instructions (p->insns) become
 * the run form both engines execute (p->run).
 */
#ifndef FTRAMP_BPF_FIXUP_H
#define FTRAMP_BPF_FIXUP_H

#include "bpf/verifier.h"

enum bpf_fixup_flags {
	BPF_FIXUP_NO_INLINE	= 1u << 0,	/* helper calls stay calls */
	BPF_FIXUP_INLINE_INTERP	= 1u << 1,	/* inline for the interpreter */
};

/* enum bpf_fixup_flags for every load (tests and bench only). */
extern unsigned int bpf_fixup_test_flags;

/*
 * Build p->run, p->run_n, p->run_entry and p->orig_idx from p->insns and
 * what the verifier learnt (@vd), for @engine to run
 * (FTRAMP_BPF_ENGINE_JIT or _INTERP): for the JIT, helpers that are
 * loads inlined and ARRAY lookups into one known map inlined; for every
 * engine, ld_imm64 map, map value and callback references turned into
 * addresses, the maps' from @addrs (bpf_map_addrs_live for a load).
 * 0 or -ENOMEM.
 */
int bpf_fixup(struct ftramp_bpf_program *p, const struct bpf_verdict *vd,
	      const struct bpf_map_addrs *addrs, int engine);
void bpf_fixup_free(struct ftramp_bpf_program *p);

#endif /* FTRAMP_BPF_FIXUP_H */
