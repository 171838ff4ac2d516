// SPDX-License-Identifier: MIT
/*
 * verify_bench: the verifier's own speed (bpf/verifier.c), in guest
 * instructions per program verified.  The shape that made it slow: a
 * bpf_loop callback whose own loop the verifier walks iteration by
 * iteration (the counter differs each time, so no state prunes) while
 * the outer frame waits with its stack in use; at every loop head the
 * walk compares its state with the ones kept there (up to 64), frame by
 * frame.  Each row is one bpf_check() + bpf_verify() in a window.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include "bpf/bpf.h"
#include "bpf/verifier.h"
#include "mark.h"
#include "report.h"

#define I(c, d, s, o, k)	{ .code = (c), .dst_reg = (d), .src_reg = (s), \
				  .off = (o), .imm = (k) }
#define STK(off)		I(BPF_STX | BPF_MEM | BPF_DW, 10, 1, off, 0)

/*
 * main: 8 stack slots written, bpf_loop(1, cb, 0, 0), r0 = 0.
 * cb: r6 counts to @iters, r0 = 0.
 */
static size_t prog(struct ftramp_bpf_insn *p, int32_t iters)
{
	const struct ftramp_bpf_insn in[] = {
		I(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0),
		STK(-8), STK(-16), STK(-24), STK(-32),
		STK(-40), STK(-48), STK(-56), STK(-64),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1),
		I(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, 6),
		I(0, 0, 0, 0, 0),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),
		I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_loop),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		/* cb (insn 17) */
		I(BPF_ALU64 | BPF_MOV | BPF_K, 6, 0, 0, 0),
		I(BPF_ALU64 | BPF_ADD | BPF_K, 6, 0, 0, 1),
		I(BPF_JMP | BPF_JLT | BPF_K, 6, 0, -2, iters),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	memcpy(p, in, sizeof(in));
	return sizeof(in) / sizeof(in[0]);
}

static void one(int32_t iters)
{
	struct ftramp_bpf_insn insns[32];
	struct ftramp_bpf_program p = { .name = "vb", .insns = insns,
					.type = FTRAMP_BPF_PROG_RAW };
	struct ftramp_bpf_error e = { 0 };
	struct bpf_verdict vd = { 0 };
	char name[64], label[160];
	int err;

	p.n = p.sec_n = prog(insns, iters);
	snprintf(name, sizeof(name), "verify.loop_cb.%d", iters);
	snprintf(label, sizeof(label), "verify a bpf_loop callback looping "
		 "%d times (%d insns walked), the outer frame's stack in use",
		 iters, 2 * iters + 18);
	bench_start();
	err = bpf_check(&p, &e);
	if (!err)
		err = bpf_verify(&p, BPF_CTX_UNKNOWN, &e, NULL, &vd);
	bench_stop();
	bpf_verdict_free(&vd);
	if (err) {
		bench_discard();
		fprintf(stderr, "verify_bench: %s: %s\n", name, e.msg);
		return;
	}
	bench_case(name, 1, "-", label);
}

int main(void)
{
	one(1000);
	one(10000);
	return 0;
}
