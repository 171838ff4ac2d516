// SPDX-License-Identifier: MIT
/*
 * `ftramp prog --jited OBJ [PROG]`: the arm64 JIT's code for each
 * program, instruction by instruction, as `bpftool prog dump jited`
 * prints it with source lines: each BPF instruction as the object holds
 * it (a "; N: ..." line), then its A64 lines at byte offsets from the
 * image's start, from the JIT's own instruction address map
 * (arch/arm64/bpf_jit.h, offset[] and the function records).
 *
 * The command runs on the host, so the program is compiled by a host
 * build of the library's JIT path (bpf/jit.c, arch/arm64/bpf_jit.c) into
 * memory of ours: the text allocator below stands in for
 * arch/arm64/text_alloc.c, and nothing runs or registers the image.  The
 * program goes through the load's own steps (verifier, rewrite pass for
 * the JIT, direct tail calls), so the listing is the code a JIT load
 * runs, but for addresses: maps do not exist here, each map reference
 * holds a placeholder address printed in the header, and helper calls
 * show host addresses.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/text_alloc.h"
#include "bpf/bpf.h"
#include "bpf/fixup.h"
#include "bpf/verifier.h"
#include "cli.h"

/*
 * Where map k's placeholder lives: JITED_MAPS + k * JITED_MAP_STEP, an
 * ARRAY's values JITED_VALUES past it.
 */
#define JITED_MAPS	0xaaaa00000000ull
#define JITED_MAP_STEP	0x100000ull
#define JITED_VALUES	0x1000ull
/* The image's placeholder execute address when no near address is given. */
#define JITED_TEXT	0xaaab00000000ull

/* ------------------------------------------------------------------
 * The host's text: plain memory, never executed
 * ------------------------------------------------------------------ */

int ftramp_text_alloc(struct ftramp_text *t, size_t size, uint64_t near,
		      unsigned int flags)
{
	(void)flags;
	memset(t, 0, sizeof(*t));
	if (!size)
		return -EINVAL;
	t->rw = calloc(1, size);
	if (!t->rw)
		return -ENOMEM;
	/* Within BL reach of `near`, as the real allocator places it. */
	t->rx = (void *)(uintptr_t)(near ? near & ~0xffffull : JITED_TEXT);
	t->size = size;
	return 0;
}

int ftramp_text_publish(struct ftramp_text *t)
{
	(void)t;
	return 0;
}

int ftramp_text_trim(struct ftramp_text *t, size_t size)
{
	if (!size || size > t->size)
		return -EINVAL;
	t->size = size;
	return 0;
}

void ftramp_text_free(struct ftramp_text *t)
{
	free(t->rw);
	memset(t, 0, sizeof(*t));
}

/* Where bpf/jit.c's helper calls go; the host runs no image. */
static uint64_t host_helper(uint64_t r1, uint64_t r2, uint64_t r3,
			    uint64_t r4, uint64_t r5,
			    const struct ftramp_bpf_program *prog)
{
	(void)r1;
	(void)r2;
	(void)r3;
	(void)r4;
	(void)r5;
	(void)prog;
	abort();
}

bpf_helper_native_fn bpf_helper_native(int32_t id, bool *takes_prog)
{
	if (takes_prog)
		*takes_prog = bpf_helper_takes_prog(id);
	return host_helper;
}

/* Nothing to describe to a debugger: the image never runs here. */
void bpf_jit_debug_register(struct ftramp_bpf_program *p)
{
	(void)p;
}

void bpf_jit_debug_unregister(struct ftramp_bpf_program *p)
{
	(void)p;
}

/* ------------------------------------------------------------------
 * The listing
 * ------------------------------------------------------------------ */

/*
 * The instruction as the user wrote it that run instruction i stands
 * for (bpf/fixup.c's orig_idx).
 */
static size_t orig_of(const struct ftramp_bpf_program *p, size_t i)
{
	return p->orig_idx ? p->orig_idx[i] : i;
}

/* Map @m's placeholder (its values at JITED_VALUES past it). */
static uint64_t placeholder_map(const struct ftramp_bpf_map *m, void *cookie)
{
	const struct ftramp_bpf_object *obj = cookie;

	return JITED_MAPS + (uint64_t)(m - obj->maps) * JITED_MAP_STEP;
}

static uint64_t placeholder_values(const struct ftramp_bpf_map *m,
				   void *cookie)
{
	return m->type == BPF_MAP_TYPE_ARRAY ?
	       placeholder_map(m, cookie) + JITED_VALUES : 0;
}

/*
 * The run form a JIT load makes (bpf/prog.c): verified, what the program
 * never reaches dropped, helpers inlined for the JIT, map references as
 * addresses (placeholders), direct tail calls where the verifier knew
 * map and key; then the JIT.  0, or -errno with the reason printed
 * (-EOPNOTSUPP: the JIT does not take it, not printed).
 */
static int jit_listed(struct ftramp_bpf_program *p)
{
	const struct bpf_map_addrs addrs = {
		.map = placeholder_map,
		.values = placeholder_values,
		.cookie = (void *)p->obj,
	};
	struct ftramp_bpf_error e = { 0 };
	struct bpf_verdict vd = { 0 };
	int err = -ENOMEM;

	vd.tail_keys = bpf_tail_keys_new(p->n);
	if (vd.tail_keys) {
		err = bpf_verify(p, BPF_CTX_UNKNOWN, &e, NULL, &vd);
		if (err)
			pr_err("%s: %s", p->name, e.msg[0] ? e.msg :
			       strerror(-err));
	}
	if (!err) {
		err = bpf_fixup(p, &vd, &addrs, FTRAMP_BPF_ENGINE_JIT);
		if (err)
			pr_err("%s: %s", p->name, strerror(-err));
	}
	if (!err) {
		err = bpf_jit_prog(p, vd.tail_keys, BPF_JIT_PROG_LISTED);
		if (err)
			bpf_fixup_free(p);
	}
	free(vd.tail_keys);
	bpf_verdict_free(&vd);
	return err;
}

static void print_lines(struct cli_disasm *dis, const struct bpf_jit_image *img,
			uint32_t from, uint32_t to)
{
	const uint32_t *words = img->text.rw;

	for (uint32_t w = from; w < to; w++) {
		char mn[32], ops[160];

		cli_disasm_one(dis, words[w], (uint64_t)w * 4, mn, sizeof(mn),
			       ops, sizeof(ops));
		printf("%4x:\t%s%s%s\n", w * 4, mn, ops[0] ? "\t" : "", ops);
	}
}

/* Is original instruction i the first half of an ld_imm64? */
static bool ld_first(const struct ftramp_bpf_program *p, size_t i)
{
	size_t k = 0;

	/* halves pair up from the start: count back to a non-ld_imm64 */
	while (k < i && p->insns[i - k - 1].code == (BPF_LD | BPF_IMM | BPF_DW))
		k++;
	return p->insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) && !(k % 2);
}

static void list_image(struct cli_disasm *dis,
		       const struct ftramp_bpf_program *p,
		       const struct bpf_jit_image *img)
{
	for (size_t k = 0; k < img->nr_funcs; k++) {
		const struct bpf_jit_func *f = &img->funcs[k];
		size_t last = k + 1 < img->nr_funcs ? f[1].insn : img->n;
		char name[2 * BPF_NAME_MAX + 16];

		bpf_jit_sym_name(p, f->insn, name, sizeof(name));
		printf("%s%s:\n", k ? "\n" : "", name);
		print_lines(dis, img, f->start, f->body);
		for (size_t i = f->insn; i < last; i++) {
			size_t o = orig_of(p, i);
			char text[128];

			/*
			 * Once per original instruction (the run insns of
			 * one rewrite share it), none for an ld_imm64's
			 * second half.
			 */
			if ((i == f->insn || orig_of(p, i - 1) != o) &&
			    !(o && p->insns[o - 1].code ==
			      (BPF_LD | BPF_IMM | BPF_DW) && ld_first(p, o - 1))) {
				bpf_insn_str((const struct bpf_insn *)
					     &p->insns[o], p->n - o, text,
					     sizeof(text));
				printf("; %zu: %s\n", o, text);
			}
			print_lines(dis, img, img->offset[i],
				    bpf_jit_insn_end(img, i));
		}
		printf("; epilogue\n");
		print_lines(dis, img, f->epilogue, f->end);
	}
}

/* 0, or 1 with the reason printed. */
static int jited_one(struct cli_disasm *dis, struct ftramp_bpf_program *p)
{
	const struct ftramp_bpf_object *obj = p->obj;
	int err = jit_listed(p);

	if (err == -EOPNOTSUPP)
		printf("%s: not JIT'd: %s (it runs in the interpreter)\n\n",
		       p->name, strerror(-err));
	if (err)
		return err == -EOPNOTSUPP ? 0 : 1;
	printf("%s (%s): %zu insns, %u bytes of A64 in %zu function%s, "
	       "%u passes\n", p->name, p->sec, p->n, p->jit->len * 4,
	       p->jit->nr_funcs, p->jit->nr_funcs == 1 ? "" : "s",
	       p->jit->passes);
	for (size_t i = 0; obj && i < obj->nr_maps; i++) {
		const struct ftramp_bpf_map *m = &obj->maps[i];
		uint64_t values = placeholder_values(m, (void *)obj);

		printf("; map %s at %#llx", m->name,
		       (unsigned long long)placeholder_map(m, (void *)obj));
		if (values)
			printf(", values at %#llx", (unsigned long long)values);
		printf(" (%s)\n", values ? "placeholders" : "a placeholder");
	}
	list_image(dis, p, p->jit);
	printf("\n");
	bpf_jit_prog_free(p);
	bpf_fixup_free(p);
	return 0;
}

int cli_prog_jited(struct ftramp_bpf_object *obj, const char *name)
{
	struct cli_disasm *dis = cli_disasm_open();
	bool found = false;
	int ret = 0;

	if (!dis) {
		pr_err("capstone: cannot open an arm64 disassembler");
		return 1;
	}
	for (size_t i = 0; i < obj->nr_progs; i++) {
		if (name && strcmp(obj->progs[i].name, name))
			continue;
		found = true;
		ret |= jited_one(dis, &obj->progs[i]);
	}
	cli_disasm_close(dis);
	if (!found) {
		pr_err("no program %s", name);
		return 1;
	}
	return ret;
}
