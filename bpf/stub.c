// SPDX-License-Identifier: MIT
/*
 * A program's native entry: the ftramp_prog_t a trampoline (or a thunk)
 * calls with x0 = ctx.  Each program gets its own few words of code, so
 * that two programs on one function are two distinct handlers (as
 * ftramp_attach() requires) and the attach cookie stays the user's:
 *
 *	bti	c		the trampoline reaches it with blr
 *	ldr	x1, 1f		the program
 *	ldr	x16, 2f		bpf_stub_enter()
 *	br	x16		a tail call: no frame of its own
 *	1: .quad prog
 *	2: .quad bpf_stub_enter
 *
 * The words are written before the memory is published, and nothing
 * reaches them until the program is attached, so no live patching is
 * involved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/insn.h"
#include "arch/arm64/text_alloc.h"
#include "bpf/bpf.h"

struct bpf_stub {
	struct ftramp_text text;
};

enum {
	STUB_PROG_OFF	= 16,	/* byte offsets of the literals */
	STUB_FN_OFF	= 24,
	STUB_SIZE	= 32,
};

static uint64_t bpf_stub_enter(const uint64_t *ctx,
			       const struct ftramp_bpf_program *prog)
{
	return bpf_interp_run(prog, (uintptr_t)ctx, 0);
}

int bpf_stub_create(struct ftramp_bpf_program *prog)
{
	struct bpf_stub *s = calloc(1, sizeof(*s));
	uint64_t rx, lit[2];
	uint32_t code[4];
	int err;

	if (!s)
		return -ENOMEM;
	err = ftramp_text_alloc(&s->text, STUB_SIZE, 0,
				FTRAMP_TEXT_FAR | FTRAMP_TEXT_BTI);
	if (err)
		err = ftramp_text_alloc(&s->text, STUB_SIZE, 0, FTRAMP_TEXT_FAR);
	if (err) {
		free(s);
		return err;
	}
	rx = (uintptr_t)s->text.rx;
	code[0] = A64_BTI_C;
	code[1] = a64_ldr_lit(rx + 4, rx + STUB_PROG_OFF, A64_LS_X, A64_R1);
	code[2] = a64_ldr_lit(rx + 8, rx + STUB_FN_OFF, A64_LS_X, A64_R16);
	code[3] = a64_br(A64_R16);
	lit[0] = (uintptr_t)prog;
	lit[1] = (uintptr_t)bpf_stub_enter;
	memcpy(s->text.rw, code, sizeof(code));
	memcpy((uint8_t *)s->text.rw + STUB_PROG_OFF, lit, sizeof(lit));
	err = ftramp_text_publish(&s->text);
	if (err) {
		ftramp_text_free(&s->text);
		free(s);
		return err;
	}
	prog->stub = s;
	prog->handler = (ftramp_prog_t)(uintptr_t)rx;
	return 0;
}

void bpf_stub_free(struct ftramp_bpf_program *prog)
{
	if (!prog->stub)
		return;
	ftramp_text_free(&prog->stub->text);
	free(prog->stub);
	prog->stub = NULL;
	prog->handler = NULL;
}
