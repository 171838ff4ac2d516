/* SPDX-License-Identifier: MIT */
/*
 * ftrace layer internals (Documentation/internals.rst has the file map):
 * the call records ftrace_caller reads (record.c), the ops' state and
 * its changes (ops.c), the transaction that moves sites (commit.c).
 * Reclamation: ftrace/reclaim.h.
 *
 * The offsets ftrace_caller.S uses are in arch/arm64/ftrace.h, checked
 * against the C layout by static assertions in ftrace/record.c.
 */
#ifndef FTRAMP_FTRACE_FTRACE_H
#define FTRAMP_FTRACE_FTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <ftramp/ftramp.h>

#include "arch/arm64/ftrace.h"
#include "ftrace/site_set.h"

struct ftrace_cops;

/*
 * What ftrace_caller calls (AAPCS64) when the record has no direct
 * target: x0 = the function, x1 = its caller's return address, x2 = the
 * record, x3 = the saved registers.
 */
typedef void (*ftrace_cops_func_t)(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_cops *cops,
				   struct ftramp_ftrace_regs *fregs);

/*
 * A call record: what a site's literal points at (the kernel's
 * CALL_OPS literal points at the ftrace_ops itself; ours points at this
 * record, owned by ftramp, so that the user's struct can be plain).
 *
 *  - the stub record: no direct target, func does nothing; what every
 *    enabled-once site's literal holds while the site is off;
 *  - one record per registered ops: direct = its trampoline (direct
 *    ops) or 0, func calls the ops' handler;
 *  - a list record per site with several ops: func calls each ops'
 *    handler and then, if one of them is a direct ops, has ftrace_caller
 *    branch to its trampoline (the kernel's call_direct_funcs() setting
 *    ftrace_regs' direct_tramp, read back by ftrace_caller).
 *
 * ftrace_caller branches to `direct` without testing it: for every record
 * but a direct ops' single record it is ftrace_regs_caller.
 *
 * A record is immutable once published except `direct` (a 64-bit store:
 * ftramp_direct__modify()) and `inflight`.  It is freed through the
 * reclamation layer only.
 */
struct ftrace_cops {
	uint64_t direct;		/* COPS_DIRECT: never 0 (below) */
	ftrace_cops_func_t func;	/* COPS_FUNC */
	/*
	 * COPS_INFLIGHT: threads in ftrace_caller's handler path with this
	 * record, from just after it was loaded (an uncounted window inside
	 * ftrace_caller's own code) to just before the return.
	 */
	uint64_t inflight;
	/*
	 * Single record: list records that point at it and are not freed
	 * yet (a thread counted in a list record reads it uncounted).  It
	 * is freed only once this reads zero too.
	 */
	uint64_t lists;
	struct ftramp_ftrace_ops *ops;	/* single record: the ops */
	unsigned int flags;		/* COPS_F_* */
	unsigned int nr;		/* list record: entries */
	struct ftrace_cops *list[];	/* the ops' single records */
};

#define COPS_F_DIRECT	1u	/* single record of a direct ops */
#define COPS_F_LIST	2u	/* list record */
#define COPS_F_STUB	4u	/* the stub record */

/* ftrace/record.c: allocation counted, fault point ftrace_cops_alloc. */

/* The literal of a site whose B leads nowhere: the stub record. */
uint64_t ftrace_stub_lit(void);
/* An ops' single record; direct = 0 for a handler ops. */
struct ftrace_cops *ftrace_cops_new_single(struct ftramp_ftrace_ops *ops,
					   uint64_t direct);
/*
 * A list record over @nr ops in registration order: each entry is
 * ftrace_ops_record(ops[i], chg).
 */
struct ftrace_cops *ftrace_cops_new_list(struct ftramp_ftrace_ops *const *ops,
					 unsigned int nr,
					 const struct ftramp_ftrace_ops *chg);
/* Free a record no thread can have reached (never published). */
void ftrace_cops_free(struct ftrace_cops *c);
/* Hand a record no literal holds any more to reclamation: its seq. */
uint64_t ftrace_cops_retire(struct ftrace_cops *c);

/*
 * After a failed change (under ftrace_lock): did its commit write words
 * before it was rolled back?  Then what the change built (a trampoline
 * image, records) may have been reached by other threads: retire it
 * (reclaim_retire()), do not free it.
 */
bool ftrace_commit_exposed(void);

/* Install the one fork handler (ftrace/fork.c: the lock order). */
void ftrace_fork_init(void);

/* ------------------------------------------------------------------
 * ops.c / direct.c / attach.c
 * ------------------------------------------------------------------ */

/* The lock of every ftrace-layer change (the kernel's ftrace_lock). */
extern pthread_mutex_t ftrace_lock;

/* Where an ops is and what it calls: its current state, or its next. */
struct ftrace_ops_state {
	bool registered;
	uint64_t direct;		/* the trampoline of a direct ops */
	struct ftrace_cops *cops;	/* its single record */
	struct site_set sites;		/* where it is, while registered */
};

/*
 * ops->priv.  Changed under ftrace_lock only; read lock-free by the
 * handler path (misses) while registered.
 *
 * `next` is what a transaction in progress moves the ops to (set by
 * ops.c, read by commit.c's plan); it becomes `cur` when the commit
 * succeeded, and is dropped when it failed.  Between transactions it
 * holds no sites and no record of its own.
 */
struct ftramp_ftrace_ops_priv {
	struct site_set filter, notrace;
	struct ftrace_ops_state cur, next;
	uint64_t misses;
	uint64_t last_seq;	/* reclamation of its last records */
	uint64_t reg_seq;	/* registration order (site ops lists) */
	/* every priv, for the objects its sets name (ops.c, "Unloading") */
	struct ftramp_ftrace_ops_priv *all_next, **all_pprev;
};

/* The state of @o that a transaction changing @chg plans with. */
static inline const struct ftrace_ops_state *
ftrace_ops_view(const struct ftramp_ftrace_ops *o,
		const struct ftramp_ftrace_ops *chg)
{
	return o == chg ? &o->priv->next : &o->priv->cur;
}

/* The record of @o that a literal should hold after that transaction. */
static inline struct ftrace_cops *
ftrace_ops_record(const struct ftramp_ftrace_ops *o,
		  const struct ftramp_ftrace_ops *chg)
{
	return ftrace_ops_view(o, chg)->cops;
}

/* The process's site table (ftramp_sites__get()), or NULL and *err. */
struct ftramp_sites *ftrace_sites(int *err);

/* commit.c: does an ops use @site?  Forget its state (unloaded). */
bool ftrace_site_in_use(const struct ftramp_site *site);
void ftrace_site_forget(struct ftramp_site *site);

int ftrace_priv_get(struct ftramp_ftrace_ops *ops);
/* Register with the filters' sites; direct = 0 for a handler ops. */
int ftrace_register_locked(struct ftramp_ftrace_ops *ops, uint64_t direct);
/*
 * Unregister without waiting for the grace period; returns the
 * reclamation sequence number of the retired records (> 0) or -errno.
 */
int64_t ftrace_unregister_locked(struct ftramp_ftrace_ops *ops);
int ftrace_modify_locked(struct ftramp_ftrace_ops *ops, uint64_t addr);
/*
 * Several changes of direct (or handler) ops whose sites do not overlap,
 * in one transaction: one patch batch, so one protection change per page
 * and one synchronisation per batch phase for the whole set
 * (Documentation/design.rst, "Batches").  All or nothing: on failure
 * nothing changed anywhere and *fail is the index of the change the
 * error belongs to.
 */
enum ftrace_dop {
	FTRACE_DOP_REGISTER,	/* with the filters' sites; addr: direct */
	FTRACE_DOP_MODIFY,	/* a registered direct ops -> addr */
	FTRACE_DOP_UNREGISTER,
};

struct ftrace_dchg {
	struct ftramp_ftrace_ops *ops;
	uint64_t addr;
	enum ftrace_dop op;
	int64_t seq;		/* out, UNREGISTER: as ftrace_unregister_locked */
};

int ftrace_change_many_locked(struct ftrace_dchg *v, size_t n, size_t *fail);
/* Free the internals of an unregistered ops (filters). */
void ftrace_ops_release(struct ftramp_ftrace_ops *ops);

/* ------------------------------------------------------------------
 * commit.c: the transaction (the site state table is at its top)
 * ------------------------------------------------------------------ */

/*
 * Move every site each of @ops was or will be on from its current state
 * to the one their `next` states give, in ONE patch batch (one commit,
 * one synchronisation per phase for all of them).  The ops must not share
 * a site (-EINVAL).  On success their sites follow `next` and what no
 * site holds any more is retired (*seq: the last retirement's sequence
 * number, or 0); the ops' own states are the caller's to move.  On
 * failure nothing changed anywhere and *fail is the index of the ops the
 * error belongs to.
 */
int ftrace_commit_locked(struct ftramp_ftrace_ops *const *ops, size_t nr_ops,
			 uint64_t *seq, size_t *fail);
/* Has a site of the ops ever led to ftrace_caller (its record read)? */
bool ftrace_ops_exposed(const struct ftramp_ftrace_ops_priv *p);
/*
 * pristine -> prepared (commit.c's table) for the sites of @set not
 * prepared yet, in one batch: the number of sites newly prepared, or
 * -errno (nothing changed).
 */
int ftrace_prepare_locked(const struct site_set *set);
/* Whether a site (by function address) has a direct ops already. */
struct ftramp_ftrace_ops *ftrace_site_direct_ops(uint64_t func);

/*
 * dwarf.c: the model of the function at @file_addr of @object, whose ELF
 * symbol is @symbol (a compiler clone's name gets the clone rule), with
 * parameter names too (for the CLI).
 */
int ftrace_dwarf_model(const char *object, uint64_t file_addr,
		       const char *symbol, struct ftramp_func_model *m,
		       char (*names)[FTRAMP_PARAM_NAME_MAX]);

/*
 * dwarf.c: many models of one object: its debug info opened and indexed
 * once (-ENODATA: it has none), each model then looked up by file
 * address as ftrace_dwarf_model() would find it, and closed by the
 * caller.
 */
struct ftrace_dwarf;
int ftrace_dwarf_open(const char *object, struct ftrace_dwarf **d);
int ftrace_dwarf_lookup(struct ftrace_dwarf *d, uint64_t file_addr,
			const char *symbol, struct ftramp_func_model *m,
			char (*names)[FTRAMP_PARAM_NAME_MAX]);
void ftrace_dwarf_close(struct ftrace_dwarf *d);

#endif /* FTRAMP_FTRACE_FTRACE_H */
