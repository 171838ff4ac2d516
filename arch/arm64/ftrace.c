// SPDX-License-Identifier: MIT
/*
 * The arm64 side of the ftrace layer (the kernel's
 * arch/arm64/kernel/ftrace.c): where a site's `bl` can go, and the copies
 * of ftrace_caller (ftrace_caller.S) it goes to when its tracers are not
 * one near trampoline.
 *
 * A copy is position-independent code placed in near memory, within BL
 * range of a whole text segment when possible so that one copy serves
 * every site of the region, else near the one site.  Copies are never
 * freed (a few hundred bytes per text region): a thread may be inside
 * one at any time, and the ftrace layer makes each a reclamation window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/eh_frame.h"
#include "arch/arm64/ftrace.h"
#include "arch/arm64/insn.h"
#include "arch/arm64/text_alloc.h"

struct fcaller {
	struct ftramp_text text;
	uint64_t addr;
	struct fcaller *next;
};

/* Under the ftrace layer's lock (ftrace_lock). */
static struct fcaller *callers;

bool a64_ftrace_bl_reaches(uint64_t pc, uint64_t target)
{
	return a64_bl(pc, target) != A64_INSN_BAD;
}

uint64_t a64_ftrace_caller_entry(uint64_t caller, bool bti_first)
{
	/* After a `bti c` the literal is 4 bytes further from x30. */
	return bti_first ? caller + FCALLER_BTI_ENTRY : caller;
}

/*
 * One unwind row for a whole copy: it moves no SP and saves nothing, the
 * return address is in x9 throughout (ftrace_caller.S).  An unwinder
 * lands there only asynchronously (a signal on its three instructions).
 */
const struct a64_uw_row a64_ftrace_caller_uw_row = {
	.cfa_reg = A64_DW_SP, .ra_reg = 9,
};

/* A new copy in range of @bl: [lo, hi) first (hi > lo), then near @bl. */
static int caller_new(struct fcaller *c, uint64_t bl, uint64_t lo,
		      uint64_t hi)
{
	size_t size = ftrace_caller_tmpl_end - ftrace_caller_tmpl;
	int err = -ERANGE;

	if (hi > lo) {
		err = ftramp_text_alloc_range(&c->text, size, lo, hi, 0);
		if (!err && c->text.far) {
			ftramp_text_free(&c->text);
			err = -ERANGE;
		}
	}
	if (err) {
		uint64_t rx;

		err = ftramp_text_alloc(&c->text, size, bl, 0);
		rx = err ? 0 : (uint64_t)(uintptr_t)c->text.rx;
		if (!err && (c->text.far || !a64_ftrace_bl_reaches(bl, rx) ||
			     !a64_ftrace_bl_reaches(bl, rx + size))) {
			ftramp_text_free(&c->text);
			err = -ERANGE;
		}
	}
	if (err)
		return err;
	memcpy(c->text.rw, ftrace_caller_tmpl, size);
	err = ftramp_text_publish(&c->text);
	if (err) {
		ftramp_text_free(&c->text);
		return err;
	}
	c->addr = (uint64_t)(uintptr_t)c->text.rx;
	return 0;
}

int a64_ftrace_caller_for(uint64_t bl, uint64_t text_start, uint64_t text_end,
			  int (*first_use)(uint64_t lo, uint64_t hi),
			  uint64_t *addr)
{
	size_t size = ftrace_caller_tmpl_end - ftrace_caller_tmpl;
	uint64_t lo = 0, hi = 0;
	struct fcaller *c;
	int err;

	for (c = callers; c; c = c->next) {
		if (a64_ftrace_bl_reaches(bl, c->addr) &&
		    a64_ftrace_bl_reaches(bl, c->addr + c->text.size - 4)) {
			*addr = c->addr;
			return 0;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (text_end > text_start) {
		lo = text_end > FTRAMP_BL_RANGE ?
		     text_end - FTRAMP_BL_RANGE + 4 : 0;
		hi = text_start + FTRAMP_BL_RANGE - 4;
	}
	err = caller_new(c, bl, lo, hi);
	if (err)
		goto fail;
	err = first_use(c->addr, c->addr + size);
	if (err) {
		ftramp_text_free(&c->text);
		goto fail;
	}
	c->next = callers;
	callers = c;
	*addr = c->addr;
	return 0;
fail:
	free(c);
	return err == -ENOMEM || err == -ERANGE ? err : -ERANGE;
}
