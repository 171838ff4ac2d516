// SPDX-License-Identifier: MIT
/*
 * A JIT'd program, described to debuggers, profilers and the unwinder
 * the way trampolines are (trampoline/image_life.c): each native function
 * of the image (the program, each bpf-to-bpf call target) is
 *
 *  - a GDB JIT interface entry and a /tmp/perf-<pid>.map line
 *    (FTRAMP_PERF_MAP=1), trampoline/jitdebug.c, named by
 *    bpf_jit_sym_name() ("bpf_prog_<program>[.<function>]"), with
 *    .debug_frame CFI: gdb names the frames and unwinds through them;
 *  - an .eh_frame FDE given to the process's unwinder
 *    (trampoline/unwind.c): _Unwind_Backtrace(), backtrace() and forced
 *    unwinds (pthread_cancel, pthread_exit) walk through the program to
 *    the traced function's callers.
 *
 * The CFI comes from the unwind rows the JIT recorded as it wrote each
 * prologue and epilogue (struct bpf_jit_image.uw).  Registration failures
 * leave the program working (as for trampolines): without them, a
 * debugger shows "??" and an unwind stops at the image.  Everything is
 * unregistered before the image is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/bpf_jit.h"
#include "arch/arm64/insn.h"
#include "bpf/bpf.h"
#include "trampoline/jitdebug.h"
#include "trampoline/unwind.h"

struct bpf_jit_debug {
	size_t nr;
	struct {
		int jit;		/* jitdebug handle, or < 0 */
		struct ftramp_unwind *uw;
	} f[];
};

/* The rows of [from, to) bytes, rebased to from: 0 and *nr, or -EINVAL. */
static int func_rows(const struct bpf_jit_image *img, uint32_t from,
		     uint32_t to, struct a64_uw_row *out, unsigned int *nr)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < img->nr_uw; i++) {
		if (img->uw[i].off < from || img->uw[i].off >= to)
			continue;
		out[k] = img->uw[i];
		out[k++].off -= from;
	}
	*nr = k;
	return k && !out[0].off ? 0 : -EINVAL;
}

void bpf_jit_debug_register(struct ftramp_bpf_program *p)
{
	const struct bpf_jit_image *img = p->jit;
	struct bpf_jit_debug *dbg;
	struct a64_uw_row *rows;

	dbg = calloc(1, sizeof(*dbg) + img->nr_funcs * sizeof(dbg->f[0]));
	rows = calloc(img->nr_uw ? img->nr_uw : 1, sizeof(*rows));
	if (!dbg || !rows) {
		free(dbg);
		free(rows);
		return;
	}
	dbg->nr = img->nr_funcs;
	for (size_t k = 0; k < img->nr_funcs; k++) {
		const struct bpf_jit_func *f = &img->funcs[k];
		uint32_t from = f->start * A64_INSN_SIZE;
		uint32_t size = (f->end - f->start) * A64_INSN_SIZE;
		const uint8_t *code = (const uint8_t *)img->text.rx + from;
		char sym[2 * BPF_NAME_MAX + 16];
		unsigned int nr;

		bpf_jit_sym_name(p, f->insn, sym, sizeof(sym));
		if (func_rows(img, from, from + size, rows, &nr))
			nr = 0;		/* a symbol without CFI */
		dbg->f[k].jit = ftramp_jitdebug__register_sym(
			sym, (uintptr_t)code, size, nr ? rows : NULL, nr);
		if (nr)
			ftramp_unwind__register(code, size, rows, nr, NULL,
						&dbg->f[k].uw);
	}
	free(rows);
	p->jit_debug = dbg;
}

void bpf_jit_debug_unregister(struct ftramp_bpf_program *p)
{
	struct bpf_jit_debug *dbg = p->jit_debug;

	if (!dbg)
		return;
	for (size_t k = 0; k < dbg->nr; k++) {
		if (dbg->f[k].jit >= 0)
			ftramp_jitdebug__unregister(dbg->f[k].jit);
		ftramp_unwind__unregister(dbg->f[k].uw);
	}
	free(dbg);
	p->jit_debug = NULL;
}
