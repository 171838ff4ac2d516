/* SPDX-License-Identifier: MIT */
/*
 * Reclamation (ftrace/reclaim.c): what the ftrace layer made unreachable
 * is freed once no thread can be inside it or about to use it.  The
 * argument is at the top of reclaim.c.
 */
#ifndef FTRAMP_FTRACE_RECLAIM_H
#define FTRAMP_FTRACE_RECLAIM_H

#include <stddef.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

enum reclaim_kind {
	RECLAIM_IMAGE,		/* a trampoline image */
	RECLAIM_COPS,		/* a call record */
	RECLAIM_MARK,		/* nothing to free: a grace-period marker */
};

/*
 * Hand an object to the reclamation layer.  The caller has made it
 * unreachable and synchronised every thread (a patch batch commit, or
 * ftrace_sync_cores() after a plain store): from now on no thread can
 * newly reach it.  It is freed (free_fn(arg)) once a scan has found every
 * thread outside [lo, hi) and outside every ftrace_caller, *counter (when
 * not NULL) then reads zero, and a second scan again finds every thread
 * outside those windows (scan, read, scan: the argument is in
 * Documentation/design.rst, "Reclamation", and at the top of reclaim.c).
 * Returns the sequence number for reclaim_wait_seq().  Never fails: on
 * allocation failure the object is leaked (and counted).
 */
uint64_t reclaim_retire(enum reclaim_kind kind, const uint64_t *counter,
			uint64_t lo, uint64_t hi,
			void (*free_fn)(void *), void *arg);

/*
 * The same, for an object that other retired objects still point at:
 * *held counts them (it only goes down once this one is retired), and
 * the object is freed only when *held reads zero as well, at the step
 * where *counter is read.  A single call record uses it for the list
 * records that hold it; nothing else waits for anything older.
 */
uint64_t reclaim_retire_held(enum reclaim_kind kind, const uint64_t *counter,
			     const uint64_t *held, uint64_t lo, uint64_t hi,
			     void (*free_fn)(void *), void *arg);

/*
 * What a retired object belongs to, for ftramp_reclaim__pinned(): the
 * traced function, and the in-flight counter's unit (per thread).
 */
void reclaim_describe(uint64_t seq, uint64_t func, uint64_t unit);

/* Register an ftrace_caller instance: its code is always a window. */
int reclaim_add_window(uint64_t lo, uint64_t hi);

/*
 * Try to free what can be freed now.  Cheap when nothing is pending and
 * when some counter is not zero (no scan then).  Returns the number of
 * entries still pending.
 */
size_t reclaim_poll(void);

/*
 * Wait until the entry with sequence number seq is freed (and with it
 * what it was held by), nothing else; 0 or -ETIMEDOUT (timeout_ms < 0:
 * no limit).
 */
int reclaim_wait_seq(uint64_t seq, int timeout_ms);

/*
 * What an unregister (and a register that failed after threads may have
 * reached its record) waits with: reclaim_wait_seq() for its own entry,
 * bounded (RECLAIM_OWN_WAIT_MS, reclaim_set_own_wait() in tests), so a
 * leaked frame or a thread no scan can observe never hangs it.  Generous:
 * threads that call traced functions without pause, under QEMU beside a
 * CPU hog, were seen to take over 10 s to be found outside every window.  On
 * -ETIMEDOUT the entry stays retired (freed by a later poll, or never),
 * and ftramp_error_detail() says what pins it.
 */
#define RECLAIM_OWN_WAIT_MS	60000
int reclaim_wait_own(uint64_t seq);

/* Is an entry described with a function in [lo, hi) still pending? */
bool reclaim_pending_in(uint64_t lo, uint64_t hi);

/* pthread_atfork() stages: 0 prepare, 1 parent, 2 child. */
void reclaim_atfork(int stage);

/* Account an allocation (stats: images_alloc, ops_alloc). */
void reclaim_count_alloc(enum reclaim_kind kind);

/*
 * Make every other thread take a context synchronisation event
 * (membarrier SYNC_CORE): after a plain store published new code, or
 * made an object unreachable, no thread still acts on the old value
 * once this returns.
 */
int ftrace_sync_cores(void);

/*
 * Install ftramp's signals now (stop_machine's, the scan's), once: a mask
 * the program sets afterwards leaves them open (lib/signal.c), one set
 * before cannot.  Each registration calls it; the CLI's agent before
 * main().  0, or the first error (a signal the program took: the
 * operation that needs it fails then, as it would have).
 */
int reclaim_take_signals(void);

/* ------------------------------------------------------------------
 * Test hooks (selftests/reclaim_test.c only)
 * ------------------------------------------------------------------ */

/* The steps of one reclaim_poll() (the argument at the top of reclaim.c). */
enum reclaim_phase {
	RECLAIM_PHASE_READ,	/* some candidate's counter read zero */
	RECLAIM_PHASE_SCANNED,	/* S1: every thread seen outside */
	RECLAIM_PHASE_COUNTED,	/* C: the counters read zero after S1 */
};

/*
 * Call hook(phase) after each step, with the reclaimer's lock held (it
 * must not call back into the reclaimer).  NULL removes it.  For tests
 * that move a thread between the steps.
 */
void reclaim_set_test_hook(void (*hook)(enum reclaim_phase phase));

/*
 * Call hook(tid) when a scan has read tid as running and is about to
 * signal it (between the look at /proc and the send), with the
 * reclaimer's lock held.  NULL removes it.  For the test of the window
 * a thread can enter a sleep through (design.rst, "Limits").
 */
void reclaim_set_ask_hook(void (*hook)(pid_t tid));

/* reclaim_wait_own()'s bound (< 0: none; 0: the default). */
void reclaim_set_own_wait(int timeout_ms);

/* The scan signal, once a scan installed it (0 before). */
int reclaim_scan_signal(void);

#endif /* FTRAMP_FTRACE_RECLAIM_H */
