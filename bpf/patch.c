// SPDX-License-Identifier: MIT
/*
 * Instruction patching in one pass (issue 17, "Rewriting").
 *
 * The argument.  Let the sorted patches be p_0 < p_1 < ... (original
 * indices), p_k replacing take_k original instructions (2 for an
 * ld_imm64, else 1) by n_k.  An original instruction i that no patch
 * replaces moves to
 *
 *	new(i) = i + sum over p_k < i of (n_k - take_k)
 *
 * and a patched index p_k maps to its replacement's first instruction by
 * the same formula (p_k is not < p_k): exactly where the kernel's
 * bpf_patch_insn_single() leaves a jump to the patched instruction.  So
 * every reference from an unpatched instruction at i to an original
 * target t becomes new(t) - new(i) - 1, whatever the patches between;
 * new() is a binary search in the prefix sums of the sorted patches:
 * O(n log p + p log p) in all, against the kernel's O(n) per patch.
 * Replacements are verbatim (their jumps are their own), as the kernel
 * takes them.  bpf_patch_apply_naive() applies the patches one by one
 * with the kernel's adjustment rule; the tests hold both to the same
 * bytes.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/patch.h"

static bool is_ldimm64(const struct ftramp_bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

enum ref { REF_NONE, REF_OFF, REF_IMM };

/* Where an instruction keeps a reference to another, if it does. */
static int ref_kind(const struct ftramp_bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

	if (is_ldimm64(in))
		return in->src_reg == BPF_PSEUDO_FUNC ? REF_IMM : REF_NONE;
	if (cls != BPF_JMP && cls != BPF_JMP32)
		return REF_NONE;
	if (op == BPF_EXIT)
		return REF_NONE;
	if (op == BPF_CALL)
		return in->src_reg == BPF_PSEUDO_CALL ? REF_IMM : REF_NONE;
	if (op == BPF_JA && cls == BPF_JMP32)
		return REF_IMM;		/* gotol */
	return REF_OFF;
}

/* Write relative reference @rel into @in: a ja outgrowing 16 bits is a gotol. */
static int set_ref(struct ftramp_bpf_insn *in, int64_t rel)
{
	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	if (ref_kind(in) == REF_IMM) {
		in->imm = (int32_t)rel;
		return 0;
	}
	if (rel >= INT16_MIN && rel <= INT16_MAX) {
		in->off = (int16_t)rel;
		return 0;
	}
	if (in->code != (BPF_JMP | BPF_JA))
		return -ERANGE;	/* a conditional jump has no long form */
	in->code = BPF_JMP32 | BPF_JA;
	in->off = 0;
	in->imm = (int32_t)rel;
	return 0;
}

static int64_t get_ref(const struct ftramp_bpf_insn *in)
{
	return ref_kind(in) == REF_IMM ? in->imm : in->off;
}

static int cmp_patch(const void *a, const void *b)
{
	const struct bpf_patch *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void bpf_patch_out_free(struct bpf_patch_out *out)
{
	free(out->insns);
	free(out->orig_idx);
	memset(out, 0, sizeof(*out));
}

static int out_alloc(struct bpf_patch_out *out, size_t n)
{
	out->n = n;
	out->insns = malloc((n ? n : 1) * sizeof(*out->insns));
	out->orig_idx = malloc((n ? n : 1) * sizeof(*out->orig_idx));
	if (!out->insns || !out->orig_idx) {
		bpf_patch_out_free(out);
		return -ENOMEM;
	}
	return 0;
}

static size_t take_of(const struct ftramp_bpf_insn *in, size_t n, uint32_t i)
{
	return is_ldimm64(&in[i]) && i + 1 < n ? 2 : 1;
}

/* Sorted, in range, one per index, never an ld_imm64's second half. */
static int check_patches(const struct ftramp_bpf_insn *in, size_t n,
			 const struct bpf_patch *p, size_t np)
{
	size_t k = 0;

	for (size_t q = 0; q < np; q++)
		if (p[q].idx >= n || (p[q].n && !p[q].insns) ||
		    (q && p[q].idx == p[q - 1].idx))
			return -EINVAL;
	/* one walk by instruction units: an index it steps over is a half */
	for (size_t s = 0; s < n && k < np; s += take_of(in, n, s)) {
		if (p[k].idx < s)
			return -EINVAL;
		if (p[k].idx == s)
			k++;
	}
	return k < np ? -EINVAL : 0;	/* left: the last ld_imm64's half */
}

int bpf_patch_apply(const struct ftramp_bpf_insn *in, size_t n,
		    const uint32_t *orig, struct bpf_patch *p, size_t np,
		    uint32_t *ips, size_t nr_ips, struct bpf_patch_out *out)
{
	int64_t *cum = NULL;	/* cum[k]: the shift before patch k */
	size_t total = n, j = 0, k = 0;
	int err;

	memset(out, 0, sizeof(*out));
	qsort(p, np, sizeof(*p), cmp_patch);
	err = check_patches(in, n, p, np);
	if (err)
		return err;
	cum = malloc((np + 1) * sizeof(*cum));
	if (!cum)
		return -ENOMEM;
	cum[0] = 0;
	for (size_t q = 0; q < np; q++) {
		cum[q + 1] = cum[q] + (int64_t)p[q].n -
			     (int64_t)take_of(in, n, p[q].idx);
	}
	total = n + cum[np];
#define NEW(i) ({							\
		size_t lo_ = 0, hi_ = np, i_ = (i);			\
		while (lo_ < hi_) {	/* patches before i_ */		\
			size_t mid_ = (lo_ + hi_) / 2;			\
			if (p[mid_].idx < i_)				\
				lo_ = mid_ + 1;				\
			else						\
				hi_ = mid_;				\
		}							\
		(int64_t)i_ + cum[lo_];					\
	})
	err = out_alloc(out, total);
	for (size_t i = 0; !err && i < n;) {
		if (k < np && p[k].idx == i) {
			if (p[k].n)
				memcpy(&out->insns[j], p[k].insns,
				       p[k].n * sizeof(*p[k].insns));
			for (uint32_t q = 0; q < p[k].n; q++)
				out->orig_idx[j + q] = orig ? orig[i] : i;
			j += p[k].n;
			i += take_of(in, n, i);
			k++;
			continue;
		}
		out->insns[j] = in[i];
		out->orig_idx[j] = orig ? orig[i] : i;
		if (ref_kind(&in[i]) != REF_NONE) {
			int64_t t = (int64_t)i + get_ref(&in[i]) + 1;

			if (t < 0 || t > (int64_t)n)
				err = -EINVAL;
			else
				err = set_ref(&out->insns[j],
					      NEW((size_t)t) - (int64_t)j - 1);
		}
		if (is_ldimm64(&in[i]) && i + 1 < n) {
			out->insns[j + 1] = in[i + 1];
			out->orig_idx[j + 1] = orig ? orig[i + 1] : i + 1;
			j++;
			i++;
		}
		j++;
		i++;
	}
	for (size_t q = 0; !err && q < nr_ips; q++) {
		if (ips[q] > n)
			err = -EINVAL;
		else
			ips[q] = NEW(ips[q]);
	}
#undef NEW
	free(cum);
	if (err)
		bpf_patch_out_free(out);
	return err;
}

/* ------------------------------------------------------------------------
 * One patch at a time, as the kernel's bpf_adj_branches() does
 */

struct wide {
	struct ftramp_bpf_insn in;
	int64_t rel;		/* the reference, unbounded meanwhile */
	bool ref;		/* an original insn with a reference */
	uint32_t orig;
};

int bpf_patch_apply_naive(const struct ftramp_bpf_insn *in, size_t n,
			  const uint32_t *orig, const struct bpf_patch *pin,
			  size_t np, uint32_t *ips, size_t nr_ips,
			  struct bpf_patch_out *out)
{
	struct bpf_patch *p = malloc((np ? np : 1) * sizeof(*p));
	struct wide *w = NULL;
	size_t len = n, cap = n;
	int64_t shift = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!p)
		return -ENOMEM;
	memcpy(p, pin, np * sizeof(*p));
	qsort(p, np, sizeof(*p), cmp_patch);
	err = check_patches(in, n, p, np);
	for (size_t k = 0; k < np; k++)
		cap += p[k].n;
	w = err ? NULL : malloc((cap ? cap : 1) * sizeof(*w));
	if (!err && !w)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		w[i].in = in[i];
		w[i].ref = ref_kind(&in[i]) != REF_NONE;
		w[i].rel = w[i].ref ? get_ref(&in[i]) : 0;
		w[i].orig = orig ? orig[i] : i;
	}
	/* the second halves of ld_imm64 carry no reference */
	for (size_t i = 0; !err && i < n; i++)
		if (is_ldimm64(&in[i]) && i + 1 < n)
			w[++i].ref = false;
	for (size_t k = 0; !err && k < np; k++) {
		int64_t pos = (int64_t)p[k].idx + shift;
		int64_t take = take_of(in, n, p[k].idx);
		int64_t delta = (int64_t)p[k].n - take;
		uint32_t o = w[pos].orig;

		for (int64_t c = 0; c < (int64_t)len; c++) {
			int64_t t;

			if (!w[c].ref || (c >= pos && c < pos + take))
				continue;
			t = c + w[c].rel + 1;
			if (c < pos && t >= pos + take)
				w[c].rel += delta;
			else if (c >= pos + take && t <= pos)
				w[c].rel -= delta;
		}
		memmove(&w[pos + p[k].n], &w[pos + take],
			(len - pos - take) * sizeof(*w));
		for (uint32_t q = 0; q < p[k].n; q++) {
			w[pos + q].in = p[k].insns[q];
			w[pos + q].ref = false;
			w[pos + q].rel = 0;
			w[pos + q].orig = o;
		}
		len += delta;
		shift += delta;
	}
	/* instruction pointers: shifted by every patch before them */
	for (size_t q = 0; !err && q < nr_ips; q++) {
		int64_t ip = ips[q], s = 0;

		if (ips[q] > n) {
			err = -EINVAL;
			break;
		}
		for (size_t k = 0; k < np; k++) {
			if (p[k].idx < ips[q])
				s += (int64_t)p[k].n -
				     (int64_t)take_of(in, n, p[k].idx);
		}
		ips[q] = ip + s;
	}
	if (!err)
		err = out_alloc(out, len);
	for (size_t i = 0; !err && i < len; i++) {
		out->insns[i] = w[i].in;
		out->orig_idx[i] = w[i].orig;
		if (w[i].ref)
			err = set_ref(&out->insns[i], w[i].rel);
	}
	if (err)
		bpf_patch_out_free(out);
	free(w);
	free(p);
	return err;
}

size_t bpf_patch_removals(const struct ftramp_bpf_insn *in, size_t n,
			  const uint8_t *keep, struct bpf_patch *out)
{
	size_t nr = 0;

	for (size_t i = 0; keep && i < n; i++) {
		bool wide = in[i].code == (BPF_LD | BPF_IMM | BPF_DW);

		if (!keep[i])
			out[nr++] = (struct bpf_patch){ .idx = (uint32_t)i };
		i += wide;	/* an ld_imm64 goes whole */
	}
	return nr;
}
