/* SPDX-License-Identifier: MIT */
/*
 * Text patching internals: what the public POKE-API (ftramp.h) does not
 * show, for the other layers, the tests and the benchmarks.
 */
#ifndef FTRAMP_ARCH_ARM64_PATCHING_H
#define FTRAMP_ARCH_ARM64_PATCHING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ftramp/ftramp.h>

/*
 * mprotect() for every protection change ftramp makes, so that they are
 * counted (ftramp_patch_stats.mprotect_calls) and can be failed by the
 * "mprotect" fault point.  Returns 0 or a negative errno.
 */
int ftramp_arch_mprotect(void *addr, size_t len, int prot);

/* How other threads are made to refetch after a batch phase. */
enum ftramp_sync_method {
	FTRAMP_SYNC_UNKNOWN = 0,	/* not probed yet */
	/* membarrier(PRIVATE_EXPEDITED_SYNC_CORE): IPI + context sync */
	FTRAMP_SYNC_MEMBARRIER_SYNC_CORE,
	/* membarrier(PRIVATE_EXPEDITED): on arm64 the IPI returns with an
	 * ERET, itself context synchronising, so this is equivalent */
	FTRAMP_SYNC_MEMBARRIER_EXPEDITED,
	/* no membarrier, no signal: only safe with one thread */
	FTRAMP_SYNC_NONE,
	/* no membarrier: a real-time signal to every running thread, whose
	 * handler runs ISB (sync_signal.c) */
	FTRAMP_SYNC_SIGNAL,
};

/*
 * Probe (once, at first use) and return the method batches use:
 * membarrier SYNC_CORE, else EXPEDITED, else the signal fallback, else
 * NONE.  The fault point "membarrier_register" makes membarrier look
 * unavailable to the probe (FTRAMP_FAULT=membarrier_register:1 forces
 * the fallback from the environment).
 */
enum ftramp_sync_method ftramp_patch_sync_method(void);

/*
 * Switch methods after the probe (tests, benchmarks); commits must not
 * be running.  -EOPNOTSUPP if m is not available here, -EBUSY if the
 * fallback's signal has another handler.
 */
int ftramp_patch_set_sync_method(enum ftramp_sync_method m);

/*
 * One membarrier by the method batches use, for the layers above that
 * need every core synchronised outside a batch (ftrace_sync_cores()):
 * 0, -EOPNOTSUPP when the method is not a membarrier one (the caller
 * then makes its own signal round), or membarrier's error.  So one
 * probe, one fault point and one test override choose for both.
 */
int ftramp_patch_sync_membarrier(void);

/* Signal number of the fallback, 0 if it is not installed. */
int ftramp_patch_sync_signal(void);

/* Tunables of the signal fallback. */
struct ftramp_sync_signal_opts {
	/* give up after this long (0: FTRAMP_SYNC_TIMEOUT_MS or 1000) */
	unsigned int timeout_ms;
	/* signal threads found sleeping in the kernel too (by default
	 * they are done without a signal: they return through ERET) */
	bool signal_sleepers;
	/* do not count a context switch since the write as a pass through
	 * the kernel: only an acknowledgement, a sleep or an exit completes
	 * a running thread (tests of the timeout) */
	bool no_switch_inference;
};

void ftramp_patch_set_sync_signal_opts(const struct ftramp_sync_signal_opts *o);

/*
 * Stop-machine (stop_machine.c): a phase with FTRAMP_POKE_UNREACHABLE
 * entries is written while every other thread is parked in the sync
 * signal's handler, unless the process has a single thread (emulator
 * helper threads are not counted: thread_guest_count()).  A stop that
 * cannot park everyone within timeout_ms fails the commit with
 * -ETIMEDOUT, nothing written.
 */
struct ftramp_stop_opts {
	/* give up after this long (0: as the signal sync, 1000 ms) */
	unsigned int timeout_ms;
	/* stop even with one thread (tests, benchmarks) */
	bool force;
};

void ftramp_patch_set_stop_opts(const struct ftramp_stop_opts *o);

/* Runs of the fallback's signal handler since load, all threads. */
unsigned long ftramp_patch_sync_handler_runs(void);

struct ftramp_patch_stats {
	unsigned long commits;		/* commits that changed memory */
	unsigned long failed_commits;	/* commits refused or rolled back */
	unsigned long entries;		/* words written (32 or 64-bit) */
	unsigned long phases;		/* barrier-separated write phases */
	unsigned long pages;		/* distinct pages opened */
	unsigned long mprotect_calls;	/* via ftramp_arch_mprotect() */
	unsigned long syncs;		/* cross-thread synchronisations */
	unsigned long cache_syncs;	/* dc/ic + dsb + isb sequences */
	unsigned long rollbacks;	/* commits undone after writing */
	unsigned long undo_kept;	/* FTRAMP_POKE_UNREACHABLE words a
					 * rollback left written (never
					 * undone: see patching.c) */
	unsigned long prot_restore_failures; /* pages left RWX (still X) */
	/* FTRAMP_SYNC_SIGNAL only (a sync counts in `syncs` either way): */
	unsigned long sync_signals;	/* signals sent */
	unsigned long sync_acks;	/* ... acknowledged by the handler */
	unsigned long sync_kernel;	/* threads seen sleeping or switched
					 * out since the write: not waited */
	unsigned long sync_exited;	/* threads gone during a sync */
	unsigned long sync_rescans;	/* /proc/self/task listings redone */
	unsigned long sync_timeouts;	/* syncs that gave up: -ETIMEDOUT */
	/* Stop-machine phases (stop_machine.c; a stop counts in `syncs`): */
	unsigned long stops;		/* phases written with all parked */
	unsigned long stop_signals;	/* park signals sent */
	unsigned long stop_parked;	/* ... threads that parked */
	unsigned long stop_exited;	/* threads gone during a stop */
	unsigned long stop_helpers;	/* emulator threads left alone */
	unsigned long stop_rescans;	/* listings after the first */
	unsigned long stop_timeouts;	/* stops that gave up: -ETIMEDOUT */
	unsigned long stop_asleep;	/* threads left asleep, not parked */
	unsigned long stop_woke;	/* ... that ran during the stop */
	unsigned long stop_ns;		/* time threads were held, total */
	/* /proc/self/maps reads by commits (the cache's and fresh ones) */
	unsigned long maps_reads;
};

/*
 * What the last commit of b cost (zero before the first commit).  The
 * counters are those of that commit alone.
 */
void ftramp_poke_batch__stats(const struct ftramp_poke_batch *b,
			      struct ftramp_patch_stats *st);

/*
 * The entry (index in add order) the last failed __add*() or commit of
 * b was refused for, -1 if the failure was not one entry's (a protection
 * change, a sync, memory).
 */
ssize_t ftramp_poke_batch__err_index(const struct ftramp_poke_batch *b);

/*
 * Drop the cache of loaded objects' text pages that commits use (maps
 * snapshot, BTI verdicts).  It is dropped by itself when an object is
 * loaded or unloaded and after a failed commit; for a caller that
 * changed the protection of such text itself.
 */
void ftramp_patch_invalidate_maps(void);

/* Totals since the library was loaded (all threads). */
void ftramp_patch_get_stats(struct ftramp_patch_stats *st);

/*
 * Write log, for tests: every write, cache sync, cross-thread sync and
 * protection change made by commits, in order.  Logging is off (and
 * costs one pointer test) until a log is installed; entries beyond cap
 * are counted in `lost`.  Install and remove with no commit running.
 */
enum ftramp_patch_ev {
	FTRAMP_EV_WRITE32 = 1,		/* addr, old, new */
	FTRAMP_EV_WRITE64,		/* addr, old, new */
	FTRAMP_EV_CACHE,		/* dc/ic/dsb/isb of a phase's words */
	FTRAMP_EV_SYNC,			/* cross-thread synchronisation */
	FTRAMP_EV_PROT_OPEN,		/* addr: page made writable */
	FTRAMP_EV_PROT_CLOSE,		/* addr: page protection restored */
	FTRAMP_EV_STOP,			/* addr: threads parked (all others) */
	FTRAMP_EV_RESUME,		/* parked threads released */
};

struct ftramp_patch_event {
	enum ftramp_patch_ev kind;
	uint64_t addr, old, new;
	/* threads inside the park loop at that moment, as counted by the
	 * parked threads' own handlers (0 outside a stop) */
	uint32_t parked;
};

struct ftramp_patch_log {
	struct ftramp_patch_event *ev;
	size_t cap, nr, lost;
};

void ftramp_patch_set_log(struct ftramp_patch_log *log);

/* fork(): text_mutex (the order is in ftrace/fork.c). */
void ftramp_patch_atfork(int stage);

#endif /* FTRAMP_ARCH_ARM64_PATCHING_H */
