/* SPDX-License-Identifier: MIT */
/*
 * The arm64 BPF JIT: eBPF (RFC 9669, cpu v4) to A64.
 *
 * Arch never includes bpf/ (Documentation/design.rst): the caller hands
 * down a plain description, the instructions as <linux/bpf.h> defines
 * them in their run form (every ld_imm64 holds a value, src_reg 0, but
 * callback addresses), the entry, and where each helper's native entry
 * is.  The result is an image in near text memory, published W^X like a
 * trampoline, whose entry is a C function `u64 prog(u64 r1, u64 r2)`
 * (a trampoline's `u64 prog(const u64 *ctx)`), and the instruction
 * address map: for every BPF instruction, where its A64 code starts.
 * A static branch (ja with FTRAMP_BPF_STATIC_BRANCH_JA, jcond) is one
 * word, nop or b, at its offset[], for bpf_jit_poke_add().
 */
#ifndef FTRAMP_ARCH_ARM64_BPF_JIT_H
#define FTRAMP_ARCH_ARM64_BPF_JIT_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/eh_frame.h"
#include "arch/arm64/text_alloc.h"

/*
 * A helper call `call id` becomes a direct call of the helper's native
 * entry, `u64 fn(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5[, cookie])`
 * with R1-R5 already in x0-x4: a bl where the image reaches it, else
 * through x16.  helper() says where it is (0, or -EOPNOTSUPP for a
 * helper the JIT does not call).
 */
struct bpf_jit_helper {
	uint64_t addr;		/* the native entry */
	int cookie;		/* it takes helper_cookie as a sixth argument */
};
typedef int (*bpf_jit_helper_fn)(int32_t id, struct bpf_jit_helper *h);

enum bpf_jit_flags {
	BPF_JIT_NO_LSE		= 1u << 0,	/* LL/SC atomics even with LSE */
	BPF_JIT_LONG_BRANCHES	= 1u << 1,	/* every b.cond long (tests) */
	BPF_JIT_FAR		= 1u << 2,	/* image anywhere (tests) */
	/*
	 * The entry function gets the fixed full frame and a tail entry
	 * (bpf_jit_image.tail): the program makes tail calls or may be the
	 * target of one.  Without it the entry's frame is as lean as any.
	 */
	BPF_JIT_TAIL_FRAME	= 1u << 3,
};

/*
 * Tail calls (bpf_tail_call, R2 = the map as the run form's ld_imm64
 * holds it, R3 = the index).  The indirect form reads, at d->tail_off
 * in the object R2 points at, a pointer to this table; the caller keeps
 * it: entry[i] is the tail entry of the JIT'd program in slot i
 * (bpf_jit_image.tail), 0 when the slot is empty.  At most
 * BPF_JIT_MAX_TAIL_CALLS tail calls in a chain (the kernel's
 * MAX_TAIL_CALL_CNT).
 */
#define BPF_JIT_MAX_TAIL_CALLS	33

struct bpf_jit_tail_array {
	uint32_t max_entries;
	uint32_t pad;
	uint64_t entry[];
};

/*
 * A direct tail call: the call instruction @insn, whose map and key the
 * caller knows, becomes a one-word slot (a nop until poked) instead of
 * the table load; @slot is where (out: the word index in the image).
 */
struct bpf_jit_poke {
	uint32_t insn;
	uint32_t slot;
};

struct bpf_jit_desc {
	/*
	 * The run form, but for callback addresses (bpf_loop): an ld_imm64
	 * with src_reg BPF_PSEUDO_FUNC and the relative imm of the load
	 * form, which the JIT makes the address of that function's code.
	 */
	const struct bpf_insn *insns;
	size_t n;
	size_t entry;			/* first instruction of the program */
	bpf_jit_helper_fn helper;
	const void *helper_cookie;
	uint64_t near;			/* place the image within BL of this */
	unsigned int flags;		/* enum bpf_jit_flags */
	size_t tail_off;		/* > 0: where R2's tail table pointer is */
	/*
	 * BPF_JIT_TAIL_FRAME: counted up around each helper call (the
	 * program's reclamation waits for zero), NULL: not counted.
	 */
	uint64_t *inflight;
	struct bpf_jit_poke *pokes;	/* direct tail calls */
	size_t nr_pokes;
};

/*
 * One native function of the image: the program, or a bpf-to-bpf call
 * target.  Word indices; [start, body) is its prologue, [epilogue, end)
 * its epilogue.
 */
struct bpf_jit_func {
	uint32_t insn;		/* its first BPF instruction */
	uint32_t start;
	uint32_t body;		/* offset[insn] */
	uint32_t epilogue;
	uint32_t end;		/* the next function's start, or len */
};

struct bpf_jit_image {
	struct ftramp_text text;
	/*
	 * The instruction address map: offset[i] is the word index in the
	 * image of BPF instruction i's code, offset[n] the end of the code.
	 * Instruction i's A64 lines are [offset[i], bpf_jit_insn_end(i)):
	 * up to offset[i + 1], or to its function's epilogue when i is the
	 * function's last.  The second half of an ld_imm64 has no code of
	 * its own.
	 */
	uint32_t *offset;
	size_t n;
	struct bpf_jit_func *funcs;	/* ascending; funcs[0].start is 0 */
	size_t nr_funcs;
	/*
	 * The unwind rows of the whole image (offsets in bytes, ascending):
	 * each function's start a row of its own, so the rows of
	 * [start, end) describe that function alone.
	 */
	struct a64_uw_row *uw;
	unsigned int nr_uw;
	uint32_t len;		/* words */
	uint32_t passes;	/* emit passes until the offsets were stable */
	uint64_t entry;		/* execute address of the program's entry */
	/*
	 * Where a tail call into this program lands: an indirect one (br)
	 * at tail, its bti j, then sub sp, x25, #STACK; a direct slot (b)
	 * at the body after them (bpf_jit_tail_body()): its caller is JIT'd
	 * code whose sp is already x25 - STACK (every function has the same
	 * frame).
	 */
	uint64_t tail;
};

/* The function that holds BPF instruction i (i < img->n). */
static inline const struct bpf_jit_func *
bpf_jit_func_of(const struct bpf_jit_image *img, size_t i)
{
	size_t lo = 0, hi = img->nr_funcs;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (img->funcs[mid].insn <= i)
			lo = mid;
		else
			hi = mid;
	}
	return &img->funcs[lo];
}

/* Where BPF instruction i's code ends (word index). */
static inline uint32_t bpf_jit_insn_end(const struct bpf_jit_image *img,
					size_t i)
{
	const struct bpf_jit_func *f = bpf_jit_func_of(img, i);

	if (i + 1 >= img->n ||
	    (f + 1 < img->funcs + img->nr_funcs && f[1].insn == i + 1))
		return f->epilogue;
	return img->offset[i + 1];
}

/*
 * Where a direct tail-call slot's b lands in the program of @img (its
 * tail body), 0 for no program (the slot's nop); bpf_jit_poke_add()
 * below moves a slot.  0 also for a program compiled without
 * BPF_JIT_TAIL_FRAME (no tail entry: not a tail-call target).
 */
static inline uint64_t bpf_jit_tail_body(const struct bpf_jit_image *img)
{
	return img && img->tail ? img->tail + 8 : 0;
}

/*
 * Compile.  0, -EOPNOTSUPP (what the JIT does not take: a helper that
 * helper() refuses; a tail call without d->tail_off or BPF_JIT_TAIL_FRAME;
 * a recursive call graph or one deeper than the interpreter's 8 frames,
 * which it would end at run time with -E2BIG), -EINVAL (an instruction
 * that does not encode: a bug, or a description the checker should have
 * refused),
 * -ENOMEM, or text_alloc's errors.
 */
int bpf_jit_compile(const struct bpf_jit_desc *d, struct bpf_jit_image *img);
void bpf_jit_free(struct bpf_jit_image *img);

/* The execute address of word @word of the image (offset[] indexes). */
uint64_t bpf_jit_word_pc(const struct bpf_jit_image *img, uint32_t word);
/*
 * Queue in batch @b the change of image word @word from `b old_target`
 * to `b new_target` (0: nop): the CMODX-safe nop <-> b and b <-> b,
 * compared before written (static branches, tail-call slots).  0,
 * -EINVAL (no image, word beyond it), or ftramp_poke_batch__add()'s
 * errors; the batch's commit writes and synchronises.
 */
struct ftramp_poke_batch;
int bpf_jit_poke_add(struct ftramp_poke_batch *b,
		     const struct bpf_jit_image *img, uint32_t word,
		     uint64_t old_target, uint64_t new_target);

#endif /* FTRAMP_ARCH_ARM64_BPF_JIT_H */
