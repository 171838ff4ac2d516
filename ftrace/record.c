// SPDX-License-Identifier: MIT
/*
 * Call records (struct ftrace_cops, ftrace/ftrace.h): what a site's
 * literal points at and ftrace_caller loads, and the functions
 * ftrace_caller calls through them: the stub (nothing), one ops' handler
 * under the recursion guard, or a list of ops in registration order.
 * Records are freed through reclamation only, once published.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"
#include "lib/fault_inject.h"

/* The layouts ftrace_caller.S reads (arch/arm64/ftrace.h). */
_Static_assert(offsetof(struct ftramp_ftrace_regs, regs[2]) == FREGS_X2, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, regs[8]) == FREGS_X8, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, direct) == FREGS_DIRECT,
	       "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, fp) == FREGS_FP, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, lr) == FREGS_LR, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, sp) == FREGS_SP, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, pc) == FREGS_PC, "");
_Static_assert(offsetof(struct ftramp_ftrace_regs, vregs) == FREGS_Q0, "");
_Static_assert(sizeof(struct ftramp_ftrace_regs) == FREGS_SIZE, "");
_Static_assert(FCALLER_FRAME % 16 == 0, "sp stays 16-byte aligned");
_Static_assert(offsetof(struct ftrace_cops, direct) == COPS_DIRECT, "");
_Static_assert(offsetof(struct ftrace_cops, func) == COPS_FUNC, "");
_Static_assert(offsetof(struct ftrace_cops, inflight) == COPS_INFLIGHT, "");

/*
 * Per-thread guard for handlers without FTRAMP_FTRACE_OPS_FL_RECURSION
 * (the kernel's ftrace_ops_assist_func()).  initial-exec: no allocation
 * on first use, which could recurse into a traced allocator.
 */
static __thread unsigned int ftrace_depth
	__attribute__((tls_model("initial-exec")));

static void call_one(struct ftramp_ftrace_ops *ops, unsigned long ip,
		     unsigned long parent_ip, struct ftramp_ftrace_regs *fregs)
{
	if (ops->flags & FTRAMP_FTRACE_OPS_FL_RECURSION) {
		ops->func(ip, parent_ip, ops, fregs);
		return;
	}
	if (ftrace_depth) {
		__atomic_add_fetch(&ops->priv->misses, 1, __ATOMIC_RELAXED);
		return;
	}
	ftrace_depth++;
	ops->func(ip, parent_ip, ops, fregs);
	ftrace_depth--;
}

static void stub_func(unsigned long ip, unsigned long parent_ip,
		      struct ftrace_cops *cops,
		      struct ftramp_ftrace_regs *fregs)
{
}

static void single_func(unsigned long ip, unsigned long parent_ip,
			struct ftrace_cops *cops,
			struct ftramp_ftrace_regs *fregs)
{
	call_one(cops->ops, ip, parent_ip, fregs);
}

/*
 * Several ops on one site: each handler in registration order, then the
 * direct ops' trampoline, if any: ftrace_caller reads its record's
 * current target from fregs->direct after the handlers (the kernel's
 * call_direct_funcs() + ftrace_caller_direct_late).
 */
static void list_func(unsigned long ip, unsigned long parent_ip,
		      struct ftrace_cops *cops,
		      struct ftramp_ftrace_regs *fregs)
{
	for (unsigned int i = 0; i < cops->nr; i++) {
		struct ftrace_cops *rec = cops->list[i];

		if (rec->flags & COPS_F_DIRECT)
			fregs->direct = (uint64_t)(uintptr_t)rec;
		else
			call_one(rec->ops, ip, parent_ip, fregs);
	}
}

/* What a site's literal holds while the site is off. */
static struct ftrace_cops stub_cops = {
	.direct = (uint64_t)(uintptr_t)ftrace_regs_caller,
	.func = stub_func,
	.flags = COPS_F_STUB,
};

uint64_t ftrace_stub_lit(void)
{
	return (uint64_t)(uintptr_t)&stub_cops;
}

void ftrace_cops_free(struct ftrace_cops *c)
{
	/* A list record lets go of the single records it pointed at. */
	if (c && (c->flags & COPS_F_LIST))
		for (unsigned int i = 0; i < c->nr; i++)
			__atomic_sub_fetch(&c->list[i]->lists, 1,
					   __ATOMIC_RELEASE);
	free(c);
}

struct ftrace_cops *ftrace_cops_new_single(struct ftramp_ftrace_ops *ops,
					   uint64_t direct)
{
	struct ftrace_cops *c;

	if (ftramp_fault("ftrace_cops_alloc"))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ops = ops;
	/* ftrace_caller branches to direct without a test. */
	c->direct = direct ? direct : (uint64_t)(uintptr_t)ftrace_regs_caller;
	c->func = single_func;
	c->flags = direct ? COPS_F_DIRECT : 0;
	reclaim_count_alloc(RECLAIM_COPS);
	return c;
}

struct ftrace_cops *ftrace_cops_new_list(struct ftramp_ftrace_ops *const *ops,
					 unsigned int nr,
					 const struct ftramp_ftrace_ops *chg)
{
	struct ftrace_cops *c;

	if (ftramp_fault("ftrace_cops_alloc"))
		return NULL;
	c = calloc(1, sizeof(*c) + nr * sizeof(c->list[0]));
	if (!c)
		return NULL;
	c->direct = (uint64_t)(uintptr_t)ftrace_regs_caller;
	c->func = list_func;
	c->flags = COPS_F_LIST;
	c->nr = nr;
	for (unsigned int i = 0; i < nr; i++) {
		c->list[i] = ftrace_ops_record(ops[i], chg);
		__atomic_add_fetch(&c->list[i]->lists, 1, __ATOMIC_RELAXED);
	}
	reclaim_count_alloc(RECLAIM_COPS);
	return c;
}

static void cops_free_fn(void *p)
{
	ftrace_cops_free(p);
}

uint64_t ftrace_cops_retire(struct ftrace_cops *c)
{
	/* A single record waits for the list records that hold it. */
	return reclaim_retire_held(RECLAIM_COPS, &c->inflight,
				   (c->flags & COPS_F_LIST) ? NULL : &c->lists,
				   0, 0, cops_free_fn, c);
}
